using System.Text;
using System.Text.Json;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// A run's own folder, <c>runs/&lt;experiment&gt;/&lt;UTC timestamp&gt;/</c>. Files are written whole through a temporary
/// file and a rename, so a reader never sees half a file; the trial log is the one file that only grows.
/// </summary>
public sealed class RunFolder
{
    public const string DefinitionFile = "definition.yaml";
    public const string ResolvedDefinitionFile = "definition.resolved.json";
    public const string ManifestFile = "manifest.json";
    public const string TrialsFile = "trials.jsonl";
    public const string PredictionsFile = "predictions.csv";
    public const string MetricsFile = "metrics.json";
    public const string ReportFile = "report.html";
    public const string SkippedRecordsFile = "skipped_records.csv";
    public const string SplitFile = "split.csv";
    public const string ModelsFolder = "models";

    public static JsonSerializerOptions Json => JsonConventions.Options;

    RunFolder(string path) => Path = path;

    public string Path { get; }

    public string FileIn(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Creates a new, empty folder; a second run in the same second gets a suffix rather than sharing one.</summary>
    public static RunFolder Create(string runsRoot, string experimentName, DateTime startedUtc)
    {
        var parent = System.IO.Path.Combine(runsRoot, experimentName);
        Directory.CreateDirectory(parent);
        var stamp = startedUtc.ToString("yyyyMMdd'T'HHmmss'Z'");
        for (var attempt = 0; ; attempt++)
        {
            var candidate = System.IO.Path.Combine(parent, attempt == 0 ? stamp : $"{stamp}-{attempt}");
            if (Directory.Exists(candidate)) continue;
            Directory.CreateDirectory(candidate);
            return new RunFolder(candidate);
        }
    }

    /// <summary>An existing run folder, to resume: it must hold the definition and manifest its run wrote.</summary>
    public static RunFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such run folder");
        foreach (var required in new[] { DefinitionFile, ManifestFile })
            if (!File.Exists(System.IO.Path.Combine(path, required)))
                throw new FileNotFoundException($"{path}: not a run folder (it has no {required})");
        return new RunFolder(path);
    }

    /// <summary>The manifest the run last wrote (how it started, and how it ended if it did).</summary>
    public RunManifest ReadManifest() =>
        JsonSerializer.Deserialize<RunManifest>(File.ReadAllText(FileIn(ManifestFile)), Json)
        ?? throw new InvalidDataException($"{FileIn(ManifestFile)}: empty manifest");

    /// <summary>
    /// What the report shows, from this folder's files alone: the definition, the manifest (or the one given, when the
    /// run is finishing), <c>metrics.json</c>, the trial log, the test rows of <c>predictions.csv</c> and the skipped records.
    /// </summary>
    public Reports.ReportModel ReadReportModel(RunManifest? manifest = null)
    {
        string Required(string name) => File.Exists(FileIn(name)) ? FileIn(name)
            : throw new FileNotFoundException($"{Path}: the run folder has no {name}; the run did not finish (resume it with codeii run --resume {Path})", FileIn(name));
        var definition = ExperimentDefinitionLoader.Parse(File.ReadAllText(Required(DefinitionFile)), FileIn(DefinitionFile));
        var metrics = JsonSerializer.Deserialize<Evaluation.ExperimentMetrics>(File.ReadAllText(Required(MetricsFile)), Json)
            ?? throw new InvalidDataException($"{FileIn(MetricsFile)}: empty");
        var trials = Sweep.TrialLog.Read(Required(TrialsFile), repairTornTail: false);
        var (models, _, testLabels) = Experiments.PredictionsFile.ReadTest(Required(PredictionsFile));
        // Selection facts (trial, validation AUROC, parameters) come from metrics.json, where evaluation wrote them.
        var facts = metrics.Subsets.SelectMany(s => s.PerLabel.SelectMany(l => l.Models.Select(m => (l.Label, m)))).ToLookup(x => (x.Label, x.m.Learner), x => x.m);
        var predictions = models.Select(m =>
        {
            var fact = facts[(m.Label, m.Model)].FirstOrDefault();
            return new Evaluation.ModelPredictions
            {
                Label = m.Label, Model = m.Model, Subset = m.Subset, Threshold = m.Threshold, TestScores = m.TestScores,
                ValidationAuroc = fact?.ValidationAuroc ?? double.NaN, Trial = fact?.Trial ?? 0, Parameters = fact?.Parameters ?? new Dictionary<string, double>(),
            };
        }).ToArray();
        var skipped = File.Exists(FileIn(SkippedRecordsFile))
            ? Data.CsvTable.Read(FileIn(SkippedRecordsFile)).Rows.Select(r => new Features.SkippedRecord(-1, r[0], r[1])).ToArray()
            : [];
        return new Reports.ReportModel(definition, manifest ?? ReadManifest(), metrics, trials, predictions, testLabels, skipped);
    }

    public void WriteText(string name, string content) => AtomicFile.WriteText(FileIn(name), content);

    public void WriteJson<T>(string name, T value) => WriteText(name, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Appends one JSON object as a line and flushes it, so an interrupted run keeps every finished trial.</summary>
    public void AppendJsonLine<T>(string name, T value)
    {
        using var stream = new FileStream(FileIn(name), FileMode.Append, FileAccess.Write, FileShare.Read);
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, JsonConventions.Line) + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }
}
