using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Reports;

/// <summary>Everything a report shows; all of it also lives in the run folder, so a report can be rebuilt without retraining.</summary>
public sealed record ReportModel(
    string Experiment,
    SweepSettings Sweep,
    RunManifest Manifest,
    ExperimentMetrics Metrics,
    IReadOnlyList<TrialRecord> Trials,
    IReadOnlyList<ModelPredictions> TestPredictions,
    IReadOnlySet<string>[] TestLabels,
    IReadOnlyList<Features.SkippedRecord>? Skipped = null,
    FeatureImportance? Importance = null);

/// <summary>
/// A single self-contained HTML file: plotly.js is embedded from the Plotly.NET assembly, so the report opens
/// offline and makes no network request. Metric cells carry data attributes so tests can match them to metrics.json.
/// </summary>
public static partial class HtmlReport
{
    /// <summary>Every metric in the tables is shown with this many decimals.</summary>
    public const int Decimals = 3;

    public static string Format(double value) =>
        double.IsFinite(value) ? value.ToString("F" + Decimals, CultureInfo.InvariantCulture) : "n/a";

    public static string Format(Estimate e) =>
        double.IsNaN(e.Lower) ? Format(e.Value) : $"{Format(e.Value)} ({Format(e.Lower)}–{Format(e.Upper)})";

    public static string Render(ReportModel model)
    {
        var charts = new List<PlotlyPage.Chart>();
        var html = new StringBuilder();
        var m = model.Manifest;
        var title = $"CodeII experiment report: {model.Experiment}";
        html.Append(PlotlyPage.Head(title, """
            td.metric, td.number { white-space: nowrap; } tr.best td.metric:not([data-metric=prevalence]) { font-weight: 600; } tr.baseline td:not([rowspan]) { color: #627d98; }
            .chart { width: 380px; min-height: 340px; } .wide { width: 100%; max-width: 760px; height: 380px; }
            """));
        html.Append($$"""
            <h1>{{E(title)}}</h1>
            <p class="meta">Run started {{m.StartedUtc:yyyy-MM-dd HH:mm:ss}} UTC · seed <code>{{m.Seed}}</code> · commit <code>{{E(m.GitCommit)}}</code>{{(m.GitDirty ? " (uncommitted changes)" : "")}}
            · data <code>{{E(m.DataFingerprint ?? "")}}</code> · {{model.Metrics.TestExams}} test exams from {{model.Metrics.TestPatients}} patients</p>
            <p>Each label is a one-vs-rest problem. Each model's configuration was chosen by its validation {{E(model.Sweep.Objective.DisplayName())}} and its F1 threshold was tuned on
            validation; every number below is on the held-out test patients, with {{model.Metrics.Confidence:P0}} intervals from
            {{model.Metrics.BootstrapReplicates}} patient-level bootstrap resamples. <em>prior</em> is the trivial baseline that scores every exam
            with the training prevalence: a model is only useful where it beats it.</p>
            """);

        if (model.Manifest.Patients is { } patients) html.Append($"<p class=\"meta\">Patients: {E(patients)}.</p>");
        RenderSummary(html, model);
        RenderSkipped(html, model);
        foreach (var subset in model.Metrics.Subsets)
            RenderSubset(html, charts, subset, model);
        RenderImportance(html, model);

        RenderNetwork(html, charts, model);
        RenderRocCurves(html, charts, model);
        RenderTrials(html, charts, model);
        RenderProvenance(html, model);

        PlotlyPage.AppendCharts(html, charts);
        return html.ToString();
    }

