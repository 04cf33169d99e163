using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// Extracted features on disk as Arrow IPC files (readable by pyarrow, pandas, DuckDB and Polars), one per key. The key
/// covers everything that decides the values: the source's description (dataset parameters and preprocessing), the
/// dataset files' paths, sizes and modification times, the extractor's name and version, and whether bad records were
/// skipped. Change any of them and the cache misses.
/// </summary>
public sealed class FeatureCache(string directory)
{
    public string Directory { get; } = directory;

    public static string Key(IEcgSource source, IEcgFeatureExtractor extractor, bool skipBadRecords, string? datasetPath)
    {
        var text = new StringBuilder()
            .Append("source=").Append(source.Describe()).Append('\n')
            .Append("extractor=").Append(extractor.Name).Append(" v").Append(extractor.Version).Append('\n')
            .Append("features=").Append(string.Join(",", extractor.FeatureNames)).Append('\n')
            .Append("skip=").Append(skipBadRecords).Append('\n')
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

    /// <summary>The cached table, or null when absent, unreadable or written for other features.</summary>
    public FeatureTable? TryLoad(string key, IEcgFeatureExtractor extractor)
    {
        var path = PathOf(key);
        if (!File.Exists(path)) return null;
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new ArrowFileReader(stream);
            var names = reader.Schema.FieldsList.Skip(4).Select(f => f.Name).ToArray();
            if (!names.SequenceEqual(extractor.FeatureNames)) return null;
            var examIds = new List<string>();
            var patients = new List<string>();
            var classes = new List<IReadOnlySet<string>>();
            var sourceIndex = new List<int>();
            var columns = names.Select(_ => new List<float>()).ToArray();
            while (reader.ReadNextRecordBatch() is { } batch)
            {
                var ids = (StringArray)batch.Column(0);
                var pids = (StringArray)batch.Column(1);
                var cls = (StringArray)batch.Column(2);
                var idx = (Int32Array)batch.Column(3);
                for (var r = 0; r < batch.Length; r++)
                {
                    examIds.Add(ids.GetString(r));
                    patients.Add(pids.GetString(r));
                    classes.Add(cls.GetString(r).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal));
                    sourceIndex.Add(idx.GetValue(r)!.Value);
                }
                for (var c = 0; c < names.Length; c++) columns[c].AddRange(((FloatArray)batch.Column(4 + c)).Values.ToArray());
            }
            var width = names.Length;
            var values = new float[examIds.Count * width];
            for (var c = 0; c < width; c++)
                for (var r = 0; r < examIds.Count; r++) values[r * width + c] = columns[c][r];
            var metadata = reader.Schema.Metadata;
            return new FeatureTable
            {
                FeatureNames = names,
                ExamIds = examIds.ToArray(),
                PatientIds = patients.ToArray(),
                Labels = classes.ToArray(),
                Values = values,
                SourceIndex = sourceIndex.ToArray(),
                DataFingerprint = metadata["data_fingerprint"],
                Skipped = JsonSerializer.Deserialize<SkippedRecord[]>(metadata["skipped"]) ?? [],
            };
        }
        catch (Exception e) when (e is IOException or InvalidDataException or InvalidCastException or KeyNotFoundException or JsonException or ArgumentException)
        {
            return null; // a damaged or foreign file is recomputed and replaced
        }
    }

    public void Save(string key, FeatureTable table)
    {
        System.IO.Directory.CreateDirectory(Directory);
        FeatureTableFiles.WriteArrow(table, PathOf(key));
    }
}
