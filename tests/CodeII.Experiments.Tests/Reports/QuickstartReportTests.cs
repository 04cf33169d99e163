using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>The quickstart as a new user runs it, twice (seeds 42 and 43), and <c>codeii compare</c> of the two.</summary>
public sealed class QuickstartRuns
{
    public QuickstartRuns()
    {
        Root = RepoPaths.NewTemporaryDirectory();
        var file = Path.Combine(RepoPaths.Root, "experiments", "quickstart.yaml");
        var yaml = File.ReadAllText(file);
        Assert.Contains("\nseed: 42\n", yaml);
        var options = new RunOptions { RunsRoot = Path.Combine(Root, "runs"), FeatureCacheDirectory = Path.Combine(Root, "cache", "features") };
        Seed42 = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, file), yaml, file, options);
        var other = yaml.Replace("\nseed: 42\n", "\nseed: 43\n");
        Seed43 = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(other, file), other, file, options);
        ComparisonPage = Path.Combine(Root, "compare", "comparison.html");
        var (exit, stdout, stderr) = CliTests.Codeii(Root, "compare", Seed42.Folder.Path, Seed43.Folder.Path, "--out", ComparisonPage, "--tables");
        Assert.True(exit == 0, stderr + stdout);
        CompareOutput = stdout + stderr;
    }

    public string Root { get; }
    public RunResult Seed42 { get; }
    public RunResult Seed43 { get; }
    public string ComparisonPage { get; }
    public string CompareOutput { get; }
}

/// <summary>
/// The quickstart's report and a comparison of two quickstart runs, opened in Debian's chromium as a reviewer would:
/// every link of the contents and every tab works, every chart is drawn, nothing is fetched and nothing fails, each
/// section shows something, the numbers are those of the JSON files, a table sorts, and the page prints to several pages.
/// </summary>
// The quickstart trains its network in this process: libtorch's global state is not shared with other tests at once.
[Collection(nameof(CodeII.Experiments.Tests.Features.Learned.LibtorchCollection))]
public class QuickstartReportTests(QuickstartRuns runs) : IClassFixture<QuickstartRuns>
{
    internal static void AssertReviewable(PageTour tour)
    {
        Assert.Empty(tour.ConsoleErrors);
        Assert.Empty(tour.Requests);
        Assert.Equal(tour.Plots, tour.ChartsRendered);
        Assert.Equal(tour.Plots, tour.PlotsDrawn);
        Assert.NotEmpty(tour.ContentsLinks);
        Assert.All(tour.ContentsLinks, link => Assert.True(link.TargetVisible, $"{link.Href}: not on screen after its link was clicked"));
        Assert.NotEmpty(tour.Tabs);
        Assert.All(tour.Tabs, tab => Assert.True(tab.Shown && tab.OthersHidden, $"tab {tab.Panel}: shown {tab.Shown}, others hidden {tab.OthersHidden}"));
        Assert.NotEmpty(tour.Sections);
        // A heading alone inks under 1 % of a section's photograph; tables and charts far more.
        Assert.All(tour.Sections, s => Assert.True(s.InkShare > 0.02, $"section {s.Section}: {s.InkShare:P1} of its screenshot is not background"));
        Assert.True(tour.SortedAscending && tour.SortedDescending, "clicking a column header did not sort the table");
        Assert.True(tour.PdfPages > 1, $"the printed report has {tour.PdfPages} page(s)");
        Assert.True(tour.PrintLaysOutEveryPanelAndChart, "in print, a tab panel or a chart has no size");
        Assert.True(tour.FragmentTargetOnScreen, "opened at report.html#<section>, the page did not end on the section");
    }

