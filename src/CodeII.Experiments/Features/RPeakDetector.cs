using System.Buffers;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace CodeII.Experiments.Features;

/// <summary>
/// A multi-lead QRS detector after Pan &amp; Tompkins (1985), made to hold on long ambulatory records as well as on
/// 10-s 12-lead exams. Each lead's smoothed squared slope is divided by the lead's own local QRS scale (the median of
/// its per-block maxima over the neighbouring seconds), so an amplitude change or one large lead does not decide, and
/// weighted down where its energy is spread like noise rather than gathered in complexes; the leads' energies are
/// summed and integrated over a QRS-long window. Peaks of the integral are taken as beats against thresholds that
/// follow the recent signal and noise peak levels, with a search back at a lower threshold when an RR gap grows past
/// 1.66 times the recent RR, T-wave rejection shortly after a beat, a look-back that drops a beat let in below the
/// linear threshold when a much steeper QRS follows it closely (a P wave), and a last pass that drops weak detections
/// inside an otherwise regular RR interval. docs/features.md ("R-peak detection") gives the reasons and the MIT-BIH figures.
/// </summary>
public sealed class RPeakDetector
{
    /// <summary>Physiological refractory period; also the shortest RR the detector can report (300 bpm).</summary>
    public double RefractorySeconds { get; init; } = 0.20;

    /// <summary>Moving-window integration length, about one QRS (Pan &amp; Tompkins use 150 ms).</summary>
    public double IntegrationSeconds { get; init; } = 0.10;

    /// <summary>A peak counts as a beat above noise level + this share of (signal level − noise level), or above the
    /// geometric mean of the two levels where that is lower.</summary>
    public double ThresholdFraction { get; init; } = 0.20;

    /// <summary>Blocks over which each lead's QRS scale is taken, and how many blocks each side its median spans.</summary>
    public double ScaleBlockSeconds { get; init; } = 0.75;
    public int ScaleNeighbourBlocks { get; init; } = 4;

    /// <summary>A lead's local scale never falls below this share of its whole-record scale, so a flat stretch
    /// (a lead off, an asystole) does not blow its noise up to beat size.</summary>
    public double ScaleFloorFraction { get; init; } = 0.05;

    /// <summary>Search back for a missed beat once an RR gap exceeds this multiple of the recent RR.</summary>
    public double SearchBackRr { get; init; } = 1.66;

    /// <summary>A candidate this soon after a beat, with less than half its slope, is that beat's T wave.</summary>
    public double TWaveSeconds { get; init; } = 0.36;

    /// <summary>QT ≈ this × √RR (Bazett): the T-wave window's length at slow rates.</summary>
    public double QtBazettSeconds { get; init; } = 0.4;

    /// <summary>Returns R-peak sample indices relative to the start of <paramref name="leads"/>' spans.</summary>
    public int[] Detect(IReadOnlyList<float[]> leads, Range recorded, double samplingRateHz)
    {
        var fs = samplingRateHz;
        var (start, length) = recorded.GetOffsetAndLength(leads[0].Length);
        if (length < fs) return [];
        var half = Math.Max(1, (int)Math.Round(fs * 0.025)) / 2;
        // Scratch comes from the shared pool: the detector runs on every exam of a feature table, and allocating
        // these per exam made the garbage collector a large share of its time.
        var energy = ArrayPool<float>.Shared.Rent(length);
        var integrated = ArrayPool<double>.Shared.Rent(length);
        var steepness = ArrayPool<double>.Shared.Rent(length);
        try
        {
            NormalisedSlopeEnergy(leads, start, length, half, fs, energy);
            MovingAverage<float>(energy.AsSpan(0, length), Math.Max(1, (int)Math.Round(fs * IntegrationSeconds)), integrated);
            // The QRS's steepness, for telling a T wave from a beat: slope energy over a window shorter than any QRS.
            MovingAverage<float>(energy.AsSpan(0, length), Math.Max(1, (int)Math.Round(fs * 0.04)), steepness);

            var refractory = (int)Math.Round(fs * RefractorySeconds);
            var candidates = LocalMaxima(integrated, length, refractory);
            if (candidates.Count == 0) return [];
            // The integral is centred, so its peak is the middle of the QRS's slope energy: on the R wave of a narrow
            // QRS, and the same point of every beat of one morphology, which is what median beats are aligned on.
            var peaks = DropIntruders(Classify(candidates, integrated, steepness, length, fs), integrated);
            return peaks.Select(p => p + start).ToArray();
        }
        finally
        {
            ArrayPool<float>.Shared.Return(energy);
            ArrayPool<double>.Shared.Return(integrated);
            ArrayPool<double>.Shared.Return(steepness);
        }
    }

