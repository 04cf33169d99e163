using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Models;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Tests.Features.Learned;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>One small run with every kind of model (LightGBM, an ML.NET learner, the prior, learned and fused features,
/// the network's own outputs), shared by the tests of what its folder keeps.</summary>
public sealed class KeptModelsRun : IDisposable
{
    public const string Yaml = """
        name: kept
        seed: 7
        dataset:
          kind: synthetic
          exams: 300
        label_subsets:
          rhythm: [SB, ST, AF]
        features: [basic, learned, basic+learned]
        pretrain:
          model: small
          epochs: 1
        learners:
          lightgbm: { trials: 2 }
          logistic_regression: { trials: 1 }
        evaluation:
          bootstrap_replicates: 50
        """;

    public KeptModelsRun()
    {
        Root = RepoPaths.NewTemporaryDirectory();
        var definition = ExperimentDefinitionLoader.Parse(Yaml, "kept.yaml");
        Result = ExperimentRunner.Run(definition, Yaml, "kept.yaml", new RunOptions
        {
            RunsRoot = Path.Combine(Root, "runs"), FeatureCacheDirectory = Path.Combine(Root, "cache", "features"), MaxThreads = 2,
            SweepStarting = engine => SweptExams = [.. engine.FeatureSets.SelectMany(s => s.Table.ExamIds)],
        });
        Source = new SyntheticEcgGenerator(definition.Dataset.Synthetic);
    }

    public string Root { get; }
    public RunResult Result { get; }
    public IEcgSource Source { get; }
    public IReadOnlyList<string> SweptExams { get; private set; } = [];

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[Collection(nameof(LibtorchCollection))]
public class RunKeepsItsModelsTests(KeptModelsRun run) : IClassFixture<KeptModelsRun>
{
    RunFolder Folder => run.Result.Folder;

    static CsvTable Csv(string path) => CsvTable.Read(path);

    [Fact]
    public void Split_csv_lists_every_exam_once_and_no_patient_straddles_two_parts()
    {
        var split = Csv(Folder.FileIn(RunFolder.SplitFile));
        Assert.Equal(["exam_id", "patient_id", "split"], split.Header);
        Assert.Equal(300, split.Rows.Count);
        Assert.Equal(300, split.Rows.Select(r => r[0]).Distinct().Count());
        Assert.All(split.Rows.GroupBy(r => r[1]), patient => Assert.Single(patient.Select(r => r[2]).Distinct()));
        Assert.Equal(["test", "train", "validation"], split.Rows.Select(r => r[2]).Distinct().Order());
        // The exams are the dataset's, in its order.
        Assert.Equal(Enumerable.Range(0, 300).Select(run.Source.ExamIdAt), split.Rows.Select(r => r[0]));
    }

    [Fact]
    public void The_sweep_is_given_the_training_and_validation_exams_and_no_test_exam()
    {
        var split = Csv(Folder.FileIn(RunFolder.SplitFile)).Rows.ToLookup(r => r[2], r => r[0]);
        Assert.NotEmpty(run.SweptExams);
        Assert.Empty(run.SweptExams.Intersect(split["test"]));
        Assert.Equal(split["train"].Concat(split["validation"]).Order(), run.SweptExams.Distinct().Order());
    }

    [Fact]
    public void Every_metric_recomputed_from_predictions_csv_equals_metrics_json()
    {
        var predictions = Csv(Folder.FileIn(RunFolder.PredictionsFile));
        Assert.Equal(["exam_id", "patient_id", "split", "label", "model", "subset", "score", "threshold", "decision", "truth"], predictions.Header);
        var metrics = JsonDocument.Parse(File.ReadAllText(Folder.FileIn(RunFolder.MetricsFile))).RootElement;
        var checkedModels = 0;
        foreach (var label in metrics.GetProperty("subsets")[0].GetProperty("per_label").EnumerateArray())
            foreach (var model in label.GetProperty("models").EnumerateArray())
            {
                var name = model.GetProperty("learner").GetString()!;
                var rows = predictions.Rows.Where(r => r[2] == "test" && r[3] == label.GetProperty("label").GetString() && r[4] == name).ToArray();
                Assert.Equal(metrics.GetProperty("test_exams").GetInt32(), rows.Length);
                var scores = rows.Select(r => double.Parse(r[6], CultureInfo.InvariantCulture)).ToArray();
                var threshold = double.Parse(rows[0][7], CultureInfo.InvariantCulture);
                var truth = rows.Select(r => r[9] == "1").ToArray();
                // The decision column is score ≥ threshold on the values as written, ties included.
                Assert.Equal(rows.Select(r => r[8] == "1"), scores.Select(s => s >= threshold));
                Assert.Equal(threshold, model.GetProperty("threshold").GetDouble());
                Assert.Equal(Reference.Auroc(scores, truth), model.GetProperty("auroc").GetProperty("value").GetDouble(), 12);
                Assert.Equal(Reference.AveragePrecision(scores, truth), model.GetProperty("auprc").GetProperty("value").GetDouble(), 12);
                // F1 is a ratio of counts: the same double however it is computed. AUROC and AP sum in another order here.
                Assert.Equal(Reference.F1(rows.Select(r => r[8] == "1").ToArray(), truth), model.GetProperty("f1").GetProperty("value").GetDouble());
                checkedModels++;
            }
        // basic, learned and fused × (LightGBM, logistic regression), the prior, the network and the ensemble, for each of 3 labels.
        Assert.Equal(3 * (3 * 2 + 3), checkedModels);
    }

    [Fact]
    public void Every_selected_model_is_a_bundle_that_a_fresh_load_scores_exactly_as_the_run_did()
    {
        var bundles = Directory.EnumerateFiles(Folder.FileIn(RunFolder.ModelsFolder), ModelBundle.DescriptionFile, SearchOption.AllDirectories).ToArray();
        Assert.Equal(3 * 9, bundles.Length);
        Assert.True(File.Exists(Folder.FileIn(Path.Combine("models", "basic+learned", "lightgbm", "SB", ModelBundle.LightGbmModelFile))));
        Assert.True(File.Exists(Folder.FileIn(Path.Combine("models", "learned", "logistic_regression", "AF", ModelBundle.MlNetModelFile))));
        var sb = JsonDocument.Parse(File.ReadAllText(Folder.FileIn(Path.Combine("models", "basic", "lightgbm", "SB", ModelBundle.DescriptionFile)))).RootElement;
        Assert.Equal("426177001", sb.GetProperty("snomed_ct").GetString()); // sinus bradycardia
        Assert.Equal(1, sb.GetProperty("format_version").GetInt32());
        Assert.Equal(run.Result.Manifest.DataFingerprint, sb.GetProperty("training_data_fingerprint").GetString());

        // Scored in this process from the files alone, the test exams get the run's scores to the bit.
        var expected = Csv(Folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[2] == "test")
            .ToDictionary(r => (r[0], r[3], r[4]), r => (Score: float.Parse(r[6], CultureInfo.InvariantCulture), Decision: r[8] == "1"));
        var loaded = bundles.Select(b => ModelBundle.Load(Path.GetDirectoryName(b)!)).ToArray();
        var actual = new List<Prediction>();
        var skipped = new BatchPredictor(loaded, maxThreads: 2).Run(run.Source, actual.AddRange);
        Assert.Empty(skipped);
        Assert.Equal(300 * 27, actual.Count);
        var compared = 0;
        foreach (var p in actual)
            if (expected.TryGetValue((p.ExamId, p.Label, p.Model), out var e))
            {
                Assert.Equal(e.Score, p.Score);
                Assert.Equal(e.Decision, p.Decision);
                compared++;
            }
        Assert.Equal(expected.Count, compared);

        // One record through a bundle's own Predict: the same score for features that need no network.
        var basic = loaded.First(b => b.Description.Model == "basic/lightgbm" && b.Description.Label == "AF");
        var first = expected.First(e => e.Key.Item2 == "AF" && e.Key.Item3 == "basic/lightgbm");
        var index = Enumerable.Range(0, 300).First(i => run.Source.ExamIdAt(i) == first.Key.Item1);
        Assert.Equal(first.Value.Score, basic.Predict(run.Source.Read(index)));
        // The ensemble of all seven (three feature sets × two learners, and the network's outputs), through its members'
        // Predict: the network run on one record may differ from its batches in the last digits, which can move a member
        // across one of its ~60 validation scores, a step of 1/(7 × 60) in the ensemble's score.
        var ensemble = loaded.First(b => b.Description.Model == "ensemble" && b.Description.Label == "AF");
        Assert.Equal(7, ensemble.Members.Count);
        Assert.Equal(expected[(first.Key.Item1, "AF", "ensemble")].Score, ensemble.Predict(run.Source.Read(index)), 0.005f);

        // As an ML.NET transformer over ECG rows (feature extraction, then the learner), for LightGBM and an ML.NET learner.
        foreach (var model in new[] { "basic/lightgbm", "basic/logistic_regression" })
        {
            var bundle = loaded.First(b => b.Description.Model == model && b.Description.Label == "ST");
            var ml = new Microsoft.ML.MLContext(seed: 1);
            var rows = Microsoft.ML.Data.ColumnCursorExtensions.GetColumn<float>(bundle.Transformer(ml).Transform(CodeII.Experiments.Features.EcgDataView.Load(ml, run.Source)), "Probability").ToArray();
            var scored = 0;
            for (var i = 0; i < 300; i++)
                if (expected.TryGetValue((run.Source.ExamIdAt(i), "ST", model), out var e)) { Assert.Equal(e.Score, rows[i]); scored++; }
            Assert.True(scored > 30, $"{scored} test exams compared");
        }
        foreach (var b in loaded) b.Dispose();
    }

    [Fact]
    public void Codeii_predict_in_a_separate_process_reproduces_the_test_scores_of_every_model_from_the_same_exams_written_to_disk()
    {
        var data = Path.Combine(run.Root, "exams-" + Guid.NewGuid().ToString("N"));
        var synth = CliTests.Codeii(run.Root, "data", "synth", "--out", data, "--exams", "300", "--seed", "7");
        Assert.True(synth.ExitCode == 0, synth.StdErr);
        var output = Path.Combine(run.Root, "predictions-" + Guid.NewGuid().ToString("N") + ".csv");
        var (exit, stdout, stderr) = CliTests.Codeii(run.Root, "predict", Folder.Path, data, "--out", output, "--max-threads", "2");
        Assert.True(exit == 0, stderr);
        Assert.Equal(output, stdout.Trim().Split('\n')[^1]);
        var predicted = Csv(output);
        Assert.Equal(["exam_id", "label", "model", "score", "decision"], predicted.Header);
        var byKey = predicted.Rows.ToDictionary(r => (r[0], r[1], r[2]), r => (Score: double.Parse(r[3], CultureInfo.InvariantCulture), Decision: r[4]));
        var test = Csv(Folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[2] == "test").ToArray();
        Assert.Equal(9, test.Select(r => r[4]).Distinct().Count());
        Assert.All(test, r =>
        {
            var p = byKey[(r[0], r[3], r[4])];
            Assert.Equal(double.Parse(r[6], CultureInfo.InvariantCulture), p.Score, 1e-6);
            Assert.Equal(r[8], p.Decision);
        });

        // A damaged bundle is named, with what is wrong, and no stack trace.
        var bundle = Path.Combine(run.Root, "one-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(bundle);
        File.Copy(Folder.FileIn(Path.Combine("models", "basic", "logistic_regression", "SB", ModelBundle.DescriptionFile)), Path.Combine(bundle, ModelBundle.DescriptionFile));
        var damaged = CliTests.Codeii(run.Root, "predict", bundle, data);
        Assert.Equal(1, damaged.ExitCode);
        Assert.Contains($"error: {bundle}: the learner's file model.zip is missing", damaged.StdErr.ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", damaged.StdErr);
    }

    [Fact]
    public void A_record_that_cannot_be_read_is_listed_with_its_reason_and_the_others_are_scored()
    {
        var folder = Path.Combine(run.Root, "wfdb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        for (var i = 0; i < 12; i++) CodeII.Experiments.Data.Wfdb.WfdbWriter.Write(run.Source.Read(i), folder);
        var broken = run.Source.ExamIdAt(5);
        var dat = Directory.GetFiles(folder, broken + "*.dat").Single();
        File.WriteAllBytes(dat, File.ReadAllBytes(dat)[..100]);
        // A record that reads but that the network cannot take (a rate it cannot resample from): only the models that
        // need the network go without its scores.
        var odd = run.Source.ExamIdAt(7);
        var header = Directory.GetFiles(folder, odd + "*.hea").Single();
        var lines = File.ReadAllLines(header);
        lines[0] = string.Join(' ', lines[0].Split(' ').Select((f, i) => i == 2 ? "400.5" : f));
        File.WriteAllLines(header, lines);

        string[] models = ["basic/lightgbm", "basic+learned/logistic_regression", "resnet"];
        var bundles = models.Select(m => ModelBundle.Load(Folder.FileIn(ModelBundle.RelativeFolder(m.Split('/')[0], m, "SB", null)))).ToArray();
        var predictions = new List<Prediction>();
        var skipped = new BatchPredictor(bundles, maxThreads: 2).Run(EcgSources.Open(folder), predictions.AddRange);
        foreach (var b in bundles) b.Dispose();

        Assert.Equal([broken, odd], skipped.Select(s => s.ExamId));
        Assert.Contains(Path.GetFileName(dat), skipped[0].Reason);
        Assert.Contains("truncated", skipped[0].Reason);
        Assert.EndsWith("(not scored by basic+learned/logistic_regression, resnet)", skipped[1].Reason);
        Assert.Equal(10 * 3 + 1, predictions.Count);
        Assert.DoesNotContain(predictions, p => p.ExamId == broken);
        Assert.Equal(["basic/lightgbm"], predictions.Where(p => p.ExamId == odd).Select(p => p.Model));
        // Read back from WFDB (µV integers), the other records still get the run's scores.
        var expected = Csv(Folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[3] == "SB" && models.Contains(r[4]))
            .GroupBy(r => (r[0], r[4])).ToDictionary(g => g.Key, g => double.Parse(g.First()[6], CultureInfo.InvariantCulture));
        var compared = predictions.Where(p => expected.ContainsKey((p.ExamId, p.Model))).ToArray();
        Assert.NotEmpty(compared);
        Assert.All(compared, p => Assert.Equal(expected[(p.ExamId, p.Model)], p.Score, 0.02));

        // MIT-BIH record 100 has two leads (MLII, V5): it is scored, and the predictor says which standard leads it lacked.
        using var basicBundle = ModelBundle.Load(Folder.FileIn(ModelBundle.RelativeFolder("basic", "basic/lightgbm", "SB", null)));
        var twoLeads = new BatchPredictor([basicBundle], maxThreads: 1);
        var mitbih = new List<Prediction>();
        Assert.Empty(twoLeads.Run(EcgSources.Open(RepoPaths.Shared("wfdb-samples", "100")), mitbih.AddRange));
        Assert.Single(mitbih);
        var (leads, (records, example)) = Assert.Single(twoLeads.MissingLeads);
        // MIT-BIH's modified lead II (MLII) is not taken for II.
        Assert.Equal(("I, II, III, aVR, aVL, aVF, V1, V2, V3, V4, V6", 1, "100"), (leads, records, example));
    }

    /// <summary>A copy of the run's basic/lightgbm/ST bundle in a folder of its own, to alter without touching the run.</summary>
    string CopyOfBundle(string prefix)
    {
        var original = Folder.FileIn(Path.Combine("models", "basic", "lightgbm", "ST"));
        var copy = Path.Combine(run.Root, prefix + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(original)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    [Fact]
    public void A_damaged_bundle_gets_an_error_that_names_the_folder_and_what_is_wrong()
    {
        var copy = CopyOfBundle("damaged");
        using (ModelBundle.Load(copy)) { }

        File.Delete(Path.Combine(copy, ModelBundle.LightGbmModelFile));
        var missing = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy));
        Assert.Equal($"{copy}: the learner's file booster.txt is missing", missing.Message);

        var description = Path.Combine(copy, ModelBundle.DescriptionFile);
        File.WriteAllText(description, File.ReadAllText(description).Replace("\"format_version\": 1", "\"format_version\": 2"));
        var version = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy));
        Assert.Contains("format_version 2; this version of codeii reads format_version 1 only", version.Message);
        File.WriteAllText(description, File.ReadAllText(description).Replace("\"format_version\": 2", "\"format_version\": 1.5"));
        Assert.Contains("format_version 1.5; this version", Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy)).Message);
    }

    [Fact]
    public void A_bundle_whose_features_an_earlier_feature_set_version_computed_is_refused_not_fed_todays_values()
    {
        var copy = CopyOfBundle("older");
        var current = new BasicFeatureExtractor().Version;
        var description = Path.Combine(copy, ModelBundle.DescriptionFile);
        var text = File.ReadAllText(description);
        Assert.Contains($"\"v{current}\"", text);
        File.WriteAllText(description, text.Replace($"\"v{current}\"", $"\"v{current - 1}\""));
        var error = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy));
        Assert.Equal($"{copy}: feature set 'basic' is v{current - 1} in the bundle; this version of codeii computes v{current}, whose values differ", error.Message);
    }

    [Fact]
    public void A_bundle_cannot_point_its_network_at_a_file_outside_its_run()
    {
        var original = Folder.FileIn(Path.Combine("models", "learned", "lightgbm", "AF"));
        using (var fine = ModelBundle.Load(original)) Assert.Equal("../../../../network/best.bin", fine.Description.Network!.Checkpoint);
        foreach (var outside in new[] { "/etc/passwd", "../../../../../network/best.bin", "../../../../network/../split.csv" })
        {
            var copy = Path.Combine(Folder.Path, "models", "learned", "lightgbm", "AF-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(copy);
            foreach (var file in Directory.EnumerateFiles(original)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            var description = Path.Combine(copy, ModelBundle.DescriptionFile);
            File.WriteAllText(description, File.ReadAllText(description).Replace("\"../../../../network/best.bin\"", JsonSerializer.Serialize(outside)));
            var error = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy));
            Assert.Contains("must name a file in the network/ folder of the run that holds the bundle", error.Message);
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public void The_report_rebuilt_from_a_copy_of_the_folder_without_any_cache_is_the_report_the_run_wrote()
    {
        var copy = Path.Combine(run.Root, "copy-" + Guid.NewGuid().ToString("N"));
        RepoPaths.CopyDirectory(Folder.Path, copy);
        File.Delete(Path.Combine(copy, RunFolder.ReportFile));
        var rebuilt = HtmlReport.Render(RunReport.Read(RunFolder.Open(copy))).Html;
        Assert.Equal(File.ReadAllText(run.Result.ReportPath), rebuilt);
        // Each model's cell names its configuration, read back from metrics.json.
        Assert.Contains("title=\"booster=0, feature_fraction=1, iterations=", rebuilt);
        Assert.DoesNotContain("System.Collections", rebuilt);
    }

    /// <summary>Textbook definitions, written apart from the library's: AUROC as the share of positive–negative pairs
    /// ordered correctly (ties count half), average precision as scikit-learn defines it (precision at each distinct
    /// threshold weighted by the recall it adds), F1 from the decisions.</summary>
    static class Reference
    {
        public static double Auroc(double[] scores, bool[] truth)
        {
            double pairs = 0, correct = 0;
            for (var i = 0; i < scores.Length; i++)
                if (truth[i])
                    for (var j = 0; j < scores.Length; j++)
                        if (!truth[j]) { pairs++; correct += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0; }
            return pairs == 0 ? double.NaN : correct / pairs;
        }

        public static double AveragePrecision(double[] scores, bool[] truth)
        {
            var positives = truth.Count(t => t);
            if (positives == 0) return double.NaN;
            double ap = 0, previousRecall = 0;
            foreach (var threshold in scores.Distinct().OrderDescending())
            {
                var selected = Enumerable.Range(0, scores.Length).Where(i => scores[i] >= threshold).ToArray();
                var tp = selected.Count(i => truth[i]);
                var recall = (double)tp / positives;
                ap += (recall - previousRecall) * tp / selected.Length;
                previousRecall = recall;
            }
            return ap;
        }

        public static double F1(bool[] decisions, bool[] truth)
        {
            var tp = decisions.Zip(truth).Count(x => x.First && x.Second);
            var fp = decisions.Zip(truth).Count(x => x.First && !x.Second);
            var fn = decisions.Zip(truth).Count(x => !x.First && x.Second);
            return 2.0 * tp / (2 * tp + fp + fn);
        }
    }
}