    [Fact]
    public async Task The_quickstart_report_is_navigable_complete_printable_and_shows_the_metrics_file()
    {
        var report = runs.Seed42.ReportPath;
        var tour = await ReportTour.Take(report, Path.Combine(runs.Root, "screenshots-report"));
        AssertReviewable(tour);
        Assert.Contains(tour.Tabs, t => t.Panel == "subset-code6");
        Assert.Contains(tour.Tabs, t => t.Panel == "curves-1dAVb");
        var shown = tour.MetricCells.Select(c => (c["subset"], c["label"], c["learner"], c["metric"], c["text"])).Order().ToArray();
        Assert.Equal(HtmlReportInBrowserTests.ExpectedCells(runs.Seed42.Folder.FileIn(RunFolder.MetricsFile)).Order(), shown);
        var html = File.ReadAllText(report);
        // The summary's verdicts and paired differences, and the data table's prevalences, are those of the JSON files.
        using var metrics = JsonDocument.Parse(File.ReadAllText(runs.Seed42.Folder.FileIn(RunFolder.MetricsFile)));
        foreach (var subset in metrics.RootElement.GetProperty("subsets").EnumerateArray())
        {
            var summary = subset.GetProperty("summary");
            Assert.Contains($"data-subset=\"{subset.GetProperty("name").GetString()}\">{System.Net.WebUtility.HtmlEncode(summary.GetProperty("verdict").GetString()!)}</p>", html);
            foreach (var versus in new[] { "versus_runner_up", "versus_prior" })
            {
                var comparison = summary.GetProperty(versus);
                var difference = comparison.GetProperty("difference");
                Assert.Contains($"data-model=\"{comparison.GetProperty("model").GetString()}\" data-difference=\"{difference.GetProperty("value").GetDouble().ToString("R", CultureInfo.InvariantCulture)}\">{HtmlReportInBrowserTests.Shown(difference)}</td>", html);
            }
        }
        using var data = JsonDocument.Parse(File.ReadAllText(runs.Seed42.Folder.FileIn(RunFolder.DataSummaryFile)));
        foreach (var part in data.RootElement.GetProperty("parts").EnumerateArray())
            foreach (var label in part.GetProperty("labels").EnumerateObject())
            {
                var prevalence = label.Value.GetProperty("prevalence").GetDouble();
                Assert.Contains($"data-part=\"{part.GetProperty("part").GetString()}\" data-label=\"{label.Name}\" data-prevalence=\"{prevalence.ToString("R", CultureInfo.InvariantCulture)}\">{prevalence.ToString("F3", CultureInfo.InvariantCulture)}</td>", html);
            }
        // Every table of the page is also in the run folder, as CSV and LaTeX.
        var tables = System.Text.RegularExpressions.Regex.Matches(html, "data-table=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToArray();
        Assert.NotEmpty(tables);
        foreach (var table in tables.Select(CodeII.Experiments.Reports.ReportTables.FileName))
        {
            Assert.True(File.Exists(Path.Combine(runs.Seed42.Folder.Path, "tables", table + ".csv")), table);
            var tex = File.ReadAllText(Path.Combine(runs.Seed42.Folder.Path, "tables", table + ".tex"));
            Assert.Contains("\\begin{tabular}", tex);
            // pdflatex reads ASCII without a Unicode set-up: every other character must have been written as LaTeX.
            Assert.True(tex.All(char.IsAscii), $"{table}.tex has non-ASCII characters: {string.Concat(tex.Where(c => !char.IsAscii(c)).Distinct())}");
        }
    }

    [Fact]
    public async Task A_comparison_of_two_seeds_is_navigable_printable_warns_unpaired_and_shows_the_comparison_file()
    {
        var tour = await ReportTour.Take(runs.ComparisonPage, Path.Combine(runs.Root, "screenshots-compare"));
        AssertReviewable(tour);
        using var comparison = JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(runs.ComparisonPage)!, "comparison.json")));
        var root = comparison.RootElement;
        // Seeds 42 and 43 draw different synthetic data, so the test patients differ and the comparison must say so.
        Assert.False(root.GetProperty("paired").GetBoolean());
        Assert.Contains("unpaired", runs.CompareOutput);
        Assert.Contains("id=\"unpaired-warning\"", File.ReadAllText(runs.ComparisonPage));
        Assert.Contains(root.GetProperty("definition_differences").EnumerateArray(), d => d.GetProperty("key").GetString() == "seed");

        var expected = new List<string>();
        foreach (var model in root.GetProperty("models").EnumerateArray())
        {
            var (run, name) = (model.GetProperty("run").GetString()!, model.GetProperty("model").GetString()!);
            expected.Add($"{run}|{name}|*|macro_auroc|{HtmlReportInBrowserTests.Shown(model.GetProperty("macro_auroc"))}");
            foreach (var label in model.GetProperty("auroc").EnumerateObject())
                expected.Add($"{run}|{name}|{label.Name}|auroc|{HtmlReportInBrowserTests.Shown(label.Value)}");
        }
        foreach (var d in root.GetProperty("differences").EnumerateArray())
            expected.Add($"{d.GetProperty("run").GetString()}|{d.GetProperty("model").GetString()}|{d.GetProperty("versus_model").GetString()}|difference|{HtmlReportInBrowserTests.Shown(d.GetProperty("difference"))}");
        var shown = tour.MetricCells.Select(c => c["metric"] == "difference"
            ? $"{c["run"]}|{c["model"]}|{c["versus-model"]}|difference|{c["text"]}"
            : $"{c["run"]}|{c["model"]}|{c["label"]}|{c["metric"]}|{c["text"]}");
        Assert.Equal(expected.Order(), shown.Order());
        Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(runs.ComparisonPage)!, "tables", "differences.tex")));
    }

    [Fact]
    public void A_run_compared_with_itself_is_paired_and_differs_by_exactly_zero()
    {
        var page = Path.Combine(runs.Root, "self", "comparison.html");
        var (exit, stdout, stderr) = CliTests.Codeii(runs.Root, "compare", runs.Seed42.Folder.Path, runs.Seed42.Folder.Path, "--out", page, "--bootstrap", "200");
        Assert.True(exit == 0, stderr + stdout);
        using var comparison = JsonDocument.Parse(File.ReadAllText(Path.Combine(runs.Root, "self", "comparison.json")));
        Assert.True(comparison.RootElement.GetProperty("paired").GetBoolean());
        Assert.DoesNotContain("unpaired-warning", File.ReadAllText(page));
        // Paired on the same resamples, a model minus itself is 0 in every replicate: the interval is [0, 0].
        foreach (var d in comparison.RootElement.GetProperty("differences").EnumerateArray().Where(d => d.GetProperty("model").GetString() == d.GetProperty("versus_model").GetString()))
            foreach (var bound in new[] { "value", "lower", "upper" })
                Assert.Equal(0.0, d.GetProperty("difference").GetProperty(bound).GetDouble());
        Assert.Empty(comparison.RootElement.GetProperty("definition_differences").EnumerateArray());
    }
}
