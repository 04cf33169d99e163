using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Features;

/// <summary>
/// Per-beat wave boundaries from WFDB annotations, as the QT Database's manual (<c>.q1c</c>, <c>.q2c</c>) and ecgpuwave's
/// (<c>.pu0</c>, <c>.pu1</c>) files write them: a wave's peak symbol (<c>p</c>, a beat symbol such as <c>N</c>, <c>t</c>)
/// with its onset as a <c>(</c> just before it and its offset as a <c>)</c> just after it, either of which may be absent.
/// </summary>
public static class WaveAnnotations
{
    const int WaveOnset = 39, WaveOffset = 40, PWave = 24, TWave = 27;

    enum Wave { P, Qrs, T }

    readonly record struct Marked(Wave Kind, long Peak, double Onset, double Offset);

    public static IReadOnlyList<BeatFiducials> Beats(IReadOnlyList<WfdbAnnotation> annotations)
    {
        var waves = new List<Marked>();
        for (var i = 0; i < annotations.Count;)
        {
            if (KindOf(annotations[i]) is not { } kind) { i++; continue; }
            var onset = i > 0 && annotations[i - 1].Code == WaveOnset ? annotations[i - 1].Sample : double.NaN;
            // ecgpuwave marks a biphasic T wave with two t symbols between one pair of brackets; the first is its peak.
            var j = i + 1;
            while (j < annotations.Count && KindOf(annotations[j]) == kind && kind != Wave.Qrs) j++;
            var offset = j < annotations.Count && annotations[j].Code == WaveOffset ? annotations[j].Sample : double.NaN;
            waves.Add(new Marked(kind, annotations[i].Sample, onset, offset));
            i = j;
        }
        var qrs = waves.Where(w => w.Kind == Wave.Qrs).ToArray();
        var beats = new BeatFiducials[qrs.Length];
        for (var b = 0; b < qrs.Length; b++)
        {
            var previous = b > 0 ? qrs[b - 1].Peak : long.MinValue;
            var next = b + 1 < qrs.Length ? qrs[b + 1].Peak : long.MaxValue;
            var p = waves.Where(w => w.Kind == Wave.P && w.Peak > previous && w.Peak < qrs[b].Peak).Select(w => (Marked?)w).LastOrDefault();
            var t = waves.Where(w => w.Kind == Wave.T && w.Peak > qrs[b].Peak && w.Peak < next).Select(w => (Marked?)w).FirstOrDefault();
            beats[b] = new BeatFiducials((int)qrs[b].Peak)
            {
                QrsOnset = qrs[b].Onset,
                QrsOffset = qrs[b].Offset,
                POnset = p?.Onset ?? double.NaN,
                PPeak = p?.Peak ?? double.NaN,
                POffset = p?.Offset ?? double.NaN,
                TPeak = t?.Peak ?? double.NaN,
                TOffset = t?.Offset ?? double.NaN,
            };
        }
        return beats;
    }

    static Wave? KindOf(WfdbAnnotation a) => a.Code switch
    {
        PWave => Wave.P,
        TWave => Wave.T,
        _ when a.IsBeat => Wave.Qrs,
        _ => null,
    };
}

/// <summary>How one boundary of a delineation compares with a reference's: errors are ours − reference, in ms.</summary>
public sealed record BoundaryScore(WaveBoundary Boundary, int Reference, int Found, double MeanErrorMs, double SdErrorMs, double? ToleranceMs, double? WithinTolerance)
{
    /// <summary>Share of the reference boundaries the delineation gives one for (on a matched beat).</summary>
    public double FoundShare => Reference == 0 ? double.NaN : (double)Found / Reference;
}

public sealed record DelineationScore(int ReferenceBeats, int MatchedBeats, IReadOnlyList<BoundaryScore> Boundaries)
{
    public BoundaryScore this[WaveBoundary boundary] => Boundaries.Single(b => b.Boundary == boundary);
}

/// <summary>
/// Scores a per-beat delineation against a reference's (a cardiologist's, on the beats they annotated) as the QT Database
/// papers do (Laguna et al. 1997; Martínez et al. 2004): per boundary, the mean and standard deviation of the errors,
/// judged against the CSE working party's tolerances (two standard deviations of the referees' own spread).
/// </summary>
public static class DelineationScoring
{
    /// <summary>CSE tolerances in ms (CSE Working Party 1985); none exist for the P and T peaks.</summary>
    public static readonly IReadOnlyDictionary<WaveBoundary, double> CseToleranceMs = new Dictionary<WaveBoundary, double>
    {
        [WaveBoundary.POnset] = 10.2,
        [WaveBoundary.POffset] = 12.7,
        [WaveBoundary.QrsOnset] = 6.5,
        [WaveBoundary.QrsOffset] = 11.6,
        [WaveBoundary.TOffset] = 30.6,
    };

    /// <summary>
    /// Each reference beat is matched to the delineated beat whose R (or QRS mark) is nearest, within
    /// <paramref name="windowSeconds"/>. A boundary the reference gives counts as found when the matched beat has it.
    /// The SD is the sample standard deviation (n − 1); the share within tolerance is of the boundaries found.
    /// </summary>
    public static DelineationScore Score(IReadOnlyList<BeatFiducials> delineated, IReadOnlyList<BeatFiducials> reference, double samplingRateHz,
        double windowSeconds = BeatMatching.DefaultWindowSeconds)
    {
        var window = windowSeconds * samplingRateHz;
        var sorted = delineated.OrderBy(d => d.RPeak).ToArray();
        var rPeaks = sorted.Select(d => d.RPeak).ToArray();
        var matches = reference.Select(r => (Reference: r, Ours: Nearest(sorted, rPeaks, r.RPeak, window))).ToArray();
        var boundaries = Enum.GetValues<WaveBoundary>().Select(boundary =>
        {
            var annotated = matches.Where(m => !double.IsNaN(m.Reference[boundary])).ToArray();
            var errors = annotated.Where(m => m.Ours is not null && !double.IsNaN(m.Ours[boundary]))
                .Select(m => (m.Ours![boundary] - m.Reference[boundary]) / samplingRateHz * 1000).ToArray();
            double? tolerance = CseToleranceMs.TryGetValue(boundary, out var t) ? t : null;
            double? within = tolerance is null || errors.Length == 0 ? null : errors.Count(e => Math.Abs(e) <= tolerance) / (double)errors.Length;
            return new BoundaryScore(boundary, annotated.Length, errors.Length, Mean(errors), BasicFeatureExtractor.StandardDeviation(errors), tolerance, within);
        }).ToArray();
        return new DelineationScore(reference.Count, matches.Count(m => m.Ours is not null), boundaries);
    }

    static BeatFiducials? Nearest(BeatFiducials[] sorted, int[] rPeaks, int r, double window)
    {
        var i = Array.BinarySearch(rPeaks, r);
        if (i < 0) i = ~i;
        BeatFiducials? best = null;
        foreach (var candidate in new[] { i - 1, i })
            if (candidate >= 0 && candidate < sorted.Length && Math.Abs(rPeaks[candidate] - r) <= window
                && (best is null || Math.Abs(rPeaks[candidate] - r) < Math.Abs(best.RPeak - r)))
                best = sorted[candidate];
        return best;
    }

    static double Mean(double[] x) => x.Length == 0 ? double.NaN : x.Average();
}
