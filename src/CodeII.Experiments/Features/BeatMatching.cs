using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Features;

/// <summary>Detected beats scored against reference annotations.</summary>
/// <param name="ExcludedDetections">Unmatched detections inside annotated ventricular flutter or fibrillation, counted
/// neither as true nor as false positives (see <see cref="BeatMatching.Compare(IReadOnlyList{long}, ReferenceBeats, double, double)"/>).</param>
/// <param name="OffsetSumSamples">Sum over matched pairs of detection − reference, in samples: with
/// <see cref="TruePositives"/> it gives the signed mean offset, and it adds up over records.</param>
public sealed record BeatComparison(int TruePositives, int FalseNegatives, int FalsePositives, int ExcludedDetections = 0, long OffsetSumSamples = 0)
{
    /// <summary>Se = TP / (TP + FN).</summary>
    public double Sensitivity => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
    /// <summary>+P = TP / (TP + FP).</summary>
    public double PositivePredictivity => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);
    /// <summary>Signed mean of detection − reference over matched beats, in samples (positive: detections late).</summary>
    public double MeanOffsetSamples => TruePositives == 0 ? double.NaN : (double)OffsetSumSamples / TruePositives;
}

/// <summary>
/// What a detector is scored against: the annotated beats (AAMI EC57's beat codes) and the spans of ventricular flutter
/// or fibrillation, between a <c>[</c> and the next <c>]</c>, where the annotators mark flutter waves (<c>!</c>), not beats.
/// </summary>
public sealed record ReferenceBeats(IReadOnlyList<long> Beats, IReadOnlyList<(long Start, long End)> FlutterEpisodes)
{
    /// <summary>ANSI/AAMI EC57's beat labels: N L R e j A a J S V E F / f Q. Non-conducted P waves (<c>x</c>), which
    /// wfdb's isqrs counts, are not beats here: no QRS follows them, so no QRS detector could find them.</summary>
    public static bool IsAamiBeat(int code) => code is >= 1 and <= 13 || code is 34 or 38;

    const int FlutterStart = 32, FlutterEnd = 33;

    public static ReferenceBeats FromAnnotations(IEnumerable<WfdbAnnotation> annotations, long recordEnd = long.MaxValue)
    {
        var beats = new List<long>();
        var episodes = new List<(long, long)>();
        long? open = null;
        foreach (var a in annotations)
        {
            if (IsAamiBeat(a.Code)) beats.Add(a.Sample);
            else if (a.Code == FlutterStart) open ??= a.Sample;
            else if (a.Code == FlutterEnd && open is { } start) { episodes.Add((start, a.Sample)); open = null; }
        }
        // An episode still open at the end of the annotations lasts to the end of the record.
        if (open is { } last) episodes.Add((last, recordEnd));
        return new ReferenceBeats(beats, episodes);
    }
}

public static class BeatMatching
{
    /// <summary>ANSI/AAMI EC57: a detection matches a reference beat within ±75 ms (a 150 ms window).</summary>
    public const double DefaultWindowSeconds = 0.150;

    /// <summary>
    /// Pairs each reference beat with the nearest unused detection inside the window, walking both sorted lists once.
    /// Detections outside [first reference − window, last reference + window] are not counted, so a reference that
    /// covers only part of a record does not turn the rest into false positives.
    /// </summary>
    public static BeatComparison Compare(IReadOnlyList<long> detected, IReadOnlyList<long> reference, double samplingRateHz,
        double windowSeconds = DefaultWindowSeconds) =>
        Compare(detected, new ReferenceBeats(reference, []), samplingRateHz, windowSeconds);

    /// <summary>
    /// As <see cref="Compare(IReadOnlyList{long}, IReadOnlyList{long}, double, double)"/>, and an unmatched detection
    /// inside a flutter episode (from its <c>[</c> to its <c>]</c>, inclusive) is excluded rather than counted false:
    /// the reference marks flutter waves there, not beats, so there is nothing to match it with or to miss. Detections
    /// matched to a beat inside an episode still count as true positives; nothing else is excluded.
    /// </summary>
    public static BeatComparison Compare(IReadOnlyList<long> detected, ReferenceBeats reference, double samplingRateHz,
        double windowSeconds = DefaultWindowSeconds)
    {
        var beats = reference.Beats;
        var half = (long)Math.Round(windowSeconds / 2 * samplingRateHz);
        var used = new bool[detected.Count];
        int tp = 0, j = 0;
        long offsetSum = 0;
        foreach (var beat in beats)
        {
            while (j < detected.Count && detected[j] < beat - half) j++;
            // The nearest of the candidates inside the window.
            var best = -1;
            for (var k = j; k < detected.Count && detected[k] <= beat + half; k++)
                if (!used[k] && (best < 0 || Math.Abs(detected[k] - beat) < Math.Abs(detected[best] - beat))) best = k;
            if (best >= 0) { used[best] = true; tp++; offsetSum += detected[best] - beat; }
        }
        var fn = beats.Count - tp;
        int fp = 0, excluded = 0;
        if (beats.Count > 0)
            for (var k = 0; k < detected.Count; k++)
            {
                if (used[k] || detected[k] < beats[0] - half || detected[k] > beats[^1] + half) continue;
                if (reference.FlutterEpisodes.Any(e => detected[k] >= e.Start && detected[k] <= e.End)) excluded++;
                else fp++;
            }
        return new BeatComparison(tp, fn, fp, excluded, offsetSum);
    }
}
