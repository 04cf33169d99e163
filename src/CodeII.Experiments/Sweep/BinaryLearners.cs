using CodeII.Experiments.Sweep.Tuning;
using Microsoft.ML;
using Microsoft.ML.Trainers;

namespace CodeII.Experiments.Sweep;

/// <summary>How a trial trains, beyond its hyperparameters: the same settings give the same model anywhere.</summary>
public sealed record TrainingSettings
{
    public int Seed { get; init; }
    /// <summary>Threads inside one trial; 1 keeps every learner bit-reproducible (trials run in parallel instead).</summary>
    public int Threads { get; init; } = 1;
    /// <summary>Boosting stops after this many rounds without a lower validation log loss; 0 turns it off.</summary>
    public int EarlyStoppingRounds { get; init; }
    /// <summary>Learners that can stop mid-fit (LightGBM, after any tree) stop when this is cancelled.</summary>
    public CancellationToken Cancellation { get; init; }
}

/// <summary>A trained model and the work it took, in the deterministic units budgets are counted in.</summary>
public sealed record FittedModel(ITransformer Model, double WorkUnits)
{
    /// <summary>Probabilities for feature rows straight from the model, faster than a data view through
    /// <see cref="Model"/> when a learner offers it; the same values.</summary>
    public Func<IReadOnlyList<float[]>, float[]>? ScoreRows { get; init; }
    /// <summary>Set for LightGBM, whose booster is saved in LightGBM's own format rather than with ML.NET's.</summary>
    public LightGbmBinaryModel? Booster { get; init; }
}

/// <summary>
/// A one-vs-rest binary learner: its search space, its default, and how to build and fit its ML.NET pipeline.
/// Work is counted in millions of row × feature visits (one pass of one tree, or one epoch of a linear model, over
/// the training matrix): a machine-independent cost, so a work budget stops at the same trial on any machine.
/// </summary>
public interface IBinaryLearner
{
    /// <summary>The name used in definitions, trial logs and reports.</summary>
    string Name { get; }

    /// <summary>Every option a tuner may set, with its range, scale and low-cost starting value.</summary>
    Tuning.SearchSpace Space { get; }

    /// <summary>The learner's usual settings (ML.NET's defaults, more or less), for a single untuned fit.</summary>
    TrialParameters Default { get; }

    /// <summary>A pipeline from a "Features" vector and boolean "Label" to a "Probability" column.</summary>
    IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings);

    /// <summary>The work a configuration will take on this many rows and features, before training.</summary>
    double EstimatedWork(TrialParameters parameters, int rows, int features);

    /// <summary>The memory a fit should need, for the per-trial guard: the learner's copy of the data and its model.</summary>
    double EstimatedBytes(TrialParameters parameters, int rows, int features) => 4.0 * rows * features * 3;

    /// <summary>Fits on the training view; boosting learners may stop early on the validation view.</summary>
    FittedModel Fit(MLContext ml, TrialParameters parameters, TrainingSettings settings, IDataView train, IDataView validation, int rows, int features) =>
        new(BuildPipeline(ml, parameters, settings).Fit(train), EstimatedWork(parameters, rows, features));
}

public static class BinaryLearnerCatalog
{
    public const string LightGbm = "lightgbm";
    public const string LogisticRegression = "logistic_regression";
    public const string FastTree = "fasttree";
    public const string FastForest = "fastforest";
    public const string SdcaLogisticRegression = "sdca_logistic_regression";
    public const string LinearSvm = "linear_svm";
    public const string Prior = Evaluation.ExperimentEvaluator.PriorModel;

    public static readonly IReadOnlyList<string> Names = [LightGbm, LogisticRegression, FastTree, FastForest, SdcaLogisticRegression, LinearSvm, Prior];

