using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Experiments;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>Opens the report in Debian's headless Chromium, as a reviewer would, and checks what is on screen.</summary>
public class HtmlReportInBrowserTests(SmallExperiment small) : IClassFixture<SmallExperiment>
{
    /// <summary>The report as <c>codeii report</c> rebuilds it, in a separate process, from a copy of the run folder
    /// without its report (the run used no cache): what a reviewer sent only the folder would see.</summary>
    string RebuiltReport()
    {
        var copy = Path.Combine(RepoPaths.NewTemporaryDirectory(), "run");
        RepoPaths.CopyDirectory(small.Result.Folder.Path, copy);
        File.Delete(Path.Combine(copy, RunFolder.ReportFile));
        var (exit, stdout, stderr) = CliTests.Codeii(copy, "report", copy);
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal(Path.Combine(copy, RunFolder.ReportFile), stdout.Trim());
        return stdout.Trim();
    }

    [Fact]
    public async Task Charts_render_offline_without_console_errors_and_the_numbers_equal_the_metrics_file()
    {
        var report = RebuiltReport();
        var visit = await HeadlessChromium.Visit(report);
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(report)!, "report-screenshot.png"), visit.Screenshot);

        Assert.Empty(visit.ConsoleErrors);
        Assert.Empty(visit.Requests);
        // Two heatmaps (one per subset), per distinct label a ROC, a precision-recall and a reliability chart, and convergence by trial and by time.
        Assert.Equal(2 + 3 * 6 + 2, visit.ChartsRendered);
        Assert.True(visit.ChartSvgs >= visit.ChartsRendered, $"{visit.ChartSvgs} chart SVGs for {visit.ChartsRendered} charts");
        Assert.Equal(ExpectedCells(small.Result.Folder.FileIn(RunFolder.MetricsFile)).Order(), visit.Cells.Order());
    }

    [Fact]
    public async Task The_report_of_a_run_without_a_network_passes_the_reviewer_s_tour_too()
    {
        var report = RebuiltReport();
        var tour = await ReportTour.Take(report, Path.Combine(Path.GetDirectoryName(report)!, "tour"));
        QuickstartReportTests.AssertReviewable(tour);
    }

    [Fact]
    public async Task The_ensemble_s_paired_difference_is_shown_under_its_column_header_as_metrics_json_has_it()
    {
        var report = small.Result.ReportPath;
        using var metrics = JsonDocument.Parse(File.ReadAllText(small.Result.Folder.FileIn(RunFolder.MetricsFile)));
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.Launch(playwright);
        var (page, errors, _) = await HeadlessChromium.Open(browser, 1280);
        await page.GotoAsync(new Uri(report).AbsoluteUri);
        var subsets = metrics.RootElement.GetProperty("subsets").EnumerateArray().ToArray();
        Assert.Equal(2, subsets.Length);
        foreach (var subset in subsets)
        {
            var comparison = subset.GetProperty("ensemble");
            var best = comparison.GetProperty("best_single").GetString()!;
            Assert.NotEqual("ensemble", best);
            // Each row's first cell, and its cell in the column whose header names the paired difference, as the page shows them.
            var (headers, cells) = await TableAsShown(page, $"{subset.GetProperty("name").GetString()}-ensemble");
            var column = Array.IndexOf(headers, $"ensemble minus {best} (paired bootstrap)");
            var rows = cells.Select(row => new[] { row[0], column < 0 ? "(no such column)" : row[column] });
            var expected = new[] { new[] { "macro", Shown(comparison.GetProperty("macro_auroc_difference")) } }
                .Concat(comparison.GetProperty("per_label").EnumerateArray().Select(l => new[] { l.GetProperty("label").GetString()!, Shown(l.GetProperty("auroc_difference")) }));
            Assert.Equal(expected, rows);
        }
        Assert.Empty(errors);
    }

    [Fact]
    public async Task Every_metric_is_shown_under_the_column_header_that_names_it()
    {
        // The cells' data attributes say which metric each holds, but a reviewer reads the column header: a value put
        // under the wrong header keeps its attributes. So each table is read as on screen, headers and row texts only.
        using var metrics = JsonDocument.Parse(File.ReadAllText(small.Result.Folder.FileIn(RunFolder.MetricsFile)));
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.Launch(playwright);
        var (page, errors, _) = await HeadlessChromium.Open(browser, 1280);
        await page.GotoAsync(new Uri(small.Result.ReportPath).AbsoluteUri);
        async Task<Dictionary<string, string>[]> Rows(string table)
        {
            var (headers, cells) = await TableAsShown(page, table);
            return [.. cells.Select(row => row.Select((text, i) => (Header: headers[i], Text: text)).ToDictionary(c => c.Header, c => c.Text))];
        }

        var checkedCells = 0;
        foreach (var subset in metrics.RootElement.GetProperty("subsets").EnumerateArray())
        {
            var name = subset.GetProperty("name").GetString()!;
            var macro = await Rows($"{name}-macro");
            Assert.Equal(subset.GetProperty("macro_auroc").EnumerateObject().Count(), macro.Length);
            foreach (var model in subset.GetProperty("macro_auroc").EnumerateObject())
            {
                Assert.Equal(Shown(model.Value), Assert.Single(macro, r => r["model"].TrimEnd('★', ' ') == model.Name)["macro AUROC"]);
                checkedCells++;
            }
            var perLabel = await Rows($"{name}-metrics");
            foreach (var label in subset.GetProperty("per_label").EnumerateArray())
                foreach (var model in label.GetProperty("models").EnumerateArray())
                {
                    var row = Assert.Single(perLabel, r => r["label"] == label.GetProperty("label").GetString() && r["model"] == model.GetProperty("learner").GetString());
                    foreach (var (header, metric) in new[] { ("AUROC", "auroc"), ("AUPRC", "auprc"), ("F1", "f1") })
                    {
                        Assert.Equal(Shown(model.GetProperty(metric)), row[header]);
                        checkedCells++;
                    }
                }
        }
        Assert.True(checkedCells > 40, $"{checkedCells} cells checked");
        Assert.Empty(errors);
    }

    /// <summary>A report table as the page shows it: its header texts and each body row's cell texts (none if absent).</summary>
    static async Task<(string[] Headers, string[][] Rows)> TableAsShown(Microsoft.Playwright.IPage page, string table)
    {
        var shown = await page.EvaluateAsync<string[][]>("""
            table => {
              const t = document.querySelector(`table[data-table='${table}']`);
              if (!t) return [[]];
              const text = cells => [...cells].map(c => c.textContent.trim());
              return [text(t.querySelectorAll('thead th')), ...[...t.querySelectorAll('tbody tr')].map(tr => text(tr.cells))];
            }
            """, table);
        return (shown[0], shown[1..]);
    }

    /// <summary>Every metric cell a report of this metrics.json must show: (subset, label, learner, metric, text).</summary>
    internal static List<(string, string, string, string, string)> ExpectedCells(string metricsFile)
    {
        using var metrics = JsonDocument.Parse(File.ReadAllText(metricsFile));
        var expected = new List<(string, string, string, string, string)>();
        foreach (var subset in metrics.RootElement.GetProperty("subsets").EnumerateArray())
        {
            var name = subset.GetProperty("name").GetString()!;
            foreach (var macro in subset.GetProperty("macro_auroc").EnumerateObject())
                expected.Add((name, "*", macro.Name, "macro_auroc", Shown(macro.Value)));
            foreach (var label in subset.GetProperty("per_label").EnumerateArray())
            {
                var labelName = label.GetProperty("label").GetString()!;
                foreach (var model in label.GetProperty("models").EnumerateArray())
                    foreach (var metric in new[] { "auroc", "auprc", "f1" })
                        expected.Add((name, labelName, model.GetProperty("learner").GetString()!, metric, Shown(model.GetProperty(metric))));
            }
        }
        return expected;
    }

    internal static string Shown(JsonElement estimate)
    {
        static string F(JsonElement e) => e.ValueKind == JsonValueKind.String ? "n/a" : e.GetDouble().ToString("F3", CultureInfo.InvariantCulture);
        var lower = estimate.GetProperty("lower");
        return lower.ValueKind == JsonValueKind.String
            ? F(estimate.GetProperty("value"))
            : $"{F(estimate.GetProperty("value"))} ({F(lower)}–{F(estimate.GetProperty("upper"))})";
    }
}

public class DegenerateLabelReportTests
{
    [Fact]
    public async Task A_label_without_positives_gives_n_a_and_an_explained_empty_chart_not_a_crash()
    {
        const string yaml = """
            name: zero
            dataset: { exams: 300, prevalence: { RBBB: 0 }, spurious_label_rate: 0 }
            label_subsets: { s: [RBBB, AF] }
            learners: { lightgbm: { trials: 1 } }
            evaluation: { bootstrap_replicates: 20 }
            """;
        var result = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, "z.yaml"), yaml, "z.yaml",
            new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory(), FeatureCacheDirectory = null });
        var rbbb = result.Metrics.Subsets[0].PerLabel.Single(l => l.Label == "RBBB");
        Assert.Equal(0, rbbb.TestPositives);
        Assert.True(double.IsNaN(rbbb.Models[0].Auroc.Value));
        var visit = await HeadlessChromium.Visit(result.ReportPath);
        Assert.Empty(visit.ConsoleErrors);
        Assert.Contains(visit.Cells, c => c.Label == "RBBB" && c.Metric == "auroc" && c.Text == "n/a");
        Assert.Contains("ROC, RBBB (undefined: the test split has no positives)", File.ReadAllText(result.ReportPath));
    }
}
