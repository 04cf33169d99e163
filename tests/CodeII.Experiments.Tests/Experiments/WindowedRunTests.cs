using System.Globalization;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Models;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>Records of 6 to 20 s read by the network as sliding windows, in a run and again from its saved bundles.</summary>
[Collection(nameof(LibtorchCollection))]
public class WindowedRunTests
{
    const string Yaml = """
        name: windows
        seed: 4
        dataset: { kind: synthetic, exams: 240, sampling_rate_hz: 250, duration_s: 6, max_duration_s: 20, padded_length: 0 }
        label_subsets: { rhythm: [SB, ST, AF] }
        features: [learned]
        pretrain: { model: small, epochs: 1, input: windows, window_aggregate: max, window_stride: 0.5 }
        learners: { lightgbm: { trials: 1 }, logistic_regression: { trials: 1 } }
        evaluation: { bootstrap_replicates: 20 }
        """;

    [Fact]
    public void The_saved_models_score_new_records_through_the_same_windows_as_the_run()
    {
        var definition = ExperimentDefinitionLoader.Parse(Yaml, "windows.yaml");
        var result = TestRuns.Run(Yaml, "windows.yaml", RepoPaths.NewTemporaryDirectory());
        var bundles = ModelsStage.Bundles(result.Folder).Select(b => ModelBundle.Load(result.Folder.FileIn(b))).ToArray();
        Assert.All(bundles.Where(b => b.Description.Network is not null), b => Assert.Equal(CodeII.Experiments.Features.Learned.InputWindowing.Windows, b.Description.Network!.Input.Windowing));
        var predicted = new Dictionary<(string, string, string), float>();
        new BatchPredictor(bundles, 2).Run(new SyntheticEcgGenerator(definition.Dataset.Synthetic), rows =>
        {
            foreach (var p in rows) predicted[(p.ExamId, p.Label, p.Model)] = p.Score;
        });
        var test = CsvTable.Read(result.Folder.FileIn(RunFolder.PredictionsFile));
        var rows = test.Rows.Where(r => r[test.Column("split")] == "test").ToArray();
        Assert.Contains(rows, r => r[test.Column("model")] == "resnet");
        Assert.All(rows, r => Assert.Equal(double.Parse(r[test.Column("score")], CultureInfo.InvariantCulture),
            predicted[(r[test.Column("exam_id")], r[test.Column("label")], r[test.Column("model")])], 1e-6));
        foreach (var b in bundles) b.Dispose();
    }
}
