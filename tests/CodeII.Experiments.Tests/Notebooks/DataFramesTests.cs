using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using CodeII.Experiments.Notebooks;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Tests.Experiments;
using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;

namespace CodeII.Experiments.Tests.Notebooks;

/// <summary>The DataFrames a notebook gets hold what the run folder's files hold, value for value.</summary>
public class DataFramesTests(SmallExperiment small) : IClassFixture<SmallExperiment>
{
    RunFolder Folder => small.Result.Folder;

    [Fact]
    public void Metrics_have_a_row_per_subset_label_and_model_with_the_values_of_metrics_json()
    {
        var frame = small.Result.Metrics.ToDataFrame();
        using var json = JsonDocument.Parse(File.ReadAllText(Folder.FileIn(RunFolder.MetricsFile)));
        var expected = json.RootElement.GetProperty("subsets").EnumerateArray().SelectMany(s => s.GetProperty("per_label").EnumerateArray()
            .SelectMany(l => l.GetProperty("models").EnumerateArray().Select(m => (
                Subset: s.GetProperty("name").GetString(), Label: l.GetProperty("label").GetString(), Model: m.GetProperty("learner").GetString(),
                Auroc: m.GetProperty("auroc").GetProperty("value").GetDouble(), F1Lower: m.GetProperty("f1").GetProperty("lower").GetDouble())))).ToArray();
        // 6 labels in code6 and 3 in rhythm, each with LightGBM, logistic regression, the prior and the ensemble.
        Assert.Equal(9 * 4, expected.Length);
        Assert.Equal(expected.Length, frame.Rows.Count);
        for (var r = 0; r < expected.Length; r++)
            Assert.Equal(expected[r], ((string)frame["subset"][r], (string)frame["label"][r], (string)frame["model"][r], (double)frame["auroc"][r], (double)frame["f1_lower"][r]));
    }

    [Fact]
    public void Trials_have_a_row_per_logged_trial_and_a_column_per_hyperparameter()
    {
        var trials = TrialLog.Read(Folder.FileIn(RunFolder.TrialsFile));
        var frame = trials.ToDataFrame();
        Assert.Equal(File.ReadAllLines(Folder.FileIn(RunFolder.TrialsFile)).Length, frame.Rows.Count);
        var lightgbm = trials.Select((t, i) => (t, i)).First(x => x.t.Learner == "lightgbm");
        Assert.Equal(lightgbm.t.Parameters["leaves"], (double)frame["leaves"][lightgbm.i]);
        var logistic = trials.Select((t, i) => (t, i)).First(x => x.t.Learner == "logistic_regression");
        Assert.Null(frame["leaves"][logistic.i]);
        Assert.Equal(logistic.t.Parameters["l2"], (double)frame["l2"][logistic.i]);
    }

    [Fact]
    public void Predictions_are_typed_and_their_decisions_are_score_at_or_above_threshold()
    {
        var frame = Folder.PredictionsDataFrame();
        var lines = File.ReadAllLines(Folder.FileIn(RunFolder.PredictionsFile));
        Assert.Equal(lines.Length - 1, frame.Rows.Count);
        var first = lines[1].Split(',');
        Assert.Equal(double.Parse(first[6], CultureInfo.InvariantCulture), (double)frame["score"][0]);
        for (long r = 0; r < frame.Rows.Count; r++)
            Assert.Equal((double)frame["score"][r] >= (double)frame["threshold"][r], (bool)frame["decision"][r]);
    }

    [Fact]
    public void A_feature_table_becomes_one_row_per_exam_and_one_column_per_feature()
    {
        var table = FeatureTableBuilder.Extract(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 20, Seed = 3 }), new BasicFeatureExtractor(), 2);
        var frame = table.ToDataFrame();
        Assert.Equal(20, frame.Rows.Count);
        Assert.Equal(["exam_id", "patient_id", "classes", .. table.FeatureNames], frame.Columns.Select(c => c.Name));
        var hr = table.FeatureNames.ToList().IndexOf("hr_bpm");
        Assert.Equal(table.Row(7)[hr], (float)frame["hr_bpm"][7]);
        Assert.Equal(string.Join(",", table.Labels[7].Order(StringComparer.Ordinal)), (string)frame["classes"][7]);
    }

    [Fact]
    public void Label_prevalence_counts_each_class_as_the_records_carry_it_most_frequent_first()
    {
        var folder = Path.Combine(RepoPaths.NewTemporaryDirectory(), "code");
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 60, Seed = 8 });
        CodeII.Experiments.Data.Code.CodeHdf5Writer.Write(generator, folder);
        var expected = Enumerable.Range(0, 60).SelectMany(i => generator.Read(i).Labels).GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());
        var frame = DatasetInspector.Inspect(folder).LabelPrevalence();
        var counts = Enumerable.Range(0, (int)frame.Rows.Count).ToDictionary(r => (string)frame["label"][r], r => (int)frame["records"][r]);
        Assert.Equal(expected.Where(e => e.Value > 0).OrderBy(e => e.Key), counts.Where(c => c.Value > 0).OrderBy(c => c.Key));
        Assert.Equal(expected.Values.Max(), (int)frame["records"][0]);
        Assert.Equal(expected.Values.Max() / 60.0, (double)frame["prevalence"][0], 12);
    }

    [Fact]
    public void In_a_notebook_metrics_show_as_the_AUROC_table_and_a_DataFrame_as_HTML()
    {
        NotebookFormatters.Register();
        var html = small.Result.Metrics.ToDisplayString(NotebookFormatters.Html);
        var rhythm = small.Result.Metrics.Subsets.Single(s => s.Name == "rhythm");
        Assert.Contains("<caption>rhythm: test AUROC", html);
        Assert.Contains($"<td>{CodeII.Experiments.Reports.HtmlReport.Format(rhythm.MacroAuroc["lightgbm"])}</td></tr>", html);
        Assert.Contains("<table", small.Result.Metrics.ToDataFrame().ToDisplayString(NotebookFormatters.Html));
        // An ECG shows as the static 12-lead sheet, named by its exam.
        var ecg = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 1, Seed = 3 }).Read(0).ToDisplayString("image/svg+xml");
        Assert.Equal("svg", System.Xml.Linq.XDocument.Parse(ecg).Root!.Name.LocalName);
        Assert.Contains("<title>ECG 1</title>", ecg);
    }
}
