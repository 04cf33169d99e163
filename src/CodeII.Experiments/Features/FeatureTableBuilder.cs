using System.Security.Cryptography;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// Part of a feature table: the rows of one range of a source's records, with each kept record's hash, so that shards
/// extracted apart (by cluster tasks) combine into exactly the table, fingerprint included, that one pass would give.
/// </summary>
public sealed record FeatureShard(FeatureTable Table, byte[][] RecordHashes)
{
    /// <summary>SHA-256 of a record: 32 bytes per kept row in <see cref="RecordHashes"/>.</summary>
    public const int HashBytes = 32;
}

public static class FeatureTableBuilder
{
    /// <summary>
    /// Reads every record once, extracting features and fingerprinting the data in the same pass. Records are
    /// decoded and dropped one at a time per worker, so memory holds only the feature matrix.
    /// </summary>
    /// <param name="skipBadRecords">Leave out records whose data are bad (<see cref="EcgDataException"/>) and list them,
    /// instead of stopping at the first.</param>
    public static FeatureTable Extract(IEcgSource source, IEcgFeatureExtractor extractor, int maxDegreeOfParallelism,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default, bool skipBadRecords = false) =>
        Combine([ExtractShard(source, 0, source.Count, extractor, maxDegreeOfParallelism, progress, cancellationToken, skipBadRecords)]);

    /// <summary>The rows of records <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1,
    /// with their source indices in the whole source.</summary>
    public static FeatureShard ExtractShard(IEcgSource source, int first, int count, IEcgFeatureExtractor extractor, int maxDegreeOfParallelism,
        IProgress<StageProgress>? progress = null, CancellationToken cancellationToken = default, bool skipBadRecords = false)
    {
        if (first < 0 || count < 0 || first + count > source.Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"records {first}–{first + count - 1} are not all in a source of {source.Count}");
        var width = extractor.FeatureNames.Count;
        var values = new float[(long)count * width];
        var examIds = new string[count];
        var patientIds = new string[count];
        var labels = new IReadOnlySet<string>[count];
        var recordHashes = new byte[count][];
        var rates = new float[count];
        var seconds = new float[count];
        var failures = new System.Collections.Concurrent.ConcurrentDictionary<int, EcgDataException>();
        var warnings = new System.Collections.Concurrent.ConcurrentDictionary<int, IReadOnlyList<string>>();
        var done = 0;
        ParallelLoop.For(count, maxDegreeOfParallelism, cancellationToken, k =>
            {
                var i = first + k;
                EcgRecord record;
                try
                {
                    record = RecordBoundary.Read(source, i);
                    RecordBoundary.Guard(source, i, $"{extractor.Name} features", () => extractor.Extract(record, values.AsSpan(k * width, width)));
                }
                catch (EcgDataException e) when (skipBadRecords)
                {
                    failures[k] = e;
                    if (Interlocked.Increment(ref done) % 64 == 0) progress?.Report(new StageProgress("features", done, count));
                    return;
                }
                if (record.Warnings.Count > 0) warnings[k] = record.Warnings;
                examIds[k] = record.ExamId;
                patientIds[k] = record.PatientId;
                labels[k] = record.Labels;
                rates[k] = (float)record.SourceSamplingRateHz;
                seconds[k] = (float)record.SourceSeconds;
                recordHashes[k] = HashRecord(record);
                var now = Interlocked.Increment(ref done);
                if (now % 64 == 0 || now == count) progress?.Report(new StageProgress("features", now, count));
            });

        progress?.Report(new StageProgress("features", count, count));
        var kept = Enumerable.Range(0, count).Where(k => !failures.ContainsKey(k)).ToArray();
        var keptValues = kept.Length == count ? values : kept.SelectMany(k => values.AsSpan(k * width, width).ToArray()).ToArray();
        var table = new FeatureTable
        {
            FeatureNames = extractor.FeatureNames,
            ExamIds = [.. kept.Select(k => examIds[k])],
            PatientIds = [.. kept.Select(k => patientIds[k])],
            Labels = [.. kept.Select(k => labels[k])],
            Values = keptValues,
            SourceIndex = [.. kept.Select(k => first + k)],
            SourceRatesHz = [.. kept.Select(k => rates[k])],
            SourceSeconds = [.. kept.Select(k => seconds[k])],
            DataFingerprint = "",
            Skipped = [.. failures.OrderBy(f => f.Key).Select(f => SkippedRecord.From(first + f.Key, source.ExamIdAt(first + f.Key), f.Value))],
            Warnings = [.. warnings.OrderBy(w => w.Key).SelectMany(w => w.Value.Select(text => new RecordWarning(examIds[w.Key], text)))],
        };
        return new FeatureShard(table, [.. kept.Select(k => recordHashes[k])]);
    }

    /// <summary>The shards of consecutive record ranges, in order, as one table; its fingerprint covers every kept
    /// record's hash in source order, then each skipped record's id, as one pass over the source computes it.</summary>
    public static FeatureTable Combine(IReadOnlyList<FeatureShard> shards)
    {
        if (shards.Count == 0) throw new ArgumentException("no shards to combine");
        var names = shards[0].Table.FeatureNames;
        if (shards.FirstOrDefault(s => !s.Table.FeatureNames.SequenceEqual(names)) is { } other)
            throw new ArgumentException($"the shards hold different features ({names.Count} and {other.Table.FeatureNames.Count} columns)");
        var tables = shards.Select(s => s.Table).ToArray();
        using var combined = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var hash in shards.SelectMany(s => s.RecordHashes)) combined.AppendData(hash);
        // Skipped records change what the data are, so they change the fingerprint too.
        var skipped = tables.SelectMany(t => t.Skipped).ToArray();
        foreach (var record in skipped) combined.AppendData(System.Text.Encoding.UTF8.GetBytes($"skipped:{record.ExamId}"));
        var fingerprint = "sha256:" + Convert.ToHexStringLower(combined.GetHashAndReset());
        // One shard (a one-pass extraction) keeps its values as they are; more are laid end to end.
        FeatureValues values = tables.Length == 1 ? tables[0].Values : Concatenated(tables);
        return new FeatureTable
        {
            FeatureNames = names,
            ExamIds = [.. tables.SelectMany(t => t.ExamIds)],
            PatientIds = [.. tables.SelectMany(t => t.PatientIds)],
            Labels = [.. tables.SelectMany(t => t.Labels)],
            Values = values,
            SourceIndex = [.. tables.SelectMany(t => t.SourceIndex)],
            SourceRatesHz = [.. tables.SelectMany(t => t.SourceRatesHz ?? throw new ArgumentException("a shard lacks its records' rates"))],
            SourceSeconds = [.. tables.SelectMany(t => t.SourceSeconds ?? throw new ArgumentException("a shard lacks its records' lengths"))],
            DataFingerprint = fingerprint,
            Skipped = skipped,
            Warnings = [.. tables.SelectMany(t => t.Warnings)],
        };
    }

    static float[] Concatenated(IReadOnlyList<FeatureTable> tables)
    {
        var values = new float[tables.Sum(t => t.Values.Length)];
        var offset = 0;
        foreach (var table in tables)
        {
            // Shards are record-based tables, extracted into memory: one slice each.
            table.Values.Slice(0, checked((int)table.Values.Length)).CopyTo(values.AsSpan(offset));
            offset += (int)table.Values.Length;
        }
        return values;
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