    static void RenderSubset(StringBuilder html, List<PlotlyPage.Chart> charts, SubsetMetrics subset, ReportModel model)
    {
        var learners = subset.MacroAuroc.Keys.ToArray();
        html.Append($"<h2 id=\"subset-{E(subset.Name)}\">Label subset <code>{E(subset.Name)}</code>: {E(string.Join(", ", subset.Labels))}</h2>\n");
        html.Append("<table class=\"macro\"><tr><th class=\"text\">model</th><th>macro AUROC</th></tr>\n");
        foreach (var (learner, estimate) in subset.MacroAuroc)
            html.Append($"<tr class=\"{(learner == BinaryLearnerCatalog.Prior ? "baseline" : "")}\"><td class=\"text\">{E(learner)}</td>")
                .Append(MetricCell(subset.Name, "*", learner, "macro_auroc", estimate)).Append("</tr>\n");
        html.Append("</table>\n");

        html.Append("<div class=\"scroll\"><table class=\"metrics\"><tr><th class=\"text\">label</th><th>test positives</th><th>prevalence</th><th class=\"text\">model</th>")
            .Append("<th>AUROC</th><th>AUPRC</th><th>F1</th><th>threshold</th><th>validation AUROC</th></tr>\n");
        foreach (var label in subset.PerLabel)
        {
            var bestAuroc = label.Models.Max(x => double.IsNaN(x.Auroc.Value) ? double.MinValue : x.Auroc.Value);
            for (var k = 0; k < label.Models.Count; k++)
            {
                var mm = label.Models[k];
                var rowClass = mm.Learner == BinaryLearnerCatalog.Prior ? "baseline" : mm.Auroc.Value == bestAuroc ? "best" : "";
                html.Append($"<tr class=\"{rowClass}\">");
                if (k == 0)
                {
                    var span = label.Models.Count;
                    html.Append($"<td class=\"text label\" rowspan=\"{span}\">{E(label.Label)}</td><td rowspan=\"{span}\">{label.TestPositives}</td>")
                        .Append(MetricCell(subset.Name, label.Label, "*", "prevalence", new Estimate(label.Prevalence, double.NaN, double.NaN), span));
                }
                html.Append($"<td class=\"text\" title=\"{E(string.Join(", ", mm.Parameters.Select(p => $"{p.Key}={p.Value.ToString("G6", CultureInfo.InvariantCulture)}")))}\">{E(mm.Learner)}</td>")
                    .Append(MetricCell(subset.Name, label.Label, mm.Learner, "auroc", mm.Auroc))
                    .Append(MetricCell(subset.Name, label.Label, mm.Learner, "auprc", mm.Auprc))
                    .Append(MetricCell(subset.Name, label.Label, mm.Learner, "f1", mm.F1))
                    .Append($"<td>{Format(mm.Threshold)}</td><td>{Format(mm.ValidationAuroc)}</td></tr>\n");
            }
        }
        html.Append("</table></div>\n");

        var id = $"heatmap-{subset.Name}";
        html.Append($"<div id=\"{E(id)}\" class=\"wide plot\"></div>\n");
        var z = learners.Select(l => subset.PerLabel.Select(p => (double?)NaNToNull(p.Models.First(x => x.Learner == l).Auroc.Value)).ToArray()).ToArray();
        var (zmin, zmax) = HeatmapRange(z.Where((_, i) => learners[i] != Evaluation.ExperimentEvaluator.PriorModel).SelectMany(r => r).OfType<double>().ToArray());
        charts.Add(new PlotlyPage.Chart(id,
            new object[] { new { type = "heatmap", x = subset.Labels, y = learners, z, zmin, zmax, colorscale = "Viridis",
                text = z.Select(r => r.Select(v => v is null ? "n/a" : Format(v.Value)).ToArray()).ToArray(), texttemplate = "%{text}",
                hovertemplate = "%{y} on %{x}: AUROC %{text}<extra></extra>", colorbar = new { title = new { text = "AUROC" } } } },
            // Room on the left for the longest model name, e.g. handcrafted+learned/logistic_regression.
            new { title = new { text = $"Test AUROC, label × model ({subset.Name})" }, margin = new { l = 20 + 7 * learners.Max(l => l.Length), t = 50 },
                height = 120 + 34 * learners.Length }));
        RenderThresholds(html, subset);
    }

    /// <summary>The heatmap's colour range: the real models' AUROCs (the prior's 0.5 would squeeze them into one
    /// colour), rounded out to the hundredth, between 0.5 and 1; the prior's cells take the bottom colour.</summary>
    internal static (double Min, double Max) HeatmapRange(IReadOnlyList<double> aurocs)
    {
        if (aurocs.Count == 0) return (0.5, 1.0);
        var min = Math.Clamp(Math.Floor(aurocs.Min() * 100) / 100, 0.5, 0.99);
        var max = Math.Clamp(Math.Ceiling(aurocs.Max() * 100) / 100, min + 0.01, 1.0);
        return (min, max);
    }

