using System.Security.Cryptography;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>Features of every exam in a source, row per exam, in the source's order, with what identifies each exam.</summary>
/// <remarks>Read values through <see cref="Row"/>: a table may be a view of another's values (<see cref="Take"/>,
/// <see cref="Columns"/>), and its values may be in memory or in a file mapped into memory (<see cref="FeatureValues"/>).</remarks>
public sealed class FeatureTable
{
    public required IReadOnlyList<string> FeatureNames { get; init; }
    public required string[] ExamIds { get; init; }
    public required string[] PatientIds { get; init; }
    public required IReadOnlySet<string>[] Labels { get; init; }
    /// <summary>The values, row-major: exam i's features are <see cref="FeatureNames"/>.Count floats from i × that count,
    /// unless this table is a view, which reads its rows and columns out of a wider or longer table's values.</summary>
    public required FeatureValues Values { get; init; }
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

    // A view's layout in Values: floats per stored row (-1: as many as this table has features), the first of its
    // columns, and which stored row each of its rows is (null: row i is stored row i).
    int _stride = -1;
    int _firstColumn;
    int[]? _storedRows;

    int Stride => _stride < 0 ? FeatureNames.Count : _stride;

    int StoredRow(int i)
    {
        if ((uint)i >= (uint)RowCount) throw new ArgumentOutOfRangeException(nameof(i), $"row {i} of a table of {RowCount}");
        return _storedRows is null ? i : _storedRows[i];
    }

    public int RowCount => ExamIds.Length;
    public ReadOnlySpan<float> Row(int i) => Values.Slice((long)StoredRow(i) * Stride + _firstColumn, FeatureNames.Count);

    /// <summary>The same exams with other features (row-major, one row per exam in this table's order).</summary>
    public FeatureTable WithFeatures(IReadOnlyList<string> names, FeatureValues values)
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

    /// <summary>These rows only, in the order given (the sweep gets the training and validation rows, never the test
    /// rows): a view of this table's values, nothing is copied.</summary>
    public FeatureTable Take(IReadOnlyList<int> rows) => new()
    {
        FeatureNames = FeatureNames, Values = Values, DataFingerprint = DataFingerprint, Skipped = Skipped, Warnings = Warnings,
        ExamIds = [.. rows.Select(r => ExamIds[r])], PatientIds = [.. rows.Select(r => PatientIds[r])],
        Labels = [.. rows.Select(r => Labels[r])], SourceIndex = [.. rows.Select(r => SourceIndex[r])],
        SourceRatesHz = SourceRatesHz is { } rates ? [.. rows.Select(r => rates[r])] : null,
        SourceSeconds = SourceSeconds is { } seconds ? [.. rows.Select(r => seconds[r])] : null,
        _stride = Stride, _firstColumn = _firstColumn, _storedRows = [.. rows.Select(StoredRow)],
    };

    /// <summary>The same exams with features [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>)
    /// only: a view of this table's values, nothing is copied.</summary>
    public FeatureTable Columns(int first, int count)
    {
        if (first < 0 || count < 0 || first > FeatureNames.Count - count)
            throw new ArgumentOutOfRangeException(nameof(first), $"features [{first}, {first + count}) of a table of {FeatureNames.Count}");
        return new FeatureTable
        {
            FeatureNames = [.. FeatureNames.Skip(first).Take(count)], ExamIds = ExamIds, PatientIds = PatientIds, Labels = Labels, Values = Values,
            DataFingerprint = DataFingerprint, SourceIndex = SourceIndex, Skipped = Skipped, Warnings = Warnings,
            SourceRatesHz = SourceRatesHz, SourceSeconds = SourceSeconds,
            _stride = Stride, _firstColumn = _firstColumn + first, _storedRows = _storedRows,
        };
    }

    /// <summary>This table's features followed by <paramref name="other"/>'s, for the same exams: a fused feature set. When
    /// either table's values are mapped from a file, the fused rows are written to a scratch file beside it and mapped, a
    /// row at a time, so they never sit in memory whole.</summary>
    public FeatureTable Concatenate(FeatureTable other)
    {
        if (!other.ExamIds.SequenceEqual(ExamIds)) throw new ArgumentException("the tables hold different exams and cannot be fused");
        if (FeatureNames.Intersect(other.FeatureNames, StringComparer.Ordinal).FirstOrDefault() is { } shared)
            throw new ArgumentException($"both tables have a feature '{shared}': fused, its column would be ambiguous");
        var (a, b) = (FeatureNames.Count, other.FeatureNames.Count);
        var length = (long)RowCount * (a + b);
        if ((Values.Folder ?? other.Values.Folder) is { } folder)
            return WithFeatures([.. FeatureNames, .. other.FeatureNames], MappedFeatureValues.WriteScratch(folder, length, stream =>
            {
                for (var i = 0; i < RowCount; i++)
                {
                    stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(Row(i)));
                    stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(other.Row(i)));
                }
            }));
        var values = new float[length];
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
