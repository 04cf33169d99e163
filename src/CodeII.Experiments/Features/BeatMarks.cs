using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>One fiducial point to draw on a record: which wave, which point of it, and when.</summary>
public sealed record BeatMark(string Wave, string Point, double Seconds);

/// <summary>
/// What the handcrafted features saw in a record, to draw over it: the detected R peaks, and the median beat's
/// boundaries placed at every one of them. The boundaries are the median beat's, not each beat's own, because the
/// intervals the features report are the median beat's; drawing them on every beat shows where they fit and where not.
/// </summary>
public sealed record BeatMarks(IReadOnlyList<int> RPeaks, BeatDelineation MedianBeat, double SamplingRateHz)
{
    public static BeatMarks Find(EcgRecord record)
    {
        var delineator = new BeatDelineator();
        var beats = delineator.MedianBeats(record);
        if (beats is not null) return new BeatMarks(beats.RPeaks, delineator.Delineate(beats), record.SamplingRateHz);
        // Too few beats for a median beat (a short window, a flat record): the peaks alone are still worth drawing.
        var peaks = new RPeakDetector().Detect(record.Signals, record.RecordedSamples, record.SamplingRateHz);
        return new BeatMarks(peaks, new BeatDelineation(), record.SamplingRateHz);
    }

    /// <summary>The median beat's boundaries at every R peak, in seconds from the record's first sample; points the
    /// delineation did not find are left out.</summary>
    public IEnumerable<BeatMark> Boundaries()
    {
        foreach (var r in RPeaks)
            foreach (var boundary in Enum.GetValues<WaveBoundary>())
                if (MedianBeat[boundary] is var offset && !double.IsNaN(offset))
                {
                    // POnset → ("P", "onset"), QrsOffset → ("QRS", "offset"), TPeak → ("T", "peak").
                    var name = boundary.ToString();
                    var split = name.IndexOfAny(['O', 'P'], 1);
                    yield return new BeatMark(name[..split].ToUpperInvariant(), name[split..].ToLowerInvariant(), r / SamplingRateHz + offset);
                }
    }

    /// <summary>The intervals a reader checks against the marks, e.g. "HR 72 bpm · PR 160 ms · QRS 98 ms · QT 380 ms".</summary>
    public string Summary()
    {
        var parts = new List<string>();
        if (RrStatistics.FromPeaks(RPeaks, SamplingRateHz) is { } rr) parts.Add($"HR {rr.HeartRateBpm:0} bpm");
        void Add(string name, double ms) { if (!double.IsNaN(ms)) parts.Add($"{name} {ms:0} ms"); }
        Add("PR", MedianBeat.PrMs);
        Add("QRS", MedianBeat.QrsMs);
        Add("QT", MedianBeat.QtMs);
        return parts.Count == 0 ? "no beats found" : string.Join(" · ", parts);
    }
}
