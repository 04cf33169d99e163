using Microsoft.ML;
using Microsoft.ML.Trainers;
using Microsoft.ML.Trainers.LightGbm;

namespace CodeII.Experiments.Sweep;

/// <summary>Hyperparameters of one trial, by name, at full precision.</summary>
public sealed class TrialParameters : SortedDictionary<string, double>
{
    public TrialParameters() : base(StringComparer.Ordinal) { }
    public TrialParameters(IDictionary<string, double> values) : base(values, StringComparer.Ordinal) { }
    public override string ToString() => string.Join(", ", this.Select(p => $"{p.Key}={p.Value:G6}"));
}

/// <summary>A one-vs-rest binary learner: how to propose configurations and how to build its ML.NET pipeline.</summary>
public interface IBinaryLearner
{
    /// <summary>The name used in definitions, trial logs and reports.</summary>
    string Name { get; }

    /// <summary>Every option a tuner may set, with its range, scale and low-cost starting value.</summary>
    Tuning.SearchSpace Space { get; }

    /// <summary>The first configuration is the learner's default; the rest are drawn from its search space.</summary>
    IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng);

    /// <summary>A pipeline from a "Features" vector and boolean "Label" to a "Probability" column.</summary>
    IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed);
}

public static class BinaryLearnerCatalog
{
    public const string LightGbm = "lightgbm";
    public const string LogisticRegression = "logistic_regression";
    public const string FastTree = "fasttree";
    public const string FastForest = "fastforest";
    public const string SdcaLogisticRegression = "sdca_logistic_regression";
    public const string LinearSvm = "linear_svm";
    public const string Prior = "prior";

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

    internal static double LogUniform(Random rng, double low, double high) =>
        Math.Exp(Math.Log(low) + (Math.Log(high) - Math.Log(low)) * rng.NextDouble());

    /// <summary>The given default, then uniform draws from the space (the sweep's proposals until tuners drive it).</summary>
    internal static IReadOnlyList<TrialParameters> DefaultThenRandom(Tuning.SearchSpace space, TrialParameters first, int trials, Random rng)
    {
        var configurations = new List<TrialParameters> { first };
        while (configurations.Count < trials)
            configurations.Add(space.FromUnit([.. Enumerable.Range(0, space.Dimensions).Select(_ => rng.NextDouble())]));
        return configurations;
    }

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
    public static Tuning.NumericParameter Trees(int max) => new("iterations", 4, max, Log: true, Integer: true, LowCost: 4);
    public static readonly Tuning.NumericParameter Leaves = new("leaves", 4, 256, Log: true, Integer: true, LowCost: 4);
    public static readonly Tuning.NumericParameter LearningRate = new("learning_rate", 0.01, 1, Log: true, LowCost: 0.1);
    public static readonly Tuning.NumericParameter MinExamplesPerLeaf = new("min_examples_per_leaf", 2, 100, Log: true, Integer: true, LowCost: 20);

    /// <summary>The options FastTree and FastForest share, from a configuration (defaults where it is silent).</summary>
    public static T Apply<T>(TrialParameters parameters, int seed, T options) where T : Microsoft.ML.Trainers.FastTree.TreeOptions
    {
        options.NumberOfTrees = BinaryLearnerCatalog.Int(parameters, "iterations", 100);
        options.NumberOfLeaves = BinaryLearnerCatalog.Int(parameters, "leaves", 20);
        options.MinimumExampleCountPerLeaf = BinaryLearnerCatalog.Int(parameters, "min_examples_per_leaf", 10);
        // One thread per trial, as for LightGBM: trials run in parallel, and results repeat exactly.
        options.NumberOfThreads = 1;
        options.Seed = seed;
        return options;
    }
}

