using System.Text.Json;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>What a resume must refuse or repair before it builds on an earlier session's artefacts.</summary>
public class ResumeGuardTests
{
    static string Yaml(string data) => $"""
        name: guarded
        seed: 4
        dataset: {"{"} kind: code, path: {data} {"}"}
        label_subsets: {"{"} rhythm: [SB, ST, AF] {"}"}
        learners: {"{"} lightgbm: {"{"} trials: 2 {"}"} {"}"}
        evaluation: {"{"} bootstrap_replicates: 20 {"}"}
        """;

    static RunResult Run(string root, string yaml) =>
        ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, "guarded.yaml"), yaml, "guarded.yaml", new RunOptions { RunsRoot = root, FeatureCacheDirectory = null });

    [Fact]
    public void A_resume_whose_data_changed_since_the_run_started_is_refused_rather_than_reusing_its_split_and_models()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var data = Path.Combine(root, "data");
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 200, Seed = 1 }), data);
        var first = Run(root, Yaml(data));
        File.Delete(first.Folder.FileIn(RunFolder.MetricsFile));
        File.Delete(first.Folder.FileIn(RunFolder.ManifestFile));

        // The same exam ids, other patients, labels and signals.
        Directory.Delete(data, recursive: true);
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 200, Seed = 2 }), data);
        var error = Assert.Throws<InvalidDataException>(() => ExperimentRunner.Resume(first.Folder.Path, new RunOptions { RunsRoot = root, FeatureCacheDirectory = null }));
        Assert.Contains("the data or the feature extractors changed since this run started", error.Message);
        Assert.Equal(RunEvent.Failed, new RunEvents(first.Folder).Read()[^1].Event);
        Assert.False(File.Exists(first.Folder.FileIn(RunFolder.MetricsFile)));
    }

    [Fact]
    public void A_torn_last_event_is_dropped_when_the_run_resumes_and_the_run_ends_as_before()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        var data = Path.Combine(root, "data");
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 200, Seed = 1 }), data);
        var first = Run(root, Yaml(data));
        var metrics = File.ReadAllText(first.Folder.FileIn(RunFolder.MetricsFile));
        File.Delete(first.Folder.FileIn(RunFolder.MetricsFile));
        File.Delete(first.Folder.FileIn(RunFolder.ManifestFile));
        File.AppendAllText(first.Folder.FileIn(RunEvents.File), "{\"time_utc\":\"2026-12-02T01:00:00Z\",\"ev");

        var resumed = ExperimentRunner.Resume(first.Folder.Path, new RunOptions { RunsRoot = root, FeatureCacheDirectory = null });
        Assert.Equal(metrics, File.ReadAllText(resumed.Folder.FileIn(RunFolder.MetricsFile)));
        var lines = File.ReadAllLines(first.Folder.FileIn(RunEvents.File));
        Assert.All(lines, l => JsonDocument.Parse(l).Dispose());
        // The resumed session skipped what the first had finished, and redid only the evaluation and the report.
        var resumedAt = Array.FindIndex(lines, l => l.Contains("\"event\":\"resumed\""));
        Assert.Equal(["features", "evaluation", "report"], lines.Skip(resumedAt).Where(l => l.Contains("stage_started")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("stage").GetString()));
    }
}
