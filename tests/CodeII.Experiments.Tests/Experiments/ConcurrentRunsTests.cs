using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>Several runs at once over one cache and one runs folder, as a user starting a batch of runs does. Alone, so
/// their load does not slow the tests that check how soon a cancelled fit stops.</summary>
[Collection(nameof(AloneCollection))]
public class ConcurrentRunsTests
{
    const string Yaml = """
        name: batch
        dataset: { exams: 200 }
        label_subsets: { rhythm: [SB, ST, AF] }
        learners: { lightgbm: { trials: 1 } }
        evaluation: { bootstrap_replicates: 20, importance: false }
        """;

    [Fact]
    public void Six_runs_started_together_on_a_cold_cache_all_finish_each_in_its_own_folder()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var options = new RunOptions { RunsRoot = Path.Combine(root, "runs"), FeatureCacheDirectory = Path.Combine(root, "cache"), MaxThreads = 1 };
        var definition = ExperimentDefinitionLoader.Parse(Yaml, "batch.yaml");
        using var start = new Barrier(6);
        var results = new RunResult[6];
        var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        var threads = Enumerable.Range(0, 6).Select(k => new Thread(() =>
        {
            start.SignalAndWait();
            try { results[k] = ExperimentRunner.Run(definition, Yaml, "batch.yaml", options); }
            catch (Exception e) { failures.Add(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(failures);

        Assert.Equal(6, results.Select(r => r.Folder.Path).Distinct().Count());
        Assert.All(results, r => Assert.True(File.Exists(r.Folder.FileIn(RunFolder.MetricsFile)), r.Folder.Path));
        // The same data and seed: every run's metrics are the same, whichever wrote the cache file.
        var first = File.ReadAllText(results[0].Folder.FileIn(RunFolder.MetricsFile));
        Assert.All(results, r => Assert.Equal(first, File.ReadAllText(r.Folder.FileIn(RunFolder.MetricsFile))));
        Assert.Single(Directory.GetFiles(Path.Combine(root, "cache"), "*.arrow"));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "cache"), "*.tmp"));
        Assert.Empty(Directory.GetFiles(Path.Combine(root, "runs", "batch"), ".*.claim"));
    }

    [Fact]
    public void Run_folders_created_in_the_same_second_by_many_runs_are_all_distinct()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var second = new DateTime(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);
        const int runs = 16;
        for (var round = 0; round < 5; round++)
        {
            using var start = new Barrier(runs);
            var created = new System.Collections.Concurrent.ConcurrentBag<string>();
            var failures = new System.Collections.Concurrent.ConcurrentBag<Exception>();
            var threads = Enumerable.Range(0, runs).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                try { created.Add(RunFolder.Create(root, $"same{round}", second).Path); }
                catch (Exception e) { failures.Add(e); }
            })).ToArray();
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            Assert.Empty(failures);
            Assert.Equal(runs, created.Distinct().Count());
            Assert.Empty(Directory.GetFiles(Path.Combine(root, $"same{round}"), ".*.claim"));
        }
    }

    [Fact]
    public void A_cache_that_cannot_be_written_is_a_note_in_the_manifest_and_the_run_goes_on()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        // A cache folder below a file cannot be created, whoever runs the test (root ignores read-only modes).
        File.WriteAllText(Path.Combine(root, "a-file"), "");
        var options = new RunOptions { RunsRoot = Path.Combine(root, "runs"), FeatureCacheDirectory = Path.Combine(root, "a-file", "cache") };
        var result = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(Yaml, "batch.yaml"), Yaml, "batch.yaml", options);
        Assert.True(File.Exists(result.Folder.FileIn(RunFolder.MetricsFile)));
        Assert.StartsWith("miss, not cached (", result.Manifest.FeatureCache);
    }
}

/// <summary>Tests that run with no other test beside them.</summary>
[CollectionDefinition(nameof(AloneCollection), DisableParallelization = true)]
public class AloneCollection;