/// <summary>Gradient-boosted trees; handles missing values natively, so no imputation.</summary>
public sealed class LightGbmLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LightGbm;

    public Tuning.SearchSpace Space { get; } = new([
        TreeSpaces.Trees(1000), TreeSpaces.Leaves, TreeSpaces.LearningRate, TreeSpaces.MinExamplesPerLeaf,
        new Tuning.NumericParameter("feature_fraction", 0.3, 1, LowCost: 1),
        new Tuning.NumericParameter("l2", 1e-3, 10, Log: true, LowCost: 1e-3),
    ]);

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng)
    {
        var configurations = new List<TrialParameters>
        {
            new() { ["iterations"] = 100, ["leaves"] = 15, ["learning_rate"] = 0.1, ["min_examples_per_leaf"] = 10 },
        };
        while (configurations.Count < trials)
            configurations.Add(new TrialParameters
            {
                ["iterations"] = Math.Round(BinaryLearnerCatalog.LogUniform(rng, 30, 400)),
                ["leaves"] = Math.Round(BinaryLearnerCatalog.LogUniform(rng, 4, 64)),
                ["learning_rate"] = BinaryLearnerCatalog.LogUniform(rng, 0.02, 0.3),
                ["min_examples_per_leaf"] = Math.Round(BinaryLearnerCatalog.LogUniform(rng, 3, 50)),
            });
        return configurations;
    }

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed)
    {
        var options = new LightGbmBinaryTrainer.Options
        {
            NumberOfIterations = (int)parameters["iterations"],
            NumberOfLeaves = (int)parameters["leaves"],
            LearningRate = parameters["learning_rate"],
            MinimumExampleCountPerLeaf = (int)parameters["min_examples_per_leaf"],
            // One thread per trial: trials run in parallel instead, and a single thread makes LightGBM bit-reproducible.
            NumberOfThreads = 1,
            Seed = seed,
            Verbose = false,
            Silent = true,
        };
        // Options a configuration does not set keep LightGBM's defaults (the random sweep sets only the four above).
        if (parameters.ContainsKey("feature_fraction") || parameters.ContainsKey("l2"))
            options.Booster = new GradientBooster.Options
            {
                FeatureFraction = BinaryLearnerCatalog.Real(parameters, "feature_fraction", 1),
                L2Regularization = BinaryLearnerCatalog.Real(parameters, "l2", 0.01),
            };
        return ml.BinaryClassification.Trainers.LightGbm(options);
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

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng)
    {
        var configurations = new List<TrialParameters> { new() { ["l1"] = 0.001, ["l2"] = 0.1 } };
        while (configurations.Count < trials)
            configurations.Add(new TrialParameters
            {
                ["l1"] = BinaryLearnerCatalog.LogUniform(rng, 1e-4, 1),
                ["l2"] = BinaryLearnerCatalog.LogUniform(rng, 1e-4, 10),
            });
        return configurations;
    }

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml)
            .Append(ml.BinaryClassification.Trainers.LbfgsLogisticRegression(new LbfgsLogisticRegressionBinaryTrainer.Options
            {
                L1Regularization = (float)parameters["l1"],
                L2Regularization = (float)parameters["l2"],
                NumberOfThreads = 1,
            }));
}

/// <summary>The trivial baseline: every exam scores the training prevalence.</summary>
public sealed class PriorLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.Prior;
    public Tuning.SearchSpace Space { get; } = new([]);
    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) => [new TrialParameters()];
    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        ml.BinaryClassification.Trainers.Prior();
}

/// <summary>ML.NET's own boosted trees (FastTree): missing values are imputed, as its binning expects numbers.</summary>
public sealed class FastTreeLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.FastTree;
    public Tuning.SearchSpace Space { get; } = new([TreeSpaces.Trees(1000), TreeSpaces.Leaves, TreeSpaces.LearningRate, TreeSpaces.MinExamplesPerLeaf]);

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) => BinaryLearnerCatalog.DefaultThenRandom(Space,
        new TrialParameters { ["iterations"] = 100, ["leaves"] = 20, ["learning_rate"] = 0.2, ["min_examples_per_leaf"] = 10 }, trials, rng);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        BinaryLearnerCatalog.ImputeMeans(ml)
            .Append(ml.BinaryClassification.Trainers.FastTree(TreeSpaces.Apply(parameters, seed, new Microsoft.ML.Trainers.FastTree.FastTreeBinaryTrainer.Options
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

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) => BinaryLearnerCatalog.DefaultThenRandom(Space,
        new TrialParameters { ["iterations"] = 100, ["leaves"] = 20, ["min_examples_per_leaf"] = 10, ["feature_fraction"] = 0.7 }, trials, rng);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        BinaryLearnerCatalog.ImputeMeans(ml)
            .Append(ml.BinaryClassification.Trainers.FastForest(TreeSpaces.Apply(parameters, seed, new Microsoft.ML.Trainers.FastTree.FastForestBinaryTrainer.Options
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

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) =>
        BinaryLearnerCatalog.DefaultThenRandom(Space, new TrialParameters { ["l2"] = 1e-3, ["l1"] = 1e-6 }, trials, rng);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml).Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(new SdcaLogisticRegressionBinaryTrainer.Options
        {
            L2Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l2", 1e-3),
            L1Regularization = (float)BinaryLearnerCatalog.Real(parameters, "l1", 1e-6),
            NumberOfThreads = 1,
        }));
}

/// <summary>Linear SVM (Pegasos) on imputed, standardised features, its margins calibrated with Platt scaling.</summary>
public sealed class LinearSvmLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LinearSvm;
    public Tuning.SearchSpace Space { get; } = new([
        new Tuning.NumericParameter("iterations", 1, 100, Log: true, Integer: true, LowCost: 1),
        new Tuning.NumericParameter("lambda", 1e-6, 1, Log: true, LowCost: 1e-3),
    ]);

    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) =>
        BinaryLearnerCatalog.DefaultThenRandom(Space, new TrialParameters { ["iterations"] = 10, ["lambda"] = 1e-3 }, trials, rng);

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        BinaryLearnerCatalog.ImputeAndStandardise(ml)
            .Append(ml.BinaryClassification.Trainers.LinearSvm(new LinearSvmTrainer.Options
            {
                NumberOfIterations = BinaryLearnerCatalog.Int(parameters, "iterations", 10),
                Lambda = (float)BinaryLearnerCatalog.Real(parameters, "lambda", 1e-3),
            }))
            .Append(ml.BinaryClassification.Calibrators.Platt());
}
