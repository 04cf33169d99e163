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
    /// <summary>The test exams at the validation-chosen threshold.</summary>
    public ConfusionMatrix? Confusion { get; init; }
    /// <summary>The Brier score and reliability diagram on the test exams.</summary>
    public Calibration? Calibration { get; init; }
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
    /// <summary>Which model leads, by how much, and whether the lead is significant.</summary>
    public SubsetSummary? Summary { get; init; }
    /// <summary>The ensemble against the single model that validation would have picked; null when the run has no ensemble.</summary>
    public EnsembleComparison? Ensemble { get; init; }
}

/// <summary>One label's test AUROC of the ensemble minus the best single model's, by paired patient bootstrap, and
/// DeLong's p-value for the same difference (uncorrected).</summary>
public sealed record LabelDifference(string Label, Estimate AurocDifference, double DeLongPValue);

/// <summary>
/// The ensemble against the best single model of a subset, chosen without the test exams: the model (the prior and the
/// ensemble aside) with the highest validation macro-AUROC, the mean of its labels' validation AUROCs. Differences are
/// the ensemble minus it on the same test patients' resamples (a paired bootstrap).
/// </summary>
public sealed record EnsembleComparison
{
    public string Ensemble { get; init; } = ExperimentEvaluator.EnsembleModel;
    public required string BestSingle { get; init; }
    public string ChosenBy { get; init; } = "validation macro-AUROC";
    public required double BestSingleValidationMacroAuroc { get; init; }
    /// <summary>The ensemble's own validation macro-AUROC: optimistic, as its members were selected on those exams.</summary>
    public required double EnsembleValidationMacroAuroc { get; init; }
    public required Estimate MacroAurocDifference { get; init; }
    public required IReadOnlyList<LabelDifference> PerLabel { get; init; }
}

/// <summary>The best model's macro-AUROC minus another's, by paired patient bootstrap on the same test patients.</summary>
public sealed record ModelComparison(string Model, Estimate Difference);

/// <summary>DeLong's test of the best model's AUROC against another's on one label, with the p-value corrected for
/// every comparison of the subset.</summary>
public sealed record LabelAurocTest(string Label, string Model, double Difference, double PValue, double AdjustedPValue);

/// <summary>
/// A subset's verdict: the best model by test macro-AUROC, its paired-bootstrap lead over the runner-up and over the
/// prior, DeLong's test of each label's AUROC against every other model (Holm-corrected across the subset's tests), and
/// one sentence that says whether the lead is significant.
/// </summary>
public sealed record SubsetSummary
{
    public required string Best { get; init; }
    public ModelComparison? VersusRunnerUp { get; init; }
    public ModelComparison? VersusPrior { get; init; }
    public required IReadOnlyList<LabelAurocTest> DeLong { get; init; }
    public string Correction { get; init; } = Holm.Name;
    public required string Verdict { get; init; }
}

public sealed record ExperimentMetrics
{
    public required int TestExams { get; init; }
    public required int TestPatients { get; init; }
    public required int BootstrapReplicates { get; init; }
    public required double Confidence { get; init; }
    [JsonPropertyName("bootstrap_unit")] public string BootstrapUnit => "patient";
    public required IReadOnlyList<SubsetMetrics> Subsets { get; init; }
    /// <summary>Metrics as published benchmarks define them, where the data are one of theirs.</summary>
    public IReadOnlyList<BenchmarkMetric>? Benchmarks { get; init; }
}

/// <summary>Each label subset's verdict: the leader, its paired lead, DeLong's tests.</summary>
public static partial class ExperimentEvaluator
{
    /// <summary>The trivial baseline every run compares with: the training prevalence as every exam's score.</summary>
    public const string PriorModel = "prior";

    /// <summary>The rank average of a label's selected models (every feature set and learner, the prior aside).</summary>
    public const string EnsembleModel = "ensemble";

    /// <summary>A subset's model for a label: the one configured for that subset when the subset shared a configuration,
    /// otherwise the label's own model, which serves every subset.</summary>
    public static ModelPredictions ModelFor(IReadOnlyList<ModelPredictions> predictions, string subset, string label, string model) =>
        predictions.FirstOrDefault(s => s.Subset == subset && s.Label == label && s.Model == model)
        ?? predictions.First(s => s.Subset is null && s.Label == label && s.Model == model);

