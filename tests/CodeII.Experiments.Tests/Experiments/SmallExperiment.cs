using CodeII.Experiments.Experiments;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>A small but complete experiment, run once and shared by the end-to-end and report tests.</summary>
public sealed class SmallExperiment
{
    public const string Yaml = """
        name: small
        seed: 5
        dataset:
          kind: synthetic
          exams: 700
        label_subsets:
          code6: [1dAVb, RBBB, LBBB, SB, AF, ST]
          rhythm: [SB, ST, AF]
        learners:
          lightgbm: { trials: 2 }
          logistic_regression: { trials: 1 }
        evaluation:
          bootstrap_replicates: 200
        """;

    public SmallExperiment()
    {
        RunsRoot = RepoPaths.NewTemporaryDirectory();
        Definition = ExperimentDefinitionLoader.Parse(Yaml, "small.yaml");
        Result = Run();
    }

    public string RunsRoot { get; }
    public ExperimentDefinition Definition { get; }
    public RunResult Result { get; }

    // No feature cache: each run must extract, so the determinism test covers extraction too.
    public RunResult Run() => ExperimentRunner.Run(Definition, Yaml, "small.yaml", new RunOptions { RunsRoot = RunsRoot, FeatureCacheDirectory = null });
}