    public static IBinaryLearner Create(string name) => name switch
    {
        LightGbm => new LightGbmLearner(),
        LogisticRegression => new LogisticRegressionLearner(),
        FastTree => new FastTreeLearner(),
        FastForest => new FastForestLearner(),
        SdcaLogisticRegression => new SdcaLogisticRegressionLearner(),
        LinearSvm => new LinearSvmLearner(),
        Prior => new PriorLearner(),
        _ => throw new ArgumentException($"unknown learner '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>Millions of row × feature visits for this many passes over the training matrix.</summary>
    internal static double Passes(double passes, int rows, int features) => passes * rows * (double)features / 1e6;

    /// <summary>Missing features (NaN) replaced by the training mean, for learners that cannot take NaN.</summary>
    internal static IEstimator<ITransformer> ImputeMeans(MLContext ml) =>
        ml.Transforms.ReplaceMissingValues("Features", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean);

    /// <summary>Mean imputation and standardisation: what linear learners need.</summary>
    internal static IEstimator<ITransformer> ImputeAndStandardise(MLContext ml) =>
        ImputeMeans(ml).Append(ml.Transforms.NormalizeMeanVariance("Features"));

    internal static int Int(TrialParameters p, string name, int fallback) => p.TryGetValue(name, out var v) ? (int)v : fallback;
    internal static double Real(TrialParameters p, string name, double fallback) => p.TryGetValue(name, out var v) ? v : fallback;
}

/// <summary>Search spaces of the tree learners; the low-cost corner is 4 trees of 4 leaves, as in FLAML.</summary>
static class TreeSpaces
{
    public static Tuning.NumericParameter Trees(int max) => new("iterations", 4, max, Log: true, Integer: true, LowCost: 4) { ScalesCost = true };
    public static readonly Tuning.NumericParameter Leaves = new("leaves", 4, 256, Log: true, Integer: true, LowCost: 4) { ScalesCost = true };
    public static readonly Tuning.NumericParameter LearningRate = new("learning_rate", 0.01, 1, Log: true, LowCost: 0.1);
    public static readonly Tuning.NumericParameter MinExamplesPerLeaf = new("min_examples_per_leaf", 2, 100, Log: true, Integer: true, LowCost: 20);

    /// <summary>The options FastTree and FastForest share, from a configuration (defaults where it is silent).</summary>
    public static T Apply<T>(TrialParameters parameters, TrainingSettings settings, T options) where T : Microsoft.ML.Trainers.FastTree.TreeOptions
    {
        options.NumberOfTrees = BinaryLearnerCatalog.Int(parameters, "iterations", 100);
        options.NumberOfLeaves = BinaryLearnerCatalog.Int(parameters, "leaves", 20);
        options.MinimumExampleCountPerLeaf = BinaryLearnerCatalog.Int(parameters, "min_examples_per_leaf", 10);
        options.NumberOfThreads = settings.Threads;
        options.Seed = settings.Seed;
        return options;
    }

    /// <summary>ML.NET's FastTree and FastForest bin features into 255 bins, as LightGBM does by default.</summary>
    public const int DefaultBins = 255;

    /// <summary>A tree's cost is one pass over the (sampled) rows and features, plus its histograms: leaves × features × bins.</summary>
    public static double Work(double trees, double leaves, double featureFraction, int rows, int features, int bins = DefaultBins) =>
        BinaryLearnerCatalog.Passes(trees * featureFraction, rows, features) + trees * leaves * features * bins / 1e6;

    /// <summary>The learner's copy of the data (float), its binned copy, and histograms per leaf.</summary>
    public static double Bytes(double leaves, int rows, int features, int bins = DefaultBins) => 5.0 * rows * features + leaves * features * bins * 24;
}

/// <summary>Gradient-boosted trees; handles missing values natively, so no imputation. GOSS (gradient-based one-side
/// sampling) is a conditional choice: its two rates exist only when it is chosen.</summary>
public sealed class LightGbmLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LightGbm;

    public Tuning.SearchSpace Space { get; } = new([
        TreeSpaces.Trees(1000), TreeSpaces.Leaves, TreeSpaces.LearningRate, TreeSpaces.MinExamplesPerLeaf,
        new Tuning.NumericParameter("feature_fraction", 0.3, 1, LowCost: 1),
        new Tuning.NumericParameter("l2", 1e-3, 10, Log: true, LowCost: 1e-3),
        new Tuning.ChoiceParameter("booster", ["gbdt", "goss"]),
        new Tuning.NumericParameter("top_rate", 0.1, 0.5, LowCost: 0.2) { ActiveWhen = ("booster", "goss") },
        new Tuning.NumericParameter("other_rate", 0.05, 0.3, LowCost: 0.1) { ActiveWhen = ("booster", "goss") },
    ]);

    public TrialParameters Default { get; } = new() { ["iterations"] = 100, ["leaves"] = 15, ["learning_rate"] = 0.1, ["min_examples_per_leaf"] = 10 };

    public double EstimatedWork(TrialParameters p, int rows, int features) => TreeSpaces.Work(
        BinaryLearnerCatalog.Int(p, "iterations", 100), BinaryLearnerCatalog.Int(p, "leaves", 15), SampledFraction(p), rows, features, Bins);

    double IBinaryLearner.EstimatedBytes(TrialParameters p, int rows, int features) => TreeSpaces.Bytes(BinaryLearnerCatalog.Int(p, "leaves", 15), rows, features, Bins);

    const int Bins = LightGbmOptions.DefaultMaxBin;

    /// <summary>The share of row × feature cells a tree reads: the feature fraction, times GOSS's row sample.</summary>
    static double SampledFraction(TrialParameters p) => BinaryLearnerCatalog.Real(p, "feature_fraction", 1) *
        (BinaryLearnerCatalog.Int(p, "booster", 0) == 1 ? BinaryLearnerCatalog.Real(p, "top_rate", 0.2) + BinaryLearnerCatalog.Real(p, "other_rate", 0.1) : 1);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        new LightGbmBinaryEstimator(ml, Options(parameters, settings), cancellationToken: settings.Cancellation);

    static LightGbmOptions Options(TrialParameters parameters, TrainingSettings settings) => new()
    {
        Iterations = BinaryLearnerCatalog.Int(parameters, "iterations", 100),
        Leaves = BinaryLearnerCatalog.Int(parameters, "leaves", 15),
        LearningRate = BinaryLearnerCatalog.Real(parameters, "learning_rate", 0.1),
        MinExamplesPerLeaf = BinaryLearnerCatalog.Int(parameters, "min_examples_per_leaf", 10),
        // Options a configuration does not set keep LightGBM's defaults.
        FeatureFraction = parameters.TryGetValue("feature_fraction", out var fraction) ? fraction : null,
        L2 = parameters.TryGetValue("l2", out var l2) ? l2 : null,
        Goss = BinaryLearnerCatalog.Int(parameters, "booster", 0) == 1
            ? (BinaryLearnerCatalog.Real(parameters, "top_rate", 0.2), BinaryLearnerCatalog.Real(parameters, "other_rate", 0.1))
            : null,
        // One thread makes LightGBM bit-reproducible; trials run in parallel instead.
        Threads = settings.Threads,
        Seed = settings.Seed,
        // Log loss, not AUROC: one split on one strong feature can give most of the AUROC at once, and AUROC then
        // plateaus for dozens of rounds while the loss (and later the AUROC) still improves.
        EarlyStoppingRounds = settings.EarlyStoppingRounds,
    };

    /// <summary>With early stopping, training watches the validation exams, and the work counted is that of the trees
    /// actually grown, which the same data and seed reproduce exactly.</summary>
    public FittedModel Fit(MLContext ml, TrialParameters parameters, TrainingSettings settings, IDataView train, IDataView validation, int rows, int features)
    {
        var model = new LightGbmBinaryEstimator(ml, Options(parameters, settings), settings.EarlyStoppingRounds > 0 ? validation : null, settings.Cancellation)
            .FitModel(train);
        return new FittedModel(model.Transformer, TreeSpaces.Work(model.TreesGrown, BinaryLearnerCatalog.Int(parameters, "leaves", 15), SampledFraction(parameters), rows, features, Bins))
        {
            ScoreRows = model.Predict,
            Booster = model,
        };
    }
}

/// <summary>L-BFGS logistic regression on mean-imputed, standardised features.</summary>
public sealed class LogisticRegressionLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LogisticRegression;