    /// <summary>
    /// Removes weak detections that sit inside an otherwise regular RR interval: the beats either side are as far apart
    /// as the neighbouring RR intervals, so nothing was missed, and the detection is much smaller than its neighbours.
    /// A premature beat resets or delays the rhythm, and an interpolated ectopic beat is large; a noise spike is neither.
    /// </summary>
    List<int> DropIntruders(List<int> beats, double[] integrated)
    {
        if (beats.Count < 5) return beats;
        var kept = new List<int>(beats.Count);
        var neighbours = new List<double>(2 * IntruderContext);
        var intervals = new List<double>(2 * IntruderContext);
        for (var i = 0; i < beats.Count; i++)
        {
            if (i == 0 || i == beats.Count - 1) { kept.Add(beats[i]); continue; }
            neighbours.Clear();
            intervals.Clear();
            for (int k = Math.Max(0, i - IntruderContext), end = Math.Min(beats.Count - 1, i + IntruderContext); k <= end; k++)
            {
                if (k == i) continue;
                neighbours.Add(integrated[beats[k]]);
                if (k + 1 <= end && k + 1 != i && k != i - 1) intervals.Add(beats[k + 1] - beats[k]);
            }
            if (intervals.Count < 2) { kept.Add(beats[i]); continue; }
            neighbours.Sort();
            intervals.Sort();
            var typicalRr = intervals[intervals.Count / 2];
            var span = beats[i + 1] - kept[^1];
            var weak = integrated[beats[i]] < IntruderHeightFraction * neighbours[neighbours.Count / 2];
            if (weak && Math.Abs(span - typicalRr) < IntruderRrTolerance * typicalRr) continue;
            kept.Add(beats[i]);
        }
        return kept;
    }

    /// <summary>Beats each side that a detection is compared with, for its height and for the typical RR.</summary>
    public int IntruderContext { get; init; } = 8;
    /// <summary>A detection under this share of its neighbours' median height is weak.</summary>
    public double IntruderHeightFraction { get; init; } = 0.6;
    /// <summary>The beats either side are one ordinary RR apart when within this share of the typical RR.</summary>
    public double IntruderRrTolerance { get; init; } = 0.15;

