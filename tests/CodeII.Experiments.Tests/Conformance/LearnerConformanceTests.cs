using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Models;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Sweep.Tuning;
using CodeII.Experiments.Tests.Sweep;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;

namespace CodeII.Experiments.Tests.Conformance;

/// <summary>
/// The learner half of our <c>check_estimator</c>: every learner in <see cref="BinaryLearnerCatalog.Names"/>, the prior
/// included, passes the same checks, on the path the sweep fits (<see cref="SweepPath"/>, which the first check proves
/// is the sweep's own). Adding a learner to the catalogue adds it here.
/// </summary>
public class LearnerConformanceTests
{
    public static TheoryData<string> Learners => new(BinaryLearnerCatalog.Names);

    [Theory, MemberData(nameof(Learners))]
    public void The_suite_fits_exactly_the_model_the_sweep_fits(string learner) =>
        LearnerChecks.SuiteFitsWhatTheSweepFits(learner, SweepPath.Settings);

    [Theory, MemberData(nameof(Learners))]
    public void The_same_seed_gives_bit_identical_probabilities(string learner) =>
        LearnerChecks.SameSeedSameModel(BinaryLearnerCatalog.Create(learner));

    [Theory, MemberData(nameof(Learners))]
    public void A_bundle_saved_and_loaded_back_scores_bit_identically(string learner)
    {
        // The model the sweep selected, saved as ExperimentRunner saves it; then the configurations the sweep reaches later.
        var selected = LearnerChecks.Swept(learner);
        LearnerChecks.SaveLoadScoresIdentically(BinaryLearnerCatalog.Create(learner), selected.Fitted, selected.Trial.Parameters, "the sweep's selected model");
        foreach (var (name, configuration) in LearnerChecks.Configurations(BinaryLearnerCatalog.Create(learner)))
            LearnerChecks.SaveLoadScoresIdentically(BinaryLearnerCatalog.Create(learner), null, configuration, name);
    }

    [Theory, MemberData(nameof(Learners))]
    public void Missing_features_give_finite_probabilities_in_0_1(string learner) =>
        LearnerChecks.NaNGivesFiniteProbabilities(BinaryLearnerCatalog.Create(learner));
}

/// <summary>Each check on deliberately broken learners: a check that cannot fail checks nothing.</summary>
public class LearnerChecksCanFail
{
    [Fact]
    public void The_seed_check_fails_on_a_learner_that_draws_its_own_seed() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => LearnerChecks.SameSeedSameModel(new UnseededForest()));

    [Fact]
    public void The_save_load_check_fails_when_the_saved_model_scores_differently_from_the_fitted_one() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => LearnerChecks.SaveLoadScoresIdentically(new DriftingScorer(), null, [], "default"));

    [Fact]
    public void The_NaN_check_fails_on_a_learner_that_does_not_impute() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => LearnerChecks.NaNGivesFiniteProbabilities(new UnimputedLogisticRegression()));

    [Fact]
    public void The_path_check_fails_when_the_suite_fits_with_other_settings_than_the_sweep() =>
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => LearnerChecks.SuiteFitsWhatTheSweepFits(BinaryLearnerCatalog.FastForest, SweepPath.Settings with { Seed = SweepPath.Settings.Seed + 1 }));

    /// <summary>FastForest with a seed of its own choosing, not the trial's.</summary>
    sealed class UnseededForest : IBinaryLearner
    {
        public string Name => "unseeded_forest";
        public CodeII.Experiments.Sweep.Tuning.SearchSpace Space { get; } = new([]);
        public TrialParameters Default { get; } = [];
        public double EstimatedWork(TrialParameters p, int rows, int features) => 0;
        public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
            BinaryLearnerCatalog.ImputeMeans(ml).Append(ml.BinaryClassification.Trainers.FastForest(new Microsoft.ML.Trainers.FastTree.FastForestBinaryTrainer.Options
            {
                NumberOfTrees = 4, NumberOfLeaves = 4, FeatureFraction = 0.5, NumberOfThreads = 1, Seed = Random.Shared.Next(),
            })).Append(ml.BinaryClassification.Calibrators.Platt());
    }

    /// <summary>A direct scorer that is not the model it saves: its scores one step up from the model's.</summary>
    sealed class DriftingScorer : IBinaryLearner
    {
        readonly IBinaryLearner _inner = new LogisticRegressionLearner();
        public string Name => BinaryLearnerCatalog.LogisticRegression;
        public CodeII.Experiments.Sweep.Tuning.SearchSpace Space => _inner.Space;
        public TrialParameters Default => _inner.Default;
        public double EstimatedWork(TrialParameters p, int rows, int features) => 0;
        public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) => _inner.BuildPipeline(ml, parameters, settings);
        public FittedModel Fit(MLContext ml, TrialParameters parameters, TrainingSettings settings, IDataView train, IDataView validation, int rows, int features)
        {
            var fitted = _inner.Fit(ml, parameters, settings, train, validation, rows, features);
            return fitted with { ScoreRows = r => [.. SweepPath.Score(fitted with { ScoreRows = null }, r).Select(MathF.BitIncrement)] };
        }
    }

    /// <summary>Logistic regression straight on the features: NaN in, NaN out.</summary>
    sealed class UnimputedLogisticRegression : IBinaryLearner
    {
        public string Name => "unimputed_logistic_regression";
        public CodeII.Experiments.Sweep.Tuning.SearchSpace Space { get; } = new([]);
        public TrialParameters Default { get; } = [];
        public double EstimatedWork(TrialParameters p, int rows, int features) => 0;
        public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
            ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options { NumberOfThreads = 1 });
    }
}

