using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>data.json against what the run's other files say, counted again here: split.csv for parts, exams and
/// patients, predictions.csv's truth column for the validation and test positives, and the definition for rates and lengths.</summary>
public class DataSummaryTests(SmallExperiment small) : IClassFixture<SmallExperiment>
{
    [Fact]
    public void The_data_summary_agrees_with_the_split_file_the_predictions_and_the_definition()
    {
        var folder = small.Result.Folder;
        var summary = JsonSerializer.Deserialize<DataSummary>(File.ReadAllText(folder.FileIn(RunFolder.DataSummaryFile)), JsonConventions.Options)!;
        var split = CsvTable.Read(folder.FileIn(RunFolder.SplitFile));
        var (exam, patient, part) = (split.Column("exam_id"), split.Column("patient_id"), split.Column("split"));
        Assert.Equal(700, summary.Exams);
        Assert.Equal(700, summary.RecordsRead);
        Assert.Equal(0, summary.RecordsSkipped);
        Assert.Equal(split.Rows.Select(r => r[patient]).Distinct().Count(), summary.Patients);
        Assert.Equal(["train", "validation", "test"], summary.Parts.Select(p => p.Part));
        foreach (var p in summary.Parts)
        {
            var rows = split.Rows.Where(r => r[part] == p.Part).ToArray();
            Assert.Equal(rows.Length, p.Exams);
            Assert.Equal(rows.Select(r => r[patient]).Distinct().Count(), p.Patients);
        }

        // Synthetic exams are 10 s at 400 Hz, zero-padded to 4096 samples (10.24 s): the summary reports the recording, not the padding.
        Assert.Equal(new Dictionary<string, int> { ["400"] = 700 }, summary.SamplingRatesHz);
        Assert.Equal((10.0, 10.0), (summary.DurationSeconds!.Min, summary.DurationSeconds.Max));

        // Validation and test positives per label, from predictions.csv's truth column (one model's rows).
        var predictions = CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile));
        var (pSplit, pLabel, pModel, pTruth, pSubset) = (predictions.Column("split"), predictions.Column("label"), predictions.Column("model"), predictions.Column("truth"), predictions.Column("subset"));
        foreach (var p in summary.Parts.Where(p => p.Part != "train"))
            foreach (var (label, count) in p.Labels)
            {
                var rows = predictions.Rows.Where(r => r[pSplit] == p.Part && r[pLabel] == label && r[pModel] == "prior" && r[pSubset].Length == 0).ToArray();
                Assert.Equal(p.Exams, rows.Length);
                Assert.Equal(rows.Count(r => r[pTruth] == "1"), count.Positives);
                Assert.Equal(rows.Count(r => r[pTruth] == "0"), count.Negatives);
            }
        Assert.Contains("iterative stratification", summary.SplitMethod);
        Assert.Contains("seed 5", summary.SplitMethod);
    }

    [Fact]
    public void CODE_s_benchmark_gives_each_class_s_F1_as_counted_from_the_decisions_in_the_predictions_file()
    {
        var folder = small.Result.Folder;
        var benchmark = small.Result.Metrics.Benchmarks!.First(b => b.Subset == "code6");
        Assert.Equal("CODE: F1 per class", benchmark.Name);
        var rows = CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile));
        var (split, label, model, decision, truth, subset) = (rows.Column("split"), rows.Column("label"), rows.Column("model"), rows.Column("decision"), rows.Column("truth"), rows.Column("subset"));
        foreach (var (learner, classes) in benchmark.PerClass!)
            foreach (var (code, f1) in classes)
            {
                var test = rows.Rows.Where(r => r[split] == "test" && r[label] == code && r[model] == learner && r[subset].Length == 0).ToArray();
                var tp = test.Count(r => r[decision] == "1" && r[truth] == "1");
                var fp = test.Count(r => r[decision] == "1" && r[truth] == "0");
                var fn = test.Count(r => r[decision] == "0" && r[truth] == "1");
                Assert.Equal(2.0 * tp / (2 * tp + fp + fn), f1.Value, 12);
            }
        Assert.Equal(["1dAVb", "RBBB", "LBBB", "SB", "AF", "ST"], benchmark.PerClass!["lightgbm"].Keys);
    }
}