    /// <summary>Each label and model at its validation-chosen threshold (counts, sensitivity, specificity, PPV, NPV)
    /// and its calibration (Brier score), on the test exams.</summary>
    static void RenderThresholds(StringBuilder html, SubsetMetrics subset)
    {
        html.Append($"<details><summary>At the validation-chosen thresholds, and calibration ({E(subset.Name)})</summary><div class=\"scroll\"><table class=\"thresholds\">")
            .Append("<tr><th class=\"text\">label</th><th class=\"text\">model</th><th>threshold</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th><th>sensitivity</th><th>specificity</th><th>PPV</th><th>NPV</th><th>Brier</th></tr>");
        foreach (var label in subset.PerLabel)
            foreach (var m in label.Models.Where(m => m.Confusion is not null))
            {
                var c = m.Confusion!;
                html.Append($"<tr><td class=\"text\">{E(label.Label)}</td><td class=\"text\">{E(m.Learner)}</td><td class=\"number\">{Format(m.Threshold)}</td>")
                    .Append($"<td class=\"number\">{c.TruePositives}</td><td class=\"number\">{c.FalsePositives}</td><td class=\"number\">{c.TrueNegatives}</td><td class=\"number\">{c.FalseNegatives}</td>")
                    .Append($"<td class=\"number\">{Format(c.Sensitivity)}</td><td class=\"number\">{Format(c.Specificity)}</td><td class=\"number\">{Format(c.Ppv)}</td><td class=\"number\">{Format(c.Npv)}</td>")
                    .Append($"<td class=\"number\">{Format(m.Calibration?.Brier ?? double.NaN)}</td></tr>");
            }
        html.Append("</table></div></details>");
    }

    static void RenderNetwork(StringBuilder html, List<PlotlyPage.Chart> charts, ReportModel model)
    {
        if (model.Manifest.Network is not { } n) return;
        html.Append("<h2 id=\"network\">The network</h2>\n")
            .Append("<p>A 1-D ResNet (Ribeiro et al. 2020) trained for all its labels at once and early-stopped on validation patients. ")
            .Append("Its penultimate layer gives the <code>learned</code> features; its own sigmoid outputs, where it learned the experiment's labels, are the model ")
            .Append($"<code>{E(Features.Learned.LearnedFeatures.EndToEndModel)}</code>.</p>\n<table class=\"network\">\n");
        void Row(string key, string value) => html.Append($"<tr><th class=\"text\">{E(key)}</th><td class=\"text\">{E(value)}</td></tr>\n");
        Row("model", $"{n.Model}, {n.Parameters:N0} parameters, input 12 × {n.InputSamples} at {n.InputRateHz} Hz");
        Row("trained on", n.TrainedOn);
        Row("training", $"{n.EpochsTrained} epochs; best validation macro AUROC {Format(n.BestValidationMacroAuroc)} at epoch {n.BestEpoch}; {n.StopReason}");
        Row("checkpoint", $"sha256 {n.CheckpointSha256[..16]}… in {n.CheckpointFolder}");
        html.Append("</table>\n<div id=\"network-training\" class=\"wide plot\"></div>\n");
        var epochs = n.History.Select(e => e.Epoch).ToArray();
        charts.Add(new PlotlyPage.Chart("network-training",
            new object[]
            {
                new { type = "scatter", mode = "lines+markers", name = "training loss", x = epochs, y = n.History.Select(e => e.TrainingLoss).ToArray() },
                new { type = "scatter", mode = "lines+markers", name = "validation macro AUROC", x = epochs,
                    y = n.History.Select(e => NaNToNull(e.ValidationMacroAuroc)).ToArray(), yaxis = "y2" },
            },
            new
            {
                title = new { text = "Training curve" },
                xaxis = new { title = new { text = "epoch" }, dtick = 1 },
                yaxis = new { title = new { text = "BCE loss" }, rangemode = "tozero" },
                yaxis2 = new { title = new { text = "validation macro AUROC" }, overlaying = "y", side = "right", range = new[] { 0.5, 1.0 } },
                legend = new { orientation = "h", x = 0, y = -0.25, yanchor = "top" },
            }));
    }

    static void RenderSkipped(StringBuilder html, ReportModel model)
    {
        if (model.Skipped is not { Count: > 0 } skipped) return;
        html.Append($"<div class=\"skipped\" id=\"skipped\"><h2>{skipped.Count} record{(skipped.Count == 1 ? "" : "s")} skipped</h2>")
            .Append($"<p>These failed to decode and are not in any split (also in <code>{RunFolder.SkippedRecordsFile}</code>):</p><table><tr><th class=\"text\">exam</th><th class=\"text\">reason</th></tr>\n");
        foreach (var r in skipped) html.Append($"<tr><td class=\"text\">{E(r.ExamId)}</td><td class=\"text\">{E(r.Reason)}</td></tr>\n");
        html.Append("</table></div>\n");
    }