/// <summary>
/// A fit exactly as <c>SweepEngine.FitLabel</c> makes one: a fresh <see cref="MLContext"/> seeded with the run's seed,
/// <see cref="TrainingSettings"/> filled from the sweep's settings field by field, the fit through
/// <see cref="IBinaryLearner.Fit"/> (never <c>BuildPipeline</c>) under <see cref="Cancellable.Run{T}"/> with a token that
/// can be cancelled, as <c>codeii run</c> passes one, and the scores from <see cref="FittedModel.ScoreRows"/> when the
/// learner offers it, else from the model's "Probability" column.
/// </summary>
static class SweepPath
{
    public const string Label = SyntheticClasses.SinusBradycardia;

    /// <summary>The sweep's defaults (early stopping after 20 rounds, one thread per trial) and a run seed.</summary>
    public static readonly SweepRun Settings = new(Seed: 11, new SweepSettings { Budget = new SweepBudget { Trials = 1 } });

    public sealed record SweepRun(int Seed, SweepSettings Sweep);

    /// <summary>Never cancelled; cancellable, so fits run on their own thread as in a real run.</summary>
    static readonly CancellationTokenSource Never = new();

    public static FittedModel Fit(IBinaryLearner learner, TrialParameters configuration, SweepRun run, float[][] train, bool[] trainTruth, float[][] validation, bool[] validationTruth)
    {
        var ml = new MLContext(run.Seed);
        var settings = new TrainingSettings
        {
            Seed = run.Seed, Threads = run.Sweep.ThreadsPerTrial, EarlyStoppingRounds = run.Sweep.EarlyStoppingRounds, Cancellation = Never.Token,
        };
        return Cancellable.Run(ml, () => learner.Fit(ml, configuration, settings, View(run.Seed, train, trainTruth), View(run.Seed, validation, validationTruth),
            train.Length, train[0].Length), Never.Token);
    }

    public static float[] Score(FittedModel fitted, IReadOnlyList<float[]> rows) => fitted.ScoreRows is { } direct
        ? direct(rows)
        : [.. fitted.Model.Transform(View(SweepPath.Settings.Seed, rows, new bool[rows.Count])).GetColumn<float>("Probability")];

    /// <summary>The view FitLabel builds: a boolean "Label" and a "Features" vector of known width, from its own context.</summary>
    static IDataView View(int seed, IReadOnlyList<float[]> rows, bool[] truth) =>
        LabelledViews.Create(new MLContext(seed), rows.Select((r, i) => (r, truth[i])), rows[0].Length);
}

/// <summary>The checks, as plain methods over a learner, so the broken learners above can be put through them.</summary>
static class LearnerChecks
{
    /// <summary>Handcrafted features of 240 synthetic exams (with the NaN they really have: no P wave in AF, and so on),
    /// split by patient into training and validation rows, as the sweep is given them.</summary>
    sealed record Data(FeatureTable Table, PatientSplit Split, int[] Train, int[] Validation)
    {
        public float[][] Rows(int[] indices) => [.. indices.Select(i => Table.Row(i).ToArray())];
        public bool[] Truth(int[] indices) => [.. indices.Select(i => Table.Labels[i].Contains(SweepPath.Label))];
    }

