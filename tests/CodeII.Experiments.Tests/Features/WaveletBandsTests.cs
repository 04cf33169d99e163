using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

public class WaveletBandsTests
{
    // The tabulated coefficients carry about twelve significant digits, hence ten decimals below.
    [Fact]
    public void The_filters_are_the_orthonormal_Daubechies_pair_with_four_vanishing_moments()
    {
        var h = WaveletBands.LowPass;
        var g = WaveletBands.HighPass;
        Assert.Equal(Math.Sqrt(2), h.Sum(), 10);
        Assert.Equal(1, h.Sum(v => v * v), 10);
        // Orthogonal to its own even shifts, and to the wavelet filter at every even shift.
        for (var shift = 2; shift < h.Length; shift += 2)
            Assert.Equal(0, Enumerable.Range(0, h.Length - shift).Sum(k => h[k] * h[k + shift]), 10);
        for (var shift = -6; shift <= 6; shift += 2)
            Assert.Equal(0, Enumerable.Range(0, h.Length).Where(k => k + shift >= 0 && k + shift < h.Length).Sum(k => h[k] * g[k + shift]), 10);
        // Four vanishing moments: the wavelet filter annihilates polynomials up to degree 3.
        for (var p = 0; p <= 3; p++)
            Assert.Equal(0, Enumerable.Range(0, g.Length).Sum(k => Math.Pow(k, p) * g[k]), 9);
    }

    [Fact]
    public void One_level_keeps_the_signal_energy()
    {
        var random = new Random(5);
        var x = Enumerable.Range(0, 64).Select(_ => random.NextDouble() - 0.5).ToArray();
        var a = new double[32];
        var d = new double[32];
        WaveletBands.Decompose(x, a, d);
        Assert.Equal(x.Sum(v => v * v), a.Sum(v => v * v) + d.Sum(v => v * v), 10);
    }

    [Theory]
    [InlineData(500, new[] { 3, 4, 5, 6 })]
    [InlineData(400, new[] { 3, 4, 5, 6 })]
    [InlineData(257, new[] { 2, 3, 4, 5 })]
    [InlineData(100, new[] { 1, 2, 3, 4 })]
    public void Each_nominal_band_takes_the_nearest_octave(double fs, int[] levels) =>
        Assert.Equal(levels, WaveletBands.Levels(fs));

    [Theory]
    [InlineData(44.0, 0)]   // 31–62 Hz at 500 Hz: detail level 3
    [InlineData(22.0, 1)]   // 16–31 Hz: level 4
    [InlineData(11.0, 2)]   // 8–16 Hz: level 5
    [InlineData(5.5, 3)]    // 4–8 Hz: level 6
    [InlineData(2.0, 4)]    // below 4 Hz: the approximation
    public void A_sine_in_the_middle_of_an_octave_puts_most_of_its_energy_in_that_band(double hz, int band)
    {
        const double fs = 500;
        var beat = Enumerable.Range(0, 551).Select(n => Math.Sin(2 * Math.PI * hz * n / fs)).ToArray();
        var shares = WaveletBands.Shares(beat, fs);
        Assert.Equal(1, shares.Sum(), 10);
        Assert.Equal(band, Array.IndexOf(shares, shares.Max()));
        Assert.True(shares[band] > 0.75, $"share {shares[band]:F3} in band {WaveletBands.Names[band]}");
    }

    [Fact]
    public void A_flat_beat_has_no_shares() =>
        Assert.All(WaveletBands.Shares(new double[551], 500), s => Assert.True(double.IsNaN(s)));
}
