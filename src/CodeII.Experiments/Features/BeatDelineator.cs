using System.Runtime.Intrinsics;
using CodeII.Experiments.Data;
using CodeII.Experiments.Preprocessing;

namespace CodeII.Experiments.Features;

/// <summary>
/// Fiducial points of a record's representative beat, in seconds relative to the R peak (negative before it).
/// NaN where a wave cannot be found: no P wave in atrial fibrillation, no T wave on a flat lead.
/// </summary>
public sealed record BeatDelineation
{
    public double POnset { get; init; } = double.NaN;
    public double PPeak { get; init; } = double.NaN;
    public double POffset { get; init; } = double.NaN;
    public double QrsOnset { get; init; } = double.NaN;
    public double QrsOffset { get; init; } = double.NaN;
    public double TPeak { get; init; } = double.NaN;
    public double TOffset { get; init; } = double.NaN;

    public double PrMs => (QrsOnset - POnset) * 1000;
    public double PDurationMs => (POffset - POnset) * 1000;
    public double QrsMs => (QrsOffset - QrsOnset) * 1000;
    public double QtMs => (TOffset - QrsOnset) * 1000;
}

/// <summary>A record's median beats: one per lead, filtered, aligned on the detected R peaks.</summary>
public sealed class MedianBeats
{
    public required IReadOnlyList<string> Leads { get; init; }
    /// <summary>Beats[lead][sample]; sample <see cref="RIndex"/> is the R peak.</summary>
    public required double[][] Beats { get; init; }
    public required int RIndex { get; init; }
    public required double SamplingRateHz { get; init; }
    public required int[] RPeaks { get; init; }
    /// <summary>RR intervals in seconds between consecutive detected beats.</summary>
    public required double[] RrSeconds { get; init; }
    /// <summary>Per lead, the median correlation of each beat with the lead's median beat: a signal-quality index in [−1, 1].</summary>
    public required double[] BeatCorrelation { get; init; }
    /// <summary>Segments[lead][beat]: each beat's filtered samples, aligned like <see cref="Beats"/>.</summary>
    public required float[][][] Segments { get; init; }

    /// <summary>Median absolute deviation of the beats from the median beat at one sample. A wave that recurs in every
    /// beat (a P wave) has low dispersion; one that does not (fibrillatory waves) has high.</summary>
    public double Dispersion(int lead, int sample)
    {
        var deviations = Segments[lead].Select(beat => Math.Abs(beat[sample] - Beats[lead][sample])).ToArray();
        return BeatDelineator.Median(deviations);
    }

    public int Length => Beats.Length == 0 ? 0 : Beats[0].Length;
    public double TimeOf(int index) => (index - RIndex) / SamplingRateHz;
    public int IndexOf(double seconds) => RIndex + (int)Math.Round(seconds * SamplingRateHz);
    public double[]? Lead(string name) => Leads.ToList().IndexOf(name) is var i and >= 0 ? Beats[i] : null;
}

/// <summary>
/// Delineates the median beat of a multi-lead record. QRS onset and offset are taken per lead where the QRS slope
/// falls below a fraction of its peak, then combined as ECGdeli does (Pilia et al. 2021): the second-earliest onset and
/// the second-latest offset, so one noisy lead cannot widen the QRS. P and T boundaries are where the wave's deviation
/// from the PR-segment baseline falls below a fraction of its peak, in the leads where each wave is largest.
/// </summary>
public sealed class BeatDelineator
{
    /// <summary>Median-beat window around R: long enough for PR up to 320 ms before and QT up to 600 ms after.</summary>
    public double BeforeSeconds { get; init; } = 0.45;
    public double AfterSeconds { get; init; } = 0.65;
    /// <summary>QRS boundary: slope below this share of the peak slope of the outermost wave of the QRS. Chosen on the
    /// synthetic tuning seed (100), where it gave the lowest QRS-duration error of 0.2–0.5 (2.8 ms).</summary>
    public double QrsSlopeFraction { get; init; } = 0.40;
    /// <summary>A slope above this share of the lead's largest QRS slope belongs to a wave of the QRS.</summary>
    public double QrsSignificantSlope { get; init; } = 0.10;
    /// <summary>Longest dip of the slope at a turning point inside the QRS (Q or S nadir) that the boundary walks through.</summary>
    public double QrsTurningSeconds { get; init; } = 0.010;
    /// <summary>P and T boundaries: deviation below this share of the wave's peak deviation.</summary>
    public double PBoundaryFraction { get; init; } = 0.08;
    public double TBoundaryFraction { get; init; } = 0.05;
    /// <summary>A P wave smaller than this (mV) in every lead counts as absent, as in atrial fibrillation.</summary>
    public double MinimumPAmplitudeMv { get; init; } = 0.03;
    public double MaximumPHalfWidthSeconds { get; init; } = 0.10;
    /// <summary>A P wave must stand this many times above the beats' dispersion around the median at its peak.</summary>
    public double PConsistency { get; init; } = 3;

