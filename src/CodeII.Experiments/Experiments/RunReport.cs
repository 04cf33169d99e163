using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Experiments;

/// <summary>A run's report from its folder alone, as the run's last stage and <c>codeii report</c> render it.</summary>
public static class RunReport
{
    /// <summary>The report of a finished run folder, one-dataset or transfer, from its files alone (<c>codeii report</c>).</summary>
    public static ReportDocument Render(RunFolder folder)
    {
        var definitionFile = folder.FileIn(RunFolder.DefinitionFile);
        var definition = ExperimentDefinitionLoader.Parse(File.ReadAllText(definitionFile), definitionFile);
        // A transfer run's cell is a one-dataset run: its own report, from its own files.
        if (definition.Transfer is null || File.Exists(folder.FileIn(RunFolder.TransferCellFile))) return HtmlReport.Render(Read(folder));
        var metrics = Required(folder, RunFolder.MetricsFile);
        return TransferReport.Render(definition.Name, folder.ReadManifest(), JsonConventions.ReadFile<TransferMetrics>(metrics));
    }

    /// <summary>
    /// What the report shows, from this folder's files alone: the definition, the manifest (or the one given, when the
    /// run is finishing), <c>metrics.json</c>, the trial log, the test rows of <c>predictions.csv</c> and the skipped records.
    /// </summary>
    public static ReportModel Read(RunFolder folder, RunManifest? manifest = null)
    {
        string Required(string name) => RunReport.Required(folder, name);
        var definition = ExperimentDefinitionLoader.Parse(File.ReadAllText(Required(RunFolder.DefinitionFile)), folder.FileIn(RunFolder.DefinitionFile));
        var metrics = JsonConventions.ReadFile<Evaluation.ExperimentMetrics>(Required(RunFolder.MetricsFile));
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
        var skipped = File.Exists(folder.FileIn(RunFolder.SkippedRecordsFile)) ? ReadSkipped(Data.CsvTable.Read(folder.FileIn(RunFolder.SkippedRecordsFile))) : [];
        return new ReportModel(definition.Name, definition.Sweep, manifest ?? folder.ReadManifest(), metrics, trials, predictions, test.TestLabels, skipped,
            Optional<DataSummary>(folder, RunFolder.DataSummaryFile), Optional<FeatureImportance>(folder, RunFolder.ImportanceFile));
    }

    /// <summary>skipped_records.csv; runs from before the file and field were listed have only exam_id and reason.</summary>
    static Features.SkippedRecord[] ReadSkipped(Data.CsvTable table)
    {
        int exam = table.Column("exam_id"), reason = table.Column("reason");
        int file = table.HasColumn("file") ? table.Column("file") : -1, field = table.HasColumn("field") ? table.Column("field") : -1;
        return [.. table.Rows.Select(r => new Features.SkippedRecord(-1, r[exam], r[reason]) { File = file < 0 ? "" : r[file], Field = field < 0 ? "" : r[field] })];
    }

    /// <summary>A file every finished run folder has; its absence means the run did not finish, and the error says whether
    /// it is still running (wait) or was cancelled, failed or killed (resume it).</summary>
    internal static string Required(RunFolder folder, string name)
    {
        if (File.Exists(folder.FileIn(name))) return folder.FileIn(name);
        var status = RunStatus.Of(folder);
        var resume = status.TransferRun is { } transferRun ? $"resume its transfer run with codeii run --resume {transferRun.Path}" : $"resume it with codeii run --resume {folder.Path}";
        throw new FileNotFoundException(status.IsRunning
            ? $"{folder.Path}: the run has no {name} yet: it is {status.Description}; wait for it to finish"
            : $"{folder.Path}: the run folder has no {name}; the run did not finish ({status.Description}); {resume}", folder.FileIn(name));
    }

    /// <summary>A JSON artefact that runs from before it, or runs that leave it out, do not have.</summary>
    static T? Optional<T>(RunFolder folder, string name) where T : class =>
        File.Exists(folder.FileIn(name)) ? JsonConventions.ReadFile<T>(folder.FileIn(name)) : null;
}

/// <summary>A finished run folder as <c>codeii compare</c> reads it (<see cref="ComparedRun"/>), from its files alone.</summary>
public static class ComparedRuns
{
    public static ComparedRun Read(RunFolder folder)
    {
        string Required(string name) => RunReport.Required(folder, name);
        var definitionFile = Required(RunFolder.DefinitionFile);
        if (ExperimentDefinitionLoader.Parse(File.ReadAllText(definitionFile), definitionFile).Transfer is not null && !File.Exists(folder.FileIn(RunFolder.TransferCellFile)))
            throw new InvalidDataException($"{folder.Path} is a transfer run: compare its cells, the run folders under {Path.Combine(folder.Path, "cells")}/<target>/share-<R>/<arm>/");
        Required(RunFolder.ManifestFile);
        var manifest = folder.ReadManifest();
        var test = PredictionsFile.ReadTest(Required(RunFolder.PredictionsFile));
        var scores = new Dictionary<(string, string), float[]>();
        foreach (var m in test.Models)
            scores[(m.Subset is { } subset ? $"{m.Model} ({subset})" : m.Model, m.Label)] = m.TestScores;
        // The test exams and their patients, after the data they were read from (the same ids in other data are other
        // exams), but not after the preprocessing: runs that read the same exams differently still test the same patients.
        var split = Data.CsvTable.Read(Required(RunFolder.SplitFile));
        var (exam, patient, part) = (split.Column("exam_id"), split.Column("patient_id"), split.Column("split"));
        var fingerprint = new System.Text.StringBuilder(Preprocessing.PreprocessedSource.DataPart(manifest.Dataset)).Append('\n');
        foreach (var row in split.Rows.Where(r => r[part] == "test").OrderBy(r => r[exam], StringComparer.Ordinal))
            fingerprint.Append(row[exam]).Append(',').Append(row[patient]).Append('\n');
        var versions = new Dictionary<string, string>
        {
            ["seed"] = manifest.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["git commit"] = manifest.GitCommit + (manifest.GitDirty ? " (uncommitted changes)" : ""),
            ["runtime"] = manifest.Runtime, ["os"] = manifest.Os,
            ["dataset"] = manifest.Dataset, ["data fingerprint"] = manifest.DataFingerprint ?? "",
            ["definition sha256"] = manifest.DefinitionSha256,
        };
        foreach (var (package, version) in manifest.Packages) versions[$"package {package}"] = version;
        foreach (var (set, version) in manifest.FeatureVersions) versions[$"features {set}"] = version;
        using var definition = JsonDocument.Parse(File.ReadAllText(Required(RunFolder.ResolvedDefinitionFile)));
        var flat = new Dictionary<string, string>(StringComparer.Ordinal);
        Flatten(definition.RootElement, "", flat);
        return new ComparedRun
        {
            Name = $"{manifest.Experiment}@{Path.GetFileName(Path.TrimEndingDirectorySeparator(folder.Path))}",
            Folder = folder.Path,
            TestExams = test.TestExams, TestPatients = test.TestPatients, TestLabels = test.TestLabels, Scores = scores,
            SplitFingerprint = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(fingerprint.ToString()))),
            Versions = versions,
            Definition = flat,
        };
    }


    static void Flatten(JsonElement element, string prefix, Dictionary<string, string> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", into);
                break;
            case JsonValueKind.Array:
                into[prefix] = element.GetRawText();
                break;
            default:
                into[prefix] = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
                break;
        }
    }
}
