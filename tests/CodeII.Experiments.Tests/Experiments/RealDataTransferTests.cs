using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// A network pre-trained on synthetic exams in CODE's layout and classes, transferred to real data: PTB-XL records
/// 1–400 on their predefined folds (statements, through SNOMED-CT) and the Georgia and HR Challenge records (the
/// Challenge's scored classes). Records 401–500 and the JS* records are reserved for acceptance checks and never read.
/// </summary>
public sealed class RealDataTransferRun : IDisposable
{
    public static string Yaml() => $$"""
        name: code-to-real
        seed: 5
        transfer:
          sources:
            code:
              dataset: { kind: synthetic, exams: 300 }
          targets:
            ptbxl:
              dataset: { kind: ptb-xl, path: {{RepoPaths.Shared("ptbxl")}}, sampling_rate_hz: 100, ecg_ids: [1, 400], labels: statement }
              label_subsets:
                conduction: [CRBBB, IRBBB, CLBBB, 1AVB]
                rhythm: [SR, AFIB, SBRAD, STACH]
              splits: { kind: predefined }
            challenge:
              dataset: { kind: challenge, path: {{RepoPaths.Shared("cinc2021")}}, record_prefixes: [E, HR] }
              label_subsets:
                scored: [SB, STach, NSR, RBBB, IRBBB, IAVB]
              splits: { train: 0.5, validation: 0.25 }
        pretrain:
          model: small
          epochs: 1
        learners:
          lightgbm: { trials: 1 }
          logistic_regression: { trials: 1 }
        evaluation:
          bootstrap_replicates: 50
        """;

    public RealDataTransferRun()
    {
        Root = RepoPaths.NewTemporaryDirectory();
        Result = TestRuns.Run(Yaml(), "code-to-real.yaml", Root);
    }

    public string Root { get; }
    public RunResult Result { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[Collection(nameof(LibtorchCollection))]
public class RealDataTransferTests(RealDataTransferRun run) : IClassFixture<RealDataTransferRun>
{
    TransferMetrics Matrix => run.Result.Transfer!;

    [Fact]
    public void Every_mode_runs_on_PTB_XL_and_on_the_Challenge_records()
    {
        foreach (var target in (string[])["ptbxl", "challenge"])
        {
            var modes = Matrix.Cells.Where(c => c.Target == target).Select(c => c.Mode).Distinct().ToArray();
            foreach (var mode in (string[])["zero_shot", "linear_probe", "gbm_head · lightgbm", "fine_tune", "scratch", "prior"])
                Assert.Contains(mode, modes);
        }
        // PTB-XL's test part is its fold 10, as the predefined split says.
        var database = CodeII.Experiments.Data.PtbXl.PtbXlDatabase.Load(RepoPaths.Shared("ptbxl"));
        Assert.Equal(database.Exams.Count(e => e.EcgId <= 400 && e.StratFold == 10), Matrix.Targets.Single(t => t.Target == "ptbxl").TestExams);
        // The Challenge records have no patient ids: the report says each record is its own patient.
        var challenge = Matrix.Targets.Single(t => t.Target == "challenge");
        Assert.True(challenge.RecordIsPatient);
        Assert.Equal(challenge.TestExams, challenge.TestPatients);
        Assert.Contains("each record is taken as its own patient", File.ReadAllText(run.Result.ReportPath));
        // So do each cell's manifest and report on those records, and not those on PTB-XL, which has patient ids.
        var cell = RunFolder.Open(run.Result.Folder.FileIn(Path.Combine(TransferCell.CellsFolder, "challenge", "share-1", TransferCell.ScratchArm)));
        Assert.Equal(FeaturesStage.RecordIsPatient, cell.ReadManifest().Patients);
        Assert.Contains("each exam is its own patient", File.ReadAllText(cell.FileIn(RunFolder.ReportFile)));
        Assert.Null(RunFolder.Open(run.Result.Folder.FileIn(Path.Combine(TransferCell.CellsFolder, "ptbxl", "share-1", TransferCell.ScratchArm))).ReadManifest().Patients);
    }

    [Fact]
    public void CODE_RBBB_covers_PTB_XL_CRBBB_not_IRBBB_and_first_degree_block_maps_to_1AVB_and_IAVB()
    {
        var ptbxl = Matrix.Coverage.Single(c => c.Target == "ptbxl").Coverage;
        Assert.Equal(["RBBB"], ptbxl.For("CRBBB").SourceClasses);
        Assert.Equal(CoverageKind.Uncovered, ptbxl.For("IRBBB").Kind);
        Assert.Equal(["LBBB"], ptbxl.For("CLBBB").SourceClasses);
        Assert.Equal(["1dAVb"], ptbxl.For("1AVB").SourceClasses);
        Assert.Equal(["AF"], ptbxl.For("AFIB").SourceClasses);
        Assert.Equal(CoverageKind.Uncovered, ptbxl.For("SR").Kind);
        var challenge = Matrix.Coverage.Single(c => c.Target == "challenge").Coverage;
        Assert.Equal(["1dAVb"], challenge.For("IAVB").SourceClasses);
        Assert.Equal(["RBBB"], challenge.For("RBBB").SourceClasses);
        Assert.Equal(["ST"], challenge.For("STach").SourceClasses);
        Assert.Equal(["IRBBB", "NSR"], challenge.Uncovered.Order());
        // Zero-shot never scores an uncovered label.
        Assert.All(Matrix.Cells.Where(c => c.Mode == "zero_shot"), c => Assert.DoesNotContain("IRBBB", c.Labels));
    }
}
