using System.Numerics;
using System.Runtime.Intrinsics;

namespace CodeII.Experiments.Preprocessing;

/// <summary>One biquad, normalised so a0 = 1: y = b0 x + b1 x[-1] + b2 x[-2] − a1 y[-1] − a2 y[-2].</summary>
public readonly record struct Biquad(double B0, double B1, double B2, double A1, double A2)
{
    /// <summary>Complex response at normalised angular frequency ω (radians per sample).</summary>
    public Complex Response(double omega)
    {
        var z1 = Complex.Exp(-Complex.ImaginaryOne * omega);
        var z2 = z1 * z1;
        return (B0 + B1 * z1 + B2 * z2) / (1 + A1 * z1 + A2 * z2);
    }

    public double DcGain => (B0 + B1 + B2) / (1 + A1 + A2);
}

/// <summary>
/// An IIR filter as a cascade of biquads, designed by the bilinear transform with frequency pre-warping, and applied
/// forward and backward (zero phase, magnitude squared) with steady-state initial conditions at both ends, as
/// scipy.signal.sosfiltfilt does.
/// </summary>
public sealed class SecondOrderSections(IReadOnlyList<Biquad> sections)
{
    readonly Biquad[] _biquads = [.. sections];

    public IReadOnlyList<Biquad> Sections => _biquads;

    public Complex Response(double frequencyHz, double samplingRateHz)
    {
        var omega = 2 * Math.PI * frequencyHz / samplingRateHz;
        var h = Complex.One;
        foreach (var s in Sections) h *= s.Response(omega);
        return h;
    }

    /// <summary>One filter running the sections of several in a single pass: the product of their responses.</summary>
    public static SecondOrderSections Cascade(params SecondOrderSections[] filters) => new(filters.SelectMany(f => f.Sections).ToArray());

    /// <summary>Butterworth low-pass of the given order (Butterworth 1930; bilinear transform, pre-warped at the cut-off).</summary>
    public static SecondOrderSections ButterworthLowPass(int order, double cutoffHz, double samplingRateHz) =>
        Butterworth(order, cutoffHz, samplingRateHz, highPass: false);

    /// <summary>Butterworth high-pass: with zero-phase filtering at 0.5–0.8 Hz it removes baseline wander without
    /// shifting the ST segment (AHA recommendations, Kligfield et al. 2007).</summary>
    public static SecondOrderSections ButterworthHighPass(int order, double cutoffHz, double samplingRateHz) =>
        Butterworth(order, cutoffHz, samplingRateHz, highPass: true);

    static SecondOrderSections Butterworth(int order, double cutoffHz, double fs, bool highPass)
    {
        if (order < 1 || order > 12) throw new ArgumentOutOfRangeException(nameof(order), "order must be 1 to 12");
        if (cutoffHz <= 0 || cutoffHz >= fs / 2) throw new ArgumentOutOfRangeException(nameof(cutoffHz), $"cut-off {cutoffHz} Hz must lie between 0 and Nyquist ({fs / 2} Hz)");
        // Pre-warping: the digital filter's −3 dB point lands exactly on the cut-off.
        var k = Math.Tan(Math.PI * cutoffHz / fs);
        var sections = new List<Biquad>();
        for (var i = 0; i < order / 2; i++)
        {
            // Analogue prototype pole pair −sin φ ± j cos φ, φ = π(2i + 1)/2n: the factor s² + 2 sin φ s + 1.
            var phi = Math.PI * (2 * i + 1) / (2 * order);
            var c = 2 * Math.Sin(phi);
            var norm = 1 + c * k + k * k;
            sections.Add(highPass
                ? new Biquad(1 / norm, -2 / norm, 1 / norm, 2 * (k * k - 1) / norm, (1 - c * k + k * k) / norm)
                : new Biquad(k * k / norm, 2 * k * k / norm, k * k / norm, 2 * (k * k - 1) / norm, (1 - c * k + k * k) / norm));
        }
        if (order % 2 == 1)
        {
            var norm = 1 + k;
            sections.Add(highPass
                ? new Biquad(1 / norm, -1 / norm, 0, (k - 1) / norm, 0)
                : new Biquad(k / norm, k / norm, 0, (k - 1) / norm, 0));
        }
        return new SecondOrderSections(sections);
    }

    /// <summary>Second-order IIR notch (Bristow-Johnson's audio-EQ cookbook) at the mains frequency with quality factor Q.</summary>
    public static SecondOrderSections Notch(double frequencyHz, double samplingRateHz, double quality = 30)
    {
        if (frequencyHz <= 0 || frequencyHz >= samplingRateHz / 2)
            throw new ArgumentOutOfRangeException(nameof(frequencyHz), $"notch at {frequencyHz} Hz must lie below Nyquist ({samplingRateHz / 2} Hz)");
        var w0 = 2 * Math.PI * frequencyHz / samplingRateHz;
        var alpha = Math.Sin(w0) / (2 * quality);
        var a0 = 1 + alpha;
        return new SecondOrderSections([new Biquad(1 / a0, -2 * Math.Cos(w0) / a0, 1 / a0, -2 * Math.Cos(w0) / a0, (1 - alpha) / a0)]);
    }

