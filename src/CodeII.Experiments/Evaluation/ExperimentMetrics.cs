using System.Text.Json.Serialization;
using CodeII.Experiments.Labels;

namespace CodeII.Experiments.Evaluation;

public sealed record ModelMetrics
{
    public required string Learner { get; init; }
    public required Estimate Auroc { get; init; }
    public required Estimate Auprc { get; init; }
    /// <summary>F1 on test at the threshold that maximised F1 on validation.</summary>
    public required Estimate F1 { get; init; }
    public required double Threshold { get; init; }
    public required double ValidationAuroc { get; init; }
    public required int Trial { get; init; }
    public required IReadOnlyDictionary<string, double> Parameters { get; init; }
}

/// <summary>One model's test scores for one label, with the threshold and the selection facts chosen on validation:
/// what evaluation reads (from the run folder's predictions and model bundles), never the sweep's own objects.</summary>
public sealed record ModelPredictions
{
    public required string Label { get; init; }
    /// <summary>The model's name in reports, e.g. <c>handcrafted/lightgbm</c>.</summary>
    public required string Model { get; init; }
    /// <summary>Set when the configuration was shared across this subset's labels; the model then applies to it alone.</summary>
    public string? Subset { get; init; }
    public required double Threshold { get; init; }
    /// <summary>One score per test exam, in the order of the test exams given to the evaluator.</summary>
    public required float[] TestScores { get; init; }
    public required double ValidationAuroc { get; init; }
    public required int Trial { get; init; }
    public required IReadOnlyDictionary<string, double> Parameters { get; init; }
}

public sealed record LabelMetrics
{
    public required string Label { get; init; }
    public required int TestExams { get; init; }
    public required int TestPositives { get; init; }
    public double Prevalence => TestExams == 0 ? double.NaN : (double)TestPositives / TestExams;
    public required IReadOnlyList<ModelMetrics> Models { get; init; }
}

public sealed record SubsetMetrics
{
    public required string Name { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>Macro-averaged AUROC per learner, bootstrapped as a whole so its interval is honest.</summary>
    public required IReadOnlyDictionary<string, Estimate> MacroAuroc { get; init; }
    public required IReadOnlyList<LabelMetrics> PerLabel { get; init; }
}

public sealed record ExperimentMetrics
{
    public required int TestExams { get; init; }
    public required int TestPatients { get; init; }
    public required int BootstrapReplicates { get; init; }
    public required double Confidence { get; init; }
    [JsonPropertyName("bootstrap_unit")] public string BootstrapUnit => "patient";
    public required IReadOnlyList<SubsetMetrics> Subsets { get; init; }
}

/// <summary>Scores each selected model on the test exams with patient-bootstrap intervals.</summary>
public static class ExperimentEvaluator
{
    public static ExperimentMetrics Evaluate(IReadOnlyList<ModelPredictions> predictions, IReadOnlyList<LabelSubset> subsets, IReadOnlyList<string> learners,
        IReadOnlyList<string> testPatients, Func<string, bool[]> testTruthOf, int replicates, double confidence, int seed,
        IProgress<StageProgress>? progress = null)
    {
        var bootstrap = new PatientBootstrap(testPatients, replicates, seed, confidence);
        var n = testPatients.Count;
        var truth = predictions.Select(s => s.Label).Distinct().ToDictionary(l => l, testTruthOf);
        // A model shared within a subset applies to that subset; otherwise a label's model serves every subset.
        ModelPredictions Model(string subset, string label, string learner) =>
            predictions.FirstOrDefault(s => s.Subset == subset && s.Label == label && s.Model == learner)
            ?? predictions.First(s => s.Subset is null && s.Label == label && s.Model == learner);

        static (float[] Scores, bool[] Truth) Take(float[] scores, bool[] truth, int[] indices) =>
            (indices.Select(i => scores[i]).ToArray(), indices.Select(i => truth[i]).ToArray());

        // One step per label and learner, then one per subset and learner for the macro averages.
        string LabelKey(string subset, string label) =>
            learners.Any(learner => Model(subset, label, learner).Subset is not null) ? $"{subset}/{label}" : label;
        var steps = subsets.SelectMany(s => s.Labels.Select(l => LabelKey(s.Name, l))).Distinct().Count() * learners.Count + subsets.Count * learners.Count;
        var done = 0;
        void Step() => progress?.Report(new StageProgress("evaluation", ++done, steps));
        // By label; by subset and label where the subset shared configurations across its labels.
        var perLabel = new Dictionary<string, LabelMetrics>();
        LabelMetrics LabelMetricsOf(string subset, string label)
        {
            var models = learners.Select(learner => Model(subset, label, learner)).ToArray();
            var key = LabelKey(subset, label);
            if (perLabel.TryGetValue(key, out var known)) return known;
            var y = truth[label];
            return perLabel[key] = new LabelMetrics
            {
                Label = label,
                TestExams = n,
                TestPositives = y.Count(v => v),
                Models = models.Select(model =>
                {
                    var metrics = new ModelMetrics
                    {
                        Learner = model.Model,
                        Auroc = bootstrap.Estimate(n, idx => { var (s, t) = Take(model.TestScores, y, idx); return BinaryMetrics.Auroc(s, t); }),
                        Auprc = bootstrap.Estimate(n, idx => { var (s, t) = Take(model.TestScores, y, idx); return BinaryMetrics.AveragePrecision(s, t); }),
                        F1 = bootstrap.Estimate(n, idx => { var (s, t) = Take(model.TestScores, y, idx); return BinaryMetrics.F1(s, t, model.Threshold); }),
                        Threshold = model.Threshold,
                        ValidationAuroc = model.ValidationAuroc,
                        Trial = model.Trial,
                        Parameters = model.Parameters,
                    };
                    Step();
                    return metrics;
                }).ToArray(),
            };
        }

        var subsetMetrics = subsets.Select(subset => new SubsetMetrics
        {
            Name = subset.Name,
            Labels = subset.Labels,
            PerLabel = subset.Labels.Select(l => LabelMetricsOf(subset.Name, l)).ToArray(),
            MacroAuroc = learners.ToDictionary(learner => learner, learner =>
            {
                var macro = bootstrap.Estimate(n, idx =>
                {
                    var aurocs = subset.Labels.Select(l => { var (s, t) = Take(Model(subset.Name, l, learner).TestScores, truth[l], idx); return BinaryMetrics.Auroc(s, t); }).ToArray();
                    return aurocs.Any(double.IsNaN) ? double.NaN : aurocs.Average();
                });
                Step();
                return macro;
            }),
        }).ToArray();

        return new ExperimentMetrics
        {
            TestExams = n,
            TestPatients = testPatients.Distinct().Count(),
            BootstrapReplicates = replicates,
            Confidence = confidence,
            Subsets = subsetMetrics,
        };
    }
}
