using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// The run folder's files against oracles outside the pipeline: each saved truth value against the generator's own
/// labels for that exam id, and each test metric recomputed here, from its definition, out of the saved predictions.
/// </summary>
public partial class ExperimentRunnerTests
{
    [Fact]
    public void Every_saved_truth_value_and_patient_is_the_generators_for_that_exam_id()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 700, Seed = 5 });
        var csv = CsvTable.Read(small.Result.Folder.FileIn(RunFolder.PredictionsFile));
        int exam = csv.Column("exam_id"), patient = csv.Column("patient_id"), label = csv.Column("label"), truth = csv.Column("truth");
        var records = new Dictionary<string, EcgRecord>();
        var positives = 0;
        foreach (var row in csv.Rows)
        {
            if (!records.TryGetValue(row[exam], out var record))
                records[row[exam]] = record = generator.Read(int.Parse(row[exam], System.Globalization.CultureInfo.InvariantCulture) - 1);
            Assert.Equal(record.ExamId, row[exam]);
            Assert.Equal(record.PatientId, row[patient]);
            var expected = record.Labels.Contains(row[label]);
            Assert.True(expected == (row[truth] == "1"), $"exam {row[exam]}, {row[label]}: saved truth {row[truth]}, labelled {expected}");
            if (expected) positives++;
        }
        Assert.True(positives > 50, $"only {positives} positive rows");
    }

    [Fact]
    public void Every_test_metric_recomputes_from_the_saved_predictions()
    {
        var csv = CsvTable.Read(small.Result.Folder.FileIn(RunFolder.PredictionsFile));
        int Col(string name) => csv.Column(name);
        var test = csv.Rows.Where(r => r[Col("split")] == "test").ToArray();
        var checkedModels = 0;
        foreach (var subset in small.Result.Metrics.Subsets)
        {
            foreach (var perLabel in subset.PerLabel)
            {
                foreach (var model in perLabel.Models)
                {
                    var rows = test.Where(r => r[Col("label")] == perLabel.Label && r[Col("model")] == model.Learner
                        && (r[Col("subset")] == "" || r[Col("subset")] == subset.Name)).ToArray();
                    Assert.Equal(small.Result.Metrics.TestExams, rows.Length);
                    var scores = rows.Select(r => double.Parse(r[Col("score")], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                    var truth = rows.Select(r => r[Col("truth")] == "1").ToArray();
                    Assert.Equal(perLabel.TestPositives, truth.Count(t => t));
                    Assert.Equal(PairCountAuroc(scores, truth), model.Auroc.Value, 10);
                    if (truth.Any(t => t)) Assert.Equal(MeanPrecisionAtPositives(scores, truth), model.Auprc.Value, 10);
                    var threshold = double.Parse(rows[0][Col("threshold")], System.Globalization.CultureInfo.InvariantCulture);
                    Assert.Equal(model.Threshold, threshold, 12);
                    int tp = 0, fp = 0, fn = 0;
                    for (var i = 0; i < rows.Length; i++)
                    {
                        var decided = scores[i] >= threshold;
                        Assert.Equal(decided ? "1" : "0", rows[i][Col("decision")]);
                        if (decided && truth[i]) tp++; else if (decided) fp++; else if (truth[i]) fn++;
                    }
                    if (tp + fp + fn > 0) Assert.Equal(2.0 * tp / (2 * tp + fp + fn), model.F1.Value, 10);
                    checkedModels++;
                }
            }
            // The macro AUROC is the mean of the labels' AUROCs.
            foreach (var (learner, macro) in subset.MacroAuroc)
                Assert.Equal(subset.PerLabel.Average(l => l.Models.Single(m => m.Learner == learner).Auroc.Value), macro.Value, 10);
        }
        Assert.True(checkedModels >= 18, $"only {checkedModels} models checked");
    }

    /// <summary>The probability that a positive outscores a negative, ties counting half, by counting every pair.</summary>
    static double PairCountAuroc(double[] scores, bool[] truth)
    {
        double credit = 0, pairs = 0;
        for (var i = 0; i < scores.Length; i++)
            for (var j = 0; j < scores.Length; j++)
                if (truth[i] && !truth[j]) { pairs++; credit += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0; }
        return pairs == 0 ? double.NaN : credit / pairs;
    }

    /// <summary>Step average precision: the mean over positives of the precision among exams scored at least as high.</summary>
    static double MeanPrecisionAtPositives(double[] scores, bool[] truth) =>
        Enumerable.Range(0, scores.Length).Where(i => truth[i]).Average(i =>
        {
            var above = Enumerable.Range(0, scores.Length).Where(j => scores[j] >= scores[i]).ToArray();
            return (double)above.Count(j => truth[j]) / above.Length;
        });
}
