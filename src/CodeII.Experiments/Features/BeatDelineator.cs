using System.Runtime.Intrinsics;
using CodeII.Experiments.Data;
using CodeII.Experiments.Preprocessing;

namespace CodeII.Experiments.Features;

/// <summary>The fiducial points of one beat; NaN where a wave cannot be found (no P wave in atrial fibrillation, no T wave
/// on a flat lead). What the numbers count (seconds from R, samples of a record) is the deriving record's to say.</summary>
public abstract record WavePoints
{
    public double POnset { get; init; } = double.NaN;
    public double PPeak { get; init; } = double.NaN;
    public double POffset { get; init; } = double.NaN;
    public double QrsOnset { get; init; } = double.NaN;
    public double QrsOffset { get; init; } = double.NaN;
    public double TPeak { get; init; } = double.NaN;
    public double TOffset { get; init; } = double.NaN;

    public double this[WaveBoundary boundary] => boundary switch
    {
        WaveBoundary.POnset => POnset,
        WaveBoundary.PPeak => PPeak,
        WaveBoundary.POffset => POffset,
        WaveBoundary.QrsOnset => QrsOnset,
        WaveBoundary.QrsOffset => QrsOffset,
        WaveBoundary.TPeak => TPeak,
        WaveBoundary.TOffset => TOffset,
        _ => throw new ArgumentOutOfRangeException(nameof(boundary)),
    };
}

/// <summary>The fiducial points a delineation gives per beat, in the order of the beat.</summary>
public enum WaveBoundary { POnset, PPeak, POffset, QrsOnset, QrsOffset, TPeak, TOffset }

/// <summary>Fiducial points of a record's representative beat, in seconds relative to the R peak (negative before it).</summary>
public sealed record BeatDelineation : WavePoints
{
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
    /// <summary>The rate of <see cref="Beats"/> and <see cref="Segments"/>: the record's, or a multiple of it for records
    /// sampled below <see cref="BeatDelineator.FinestRecordRateToInterpolateHz"/>.</summary>
    public required double SamplingRateHz { get; init; }
    /// <summary>Every detected R peak, in samples of the record (at <see cref="RecordSamplingRateHz"/>).</summary>
    public required int[] RPeaks { get; init; }
    public required double RecordSamplingRateHz { get; init; }
    /// <summary>The R peaks of the beats in <see cref="Segments"/>, in samples of the record: those with a whole window.</summary>
    public required int[] SegmentPeaks { get; init; }
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
/// Delineates the median beat of a multi-lead record. QRS onset and offset are where the spatial velocity of all leads
/// together falls to a share of its peak and stays there. P and T boundaries are where the wave's return to the
/// isoelectric line flattens (its slope a share of its steepest): T in the lead where it is largest, P across the
/// leads where it is clear, from the earliest onset (the global PR) to the second-latest offset, as ECGdeli combines
/// QRS offsets (Pilia et al. 2021), so one noisy lead cannot drag the P wave into the PR segment.
/// </summary>
public sealed class BeatDelineator
{
    /// <summary>Median-beat window around R: long enough for PR up to 350 ms before and QT up to 600 ms after.</summary>
    public double BeforeSeconds { get; init; } = 0.45;
    public double AfterSeconds { get; init; } = 0.65;
    /// <summary>QRS offset: spatial velocity below this share of its peak for <see cref="QrsHoldSeconds"/>. On QT
    /// Database sel100 the median beat's offset lies 1.5 ms from the cardiologist's mean.</summary>
    public double QrsVelocityFraction { get; init; } = 0.12;
    /// <summary>QRS onset: the same, lower, for the slow initial (septal) forces that a cardiologist counts in the
    /// QRS: on QT Database sel100 it puts the median beat's onset 1.5 ms from the cardiologist's mean (0.12: 13.5 ms
    /// late).</summary>
    public double QrsOnsetVelocityFraction { get; init; } = 0.08;
    /// <summary>Long enough to bridge the lull between the main QRS and a terminal R' or slurred S.</summary>
    public double QrsHoldSeconds { get; init; } = 0.03;
    /// <summary>Slopes are differences across this span, at every sampling rate.</summary>
    public double QrsVelocitySpanSeconds { get; init; } = 0.02;
    /// <summary>The QRS is sought within this window around R: wide enough for a QRS of 250 ms.</summary>
    public double QrsSearchBeforeSeconds { get; init; } = 0.15;
    public double QrsSearchAfterSeconds { get; init; } = 0.20;
    /// <summary>P and T boundaries: where the wave's slope back to the isoelectric line falls below this share of its steepest.</summary>
    public double WaveSlopeFraction { get; init; } = 0.15;
    /// <summary>P is sought no earlier than this before QRS onset (and after the previous T wave): first-degree AV
    /// block lengthens PR well past 300 ms.</summary>
    public double MaximumPrSeconds { get; init; } = 0.35;
    /// <summary>A P wave smaller than this (mV) in every lead counts as absent, as in atrial fibrillation.</summary>
    public double MinimumPAmplitudeMv { get; init; } = 0.03;
    public double MaximumPHalfWidthSeconds { get; init; } = 0.10;
    /// <summary>A P wave must stand this many times above the beats' dispersion around the median at its peak.</summary>
    public double PConsistency { get; init; } = 3;

