using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Experiments;

/// <summary>A run's report from its folder alone, as the run's last stage and <c>codeii report</c> render it.</summary>
public static class RunReport
{
    /// <summary>The report of a finished run folder, one-dataset or transfer, from its files alone (<c>codeii report</c>).</summary>
    public static string Render(RunFolder folder)
    {
        var definitionFile = folder.FileIn(RunFolder.DefinitionFile);
        var definition = ExperimentDefinitionLoader.Parse(File.ReadAllText(definitionFile), definitionFile);
        // A transfer run's cell is a one-dataset run: its own report, from its own files.
        if (definition.Transfer is null || File.Exists(folder.FileIn(TransferCell.MarkerFile))) return HtmlReport.Render(Read(folder));
        var metrics = folder.FileIn(RunFolder.MetricsFile);
        if (!File.Exists(metrics)) throw new FileNotFoundException($"{folder.Path}: the run folder has no {RunFolder.MetricsFile}; the run did not finish (resume it with codeii run --resume {folder.Path})", metrics);
        return TransferReport.Render(definition.Name, folder.ReadManifest(),
            JsonSerializer.Deserialize<TransferMetrics>(File.ReadAllText(metrics), JsonConventions.Options) ?? throw new InvalidDataException($"{metrics}: empty"));
    }

    /// <summary>
    /// What the report shows, from this folder's files alone: the definition, the manifest (or the one given, when the
    /// run is finishing), <c>metrics.json</c>, the trial log, the test rows of <c>predictions.csv</c> and the skipped records.
    /// </summary>
    public static ReportModel Read(RunFolder folder, RunManifest? manifest = null)
    {
        string Required(string name) => File.Exists(folder.FileIn(name)) ? folder.FileIn(name)
            : throw new FileNotFoundException($"{folder.Path}: the run folder has no {name}; the run did not finish (resume it with codeii run --resume {folder.Path})", folder.FileIn(name));
        var definition = ExperimentDefinitionLoader.Parse(File.ReadAllText(Required(RunFolder.DefinitionFile)), folder.FileIn(RunFolder.DefinitionFile));
        var metrics = JsonSerializer.Deserialize<Evaluation.ExperimentMetrics>(File.ReadAllText(Required(RunFolder.MetricsFile)), JsonConventions.Options)
            ?? throw new InvalidDataException($"{folder.FileIn(RunFolder.MetricsFile)}: empty");
        var trials = Sweep.TrialLog.Read(Required(RunFolder.TrialsFile), repairTornTail: false);
        var test = PredictionsFile.ReadTest(Required(RunFolder.PredictionsFile));
        // Selection facts (trial, validation AUROC, parameters) come from metrics.json, where evaluation wrote them.
        var facts = metrics.Subsets.SelectMany(s => s.PerLabel.SelectMany(l => l.Models.Select(m => (l.Label, m)))).ToLookup(x => (x.Label, x.m.Learner), x => x.m);
        var predictions = test.Models.Select(m =>
        {
            var fact = facts[(m.Label, m.Model)].FirstOrDefault();
            return new Evaluation.ModelPredictions
            {
                Label = m.Label, Model = m.Model, Subset = m.Subset, Threshold = m.Threshold, TestScores = m.TestScores,
                ValidationAuroc = fact?.ValidationAuroc ?? double.NaN, Trial = fact?.Trial ?? 0, Parameters = fact?.Parameters ?? new Dictionary<string, double>(),
            };
        }).ToArray();
        var skipped = File.Exists(folder.FileIn(RunFolder.SkippedRecordsFile))
            ? Data.CsvTable.Read(folder.FileIn(RunFolder.SkippedRecordsFile)).Rows.Select(r => new Features.SkippedRecord(-1, r[0], r[1])).ToArray()
            : [];
        var importance = File.Exists(folder.FileIn(RunFolder.ImportanceFile)) ? JsonSerializer.Deserialize<FeatureImportance>(File.ReadAllText(folder.FileIn(RunFolder.ImportanceFile)), JsonConventions.Options) : null;
        return new ReportModel(definition.Name, definition.Sweep, manifest ?? folder.ReadManifest(), metrics, trials, predictions, test.TestLabels, skipped, importance);
    }
}