    /// <summary>Pan &amp; Tompkins' decision rules over the integral's peaks, in time order.</summary>
    List<int> Classify(List<int> candidates, double[] integrated, double[] slope, int length, double fs)
    {
        // Signal and noise levels start from the first seconds: the larger half of the peaks there are beats.
        var learnEnd = Math.Min(length, (int)(4 * fs));
        var learning = candidates.Where(c => c < learnEnd).Select(c => integrated[c]).OrderDescending().ToArray();
        if (learning.Length == 0) learning = [integrated[candidates[0]]];
        var signalLevel = learning[(learning.Length - 1) / 4];
        var noiseLevel = learning.Length > 1 ? learning[^((learning.Length + 1) / 4)] * 0.5 : 0;
        var tWave = (int)Math.Round(fs * TWaveSeconds);

        var beats = new List<int>();
        var rejected = new List<int>();
        var tWaves = new HashSet<int>();
        // The last beat taken below Pan & Tompkins' own threshold (by the geometric mean or by a search back), if it is
        // still the last beat: it gives way to a much steeper QRS that follows it closely (see below).
        var belowLinear = -1;
        var recentRr = new List<int>();
        double rrAverage = 0;
        double LinearThreshold() => noiseLevel + ThresholdFraction * (signalLevel - noiseLevel);
        // Pan & Tompkins' threshold, or the geometric mean of the two levels where that is lower: with the noise far
        // below the beats (a clean signal) it lets through a beat a fifth the size of the others, such as an aberrated
        // premature beat; once the noise rises, the linear threshold is the lower and decides.
        double Threshold() => Math.Min(LinearThreshold(), Math.Sqrt(signalLevel * noiseLevel));
        double Slope(int c)
        {
            var reach = (int)Math.Round(fs * IntegrationSeconds / 2);
            double m = 0;
            for (int n = Math.Max(0, c - reach), end = Math.Min(length - 1, c + reach); n <= end; n++) m = Math.Max(m, slope[n]);
            return m;
        }
        void Accept(int c, double weight)
        {
            if (beats.Count > 0)
            {
                recentRr.Add(c - beats[^1]);
                if (recentRr.Count > 8) recentRr.RemoveAt(0);
                rrAverage = recentRr.Average();
            }
            // An artefact many times a beat's size would hold the threshold above the next beats: clip its pull.
            signalLevel = weight * Math.Min(integrated[c], 2 * signalLevel) + (1 - weight) * signalLevel;
            beats.Add(c);
            rejected.Clear();
        }
        // The largest peak rejected since the last beat, if it clears half the threshold.
        bool SearchBack(int before)
        {
            var best = -1;
            foreach (var r in rejected)
                if (r < before && !tWaves.Contains(r) && (best < 0 || integrated[r] > integrated[best])) best = r;
            if (best < 0 || integrated[best] < Threshold() / 2) return false;
            rejected.RemoveAll(r => r <= best);
            Accept(best, 0.25);
            belowLinear = best;
            return true;
        }

        foreach (var c in candidates)
        {
            while (beats.Count > 1 && rrAverage > 0 && c - beats[^1] > SearchBackRr * rrAverage && SearchBack(c)) { }
            var height = integrated[c];
            var isBeat = height >= Threshold();
            // The T wave comes later at slow rates: the window grows with the QT interval, which Bazett's formula puts at
            // about 0.4 √RR seconds.
            var tWindow = rrAverage > 0 ? Math.Max(tWave, QtBazettSeconds * Math.Sqrt(rrAverage / fs) * fs) : tWave;
            var closeToLast = beats.Count > 0 && c - beats[^1] <= tWindow;
            if (isBeat && closeToLast && Slope(c) < 0.5 * Slope(beats[^1]))
            {
                isBeat = false;
                tWaves.Add(c);
            }
            // A beat let in below the linear threshold that a QRS more than twice as steep follows this closely was
            // the P wave of that QRS (at slow rates a large P wave clears the geometric mean), or a T wave found by a
            // search back: it is dropped, with the RR interval it added.
            if (isBeat && closeToLast && beats[^1] == belowLinear && Slope(beats[^1]) < 0.5 * Slope(c))
            {
                if (beats.Count > 1) recentRr.RemoveAt(recentRr.Count - 1);
                rrAverage = recentRr.Count > 0 ? recentRr.Average() : 0;
                beats.RemoveAt(beats.Count - 1);
            }
            if (isBeat)
            {
                var belowLinearThreshold = height < LinearThreshold();
                Accept(c, 0.125);
                if (belowLinearThreshold) belowLinear = c;
            }
            else
            {
                noiseLevel = 0.125 * Math.Min(height, signalLevel) + 0.875 * noiseLevel;
                rejected.Add(c);
            }
        }
        if (beats.Count > 1 && rrAverage > 0 && length - beats[^1] > SearchBackRr * rrAverage) SearchBack(length);
        return beats;
    }

