namespace CodeII.Experiments.Preprocessing;

/// <summary>
/// Rational resampling by up/down with a Kaiser-windowed sinc low-pass evaluated polyphase (only the taps that meet
/// non-zero input samples), with the same design as scipy.signal.resample_poly: cut-off at the lower of the two
/// Nyquist rates, 10 × max(up, down) taps per side, Kaiser β = 5.
/// </summary>
public sealed class PolyphaseResampler
{
    readonly double[] _taps;
    readonly int _half;

    public PolyphaseResampler(int fromHz, int toHz)
    {
        if (fromHz <= 0 || toHz <= 0) throw new ArgumentOutOfRangeException(nameof(fromHz), "rates must be positive");
        var g = Gcd(fromHz, toHz);
        Up = toHz / g;
        Down = fromHz / g;
        var maxRate = Math.Max(Up, Down);
        _half = 10 * maxRate;
        var cutoff = 1.0 / maxRate; // as a fraction of the upsampled Nyquist
        _taps = new double[2 * _half + 1];
        const double beta = 5.0;
        var i0Beta = BesselI0(beta);
        for (var k = 0; k < _taps.Length; k++)
        {
            var m = k - _half;
            var sinc = m == 0 ? 1 : Math.Sin(Math.PI * cutoff * m) / (Math.PI * cutoff * m);
            var r = (double)m / _half;
            var window = BesselI0(beta * Math.Sqrt(Math.Max(0, 1 - r * r))) / i0Beta;
            _taps[k] = cutoff * sinc * window;
        }
        // Unit gain at DC after zero-stuffing: taps sum to up.
        var sum = _taps.Sum();
        for (var k = 0; k < _taps.Length; k++) _taps[k] *= Up / sum;
    }

    public int Up { get; }
    public int Down { get; }

    public int OutputLength(int inputLength) => (int)(((long)inputLength * Up + Down - 1) / Down);

    public float[] Resample(ReadOnlySpan<float> input)
    {
        var output = new float[OutputLength(input.Length)];
        for (var n = 0; n < output.Length; n++)
        {
            // Output n sits at upsampled index n·down; input j sits at j·up; tap index = n·down − j·up + half.
            long t = (long)n * Down + _half;
            var jFirst = (int)Math.Max(0, (t - (_taps.Length - 1) + Up - 1) / Up);
            var jLast = (int)Math.Min(input.Length - 1, t / Up);
            double acc = 0;
            for (var j = jFirst; j <= jLast; j++) acc += _taps[t - (long)j * Up] * input[j];
            output[n] = (float)acc;
        }
        return output;
    }

    static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

    /// <summary>Modified Bessel function of the first kind, order 0, by its power series.</summary>
    static double BesselI0(double x)
    {
        double sum = 1, term = 1, q = x * x / 4;
        for (var k = 1; k < 50; k++)
        {
            term *= q / (k * k);
            sum += term;
            if (term < 1e-16 * sum) break;
        }
        return sum;
    }
}