    public Tuning.SearchSpace Space { get; } = new([
        new Tuning.NumericParameter("l1", 1e-4, 1, Log: true, LowCost: 1),
        new Tuning.NumericParameter("l2", 1e-4, 10, Log: true, LowCost: 10),
    ]);

    public TrialParameters Default { get; } = new() { ["l1"] = 0.001, ["l2"] = 0.1 };

    /// <summary>L-BFGS stops at a tolerance, so passes are not known in advance; ML.NET's cap of 100 is the bound.</summary>
    public double EstimatedWork(TrialParameters p, int rows, int features) => BinaryLearnerCatalog.Passes(100, rows, features);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml)
            .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                L1Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l1", 0.001),
                L2Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l2", 0.1),
                NumberOfThreads = settings.Threads,
            }));
}

/// <summary>The trivial baseline: every exam scores the training prevalence.</summary>
public sealed class PriorLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.Prior;
    public Tuning.SearchSpace Space { get; } = new([]);
    public TrialParameters Default { get; } = [];
    public double EstimatedWork(TrialParameters p, int rows, int features) => rows / 1e6;
    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        ml.BinaryClassification.Trainers.Prior();
}

/// <summary>ML.NET's own boosted trees (FastTree): missing values are imputed, as its binning expects numbers.</summary>
public sealed class FastTreeLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.FastTree;
    public Tuning.SearchSpace Space { get; } = new([TreeSpaces.Trees(1000), TreeSpaces.Leaves, TreeSpaces.LearningRate, TreeSpaces.MinExamplesPerLeaf]);
    public TrialParameters Default { get; } = new() { ["iterations"] = 100, ["leaves"] = 20, ["learning_rate"] = 0.2, ["min_examples_per_leaf"] = 10 };

    public double EstimatedWork(TrialParameters p, int rows, int features) =>
        TreeSpaces.Work(BinaryLearnerCatalog.Int(p, "iterations", 100), BinaryLearnerCatalog.Int(p, "leaves", 20), 1, rows, features);

    double IBinaryLearner.EstimatedBytes(TrialParameters p, int rows, int features) => TreeSpaces.Bytes(BinaryLearnerCatalog.Int(p, "leaves", 20), rows, features);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        BinaryLearnerCatalog.ImputeMeans(ml)
            .Append(ml.BinaryClassification.Trainers.FastTree(TreeSpaces.Apply(parameters, settings, new Microsoft.ML.Trainers.FastTree.FastTreeBinaryTrainer.Options
            {
                LearningRate = BinaryLearnerCatalog.Real(parameters, "learning_rate", 0.2),
            })));
}