    /// <summary>The subset's verdict (<see cref="SubsetSummary"/>); null when no model has a macro-AUROC.</summary>
    static SubsetSummary? Summarise(LabelSubset subset, IReadOnlyDictionary<string, Estimate> macroAuroc, PatientBootstrap bootstrap, int n,
        Func<string, int[], double> macro, Func<string, string, float[]> scores, IReadOnlyDictionary<string, bool[]> truth, double confidence)
    {
        var ranked = macroAuroc.Where(m => double.IsFinite(m.Value.Value)).OrderByDescending(m => m.Value.Value).ThenBy(m => m.Key, StringComparer.Ordinal).Select(m => m.Key).ToArray();
        if (ranked.Length == 0) return null;
        var best = ranked[0];
        ModelComparison? Versus(string? other) => other is null ? null
            : new ModelComparison(other, bootstrap.Estimate(n, idx => macro(best, idx) - macro(other, idx)));
        var runnerUp = Versus(ranked.Skip(1).FirstOrDefault(m => m != PriorModel));
        var prior = Versus(ranked.Contains(PriorModel) && best != PriorModel ? PriorModel : null);
        var tests = (from label in subset.Labels
                     from other in ranked.Skip(1)
                     let c = DeLong.Compare(scores(label, best), scores(label, other), truth[label])
                     select (label, other, c)).ToArray();
        var adjusted = Holm.Adjust([.. tests.Select(t => t.c.PValue)]);
        var lead = runnerUp?.Difference;
        var percent = confidence.ToString("P0", System.Globalization.CultureInfo.InvariantCulture);
        var verdict = runnerUp is null || lead is null ? $"{best} is the only model with a macro-AUROC."
            : double.IsNaN(lead.Lower) ? $"{best} has the best test macro-AUROC; its lead over {runnerUp.Model} has no interval."
            : lead.Lower > 0 ? $"{best} has the best test macro-AUROC, and its lead over {runnerUp.Model}, {Signed(lead.Value)} ({percent} CI {Signed(lead.Lower)} to {Signed(lead.Upper)}), is significant: the interval excludes 0."
            : $"{best} has the best test macro-AUROC, but its lead over {runnerUp.Model}, {Signed(lead.Value)} ({percent} CI {Signed(lead.Lower)} to {Signed(lead.Upper)}), is not significant: the interval includes 0.";
        return new SubsetSummary
        {
            Best = best, VersusRunnerUp = runnerUp, VersusPrior = prior, Verdict = verdict,
            DeLong = [.. tests.Select((t, i) => new LabelAurocTest(t.label, t.other, t.c.Difference, t.c.PValue, adjusted[i]))],
        };
    }

    /// <summary>The ensemble minus the subset's best single model by validation macro-AUROC (<see cref="EnsembleComparison"/>);
    /// null when the subset has no ensemble or no other model but the prior.</summary>
    static EnsembleComparison? CompareEnsemble(LabelSubset subset, IReadOnlyList<string> learners, Func<string, string, ModelPredictions> model,
        PatientBootstrap bootstrap, int n, Func<string, int[], double> macro, IReadOnlyDictionary<string, bool[]> truth)
    {
        if (!learners.Contains(EnsembleModel)) return null;
        double ValidationMacro(string learner)
        {
            var defined = subset.Labels.Select(l => model(l, learner).ValidationAuroc).Where(v => !double.IsNaN(v)).ToArray();
            return defined.Length == 0 ? double.NaN : defined.Average();
        }
        var singles = learners.Where(l => l is not (PriorModel or EnsembleModel)).Select(l => (Learner: l, Validation: ValidationMacro(l)))
            .OrderByDescending(x => double.IsNaN(x.Validation) ? double.NegativeInfinity : x.Validation).ThenBy(x => x.Learner, StringComparer.Ordinal).ToArray();
        if (singles.Length == 0) return null;
        var best = singles[0];
        return new EnsembleComparison
        {
            BestSingle = best.Learner,
            BestSingleValidationMacroAuroc = best.Validation,
            EnsembleValidationMacroAuroc = ValidationMacro(EnsembleModel),
            MacroAurocDifference = bootstrap.Estimate(n, idx => macro(EnsembleModel, idx) - macro(best.Learner, idx)),
            PerLabel = [.. subset.Labels.Select(label =>
            {
                var (ensemble, single, y) = (model(label, EnsembleModel).TestScores, model(label, best.Learner).TestScores, truth[label]);
                return new LabelDifference(label,
                    bootstrap.Estimate(n, idx => OnExams(ensemble, y, idx, BinaryMetrics.Auroc) - OnExams(single, y, idx, BinaryMetrics.Auroc)),
                    DeLong.Compare(ensemble, single, y).PValue);
            })],
        };
    }

