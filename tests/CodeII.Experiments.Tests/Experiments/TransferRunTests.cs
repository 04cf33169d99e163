using System.Globalization;
using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>A small transfer run on synthetic data: one source in CODE's classes, one target in CPSC's, two shares.</summary>
public sealed class SmallTransferRun : IDisposable
{
    public const string Yaml = """
        name: small-transfer
        seed: 3
        transfer:
          sources:
            code:
              dataset: { kind: synthetic, exams: 400 }
          targets:
            cpsc:
              dataset: { kind: synthetic, taxonomy: cpsc9, exams: 400, sampling_rate_hz: 500, duration_s: 6, max_duration_s: 20, padded_length: 0 }
              label_subsets:
                conduction: [I-AVB, RBBB, LBBB]
                with_normal: [AF, NORM]
          target_fractions: [0.25, 1.0]
        pretrain:
          model: small
          epochs: 2
        learners:
          lightgbm: { trials: 2 }
          logistic_regression: { trials: 1 }
        sweep:
          share: per_subset      # the heads' models are the subsets' own; the matrix must take each subset's
        evaluation:
          bootstrap_replicates: 100
        """;

    public SmallTransferRun()
    {
        Root = RepoPaths.NewTemporaryDirectory();
        Definition = ExperimentDefinitionLoader.Parse(Yaml, "small-transfer.yaml");
        Result = TestRuns.Run(Yaml, "small-transfer.yaml", Root);
    }

    public string Root { get; }
    public ExperimentDefinition Definition { get; }
    public RunResult Result { get; }
    public TransferMetrics Matrix => Result.Transfer!;

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[Collection(nameof(LibtorchCollection))]
public class TransferRunTests(SmallTransferRun run) : IClassFixture<SmallTransferRun>
{
    [Fact]
    public void Every_mode_fills_the_matrix_at_every_share_beside_scratch_the_handcrafted_reference_and_prior()
    {
        string[] rows = ["scratch", "prior", "handcrafted · lightgbm", "handcrafted · logistic_regression",
            "code · zero_shot", "code · linear_probe", "code · gbm_head · lightgbm", "code · fine_tune"];
        foreach (var share in (double[])[0.25, 1.0])
            foreach (var subset in (string[])["conduction", "with_normal"])
            {
                var cells = run.Matrix.Cells.Where(c => c.Share == share && c.Subset == subset).ToArray();
                Assert.Equal(rows.Order(), cells.Select(c => c.Source.Length == 0 ? c.Mode : $"{c.Source} · {c.Mode}").Order());
                Assert.All(cells, c => Assert.InRange(c.MacroAuroc.Value, 0, 1));
                Assert.All(cells.Where(c => c.Mode != "scratch"), c => Assert.NotNull(c.VersusScratch));
            }
        // Each cell is a run folder of its own, with its report.
        Assert.All(run.Matrix.Cells, c => Assert.True(File.Exists(Path.Combine(run.Result.Folder.Path, c.Folder, RunFolder.ReportFile)), c.Folder));
    }

    [Fact]
    public void NORM_which_no_CODE_class_stands_for_is_reported_uncovered_and_zero_shot_scores_the_covered_labels_only()
    {
        var coverage = Assert.Single(run.Matrix.Coverage).Coverage;
        Assert.Equal(["NORM"], coverage.Uncovered);
        Assert.Equal(["RBBB"], coverage.For("RBBB").SourceClasses);
        Assert.Equal(["1dAVb"], coverage.For("I-AVB").SourceClasses);
        var zeroShot = run.Matrix.Cells.Single(c => c.Mode == "zero_shot" && c.Subset == "with_normal" && c.Share == 1.0);
        Assert.Equal(["NORM"], zeroShot.Unscored);
        Assert.Equal(["AF"], zeroShot.Labels);
        var report = File.ReadAllText(run.Result.ReportPath);
        Assert.Contains("data-label=\"NORM\" data-coverage=\"uncovered\"", report);
        Assert.Contains("not covered: NORM", report);
    }

    [Fact]
    public void Every_cell_of_a_share_is_scored_on_the_same_test_patients_and_the_shares_are_nested()
    {
        var folder = run.Result.Folder;
        var splits = run.Matrix.Cells.Select(c => c.Folder).Distinct()
            .Select(f => (Folder: f, Split: CsvTable.Read(Path.Combine(folder.Path, f, RunFolder.SplitFile)))).ToArray();
        string[] Part(CsvTable t, string part) => [.. t.Rows.Where(r => r[t.Column("split")] == part).Select(r => r[t.Column("exam_id")])];
        var test = Part(splits[0].Split, "test");
        Assert.All(splits, s => Assert.Equal(test, Part(s.Split, "test")));
        Assert.All(splits, s => Assert.Equal(Part(splits[0].Split, "validation"), Part(s.Split, "validation")));
        var quarter = splits.First(s => s.Folder.Contains("share-0.25")).Split;
        var whole = splits.First(s => s.Folder.Contains("share-1/")).Split;
        Assert.Subset(Part(whole, "train").ToHashSet(), Part(quarter, "train").ToHashSet());
        Assert.InRange(Part(quarter, "train").Length, 0.2 * Part(whole, "train").Length, 0.35 * Part(whole, "train").Length);
        Assert.Equal(Part(whole, "train").Length - Part(quarter, "train").Length, Part(quarter, "unused").Length);
    }

