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

    /// <summary>The first configuration is the learner's default; the rest are drawn from its search space.</summary>
    IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng);

    /// <summary>A pipeline from a "Features" vector and boolean "Label" to a "Probability" column.</summary>
    IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed);
}

public static class BinaryLearnerCatalog
{
    public const string LightGbm = "lightgbm";
    public const string LogisticRegression = "logistic_regression";
    public const string Prior = "prior";

    public static readonly IReadOnlyList<string> Names = [LightGbm, LogisticRegression, Prior];

    public static IBinaryLearner Create(string name) => name switch
    {
        LightGbm => new LightGbmLearner(),
        LogisticRegression => new LogisticRegressionLearner(),
        Prior => new PriorLearner(),
        _ => throw new ArgumentException($"unknown learner '{name}' (known: {string.Join(", ", Names)})"),
    };

    internal static double LogUniform(Random rng, double low, double high) =>
        Math.Exp(Math.Log(low) + (Math.Log(high) - Math.Log(low)) * rng.NextDouble());
}

/// <summary>Gradient-boosted trees; handles missing values natively, so no imputation.</summary>
public sealed class LightGbmLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LightGbm;

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

    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        ml.BinaryClassification.Trainers.LightGbm(new LightGbmBinaryTrainer.Options
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
        });
}

/// <summary>L-BFGS logistic regression on mean-imputed, standardised features.</summary>
public sealed class LogisticRegressionLearner : IBinaryLearner
{
    public string Name => BinaryLearnerCatalog.LogisticRegression;

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
        ml.Transforms.ReplaceMissingValues("Features", replacementMode: Microsoft.ML.Transforms.MissingValueReplacingEstimator.ReplacementMode.Mean)
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
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
    public IReadOnlyList<TrialParameters> ProposeConfigurations(int trials, Random rng) => [new TrialParameters()];
    public IEstimator<ITransformer> BuildPipeline(MLContext ml, TrialParameters parameters, int seed) =>
        ml.BinaryClassification.Trainers.Prior();
}
