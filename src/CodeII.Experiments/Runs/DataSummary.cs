using CodeII.Experiments.Data;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Runs;

/// <summary>One part of the split: its exams and patients, and each label's positives and negatives in it.</summary>
public sealed record SplitPartSummary(string Part, int Exams, int Patients, IReadOnlyDictionary<string, LabelCount> Labels);

/// <summary>Exams with and without a label.</summary>
public sealed record LabelCount(int Positives, int Negatives)
{
    public double Prevalence => Positives + Negatives == 0 ? double.NaN : (double)Positives / (Positives + Negatives);
}

/// <summary>A distribution's five numbers, for the recordings' lengths.</summary>
public sealed record Spread(double Min, double Median, double Max, double Mean);

/// <summary>
/// What a run's data were, for the report's data summary (<c>data.json</c>): records read and skipped, patients,
/// sampling rates and lengths as the source recorded them, how the split was made, and each label's positives and
/// negatives in train, validation and test.
/// </summary>
public sealed record DataSummary
{
    public required string Dataset { get; init; }
    public required int RecordsRead { get; init; }
    public required int RecordsSkipped { get; init; }
    public required int Exams { get; init; }
    public required int Patients { get; init; }
    /// <summary>Exams per sampling rate (Hz, as recorded); empty when the features were cached without it.</summary>
    public required IReadOnlyDictionary<string, int> SamplingRatesHz { get; init; }
    /// <summary>Recording lengths in seconds, as recorded; null when the features were cached without them.</summary>
    public Spread? DurationSeconds { get; init; }
    public required string SplitMethod { get; init; }
    /// <summary>train, validation, test, and unused when a run trains on a share of its training patients.</summary>
    public required IReadOnlyList<SplitPartSummary> Parts { get; init; }

    public static DataSummary Of(FeatureTable rows, PatientSplit split, IReadOnlyList<string> labels, string dataset, string splitMethod)
    {
        var parts = Enum.GetValues<SplitPart>()
            .Select(part => (part, exams: Enumerable.Range(0, rows.RowCount).Where(i => split.PartOfExam[i] == part).ToArray()))
            .Where(p => p.exams.Length > 0 || p.part != SplitPart.Unused)
            .Select(p => new SplitPartSummary(p.part.ToString().ToLowerInvariant(), p.exams.Length,
                p.exams.Select(i => rows.PatientIds[i]).Distinct(StringComparer.Ordinal).Count(),
                labels.ToDictionary(l => l, l => { var positives = p.exams.Count(i => rows.Labels[i].Contains(l)); return new LabelCount(positives, p.exams.Length - positives); })))
            .ToArray();
        return new DataSummary
        {
            Dataset = dataset,
            RecordsRead = rows.RowCount + rows.Skipped.Count,
            RecordsSkipped = rows.Skipped.Count,
            Exams = rows.RowCount,
            Patients = rows.PatientIds.Distinct(StringComparer.Ordinal).Count(),
            SamplingRatesHz = rows.SourceRatesHz is { } rates
                ? rates.GroupBy(r => r).OrderBy(g => g.Key).ToDictionary(g => g.Key.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), g => g.Count())
                : new Dictionary<string, int>(),
            DurationSeconds = rows.SourceSeconds is { Length: > 0 } seconds ? SpreadOf(seconds) : null,
            SplitMethod = splitMethod,
            Parts = parts,
        };
    }

    static Spread SpreadOf(float[] values)
    {
        var sorted = values.Where(float.IsFinite).Select(v => (double)v).Order().ToArray();
        if (sorted.Length == 0) return new Spread(double.NaN, double.NaN, double.NaN, double.NaN);
        var middle = sorted.Length / 2;
        var median = sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        return new Spread(sorted[0], median, sorted[^1], sorted.Average());
    }
}