    [Fact]
    public void Cell_AUROCs_match_an_independent_Mann_Whitney_count_on_the_cells_predictions_and_differences_pair_them()
    {
        var folder = run.Result.Folder;
        foreach (var cell in run.Matrix.Cells.Where(c => c.Share == 1.0 && c.Subset == "conduction"))
        {
            var predictions = CsvTable.Read(Path.Combine(folder.Path, cell.Folder, RunFolder.PredictionsFile));
            foreach (var (label, estimate) in cell.PerLabel)
            {
                var model = cell.Mode switch
                {
                    "scratch" or "fine_tune" => "resnet",
                    "zero_shot" => "zero_shot",
                    "linear_probe" => "logistic_regression",
                    "prior" => "prior",
                    var m => m[(m.LastIndexOf(' ') + 1)..],
                };
                var rows = predictions.Rows.Where(r => r[predictions.Column("split")] == "test" && r[predictions.Column("label")] == label
                    && (r[predictions.Column("model")] == model || r[predictions.Column("model")].EndsWith("/" + model, StringComparison.Ordinal))).ToArray();
                var scored = rows.Select(r => (Score: double.Parse(r[predictions.Column("score")], CultureInfo.InvariantCulture), Positive: r[predictions.Column("truth")] == "1")).ToArray();
                // AUROC as the share of (positive, negative) pairs ranked right, ties counting one half.
                var positives = scored.Where(s => s.Positive).Select(s => s.Score).ToArray();
                var negatives = scored.Where(s => !s.Positive).Select(s => s.Score).ToArray();
                var wins = positives.Sum(p => negatives.Sum(n => p > n ? 1.0 : p == n ? 0.5 : 0));
                Assert.Equal(wins / (positives.Length * (double)negatives.Length), estimate.Value, 9);
            }
            Assert.Equal(cell.PerLabel.Values.Average(e => e.Value), cell.MacroAuroc.Value, 9);
        }
        // The difference to scratch is the difference of the two macro-AUROCs on the full test set.
        var scratch = run.Matrix.Cells.Single(c => c.Share == 1.0 && c.Subset == "conduction" && c.Mode == "scratch");
        var probe = run.Matrix.Cells.Single(c => c.Share == 1.0 && c.Subset == "conduction" && c.Mode == "linear_probe");
        Assert.Equal(probe.MacroAuroc.Value - scratch.MacroAuroc.Value, probe.VersusScratch!.Value, 9);
    }

    [Fact]
    public void A_cell_is_reported_as_the_run_it_is_resumed_only_through_its_transfer_run_and_refuses_another_definition()
    {
        var cell = run.Result.Folder.FileIn(Path.Combine(TransferCell.CellsFolder, "cpsc", "share-1", TransferCell.ScratchArm));
        Assert.Equal(File.ReadAllText(Path.Combine(cell, RunFolder.ReportFile)), RunReport.Render(RunFolder.Open(cell)).Html);
        var resume = Assert.Throws<InvalidDataException>(() => ExperimentRunner.Resume(cell, new RunOptions()));
        Assert.Contains("is a cell of a transfer run: resume the transfer run", resume.Message);
        var scratch = TransferPlan.Cells(run.Definition).First(c => c.Arm == TransferCell.ScratchArm && c.Share == 1.0);
        var changed = Assert.Throws<InvalidDataException>(() => ExperimentRunner.RunIn(cell, scratch.Definition with { Seed = 99 }, "", "x.yaml", new RunOptions()));
        Assert.Contains("made by another definition", changed.Message);
    }