    static void RenderRocCurves(StringBuilder html, List<PlotlyPage.Chart> charts, ReportModel model)
    {
        html.Append("<h2 id=\"roc\">ROC curves on the test patients</h2>\n<div class=\"grid\">\n");
        var labels = model.TestPredictions.Select(s => s.Label).Distinct().ToArray();
        foreach (var label in labels)
        {
            var truth = model.TestLabels.Select(l => l.Contains(label)).ToArray();
            var traces = new List<object>();
            foreach (var selected in model.TestPredictions.Where(s => s.Label == label))
            {
                var (fpr, tpr) = BinaryMetrics.RocCurve(selected.TestScores, truth);
                // Straight segments between the curve's points (one per distinct score): the curve whose area is the
                // AUROC with ties counted half, so tied scores (the prior's one score) draw the diagonal, not an L.
                traces.Add(new { type = "scatter", mode = "lines", name = selected.Subset is { } shared ? $"{selected.Model} ({shared})" : selected.Model, x = fpr, y = tpr, line = new { shape = "linear" } });
            }
            traces.Add(new { type = "scatter", mode = "lines", name = "chance", x = new[] { 0, 1 }, y = new[] { 0, 1 },
                line = new { dash = "dot", color = "#9aa5b1" }, showlegend = false, hoverinfo = "skip" });
            var id = $"roc-{label}";
            html.Append($"<div id=\"{E(id)}\" class=\"chart plot\"></div>\n");
            var positives = truth.Count(t => t);
            charts.Add(new PlotlyPage.Chart(id, traces, new
            {
                title = new { text = positives == 0 || positives == truth.Length ? $"{label} (undefined: the test split has {(positives == 0 ? "no positives" : "no negatives")})" : label },
                xaxis = new { title = new { text = "false positive rate" }, range = new[] { 0, 1 } },
                yaxis = new { title = new { text = "true positive rate" }, range = new[] { 0, 1.02 } },
                // Below the plot: with several feature sets the model names would cover the curves.
                legend = new { orientation = "h", x = 0, y = -0.3, yanchor = "top", font = new { size = 10 } },
                height = 330 + 18 * ((model.TestPredictions.Count(s => s.Label == label) + 1) / 2),
                margin = new { l = 55, r = 10, t = 40, b = 45 },
            }));
        }
        html.Append("</div>\n");
    }

    static void RenderTrials(StringBuilder html, List<PlotlyPage.Chart> charts, ReportModel model)
    {
        var sweep = model.Sweep;
        var budget = sweep.Budget;
        html.Append("<h2 id=\"trials\">Sweep</h2>\n")
            .Append($"<p class=\"meta\">Tuner <code>{E(sweep.Tuner)}</code>, objective validation {E(sweep.Objective.DisplayName())}, ")
            .Append(sweep.Sharing == ConfigurationSharing.PerSubset ? "one configuration shared by each subset's labels" : "a configuration per label")
            .Append($"; budget per stream {budget.Trials} trials")
            .Append(budget.Work is { } work ? $", {work.ToString("G4", CultureInfo.InvariantCulture)} M row×feature visits" : "")
            .Append(budget.Seconds is { } seconds ? $", {seconds.ToString("G4", CultureInfo.InvariantCulture)} s wall time for the sweep" : "")
            .Append(sweep.EarlyStoppingRounds > 0 ? $"; boosting stops after {sweep.EarlyStoppingRounds} rounds without a lower validation log loss" : "")
            .Append(sweep.Halving ? "; successive halving on a quarter of the training rows" : "")
            .Append(".</p>\n<table class=\"trials\"><tr><th class=\"text\">model</th><th>trials</th><th>pruned</th><th>reused</th><th>labels</th><th>training time (s)</th><th>work (M visits)</th></tr>\n");
        foreach (var group in model.Trials.GroupBy(t => t.Model))
            html.Append($"<tr><td class=\"text\">{E(group.Key)}</td><td>{group.Count()}</td><td>{group.Count(t => t.Status == TrialStatus.Pruned)}</td>")
                .Append($"<td>{group.Count(t => t.Status == TrialStatus.Reused)}</td><td>{group.SelectMany(t => t.Labels).Distinct().Count()}</td>")
                .Append($"<td>{group.Sum(t => t.DurationSeconds).ToString("F1", CultureInfo.InvariantCulture)}</td><td>{group.Sum(t => t.Work).ToString("F1", CultureInfo.InvariantCulture)}</td></tr>\n");
        html.Append($"</table>\n<p class=\"meta\">Every trial, with its full-precision parameters and validation metrics, is in <code>{RunFolder.TrialsFile}</code>; test predictions are in <code>{RunFolder.PredictionsFile}</code>.</p>\n");
        RenderConvergence(html, charts, model);
    }

