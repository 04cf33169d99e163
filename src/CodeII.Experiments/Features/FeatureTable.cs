using System.Security.Cryptography;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>Features of every exam in a source, row per exam, in the source's order, with what identifies each exam.</summary>
public sealed class FeatureTable
{
    public required IReadOnlyList<string> FeatureNames { get; init; }
    public required string[] ExamIds { get; init; }
    public required string[] PatientIds { get; init; }
    public required IReadOnlySet<string>[] Labels { get; init; }
    /// <summary>Row-major: exam i's features are Values[i * FeatureNames.Count ..].</summary>
    public required float[] Values { get; init; }
    /// <summary>SHA-256 over every exam's ids, labels and signal bytes, in order.</summary>
    public required string DataFingerprint { get; init; }

    public int RowCount => ExamIds.Length;
    public ReadOnlySpan<float> Row(int i) => Values.AsSpan(i * FeatureNames.Count, FeatureNames.Count);
}

public readonly record struct StageProgress(string Stage, int Done, int Total);

public static class FeatureTableBuilder
{
    /// <summary>
    /// Reads every record once, extracting features and fingerprinting the data in the same pass. Records are
    /// decoded and dropped one at a time per worker, so memory holds only the feature matrix.
    /// </summary>
    public static FeatureTable Extract(IEcgSource source, IEcgFeatureExtractor extractor, int maxDegreeOfParallelism,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var count = source.Count;
        var width = extractor.FeatureNames.Count;
        var values = new float[(long)count * width];
        var examIds = new string[count];
        var patientIds = new string[count];
        var labels = new IReadOnlySet<string>[count];
        var recordHashes = new byte[count][];
        var done = 0;
        Parallel.For(0, count,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism), CancellationToken = cancellationToken },
            i =>
            {
                var record = source.Read(i);
                extractor.Extract(record, values.AsSpan(i * width, width));
                examIds[i] = record.ExamId;
                patientIds[i] = record.PatientId;
                labels[i] = record.Labels;
                recordHashes[i] = HashRecord(record);
                var now = Interlocked.Increment(ref done);
                if (now % 64 == 0 || now == count) progress?.Report(new StageProgress("features", now, count));
            });

        using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var h in recordHashes) combined.AppendData(h);
        return new FeatureTable
        {
            FeatureNames = extractor.FeatureNames,
            ExamIds = examIds,
            PatientIds = patientIds,
            Labels = labels,
            Values = values,
            DataFingerprint = "sha256:" + Convert.ToHexStringLower(combined.GetHashAndReset()),
        };
    }

    static byte[] HashRecord(EcgRecord record)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var header = $"{record.ExamId}|{record.PatientId}|{record.Age}|{record.Sex}|{record.SamplingRateHz:R}|" +
                     $"{string.Join(",", record.Leads)}|{string.Join(",", record.Labels.Order(StringComparer.Ordinal))}";
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(header));
        foreach (var lead in record.Signals)
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(lead.AsSpan()));
        return hash.GetHashAndReset();
    }
}