    [Fact]
    public void The_report_rebuilds_from_the_folder_alone_byte_for_byte()
    {
        var copy = Path.Combine(RepoPaths.NewTemporaryDirectory(), "copy");
        foreach (var file in Directory.GetFiles(run.Result.Folder.Path, "*", SearchOption.TopDirectoryOnly))
        {
            Directory.CreateDirectory(copy);
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
        Assert.Equal(File.ReadAllText(run.Result.ReportPath), RunReport.Render(RunFolder.Open(copy)).Html);
    }
}

/// <summary>A network imported from PyTorch weights (the equivalence fixture, the authors' port) as a transfer source.</summary>
[Collection(nameof(LibtorchCollection))]
public class ImportedSourceTransferTests
{
    [Fact]
    public void A_PyTorch_state_dict_serves_as_a_source_in_every_mode_with_scratch_on_the_same_architecture()
    {
        var weights = Path.Combine(RepoPaths.Root, "tests", "fixtures", "pytorch-resnet", "small-pytorch.pt");
        var yaml = $$"""
            name: imported
            seed: 9
            transfer:
              sources:
                torch:
                  weights: {{weights}}
                  classes: [1dAVb, RBBB, LBBB, SB, AF, ST]
                  taxonomy: code6
              targets:
                synthetic:
                  dataset: { kind: synthetic, exams: 300 }
                  label_subsets: { rhythm: [SB, ST, AF] }
            pretrain:
              model: small
              variant: pytorch
              input_samples: 1024
              units: [[6, 1], [13, 4], [20, 4], [26, 4], [32, 4]]
              epochs: 1
            learners:
              lightgbm: { trials: 1 }
              logistic_regression: { trials: 1 }
            evaluation:
              bootstrap_replicates: 30
            """;
        var result = TestRuns.Run(yaml, "imported.yaml", RepoPaths.NewTemporaryDirectory());
        var modes = result.Transfer!.Cells.Where(c => c.Source == "torch").Select(c => c.Mode).Distinct().Order().ToArray();
        Assert.Equal(["fine_tune", "gbm_head · lightgbm", "linear_probe", "zero_shot"], modes);
        // The frozen cell's network is the imported one, in the port's form; scratch trained the same architecture.
        var frozen = result.Folder.FileIn(Path.Combine(TransferCell.CellsFolder, "synthetic", "share-1", "frozen-torch", RunNetwork.Folder, RunNetwork.DescriptionFile));
        var network = System.Text.Json.JsonSerializer.Deserialize<RunNetwork.Description>(File.ReadAllText(frozen), JsonConventions.Options)!;
        Assert.StartsWith("imported from ", network.TrainedOn);
        Assert.Equal(CodeII.Experiments.Features.Learned.ResNetVariant.PyTorch, network.Shape.Variant);
        var scratch = result.Folder.FileIn(Path.Combine(TransferCell.CellsFolder, "synthetic", "share-1", "scratch", RunNetwork.Folder, RunNetwork.DescriptionFile));
        var control = System.Text.Json.JsonSerializer.Deserialize<RunNetwork.Description>(File.ReadAllText(scratch), JsonConventions.Options)!;
        Assert.Equal(network.Shape with { Classes = 3 }, control.Shape with { Units = network.Shape.Units });
        Assert.Equal(network.Shape.Units, control.Shape.Units);
        Assert.Equal(network.Parameters - (6 - 3) * (128 + 1), control.Parameters);
    }
}

public class TransferPlanTests
{
    static TransferCell Cell(string arm, double share, params string[] features) => new(
        new TransferTarget { Name = "t", Dataset = new DatasetDefinition(), LabelSubsets = [] }, share, arm, null,
        new ExperimentDefinition { Features = features });

    [Fact]
    public void Each_reference_feature_set_is_a_row_of_its_own_and_the_probe_a_row_only_when_asked_for()
    {
        var two = Cell(TransferCell.ScratchArm, 1, "handcrafted", "basic");
        Assert.Equal(("", "handcrafted · lightgbm"), TransferPlan.RowOf(two, "handcrafted/lightgbm", [TransferArm.Scratch]));
        Assert.Equal(("", "basic · lightgbm"), TransferPlan.RowOf(two, "basic/lightgbm", [TransferArm.Scratch]));
        Assert.Equal(("", "handcrafted · lightgbm"), TransferPlan.RowOf(Cell(TransferCell.ScratchArm, 1, "handcrafted"), "lightgbm", [TransferArm.Scratch]));
        var frozen = Cell("frozen-s", 1, "learned");
        Assert.Null(TransferPlan.RowOf(frozen, "logistic_regression", [TransferArm.GbmHead, TransferArm.Scratch]));
        Assert.Equal(("", "linear_probe"), TransferPlan.RowOf(frozen, "logistic_regression", [TransferArm.LinearProbe]));
    }

    [Fact]
    public void Shares_that_round_alike_get_folders_of_their_own()
    {
        Assert.NotEqual(Cell("scratch", 0.0025).RelativeFolder, Cell("scratch", 0.003).RelativeFolder);
        Assert.EndsWith(Path.Combine("share-0.05", "scratch"), Cell("scratch", 0.05).RelativeFolder);
    }
}