    static string Signed(double v) => (v >= 0 ? "+" : "−") + Math.Abs(v).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>Scores each selected model on the test exams with patient-bootstrap intervals.</summary>
public static partial class ExperimentEvaluator
{
    delegate double LabelMetric(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth);

    /// <summary>A metric of the given exams (a bootstrap resample, or all), their scores and truth gathered into
    /// buffers from the shared pool rather than new arrays for each of the thousands of resamples.</summary>
    static double OnExams(float[] scores, bool[] truth, int[] exams, LabelMetric metric)
    {
        var pickedScores = System.Buffers.ArrayPool<float>.Shared.Rent(exams.Length);
        var pickedTruth = System.Buffers.ArrayPool<bool>.Shared.Rent(exams.Length);
        try
        {
            for (var k = 0; k < exams.Length; k++) (pickedScores[k], pickedTruth[k]) = (scores[exams[k]], truth[exams[k]]);
            return metric(pickedScores.AsSpan(0, exams.Length), pickedTruth.AsSpan(0, exams.Length));
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(pickedScores);
            System.Buffers.ArrayPool<bool>.Shared.Return(pickedTruth);
        }
    }

    public static ExperimentMetrics Evaluate(IReadOnlyList<ModelPredictions> predictions, IReadOnlyList<LabelSubset> subsets, IReadOnlyList<string> learners,
        IReadOnlyList<string> testPatients, Func<string, bool[]> testTruthOf, int replicates, double confidence, int seed,
        IProgress<StageProgress>? progress = null)
    {
        var bootstrap = new PatientBootstrap(testPatients, replicates, seed, confidence);
        var n = testPatients.Count;
        var truth = predictions.Select(s => s.Label).Distinct().ToDictionary(l => l, testTruthOf);
        ModelPredictions Model(string subset, string label, string learner) => ModelFor(predictions, subset, label, learner);


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
                        Auroc = bootstrap.Estimate(n, idx => OnExams(model.TestScores, y, idx, BinaryMetrics.Auroc)),
                        Auprc = bootstrap.Estimate(n, idx => OnExams(model.TestScores, y, idx, BinaryMetrics.AveragePrecision)),
                        F1 = bootstrap.Estimate(n, idx => OnExams(model.TestScores, y, idx, (s, t) => BinaryMetrics.F1(s, t, model.Threshold))),
                        Threshold = model.Threshold,
                        Confusion = ConfusionMatrix.At(model.TestScores, y, model.Threshold),
                        Calibration = Calibration.Of(model.TestScores, y),
                        ValidationAuroc = model.ValidationAuroc,
                        Trial = model.Trial,
                        Parameters = model.Parameters,
                    };
                    Step();
                    return metrics;
                }).ToArray(),
            };
        }

        double Macro(LabelSubset subset, string learner, int[] idx)
        {
            var aurocs = subset.Labels.Select(l => OnExams(Model(subset.Name, l, learner).TestScores, truth[l], idx, BinaryMetrics.Auroc)).ToArray();
            return aurocs.Any(double.IsNaN) ? double.NaN : aurocs.Average();
        }
        var subsetMetrics = subsets.Select(subset =>
        {
            var macroAuroc = learners.ToDictionary(learner => learner, learner =>
            {
                var macro = bootstrap.Estimate(n, idx => Macro(subset, learner, idx));
                Step();
                return macro;
            });
            return new SubsetMetrics
            {
                Name = subset.Name,
                Labels = subset.Labels,
                PerLabel = subset.Labels.Select(l => LabelMetricsOf(subset.Name, l)).ToArray(),
                MacroAuroc = macroAuroc,
                Summary = Summarise(subset, macroAuroc, bootstrap, n, (learner, idx) => Macro(subset, learner, idx),
                    (label, learner) => Model(subset.Name, label, learner).TestScores, truth, confidence),
                Ensemble = CompareEnsemble(subset, learners, (label, learner) => Model(subset.Name, label, learner), bootstrap, n,
                    (learner, idx) => Macro(subset, learner, idx), truth),
            };
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
