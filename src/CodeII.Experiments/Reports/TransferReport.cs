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
    public static string Render(string title, RunManifest m, TransferMetrics metrics)
    {
        var charts = new List<PlotlyPage.Chart>();
        var html = new StringBuilder();
        html.Append(PlotlyPage.Head($"{title}: transfer", """
            td { vertical-align: top; } .chart { width: 560px; min-height: 380px; } .note { color: #8a5a00; }
            .delta { display: block; font-size: .8rem; color: #52606d; } .better { color: #1f7a3f; font-weight: 600; } .worse { color: #b42318; font-weight: 600; }
            tr.control td { background: #fafbfc; }
            """));
        html.Append($$"""
            <h1>{{E(title)}}: transfer</h1>
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
            """);

        foreach (var target in metrics.Targets)
        {
            html.Append($"<h2 id=\"target-{E(target.Target)}\">Target {E(target.Target)}</h2>");
            html.Append($"<p class=\"meta\">{E(target.Dataset)} · {target.TestExams} test exams from {target.TestPatients} patients · test positives: ")
                .Append(string.Join(", ", target.TestPositives.Select(p => $"{E(p.Key)} {p.Value}"))).Append("</p>");
            if (target.RecordIsPatient)
                html.Append("<p class=\"note\">This dataset publishes no patient ids: each record is taken as its own patient, so a patient with several records could fall in more than one split.</p>");
            var cells = metrics.Cells.Where(c => c.Target == target.Target).ToArray();
            var subsets = cells.Select(c => c.Subset).Distinct().ToArray();
            foreach (var share in metrics.Shares)
                RenderMatrix(html, cells.Where(c => c.Share == share).ToArray(), subsets, share, metrics.Shares.Count > 1);
            if (metrics.Shares.Count > 1)
            {
                html.Append("<h3>Learning curves</h3><div class=\"grid\">");
                foreach (var subset in subsets)
                {
                    var id = $"curve-{charts.Count}";
                    html.Append($"<div id=\"{id}\" class=\"chart\"></div>");
                    charts.Add(LearningCurve(id, target.Target, subset, cells.Where(c => c.Subset == subset).ToArray()));
                }
                html.Append("</div>");
            }
            RenderCoverage(html, metrics.Coverage.Where(c => c.Target == target.Target).ToArray());
            RenderDetail(html, cells, metrics.Shares);
        }
        PlotlyPage.AppendCharts(html, charts);
        return html.ToString();
    }

    static string RowName(TransferCellMetrics c) => c.Source.Length == 0 ? c.Mode : $"{c.Source} · {c.Mode}";

    static void RenderMatrix(StringBuilder html, TransferCellMetrics[] cells, string[] subsets, double share, bool several)
    {
        if (cells.Length == 0) return;
        html.Append($"<h3>{(several ? $"Trained on {share:P0} of the training patients" : "Transfer matrix")}</h3><div class=\"scroll\"><table class=\"matrix\" data-share=\"{Invariant(share)}\"><tr><th class=\"text\">source</th><th class=\"text\">mode</th>");
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
    }

    static PlotlyPage.Chart LearningCurve(string id, string target, string subset, TransferCellMetrics[] cells)
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
        return new PlotlyPage.Chart(id, traces, new
        {
            title = new { text = $"{target} · {subset}: test macro-AUROC by training share" },
            xaxis = new { title = new { text = "share of the training patients" }, type = "log", tickformat = ".0%" },
            yaxis = new { title = new { text = "macro-AUROC" } },
            height = 380, margin = new { l = 60, r = 10, t = 50, b = 50 },
        });
    }

    static void RenderCoverage(StringBuilder html, TransferCoverage[] coverage)
    {
        if (coverage.Length == 0) return;
        html.Append("<h3>Label coverage</h3><p>Which target labels each source's classes stand for, through SNOMED-CT (the Challenge's equivalent pairs joined). Zero-shot scores the covered labels only; uncovered ones are listed here and in each zero-shot cell.</p><div class=\"scroll\"><table class=\"coverage\"><tr><th class=\"text\">target label</th>");
        foreach (var c in coverage) html.Append($"<th class=\"text\">{E(c.Source)} ({E(c.Coverage.SourceTaxonomy)})</th>");
        html.Append("</tr>");
        foreach (var label in coverage[0].Coverage.Rows.Select(r => r.Label))
        {
            html.Append($"<tr><td class=\"text\">{E(label)}</td>");
            foreach (var c in coverage)
            {
                var row = c.Coverage.For(label);
                html.Append($"<td class=\"text\" data-source=\"{E(c.Source)}\" data-label=\"{E(label)}\" data-coverage=\"{E(JsonConventions.SnakeCase(row.Kind))}\">")
                    .Append(row.Kind switch
                    {
                        CoverageKind.Uncovered => "<em>uncovered</em>",
                        CoverageKind.ManyToOne => $"{E(string.Join(" + ", row.SourceClasses))} (many-to-one: largest output)",
                        _ => E(row.SourceClasses[0]),
                    }).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table></div>");
    }

    static void RenderDetail(StringBuilder html, TransferCellMetrics[] cells, IReadOnlyList<double> shares)
    {
        html.Append("<details><summary>Per-label test AUROC</summary>");
        foreach (var share in shares)
            foreach (var subset in cells.Where(c => c.Share == share).GroupBy(c => c.Subset))
            {
                var labels = subset.SelectMany(c => c.Labels.Concat(c.Unscored)).Distinct().ToArray();
                html.Append($"<h4>{E(subset.Key)} · {share:P0} of the training patients</h4><div class=\"scroll\"><table><tr><th class=\"text\">row</th>");
                foreach (var label in labels) html.Append($"<th>{E(label)}</th>");
                html.Append("</tr>");
                foreach (var cell in subset)
                {
                    html.Append($"<tr><td class=\"text\">{E(RowName(cell))}</td>");
                    foreach (var label in labels)
                        html.Append(cell.PerLabel.TryGetValue(label, out var e) ? $"<td>{HtmlReport.Format(e)}</td>" : "<td>—</td>");
                    html.Append("</tr>");
                }
                html.Append("</table></div>");
            }
        html.Append("</details>");
    }

    static string Signed(double v) => double.IsFinite(v) ? (v >= 0 ? "+" : "−") + Math.Abs(v).ToString("F3", CultureInfo.InvariantCulture) : "n/a";
    static string Invariant(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    static string E(string s) => WebUtility.HtmlEncode(s);
}