    /// <summary>
    /// Each lead's squared slope divided by its local QRS scale, summed over leads. The scale is the median, over
    /// the block and <see cref="ScaleNeighbourBlocks"/> blocks each side, of the lead's per-block maximum: nearly every
    /// block holds a beat, so that median is a typical QRS, which a burst of noise or a missing beat barely moves.
    /// </summary>
    void NormalisedSlopeEnergy(IReadOnlyList<float[]> leads, int start, int length, int half, double fs, float[] sum)
    {
        var block = Math.Max(1, (int)Math.Round(fs * ScaleBlockSeconds));
        // A short last block would be judged on a fraction of a beat cycle: it is merged into the one before.
        var blocks = Math.Max(1, length / block);
        int BlockEnd(int b) => b == blocks - 1 ? length : (b + 1) * block;
        var maxima = new double[blocks];
        var sorted = new double[blocks];
        var totals = new double[blocks];
        var factor = new double[leads.Count, blocks];
        var density = new double[leads.Count, blocks];
        var window = new double[2 * ScaleNeighbourBlocks + 1];
        var spread = new double[leads.Count];
        var energies = ArrayPool<float>.Shared.Rent(leads.Count * length);
        try
        {
            for (var l = 0; l < leads.Count; l++)
            {
                var leadEnergy = energies.AsSpan(l * length, length);
                leadEnergy.Clear();
                SlopeEnergy(leads[l].AsSpan(start, length), half, leadEnergy);
                for (var b = 0; b < blocks; b++)
                {
                    var (m, total) = MaxAndSum(leadEnergy[(b * block)..BlockEnd(b)]);
                    maxima[b] = m;
                    totals[b] = total;
                }
                maxima.CopyTo(sorted, 0);
                var floor = ScaleFloorFraction * Median(sorted);
                if (!(floor > 0)) continue;
                for (var b = 0; b < blocks; b++)
                {
                    int lo = Math.Max(0, b - ScaleNeighbourBlocks), hi = Math.Min(blocks - 1, b + ScaleNeighbourBlocks);
                    var span = window.AsSpan(0, hi - lo + 1);
                    maxima.AsSpan(lo, hi - lo + 1).CopyTo(span);
                    var scale = Math.Max(floor, Median(span));
                    density[l, b] = totals[b] / (BlockEnd(b) - b * block) / scale;
                    factor[l, b] = 1 / scale;
                }
            }
            // A lead whose energy is spread over the block, rather than gathered in a few QRS complexes, is noisy
            // there: it is weighted by the cleanest lead's density over its own, so noise in one lead cannot outvote
            // the others.
            for (var b = 0; b < blocks; b++)
            {
                int lo = Math.Max(0, b - 1), hi = Math.Min(blocks - 1, b + 1);
                var cleanest = double.PositiveInfinity;
                for (var l = 0; l < leads.Count; l++)
                {
                    double d = 0;
                    for (var k = lo; k <= hi; k++) d = Math.Max(d, density[l, k]);
                    spread[l] = d;
                    if (factor[l, b] > 0 && d > 0) cleanest = Math.Min(cleanest, d);
                }
                for (var l = 0; l < leads.Count; l++)
                    if (spread[l] > 0) factor[l, b] *= Math.Min(1, cleanest / spread[l]);
            }
            Array.Clear(sum, 0, length);
            for (var l = 0; l < leads.Count; l++)
            {
                var weighted = false;
                for (var b = 0; b < blocks && !weighted; b++) weighted = factor[l, b] > 0;
                if (!weighted) continue;
                var leadEnergy = energies.AsSpan(l * length, length);
                // Between block centres the factor is interpolated, so it never steps at a block edge; before the
                // first centre and after the last it is held.
                var centre = Math.Min(length, block / 2);
                AddRamp(leadEnergy[..centre], sum.AsSpan(0, centre), (float)factor[l, 0], 0);
                for (var b = 0; b < blocks; b++)
                {
                    int from = Math.Min(length, b * block + centre), to = b + 1 < blocks ? Math.Min(length, from + block) : length;
                    var value = factor[l, b];
                    var step = b + 1 < blocks ? (factor[l, b + 1] - value) / block : 0;
                    AddRamp(leadEnergy[from..to], sum.AsSpan(from, to - from), (float)value, (float)step);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(energies);
        }
    }

    /// <summary>The largest value and the sum of <paramref name="x"/>, eight at a time.</summary>
    static (float Max, double Sum) MaxAndSum(ReadOnlySpan<float> x)
    {
        var n = 0;
        var max = Vector256<float>.Zero;
        var sum = Vector256<float>.Zero;
        if (Vector256.IsHardwareAccelerated)
            for (; n + 8 <= x.Length; n += 8)
            {
                var v = Vector256.Create(x.Slice(n, 8));
                max = Vector256.Max(max, v);
                sum += v;
            }
        float m = 0;
        double total = Vector256.Sum(sum);
        for (var k = 0; k < Vector256<float>.Count; k++) m = Math.Max(m, max[k]);
        for (; n < x.Length; n++) { m = Math.Max(m, x[n]); total += x[n]; }
        return (m, total);
    }

    /// <summary>sum[n] += x[n] · (value + n · step): a weight that ramps linearly along the span.</summary>
    static void AddRamp(ReadOnlySpan<float> x, Span<float> sum, float value, float step)
    {
        var n = 0;
        if (Vector256.IsHardwareAccelerated && x.Length >= 8)
        {
            var weight = Vector256.Create(value) + Vector256.Create(0f, 1, 2, 3, 4, 5, 6, 7) * step;
            var stride = Vector256.Create(8 * step);
            for (; n + 8 <= x.Length; n += 8, weight += stride)
                (Vector256.Create(sum.Slice(n, 8)) + Vector256.Create(x.Slice(n, 8)) * weight).CopyTo(sum.Slice(n, 8));
        }
        for (; n < x.Length; n++) sum[n] += x[n] * (value + n * step);
    }

    static double Median(Span<double> values)
    {
        values.Sort();
        return values[values.Length / 2];
    }

    /// <summary>
    /// Per sample, the squared slope of a lead's centred moving average (2·half + 1 samples), added to
    /// <paramref name="energy"/>. The slope of a moving average needs no running sum: S[n+1] − S[n−1] = x[n+half+1] +
    /// x[n+half] − x[n−half] − x[n−half−1], so the interior is four loads and a multiply-add per sample, eight samples
    /// per vector. The scale (width²) is left in: every use divides by the lead's own scale.
    /// </summary>
    static void SlopeEnergy(ReadOnlySpan<float> x, int half, Span<float> energy)
    {
        var length = x.Length;
        var width = 2 * half + 1;
        // Interior samples n in [half + 1, length − half − 2] have the whole window on both sides.
        int first = half + 1, last = length - half - 2;
        var n = first;
        if (Vector256.IsHardwareAccelerated)
            for (; n + Vector256<float>.Count - 1 <= last; n += Vector256<float>.Count)
            {
                var d = Vector256.Create(x.Slice(n + half + 1, 8)) + Vector256.Create(x.Slice(n + half, 8))
                      - Vector256.Create(x.Slice(n - half, 8)) - Vector256.Create(x.Slice(n - half - 1, 8));
                (Vector256.Create(energy.Slice(n, 8)) + d * d).CopyTo(energy.Slice(n, 8));
            }
        for (; n <= last; n++)
        {
            var d = x[n + half + 1] + x[n + half] - x[n - half] - x[n - half - 1];
            energy[n] += d * d;
        }
        // The edges, where the window is cut short, average over what is available.
        EdgeSlopes(x, half, width, energy, 1, Math.Min(first, length - 1));
        EdgeSlopes(x, half, width, energy, Math.Max(first, last + 1), length - 1);
    }

    /// <summary>Squared slope for samples in [from, to) by the explicit truncated moving average, scaled by width² so
    /// it matches the interior's unnormalised difference.</summary>
    static void EdgeSlopes(ReadOnlySpan<float> x, int half, int width, Span<float> energy, int from, int to)
    {
        for (var n = from; n < to && n < x.Length - 1; n++)
        {
            var d = (Smoothed(x, n + 1, half) - Smoothed(x, n - 1, half)) * width;
            energy[n] += (float)(d * d);
        }
    }

    static double Smoothed(ReadOnlySpan<float> x, int n, int half)
    {
        int lo = Math.Max(0, n - half), hi = Math.Min(x.Length - 1, n + half);
        double sum = 0;
        for (var k = lo; k <= hi; k++) sum += x[k];
        return sum / (hi - lo + 1);
    }

    /// <summary>Samples that are the maximum of everything within ± <paramref name="separation"/>, in time order.</summary>
    static List<int> LocalMaxima(double[] x, int length, int separation)
    {
        // Sliding-window maximum with a monotonic deque of indices held in an array: O(n), no allocation per sample.
        var deque = ArrayPool<int>.Shared.Rent(length);
        int head = 0, tail = 0;
        var maxima = new List<int>();
        for (var right = 0; right < length + separation; right++)
        {
            if (right < length)
            {
                while (tail > head && x[deque[tail - 1]] <= x[right]) tail--;
                deque[tail++] = right;
            }
            var centre = right - separation;
            if (centre < 0) continue;
            while (deque[head] < centre - separation) head++;
            // A maximum on the first or last sample may be a slope running off the record, not a peak.
            if (centre == 0 || centre == length - 1) continue;
            if (deque[head] == centre && x[centre] > 0 && (maxima.Count == 0 || centre - maxima[^1] >= separation))
                maxima.Add(centre);
        }
        ArrayPool<int>.Shared.Return(deque);
        return maxima;
    }

    /// <summary>Centred moving average with a running sum; edges average over what is available.</summary>
    internal static void MovingAverage<T>(ReadOnlySpan<T> input, int width, Span<double> output) where T : unmanaged, INumberBase<T>
    {
        var half = width / 2;
        double sum = 0;
        int lo = 0, hi = -1;
        for (var n = 0; n < input.Length; n++)
        {
            var wantLo = Math.Max(0, n - half);
            var wantHi = Math.Min(input.Length - 1, n + half);
            while (hi < wantHi) sum += double.CreateTruncating(input[++hi]);
            while (lo < wantLo) sum -= double.CreateTruncating(input[lo++]);
            output[n] = sum / (hi - lo + 1);
        }
    }
}
