using System.Globalization;
using System.Net;
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
    DataSummary? Data = null,
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

    public static ReportDocument Render(ReportModel model)
    {
        var m = model.Manifest;
        var page = new ReportPage($"CodeII experiment report: {model.Experiment}");
        var colours = ModelColours(model.Metrics.Subsets.SelectMany(s => s.MacroAuroc.Keys));
        var intro = $$"""
            <p class="meta">Run started {{m.StartedUtc:yyyy-MM-dd HH:mm:ss}} UTC · seed <code>{{m.Seed}}</code> · commit <code>{{E(m.GitCommit)}}</code>{{(m.GitDirty ? " (uncommitted changes)" : "")}}
            · data <code>{{E(m.DataFingerprint ?? "")}}</code> · {{model.Metrics.TestExams}} test exams from {{model.Metrics.TestPatients}} patients</p>
            <p>Each label is a one-vs-rest problem. Each model's configuration was chosen by its validation {{E(model.Sweep.Objective.DisplayName())}} and its F1 threshold was tuned on
            validation; every number below is on the held-out test patients, with {{model.Metrics.Confidence:P0}} intervals from
            {{model.Metrics.BootstrapReplicates}} patient-level bootstrap resamples. <em>prior</em> is the trivial baseline that scores every exam
            with the training prevalence: a model is only useful where it beats it.</p>
            {{(model.Manifest.Patients is { } patients ? $"<p class=\"meta\">Patients: {E(patients)}.</p>" : "")}}
            """;
        RenderSummary(page, model);
        RenderData(page, model);
        RenderSkipped(page, model);
        page.Heading("results", "Results by label subset");
        page.Tabs("subsets", [.. model.Metrics.Subsets.Select(subset => ($"subset-{subset.Name}", subset.Name, (Action)(() => RenderSubset(page, subset))))]);
        RenderCurves(page, model, colours);
        RenderBenchmarks(page, model);
        RenderImportance(page, model);
        RenderNetwork(page, model);
        RenderTrials(page, model, colours);
        RenderProvenance(page, model);
        return page.Render(intro, """
            td.metric, td.number { white-space: nowrap; } tr.best td.metric { font-weight: 600; } tr.baseline td { color: #627d98; }
            .chart { width: 380px; min-height: 340px; } .wide { width: 100%; max-width: 760px; height: 380px; }
            """);
    }

    /// <summary>One colour per model for every chart of a report, in the order the models first appear; the prior is grey.</summary>
    public static IReadOnlyDictionary<string, string> ModelColours(IEnumerable<string> models)
    {
        string[] palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#17becf", "#bcbd22", "#1f3a93"];
        var colours = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var model in models.Distinct(StringComparer.Ordinal))
            colours[model] = model == Evaluation.ExperimentEvaluator.PriorModel ? "#9aa5b1" : palette[colours.Count(c => c.Key != Evaluation.ExperimentEvaluator.PriorModel) % palette.Length];
        return colours;
    }

    static void RenderSubset(ReportPage page, SubsetMetrics subset)
    {
        var learners = subset.MacroAuroc.Keys.ToArray();
        page.Append($"<p>Labels: {E(string.Join(", ", subset.Labels))}.</p>\n");
        var best = subset.Summary?.Best;
        page.Table(new ReportTable($"{subset.Name}-macro", $"Test macro-AUROC per model, label subset {subset.Name}", ["model", "macro AUROC"],
            [.. subset.MacroAuroc.Select(x => new TableRow([x.Key == best ? $"{x.Key} ★" : x.Key, MetricCell(subset.Name, "*", x.Key, "macro_auroc", x.Value)],
                x.Key == BinaryLearnerCatalog.Prior ? "baseline" : x.Key == best ? "best" : null))]) { HtmlClass = "macro" });

        var rows = new List<TableRow>();
        foreach (var label in subset.PerLabel)
        {
            var bestAuroc = label.Models.Max(x => double.IsNaN(x.Auroc.Value) ? double.MinValue : x.Auroc.Value);
            foreach (var mm in label.Models)
                rows.Add(new TableRow(
                [
                    label.Label,
                    new TableCell(mm.Learner, "text", Title: string.Join(", ", mm.Parameters.Select(p => $"{p.Key}={p.Value.ToString("G6", CultureInfo.InvariantCulture)}"))),
                    MetricCell(subset.Name, label.Label, mm.Learner, "auroc", mm.Auroc),
                    MetricCell(subset.Name, label.Label, mm.Learner, "auprc", mm.Auprc),
                    MetricCell(subset.Name, label.Label, mm.Learner, "f1", mm.F1),
                    TableCell.Number(mm.Threshold), TableCell.Number(mm.ValidationAuroc),
                ], mm.Learner == BinaryLearnerCatalog.Prior ? "baseline" : mm.Auroc.Value == bestAuroc ? "best" : null));
        }
        page.Table(new ReportTable($"{subset.Name}-metrics", $"Test metrics per label and model with 95 % patient-bootstrap intervals, label subset {subset.Name}",
            ["label", "model", "AUROC", "AUPRC", "F1", "threshold", "validation AUROC"], rows) { HtmlClass = "metrics" });

        var z = learners.Select(l => subset.PerLabel.Select(p => (double?)NaNToNull(p.Models.First(x => x.Learner == l).Auroc.Value)).ToArray()).ToArray();
        var (zmin, zmax) = HeatmapRange(z.Where((_, i) => learners[i] != Evaluation.ExperimentEvaluator.PriorModel).SelectMany(r => r).OfType<double>().ToArray());
        page.Chart($"heatmap-{subset.Name}",
            new object[] { new { type = "heatmap", x = subset.Labels, y = learners, z, zmin, zmax, colorscale = "Viridis",
                text = z.Select(r => r.Select(v => v is null ? "n/a" : Format(v.Value)).ToArray()).ToArray(), texttemplate = "%{text}",
                hovertemplate = "%{y} on %{x}: AUROC %{text}<extra></extra>", colorbar = new { title = new { text = "AUROC" } } } },
            // Room on the left for the longest model name, e.g. handcrafted+learned/logistic_regression.
            new { title = new { text = $"Test AUROC, label × model ({subset.Name})" }, margin = new { l = 20 + 7 * learners.Max(l => l.Length), t = 50 },
                height = 120 + 34 * learners.Length }, "wide");
        RenderThresholds(page, subset);
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
    static void RenderThresholds(ReportPage page, SubsetMetrics subset)
    {
        page.Append($"<h4>At the validation-chosen thresholds, and calibration</h4>\n");
        page.Table(new ReportTable($"{subset.Name}-thresholds", $"Test exams at each model's validation-chosen threshold, and its Brier score, label subset {subset.Name}",
            ["label", "model", "threshold", "TP", "FP", "TN", "FN", "sensitivity", "specificity", "PPV", "NPV", "Brier"],
            [.. from label in subset.PerLabel
                from mm in label.Models
                where mm.Confusion is not null
                let c = mm.Confusion!
                select new TableRow([label.Label, mm.Learner, TableCell.Number(mm.Threshold),
                    TableCell.Count(c.TruePositives), TableCell.Count(c.FalsePositives), TableCell.Count(c.TrueNegatives), TableCell.Count(c.FalseNegatives),
                    TableCell.Number(c.Sensitivity), TableCell.Number(c.Specificity), TableCell.Number(c.Ppv), TableCell.Number(c.Npv),
                    TableCell.Number(mm.Calibration?.Brier ?? double.NaN)])]) { HtmlClass = "thresholds" });
    }

    /// <summary>Per label, one tab: every model's ROC curve, precision–recall curve and reliability diagram on the test
    /// exams, under one legend whose colours hold for the whole report.</summary>
    static void RenderCurves(ReportPage page, ReportModel model, IReadOnlyDictionary<string, string> colours)
    {
        var labels = model.TestPredictions.Select(s => s.Label).Distinct().ToArray();
        if (labels.Length == 0) return;
        page.Heading("curves", "Curves per label on the test patients");
        page.Append("<p class=\"meta\">ROC curves are drawn with straight segments between their points, so tied scores draw a diagonal (the prior's curve is the chance line) and each area is the AUROC in the tables. Precision–recall curves are steps whose area is the AUPRC (average precision); the prior's is a flat line at the prevalence. Reliability diagrams put each model's test scores in ten equal bins: a calibrated model's points lie on the diagonal; the legend gives each model's Brier score.</p>\n");
        page.Tabs("curves", [.. labels.Select(label => ($"curves-{label}", label, (Action)(() => RenderLabelCurves(page, model, label, colours))))]);
    }

    static void RenderLabelCurves(ReportPage page, ReportModel model, string label, IReadOnlyDictionary<string, string> colours)
    {
        var truth = model.TestLabels.Select(l => l.Contains(label)).ToArray();
        var positives = truth.Count(t => t);
        var models = model.TestPredictions.Where(s => s.Label == label).ToArray();
        string Name(ModelPredictions p) => p.Subset is { } shared ? $"{p.Model} ({shared})" : p.Model;
        string Colour(ModelPredictions p) => colours.TryGetValue(p.Model, out var c) ? c : "#52606d";
        var calibrations = models.ToDictionary(Name, p => Calibration.Of(p.TestScores, truth));
        page.Append("<div class=\"legend\">");
        foreach (var p in models)
            page.Append($"<span style=\"--colour:{Colour(p)}\">{E(Name(p))} <small>(Brier {Format(calibrations[Name(p)].Brier)})</small></span>");
        page.Append("</div>\n<div class=\"grid\">\n");
        var undefined = positives == 0 || positives == truth.Length ? $" (undefined: the test split has {(positives == 0 ? "no positives" : "no negatives")})" : "";
        object Line(ModelPredictions p) => new { color = Colour(p), width = p.Model == BinaryLearnerCatalog.Prior ? 1.5 : 2, dash = p.Subset is null ? "solid" : "dash" };
        object Layout(string title, string x, string y) => new
        {
            title = new { text = title, font = new { size = 14 } }, showlegend = false, height = 360,
            xaxis = new { title = new { text = x }, range = new[] { 0, 1 } }, yaxis = new { title = new { text = y }, range = new[] { 0, 1.02 } },
            margin = new { l = 55, r = 10, t = 40, b = 45 },
        };
        var diagonal = new { type = "scatter", mode = "lines", name = "chance", x = new[] { 0, 1 }, y = new[] { 0, 1 }, line = new { dash = "dot", color = "#9aa5b1" }, hoverinfo = "skip" };
        page.Chart($"roc-{label}", models.Select(p =>
        {
            var (fpr, tpr) = BinaryMetrics.RocCurve(p.TestScores, truth);
            return (object)new { type = "scatter", mode = "lines", name = Name(p), x = fpr, y = tpr, line = Line(p) };
        }).Append(diagonal).ToArray(), Layout($"ROC, {label}{undefined}", "false positive rate", "true positive rate"));
        page.Chart($"pr-{label}", models.Select(p =>
        {
            var (recall, precision) = BinaryMetrics.PrecisionRecallCurve(p.TestScores, truth);
            return (object)new { type = "scatter", mode = "lines", name = Name(p), x = recall, y = precision, line = new { color = Colour(p), width = 2, dash = p.Subset is null ? "solid" : "dash", shape = "vh" } };
        }).ToArray(), Layout($"Precision–recall, {label}", "recall", "precision"));
        page.Chart($"calibration-{label}", models.Select(p =>
        {
            var bins = calibrations[Name(p)].Bins.Where(b => b.Exams > 0).ToArray();
            return (object)new { type = "scatter", mode = "lines+markers", name = Name(p), x = bins.Select(b => b.MeanPredicted).ToArray(), y = bins.Select(b => b.ObservedPositive).ToArray(),
                text = bins.Select(b => $"{b.Exams} exams").ToArray(), hovertemplate = "%{text}: predicted %{x:.3f}, observed %{y:.3f}", line = Line(p), marker = new { size = 5, color = Colour(p) } };
        }).Append(diagonal).ToArray(), Layout($"Reliability, {label}", "mean predicted probability", "observed share positive"));
        page.Append("</div>\n");
    }

    /// <summary>Each published benchmark's metric that applies to the data, in the paper's terms, beside its reference.</summary>
    static void RenderBenchmarks(ReportPage page, ReportModel model)
    {
        if (model.Metrics.Benchmarks is not { Count: > 0 } benchmarks) return;
        page.Heading("benchmarks", "Benchmark metrics");
        page.Append("<p class=\"meta\">The metrics published benchmarks report, computed on this run's test patients so they can be set beside the papers' tables. Each says how it departs from the paper, if it does.</p>\n");
        foreach (var (benchmark, k) in benchmarks.Select((b, k) => (b, k)))
        {
            page.Append($"<h4>{E(benchmark.Name)} · {E(benchmark.Subset)}</h4><p class=\"meta\">{E(benchmark.Description)}. Reference: {E(benchmark.Reference)}.</p>\n");
            var classes = benchmark.PerClass?.Values.FirstOrDefault()?.Keys.ToArray() ?? [];
            page.Table(new ReportTable($"benchmark-{k + 1}-{benchmark.Subset}", $"{benchmark.Name}, label subset {benchmark.Subset}",
                ["model", classes.Length > 0 ? "mean" : "value", .. classes],
                [.. benchmark.Models.Select(m => new TableRow([m.Key, TableCell.Number(Format(m.Value)),
                    .. classes.Select(c => TableCell.Number(Format(benchmark.PerClass![m.Key][c])))], m.Key == BinaryLearnerCatalog.Prior ? "baseline" : null))]) { HtmlClass = "benchmark" });
        }
    }

    static void RenderNetwork(ReportPage page, ReportModel model)
    {
        if (model.Manifest.Network is not { } n) return;
        page.Heading("network", "The network")
            .Append("<p>A 1-D ResNet (Ribeiro et al. 2020) trained for all its labels at once and early-stopped on validation patients. ")
            .Append("Its penultimate layer gives the <code>learned</code> features; its own sigmoid outputs, where it learned the experiment's labels, are the model ")
            .Append($"<code>{E(Features.Learned.LearnedFeatures.EndToEndModel)}</code>.</p>\n");
        page.Table(new ReportTable("network", "The network", ["", ""],
        [
            new(["model", $"{n.Model}, {n.Parameters:N0} parameters, input 12 × {n.InputSamples} at {n.InputRateHz} Hz"]),
            new(["trained on", n.TrainedOn]),
            new(["training", $"{n.EpochsTrained} epochs; best validation macro AUROC {Format(n.BestValidationMacroAuroc)} at epoch {n.BestEpoch}; {n.StopReason}"]),
            new(["checkpoint", $"sha256 {n.CheckpointSha256[..16]}… in {n.CheckpointFolder}"]),
        ]) { HtmlClass = "network", Sortable = false });
        var epochs = n.History.Select(e => e.Epoch).ToArray();
        page.Chart("network-training",
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
            }, "wide");
    }

    static void RenderSkipped(ReportPage page, ReportModel model)
    {
        if (model.Skipped is not { Count: > 0 } skipped) return;
        page.Heading("skipped", $"{skipped.Count} record{(skipped.Count == 1 ? "" : "s")} skipped")
            .Append($"<div class=\"skipped\"><p>These could not be read or measured and are not in any split (also in <code>{RunFolder.SkippedRecordsFile}</code>):</p>");
        page.Table(new ReportTable("skipped", "Records skipped because they could not be read or measured", ["exam", "file", "field", "reason"],
            [.. skipped.Select(r => new TableRow([r.ExamId, r.File, r.Field, r.Reason]))]));
        page.Append("</div>\n");
    }

    /// <summary>What the data were (records, patients, rates, lengths), how they were split, and every label's
    /// positives and negatives in each part: from <c>data.json</c>.</summary>
    static void RenderData(ReportPage page, ReportModel model)
    {
        if (model.Data is not { } data) return;
        page.Heading("data", "Data");
        static string Seconds(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        page.Table(new ReportTable("data", "The data of the run", ["", ""],
        [
            new(["dataset", data.Dataset]),
            new(["records", $"{data.RecordsRead:N0} read, {data.RecordsSkipped:N0} skipped; {data.Exams:N0} exams of {data.Patients:N0} patients"
                + (model.Manifest.RecordWarnings > 0 ? $"; {model.Manifest.RecordWarnings:N0} warnings about records kept (in {RunFolder.RecordWarningsFile})" : "")]),
            new(["sampling rates (as recorded)", data.SamplingRatesHz.Count == 0 ? "not recorded" : string.Join(", ", data.SamplingRatesHz.Select(r => $"{r.Key} Hz: {r.Value:N0} exams"))]),
            new(["durations (as recorded)", data.DurationSeconds is { } d ? $"{Seconds(d.Min)} to {Seconds(d.Max)} s, median {Seconds(d.Median)} s, mean {Seconds(d.Mean)} s" : "not recorded"]),
            new(["split", data.SplitMethod]),
            .. data.Parts.Select(p => new TableRow([p.Part, $"{p.Exams:N0} exams of {p.Patients:N0} patients"])),
        ]) { HtmlClass = "data", Sortable = false });
        var parts = data.Parts;
        var labels = parts.SelectMany(p => p.Labels.Keys).Distinct(StringComparer.Ordinal).ToArray();
        page.Table(new ReportTable("prevalence", "Positives, negatives and prevalence of each label in each part of the split",
            ["label", .. parts.SelectMany(p => new[] { $"{p.Part} positives", $"{p.Part} negatives", $"{p.Part} prevalence" })],
            [.. labels.Select(label => new TableRow([label, .. parts.SelectMany(p =>
            {
                var count = p.Labels[label];
                return new[] { TableCell.Count(count.Positives), TableCell.Count(count.Negatives),
                    new TableCell(Format(count.Prevalence), "number", new Dictionary<string, string> { ["part"] = p.Part, ["label"] = label, ["prevalence"] = count.Prevalence.ToString("R", CultureInfo.InvariantCulture) }) };
            })]))]) { HtmlClass = "prevalence" });
    }

    static partial void RenderImportance(ReportPage page, ReportModel model);

    static void RenderTrials(ReportPage page, ReportModel model, IReadOnlyDictionary<string, string> colours)
    {
        var sweep = model.Sweep;
        var budget = sweep.Budget;
        page.Heading("trials", "Sweep")
            .Append($"<p class=\"meta\">Tuner <code>{E(sweep.Tuner)}</code>, objective validation {E(sweep.Objective.DisplayName())}, ")
            .Append(sweep.Sharing == ConfigurationSharing.PerSubset ? "one configuration shared by each subset's labels" : "a configuration per label")
            .Append($"; budget per stream {budget.Trials} trials")
            .Append(budget.Work is { } work ? $", {work.ToString("G4", CultureInfo.InvariantCulture)} M row×feature visits" : "")
            .Append(budget.Seconds is { } seconds ? $", {seconds.ToString("G4", CultureInfo.InvariantCulture)} s wall time for the sweep" : "")
            .Append(sweep.EarlyStoppingRounds > 0 ? $"; boosting stops after {sweep.EarlyStoppingRounds} rounds without a lower validation log loss" : "")
            .Append(sweep.Halving ? "; successive halving on a quarter of the training rows" : "")
            .Append(".</p>\n");
        page.Table(new ReportTable("trials", "Trials of the sweep per model", ["model", "trials", "pruned", "reused", "labels", "training time (s)", "work (M visits)"],
            [.. model.Trials.GroupBy(t => t.Model).Select(group => new TableRow([group.Key, TableCell.Count(group.Count()),
                TableCell.Count(group.Count(t => t.Status == TrialStatus.Pruned)), TableCell.Count(group.Count(t => t.Status == TrialStatus.Reused)),
                TableCell.Count(group.SelectMany(t => t.Labels).Distinct().Count()),
                TableCell.Number(group.Sum(t => t.DurationSeconds).ToString("F1", CultureInfo.InvariantCulture)),
                TableCell.Number(group.Sum(t => t.Work).ToString("F1", CultureInfo.InvariantCulture))]))]) { HtmlClass = "trials" });
        page.Append($"<p class=\"meta\">Every trial, with its full-precision parameters and validation metrics, is in <code>{RunFolder.TrialsFile}</code>; test predictions are in <code>{RunFolder.PredictionsFile}</code>.</p>\n");
        RenderConvergence(page, model, colours);
    }

    /// <summary>
    /// Best validation score so far against trials and against training time, per learner, for each feature set: the
    /// mean over the set's streams (labels or subsets) of each stream's best so far.
    /// </summary>
    static void RenderConvergence(ReportPage page, ReportModel model, IReadOnlyDictionary<string, string> colours)
    {
        var tuned = model.Trials.Where(t => t.FeatureSet is not null && t.Learner != BinaryLearnerCatalog.Prior && t.Learner != Features.Learned.LearnedFeatures.EndToEndModel).ToArray();
        if (tuned.Length == 0) return;
        var objective = model.Sweep.Objective.DisplayName();
        page.Heading("convergence", "Convergence", 1)
            .Append($"<p class=\"meta\">Validation {E(objective)} of the best configuration found so far, averaged over the streams ")
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
            page.Append("<div class=\"grid\">\n");
            // A learner's line takes its model's colour (feature set/learner, or the learner alone in a one-set run).
            string ColourOf(string learner) => colours.GetValueOrDefault($"{set.Key}/{learner}") ?? colours.GetValueOrDefault(learner) ?? "#52606d";
            var lines = set.Select(t => t.Learner).Distinct().Select(l => (Name: l, Include: (Func<TrialRecord, bool>)(t => t.Learner == l)))
                .Append((Name: "any learner", Include: _ => true)).ToArray();
            foreach (var (axis, suffix, xTitle) in new[] { ((object)trialAxis, "trials", "trial"), (secondsAxis, "time", "training time in a stream (s)") })
            {
                page.Chart($"convergence-{set.Key}-{suffix}".Replace('+', '-'), lines.Select(line => (object)new
                {
                    type = "scatter", mode = "lines+markers", name = line.Name, x = axis,
                    y = Enumerable.Range(0, length).Select(k => MeanBest(k, line.Include)).ToArray(),
                    line = new { shape = "hv", dash = line.Name == "any learner" ? "dot" : "solid", color = ColourOf(line.Name) },
                    marker = new { size = 4, color = ColourOf(line.Name) },
                }).ToArray(), new
                {
                    // Left-aligned and small, clear of plotly's tool bar on the right.
                    title = new { text = $"{set.Key}, by {(suffix == "trials" ? "trial" : "time")}", x = 0.02, xanchor = "left", font = new { size = 13 } },
                    xaxis = new { title = new { text = xTitle } },
                    yaxis = new { title = new { text = $"validation {objective}" } },
                    legend = new { orientation = "h", x = 0, y = -0.3, yanchor = "top", font = new { size = 10 } },
                    height = 360,
                    margin = new { l = 55, r = 10, t = 40, b = 45 },
                });
            }
            page.Append("</div>\n");
        }
    }

    static void RenderProvenance(ReportPage page, ReportModel model)
    {
        var m = model.Manifest;
        page.Heading("provenance", "Provenance");
        List<TableRow> rows =
        [
            new(["definition", $"{m.DefinitionFile} (sha256 {m.DefinitionSha256[..12]}…)"]),
            new(["dataset", m.Dataset]),
            new(["features", string.Join(", ", m.FeatureSets) + " (" + string.Join(", ", m.FeatureVersions.Select(v => $"{v.Key} {v.Value}")) + ")"]),
            new(["runtime", $"{m.Runtime} on {m.Os}, {m.ProcessorCount} cores, {m.MaxThreads} threads used"]),
            .. m.Packages.Select(p => new TableRow([p.Key, p.Value])),
        ];
        if (m.DurationSeconds is { } seconds)
            rows.Add(new(["duration", $"{seconds.ToString("F1", CultureInfo.InvariantCulture)} s" + (m.Resumes > 0 ? $" over {m.Resumes + 1} sessions (resumed {m.Resumes}× with --resume)" : "")]));
        page.Table(new ReportTable("provenance", "Provenance of the run", ["", ""], rows) { HtmlClass = "provenance", Sortable = false });
    }

    static TableCell MetricCell(string subset, string label, string learner, string metric, Estimate e) =>
        new(Format(e), "metric", new Dictionary<string, string> { ["subset"] = subset, ["label"] = label, ["learner"] = learner, ["metric"] = metric });

    static double? NaNToNull(double v) => double.IsNaN(v) ? null : v;

    /// <summary>First, per label subset: the best model, its paired lead over the runner-up and the prior, whether
    /// the lead is significant, and DeLong's test of each label's AUROC against every other model.</summary>
    static void RenderSummary(ReportPage page, ReportModel model)
    {
        var subsets = model.Metrics.Subsets.Where(s => s.Summary is not null).ToArray();
        if (subsets.Length == 0) return;
        page.Heading("summary", "Summary");
        foreach (var subset in subsets)
        {
            var summary = subset.Summary!;
            page.Heading($"summary-{subset.Name}", subset.Name, 1)
                .Append($"<p class=\"verdict\" data-subset=\"{E(subset.Name)}\">{E(summary.Verdict)}</p>");
            page.Table(new ReportTable($"{subset.Name}-summary", $"The best model's ({summary.Best}) lead in test macro-AUROC, label subset {subset.Name}",
                ["compared with", "test macro-AUROC", $"{summary.Best} minus it (paired bootstrap)"],
                [.. new[] { summary.VersusRunnerUp, summary.VersusPrior }.OfType<ModelComparison>().Select(c => new TableRow([c.Model, TableCell.Number(Format(subset.MacroAuroc[c.Model])),
                    new TableCell(Format(c.Difference), "number", new Dictionary<string, string> { ["model"] = c.Model, ["difference"] = c.Difference.Value.ToString("R", CultureInfo.InvariantCulture) })]))])
                { HtmlClass = "summary", Sortable = false });
            RenderEnsemble(page, subset, model.Metrics.Confidence);
            var others = summary.DeLong.Select(t => t.Model).Distinct().ToArray();
            if (others.Length == 0) continue;
            var labels = summary.DeLong.Select(t => t.Label).Distinct().ToArray();
            page.Append($"<p class=\"meta\">DeLong's test of {E(summary.Best)}'s AUROC against each model, per label: the difference and its p-value, {E(summary.Correction)}-corrected over the subset's {summary.DeLong.Count} tests.</p>");
            page.Table(new ReportTable($"{subset.Name}-delong", $"DeLong's test of {summary.Best}'s AUROC against each model, {summary.Correction}-corrected p-values, label subset {subset.Name}",
                ["model", .. labels],
                [.. others.Select(other => new TableRow([other, .. labels.Select(label =>
                {
                    var test = summary.DeLong.First(t => t.Label == label && t.Model == other);
                    var p = double.IsNaN(test.AdjustedPValue) ? "n/a" : test.AdjustedPValue < 0.001 ? "< 0.001" : test.AdjustedPValue.ToString("0.000", CultureInfo.InvariantCulture);
                    return TableCell.Number($"{(test.Difference >= 0 ? "+" : "")}{Format(test.Difference)}, p {p}");
                })]))]) { HtmlClass = "delong" });
        }
    }

    /// <summary>The ensemble against the single model validation picks: test AUROCs and the paired differences, macro and per label.</summary>
    static void RenderEnsemble(ReportPage page, SubsetMetrics subset, double confidence)
    {
        if (subset.Ensemble is not { } e) return;
        string Auroc(string label, string learner) => Format(subset.PerLabel.First(l => l.Label == label).Models.First(m => m.Learner == learner).Auroc);
        TableCell Difference(string label, Estimate d) =>
            new(Format(d), "number", new Dictionary<string, string> { ["ensemble-label"] = label, ["difference"] = d.Value.ToString("R", CultureInfo.InvariantCulture) });
        static string P(double p) => double.IsNaN(p) ? "n/a" : p < 0.001 ? "< 0.001" : p.ToString("0.000", CultureInfo.InvariantCulture);
        page.Append($"<p class=\"meta ensemble\" data-subset=\"{E(subset.Name)}\"><em>{E(e.Ensemble)}</em> is, per label, the rank average of the selected model of every feature set and learner (the prior aside): ")
            .Append($"no weight is fitted, and its F1 threshold is tuned on validation like the others'. The best single model is chosen by {E(e.ChosenBy)}, not by test: ")
            .Append($"<strong>{E(e.BestSingle)}</strong> ({Format(e.BestSingleValidationMacroAuroc)}; the ensemble's own, {Format(e.EnsembleValidationMacroAuroc)}, is optimistic, as its members were selected on those exams). ")
            .Append($"Differences are {E(e.Ensemble)} minus {E(e.BestSingle)} on the same test patients' bootstrap resamples ({confidence:P0} intervals); DeLong's p-values are not corrected.</p>\n");
        page.Table(new ReportTable($"{subset.Name}-ensemble", $"The ensemble against the best single model by validation ({e.BestSingle}), test AUROC, label subset {subset.Name}",
            ["label", $"{e.Ensemble} AUROC", $"{e.BestSingle} AUROC", $"{e.Ensemble} minus {e.BestSingle} (paired bootstrap)", "DeLong p"],
            [
                new TableRow(["macro", TableCell.Number(Format(subset.MacroAuroc[e.Ensemble])), TableCell.Number(Format(subset.MacroAuroc[e.BestSingle])), Difference("*", e.MacroAurocDifference), ""]),
                .. e.PerLabel.Select(l => new TableRow([l.Label, TableCell.Number(Auroc(l.Label, e.Ensemble)), TableCell.Number(Auroc(l.Label, e.BestSingle)),
                    Difference(l.Label, l.AurocDifference), TableCell.Number(P(l.DeLongPValue))])),
            ]) { HtmlClass = "ensemble", Sortable = false });
    }

    static string E(string s) => WebUtility.HtmlEncode(s);
}