    /// <summary>
    /// Best validation score so far against trials and against training time, per learner, for each feature set: the
    /// mean over the set's streams (labels or subsets) of each stream's best so far.
    /// </summary>
    static void RenderConvergence(StringBuilder html, List<PlotlyPage.Chart> charts, ReportModel model)
    {
        var tuned = model.Trials.Where(t => t.FeatureSet is not null && t.Learner != BinaryLearnerCatalog.Prior && t.Learner != Features.Learned.LearnedFeatures.EndToEndModel).ToArray();
        if (tuned.Length == 0) return;
        var objective = model.Sweep.Objective.DisplayName();
        html.Append($"<h3 id=\"convergence\">Convergence</h3>\n<p class=\"meta\">Validation {E(objective)} of the best configuration found so far, averaged over the streams ")
            .Append("(labels, or subsets sharing a configuration) of each feature set, against the trial number and against the training time spent in a stream. ")
            .Append("A learner's line starts at its first trial.</p>\n");
        foreach (var set in tuned.GroupBy(t => t.FeatureSet!))
        {
            var streams = set.GroupBy(t => t.Stream).Select(g => g.OrderBy(t => t.Trial).ToArray()).ToArray();
            var length = streams.Max(s => s.Length);
            double? MeanBest(int k, Func<TrialRecord, bool> include)
            {
                var bests = streams.Select(s => s.Take(k + 1).Where(t => include(t) && TrialStatus.Complete(t.Status) && !double.IsNaN(t.ValidationScore))
                    .Select(t => t.ValidationScore).DefaultIfEmpty(double.NaN).Max()).Where(v => !double.IsNaN(v)).ToArray();
                return bests.Length == 0 ? null : bests.Average();
            }
            var trialAxis = Enumerable.Range(1, length).ToArray();
            var secondsAxis = Enumerable.Range(0, length).Select(k => streams.Where(s => s.Length > k).Average(s => s.Take(k + 1).Sum(t => t.DurationSeconds))).ToArray();
            html.Append("<div class=\"grid\">\n");
            var lines = set.Select(t => t.Learner).Distinct().Select(l => (Name: l, Include: (Func<TrialRecord, bool>)(t => t.Learner == l)))
                .Append((Name: "any learner", Include: _ => true)).ToArray();
            foreach (var (axis, suffix, xTitle) in new[] { ((object)trialAxis, "trials", "trial"), (secondsAxis, "time", "training time in a stream (s)") })
            {
                var id = $"convergence-{set.Key}-{suffix}".Replace('+', '-');
                html.Append($"<div id=\"{E(id)}\" class=\"chart plot\"></div>\n");
                charts.Add(new PlotlyPage.Chart(id, lines.Select(line => (object)new
                {
                    type = "scatter", mode = "lines+markers", name = line.Name, x = axis,
                    y = Enumerable.Range(0, length).Select(k => MeanBest(k, line.Include)).ToArray(),
                    line = new { shape = "hv", dash = line.Name == "any learner" ? "dot" : "solid" }, marker = new { size = 4 },
                }).ToArray(), new
                {
                    // Left-aligned and small, clear of plotly's tool bar on the right.
                    title = new { text = $"{set.Key}, by {(suffix == "trials" ? "trial" : "time")}", x = 0.02, xanchor = "left", font = new { size = 13 } },
                    xaxis = new { title = new { text = xTitle } },
                    yaxis = new { title = new { text = $"validation {objective}" } },
                    legend = new { orientation = "h", x = 0, y = -0.3, yanchor = "top", font = new { size = 10 } },
                    height = 360,
                    margin = new { l = 55, r = 10, t = 40, b = 45 },
                }));
            }
            html.Append("</div>\n");
        }
    }


