using System.Security.Cryptography;
using System.Text;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// Extracted features on disk as Arrow IPC files (readable by pyarrow, pandas, DuckDB and Polars), one per key, and a
/// network's embeddings and outputs as memory-mapped row files (<see cref="FeatureRowsFile"/>, readable by numpy). The key
/// covers everything that decides the values: the source's description (dataset parameters and preprocessing), the
/// dataset files' paths, sizes and modification times, the extractor's name and version, and whether bad records were
/// skipped. Change any of them and the cache misses.
/// </summary>
public sealed class FeatureCache(string directory)
{
    public string Directory { get; } = directory;

    public static string Key(IEcgSource source, IEcgFeatureExtractor extractor, bool skipBadRecords, string? datasetPath) =>
        Key(source, $"{extractor.Name} v{extractor.Version}", extractor.FeatureNames, skipBadRecords, datasetPath);

    /// <param name="producer">What computed the features: an extractor and its version, or a network's checkpoint hash.</param>
    public static string Key(IEcgSource source, string producer, IReadOnlyList<string> featureNames, bool skipBadRecords, string? datasetPath)
    {
        var text = new StringBuilder()
            .Append("source=").Append(source.Describe()).Append('\n')
            .Append("extractor=").Append(producer).Append('\n')
            .Append("features=").Append(string.Join(",", featureNames)).Append('\n')
            .Append("skip=").Append(skipBadRecords).Append('\n')
            .Append("records=v").Append(RecordBoundary.Version).Append('\n')
            .Append("files=").Append(FilesFingerprint(datasetPath));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    /// <summary>Paths, sizes and modification times of every file under the dataset folder: cheap, and changes when data do.</summary>
    static string FilesFingerprint(string? path)
    {
        if (path is null || !System.IO.Directory.Exists(path)) return "none";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in System.IO.Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            hash.AppendData(Encoding.UTF8.GetBytes($"{Path.GetRelativePath(path, file)}|{info.Length}|{info.LastWriteTimeUtc.Ticks}\n"));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public string PathOf(string key) => Path.Combine(Directory, key + ".arrow");

    /// <summary>Where rows computed by a network are kept under this key: a <see cref="FeatureRowsFile"/>, read through a
    /// memory map, not an Arrow table read into memory.</summary>
    public string RowsPathOf(string key) => Path.Combine(Directory, key + FeatureRowsFile.Extension);

    /// <summary>The cached table, or null when absent, unreadable or written for other features.</summary>
    /// <remarks>A record-based table cached before the recording facts were kept is extracted again, so every run can
    /// summarise its data; tables computed from another table's rows (embeddings) take those facts from it.</remarks>
    public FeatureTable? TryLoad(string key, IEcgFeatureExtractor extractor) =>
        TryLoad(key, extractor.FeatureNames) is { SourceRatesHz: not null } table ? table : null;

    public FeatureTable? TryLoad(string key, IReadOnlyList<string> featureNames)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return null;
        try
        {
            var table = FeatureTableFiles.ReadArrow(path);
            return table.FeatureNames.SequenceEqual(featureNames) ? table : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidCastException or KeyNotFoundException or System.Text.Json.JsonException or ArgumentException)
        {
            return null; // a damaged or foreign file is recomputed and replaced
        }
    }

    /// <summary>The cached table for this extractor, or one extracted now and cached; <c>Hit</c> says which, and
    /// <c>Unsaved</c> why the new table could not be cached (a full or read-only cache): the run goes on with it.</summary>
    public (FeatureTable Table, bool Hit, string? Unsaved) LoadOrExtract(string key, IEcgFeatureExtractor extractor, Func<FeatureTable> extract)
    {
        if (TryLoad(key, extractor) is { } cached) return (cached, true, null);
        var table = extract();
        return (table, false, TrySave(key, table));
    }

    /// <summary>Caches a table; on failure returns why instead of throwing, since the table itself is in hand.</summary>
    public string? TrySave(string key, FeatureTable table)
    {
        try
        {
            Save(key, table);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"not cached ({e.Message})";
        }
    }

    public void Save(string key, FeatureTable table)
    {
        System.IO.Directory.CreateDirectory(Directory);
        FeatureTableFiles.WriteArrow(table, PathOf(key));
    }
}
