using System.Globalization;
using System.Net;
using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Reports;

/// <summary>
/// The page of <c>codeii compare</c>: the runs' models side by side on the labels they share, their differences (paired
/// when the runs tested the same patients, otherwise marked unpaired under a warning), and what differs between the
/// runs' versions and definitions. Its numbers are those of <c>comparison.json</c>; metric cells carry data attributes
/// so tests can match them.
/// </summary>
public static class ComparisonReport
{
    public static ReportDocument Render(RunComparison comparison)
    {
        var page = new ReportPage($"CodeII comparison of {comparison.Runs.Count} runs");
        var colours = HtmlReport.ModelColours(comparison.Models.Select(m => m.Model));
        var percent = comparison.Confidence.ToString("P0", CultureInfo.InvariantCulture);
        var intro = $"<p class=\"meta\">{E(string.Join(" · ", comparison.Runs))}</p>\n<p>Test AUROC over the {comparison.SharedLabels.Count} labels the runs share "
            + $"({E(string.Join(", ", comparison.SharedLabels))}), with {percent} intervals from {comparison.BootstrapReplicates} patient-level bootstrap resamples. "
            + (comparison.Paired
                ? "Every run tested the same exams of the same patients (equal split fingerprints), so differences are <strong>paired</strong>: both runs are scored on the same resamples.</p>\n"
                : "</p>\n")
            + (comparison.Warning is { } warning ? $"<p class=\"warning\" id=\"unpaired-warning\"><strong>Unpaired.</strong> {E(warning)}</p>\n" : "");

        page.Heading("differences", "Differences between runs");
        page.Append("<p class=\"meta\">Each later run's model minus the same model of the first run, and best minus best, in macro-AUROC over the shared labels. "
            + "A difference is significant when its interval excludes 0.</p>\n");
        page.Table(new ReportTable("differences", "Differences in test macro-AUROC between runs",
            ["run", "model", "minus run", "minus model", "difference", "paired", "significant"],
            [.. comparison.Differences.Select(d => new TableRow([d.Run, d.Model, d.VersusRun, d.VersusModel,
                new TableCell(HtmlReport.Format(d.Difference), "metric", new Dictionary<string, string> { ["run"] = d.Run, ["model"] = d.Model, ["versus-run"] = d.VersusRun, ["versus-model"] = d.VersusModel, ["metric"] = "difference" }),
                d.Paired ? "paired" : "unpaired", d.Significant ? "yes" : "no"], d.Significant ? "best" : null))]) { HtmlClass = "differences" });

        page.Heading("models", "Models side by side");
        var byRun = comparison.Models.GroupBy(m => m.Run).ToArray();
        page.Chart("macro-by-run", comparison.Models.Select(m => m.Model).Distinct().Select(model =>
        {
            var points = comparison.Models.Where(m => m.Model == model).ToArray();
            return (object)new
            {
                type = "scatter", mode = "markers", name = model, x = points.Select(p => p.Run).ToArray(), y = points.Select(p => Finite(p.MacroAuroc.Value)).ToArray(),
                error_y = new { type = "data", symmetric = false, array = points.Select(p => Finite(p.MacroAuroc.Upper - p.MacroAuroc.Value)).ToArray(),
                    arrayminus = points.Select(p => Finite(p.MacroAuroc.Value - p.MacroAuroc.Lower)).ToArray(), color = colours[model] },
                marker = new { size = 9, color = colours[model] },
            };
        }).ToArray(), new
        {
            title = new { text = "Test macro-AUROC over the shared labels, per run and model" },
            yaxis = new { title = new { text = "macro AUROC" } },
            legend = new { orientation = "h", x = 0, y = -0.2, yanchor = "top", font = new { size = 10 } },
            margin = new { l = 55, r = 10, t = 40, b = 40 },
        }, "wide");
        page.Tabs("runs", [.. byRun.Select((group, k) => ($"run-{k + 1}", group.Key, (Action)(() =>
            page.Table(new ReportTable($"run-{k + 1}-models", $"Test AUROC per model of {group.Key}", ["model", "macro AUROC", .. comparison.SharedLabels],
                [.. group.Select(m => new TableRow([m.Model, Cell(m, "*", "macro_auroc", m.MacroAuroc),
                    .. comparison.SharedLabels.Select(l => Cell(m, l, "auroc", m.Auroc[l]))], m.Model == ExperimentEvaluator.PriorModel ? "baseline" : null))]) { HtmlClass = "models" }))))]);

        page.Heading("versions", "Differences in versions");
        Facts(page, "versions", "Versions that differ between the runs", comparison.VersionDifferences, comparison.Runs);
        page.Heading("definitions", "Differences in definitions");
        Facts(page, "definitions", "Definition keys that differ between the runs", comparison.DefinitionDifferences, comparison.Runs);

        page.Heading("runs", "Runs compared");
        page.Table(new ReportTable("runs", "The runs compared", ["run", "folder", "split fingerprint"],
            [.. comparison.Runs.Select((r, k) => new TableRow([r, comparison.Folders[k], comparison.SplitFingerprints[k]]))]) { HtmlClass = "runs", Sortable = false });
        return page.Render(intro, "td.metric, td.number { white-space: nowrap; } tr.baseline td { color: #627d98; } tr.best td.metric { font-weight: 600; } .wide { width: 100%; max-width: 900px; height: 420px; }");
    }

    static void Facts(ReportPage page, string id, string caption, IReadOnlyList<DifferingFact> facts, IReadOnlyList<string> runs)
    {
        if (facts.Count == 0) { page.Append("<p>None: the runs agree.</p>\n"); return; }
        page.Table(new ReportTable(id, caption, ["key", .. runs], [.. facts.Select(f => new TableRow([f.Key, .. f.Values.Select(v => (TableCell)(v ?? "—"))]))]) { HtmlClass = id });
    }

    static TableCell Cell(ComparedModel m, string label, string metric, Estimate e) =>
        new(HtmlReport.Format(e), "metric", new Dictionary<string, string> { ["run"] = m.Run, ["model"] = m.Model, ["label"] = label, ["metric"] = metric });

    static double? Finite(double v) => double.IsFinite(v) ? v : null;

    static string E(string s) => WebUtility.HtmlEncode(s);
}