    readonly RPeakDetector _detector = new();

    public MedianBeats? MedianBeats(EcgRecord record)
    {
        var fs = record.SamplingRateHz;
        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var peaks = _detector.Detect(record.Signals, record.RecordedSamples, fs);
        var before = (int)Math.Round(BeforeSeconds * fs);
        var after = (int)Math.Round(AfterSeconds * fs);
        var usable = peaks.Where(p => p - before >= start && p + after < start + length).ToArray();
        if (usable.Length == 0) return null;

        // Zero-phase 0.5–40 Hz as one cascade: removes baseline wander and mains hum without moving any wave in time.
        var bandPass = fs > 100
            ? SecondOrderSections.Cascade(SecondOrderSections.ButterworthHighPass(2, 0.5, fs), SecondOrderSections.ButterworthLowPass(2, Math.Min(40, 0.4 * fs), fs))
            : SecondOrderSections.ButterworthHighPass(2, 0.5, fs);
        var beats = new double[record.Signals.Length][];
        var segments = new float[record.Signals.Length][][];
        var correlation = new double[record.Signals.Length];
        var column = new double[usable.Length];
        var filtered = record.Signals.Select(s => s.AsSpan(start, length).ToArray()).ToArray();
        bandPass.FilterZeroPhase(filtered, 0, length);
        for (var l = 0; l < record.Signals.Length; l++)
        {
            var signal = filtered[l];
            var template = new double[before + after + 1];
            var leadSegments = usable.Select(p => signal.AsSpan(p - start - before, template.Length).ToArray()).ToArray();
            ColumnMedians(leadSegments, template, column);
            beats[l] = template;
            segments[l] = leadSegments;
            var centred = CentredCopy(template);
            for (var b = 0; b < usable.Length; b++) column[b] = Correlation(leadSegments[b], centred);
            correlation[l] = Median(column);
        }
        return new MedianBeats
        {
            Leads = record.Leads,
            Beats = beats,
            RIndex = before,
            SamplingRateHz = fs,
            RPeaks = peaks,
            RrSeconds = peaks.Zip(peaks.Skip(1), (a, b) => (b - a) / fs).ToArray(),
            BeatCorrelation = correlation,
            Segments = segments,
        };
    }

