using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Experiments;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>Experiments on real PTB-XL records (ids 1–400 only; 401–500 are reserved for acceptance checks).</summary>
public class RealDataExperimentTests
{
    static string Yaml(string path, bool skip) => $"""
        name: ptbxl-small
        seed: 3
        dataset:
          kind: ptb-xl
          path: {path}
          sampling_rate_hz: 100
          ecg_ids: [1, 400]
          skip_bad_records: {(skip ? "true" : "false")}
        splits:
          kind: predefined
        label_subsets:
          superclasses: [NORM, MI, STTC, CD, HYP]
        learners:
          lightgbm: {"{"} trials: 1 {"}"}
        evaluation:
          bootstrap_replicates: 50
        """;

    [Fact]
    public void PTB_XL_runs_on_its_predefined_folds_with_patients_kept_apart()
    {
        var yaml = Yaml(RepoPaths.Shared("ptbxl"), skip: false);
        var definition = ExperimentDefinitionLoader.Parse(yaml, "ptbxl-small.yaml");
        var result = ExperimentRunner.Run(definition, yaml, "ptbxl-small.yaml", new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory() });
        var database = CodeII.Experiments.Data.PtbXl.PtbXlDatabase.Load(RepoPaths.Shared("ptbxl"));
        var fold10 = database.Exams.Count(e => e.EcgId <= 400 && e.StratFold == 10);
        Assert.Equal(fold10, result.Metrics.TestExams);
        var superclasses = result.Metrics.Subsets.Single();
        Assert.Equal(["NORM", "MI", "STTC", "CD", "HYP"], superclasses.PerLabel.Select(l => l.Label));
        // NORM is common enough in 40 test exams to be learnable from rhythm and amplitude features.
        var norm = superclasses.PerLabel[0];
        Assert.True(norm.Models.Single(m => m.Learner == "lightgbm").Auroc.Value > 0.6);
        Assert.Equal(0, result.Manifest.SkippedRecords);

