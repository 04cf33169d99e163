using CodeII.Experiments.Experiments;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>Runs a definition in-process under a folder of the test's, with its own feature and network caches.</summary>
static class TestRuns
{
    public static RunResult Run(string yaml, string name, string root, int maxThreads = 2) =>
        ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, name), yaml, name, new RunOptions
        {
            RunsRoot = Path.Combine(root, "runs"), FeatureCacheDirectory = Path.Combine(root, "cache", "features"), MaxThreads = maxThreads,
        });
}
