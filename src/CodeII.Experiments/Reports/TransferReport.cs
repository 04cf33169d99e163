using System.Globalization;
using System.Net;
using System.Text;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Reports;

/// <summary>
/// A transfer run's report, from its <c>metrics.json</c>: per target, the transfer matrix at each share of the training
/// patients (rows source × mode, columns label subsets, test macro-AUROC with its interval and the paired difference to
/// scratch), the learning curves, the label coverage of every source, and per-label detail on demand. Each cell links to
/// its own run folder's report.
/// </summary>
public static class TransferReport
{
    public static ReportDocument Render(string title, RunManifest m, TransferMetrics metrics)
    {
        var page = new ReportPage($"{title}: transfer");
        var intro = $$"""
            <p class="meta">Run started {{m.StartedUtc:yyyy-MM-dd HH:mm:ss}} UTC · seed <code>{{m.Seed}}</code> · commit <code>{{E(m.GitCommit)}}</code>{{(m.GitDirty ? " (uncommitted changes)" : "")}} · {{E(m.Dataset)}}</p>
            <p>Each source network was pre-trained once, then served each target in each mode: <em>zero_shot</em> reads the
            source's outputs as the target's labels through SNOMED-CT (covered labels only); <em>linear_probe</em> and
            <em>gbm_head</em> train heads on the frozen encoder's embeddings; <em>fine_tune</em> trains every layer from the
            source's weights; <em>scratch</em> trains the same network from random weights on the target alone, the control.
            The handcrafted features and <em>prior</em> (the training prevalence) are the non-learned references. Every number
            is the test macro-AUROC over the subset's labels with a {{metrics.Confidence:P0}} interval from
            {{metrics.BootstrapReplicates}} patient-level bootstrap resamples; <em>Δ scratch</em> is the paired bootstrap
            difference to scratch at the same share, over the same labels and test patients. A Δ whose interval excludes 0 is
            coloured.</p>
            """;
        page.Heading("targets", "Transfer targets");
        page.Tabs("targets", [.. metrics.Targets.Select(target => ($"target-{target.Target}", target.Target, (Action)(() => RenderTarget(page, target, metrics))))]);
        return page.Render(intro, """
            td { vertical-align: top; } .chart { width: 560px; min-height: 380px; } .note { color: #8a5a00; }
            .delta { display: block; font-size: .8rem; color: #52606d; } .better { color: #1f7a3f; font-weight: 600; } .worse { color: #b42318; font-weight: 600; }
            tr.control td { background: #fafbfc; }
            """);
    }

    static void RenderTarget(ReportPage page, TransferTargetSummary target, TransferMetrics metrics)
    {
        page.Append($"<p class=\"meta\">{E(target.Dataset)} · {target.TestExams} test exams from {target.TestPatients} patients · test positives: ")
            .Append(string.Join(", ", target.TestPositives.Select(p => $"{E(p.Key)} {p.Value}"))).Append("</p>");
        if (target.RecordIsPatient)
            page.Append("<p class=\"note\">This dataset publishes no patient ids: each record is taken as its own patient, so a patient with several records could fall in more than one split.</p>");
        var cells = metrics.Cells.Where(c => c.Target == target.Target).ToArray();
        var subsets = cells.Select(c => c.Subset).Distinct().ToArray();
        foreach (var share in metrics.Shares)
            RenderMatrix(page, target.Target, cells.Where(c => c.Share == share).ToArray(), subsets, share, metrics.Shares.Count > 1);
        if (metrics.Shares.Count > 1)
        {
            page.Append("<h4>Learning curves</h4><div class=\"grid\">");
            foreach (var subset in subsets)
                LearningCurve(page, $"curve-{target.Target}-{subset}", target.Target, subset, cells.Where(c => c.Subset == subset).ToArray());
            page.Append("</div>");
        }
        RenderCoverage(page, target.Target, metrics.Coverage.Where(c => c.Target == target.Target).ToArray());
        RenderDetail(page, target.Target, cells, metrics.Shares);
    }

    static string RowName(TransferCellMetrics c) => c.Source.Length == 0 ? c.Mode : $"{c.Source} · {c.Mode}";