    static void RenderProvenance(StringBuilder html, ReportModel model)
    {
        var m = model.Manifest;
        html.Append("<h2 id=\"provenance\">Provenance</h2>\n<table class=\"provenance\">\n");
        void Row(string key, string value) => html.Append($"<tr><th class=\"text\">{E(key)}</th><td class=\"text\"><code>{E(value)}</code></td></tr>\n");
        Row("definition", $"{m.DefinitionFile} (sha256 {m.DefinitionSha256[..12]}…)");
        Row("dataset", m.Dataset);
        Row("features", string.Join(", ", m.FeatureSets) + " (" + string.Join(", ", m.FeatureVersions.Select(v => $"{v.Key} {v.Value}")) + ")");
        Row("runtime", $"{m.Runtime} on {m.Os}, {m.ProcessorCount} cores, {m.MaxThreads} threads used");
        foreach (var (package, version) in m.Packages) Row(package, version);
        if (m.DurationSeconds is { } seconds)
            Row("duration", $"{seconds.ToString("F1", CultureInfo.InvariantCulture)} s" + (m.Resumes > 0 ? $" over {m.Resumes + 1} sessions (resumed {m.Resumes}× with --resume)" : ""));
        html.Append("</table>\n");
    }

    static string MetricCell(string subset, string label, string learner, string metric, Estimate e, int rowSpan = 1) =>
        $"<td class=\"metric\"{(rowSpan > 1 ? $" rowspan=\"{rowSpan}\"" : "")} data-subset=\"{E(subset)}\" data-label=\"{E(label)}\" data-learner=\"{E(learner)}\" data-metric=\"{metric}\">{E(Format(e))}</td>";

    static double? NaNToNull(double v) => double.IsNaN(v) ? null : v;

    /// <summary>First, per label subset: the best model, its paired lead over the runner-up and the prior, whether
    /// the lead is significant, and DeLong's test of each label's AUROC against every other model.</summary>
    static void RenderSummary(StringBuilder html, ReportModel model)
    {
        var subsets = model.Metrics.Subsets.Where(s => s.Summary is not null).ToArray();
        if (subsets.Length == 0) return;
        html.Append("<h2 id=\"summary\">Summary</h2>");
        foreach (var subset in subsets)
        {
            var summary = subset.Summary!;
            html.Append($"<h3>{E(subset.Name)}</h3><p class=\"verdict\" data-subset=\"{E(subset.Name)}\">{E(summary.Verdict)}</p>");
            html.Append("<table class=\"summary\"><tr><th class=\"text\">compared with</th><th>test macro-AUROC</th><th>best minus it (paired bootstrap)</th></tr>");
            foreach (var comparison in new[] { summary.VersusRunnerUp, summary.VersusPrior }.OfType<ModelComparison>())
                html.Append($"<tr><td class=\"text\">{E(comparison.Model)}</td><td class=\"number\">{Format(subset.MacroAuroc[comparison.Model])}</td>")
                    .Append($"<td class=\"number\" data-model=\"{E(comparison.Model)}\" data-difference=\"{comparison.Difference.Value.ToString("R", CultureInfo.InvariantCulture)}\">{Format(comparison.Difference)}</td></tr>");
            html.Append("</table>");
            var others = summary.DeLong.Select(t => t.Model).Distinct().ToArray();
            if (others.Length == 0) continue;
            var labels = summary.DeLong.Select(t => t.Label).Distinct().ToArray();
            html.Append($"<p class=\"meta\">DeLong's test of {E(summary.Best)}'s AUROC against each model, per label: the difference and its p-value, {E(summary.Correction)}-corrected over the subset's {summary.DeLong.Count} tests.</p>");
            html.Append("<div class=\"scroll\"><table class=\"delong\"><tr><th class=\"text\">model</th>");
            foreach (var label in labels) html.Append($"<th>{E(label)}</th>");
            html.Append("</tr>");
            foreach (var other in others)
            {
                html.Append($"<tr><td class=\"text\">{E(other)}</td>");
                foreach (var label in labels)
                {
                    var test = summary.DeLong.First(t => t.Label == label && t.Model == other);
                    html.Append($"<td class=\"number\">{(test.Difference >= 0 ? "+" : "")}{Format(test.Difference)}, p {(double.IsNaN(test.AdjustedPValue) ? "n/a" : test.AdjustedPValue < 0.001 ? "&lt; 0.001" : test.AdjustedPValue.ToString("0.000", CultureInfo.InvariantCulture))}</td>");
                }
                html.Append("</tr>");
            }
            html.Append("</table></div>");
        }
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
