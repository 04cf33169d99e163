namespace CodeII.Experiments.Evaluation;

/// <summary>
/// A metric as a published benchmark reports it, so a run's numbers can sit beside the paper's table: PTB-XL's
/// macro-AUROC over a task's labels (Strodthoff et al. 2020), the Challenge 2020–21 score, CODE's per-class F1
/// (Ribeiro et al. 2020). Each model's value has its patient-bootstrap interval; per-class values where the paper gives them.
/// </summary>
public sealed record BenchmarkMetric
{
    public required string Name { get; init; }
    /// <summary>The publication whose table the metric matches.</summary>
    public required string Reference { get; init; }
    public required string Subset { get; init; }
    /// <summary>How the value is computed here, and where it departs from the publication.</summary>
    public required string Description { get; init; }
    public required IReadOnlyDictionary<string, Estimate> Models { get; init; }
    /// <summary>Model → class → value, for benchmarks published per class.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, Estimate>>? PerClass { get; init; }
}

public static class Benchmarks
{
    /// <summary>PTB-XL's benchmark metric for a subset: the macro-AUROC its metrics already hold, named after the task.</summary>
    /// <param name="recommendedSplit">whether the run tested on PTB-XL's recommended test fold, as the paper did</param>
    public static BenchmarkMetric PtbXlMacroAuroc(SubsetMetrics subset, string task, int taskLabels, bool recommendedSplit) => new()
    {
        Name = $"PTB-XL {task}: macro-AUROC",
        Reference = "Strodthoff, Wagner, Schaeffter and Samek 2020, Deep learning for ECG analysis: benchmarks and insights from PTB-XL",
        Subset = subset.Name,
        Description = $"macro-AUROC over the subset's {subset.Labels.Count} labels "
            + (subset.Labels.Count == taskLabels ? "(every label of the task, as in the paper)" : $"(the paper averages over all {taskLabels} labels of the task: comparable only when a subset holds them all)")
            + (recommendedSplit ? " on the recommended test fold (strat_fold 10), as in the paper" : " on this run's test patients (the paper tests on the recommended fold 10: splits: { kind: predefined })"),
        Models = subset.MacroAuroc,
    };

    /// <summary>CODE's benchmark: each class's F1 at the threshold chosen on validation, per model.</summary>
    public static BenchmarkMetric CodeF1(SubsetMetrics subset) => new()
    {
        Name = "CODE: F1 per class",
        Reference = "Ribeiro et al. 2020, Automatic diagnosis of the 12-lead ECG using a deep neural network, Nature Communications 11:1760",
        Subset = subset.Name,
        Description = "F1 of each class on the test exams at the threshold that maximised F1 on validation; the paper's Table 2 gives F1 per class on its 827-exam test set annotated by cardiologists (its thresholds maximised F1 on its validation set)",
        Models = subset.MacroAuroc.Keys.ToDictionary(m => m, m =>
        {
            var f1 = subset.PerLabel.Select(l => l.Models.First(x => x.Learner == m).F1.Value).ToArray();
            return new Estimate(f1.Any(double.IsNaN) ? double.NaN : f1.Average(), double.NaN, double.NaN);
        }),
        PerClass = subset.MacroAuroc.Keys.ToDictionary(m => m, m => (IReadOnlyDictionary<string, Estimate>)subset.PerLabel.ToDictionary(l => l.Label, l => l.Models.First(x => x.Learner == m).F1)),
    };

    /// <summary>
    /// The Challenge score of each model over a subset's labels, from its decisions at the validation-chosen thresholds,
    /// with a patient-bootstrap interval. With the Challenge's weights and sinus rhythm among the labels it is the
    /// official score; otherwise the identity-weighted score normalised against predicting no class.
    /// </summary>
    public static BenchmarkMetric ChallengeScore(LabelSubsetScores subset, IReadOnlyList<string> testPatients, double[,]? weights, int? sinusRhythm,
        int replicates, double confidence, int seed)
    {
        var bootstrap = new PatientBootstrap(testPatients, replicates, seed, confidence);
        var n = testPatients.Count;
        var official = weights is not null && sinusRhythm is not null;
        double Score(string model, int[] idx)
        {
            var decisions = subset.Decisions[model];
            var truth = idx.Select(i => subset.Truth[i]).ToArray();
            var predicted = idx.Select(i => decisions[i]).ToArray();
            return official ? OfficialChallengeScore.Compute(truth, predicted, weights!, sinusRhythm!.Value) : Evaluation.ChallengeScore.Normalised(truth, predicted);
        }
        return new BenchmarkMetric
        {
            Name = "PhysioNet/CinC Challenge 2020–21 score",
            Reference = "Perez Alday et al. 2020 and Reyna et al. 2021, Classification of 12-lead ECGs: the PhysioNet/Computing in Cardiology Challenge",
            Subset = subset.Name,
            Description = official
                ? $"the official score (evaluate_model.py): weights.csv's weights over the subset's {subset.Labels.Count} classes, decisions at the validation-chosen thresholds, normalised against predicting sinus rhythm alone; comparable with the published tables when the subset holds all 26 scored classes"
                : $"over the subset's {subset.Labels.Count} classes with identity weights, normalised against predicting no class: {(weights is null ? "the Challenge's weights.csv was not found beside the data or lacks one of the classes" : "sinus rhythm is not among the classes")}, so this is not the published score",
            Models = subset.Decisions.Keys.ToDictionary(m => m, m => bootstrap.Estimate(n, idx => Score(m, idx))),
        };
    }
}

/// <summary>A subset's test truth and each model's decisions (at its validation-chosen thresholds), exam by exam.</summary>
public sealed record LabelSubsetScores(string Name, IReadOnlyList<string> Labels, bool[][] Truth, IReadOnlyDictionary<string, bool[][]> Decisions);
