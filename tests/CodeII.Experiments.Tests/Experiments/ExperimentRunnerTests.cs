using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

public partial class ExperimentRunnerTests(SmallExperiment small) : IClassFixture<SmallExperiment>
{
    static string GitHead()
    {
        using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["-C", RepoPaths.Root, "rev-parse", "HEAD"]) { RedirectStandardOutput = true })!;
        var head = git.StandardOutput.ReadToEnd().Trim();
        git.WaitForExit();
        Assert.True(git.ExitCode == 0 && head.Length == 40, $"git rev-parse HEAD in {RepoPaths.Root} gave '{head}'");
        return head;
    }

    [Fact]
    public void A_complete_trial_log_reads_back_whole_and_unchanged_and_reading_it_for_a_resume_leaves_the_file_alone()
    {
        var copy = Path.Combine(RepoPaths.NewTemporaryDirectory(), RunFolder.TrialsFile);
        File.Copy(small.Result.Folder.FileIn(RunFolder.TrialsFile), copy);
        var bytes = File.ReadAllBytes(copy);
        var lines = File.ReadAllLines(copy);
        Assert.True(lines.Length > 10, $"only {lines.Length} trials logged");
        var records = CodeII.Experiments.Sweep.TrialLog.Read(copy, repairTornTail: true);
        // Every line is a record, the last one included, and each serialises back to its own line: nothing rounded.
        Assert.Equal(lines.Length, records.Count);
        Assert.Equal(lines, records.Select(r => JsonSerializer.Serialize(r, JsonConventions.Line)));
        Assert.Equal(bytes, File.ReadAllBytes(copy));
    }

    [Fact]
    public void Outside_a_git_checkout_the_commit_is_recorded_as_unknown()
    {
        var outside = RepoPaths.NewTemporaryDirectory();
        Assert.Equal(("unknown (not a git checkout)", false), RunManifest.GitState(outside));
    }

    [Fact]
    public void A_run_folder_holds_definition_manifest_trials_predictions_metrics_and_report()
    {
        var folder = small.Result.Folder;
        foreach (var file in new[] { RunFolder.DefinitionFile, RunFolder.ResolvedDefinitionFile, RunFolder.ManifestFile, RunEvents.File, RunFolder.SplitFile,
                     RunFolder.TrialsFile, RunFolder.PredictionsFile, RunFolder.MetricsFile, RunFolder.ReportFile })
            Assert.True(File.Exists(folder.FileIn(file)), $"{file} is missing");
        Assert.Equal(SmallExperiment.Yaml, File.ReadAllText(folder.FileIn(RunFolder.DefinitionFile)));
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));

        using var manifest = JsonDocument.Parse(File.ReadAllText(folder.FileIn(RunFolder.ManifestFile)));
        var m = manifest.RootElement;
        Assert.Equal(5, m.GetProperty("seed").GetInt32());
        Assert.Equal("complete", m.GetProperty("status").GetString());
        Assert.StartsWith("sha256:", m.GetProperty("data_fingerprint").GetString());
        // The tests run inside the repository's checkout (CI clones it), so the commit is git's own answer for it.
        Assert.Equal(GitHead(), m.GetProperty("git_commit").GetString());
        Assert.True(m.GetProperty("packages").TryGetProperty("Microsoft.ML", out var ml) && ml.GetString()!.StartsWith("5.0"));

        // The event log: started, then each stage of the plan started and done in order, then finished.
        var events = new RunEvents(folder).Read();
        Assert.Equal(RunEvent.Started, events[0].Event);
        Assert.Equal(5, events[0].Manifest!.Seed);
        Assert.Equal(RunEvent.Finished, events[^1].Event);
        string[] plan = ["features", "split", "sweep", "models", "predictions", "evaluation", "importance", "report"];
        Assert.Equal(plan.SelectMany(s => new[] { $"{RunEvent.StageStarted} {s}", $"{RunEvent.StageDone} {s}" }),
            events.Skip(1).SkipLast(1).Select(e => $"{e.Event} {e.Stage}"));
    }

    [Fact]
    public void Every_trial_is_logged_once_with_full_precision_parameters()
    {
        var lines = File.ReadAllLines(small.Result.Folder.FileIn(RunFolder.TrialsFile));
        // 6 distinct labels (rhythm reuses code6's) × (2 LightGBM + 1 logistic + 1 prior) trials.
        Assert.Equal(6 * 4, lines.Length);
        var trials = lines.Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        // Each stream (a label's tuned models, or its prior) numbers its trials from 0.
        foreach (var stream in trials.GroupBy(t => t.GetProperty("stream").GetString()))
            Assert.Equal(Enumerable.Range(0, stream.Count()), stream.Select(t => t.GetProperty("trial").GetInt32()).Order());
        Assert.Equal(6 + 6, trials.Select(t => t.GetProperty("stream").GetString()).Distinct().Count());
        var learningRates = trials.Where(t => t.GetProperty("learner").GetString() == "lightgbm")
            .Select(t => t.GetProperty("parameters").GetProperty("learning_rate").GetDouble()).ToArray();
        // The tuner's second configuration moves the learning rate by a random step: written to full precision, not 3 decimals.
        Assert.Contains(learningRates, r => Math.Round(r, 3) != r);
    }

    [Fact]
    public void Predictions_cover_every_test_exam_label_and_learner()
    {
        var lines = File.ReadAllLines(small.Result.Folder.FileIn(RunFolder.PredictionsFile));
        Assert.Equal("exam_id,patient_id,split,label,model,subset,score,threshold,decision,truth", lines[0]);
        // Validation and test exams, 6 labels, 4 models (LightGBM, logistic regression, prior, ensemble).
        var validation = File.ReadAllLines(small.Result.Folder.FileIn(RunFolder.SplitFile)).Count(l => l.EndsWith(",validation"));
        Assert.Equal((small.Result.Metrics.TestExams + validation) * 6 * 4, lines.Length - 1);
    }

    [Fact]
    public void The_same_definition_and_seed_give_identical_metrics()
    {
        var again = small.Run();
        Assert.NotEqual(small.Result.Folder.Path, again.Folder.Path);
        Assert.Equal(File.ReadAllText(small.Result.Folder.FileIn(RunFolder.MetricsFile)), File.ReadAllText(again.Folder.FileIn(RunFolder.MetricsFile)));
        Assert.Equal(File.ReadAllText(small.Result.Folder.FileIn(RunFolder.PredictionsFile)), File.ReadAllText(again.Folder.FileIn(RunFolder.PredictionsFile)));
    }

    [Fact]
    public void LightGBM_beats_the_prior_baseline_on_every_label()
    {
        var code6 = small.Result.Metrics.Subsets.Single(s => s.Name == "code6");
        foreach (var label in code6.PerLabel)
        {
            var lightGbm = label.Models.Single(m => m.Learner == "lightgbm").Auroc;
            var prior = label.Models.Single(m => m.Learner == "prior").Auroc;
            Assert.Equal(0.5, prior.Value, 12);
            Assert.True(lightGbm.Lower > prior.Upper, $"{label.Label}: LightGBM {lightGbm} vs prior {prior}");
        }
    }

    [Fact]
    public void Each_subset_names_its_best_model_with_its_paired_lead_and_DeLongs_tests_corrected_by_Holm()
    {
        foreach (var subset in small.Result.Metrics.Subsets)
        {
            var summary = subset.Summary!;
            var ranked = subset.MacroAuroc.OrderByDescending(m => m.Value.Value).Select(m => m.Key).ToArray();
            Assert.Equal(ranked[0], summary.Best);
            var runnerUp = summary.VersusRunnerUp!;
            Assert.Equal(ranked.Skip(1).First(m => m != "prior"), runnerUp.Model);
            // On the full test set the paired difference is the difference of the two macro-AUROCs.
            Assert.Equal(subset.MacroAuroc[summary.Best].Value - subset.MacroAuroc[runnerUp.Model].Value, runnerUp.Difference.Value, 12);
            Assert.InRange(runnerUp.Difference.Value, runnerUp.Difference.Lower, runnerUp.Difference.Upper);
            Assert.Equal(subset.MacroAuroc[summary.Best].Value - 0.5, summary.VersusPrior!.Difference.Value, 9);
            Assert.Contains(runnerUp.Difference.Lower > 0 ? "is significant" : "is not significant", summary.Verdict);
            // One DeLong test per label and other model; its difference is the two AUROCs', and Holm never lowers a p-value.
            Assert.Equal(subset.Labels.Count * (subset.MacroAuroc.Count - 1), summary.DeLong.Count);
            foreach (var test in summary.DeLong)
            {
                var models = subset.PerLabel.Single(l => l.Label == test.Label).Models;
                Assert.Equal(models.Single(m => m.Learner == summary.Best).Auroc.Value - models.Single(m => m.Learner == test.Model).Auroc.Value, test.Difference, 9);
                Assert.True(test.AdjustedPValue >= test.PValue);
            }
            Assert.Equal("Holm–Bonferroni", summary.Correction);
        }
        var report = File.ReadAllText(small.Result.ReportPath);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(small.Result.Metrics.Subsets[0].Summary!.Verdict), report);
        Assert.Contains("Holm–Bonferroni-corrected", report);
    }

    [Fact]
    public void The_confusion_counts_at_each_threshold_are_the_decisions_predictions_csv_records()
    {
        var csv = CodeII.Experiments.Data.CsvTable.Read(small.Result.Folder.FileIn(RunFolder.PredictionsFile));
        int Col(string name) => csv.Column(name);
        var test = csv.Rows.Where(r => r[Col("split")] == "test").ToArray();
        foreach (var label in small.Result.Metrics.Subsets.SelectMany(s => s.PerLabel).DistinctBy(l => l.Label))
            foreach (var model in label.Models)
            {
                var rows = test.Where(r => r[Col("label")] == label.Label && r[Col("model")] == model.Learner && r[Col("subset")] == "").ToArray();
                int Count(string decision, string truth) => rows.Count(r => r[Col("decision")] == decision && r[Col("truth")] == truth);
                Assert.Equal(new CodeII.Experiments.Evaluation.ConfusionMatrix(Count("1", "1"), Count("1", "0"), Count("0", "0"), Count("0", "1")), model.Confusion);
                Assert.Equal(rows.Length, model.Calibration!.Bins.Sum(b => b.Exams));
            }
    }

    [Fact]
    public void The_priors_ROC_curve_is_the_diagonal_and_every_curve_is_drawn_with_straight_segments()
    {
        var html = File.ReadAllText(small.Result.ReportPath);
        var start = html.IndexOf("const codeiiCharts = ", StringComparison.Ordinal) + "const codeiiCharts = ".Length;
        var charts = JsonDocument.Parse(html[start..html.IndexOf(";\n", start, StringComparison.Ordinal)]).RootElement;
        var roc = charts.EnumerateArray().Where(c => c.GetProperty("id").GetString()!.StartsWith("roc-", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(roc);
        foreach (var chart in roc)
        {
            var traces = chart.GetProperty("data").EnumerateArray().ToArray();
            var prior = traces.Single(t => t.GetProperty("name").GetString() == "prior");
            // One score for every exam: the curve goes from (0, 0) straight to (1, 1).
            Assert.Equal([0.0, 1.0], prior.GetProperty("x").EnumerateArray().Select(v => v.GetDouble()));
            Assert.Equal([0.0, 1.0], prior.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
            Assert.All(traces.Where(t => t.TryGetProperty("line", out var line) && line.TryGetProperty("shape", out _)),
                t => Assert.Equal("linear", t.GetProperty("line").GetProperty("shape").GetString()));
        }
    }

    [Fact]
    public void The_heatmaps_colours_span_the_real_models_not_the_priors_half()
    {
        // By hand: AUROCs 0.955–0.998 round out to [0.95, 1.00]; the prior's 0.5 is left out.
        Assert.Equal((0.95, 1.0), CodeII.Experiments.Reports.HtmlReport.HeatmapRange([0.955, 0.998, 0.97]));
        Assert.Equal((0.5, 0.62), CodeII.Experiments.Reports.HtmlReport.HeatmapRange([0.41, 0.612]));
        Assert.Equal((0.5, 1.0), CodeII.Experiments.Reports.HtmlReport.HeatmapRange([]));
        var html = File.ReadAllText(small.Result.ReportPath);
        var start = html.IndexOf("const codeiiCharts = ", StringComparison.Ordinal) + "const codeiiCharts = ".Length;
        var charts = JsonDocument.Parse(html[start..html.IndexOf(";\n", start, StringComparison.Ordinal)]).RootElement;
        foreach (var (subset, heatmap) in small.Result.Metrics.Subsets.Zip(charts.EnumerateArray().Where(c => c.GetProperty("data")[0].GetProperty("type").GetString() == "heatmap")))
        {
            var real = subset.PerLabel.SelectMany(l => l.Models).Where(m => m.Learner != "prior").Select(m => m.Auroc.Value).ToArray();
            Assert.True(heatmap.GetProperty("data")[0].GetProperty("zmin").GetDouble() <= real.Min());
            Assert.True(heatmap.GetProperty("data")[0].GetProperty("zmin").GetDouble() > 0.5);
        }
    }
}

public class ExperimentCancellationTests
{
    sealed class CancelDuringSweep(CancellationTokenSource cts, int afterTrials = 2) : IProgress<StageProgress>
    {
        public void Report(StageProgress value)
        {
            if (value.Stage == "sweep" && value.Done >= afterTrials) cts.Cancel();
        }
    }

    [Fact]
    public void A_run_killed_midway_and_resumed_finishes_with_the_metrics_of_an_uninterrupted_run()
    {
        var definition = ExperimentDefinitionLoader.Parse(SmallExperiment.Yaml, "small.yaml");
        var uninterrupted = ExperimentRunner.Run(definition, SmallExperiment.Yaml, "small.yaml",
            new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory(), FeatureCacheDirectory = null });

        var root = RepoPaths.NewTemporaryDirectory();
        using var cts = new CancellationTokenSource();
        var interrupted = new RunOptions { RunsRoot = root, FeatureCacheDirectory = null, Progress = new CancelDuringSweep(cts, afterTrials: 7) };
        Assert.ThrowsAny<OperationCanceledException>(() => ExperimentRunner.Run(definition, SmallExperiment.Yaml, "small.yaml", interrupted, cts.Token));
        Assert.True(CodeII.Experiments.Sweep.Cancellable.WaitForAbandonedFits(TimeSpan.FromSeconds(60)));
        var folder = Directory.GetDirectories(Path.Combine(root, "small")).Single();
        var trialsFile = Path.Combine(folder, RunFolder.TrialsFile);
        var logged = File.ReadAllLines(trialsFile).Length;
        Assert.InRange(logged, 7, 23);
        // As if killed while writing a line: the torn tail is dropped on resume, and the trial trained again.
        File.AppendAllText(trialsFile, "{\"stream\":\"handcrafted|SB\",\"tri");

        var resumed = ExperimentRunner.Resume(folder, new RunOptions { RunsRoot = root, FeatureCacheDirectory = null });
        Assert.Equal(folder, resumed.Folder.Path);
        Assert.Equal(File.ReadAllText(uninterrupted.Folder.FileIn(RunFolder.MetricsFile)), File.ReadAllText(resumed.Folder.FileIn(RunFolder.MetricsFile)));
        Assert.Equal(File.ReadAllText(uninterrupted.Folder.FileIn(RunFolder.PredictionsFile)), File.ReadAllText(resumed.Folder.FileIn(RunFolder.PredictionsFile)));
        // The log holds every trial once: those replayed were not written again.
        var lines = File.ReadAllLines(trialsFile);
        Assert.Equal(File.ReadAllLines(uninterrupted.Folder.FileIn(RunFolder.TrialsFile)).Length, lines.Length);
        Assert.Equal(lines.Length, lines.Select(l => JsonDocument.Parse(l).RootElement).Select(t => (t.GetProperty("stream").GetString(), t.GetProperty("trial").GetInt32())).Distinct().Count());
        Assert.Equal("complete", resumed.Manifest.Status);
        Assert.Equal(1, resumed.Manifest.Resumes);
    }

    [Fact]
    public void A_cancelled_run_keeps_its_finished_trials_and_says_it_was_cancelled()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var definition = ExperimentDefinitionLoader.Parse(SmallExperiment.Yaml, "small.yaml");
        using var cts = new CancellationTokenSource();
        var options = new RunOptions { RunsRoot = root, MaxThreads = 1, Progress = new CancelDuringSweep(cts) };
        Assert.ThrowsAny<OperationCanceledException>(() => ExperimentRunner.Run(definition, SmallExperiment.Yaml, "small.yaml", options, cts.Token));
        Assert.True(CodeII.Experiments.Sweep.Cancellable.WaitForAbandonedFits(TimeSpan.FromSeconds(60)));

        var folder = Directory.GetDirectories(Path.Combine(root, "small")).Single();
        // No manifest (a run's summary is written when it finishes); the event log says the session was cancelled in the sweep.
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.ManifestFile)));
        var events = new RunEvents(RunFolder.Open(folder)).Read();
        Assert.Equal(RunEvent.Cancelled, events[^1].Event);
        Assert.Equal($"{RunEvent.StageStarted} sweep", $"{events[^2].Event} {events[^2].Stage}");
        var trials = File.ReadAllLines(Path.Combine(folder, RunFolder.TrialsFile));
        Assert.InRange(trials.Length, 2, 23);
        Assert.All(trials, line => JsonDocument.Parse(line).Dispose());
        Assert.False(File.Exists(Path.Combine(folder, RunFolder.ReportFile)));

        // A resume after a clean stop (no torn line) retrains none of them: each logged line is still there, byte for
        // byte (a retrained trial would be logged again with its new duration), and no trial is logged twice.
        ExperimentRunner.Resume(folder, new RunOptions { RunsRoot = root, MaxThreads = 1 });
        var after = File.ReadAllLines(Path.Combine(folder, RunFolder.TrialsFile));
        Assert.Equal(trials, after.Take(trials.Length));
        Assert.Equal(after.Length, after.Select(l => JsonDocument.Parse(l).RootElement).Select(t => (t.GetProperty("stream").GetString(), t.GetProperty("trial").GetInt32())).Distinct().Count());
    }
}

public class ProgressReportTests
{
    [Fact]
    public void Every_stage_reports_progress_that_never_exceeds_its_total_and_ends_complete()
    {
        var recorder = new ProgressRecorder();
        var definition = ExperimentDefinitionLoader.Parse(SmallExperiment.Yaml, "small.yaml");
        ExperimentRunner.Run(definition, SmallExperiment.Yaml, "small.yaml",
            new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory(), FeatureCacheDirectory = null, Progress = recorder });
        foreach (var stage in new[] { "features", "sweep", "evaluation" })
        {
            var reports = recorder.Reports.Where(r => r.Stage == stage).ToArray();
            Assert.NotEmpty(reports);
            Assert.All(reports, r => Assert.InRange(r.Done, 0, r.Total));
            Assert.Equal(reports[0].Total, reports.Max(r => r.Done));
        }
        // Evaluation moves in steps (labels × learners, then subsets × learners), not from 0 straight to done.
        Assert.True(recorder.Reports.Count(r => r.Stage == "evaluation") >= 6 * 3);
    }
}