    public BeatDelineation Delineate(MedianBeats beats)
    {
        var fs = beats.SamplingRateHz;
        var r = beats.RIndex;
        int S(double seconds) => (int)Math.Round(seconds * fs);

        // QRS per lead, within ±150 ms of R; leads whose QRS is tiny carry no timing information.
        var qrsAmplitude = beats.Beats.Select(b => Range(b, r - S(0.15), r + S(0.15))).ToArray();
        var largest = qrsAmplitude.Max();
        var onsets = new List<int>();
        var offsets = new List<int>();
        for (var l = 0; l < beats.Beats.Length; l++)
        {
            if (qrsAmplitude[l] < 0.2 * largest) continue;
            var slope = Slope(beats.Beats[l], fs);
            var from = r - S(0.15);
            var to = r + S(0.15);
            var peakSlope = 0.0;
            for (var n = from; n <= to; n++) peakSlope = Math.Max(peakSlope, slope[n]);
            var steepest = from;
            for (var n = from; n <= to; n++) if (slope[n] > slope[steepest]) steepest = n;
            onsets.Add(QrsBoundary(slope, steepest, -1, peakSlope, from, fs));
            offsets.Add(QrsBoundary(slope, steepest, +1, peakSlope, to, fs));
        }
        if (onsets.Count == 0) return new BeatDelineation();
        onsets.Sort();
        offsets.Sort();
        // The QRS spans every lead's activity; the second-earliest and second-latest only discount one noisy lead among
        // three or more. With two leads neither can be told noisy, and the second would be the narrower lead's QRS.
        var qrsOnset = onsets.Count > 2 ? onsets[1] : onsets[0];
        var qrsOffset = offsets.Count > 2 ? offsets[^2] : offsets[^1];
        var result = new BeatDelineation { QrsOnset = beats.TimeOf(qrsOnset), QrsOffset = beats.TimeOf(qrsOffset) };

        var rr = beats.RrSeconds.Length > 0 ? Median(beats.RrSeconds) : 1.0;
        // T: after the ST segment, before the next beat could start (70 % of the median RR) and within 650 ms of R.
        var tSearchFrom = Math.Min(beats.Length - 1, qrsOffset + S(0.06));
        var tSearchTo = Math.Min(beats.Length - 1, r + S(Math.Min(0.65, 0.7 * rr)));
        if (tSearchTo > tSearchFrom)
        {
            var (tLeadIndex, tPeak, tAmplitude, tBaseline) = LargestWave(beats, ["V2", "V3", "V4", "V5", "II", "V6", "I"], tSearchFrom, tSearchTo, qrsOnset);
            if (tLeadIndex >= 0 && tAmplitude >= 0.05)
            {
                var tOffset = WalkWhileDeviating(beats.Beats[tLeadIndex], tPeak, +1, tBaseline, TBoundaryFraction * tAmplitude, Math.Min(beats.Length - 1, tSearchTo + S(0.1)));
                result = result with { TPeak = beats.TimeOf(tPeak), TOffset = beats.TimeOf(tOffset) };
            }
        }
        // P: the largest deviation from the PR-segment baseline before QRS onset, no earlier than 300 ms before it (PR up
        // to 320 ms) and after the previous beat's T wave, in II, aVF, V1, I or III. It must recur beat after beat:
        // fibrillatory waves average out in the median and vary around it, a P wave does neither.
        var previousTEnd = double.IsNaN(result.TOffset) ? double.NegativeInfinity : result.TOffset - rr + 0.02;
        var pSearchFrom = Math.Max(0, Math.Max(qrsOnset - S(0.30), double.IsNegativeInfinity(previousTEnd) ? 0 : beats.IndexOf(previousTEnd)));
        var pSearchTo = qrsOnset - S(0.02);
        var (pLeadIndex, pPeak, pAmplitude, pBaseline) = LargestWave(beats, ["II", "aVF", "V1", "I", "III"], pSearchFrom, pSearchTo, qrsOnset);
        if (pLeadIndex >= 0 && pAmplitude >= MinimumPAmplitudeMv && pAmplitude >= PConsistency * beats.Dispersion(pLeadIndex, pPeak))
        {
            var pLead = beats.Beats[pLeadIndex];
            var threshold = PBoundaryFraction * pAmplitude;
            // No P wave is wider than about 200 ms, so neither boundary lies more than 100 ms from its peak; the bound
            // stops the walk where the TP segment sits off the PR-segment level.
            var pOnset = WalkWhileDeviating(pLead, pPeak, -1, pBaseline, threshold, Math.Max(0, pPeak - S(MaximumPHalfWidthSeconds)));
            var pOffset = WalkWhileDeviating(pLead, pPeak, +1, pBaseline, threshold, Math.Min(pSearchTo, pPeak + S(MaximumPHalfWidthSeconds)));
            result = result with { POnset = beats.TimeOf(pOnset), PPeak = beats.TimeOf(pPeak), POffset = beats.TimeOf(pOffset) };
        }
        return result;
    }

