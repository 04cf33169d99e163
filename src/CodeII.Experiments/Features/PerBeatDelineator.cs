using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>One detected beat's fiducial points in absolute samples of the record.</summary>
public sealed record BeatFiducials(int RPeak) : WavePoints;

/// <summary>
/// Delineates every beat of a record with <see cref="BeatDelineator"/>. The P and T waves of a single beat of a 2-lead
/// Holter record are too small against its noise to delineate on their own, so they are taken on a local template: the
/// median of the beat and its neighbours of like QRS morphology, aligned on R. The median follows slow changes (heart
/// rate, QT) that a record-wide median would average away, and an ectopic beat is delineated on the beats that look like
/// it, or on itself alone. The QRS, whose slopes stand far above the noise, is delineated on the beat itself: its onset
/// and offset move from beat to beat relative to the detected R by more than the CSE tolerances (on the QT Database's
/// sel100 the cardiologist's QRS onset relative to our R has an SD of 8.3 ms), which a template's fixed offset from R
/// cannot follow.
/// </summary>
public sealed class PerBeatDelineator
{
    public BeatDelineator Delineator { get; init; } = new();
    /// <summary>Neighbours considered on each side of a beat for its template.</summary>
    public int NeighbourBeats { get; init; } = 5;
    /// <summary>A neighbour joins the template when its QRS (±100 ms of R, all leads) correlates with the beat's at least this much.</summary>
    public double MinimumQrsCorrelation { get; init; } = 0.9;

    public IReadOnlyList<BeatFiducials> Delineate(EcgRecord record)
    {
        var all = Delineator.MedianBeats(record);
        if (all is null) return [];
        // The beats MedianBeats cut a full window around, in the order of its Segments.
        var peaks = all.SegmentPeaks;
        var fs = record.SamplingRateHz;
        var qrsHalf = (int)Math.Round(0.10 * all.SamplingRateHz);

        var result = new BeatFiducials[peaks.Length];
        var scratch = new double[2 * NeighbourBeats + 1];
        for (var b = 0; b < peaks.Length; b++)
        {
            var members = new List<int> { b };
            for (var n = Math.Max(0, b - NeighbourBeats); n <= Math.Min(peaks.Length - 1, b + NeighbourBeats); n++)
                if (n != b && QrsCorrelation(all.Segments, b, n, all.RIndex, qrsHalf) >= MinimumQrsCorrelation) members.Add(n);
            members.Sort();
            // The local rhythm: RR intervals between the detected beats around this one.
            var from = Math.Max(0, b - NeighbourBeats);
            var to = Math.Min(peaks.Length - 1, b + NeighbourBeats);
            var rr = Enumerable.Range(from, to - from).Select(i => (peaks[i + 1] - peaks[i]) / fs).ToArray();
            var template = Delineator.Delineate(Template(all, members, peaks, rr, scratch));
            var own = Delineator.DelineateQrs(Template(all, [b], peaks, rr, scratch));
            var d = template with { QrsOnset = own.QrsOnset, QrsOffset = own.QrsOffset };
            var r = peaks[b];
            double At(double seconds) => double.IsNaN(seconds) ? double.NaN : r + Math.Round(seconds * fs);
            result[b] = new BeatFiducials(r)
            {
                POnset = At(d.POnset),
                PPeak = At(d.PPeak),
                POffset = At(d.POffset),
                QrsOnset = At(d.QrsOnset),
                QrsOffset = At(d.QrsOffset),
                TPeak = At(d.TPeak),
                TOffset = At(d.TOffset),
            };
        }
        return result;
    }

    /// <summary>The median of the <paramref name="members"/>' segments, as <see cref="BeatDelineator.Delineate"/> takes it.</summary>
    static MedianBeats Template(MedianBeats all, IReadOnlyList<int> members, int[] peaks, double[] rr, double[] scratch)
    {
        var segments = all.Segments.Select(lead => members.Select(m => lead[m]).ToArray()).ToArray();
        var beats = segments.Select(lead =>
        {
            var median = new double[all.Length];
            BeatDelineator.ColumnMedians(lead, median, scratch);
            return median;
        }).ToArray();
        return new MedianBeats
        {
            Leads = all.Leads,
            Beats = beats,
            RIndex = all.RIndex,
            SamplingRateHz = all.SamplingRateHz,
            RPeaks = members.Select(m => peaks[m]).ToArray(),
            RecordSamplingRateHz = all.RecordSamplingRateHz,
            SegmentPeaks = members.Select(m => peaks[m]).ToArray(),
            RrSeconds = rr,
            BeatCorrelation = new double[segments.Length],
            Segments = segments,
        };
    }

    /// <summary>Pearson correlation of two beats' QRS complexes, all leads joined end to end.</summary>
    static double QrsCorrelation(float[][][] segments, int a, int b, int rIndex, int half)
    {
        double sa = 0, sb = 0, sab = 0, saa = 0, sbb = 0;
        var count = 0;
        foreach (var lead in segments)
            for (var i = rIndex - half; i <= rIndex + half; i++)
            {
                double x = lead[a][i], y = lead[b][i];
                sa += x; sb += y; sab += x * y; saa += x * x; sbb += y * y;
                count++;
            }
        var cov = sab - sa * sb / count;
        var va = saa - sa * sa / count;
        var vb = sbb - sb * sb / count;
        return va > 0 && vb > 0 ? cov / Math.Sqrt(va * vb) : double.NaN;
    }
}