    static readonly string[] PLeads = ["II", "aVF", "V1", "I", "III"];

    /// <summary>
    /// Records sampled below this rate (PTB-XL's 100 Hz files) have their filtered leads interpolated, band-limited, to
    /// an integer multiple of at least twice this rate before the beats are cut. At 100 Hz every boundary falls on a 10 ms
    /// grid, so a PR of 204 ms reads 200 and a QRS of 118 reads 120: interpolation lets a boundary fall where the wave
    /// crosses its threshold, as it does at 500 Hz. Above this rate one sample is 4 ms or less, finer than annotators agree.
    /// </summary>
    public const double FinestRecordRateToInterpolateHz = 250;

    readonly RPeakDetector _detector = new();

    public MedianBeats? MedianBeats(EcgRecord record)
    {
        var recordRate = record.SamplingRateHz;
        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var peaks = _detector.Detect(record.Signals, record.RecordedSamples, recordRate);
        var before = (int)Math.Round(BeforeSeconds * recordRate);
        var after = (int)Math.Round(AfterSeconds * recordRate);
        var usable = peaks.Where(p => p - before >= start && p + after < start + length).ToArray();
        if (usable.Length == 0) return null;
        var factor = recordRate < FinestRecordRateToInterpolateHz && recordRate == Math.Round(recordRate)
            ? (int)Math.Ceiling(2 * FinestRecordRateToInterpolateHz / recordRate) : 1;
        var fs = recordRate;

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
        if (factor > 1)
        {
            var resampler = new PolyphaseResampler((int)recordRate, (int)recordRate * factor);
            filtered = [.. filtered.Select(lead => resampler.Resample(lead))];
            (fs, before, after) = (recordRate * factor, before * factor, after * factor);
        }
        for (var l = 0; l < record.Signals.Length; l++)
        {
            var signal = filtered[l];
            var template = new double[before + after + 1];
            var leadSegments = usable.Select(p => signal.AsSpan((p - start) * factor - before, template.Length).ToArray()).ToArray();
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
            RecordSamplingRateHz = recordRate,
            SegmentPeaks = usable,
            RrSeconds = peaks.Zip(peaks.Skip(1), (a, b) => (b - a) / recordRate).ToArray(),
            BeatCorrelation = correlation,
            Segments = segments,
        };
    }

    /// <summary>The QRS onset and offset alone (NaN when no lead moves), without looking for P and T.</summary>
    public BeatDelineation DelineateQrs(MedianBeats beats)
    {
        var (onset, offset) = QrsBoundaries(beats);
        return onset < 0 ? new BeatDelineation() : new BeatDelineation { QrsOnset = beats.TimeOf(onset), QrsOffset = beats.TimeOf(offset) };
    }

