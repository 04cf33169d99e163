namespace CodeII.Experiments.Features;

/// <summary>
/// Octave-band energy shares of a beat from its discrete wavelet transform with the Daubechies wavelet of four
/// vanishing moments (8 taps; "db4" in PyWavelets and most ECG papers). Detail level j of a signal sampled at fs
/// covers fs/2^(j+1) to fs/2^j; each nominal band takes the level nearest to it in log frequency, so the same names
/// mean nearly the same bands at 100, 257, 400 or 500 Hz. The shares are of the energy in the five bands together.
/// </summary>
public static class WaveletBands
{
    /// <summary>Nominal bands, highest first: four detail octaves and the approximation below them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["32_64hz", "16_32hz", "8_16hz", "4_8hz", "0_4hz"];

    static readonly double[] DetailUpperEdgesHz = [64, 32, 16, 8];

    /// <summary>Daubechies (1988) scaling filter with four vanishing moments, as tabulated in Ten Lectures on Wavelets.</summary>
    internal static readonly double[] LowPass =
    [
        0.23037781330885523, 0.7148465705525415, 0.6308807679295904, -0.02798376941698385,
        -0.18703481171888114, 0.030841381835986965, 0.032883011666982945, -0.010597401784997278,
    ];

    /// <summary>The quadrature-mirror wavelet filter: g[k] = (−1)^k h[L−1−k].</summary>
    internal static readonly double[] HighPass = [.. LowPass.Select((_, k) => (k % 2 == 0 ? 1 : -1) * LowPass[LowPass.Length - 1 - k])];

    /// <summary>The decomposition level whose detail band is nearest each nominal band at this sampling rate.</summary>
    public static int[] Levels(double samplingRateHz) =>
        [.. DetailUpperEdgesHz.Select(edge => Math.Max(1, (int)Math.Round(Math.Log2(samplingRateHz / edge))))];

    /// <summary>Share of each nominal band in the energy of the mean-removed <paramref name="x"/>; NaN for a flat signal.</summary>
    public static double[] Shares(ReadOnlySpan<double> x, double samplingRateHz)
    {
        var levels = Levels(samplingRateHz);
        var deepest = levels[^1];
        // Zero-padded to a power of two no shorter than the signal, so every level halves exactly.
        var length = Math.Max(1 << deepest, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)x.Length));
        var mean = 0.0;
        foreach (var v in x) mean += v;
        mean /= x.Length;
        var approximation = new double[length];
        for (var n = 0; n < x.Length; n++) approximation[n] = x[n] - mean;
        var detailEnergy = new double[deepest + 1];
        var next = new double[length / 2];
        var detail = new double[length / 2];
        for (var level = 1; level <= deepest; level++)
        {
            var half = length >> level;
            Decompose(approximation.AsSpan(0, 2 * half), next.AsSpan(0, half), detail.AsSpan(0, half));
            next.AsSpan(0, half).CopyTo(approximation);
            foreach (var d in detail.AsSpan(0, half)) detailEnergy[level] += d * d;
        }
        var bands = new double[Names.Count];
        for (var b = 0; b < levels.Length; b++) bands[b] = detailEnergy[levels[b]];
        foreach (var a in approximation.AsSpan(0, length >> deepest)) bands[^1] += a * a;
        var total = bands.Sum();
        for (var b = 0; b < bands.Length; b++) bands[b] = total > 0 ? bands[b] / total : double.NaN;
        return bands;
    }

    /// <summary>One level of the periodised transform: with an orthonormal filter pair it keeps the energy exactly.</summary>
    internal static void Decompose(ReadOnlySpan<double> x, Span<double> approximation, Span<double> detail)
    {
        var n = x.Length;
        var taps = LowPass.Length;
        for (var k = 0; k < approximation.Length; k++)
        {
            double a = 0, d = 0;
            var first = 2 * k;
            if (first + taps <= n)
            {
                var window = x.Slice(first, taps);
                for (var m = 0; m < taps; m++) { a += LowPass[m] * window[m]; d += HighPass[m] * window[m]; }
            }
            else
                // Only the last few outputs wrap around (periodisation).
                for (var m = 0; m < taps; m++) { var sample = x[(first + m) % n]; a += LowPass[m] * sample; d += HighPass[m] * sample; }
            approximation[k] = a;
            detail[k] = d;
        }
    }
}
