using System.Numerics;
using System.Runtime.Intrinsics;

namespace CodeII.Experiments.Features;

/// <summary>
/// A basic multi-lead QRS detector in the spirit of Pan &amp; Tompkins (1985): smoothed slope energy summed over
/// leads, moving-window integration, then peaks above a fraction of the typical beat energy with a refractory period.
/// Summing leads keeps it working when one lead is flat or noisy.
/// </summary>
public sealed class RPeakDetector
{
    /// <summary>Physiological refractory period; also the shortest RR the detector can report (240 bpm).</summary>
    public double RefractorySeconds { get; init; } = 0.25;

    /// <summary>Moving-window integration length, about one QRS (Pan &amp; Tompkins use 150 ms).</summary>
    public double IntegrationSeconds { get; init; } = 0.10;

    /// <summary>Peaks weaker than this share of the 90th-percentile candidate are taken as T waves or noise.</summary>
    public double ThresholdFraction { get; init; } = 0.25;

    /// <summary>Returns R-peak sample indices relative to the start of <paramref name="leads"/>' spans.</summary>
    public int[] Detect(IReadOnlyList<float[]> leads, Range recorded, double samplingRateHz)
    {
        var (start, length) = recorded.GetOffsetAndLength(leads[0].Length);
        if (length < samplingRateHz) return [];
        var half = Math.Max(1, (int)Math.Round(samplingRateHz * 0.025)) / 2;
        var slopeEnergy = SlopeEnergy(leads, start, length, half);
        var integrated = new double[length];
        MovingAverage<double>(slopeEnergy, Math.Max(1, (int)Math.Round(samplingRateHz * IntegrationSeconds)), integrated);

        var refractory = (int)Math.Round(samplingRateHz * RefractorySeconds);
        var candidates = LocalMaxima(integrated, refractory);
        if (candidates.Count == 0) return [];
        var heights = candidates.Select(c => integrated[c]).Order().ToArray();
        var threshold = ThresholdFraction * heights[(int)(0.9 * (heights.Length - 1))];

        // The integrator lags the QRS by about half its window; the steepest point just before the peak marks the beat.
        var lag = (int)Math.Round(samplingRateHz * IntegrationSeconds);
        var peaks = new List<int>();
        foreach (var c in candidates)
        {
            if (integrated[c] < threshold) continue;
            var from = Math.Max(0, c - lag);
            var best = from;
            for (var n = from; n <= c; n++) if (slopeEnergy[n] > slopeEnergy[best]) best = n;
            if (peaks.Count > 0 && best - peaks[^1] < refractory / 2) continue;
            peaks.Add(best);
        }
        return peaks.Select(p => p + start).ToArray();
    }

    /// <summary>
    /// Per sample, the squared slope of each lead's centred moving average (2·half + 1 samples), summed over leads.
    /// The slope of a moving average needs no running sum: S[n+1] − S[n−1] = x[n+half+1] + x[n+half] − x[n−half] −
    /// x[n−half−1], so the interior is four loads and a multiply-add per sample, eight samples per vector.
    /// </summary>
    static double[] SlopeEnergy(IReadOnlyList<float[]> leads, int start, int length, int half)
    {
        var width = 2 * half + 1;
        var energy = new float[length];
        // Interior samples n in [half + 1, length − half − 2] have the whole window on both sides.
        int first = half + 1, last = length - half - 2;
        foreach (var lead in leads)
        {
            var x = lead.AsSpan(start, length);
            var n = first;
            if (Vector256.IsHardwareAccelerated)
                for (; n + Vector256<float>.Count - 1 <= last; n += Vector256<float>.Count)
                {
                    var d = Vector256.Create(x.Slice(n + half + 1, 8)) + Vector256.Create(x.Slice(n + half, 8))
                          - Vector256.Create(x.Slice(n - half, 8)) - Vector256.Create(x.Slice(n - half - 1, 8));
                    (Vector256.Create(energy.AsSpan(n, 8)) + d * d).CopyTo(energy.AsSpan(n, 8));
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
        var result = new double[length];
        var scale = 1.0 / ((double)width * width);
        for (var n = 0; n < length; n++) result[n] = energy[n] * scale;
        return result;
    }

    /// <summary>Squared slope for samples in [from, to) by the explicit truncated moving average, scaled by width² so
    /// it matches the interior's unnormalised difference.</summary>
    static void EdgeSlopes(ReadOnlySpan<float> x, int half, int width, float[] energy, int from, int to)
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
    static List<int> LocalMaxima(double[] x, int separation)
    {
        // Sliding-window maximum with a monotonic deque of indices held in an array: O(n), no allocation per sample.
        var deque = new int[x.Length];
        int head = 0, tail = 0;
        var maxima = new List<int>();
        for (var right = 0; right < x.Length + separation; right++)
        {
            if (right < x.Length)
            {
                while (tail > head && x[deque[tail - 1]] <= x[right]) tail--;
                deque[tail++] = right;
            }
            var centre = right - separation;
            if (centre < 0) continue;
            while (deque[head] < centre - separation) head++;
            if (deque[head] == centre && x[centre] > 0 && (maxima.Count == 0 || centre - maxima[^1] >= separation))
                maxima.Add(centre);
        }
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