    public BeatDelineation Delineate(MedianBeats beats)
    {
        var fs = beats.SamplingRateHz;
        var r = beats.RIndex;
        int S(double seconds) => (int)Math.Round(seconds * fs);

        var (qrsOnset, qrsOffset) = QrsBoundaries(beats);
        if (qrsOnset < 0) return new BeatDelineation();
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
                var tOffset = FlatteningBoundary(beats.Beats[tLeadIndex], tPeak, +1, tBaseline, Math.Min(beats.Length - 1, tSearchTo + S(0.1)), fs);
                result = result with { TPeak = beats.TimeOf(tPeak), TOffset = beats.TimeOf(tOffset) };
            }
        }
        // P: the largest deviation from the PR-segment baseline before QRS onset, no earlier than MaximumPrSeconds
        // before it and after the previous beat's T wave, in II, aVF, V1, I or III. It must recur beat after beat:
        // fibrillatory waves average out in the median and vary around it, a P wave does neither.
        var previousTEnd = double.IsNaN(result.TOffset) ? double.NegativeInfinity : result.TOffset - rr + 0.02;
        var pSearchFrom = Math.Max(0, Math.Max(qrsOnset - S(MaximumPrSeconds), double.IsNegativeInfinity(previousTEnd) ? 0 : beats.IndexOf(previousTEnd)));
        var pSearchTo = qrsOnset - S(0.02);
        var (pLeadIndex, pPeak, pAmplitude, pBaseline) = LargestWave(beats, PLeads, pSearchFrom, pSearchTo, qrsOnset);
        if (pLeadIndex >= 0 && pAmplitude >= MinimumPAmplitudeMv && pAmplitude >= PConsistency * beats.Dispersion(pLeadIndex, pPeak))
        {
            // The P wave starts where atrial activity first shows and ends where it last does, across the leads: a
            // biphasic P (V1) has its largest deflection late, so that lead's own boundaries would cut the wave short.
            // Every lead whose P is at least half the largest, and recurs beat after beat, has a say. The onset is the
            // earliest of theirs: the global PR runs from the earliest P onset in any lead (Kligfield et al. 2007), and
            // the amplitude and recurrence tests already keep noise out. The offset is the second-latest (when three
            // leads or more), as for QRS, so one lead cannot drag it into the PR segment.
            var onsets = new List<int>();
            var offsets = new List<int>();
            foreach (var candidate in CandidateLeads(beats.Leads, PLeads))
            {
                var (index, peak, amplitude, baseline) = LargestWave(beats, [candidate], pSearchFrom, pSearchTo, qrsOnset);
                if (index < 0 || amplitude < 0.5 * pAmplitude || amplitude < PConsistency * beats.Dispersion(index, peak)) continue;
                var lead = beats.Beats[index];
                // No P wave is wider than about 200 ms, so neither boundary lies more than 100 ms from its peak.
                onsets.Add(FlatteningBoundary(lead, peak, -1, baseline, Math.Max(0, peak - S(MaximumPHalfWidthSeconds)), fs));
                offsets.Add(FlatteningBoundary(lead, peak, +1, baseline, Math.Min(pSearchTo, peak + S(MaximumPHalfWidthSeconds)), fs));
            }
            onsets.Sort();
            offsets.Sort();
            var pOnset = onsets[0];
            var pOffset = offsets.Count > 2 ? offsets[^2] : offsets[^1];
            result = result with { POnset = beats.TimeOf(pOnset), PPeak = beats.TimeOf(pPeak), POffset = beats.TimeOf(pOffset) };
        }
        return result;
    }

    /// <summary>
    /// QRS onset and offset where the spatial velocity (the speed of the heart vector across all leads) falls to a
    /// share of its peak and stays there. One lead's slope relative to its own steepest slope ends the QRS before a
    /// slow terminal deflection (the R' and slurred S of right bundle branch block) that another lead carries; the
    /// spatial velocity sums what every lead is doing, so the QRS lasts while any lead still moves. Returns −1 when no
    /// lead moves.
    /// </summary>
    (int Onset, int Offset) QrsBoundaries(MedianBeats beats)
    {
        var fs = beats.SamplingRateHz;
        var r = beats.RIndex;
        int S(double seconds) => (int)Math.Round(seconds * fs);
        var from = Math.Max(1, r - S(QrsSearchBeforeSeconds));
        var to = Math.Min(beats.Length - 2, r + S(QrsSearchAfterSeconds));
        var velocity = new double[beats.Length];
        // Differences across a fixed 20 ms, whatever the sampling rate, so the velocity and its threshold mean the same
        // at 100 Hz as at 500 Hz.
        var span = Math.Max(1, S(QrsVelocitySpanSeconds / 2));
        foreach (var lead in beats.Beats)
            for (var n = from - 1; n <= to + 1; n++)
            {
                var d = (lead[Math.Min(n + span, lead.Length - 1)] - lead[Math.Max(n - span, 0)]) * fs / (2 * span);
                velocity[n] += d * d;
            }
        var steepest = r;
        for (var n = Math.Max(from, r - S(0.06)); n <= Math.Min(to, r + S(0.06)); n++) if (velocity[n] > velocity[steepest]) steepest = n;
        if (velocity[steepest] <= 0) return (-1, -1);
        for (var n = from; n <= to; n++) velocity[n] = Math.Sqrt(velocity[n]);
        var hold = Math.Max(2, S(QrsHoldSeconds));
        return (WalkWhileAbove(velocity, steepest, -1, QrsOnsetVelocityFraction * velocity[steepest], hold, from),
            WalkWhileAbove(velocity, steepest, +1, QrsVelocityFraction * velocity[steepest], hold, to));
    }

    /// <summary>The lead (among those listed) where a wave between <paramref name="from"/> and <paramref name="to"/>
    /// deviates most from the isoelectric level, taken as the mean of the 20 ms before QRS onset.</summary>
    static (int LeadIndex, int Peak, double Amplitude, double Baseline) LargestWave(MedianBeats beats, string[] candidates, int from, int to, int qrsOnset) =>
        LargestWave(beats, CandidateLeads(beats.Leads, candidates), from, to, qrsOnset);

    static (int LeadIndex, int Peak, double Amplitude, double Baseline) LargestWave(MedianBeats beats, IEnumerable<int> leadIndices, int from, int to, int qrsOnset)
    {
        var bestLead = -1;
        int bestPeak = 0;
        double bestAmplitude = 0, bestBaseline = 0;
        var isoelectricSamples = Math.Max(1, (int)Math.Round(0.02 * beats.SamplingRateHz));
        foreach (var index in leadIndices)
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

    static int WalkWhileAbove(double[] slope, int from, int step, double threshold, int hold, int limit)
    {
        var n = from;
        var below = 0;
        while (n != limit)
        {
            n += step;
            below = slope[n] < threshold ? below + 1 : 0;
            if (below >= hold) return n - step * (hold - 1);
        }
        return limit;
    }

    /// <summary>
    /// A P or T boundary: where the wave's return towards the isoelectric line on the <paramref name="step"/> side of
    /// its peak slows to <see cref="WaveSlopeFraction"/> of its steepest, over a 20 ms difference. A level threshold
    /// walks on as long as the TP segment sits off the PR-segment level (baseline wander, the high-pass filter's
    /// undershoot after a large QRS) and ends the wave far too late; a slope does not depend on the level at all.
    /// </summary>
    int FlatteningBoundary(double[] lead, int peak, int step, double baseline, int limit, double fs)
    {
        var polarity = Math.Sign(lead[peak] - baseline);
        if (polarity == 0 || peak == limit) return peak;
        var span = Math.Max(1, (int)Math.Round(0.01 * fs));
        double Fall(int n) => polarity * (lead[Math.Clamp(n - step * span, 0, lead.Length - 1)] - lead[Math.Clamp(n + step * span, 0, lead.Length - 1)]) / (2 * span);
        // The flank: from the peak until the wave first reaches the isoelectric level.
        int steepest = peak, n = peak;
        var steepestFall = 0.0;
        while (n != limit && polarity * (lead[n] - baseline) > 0)
        {
            n += step;
            var fall = Fall(n);
            if (fall > steepestFall) (steepest, steepestFall) = (n, fall);
        }
        if (steepestFall <= 0) return limit;
        n = steepest;
        while (n != limit && Fall(n) >= WaveSlopeFraction * steepestFall) n += step;
        return n;
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
