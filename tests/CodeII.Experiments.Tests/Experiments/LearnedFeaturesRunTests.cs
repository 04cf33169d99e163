using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>A run comparing handcrafted, learned and fused features with the network's own outputs: tiny on purpose.</summary>
[Collection(nameof(LibtorchCollection))]
public class LearnedFeaturesRunTests : IDisposable
{
    const string Yaml = """
        name: learned
        seed: 3
        dataset:
          kind: synthetic
          exams: 240
        label_subsets:
          rhythm: [SB, ST, AF]
        features: [basic, learned, basic+learned]
        pretrain:
          model: small
          epochs: 2
        learners:
          logistic_regression: { trials: 1 }
        evaluation:
          bootstrap_replicates: 50
        """;

    readonly string _root = RepoPaths.NewTemporaryDirectory();

    RunResult Run(string yaml = Yaml, IProgress<StageProgress>? progress = null) =>
        ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, "learned.yaml"), yaml, "learned.yaml",
            new RunOptions { RunsRoot = Path.Combine(_root, "runs"), FeatureCacheDirectory = Path.Combine(_root, "cache", "features"), MaxThreads = 2, Progress = progress });


    /// <summary>The same experiment with the network pre-trained on another synthetic dataset, on four classes of which
    /// one (AF) is not among them: its own outputs cannot score every label of the experiment.</summary>
    static string Transfer(string mode) => Yaml.Replace("""
          epochs: 2
        """, $"""
          epochs: 2
          transfer: {mode}
          fine_tune_epochs: 1
          labels: [SB, ST, 1dAVb, LBBB]
          dataset:
            kind: synthetic
            exams: 200

        """);

    [Fact]
    public void A_frozen_encoder_from_another_dataset_gives_the_learned_features_and_no_end_to_end_model_when_labels_differ()
    {
        var run = Run(Transfer("frozen"));
        // The ensemble rank-averages the three selected models (the prior aside).
        Assert.Equal(["basic/logistic_regression", "learned/logistic_regression", "basic+learned/logistic_regression", "prior", "ensemble"],
            run.Metrics.Subsets[0].MacroAuroc.Keys);
        var network = run.Manifest.Network!;
        Assert.Contains("exams=200", network.TrainedOn);
        Assert.Contains("seed=1003", network.TrainedOn); // the experiment's seed + 1000: not the experiment's own exams
        Assert.EndsWith("frozen", network.TrainedOn);
        Assert.Equal(71_367 - 6 * 128 - 6 + 4 * 128 + 4, network.Parameters); // a 4-class head
    }

    [Fact]
    public void Fine_tuning_starts_from_the_source_encoder_and_learns_the_experiments_labels()
    {
        var run = Run(Transfer("fine_tune"));
        Assert.Contains("resnet", run.Metrics.Subsets[0].MacroAuroc.Keys);
        var network = run.Manifest.Network!;
        Assert.Contains("then fine-tuned", network.TrainedOn);
        Assert.Equal(1, network.EpochsTrained);
        // The manifest names the run's own copy of the fine-tuned weights.
        Assert.Equal(run.Folder.FileIn("network"), network.CheckpointFolder);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Every_feature_set_and_the_network_itself_are_compared_and_a_second_run_reuses_the_network()
    {
        var recorder = new ProgressRecorder();
        var first = Run(progress: recorder);
        var models = first.Metrics.Subsets[0].MacroAuroc.Keys.ToArray();
        // Training reports every batch of every epoch with its live figures, and the embeddings stage ends complete.
        foreach (var stage in new[] { "pretrain", "embeddings", "sweep" })
        {
            var reports = recorder.Reports.Where(r => r.Stage == stage).ToArray();
            Assert.NotEmpty(reports);
            Assert.All(reports, r => Assert.InRange(r.Done, 0, r.Total));
            Assert.Equal(reports[^1].Total, reports.Max(r => r.Done));
        }
        Assert.Contains(recorder.Reports, r => r.Stage == "pretrain" && r.Detail!.StartsWith("epoch 2/2 · loss ") && r.Detail.Contains("val AUROC") && r.Detail.EndsWith("ECGs/s"));
        Assert.Equal(["basic/logistic_regression", "learned/logistic_regression", "basic+learned/logistic_regression", "prior", "resnet", "ensemble"], models);

        var network = first.Manifest.Network!;
        Assert.Equal(2, network.EpochsTrained);
        Assert.Equal(71_367 - 6 * 128 - 6 + 3 * 128 + 3, network.Parameters); // the small shape with a 3-class head
        Assert.Matches("^[0-9a-f]{64}$", network.CheckpointSha256);
        Assert.Equal($"checkpoint sha256:{network.CheckpointSha256}", first.Manifest.FeatureVersions["learned"]);

        // The fused set has the basic features followed by the 128 learned ones; every trial says which set it used.
        var trials = File.ReadAllLines(first.Folder.FileIn(RunFolder.TrialsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3 * 3 + 3, trials.Length);
        Assert.Equal(trials.Length, trials.Select(t => (t.GetProperty("stream").GetString(), t.GetProperty("trial").GetInt32())).Distinct().Count());
        Assert.Equal(["basic", "basic+learned", "learned"], trials.Select(t => t.GetProperty("feature_set").GetString()).OfType<string>().Distinct().Order());

        var report = File.ReadAllText(first.ReportPath);
        Assert.Contains("id=\"network\"", report);
        Assert.Contains("data-learner=\"resnet\"", report);

        // Same definition and seed: the network comes from the cache and the metrics are identical.
        var second = Run();
        Assert.Equal(network.CheckpointSha256, second.Manifest.Network!.CheckpointSha256);
        Assert.Equal(File.ReadAllText(first.Folder.FileIn(RunFolder.MetricsFile)), File.ReadAllText(second.Folder.FileIn(RunFolder.MetricsFile)));
    }
}
