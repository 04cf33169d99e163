using CodeII.Experiments.Data;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Reports;

/// <summary>
/// Where each lead goes on a printed ECG: the standard 3 × 4 layout (2.5 s per column: I/II/III, aVR/aVL/aVF, V1–V3,
/// V4–V6) above a lead II rhythm strip, or one full-length row per lead for records without the 12 standard leads.
/// The interactive plot (<see cref="EcgPlot"/>) and the static one (<see cref="EcgSvg"/>) draw the same sheet.
/// </summary>
public sealed record EcgSheet(IReadOnlyList<EcgSheet.Segment> Segments, int Rows, double WidthSeconds, double DurationSeconds)
{
    /// <summary>Samples <see cref="FirstSample"/> … + <see cref="SampleCount"/> of <see cref="Lead"/>, drawn from
    /// <see cref="StartSeconds"/> on the sheet's time axis in row <see cref="Row"/> (0 at the top).</summary>
    public sealed record Segment(int Lead, string Label, int FirstSample, int SampleCount, double StartSeconds, int Row);

    public const double ColumnSeconds = 2.5;

    /// <summary>Baseline to baseline between rows, in mV: 30 mm at 10 mm/mV.</summary>
    public const double RowSpacingMv = 3;

    static readonly string[][] Columns = [["I", "II", "III"], ["aVR", "aVL", "aVF"], ["V1", "V2", "V3"], ["V4", "V5", "V6"]];

    public static EcgSheet Lay(EcgRecord record)
    {
        var fs = record.SamplingRateHz;
        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var duration = length / fs;
        var segments = new List<Segment>();
        int Lead(string name) => record.Leads.ToList().FindIndex(l => l == name);
        void Add(int lead, double fromSeconds, double toSeconds, double xOffset, int row, string label)
        {
            var first = start + (int)Math.Round(fromSeconds * fs);
            var last = Math.Min(start + length, start + (int)Math.Round(toSeconds * fs));
            segments.Add(new Segment(lead, label, Math.Min(first, start + length), Math.Max(0, last - first), xOffset, row));
        }

        if (Columns.SelectMany(c => c).All(l => Lead(l) >= 0))
        {
            for (var c = 0; c < Columns.Length; c++)
                for (var r = 0; r < 3; r++)
                    Add(Lead(Columns[c][r]), c * ColumnSeconds, (c + 1) * ColumnSeconds, c * ColumnSeconds, r, Columns[c][r]);
            Add(Lead("II"), 0, 4 * ColumnSeconds, 0, 3, "II");
            return new EcgSheet(segments, 4, 4 * ColumnSeconds, duration);
        }
        for (var l = 0; l < record.Leads.Count; l++) Add(l, 0, duration, 0, l, record.Leads[l]);
        return new EcgSheet(segments, record.Leads.Count, duration, duration);
    }

    /// <summary>How long the drawn recording is; for a window of a longer one, which part of it.</summary>
    static string Span(EcgRecord record)
    {
        var seconds = record.RecordedSamples.GetOffsetAndLength(record.SampleCount).Length / record.SamplingRateHz;
        return record.StartSeconds > 0 || seconds < record.SourceSeconds - 1e-6
            ? $"{record.StartSeconds:0.##}–{record.StartSeconds + seconds:0.##} s of {record.SourceSeconds:0.#} s"
            : $"{seconds:0.##} s";
    }

    /// <summary>An R peak where a segment shows it: at <see cref="SheetSeconds"/> on the time axis, on the trace's value.</summary>
    public sealed record PlacedPeak(Segment Segment, double SheetSeconds, float Millivolts);

    /// <summary>A boundary mark where a segment shows it.</summary>
    public sealed record PlacedBoundary(Segment Segment, double SheetSeconds, BeatMark Mark);

    /// <summary>Every R peak on every segment that shows it, segment by segment; a peak on a gap in the trace is left out.</summary>
    public IEnumerable<PlacedPeak> RPeaksOn(EcgRecord record, BeatMarks marks)
    {
        var fs = record.SamplingRateHz;
        foreach (var segment in Segments)
            foreach (var r in marks.RPeaks)
                if (SampleIn(segment, r / fs, fs) is { } k && record.Signals[segment.Lead][segment.FirstSample + k] is var v && !float.IsNaN(v))
                    yield return new PlacedPeak(segment, segment.StartSeconds + k / fs, v);
    }

    /// <summary>Every boundary mark on every segment that shows it, segment by segment.</summary>
    public IEnumerable<PlacedBoundary> BoundariesOn(EcgRecord record, BeatMarks marks)
    {
        var fs = record.SamplingRateHz;
        var boundaries = marks.Boundaries().ToArray();
        foreach (var segment in Segments)
            foreach (var mark in boundaries)
                if (SampleIn(segment, mark.Seconds, fs) is { } k)
                    yield return new PlacedBoundary(segment, segment.StartSeconds + k / fs, mark);
    }

    /// <summary>Where a mark at <paramref name="seconds"/> (from the record's first sample) falls on a segment: its
    /// sample within the segment, or null when the segment does not show that moment.</summary>
    static int? SampleIn(Segment segment, double seconds, double samplingRateHz)
    {
        var k = (int)Math.Round(seconds * samplingRateHz) - segment.FirstSample;
        return k >= 0 && k < segment.SampleCount ? k : null;
    }

    /// <summary>The line above the plot: exam, patient, age, sex, rate, duration and labels.</summary>
    public static string Title(EcgRecord record) =>
        $"Exam {record.ExamId} · patient {record.PatientId}" +
        (record.Age is { } age ? $" · {age} y" : "") + (record.Sex != Sex.Unknown ? $" · {record.Sex.ToString().ToLowerInvariant()}" : "") +
        $" · {record.SamplingRateHz:0.##} Hz · {Span(record)}" +
        $" · labels: {(record.Labels.Count == 0 ? "none" : string.Join(", ", record.Labels.Order(StringComparer.Ordinal)))}";
}
