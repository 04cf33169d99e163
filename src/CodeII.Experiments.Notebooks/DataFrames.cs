using System.Globalization;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using Microsoft.Data.Analysis;

namespace CodeII.Experiments.Notebooks;

/// <summary>
/// The workbench's tables as Microsoft.Data.Analysis DataFrames, for a notebook to filter, group and display: feature
/// tables, trial logs, metrics, predictions and dataset summaries. Column names are the snake_case names of the files
/// the run folder holds, so a DataFrame and <c>metrics.json</c> or <c>predictions.csv</c> read alike.
/// </summary>
public static class DataFrames
{
    /// <summary>One row per exam: <c>exam_id</c>, <c>patient_id</c>, <c>classes</c> (comma-separated), then every feature.
    /// Meant for notebook-sized tables; the runner itself streams features to Arrow files.</summary>
    public static DataFrame ToDataFrame(this FeatureTable table)
    {
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("exam_id", table.ExamIds),
            new StringDataFrameColumn("patient_id", table.PatientIds),
            new StringDataFrameColumn("classes", table.Labels.Select(l => string.Join(",", l.Order(StringComparer.Ordinal)))),
        };
        for (var f = 0; f < table.FeatureNames.Count; f++)
        {
            var feature = f;
            columns.Add(new SingleDataFrameColumn(table.FeatureNames[f], Enumerable.Range(0, table.RowCount).Select(r => table.Row(r)[feature])));
        }
        return new DataFrame(columns);
    }

    /// <summary>One row per trial, with every hyperparameter any trial set as a column of its own (empty where a trial's
    /// learner has no such option).</summary>
    public static DataFrame ToDataFrame(this IEnumerable<TrialRecord> trials)
    {
        var list = trials.ToList();
        var parameters = list.SelectMany(t => t.Parameters.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("stream", list.Select(t => t.Stream)),
            new Int32DataFrameColumn("trial", list.Select(t => t.Trial)),
            new StringDataFrameColumn("model", list.Select(t => t.Model)),
            new StringDataFrameColumn("learner", list.Select(t => t.Learner)),
            new StringDataFrameColumn("feature_set", list.Select(t => t.FeatureSet ?? "")),
            new StringDataFrameColumn("labels", list.Select(t => string.Join(",", t.Labels))),
            new StringDataFrameColumn("status", list.Select(t => t.Status)),
            new DoubleDataFrameColumn("validation_score", list.Select(t => t.ValidationScore)),
            new DoubleDataFrameColumn("validation_auroc", list.Select(t => t.ValidationAuroc)),
            new DoubleDataFrameColumn("validation_auprc", list.Select(t => t.ValidationAuprc)),
            new DoubleDataFrameColumn("duration_s", list.Select(t => t.DurationSeconds)),
            new DoubleDataFrameColumn("work", list.Select(t => t.Work)),
        };
        foreach (var p in parameters)
            columns.Add(new DoubleDataFrameColumn(p, list.Select(t => t.Parameters.TryGetValue(p, out var v) ? v : (double?)null)));
        return new DataFrame(columns);
    }

    /// <summary>One row per label subset, label and model: test AUROC, AUPRC and F1 with their interval bounds, the
    /// threshold and the validation AUROC that chose the configuration, as <c>metrics.json</c> has them.</summary>
    public static DataFrame ToDataFrame(this ExperimentMetrics metrics)
    {
        var rows = metrics.Subsets.SelectMany(s => s.PerLabel.SelectMany(l => l.Models.Select(m => (Subset: s.Name, Label: l, Model: m)))).ToList();
        var columns = new List<DataFrameColumn>
        {
            new StringDataFrameColumn("subset", rows.Select(r => r.Subset)),
            new StringDataFrameColumn("label", rows.Select(r => r.Label.Label)),
            new StringDataFrameColumn("model", rows.Select(r => r.Model.Learner)),
            new Int32DataFrameColumn("test_exams", rows.Select(r => r.Label.TestExams)),
            new Int32DataFrameColumn("test_positives", rows.Select(r => r.Label.TestPositives)),
        };
        foreach (var (name, estimate) in new (string, Func<ModelMetrics, Estimate>)[] { ("auroc", m => m.Auroc), ("auprc", m => m.Auprc), ("f1", m => m.F1) })
        {
            columns.Add(new DoubleDataFrameColumn(name, rows.Select(r => estimate(r.Model).Value)));
            columns.Add(new DoubleDataFrameColumn($"{name}_lower", rows.Select(r => estimate(r.Model).Lower)));
            columns.Add(new DoubleDataFrameColumn($"{name}_upper", rows.Select(r => estimate(r.Model).Upper)));
        }
        columns.Add(new DoubleDataFrameColumn("threshold", rows.Select(r => r.Model.Threshold)));
        columns.Add(new DoubleDataFrameColumn("validation_auroc", rows.Select(r => r.Model.ValidationAuroc)));
        return new DataFrame(columns);
    }

    /// <summary>A run's <c>predictions.csv</c>, typed: scores and thresholds as doubles (the exact values written),
    /// decisions and truth as booleans.</summary>
    public static DataFrame PredictionsDataFrame(this RunFolder run)
    {
        var table = Data.CsvTable.Read(run.FileIn(RunFolder.PredictionsFile));
        int Column(string name) => table.Column(name);
        string[] Text(string name) => [.. table.Rows.Select(r => r[Column(name)])];
        double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        return new DataFrame(
            new StringDataFrameColumn("exam_id", Text("exam_id")),
            new StringDataFrameColumn("patient_id", Text("patient_id")),
            new StringDataFrameColumn("split", Text("split")),
            new StringDataFrameColumn("label", Text("label")),
            new StringDataFrameColumn("model", Text("model")),
            new StringDataFrameColumn("subset", Text("subset")),
            new DoubleDataFrameColumn("score", Text("score").Select(Number)),
            new DoubleDataFrameColumn("threshold", Text("threshold").Select(Number)),
            new BooleanDataFrameColumn("decision", Text("decision").Select(d => d == "1")),
            new BooleanDataFrameColumn("truth", Text("truth").Select(t => t == "1")));
    }

    /// <summary>Predictions from <c>BatchPredictor</c> (what <c>codeii predict</c> writes), one row each.</summary>
    public static DataFrame ToDataFrame(this IEnumerable<Models.Prediction> predictions)
    {
        var list = predictions.ToList();
        return new DataFrame(
            new StringDataFrameColumn("exam_id", list.Select(p => p.ExamId)),
            new StringDataFrameColumn("label", list.Select(p => p.Label)),
            new StringDataFrameColumn("model", list.Select(p => p.Model)),
            new SingleDataFrameColumn("score", list.Select(p => p.Score)),
            new BooleanDataFrameColumn("decision", list.Select(p => p.Decision)));
    }

    /// <summary>A dataset's label counts and prevalence, one row per class, most frequent first.</summary>
    public static DataFrame LabelPrevalence(this DatasetSummary summary)
    {
        var labels = summary.Labels.OrderByDescending(l => l.Value).ThenBy(l => l.Key, StringComparer.Ordinal).ToList();
        return new DataFrame(
            new StringDataFrameColumn("label", labels.Select(l => l.Key)),
            new Int32DataFrameColumn("records", labels.Select(l => l.Value)),
            new DoubleDataFrameColumn("prevalence", labels.Select(l => summary.Records == 0 ? double.NaN : (double)l.Value / summary.Records)));
    }

    /// <summary>The transfer matrix, one row per cell: target, subset, share, source, mode, the test macro-AUROC with its
    /// interval, the paired difference to scratch with its interval, and the labels a zero-shot cell could not score.</summary>
    public static DataFrame ToDataFrame(this TransferMetrics metrics)
    {
        var cells = metrics.Cells;
        return new DataFrame(
            new StringDataFrameColumn("target", cells.Select(c => c.Target)),
            new StringDataFrameColumn("subset", cells.Select(c => c.Subset)),
            new DoubleDataFrameColumn("share", cells.Select(c => c.Share)),
            new StringDataFrameColumn("source", cells.Select(c => c.Source)),
            new StringDataFrameColumn("mode", cells.Select(c => c.Mode)),
            new DoubleDataFrameColumn("macro_auroc", cells.Select(c => c.MacroAuroc.Value)),
            new DoubleDataFrameColumn("lower", cells.Select(c => c.MacroAuroc.Lower)),
            new DoubleDataFrameColumn("upper", cells.Select(c => c.MacroAuroc.Upper)),
            new DoubleDataFrameColumn("vs_scratch", cells.Select(c => c.VersusScratch?.Value ?? double.NaN)),
            new DoubleDataFrameColumn("vs_scratch_lower", cells.Select(c => c.VersusScratch?.Lower ?? double.NaN)),
            new DoubleDataFrameColumn("vs_scratch_upper", cells.Select(c => c.VersusScratch?.Upper ?? double.NaN)),
            new StringDataFrameColumn("unscored", cells.Select(c => string.Join(",", c.Unscored))));
    }
}
