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
    /// <summary>Each row's index in the source it was read from (rows of skipped records are absent).</summary>
    public required int[] SourceIndex { get; init; }
    /// <summary>Records left out because they failed to decode, with the reason; empty unless skipping was asked for.</summary>
    public IReadOnlyList<SkippedRecord> Skipped { get; init; } = [];
    /// <summary>Records kept whose source said something probably wrong, one line per warning.</summary>
    public IReadOnlyList<RecordWarning> Warnings { get; init; } = [];
    /// <summary>Each row's sampling rate and length as the source recorded them (before resampling, cropping or
    /// padding), for the data summary; null in tables cached before they were kept.</summary>
    public float[]? SourceRatesHz { get; init; }
    public float[]? SourceSeconds { get; init; }

    public int RowCount => ExamIds.Length;
    public ReadOnlySpan<float> Row(int i) => Values.AsSpan(i * FeatureNames.Count, FeatureNames.Count);

    /// <summary>The same exams with other features (row-major, one row per exam in this table's order).</summary>
    public FeatureTable WithFeatures(IReadOnlyList<string> names, float[] values)
    {
        if (values.Length != (long)RowCount * names.Count)
            throw new ArgumentException($"{values.Length} values do not fill {RowCount} rows of {names.Count} features");
        return new FeatureTable
        {
            FeatureNames = names, ExamIds = ExamIds, PatientIds = PatientIds, Labels = Labels, Values = values,
            DataFingerprint = DataFingerprint, SourceIndex = SourceIndex, Skipped = Skipped, Warnings = Warnings,
            SourceRatesHz = SourceRatesHz, SourceSeconds = SourceSeconds,
        };
    }

    /// <summary>These rows only, in the order given (the sweep gets the training and validation rows, never the test rows).</summary>
    public FeatureTable Take(IReadOnlyList<int> rows)
    {
        var width = FeatureNames.Count;
        var values = new float[(long)rows.Count * width];
        for (var k = 0; k < rows.Count; k++) Row(rows[k]).CopyTo(values.AsSpan(k * width, width));
        return new FeatureTable
        {
            FeatureNames = FeatureNames, Values = values, DataFingerprint = DataFingerprint, Skipped = Skipped, Warnings = Warnings,
            ExamIds = [.. rows.Select(r => ExamIds[r])], PatientIds = [.. rows.Select(r => PatientIds[r])],
            Labels = [.. rows.Select(r => Labels[r])], SourceIndex = [.. rows.Select(r => SourceIndex[r])],
            SourceRatesHz = SourceRatesHz is { } rates ? [.. rows.Select(r => rates[r])] : null,
            SourceSeconds = SourceSeconds is { } seconds ? [.. rows.Select(r => seconds[r])] : null,
        };
    }

    /// <summary>This table's features followed by <paramref name="other"/>'s, for the same exams: a fused feature set.</summary>
    public FeatureTable Concatenate(FeatureTable other)
    {
        if (!other.ExamIds.SequenceEqual(ExamIds)) throw new ArgumentException("the tables hold different exams and cannot be fused");
        if (FeatureNames.Intersect(other.FeatureNames, StringComparer.Ordinal).FirstOrDefault() is { } shared)
            throw new ArgumentException($"both tables have a feature '{shared}': fused, its column would be ambiguous");
        var (a, b) = (FeatureNames.Count, other.FeatureNames.Count);
        var values = new float[(long)RowCount * (a + b)];
        for (var i = 0; i < RowCount; i++)
        {
            Row(i).CopyTo(values.AsSpan(i * (a + b), a));
            other.Row(i).CopyTo(values.AsSpan(i * (a + b) + a, b));
        }
        return WithFeatures([.. FeatureNames, .. other.FeatureNames], values);
    }
}

/// <summary>No features: reads ids, patients and labels only, for runs whose every feature set is learned.</summary>
public sealed class MetadataOnlyExtractor : IEcgFeatureExtractor
{
    public string Name => "metadata";
    public int Version => 1;
    public IReadOnlyList<string> FeatureNames { get; } = [];
    public void Extract(EcgRecord record, Span<float> destination) { }
}

/// <summary>A record that could not be read or measured, kept so the run can say which, where and why.</summary>
public sealed record SkippedRecord(int SourceIndex, string ExamId, string Reason)
{
    /// <summary>The file that holds the record (its header, or its HDF5 part).</summary>
    public string File { get; init; } = "";
    /// <summary>What in the record is wrong: a header field, the signals, or the features that could not be measured.</summary>
    public string Field { get; init; } = "";

    public static SkippedRecord From(int sourceIndex, string examId, EcgDataException e) =>
        new(sourceIndex, examId, e.Problem) { File = e.File, Field = e.Field };
}

/// <summary>Something a record's source says that was accepted but is probably wrong (a WFDB gain of 0).</summary>
public sealed record RecordWarning(string ExamId, string Warning);
