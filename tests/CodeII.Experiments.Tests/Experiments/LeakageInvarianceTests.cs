using System.Text.Json;
using System.Text.Json.Nodes;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// What the test exams' labels are must not change anything chosen before evaluation: the same run on data whose
/// test exams have every label flipped (on the same split) gives the same trials, the same selected configurations,
/// thresholds and validation scores, and the same test scores; only the test metrics differ.
/// </summary>
public partial class ExperimentRunnerTests
{
    /// <summary>The inner source with every one of <paramref name="labels"/> flipped on the exams in <paramref name="flipped"/>.</summary>
    sealed class FlippedLabels(IEcgSource inner, IReadOnlySet<string> flipped, IReadOnlyList<string> labels) : IEcgSource
    {
        public string Name => inner.Name;
        public int Count => inner.Count;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public bool HasPatientIds => inner.HasPatientIds;
        // Its own description, so no cache could serve the unaltered data's features (or these to the unaltered data).
        public string Describe() => inner.Describe() + " test-labels-flipped";
        public string ExamIdAt(int index) => inner.ExamIdAt(index);
        public EcgRecord Read(int index)
        {
            var r = inner.Read(index);
            if (!flipped.Contains(r.ExamId)) return r;
            return new EcgRecord
            {
                ExamId = r.ExamId, PatientId = r.PatientId, Age = r.Age, Sex = r.Sex, SamplingRateHz = r.SamplingRateHz, Leads = r.Leads,
                Signals = r.Signals, RecordedSamples = r.RecordedSamples, Warnings = r.Warnings, StartSeconds = r.StartSeconds,
                Labels = labels.Where(l => !r.Labels.Contains(l)).Concat(r.Labels.Where(l => !labels.Contains(l))).ToHashSet(),
            };
        }
    }

    [Fact]
    public void Flipping_the_test_exams_labels_changes_no_trial_threshold_selection_or_validation_score()
    {
        var original = small.Result.Folder;
        var split = CsvTable.Read(original.FileIn(RunFolder.SplitFile));
        var testExams = split.Rows.Where(r => r[split.Column("split")] == "test").Select(r => r[split.Column("exam_id")]).ToHashSet();
        Assert.True(testExams.Count > 100);
        var labels = small.Definition.AllLabels;
        var source = new FlippedLabels(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 700, Seed = 5 }), testExams, labels);
        // The flipped labels would draw another stratified split; the run is given the original's, as a resumed run
        // would read it back, so both runs have the same exams in each part.
        var flipped = ExperimentRunner.Run(small.Definition, SmallExperiment.Yaml, "small.yaml", source, new RunOptions
        {
            RunsRoot = RepoPaths.NewTemporaryDirectory(), FeatureCacheDirectory = null,
            RunFolderReady = folder => File.Copy(original.FileIn(RunFolder.SplitFile), folder.FileIn(RunFolder.SplitFile)),
        }).Folder;

        // Trials: everything but how long each took and how much memory it used.
        static string[] Trials(RunFolder folder) => [.. File.ReadAllLines(folder.FileIn(RunFolder.TrialsFile)).Select(line =>
        {
            var trial = JsonNode.Parse(line)!.AsObject();
            foreach (var measured in new[] { "duration_seconds", "allocated_mb", "peak_rss_mb" }) Assert.True(trial.Remove(measured), $"no {measured} in {line}");
            return trial.ToJsonString();
        }).Order(StringComparer.Ordinal)];
        Assert.Equal(Trials(original), Trials(flipped));

        // Selection: each model's trial, configuration, threshold and validation AUROC; and the test truth did flip.
        var before = JsonConventions.ReadFile<ExperimentMetrics>(original.FileIn(RunFolder.MetricsFile));
        var after = JsonConventions.ReadFile<ExperimentMetrics>(flipped.FileIn(RunFolder.MetricsFile));
        static IEnumerable<string> Chosen(ExperimentMetrics m) => m.Subsets.SelectMany(s => s.PerLabel.SelectMany(l => l.Models.Select(model =>
            $"{s.Name} {l.Label} {model.Learner} trial {model.Trial} threshold {model.Threshold:R} validation {model.ValidationAuroc:R} " +
            string.Join(",", model.Parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value:R}")))));
        Assert.Equal(Chosen(before), Chosen(after));
        Assert.Equal(before.Subsets.SelectMany(s => s.PerLabel).Select(l => l.TestExams - l.TestPositives),
            after.Subsets.SelectMany(s => s.PerLabel).Select(l => l.TestPositives));

        // Predictions: validation rows identical; test rows with the same scores, thresholds and decisions, truth flipped.
        var p0 = CsvTable.Read(original.FileIn(RunFolder.PredictionsFile));
        var p1 = CsvTable.Read(flipped.FileIn(RunFolder.PredictionsFile));
        Assert.Equal(p0.Rows.Count, p1.Rows.Count);
        var (partColumn, truthColumn) = (p0.Column("split"), p0.Column("truth"));
        for (var i = 0; i < p0.Rows.Count; i++)
        {
            var (a, b) = (p0.Rows[i], p1.Rows[i]);
            if (a[partColumn] == "validation") Assert.Equal(a, b);
            else Assert.Equal(a.Select((v, c) => c == truthColumn ? (v == "1" ? "0" : "1") : v), b);
        }
    }

    [Fact]
    public void Each_threshold_is_the_best_F1_threshold_of_its_validation_scores()
    {
        var csv = CsvTable.Read(small.Result.Folder.FileIn(RunFolder.PredictionsFile));
        int Col(string name) => csv.Column(name);
        var checkedModels = 0;
        foreach (var model in csv.Rows.Where(r => r[Col("split")] == "validation").GroupBy(r => (r[Col("label")], r[Col("model")], r[Col("subset")])))
        {
            var scores = model.Select(r => double.Parse(r[Col("score")], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var truth = model.Select(r => r[Col("truth")] == "1").ToArray();
            var threshold = double.Parse(model.First()[Col("threshold")], System.Globalization.CultureInfo.InvariantCulture);
            if (!truth.Any(t => t)) continue;
            // F1 at each observed score, counted in the test; the chosen threshold is one of them and reaches the best F1.
            double F1At(double t) => Tests.Evaluation.MetricDefinitionTests.F1ByCountingAt(scores, truth, t);
            var best = scores.Distinct().Max(F1At);
            Assert.Contains(threshold, scores);
            Assert.Equal(best, F1At(threshold), 12);
            checkedModels++;
        }
        Assert.True(checkedModels >= 12, $"only {checkedModels} models had validation positives");
    }
}
