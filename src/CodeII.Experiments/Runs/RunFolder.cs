using System.Text;
using System.Text.Json;

namespace CodeII.Experiments.Runs;

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
    public const string RecordWarningsFile = "record_warnings.csv";
    public const string SplitFile = "split.csv";
    public const string DataSummaryFile = "data.json";
    public const string ModelsFolder = "models";
    public const string ImportanceFile = "importance.json";
    /// <summary>The network's embeddings and outputs of every exam (a feature rows file) when the feature cache is off or
    /// cannot be written; with the cache they are in the cache instead.</summary>
    public const string EmbeddingsFile = "embeddings.f32";
    /// <summary>Marks a run folder as a transfer run's cell: it names the transfer run's folder, relative to the cell,
    /// which holds the lock and the event log of every cell in it.</summary>
    public const string TransferCellFile = "cell.json";

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
        var refusals = 0;
        for (var attempt = 0; ; attempt++)
        {
            var name = attempt == 0 ? stamp : $"{stamp}-{attempt}";
            var candidate = System.IO.Path.Combine(parent, name);
            if (Directory.Exists(candidate)) continue;
            // Runs started in the same second (other processes too) each hold a name's claim file, created exclusively,
            // while they check and create its folder: checking and creating alone would let two runs share a folder.
            var claimPath = System.IO.Path.Combine(parent, $".{name}.claim");
            FileStream claim;
            try
            {
                claim = new FileStream(claimPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            // Another run holds (or has just released) the name's claim: take the next name. A claim that cannot be made
            // for another reason (a read-only folder) fails the same way every time, so it is reported after a few.
            catch (IOException) when (File.Exists(claimPath) || Directory.Exists(candidate) || ++refusals < 20)
            {
                continue;
            }
            using (claim)
            {
                if (Directory.Exists(candidate)) continue;
                Directory.CreateDirectory(candidate);
                return new RunFolder(candidate);
            }
        }
    }

    /// <summary>A run folder at a fixed place (a transfer run's cell), created when missing.</summary>
    public static RunFolder At(string path)
    {
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    /// <summary>
    /// The transfer run this folder is a cell of, or null for a run of its own. A cell is written under its transfer
    /// run's lock and logged in its transfer run's events, and is resumed only through it.
    /// </summary>
    public RunFolder? TransferRun()
    {
        var marker = FileIn(TransferCellFile);
        if (!File.Exists(marker)) return null;
        string? relative;
        try
        {
            using var cell = JsonDocument.Parse(File.ReadAllText(marker));
            relative = cell.RootElement.ValueKind == JsonValueKind.Object && cell.RootElement.TryGetProperty("transfer_run", out var run) && run.ValueKind == JsonValueKind.String
                ? run.GetString() : null;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{marker}: not JSON ({e.Message})", e);
        }
        if (string.IsNullOrEmpty(relative)) throw new InvalidDataException($"{marker}: field transfer_run: missing; it names the transfer run folder this cell is in");
        return new RunFolder(System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relative)));
    }

    /// <summary>Whether a run has started in this folder (its event log exists).</summary>
    public bool HasStarted => File.Exists(FileIn(RunEvents.File));

    /// <summary>An existing run folder, to resume: it must hold the definition and manifest its run wrote.</summary>
    public static RunFolder Open(string path)
    {
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path}: no such run folder");
        if (!File.Exists(System.IO.Path.Combine(path, DefinitionFile)))
            throw new FileNotFoundException($"{path}: not a run folder (it has no {DefinitionFile})");
        if (!File.Exists(System.IO.Path.Combine(path, RunEvents.File)) && !File.Exists(System.IO.Path.Combine(path, ManifestFile)))
            throw new FileNotFoundException($"{path}: not a run folder (it has no {RunEvents.File})");
        return new RunFolder(path);
    }

    /// <summary>Whether the run finished: its manifest is written once, at the end.</summary>
    public bool IsFinished => File.Exists(FileIn(ManifestFile));

    /// <summary>The manifest of a finished run.</summary>
    public RunManifest ReadManifest() => JsonConventions.ReadFile<RunManifest>(FileIn(ManifestFile));

    public void WriteText(string name, string content) => AtomicFile.WriteText(FileIn(name), content);

    public void WriteJson<T>(string name, T value) => WriteText(name, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>
    /// Appends one JSON object as a line and flushes it, so an interrupted run keeps every finished trial. A line the
    /// disk cannot take whole is cut back out (the log's readers stop at a torn line), and the error names this log.
    /// </summary>
    public void AppendJsonLine<T>(string name, T value)
    {
        var path = FileIn(name);
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, JsonConventions.Line) + "\n");
        // Unbuffered, so a failed write fails here and not again when the stream is disposed; appended at the end
        // rather than in append mode, which could not cut a torn line back out. One process writes a run folder
        // (RunLock), and its sweep logs one trial at a time.
        using var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0);
        var end = stream.Seek(0, SeekOrigin.End);
        try
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            try { stream.SetLength(end); } catch (IOException) { } // shortening needs no space; if it fails, a resume repairs the tail
            throw new IOException($"{path}: cannot append to this log: {WriteFailure.Reason(e)}", e);
        }
    }
}