    /// <summary>The lead (among those listed) where a wave between <paramref name="from"/> and <paramref name="to"/>
    /// deviates most from the isoelectric level, taken as the mean of the 20 ms before QRS onset.</summary>
    static (int LeadIndex, int Peak, double Amplitude, double Baseline) LargestWave(MedianBeats beats, string[] candidates, int from, int to, int qrsOnset)
    {
        var bestLead = -1;
        int bestPeak = 0;
        double bestAmplitude = 0, bestBaseline = 0;
        var isoelectricSamples = Math.Max(1, (int)Math.Round(0.02 * beats.SamplingRateHz));
        foreach (var index in CandidateLeads(beats.Leads, candidates))
        {
            if (from >= to) continue;
            var lead = beats.Beats[index];
            var baseline = lead.AsSpan(Math.Max(0, qrsOnset - isoelectricSamples), isoelectricSamples).ToArray().Average();
            for (var n = from; n <= to; n++)
            {
                var deviation = Math.Abs(lead[n] - baseline);
                if (deviation > bestAmplitude) (bestLead, bestPeak, bestAmplitude, bestBaseline) = (index, n, deviation, baseline);
            }
        }
        return (bestLead, bestPeak, bestAmplitude, bestBaseline);
    }

    /// <summary>The leads a wave is looked for in: those named (a modified lead such as MLII or MV5 standing in for its
    /// standard lead), or every lead when the record has none of them, as a 2-lead Holter record may not.</summary>
    internal static IEnumerable<int> CandidateLeads(IReadOnlyList<string> leads, string[] candidates)
    {
        var standing = leads.Select(StandardLeads.Standing).ToList();
        var named = candidates.Select(name => standing.IndexOf(name)).Where(i => i >= 0).ToArray();
        return named.Length > 0 ? named : Enumerable.Range(0, leads.Count);
    }

    /// <summary>
    /// A QRS boundary on one lead, walking out from its steepest point. The slope falls to zero at every turning point
    /// inside the QRS (the Q and S nadirs), so the walk goes on through each such dip while a significant slope resumes
    /// within <see cref="QrsTurningSeconds"/>: the outermost wave of the complex (a Q or S wave, often a tenth of the
    /// R's slope) is reached. The boundary is then where that outermost wave's own slope falls below
    /// <see cref="QrsSlopeFraction"/> of its peak, relative to the first and last slope peaks as in ecgpuwave (Laguna et
    /// al. 1994), so a small Q wave's onset is not cut at the R wave's threshold.
    /// </summary>
    int QrsBoundary(double[] slope, int steepest, int step, double peakSlope, int limit, double fs)
    {
        var significant = QrsSignificantSlope * peakSlope;
        var gap = Math.Max(1, (int)Math.Round(QrsTurningSeconds * fs));
        // The outermost sample of the chain of significant slopes.
        var outermost = steepest;
        var belowFor = 0;
        for (var n = steepest; n != limit;)
        {
            n += step;
            if (slope[n] >= significant) { outermost = n; belowFor = 0; }
            else if (++belowFor > gap) break;
        }
        // The peak of the outermost wave's slope lobe: the largest slope from there back to where it first rose.
        var lobePeak = outermost;
        for (var n = outermost; slope[n] >= significant; n -= step)
        {
            if (slope[n] > slope[lobePeak]) lobePeak = n;
            if (n == steepest) break;
        }
        var threshold = QrsSlopeFraction * slope[lobePeak];
        var boundary = lobePeak;
        while (boundary != limit && slope[boundary + step] >= threshold) boundary += step;
        return boundary;
    }

    static int WalkWhileDeviating(double[] lead, int from, int step, double baseline, double threshold, int limit)
    {
        var n = from;
        while (n != limit && Math.Abs(lead[n + step] - baseline) >= threshold) n += step;
        return n;
    }

    /// <summary>|dx/dt| by central difference, in mV per second.</summary>
    static double[] Slope(double[] x, double fs)
    {
        var s = new double[x.Length];
        for (var n = 1; n < x.Length - 1; n++) s[n] = Math.Abs(x[n + 1] - x[n - 1]) * fs / 2;
        return s;
    }