    static void RenderMatrix(ReportPage page, string target, TransferCellMetrics[] cells, string[] subsets, double share, bool several)
    {
        if (cells.Length == 0) return;
        // The matrix's cells hold a link and a difference each, so the page draws it itself; the files get it as plain text.
        page.Export(new ReportTable($"{target}-matrix-{Invariant(share)}",
            $"Transfer to {target} trained on {share:P0} of the training patients: test macro-AUROC and the paired difference to scratch",
            ["source", "mode", .. subsets],
            [.. cells.GroupBy(c => (c.Source, c.Mode)).Select(row => new TableRow([row.Key.Source.Length == 0 ? "—" : row.Key.Source, row.Key.Mode,
                .. subsets.Select(subset => row.FirstOrDefault(c => c.Subset == subset) is { } cell
                    ? TableCell.Number(HtmlReport.Format(cell.MacroAuroc) + (cell.VersusScratch is { } d ? $"; Δ scratch {Signed(d.Value)} ({Signed(d.Lower)} to {Signed(d.Upper)})" : ""))
                    : TableCell.Number(""))]))]));
        var html = new StringBuilder();
        html.Append($"<h4>{(several ? $"Trained on {share:P0} of the training patients" : "Transfer matrix")}</h4><div class=\"scroll\"><table class=\"matrix\" data-share=\"{Invariant(share)}\"><tr><th class=\"text\">source</th><th class=\"text\">mode</th>");
        foreach (var subset in subsets) html.Append($"<th>{E(subset)}</th>");
        html.Append("</tr>");
        foreach (var row in cells.GroupBy(c => (c.Source, c.Mode)))
        {
            var control = row.Key.Mode == TransferEvaluator.ScratchMode;
            html.Append($"<tr{(control ? " class=\"control\"" : "")}><td class=\"text\">{E(row.Key.Source.Length == 0 ? "—" : row.Key.Source)}</td><td class=\"text\">{E(row.Key.Mode)}</td>");
            foreach (var subset in subsets)
            {
                var cell = row.FirstOrDefault(c => c.Subset == subset);
                if (cell is null) { html.Append("<td></td>"); continue; }
                html.Append($"<td data-source=\"{E(cell.Source)}\" data-mode=\"{E(cell.Mode)}\" data-subset=\"{E(subset)}\" data-auroc=\"{Invariant(cell.MacroAuroc.Value)}\">")
                    .Append($"<a href=\"{E(cell.Folder)}/report.html\">{HtmlReport.Format(cell.MacroAuroc)}</a>");
                if (cell.VersusScratch is { } d)
                {
                    var kind = d.Lower > 0 ? " better" : d.Upper < 0 ? " worse" : "";
                    html.Append($"<span class=\"delta{kind}\">Δ scratch {Signed(d.Value)} ({Signed(d.Lower)} to {Signed(d.Upper)})</span>");
                }
                if (cell.Unscored.Count > 0)
                    html.Append($"<span class=\"delta\">over {cell.Labels.Count} of {cell.Labels.Count + cell.Unscored.Count} labels; not covered: {E(string.Join(", ", cell.Unscored))}</span>");
                html.Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table></div>");
        page.Append(html.ToString());
    }

    static void LearningCurve(ReportPage page, string id, string target, string subset, TransferCellMetrics[] cells)
    {
        var traces = cells.GroupBy(RowName).Select(row =>
        {
            var points = row.OrderBy(c => c.Share).ToArray();
            return (object)new
            {
                type = "scatter", mode = "lines+markers", name = row.Key,
                x = points.Select(c => c.Share).ToArray(),
                y = points.Select(c => c.MacroAuroc.Value).ToArray(),
                error_y = new { type = "data", symmetric = false, array = points.Select(c => c.MacroAuroc.Upper - c.MacroAuroc.Value).ToArray(), arrayminus = points.Select(c => c.MacroAuroc.Value - c.MacroAuroc.Lower).ToArray(), thickness = 1 },
            };
        }).ToArray();
        page.Chart(id, traces, new
        {
            title = new { text = $"{target} · {subset}: test macro-AUROC by training share" },
            xaxis = new { title = new { text = "share of the training patients" }, type = "log", tickformat = ".0%" },
            yaxis = new { title = new { text = "macro-AUROC" } },
            height = 380, margin = new { l = 60, r = 10, t = 50, b = 50 },
        });
    }

    static void RenderCoverage(ReportPage page, string target, TransferCoverage[] coverage)
    {
        if (coverage.Length == 0) return;
        page.Append("<h4>Label coverage</h4><p>Which target labels each source's classes stand for, through SNOMED-CT (the Challenge's equivalent pairs joined). Zero-shot scores the covered labels only; uncovered ones are listed here and in each zero-shot cell.</p>");
        page.Table(new ReportTable($"{target}-coverage", $"Which of {target}'s labels each source covers", ["target label", .. coverage.Select(c => $"{c.Source} ({c.Coverage.SourceTaxonomy})")],
            [.. coverage[0].Coverage.Rows.Select(r => r.Label).Select(label => new TableRow([label, .. coverage.Select(c =>
            {
                var row = c.Coverage.For(label);
                return new TableCell(row.Kind switch
                {
                    CoverageKind.Uncovered => "uncovered",
                    CoverageKind.ManyToOne => $"{string.Join(" + ", row.SourceClasses)} (many-to-one: largest output)",
                    _ => row.SourceClasses[0],
                }, "text", new Dictionary<string, string> { ["source"] = c.Source, ["label"] = label, ["coverage"] = JsonConventions.SnakeCase(row.Kind) });
            })]))]) { HtmlClass = "coverage" });
    }

    static void RenderDetail(ReportPage page, string target, TransferCellMetrics[] cells, IReadOnlyList<double> shares)
    {
        page.Append("<h4>Per-label test AUROC</h4>");
        foreach (var share in shares)
            foreach (var subset in cells.Where(c => c.Share == share).GroupBy(c => c.Subset))
            {
                var labels = subset.SelectMany(c => c.Labels.Concat(c.Unscored)).Distinct().ToArray();
                page.Append($"<p class=\"meta\">{E(subset.Key)} · {share:P0} of the training patients</p>");
                page.Table(new ReportTable($"{target}-{subset.Key}-labels-{Invariant(share)}",
                    $"Test AUROC per label, transfer to {target}, subset {subset.Key}, {share:P0} of the training patients", ["row", .. labels],
                    [.. subset.Select(cell => new TableRow([RowName(cell), .. labels.Select(label => cell.PerLabel.TryGetValue(label, out var e) ? TableCell.Number(HtmlReport.Format(e)) : TableCell.Number("—"))]))]));
            }
    }

    static string Signed(double v) => double.IsFinite(v) ? (v >= 0 ? "+" : "−") + Math.Abs(v).ToString("F3", CultureInfo.InvariantCulture) : "n/a";
    static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string E(string s) => WebUtility.HtmlEncode(s);
}