        // The benchmark of Strodthoff et al.: macro-AUROC over the superdiagnostic task's five labels on fold 10,
        // recounted here from predictions.csv as the Mann–Whitney share of positive–negative pairs ranked right.
        var benchmark = Assert.Single(result.Metrics.Benchmarks!);
        Assert.Equal("PTB-XL superdiagnostic: macro-AUROC", benchmark.Name);
        Assert.Contains("every label of the task", benchmark.Description);
        Assert.Contains("recommended test fold", benchmark.Description);
        var rows = CsvTable.Read(result.Folder.FileIn(RunFolder.PredictionsFile));
        var (split, label, model, score, truth, subset) = (rows.Column("split"), rows.Column("label"), rows.Column("model"), rows.Column("score"), rows.Column("truth"), rows.Column("subset"));
        double MannWhitney(string l)
        {
            var test = rows.Rows.Where(r => r[split] == "test" && r[label] == l && r[model] == "lightgbm" && r[subset].Length == 0)
                .Select(r => (Score: double.Parse(r[score], System.Globalization.CultureInfo.InvariantCulture), Positive: r[truth] == "1")).ToArray();
            var positives = test.Where(t => t.Positive).ToArray();
            var negatives = test.Where(t => !t.Positive).ToArray();
            return positives.Sum(p => negatives.Sum(n => p.Score > n.Score ? 1.0 : p.Score == n.Score ? 0.5 : 0)) / (positives.Length * (double)negatives.Length);
        }
        Assert.Equal(new[] { "NORM", "MI", "STTC", "CD", "HYP" }.Average(MannWhitney), benchmark.Models["lightgbm"].Value, 12);
    }

    [Fact]
    public void A_label_the_dataset_lacks_is_named_before_any_work()
    {
        var yaml = Yaml(RepoPaths.Shared("ptbxl"), skip: false).Replace("[NORM, MI, STTC, CD, HYP]", "[NORM, AFIB]");
        var definition = ExperimentDefinitionLoader.Parse(yaml, "x.yaml");
        var e = Assert.Throws<EcgDataException>(() => Datasets.CreateSource(definition));
        Assert.Equal("label_subsets.superclasses", e.Field);
        Assert.Contains("'AFIB' is not a class", e.Message);
    }

    static string SmallPtbXlCopy(int records, int corrupted)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.Copy(RepoPaths.Shared("ptbxl", "scp_statements.csv"), Path.Combine(dir, "scp_statements.csv"));
        var lines = File.ReadAllLines(RepoPaths.Shared("ptbxl", "ptbxl_database.csv"));
        File.WriteAllLines(Path.Combine(dir, "ptbxl_database.csv"), lines.Take(records + 1));
        var target = Path.Combine(dir, "records100", "00000");
        Directory.CreateDirectory(target);
        for (var id = 1; id <= records; id++)
            foreach (var ext in new[] { ".hea", ".dat" })
                File.Copy(RepoPaths.Shared("ptbxl", "records100", "00000", $"{id:D5}_lr{ext}"), Path.Combine(target, $"{id:D5}_lr{ext}"));
        var bad = Path.Combine(target, $"{corrupted:D5}_lr.dat");
        File.WriteAllBytes(bad, File.ReadAllBytes(bad)[..1000]);
        return dir;
    }

    [Fact]
    public void A_bad_record_stops_the_run_with_its_name_unless_skipping_is_asked_for_and_then_it_is_listed()
    {
        var dir = SmallPtbXlCopy(records: 120, corrupted: 17);
        var strict = Yaml(dir, skip: false).Replace("kind: predefined", "kind: stratified");
        var e = Assert.Throws<EcgDataException>(() => ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(strict, "s.yaml"), strict, "s.yaml",
            new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory() }));
        Assert.Equal("00017_lr", e.Record);

        // Every other way a record can be broken is skipped the same way, and a record kept with a warning is listed too;
        // so is an exam whose labels cannot be read: ecg_id 30's likelihood "1e" (written by hand over its 100.0).
        Tests.Data.HostileRecords.ApplyAll(Path.Combine(dir, "records100", "00000"));
        var database = Path.Combine(dir, "ptbxl_database.csv");
        File.WriteAllLines(database, File.ReadAllLines(database).Select(l => l.StartsWith("30,", StringComparison.Ordinal) ? l.Replace("{'LVH': 100.0,", "{'LVH': 1e,") : l));
        var lenient = Yaml(dir, skip: true).Replace("kind: predefined", "kind: stratified");
        var result = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(lenient, "l.yaml"), lenient, "l.yaml", new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory() });
        var faults = Tests.Data.HostileRecords.Faults;
        Assert.Equal(2 + faults.Count, result.Manifest.SkippedRecords);
        var skipped = CsvTable.Read(result.Folder.FileIn(RunFolder.SkippedRecordsFile));
        Assert.Equal(["exam_id", "file", "field", "reason"], skipped.Header);
        Assert.Equal(["17", .. faults.Select(f => f.EcgId.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append("30").Order(StringComparer.Ordinal)],
            skipped.Rows.Select(r => r[0]));
        var labels = Assert.Single(skipped.Rows, r => r[0] == "30");
        Assert.Equal([database, "scp_codes", "the likelihood '1e' of 'LVH' is not a number"], labels[1..]);
        Assert.EndsWith("00017_lr.dat", skipped.Rows[0][1]);
        Assert.Equal("number of samples", skipped.Rows[0][2]);
        Assert.Contains("truncated", skipped.Rows[0][3]);
        foreach (var fault in faults)
        {
            var row = Assert.Single(skipped.Rows, r => r[0] == fault.EcgId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Contains(Path.Combine("records100", "00000", $"{fault.EcgId:D5}_lr."), row[1]);
            Assert.Equal(fault.Field, row[2]);
            Assert.Contains(fault.Reason, row[3]);
        }
        var warnings = CsvTable.Read(result.Folder.FileIn(RunFolder.RecordWarningsFile));
        var warning = Assert.Single(warnings.Rows);
        Assert.Equal(Tests.Data.HostileRecords.UncalibratedEcgId.ToString(System.Globalization.CultureInfo.InvariantCulture), warning[0]);
        Assert.StartsWith("ADC gain 0 (uncalibrated) on lines 2, 3,", warning[1]);
        var report = File.ReadAllText(result.ReportPath);
        Assert.Contains($"{2 + faults.Count} records skipped", report);
        Assert.Contains("1 warnings about records kept", report);
        using var manifest = JsonDocument.Parse(File.ReadAllText(result.Folder.FileIn(RunFolder.ManifestFile)));
        Assert.Equal(2 + faults.Count, manifest.RootElement.GetProperty("skipped_records").GetInt32());
        Assert.Equal(1, manifest.RootElement.GetProperty("record_warnings").GetInt32());
    }
}