    static double Range(double[] x, int from, int to)
    {
        double min = double.MaxValue, max = double.MinValue;
        for (var n = Math.Max(0, from); n <= Math.Min(x.Length - 1, to); n++) { min = Math.Min(min, x[n]); max = Math.Max(max, x[n]); }
        return max - min;
    }

    static float[] CentredCopy(double[] x)
    {
        var mean = x.Average();
        var centred = new float[x.Length];
        for (var i = 0; i < x.Length; i++) centred[i] = (float)(x[i] - mean);
        return centred;
    }

    /// <summary>Pearson correlation of a beat with a zero-mean template in one pass: with Σ b = 0, Σ (a − ā) b = Σ a b,
    /// and Σ (a − ā)² = Σ a² − n ā². Band-passed beats have a mean far below their spread, so nothing cancels.</summary>
    static double Correlation(ReadOnlySpan<float> a, ReadOnlySpan<float> centredTemplate)
    {
        var b = centredTemplate;
        Vector256<float> va = default, vab = default, vaa = default, vbb = default;
        var i = 0;
        for (; i + 8 <= b.Length; i += 8)
        {
            var x = Vector256.Create(a.Slice(i, 8));
            var y = Vector256.Create(b.Slice(i, 8));
            va += x; vab += x * y; vaa += x * x; vbb += y * y;
        }
        double sa = Vector256.Sum(va), sab = Vector256.Sum(vab), saa = Vector256.Sum(vaa), sbb = Vector256.Sum(vbb);
        for (; i < b.Length; i++) { sa += a[i]; sab += a[i] * b[i]; saa += a[i] * a[i]; sbb += b[i] * b[i]; }
        saa -= sa * sa / b.Length;
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : double.NaN;
    }

    /// <summary>
    /// The median across beats at every sample. Eight samples go through an odd–even transposition sorting network of
    /// vector min/max at once: data-independent, so free of the branch mispredictions that dominate sorting a dozen
    /// values one column at a time, and exactly the sorted order, so the medians equal the scalar ones.
    /// </summary>
    internal static void ColumnMedians(float[][] segments, double[] medians, double[] scratch)
    {
        var n = segments.Length;
        var length = medians.Length;
        Span<Vector256<float>> lanes = n <= 64 ? stackalloc Vector256<float>[n] : new Vector256<float>[n];
        var k = 0;
        for (; k + 8 <= length; k += 8)
        {
            for (var b = 0; b < n; b++) lanes[b] = Vector256.Create(segments[b].AsSpan(k, 8));
            for (var round = 0; round < n; round++)
                for (var i = round & 1; i + 1 < n; i += 2)
                {
                    // Native min/max: one instruction each; the IEEE NaN and signed-zero handling of Min/Max costs several, and
                    // neither matters for a median of finite samples.
                    var (low, high) = (Vector256.MinNative(lanes[i], lanes[i + 1]), Vector256.MaxNative(lanes[i], lanes[i + 1]));
                    lanes[i] = low;
                    lanes[i + 1] = high;
                }
            var (lower, upper) = n % 2 == 1 ? (lanes[n / 2], lanes[n / 2]) : (lanes[n / 2 - 1], lanes[n / 2]);
            // Averaged in double, as the scalar path does.
            ((Vector256.WidenLower(lower) + Vector256.WidenLower(upper)) * 0.5).CopyTo(medians.AsSpan(k, 4));
            ((Vector256.WidenUpper(lower) + Vector256.WidenUpper(upper)) * 0.5).CopyTo(medians.AsSpan(k + 4, 4));
        }
        for (; k < length; k++)
        {
            for (var b = 0; b < n; b++) scratch[b] = segments[b][k];
            medians[k] = MedianInPlace(scratch.AsSpan(0, n));
        }
    }

    /// <summary>Median of finite values, sorting the buffer in place (the hot path: no allocation).</summary>
    internal static double MedianInPlace(Span<double> values)
    {
        values.Sort();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
