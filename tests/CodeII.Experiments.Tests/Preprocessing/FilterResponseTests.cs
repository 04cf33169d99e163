using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Preprocessing;

namespace CodeII.Experiments.Tests.Preprocessing;

/// <summary>Each filter against its known frequency response: analytically from the coefficients, and measured on sines.</summary>
public class FilterResponseTests
{
    const double Fs = 400;

    static float[] Sine(double hz, double fs, int n, double amplitude = 1) =>
        Enumerable.Range(0, n).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * hz * i / fs))).ToArray();

    /// <summary>Amplitude in the middle half of the signal, away from edge effects.</summary>
    static double MiddleAmplitude(float[] x) => x.Skip(x.Length / 4).Take(x.Length / 2).Max(v => Math.Abs(v));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Butterworth_high_pass_magnitude_follows_the_prewarped_formula(int order)
    {
        var filter = SecondOrderSections.ButterworthHighPass(order, 0.8, Fs);
        foreach (var f in new[] { 0.05, 0.2, 0.8, 2, 10, 100 })
        {
            // Bilinear Butterworth high-pass: |H|² = 1 / (1 + (tan(π fc/fs) / tan(π f/fs))^(2n)).
            var ratio = Math.Tan(Math.PI * 0.8 / Fs) / Math.Tan(Math.PI * f / Fs);
            var expected = 1 / Math.Sqrt(1 + Math.Pow(ratio, 2 * order));
            Assert.Equal(expected, filter.Response(f, Fs).Magnitude, 9);
        }
        Assert.Equal(1 / Math.Sqrt(2), filter.Response(0.8, Fs).Magnitude, 9); // −3 dB at the cut-off
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Butterworth_low_pass_magnitude_follows_the_prewarped_formula(int order)
    {
        var filter = SecondOrderSections.ButterworthLowPass(order, 40, Fs);
        foreach (var f in new[] { 0.0, 5, 40, 60, 150 })
        {
            var ratio = Math.Tan(Math.PI * f / Fs) / Math.Tan(Math.PI * 40 / Fs);
            Assert.Equal(1 / Math.Sqrt(1 + Math.Pow(ratio, 2 * order)), filter.Response(f, Fs).Magnitude, 9);
        }
    }

    [Fact]
    public void Zero_phase_high_pass_removes_baseline_wander_and_keeps_the_QRS_band_without_delay()
    {
        var filter = SecondOrderSections.ButterworthHighPass(2, 0.8, Fs);
        // Forward-backward squares the magnitude: expect |H(f)|² on a long sine.
        foreach (var (f, expected) in new[] { (0.1, Math.Pow(filter.Response(0.1, Fs).Magnitude, 2)), (10.0, Math.Pow(filter.Response(10, Fs).Magnitude, 2)) })
        {
            var x = Sine(f, Fs, 40 * 400);
            filter.FilterZeroPhase(x);
            Assert.Equal(expected, MiddleAmplitude(x), 2);
        }
        // No phase shift: a 10 Hz sine's zero crossings stay where they were.
        var sine = Sine(10, Fs, 4000);
        var filtered = (float[])sine.Clone();
        filter.FilterZeroPhase(filtered);
        for (var n = 1000; n < 3000; n++) Assert.Equal(sine[n], filtered[n], 2);
    }

    [Fact]
    public void Mains_notch_takes_60_Hz_down_by_over_40_dB_and_leaves_50_Hz_and_the_QRS_band()
    {
        var notch = SecondOrderSections.Notch(60, Fs);
        Assert.True(notch.Response(60, Fs).Magnitude < 1e-9);
        Assert.True(notch.Response(50, Fs).Magnitude > 0.95);
        Assert.True(notch.Response(15, Fs).Magnitude > 0.999);
        var hum = Sine(60, Fs, 4000);
        notch.FilterZeroPhase(hum);
        Assert.True(MiddleAmplitude(hum) < 0.01, $"60 Hz left at {MiddleAmplitude(hum)} of its amplitude");
        var qrsBand = Sine(15, Fs, 4000);
        notch.FilterZeroPhase(qrsBand);
        Assert.Equal(1, MiddleAmplitude(qrsBand), 2);
    }

    [Fact]
    public void Steady_state_start_means_a_constant_offset_leaves_no_edge_transient_in_a_low_pass()
    {
        var x = Enumerable.Repeat(2.5f, 1000).ToArray();
        SecondOrderSections.ButterworthLowPass(4, 40, Fs).FilterZeroPhase(x);
        Assert.All(x, v => Assert.Equal(2.5f, v, 4));
    }

    [Theory]
    [InlineData(400, 500)]
    [InlineData(500, 400)]
    [InlineData(500, 100)]
    [InlineData(100, 400)]
    public void Polyphase_resampling_preserves_an_in_band_sine(int from, int to)
    {
        var resampler = new PolyphaseResampler(from, to);
        var input = Sine(5, from, from * 10);
        var output = resampler.Resample(input);
        Assert.Equal(to * 10, output.Length);
        var expected = Sine(5, to, output.Length);
        // Kaiser β = 5 passband ripple is a few parts per thousand.
        for (var n = output.Length / 10; n < output.Length * 9 / 10; n++)
            Assert.True(Math.Abs(expected[n] - output[n]) <= 0.005, $"sample {n}: {output[n]} vs {expected[n]}");
    }

    [Fact]
    public void Downsampling_suppresses_what_would_alias()
    {
        // 500 → 100 Hz: a 70 Hz tone lies above the new Nyquist (50 Hz) and must not fold back as a 30 Hz tone.
        var output = new PolyphaseResampler(500, 100).Resample(Sine(70, 500, 5000));
        Assert.True(MiddleAmplitude(output) < 0.01, $"aliased residue {MiddleAmplitude(output)}");
    }

    [Fact]
    public void Derived_limb_leads_match_the_recorded_ones_on_PTB_XL()
    {
        var record = EcgSources.Open(RepoPaths.Shared("ptbxl"), 500).Read(0);
        var only = new EcgPreprocessor(new PreprocessingOptions { Leads = ["I", "II"] }).Apply(record);
        var derived = new EcgPreprocessor(new PreprocessingOptions { Leads = ["III", "aVR", "aVL", "aVF"] }).Apply(only);
        for (var k = 0; k < 4; k++)
        {
            var recorded = record.Signals[2 + k];
            // PTB-XL stores every lead rounded to 1 µV, so derived and stored differ by rounding only.
            for (var n = 0; n < recorded.Length; n++) Assert.True(Math.Abs(recorded[n] - derived.Signals[k][n]) <= 0.0016f, $"{derived.Leads[k]} sample {n}");
        }
    }

    [Fact]
    public void Length_pads_centred_like_CODE_or_crops_centred_and_zscore_normalises()
    {
        var record = EcgSources.Open(RepoPaths.Shared("ptbxl"), 500).Read(1);
        var resampled = new EcgPreprocessor(new PreprocessingOptions { ResampleHz = 400, Length = 4096, Normalize = "zscore" }).Apply(record);
        Assert.Equal(400, resampled.SamplingRateHz);
        Assert.Equal(4096, resampled.SampleCount);
        Assert.Equal(new Range(48, 4048), resampled.RecordedSamples);
        Assert.All(resampled.Signals, s => Assert.Equal(0f, s[0]));
        var lead = resampled.Signals[1].AsSpan(48, 4000).ToArray();
        Assert.Equal(0, lead.Average(), 4);
        Assert.Equal(1, Math.Sqrt(lead.Select(v => (double)v * v).Sum() / (lead.Length - 1)), 3);
        var cropped = new EcgPreprocessor(new PreprocessingOptions { Length = 1000 }).Apply(record);
        Assert.Equal(record.Signals[0].AsSpan(2000, 1000).ToArray(), cropped.Signals[0]);
    }

    [Fact]
    public void A_lead_that_is_neither_recorded_nor_derivable_is_named()
    {
        var record = EcgSources.Open(RepoPaths.Shared("wfdb-samples", "100")).Read(0);
        var e = Assert.Throws<EcgDataException>(() => new EcgPreprocessor(new PreprocessingOptions { Leads = ["V1"] }).Apply(record));
        Assert.Equal("leads", e.Field);
        Assert.Contains("MLII", e.Message);
    }

    [Fact]
    public void Filtering_twelve_leads_as_vector_lanes_equals_filtering_each_lead()
    {
        var record = new CodeII.Experiments.Data.Synthetic.SyntheticEcgGenerator(new() { Exams = 1, Seed = 2, SamplingRateHz = 500, PaddedLength = 0 }).Read(0);
        var filter = SecondOrderSections.Cascade(SecondOrderSections.ButterworthHighPass(2, 0.5, 500), SecondOrderSections.ButterworthLowPass(3, 40, 500));
        var together = record.Signals.Select(s => (float[])s.Clone()).ToArray();
        filter.FilterZeroPhase(together, 100, 4000);
        for (var l = 0; l < 12; l++)
        {
            var alone = (float[])record.Signals[l].Clone();
            filter.FilterZeroPhase(alone.AsSpan(100, 4000));
            Assert.Equal(alone, together[l]); // same arithmetic in the same order: bit-identical
        }
    }
}
