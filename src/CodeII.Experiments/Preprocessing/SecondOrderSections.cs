using System.Buffers;
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
    /// 256-bit vector, and three such vectors advance together so their recursions overlap in the pipeline instead of
    /// waiting on each other. The result equals <see cref="FilterZeroPhase(Span{float})"/> applied to each signal.
    /// </summary>
    public void FilterZeroPhase(IReadOnlyList<float[]> signals, int start, int length)
    {
        if (signals.Count == 0 || length == 0) return;
        var triples = (signals.Count + LanesPerTriple - 1) / LanesPerTriple;
        var width = triples * LanesPerTriple;
        var pad = Math.Min(length - 1, 3 * (2 * Sections.Count + 1));
        var total = length + 2 * pad;
        // Half a megabyte for 12 leads × 10 s at 500 Hz: renting it keeps large-object-heap allocations (and the
        // full collections they trigger) out of the per-record path.
        var rented = ArrayPool<double>.Shared.Rent(total * width);
        var x = rented.AsSpan(0, total * width);
        if (signals.Count < width) x.Clear();
        // Sample-major loops: each output row is written contiguously while the leads are read as parallel streams.
        var count = signals.Count;
        var leads = signals as float[][] ?? [.. signals];
        for (var n = 0; n < length; n++)
        {
            var row = x.Slice((pad + n) * width, count);
            for (var l = 0; l < row.Length; l++) row[l] = leads[l][start + n];
        }
        for (var l = 0; l < count; l++)
        {
            var s = signals[l].AsSpan(start, length);
            for (var n = 1; n <= pad; n++)
            {
                x[(pad - n) * width + l] = 2 * s[0] - s[n];
                x[(pad + length - 1 + n) * width + l] = 2 * s[^1] - s[^(1 + n)];
            }
        }
        foreach (var forward in (ReadOnlySpan<bool>)[true, false])
            for (var t = 0; t < triples; t++)
            {
                var first = (forward ? 0 : total - 1) * width + t * LanesPerTriple;
                var initial = (Vector256.Create(x.Slice(first, 4)), Vector256.Create(x.Slice(first + 4, 4)), Vector256.Create(x.Slice(first + 8, 4)));
                var gainSoFar = 1.0;
                foreach (var section in _biquads)
                {
                    FilterTriple(x, width, t * LanesPerTriple, total, section, initial, gainSoFar, forward);
                    gainSoFar *= section.DcGain;
                }
            }
        for (var n = 0; n < length; n++)
        {
            var row = x.Slice((pad + n) * width, count);
            for (var l = 0; l < row.Length; l++) leads[l][start + n] = (float)row[l];
        }
        ArrayPool<double>.Shared.Return(rented);
    }

    const int LanesPerTriple = 12;

    /// <summary>One section over twelve interleaved lanes, state held in registers. The steady state is set for each
    /// lane's first input sample scaled by the gain of the sections before, as in the scalar path.</summary>
    static void FilterTriple(Span<double> x, int width, int offset, int total, Biquad s,
        (Vector256<double> A, Vector256<double> B, Vector256<double> C) first, double gainSoFar, bool forward)
    {
        var g = s.DcGain;
        var (ua, ub, uc) = (first.A * gainSoFar, first.B * gainSoFar, first.C * gainSoFar);
        Vector256<double> z2a = ua * (s.B2 - s.A2 * g), z2b = ub * (s.B2 - s.A2 * g), z2c = uc * (s.B2 - s.A2 * g);
        Vector256<double> z1a = ua * (s.B1 - s.A1 * g) + z2a, z1b = ub * (s.B1 - s.A1 * g) + z2b, z1c = uc * (s.B1 - s.A1 * g) + z2c;
        var step = forward ? width : -width;
        var at = (forward ? 0 : total - 1) * width + offset;
        var (b0, b1, b2, a1, a2) = (Vector256.Create(s.B0), Vector256.Create(s.B1), Vector256.Create(s.B2), Vector256.Create(-s.A1), Vector256.Create(-s.A2));
        ref var origin = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(x);
        for (var i = 0; i < total; i++, at += step)
        {
            ref var slot = ref System.Runtime.CompilerServices.Unsafe.Add(ref origin, at);
            var va = Vector256.LoadUnsafe(ref slot);
            var vb = Vector256.LoadUnsafe(ref slot, 4);
            var vc = Vector256.LoadUnsafe(ref slot, 8);
            var ya = Vector256.FusedMultiplyAdd(va, b0, z1a);
            var yb = Vector256.FusedMultiplyAdd(vb, b0, z1b);
            var yc = Vector256.FusedMultiplyAdd(vc, b0, z1c);
            z1a = Vector256.FusedMultiplyAdd(ya, a1, Vector256.FusedMultiplyAdd(va, b1, z2a));
            z1b = Vector256.FusedMultiplyAdd(yb, a1, Vector256.FusedMultiplyAdd(vb, b1, z2b));
            z1c = Vector256.FusedMultiplyAdd(yc, a1, Vector256.FusedMultiplyAdd(vc, b1, z2c));
            z2a = Vector256.FusedMultiplyAdd(ya, a2, va * b2);
            z2b = Vector256.FusedMultiplyAdd(yb, a2, vb * b2);
            z2c = Vector256.FusedMultiplyAdd(yc, a2, vc * b2);
            ya.StoreUnsafe(ref slot);
            yb.StoreUnsafe(ref slot, 4);
            yc.StoreUnsafe(ref slot, 8);
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
                // Fused multiply-adds, in the same order as the vector path so both give identical bits; fusing
                // also halves the latency of the recursion that bounds the filter's speed.
                var y = Math.FusedMultiplyAdd(input, s.B0, z1);
                z1 = Math.FusedMultiplyAdd(y, -s.A1, Math.FusedMultiplyAdd(input, s.B1, z2));
                z2 = Math.FusedMultiplyAdd(y, -s.A2, input * s.B2);
                x[n] = y;
            }
            gainSoFar *= g;
        }
    }
}
