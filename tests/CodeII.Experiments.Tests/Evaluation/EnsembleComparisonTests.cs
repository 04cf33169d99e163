using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Labels;

namespace CodeII.Experiments.Tests.Evaluation;

public class EnsembleComparisonTests
{
    const int Replicates = 300, Seed = 11;
    static readonly string[] Labels = ["L1", "L2"];
    static readonly string[] Exams = [.. Enumerable.Range(0, 150).Select(i => $"e{i}")];
    // Three exams per patient for some, one for others: resamples must keep a patient's exams together.
    static readonly string[] Patients = [.. Exams.Select((_, i) => i < 90 ? $"p{i / 3}" : $"q{i}")];
    static readonly Dictionary<string, bool[]> Truth = new()
    {
        ["L1"] = [.. Exams.Select((_, i) => i % 3 == 0)],
        ["L2"] = [.. Exams.Select((_, i) => i % 5 < 2)],
    };

    static float[] Scores(string label, int seed, double signal)
    {
        var rng = new Random(seed);
        return [.. Truth[label].Select(t => (float)(rng.NextDouble() + (t ? signal : 0)))];
    }

    static ModelPredictions Model(string model, string label, float[] scores, double validationAuroc) => new()
    {
        Label = label, Model = model, Threshold = 0.5, TestScores = scores, ValidationAuroc = validationAuroc, Trial = 0,
        Parameters = new Dictionary<string, double>(),
    };

    /// <summary>"a" is the better model on test, "b" on validation; the ensemble is scored on its own.</summary>
    static readonly ModelPredictions[] Predictions =
    [
        Model("a", "L1", Scores("L1", 1, 0.9), 0.70), Model("a", "L2", Scores("L2", 2, 0.9), 0.72),
        Model("b", "L1", Scores("L1", 3, 0.3), 0.80), Model("b", "L2", Scores("L2", 4, 0.3), 0.78),
        Model("prior", "L1", [.. Exams.Select(_ => 0.3f)], 0.5), Model("prior", "L2", [.. Exams.Select(_ => 0.4f)], 0.5),
        // The ensemble's own validation AUROC is the highest: it must not make it its own "best single".
        Model("ensemble", "L1", Scores("L1", 5, 0.6), 0.95), Model("ensemble", "L2", Scores("L2", 6, 0.6), 0.95),
    ];

    static ExperimentMetrics Evaluate(string[] models) => ExperimentEvaluator.Evaluate(Predictions.Where(p => models.Contains(p.Model)).ToArray(),
        [new LabelSubset("s", Labels)], models, Patients, label => Truth[label], Replicates, 0.95, Seed);

    /// <summary>AUROC as the share of positive–negative pairs ordered correctly, ties counting half.</summary>
    static double PairAuroc(float[] scores, bool[] truth)
    {
        double pairs = 0, correct = 0;
        for (var i = 0; i < scores.Length; i++)
            if (truth[i])
                for (var j = 0; j < scores.Length; j++)
                    if (!truth[j]) { pairs++; correct += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0; }
        return correct / pairs;
    }

    [Fact]
    public void The_best_single_model_is_the_one_validation_picks_and_the_difference_is_paired_on_the_same_patients()
    {
        var subset = Evaluate(["a", "b", "prior", "ensemble"]).Subsets[0];
        var comparison = subset.Ensemble!;
        // b leads on validation (0.79 against 0.71) though a leads on test.
        Assert.True(subset.MacroAuroc["a"].Value > subset.MacroAuroc["b"].Value);
        Assert.Equal("b", comparison.BestSingle);
        Assert.Equal("validation macro-AUROC", comparison.ChosenBy);
        Assert.Equal((0.80 + 0.78) / 2, comparison.BestSingleValidationMacroAuroc, 12);
        Assert.Equal(0.95, comparison.EnsembleValidationMacroAuroc, 12);

        float[] Of(string model, string label) => Predictions.Single(p => p.Model == model && p.Label == label).TestScores;
        // The point values by brute force.
        foreach (var label in Labels)
        {
            var difference = comparison.PerLabel.Single(l => l.Label == label).AurocDifference;
            Assert.Equal(PairAuroc(Of("ensemble", label), Truth[label]) - PairAuroc(Of("b", label), Truth[label]), difference.Value, 12);
            Assert.True(difference.Lower <= difference.Value && difference.Value <= difference.Upper);
        }
        var macro = Labels.Average(l => PairAuroc(Of("ensemble", l), Truth[l])) - Labels.Average(l => PairAuroc(Of("b", l), Truth[l]));
        Assert.Equal(macro, comparison.MacroAurocDifference.Value, 12);

        // The interval as codeii compare computes a paired difference: two runs of the same test exams, one holding the
        // ensemble's scores and one the best single model's under the same name.
        ComparedRun Run(string name, string model) => new()
        {
            Name = name, Folder = $"/runs/{name}", SplitFingerprint = "same", TestExams = Exams, TestPatients = Patients,
            TestLabels = [.. Exams.Select((_, i) => (IReadOnlySet<string>)Labels.Where(l => Truth[l][i]).ToHashSet())],
            Scores = Labels.ToDictionary(l => ("m", l), l => Of(model, l)),
            Versions = new Dictionary<string, string>(), Definition = new Dictionary<string, string>(),
        };
        var compared = RunComparer.Compare([Run("single", "b"), Run("ensemble", "ensemble")], Replicates, 0.95, Seed);
        Assert.True(compared.Paired);
        var expected = compared.Differences.Single(d => d.Model == "m" && d.VersusModel == "m").Difference;
        Assert.Equal(expected.Value, comparison.MacroAurocDifference.Value, 12);
        Assert.Equal(expected.Lower, comparison.MacroAurocDifference.Lower, 12);
        Assert.Equal(expected.Upper, comparison.MacroAurocDifference.Upper, 12);
    }

    [Fact]
    public void A_run_without_an_ensemble_has_no_comparison()
    {
        Assert.Null(Evaluate(["a", "b", "prior"]).Subsets[0].Ensemble);
        // With only the prior beside it, there is no single model to compare with.
        Assert.Null(Evaluate(["prior", "ensemble"]).Subsets[0].Ensemble);
    }
}