    /// <summary>Forward-backward filtering of <paramref name="signal"/> in place, with odd extension at both ends.</summary>
    public void FilterZeroPhase(Span<float> signal)
    {
        if (signal.Length == 0) return;
        // scipy's default pad length for sosfiltfilt: 3 × (2 × sections + 1), capped by the signal length.
        var pad = Math.Min(signal.Length - 1, 3 * (2 * Sections.Count + 1));
        var extended = new double[signal.Length + 2 * pad];
        for (var n = 0; n < signal.Length; n++) extended[pad + n] = signal[n];
        for (var n = 1; n <= pad; n++)
        {
            extended[pad - n] = 2 * signal[0] - signal[n];
            extended[pad + signal.Length - 1 + n] = 2 * signal[^1] - signal[^(1 + n)];
        }
        Filter(extended, forward: true);
        Filter(extended, forward: false);
        for (var n = 0; n < signal.Length; n++) signal[n] = (float)extended[pad + n];
    }

    /// <summary>
    /// Zero-phase filtering of several equally long signals at once: they are interleaved so that four leads share each
    /// 256-bit vector, and every section runs fused in one pass over the samples. The result equals
    /// <see cref="FilterZeroPhase(Span{float})"/> applied to each signal.
    /// </summary>
    public void FilterZeroPhase(IReadOnlyList<float[]> signals, int start, int length)
    {
        if (signals.Count == 0 || length == 0) return;
        const int Lanes = 4;
        var groups = (signals.Count + Lanes - 1) / Lanes;
        var pad = Math.Min(length - 1, 3 * (2 * Sections.Count + 1));
        var total = length + 2 * pad;
        var width = groups * Lanes;
        var x = new double[total * width];
        for (var l = 0; l < signals.Count; l++)
        {
            var s = signals[l].AsSpan(start, length);
            for (var n = 0; n < length; n++) x[(pad + n) * width + l] = s[n];
            for (var n = 1; n <= pad; n++)
            {
                x[(pad - n) * width + l] = 2 * s[0] - s[n];
                x[(pad + length - 1 + n) * width + l] = 2 * s[^1] - s[^(1 + n)];
            }
        }
        FilterInterleaved(x, total, groups, forward: true);
        FilterInterleaved(x, total, groups, forward: false);
        for (var l = 0; l < signals.Count; l++)
        {
            var s = signals[l].AsSpan(start, length);
            for (var n = 0; n < length; n++) s[n] = (float)x[(pad + n) * width + l];
        }
    }

    void FilterInterleaved(double[] x, int total, int groups, bool forward)
    {
        const int Lanes = 4;
        var width = groups * Lanes;
        var count = _biquads.Length;
        var z1 = new Vector256<double>[count * groups];
        var z2 = new Vector256<double>[count * groups];
        var first = forward ? 0 : total - 1;
        for (var g = 0; g < groups; g++)
        {
            // Steady state for each lane's first sample, section by section (as in the scalar path).
            var u = Vector256.Create(x.AsSpan(first * width + g * Lanes, Lanes));
            for (var k = 0; k < count; k++)
            {
                var s = _biquads[k];
                var gain = s.DcGain;
                z2[k * groups + g] = u * (s.B2 - s.A2 * gain);
                z1[k * groups + g] = u * (s.B1 - s.A1 * gain) + z2[k * groups + g];
                u *= gain;
            }
        }
        for (var i = 0; i < total; i++)
        {
            var n = forward ? i : total - 1 - i;
            for (var g = 0; g < groups; g++)
            {
                var slot = x.AsSpan(n * width + g * Lanes, Lanes);
                var v = Vector256.Create(slot);
                for (var k = 0; k < count; k++)
                {
                    var s = _biquads[k];
                    var index = k * groups + g;
                    var y = v * s.B0 + z1[index];
                    z1[index] = v * s.B1 - y * s.A1 + z2[index];
                    z2[index] = v * s.B2 - y * s.A2;
                    v = y;
                }
                v.CopyTo(slot);
            }
        }
    }

    /// <summary>Transposed direct form II, each section started in the steady state for the first input sample.</summary>
    void Filter(double[] x, bool forward)
    {
        var first = forward ? x[0] : x[^1];
        var gainSoFar = 1.0;
        foreach (var s in _biquads)
        {
            // Steady state for a constant input u = first × gain of the sections before: y = g u.
            var u = first * gainSoFar;
            var g = s.DcGain;
            var z2 = (s.B2 - s.A2 * g) * u;
            var z1 = (s.B1 - s.A1 * g) * u + z2;
            for (var i = 0; i < x.Length; i++)
            {
                var n = forward ? i : x.Length - 1 - i;
                var input = x[n];
                var y = s.B0 * input + z1;
                z1 = s.B1 * input - s.A1 * y + z2;
                z2 = s.B2 * input - s.A2 * y;
                x[n] = y;
            }
            gainSoFar *= g;
        }
    }
}
