using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>A disk that fills while a run writes its logs: the error names the log that could not be written.</summary>
public class FullDiskTests
{
    const string Yaml = """
        name: full
        dataset: { exams: 200 }
        label_subsets: { rhythm: [SB, ST, AF] }
        learners: { lightgbm: { trials: 2 } }
        evaluation: { bootstrap_replicates: 20, importance: false }
        """;

    [Fact]
    public void A_full_disk_under_the_trial_log_is_reported_as_the_trial_log_and_the_unwritable_event_log_does_not_hide_it()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        string? folder = null;
        var options = new RunOptions
        {
            RunsRoot = Path.Combine(root, "runs"), FeatureCacheDirectory = null, MaxThreads = 1,
            RunFolderReady = f => folder = f.Path,
            // The disk fills as the sweep starts: every write to /dev/full fails with ENOSPC, and the event log, where
            // the failure would be recorded, fails the same way.
            SweepStarting = _ =>
            {
                foreach (var log in new[] { RunFolder.TrialsFile, RunEvents.File })
                {
                    File.Delete(Path.Combine(folder!, log));
                    File.CreateSymbolicLink(Path.Combine(folder!, log), "/dev/full");
                }
            },
        };
        var error = Assert.Throws<IOException>(() => ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(Yaml, "full.yaml"), Yaml, "full.yaml", options));
        Assert.Equal($"{Path.Combine(folder!, RunFolder.TrialsFile)}: cannot append to this log: the disk is full", error.Message);
    }
}