    static readonly Lazy<Data> Shared = new(() =>
    {
        var table = FeatureTableBuilder.Extract(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 240, Seed = 21 }), new HandcraftedFeatureExtractor(), 2);
        var (rows, split) = PatientSplit.IterativeStratified(table.PatientIds, table.Labels, 0.6, 0.25, seed: 3).WithoutTest();
        var data = new Data(table.Take(rows), split, split.Indices(SplitPart.Train), split.Indices(SplitPart.Validation));
        Assert.Contains(true, data.Truth(data.Train));
        Assert.Contains(true, data.Truth(data.Validation));
        return data;
    });

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<SelectedModel>> SweptModels = new();

    /// <summary>The model a one-trial sweep of this learner selects (its first configuration), fitted by the engine itself.</summary>
    public static SelectedModel Swept(string learner) => SweptModels.GetOrAdd(learner, name => new(() => Sweep(name, SweepPath.Settings))).Value;

    static SelectedModel Sweep(string learner, SweepPath.SweepRun run)
    {
        var data = Shared.Value;
        var engine = new SweepEngine
        {
            FeatureSets = [(HandcraftedFeatureExtractor.SetName, data.Table)],
            Split = data.Split,
            Subsets = [new LabelSubset(SweepPath.Label, [SweepPath.Label])],
            Learners = [new LearnerBudget(learner, 1)],
            Seed = run.Seed,
            Settings = run.Sweep,
            MaxThreads = 1,
        };
        using var cancellation = new CancellationTokenSource();
        return engine.Run(cancellationToken: cancellation.Token).Selected.Single(m => m.Trial.Learner == learner);
    }

    /// <summary>Configurations to fit: the cheap corner every tuner starts from, the centre of the space (LightGBM's GOSS,
    /// feature fractions below 1: the options that draw random numbers), and the default. Iterations are capped at 16 so
    /// the suite stays fast; the options that matter here are the others.</summary>
    public static IEnumerable<(string Name, TrialParameters Configuration)> Configurations(IBinaryLearner learner)
    {
        var space = learner.Space;
        yield return ("low-cost corner", space.FromUnit(space.LowCostUnit));
        yield return ("centre of the space", Capped(space.FromUnit([.. Enumerable.Repeat(0.5, space.Dimensions)])));
        yield return ("default", Capped(learner.Default));

        static TrialParameters Capped(TrialParameters configuration)
        {
            var capped = new TrialParameters(configuration);
            if (capped.TryGetValue("iterations", out var n)) capped["iterations"] = Math.Min(n, 16);
            return capped;
        }
    }

    static FittedModel Fit(IBinaryLearner learner, TrialParameters configuration, SweepPath.SweepRun? run = null, float[][]? train = null)
    {
        var data = Shared.Value;
        return SweepPath.Fit(learner, configuration, run ?? SweepPath.Settings, train ?? data.Rows(data.Train), data.Truth(data.Train), data.Rows(data.Validation), data.Truth(data.Validation));
    }

    /// <summary>
    /// The path the sweep fits is the path the suite tests: a one-trial sweep through <see cref="SweepEngine"/> selects
    /// a model; <see cref="SweepPath"/>, given the trial's configuration, must fit one that scores the validation rows
    /// bit for bit as the sweep's does, with the same threshold and the same work. Should FitLabel change how it fits
    /// (a setting, a context, a scorer), this fails, and SweepPath must follow it.
    /// </summary>
    public static void SuiteFitsWhatTheSweepFits(string learner, SweepPath.SweepRun suite)
    {
        var data = Shared.Value;
        var swept = Swept(learner);
        var validation = data.Rows(data.Validation);
        var sweepScores = SweepPath.Score(swept.Fitted, validation);
        var fitted = Fit(BinaryLearnerCatalog.Create(learner), swept.Trial.Parameters, suite);
        AssertBitIdentical(sweepScores, SweepPath.Score(fitted, validation), $"{learner} ({swept.Trial.Parameters}): validation scores, the sweep's model vs the suite's fit");
        Assert.Equal(swept.Threshold, BinaryMetrics.BestF1Threshold(sweepScores, data.Truth(data.Validation)));
        Assert.Equal(swept.Trial.Work, fitted.WorkUnits);
    }

    /// <summary>Two fits with the same seed, one alone and two at once on two threads (as the sweep runs streams in
    /// parallel), in every configuration: bit-identical probabilities on the training and validation rows.</summary>
    public static void SameSeedSameModel(IBinaryLearner learner)
    {
        var data = Shared.Value;
        var rows = data.Rows([.. data.Train, .. data.Validation]);
        foreach (var (name, configuration) in Configurations(learner))
        {
            var first = SweepPath.Score(Fit(learner, configuration), rows);
            var again = new float[2][];
            Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, k => again[k] = SweepPath.Score(Fit(learner, configuration), rows));
            foreach (var scores in again)
                AssertBitIdentical(first, scores, $"{learner}, {name} ({configuration}): two fits with seed {SweepPath.Settings.Seed}");
        }
    }

    /// <summary>
    /// A fitted model saved through <see cref="ModelBundle.Save"/> (described as ExperimentRunner describes it) and loaded
    /// back with <see cref="ModelBundle.Load"/>, in its own context, scores every row bit for bit as the fitted model
    /// does: the validation rows, rows with many features missing, and a row with none present.
    /// </summary>
    public static void SaveLoadScoresIdentically(IBinaryLearner learner, FittedModel? fitted, TrialParameters configuration, string what)
    {
        var data = Shared.Value;
        fitted ??= Fit(learner, configuration);
        var rows = ScoringRows(data);
        var expected = SweepPath.Score(fitted, rows);
        var folder = RepoPaths.NewTemporaryDirectory();
        try
        {
            var prior = learner.Name == BinaryLearnerCatalog.Prior;
            var extractor = new HandcraftedFeatureExtractor();
            var validationScores = expected[..data.Validation.Length];
            var truth = data.Truth(data.Validation);
            // What ExperimentRunner.Describe and its caller fill in for a swept model; the prior reads no features.
            var description = new BundleDescription
            {
                FormatVersion = BundleDescription.CurrentFormatVersion,
                Model = learner.Name,
                Label = SweepPath.Label,
                Taxonomy = Taxonomy.Code6.Name,
                SnomedCt = Taxonomy.Code6.Find(SweepPath.Label)?.Snomed,
                Threshold = BinaryMetrics.BestF1Threshold(validationScores, truth),
                Learner = learner.Name,
                Parameters = new SortedDictionary<string, double>(configuration, StringComparer.Ordinal),
                Trial = 0,
                ValidationAuroc = BinaryMetrics.Auroc(validationScores, truth),
                FeatureSet = prior ? null : extractor.Name,
                FeatureParts = prior ? [] : [new FeaturePartVersion(extractor.Name, $"v{extractor.Version}")],
                FeatureNames = prior ? [] : data.Table.FeatureNames,
                TrainingDataFingerprint = data.Table.DataFingerprint,
                Packages = new Dictionary<string, string>(),
            };
            ModelBundle.Save(folder, description, fitted, data.Table.FeatureNames.Count);
            using var bundle = ModelBundle.Load(folder);
            AssertBitIdentical(expected, bundle.ScoreFeatures(rows), $"{learner.Name}, {what} ({configuration}): the fitted model vs its bundle loaded back");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Missing values as real data have them, and worse: a whole feature missing in every training row (age, when a
    /// dataset records none), a fifth of all cells missing, and at scoring time rows with cells missing and a row with
    /// nothing present. No fit or score may throw, and every probability must be finite and in [0, 1].
    /// </summary>
    public static void NaNGivesFiniteProbabilities(IBinaryLearner learner)
    {
        var data = Shared.Value;
        var age = data.Table.FeatureNames.ToList().IndexOf("age_years");
        Assert.True(age >= 0);
        var train = WithMissing(data.Rows(data.Train), seed: 1, wholeColumn: age);
        var rows = ScoringRows(data);
        foreach (var (name, configuration) in Configurations(learner))
        {
            float[] scores = [];
            var thrown = Record.Exception(() => scores = SweepPath.Score(Fit(learner, configuration, train: train), rows));
            Assert.True(thrown is null, $"{learner.Name}, {name} ({configuration}), trained with missing features: {thrown?.GetType().Name}: {thrown?.Message}");
            var bad = scores.Select((p, i) => (p, i)).Where(s => !(float.IsFinite(s.p) && s.p is >= 0 and <= 1)).Select(s => $"row {s.i}: {s.p:R}").ToArray();
            Assert.True(bad.Length == 0, $"{learner.Name}, {name} ({configuration}), trained with missing features: {bad.Length} of {scores.Length} probabilities " +
                $"are not finite in [0, 1] ({string.Join(", ", bad.Take(8))}{(bad.Length > 8 ? ", …" : "")}; the last row has no feature present)");
        }
    }

    /// <summary>The validation rows as they are, then again with a fifth of their cells missing, then a row of NaN.</summary>
    static float[][] ScoringRows(Data data)
    {
        var validation = data.Rows(data.Validation);
        return [.. validation, .. WithMissing(validation, seed: 2), Enumerable.Repeat(float.NaN, data.Table.FeatureNames.Count).ToArray()];
    }

    static float[][] WithMissing(float[][] rows, int seed, int wholeColumn = -1)
    {
        var random = new Random(seed);
        return [.. rows.Select(r => r.Select((v, j) => j == wholeColumn || random.NextDouble() < 0.2 ? float.NaN : v).ToArray())];
    }

    static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var differing = Enumerable.Range(0, expected.Length)
            .Where(i => BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            .Select(i => $"row {i}: {expected[i]:R} vs {actual[i]:R}").ToArray();
        Assert.True(differing.Length == 0, $"{what}: {differing.Length} of {expected.Length} scores differ ({string.Join(", ", differing.Take(6))}{(differing.Length > 6 ? ", …" : "")})");
    }
}