/// <summary>Random forest (FastForest); its scores are calibrated to probabilities with Platt scaling.</summary>
public sealed class FastForestLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.FastForest;
    public Tuning.SearchSpace Space { get; } = new([
        TreeSpaces.Trees(500), TreeSpaces.Leaves, TreeSpaces.MinExamplesPerLeaf,
        new Tuning.NumericParameter("feature_fraction", 0.3, 1, LowCost: 0.7),
    ]);
    public TrialParameters Default { get; } = new() { ["iterations"] = 100, ["leaves"] = 20, ["min_examples_per_leaf"] = 10, ["feature_fraction"] = 0.7 };

    public double EstimatedWork(TrialParameters p, int rows, int features) => TreeSpaces.Work(BinaryLearnerCatalog.Int(p, "iterations", 100),
        BinaryLearnerCatalog.Int(p, "leaves", 20), BinaryLearnerCatalog.Real(p, "feature_fraction", 0.7), rows, features);

    double IBinaryLearner.EstimatedBytes(TrialParameters p, int rows, int features) => TreeSpaces.Bytes(BinaryLearnerCatalog.Int(p, "leaves", 20), rows, features);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        BinaryLearnerCatalog.ImputeMeans(ml)
            .Append(ml.BinaryClassification.Trainers.FastForest(TreeSpaces.Apply(parameters, settings, new Microsoft.ML.Trainers.FastTree.FastForestBinaryTrainer.Options
            {
                FeatureFraction = BinaryLearnerCatalog.Real(parameters, "feature_fraction", 0.7),
            })))
            .Append(ml.BinaryClassification.Calibrators.Platt());
}

/// <summary>SDCA logistic regression on imputed, standardised features.</summary>
public sealed class SdcaLogisticRegressionLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.SdcaLogisticRegression;
    public Tuning.SearchSpace Space { get; } = new([
        new Tuning.NumericParameter("l2", 1e-6, 10, Log: true, LowCost: 1e-2),
        new Tuning.NumericParameter("l1", 1e-6, 1, Log: true, LowCost: 1e-6),
    ]);
    public TrialParameters Default { get; } = new() { ["l2"] = 1e-3, ["l1"] = 1e-6 };

    /// <summary>SDCA converges in a few dozen epochs on standardised features; 20 is the estimate.</summary>
    public double EstimatedWork(TrialParameters p, int rows, int features) => BinaryLearnerCatalog.Passes(20, rows, features);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml).Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
        {
            L2Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l2", 1e-3),
            L1Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l1", 1e-6),
            NumberOfThreads = settings.Threads,
        }));
}

/// <summary>Linear SVM (Pegasos) on imputed, standardised features, its margins calibrated with Platt scaling.</summary>
public sealed class LinearSvmLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LinearSvm;
    public Tuning.SearchSpace Space { get; } = new([
        new Tuning.NumericParameter("iterations", 1, 100, Log: true, Integer: true, LowCost: 1) { ScalesCost = true },
        new Tuning.NumericParameter("lambda", 1e-6, 1, Log: true, LowCost: 1e-3),
    ]);
    public TrialParameters Default { get; } = new() { ["iterations"] = 10, ["lambda"] = 1e-3 };

    public double EstimatedWork(TrialParameters p, int rows, int features) => BinaryLearnerCatalog.Passes(BinaryLearnerCatalog.Int(p, "iterations", 10), rows, features);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, TrainingSettings settings) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml)
            .Append(ml.BinaryClassification.Trainers.LinearSvm(new LinearSvmTrainer.Options
            {
                NumberOfIterations = BinaryLearnerCatalog.Int(parameters, "iterations", 10),
                Lambda = (float)BinaryLearnerCatalog.Real(parameters, "lambda", 1e-3),
            }))
            .Append(ml.BinaryClassification.Calibrators.Platt());
}
