using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Tests.Data;

public class SyntheticEcgGeneratorTests
{
    static readonly SyntheticEcgGenerator Default = new(new SyntheticEcgOptions { Exams = 400, Seed = 7 });
    static readonly SyntheticEcgGenerator Clean = new(new SyntheticEcgOptions { Exams = 50, Seed = 11, NoiseScale = 0 });

    static int Lead(string name) => StandardLeads.IndexOf(name);

    [Fact]
    public void Same_seed_gives_identical_exams_and_another_seed_does_not()
    {
        var again = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 400, Seed = 7 });
        var other = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 400, Seed = 8 });
        foreach (var i in new[] { 0, 17, 399 })
        {
            var a = Default.Read(i);
            var b = again.Read(i);
            Assert.Equal(a.PatientId, b.PatientId);
            Assert.Equal(a.Labels.Order(), b.Labels.Order());
            for (var l = 0; l < 12; l++) Assert.Equal(a.Signals[l], b.Signals[l]);
            Assert.NotEqual(a.Signals[1], other.Read(i).Signals[1]);
        }
    }

    [Fact]
    public void Ten_seconds_at_400_Hz_are_centred_in_4096_zero_padded_samples_as_in_CODE()
    {
        var record = Default.Read(3);
        Assert.Equal(400, record.SamplingRateHz);
        Assert.Equal(StandardLeads.Twelve, record.Leads);
        Assert.All(record.Signals, s => Assert.Equal(4096, s.Length));
        Assert.Equal(48, record.RecordedSamples.Start.Value);
        Assert.Equal(4048, record.RecordedSamples.End.Value);
        foreach (var lead in record.Signals)
        {
            Assert.All(lead[..48], v => Assert.Equal(0f, v));
            Assert.All(lead[4048..], v => Assert.Equal(0f, v));
            Assert.True(lead[48..4048].Count(v => v != 0) > 3900);
        }
    }

    [Fact]
    public void Sampling_rate_and_duration_are_configurable()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 5, SamplingRateHz = 500, DurationSeconds = 7, PaddedLength = 0 });
        var r = g.Read(0);
        Assert.Equal(3500, r.SampleCount);
        Assert.Equal(new Range(0, 3500), r.RecordedSamples);
    }

    [Fact]
    public void Limb_leads_obey_Einthoven_and_Goldberger_including_noise()
    {
        var r = Default.Read(5);
        for (var n = 48; n < 4048; n++)
        {
            float I = r.Signals[0][n], II = r.Signals[1][n];
            Assert.Equal(II - I, r.Signals[Lead("III")][n], 5);
            Assert.Equal(0, r.Signals[Lead("aVR")][n] + r.Signals[Lead("aVL")][n] + r.Signals[Lead("aVF")][n], 4);
        }
    }

    [Fact]
    public void Patients_have_several_exams_with_stable_age_and_sex()
    {
        var records = Enumerable.Range(0, 400).Select(Default.Read).ToArray();
        var byPatient = records.GroupBy(r => r.PatientId).ToArray();
        Assert.Contains(byPatient, g => g.Count() >= 2);
        Assert.True(byPatient.Length < 400);
        foreach (var g in byPatient)
        {
            Assert.Single(g.Select(r => r.Age).Distinct());
            Assert.Single(g.Select(r => r.Sex).Distinct());
        }
        Assert.All(records, r => Assert.InRange(r.Age!.Value, 18, 90));
        Assert.Contains(records, r => r.Sex == Sex.Female);
        Assert.Contains(records, r => r.Sex == Sex.Male);
    }

    [Fact]
    public void Every_class_occurs_and_classes_co_occur_only_where_physiologically_possible()
    {
        var truths = Enumerable.Range(0, 400).Select(i => Default.Generate(i).Truth.SynthesisedClasses).ToArray();
        foreach (var c in SyntheticClasses.All) Assert.Contains(truths, t => t.Contains(c));
        Assert.Contains(truths, t => t.Count == 0);
        Assert.Contains(truths, t => t.Count >= 2);
        Assert.DoesNotContain(truths, t => t.Contains("SB") && t.Contains("ST"));
        Assert.DoesNotContain(truths, t => t.Contains("AF") && (t.Contains("SB") || t.Contains("ST") || t.Contains("1dAVb")));
        Assert.DoesNotContain(truths, t => t.Contains("RBBB") && t.Contains("LBBB"));
    }

    [Fact]
    public void Ground_truth_intervals_carry_each_class_defining_sign()
    {
        for (var i = 0; i < 400; i++)
        {
            var t = Default.Generate(i).Truth;
            var c = t.SynthesisedClasses;
            if (c.Contains("1dAVb")) Assert.True(t.PrMs > 200, $"exam {i}: 1dAVb with PR {t.PrMs}");
            else if (!c.Contains("AF")) Assert.InRange(t.PrMs, 120, 200);
            if (c.Contains("RBBB") || c.Contains("LBBB")) Assert.True(t.QrsMs >= 120, $"exam {i}: BBB with QRS {t.QrsMs}");
            else Assert.True(t.QrsMs < 120, $"exam {i}: QRS {t.QrsMs} without a bundle branch block");
            if (c.Contains("SB")) Assert.True(t.HeartRateBpm < 50, $"exam {i}: SB at {t.HeartRateBpm} bpm");
            if (c.Contains("ST")) Assert.True(t.HeartRateBpm > 100, $"exam {i}: ST at {t.HeartRateBpm} bpm");
            if (!c.Contains("SB") && !c.Contains("ST") && !c.Contains("AF")) Assert.InRange(t.HeartRateBpm, 50, 100);
            if (c.Contains("AF")) Assert.True(double.IsNaN(t.PrMs));
            Assert.InRange(t.QtMs, t.QrsMs + 100, 650);
        }
    }

    [Fact]
    public void Sinus_rhythm_is_nearly_regular_and_AF_is_irregularly_irregular()
    {
        static double Cv(double[] rr) => Math.Sqrt(rr.Select(x => (x - rr.Average()) * (x - rr.Average())).Sum() / (rr.Length - 1)) / rr.Average();
        var sinus = Clean.GenerateWithClasses(0).Truth.RrSeconds;
        var af = Clean.GenerateWithClasses(0, "AF").Truth.RrSeconds;
        Assert.InRange(Cv(sinus), 0.001, 0.05);
        Assert.True(Cv(af) > 0.12, $"AF RR coefficient of variation {Cv(af)}");
        // Irregularly irregular: successive differences do not follow a pattern, so their signs change often.
        var signChanges = af.Zip(af.Skip(1), (a, b) => b - a).Zip(af.Zip(af.Skip(1), (a, b) => b - a).Skip(1), (d1, d2) => Math.Sign(d1) != Math.Sign(d2)).Count(x => x);
        Assert.True(signChanges >= (af.Length - 2) / 3);
    }

    [Fact]
    public void AF_has_no_P_wave_but_fibrillatory_waves_and_sinus_has_a_P_wave()
    {
        // Look in the 200 ms before each QRS onset in lead II: a P wave there in sinus rhythm, f-waves only in AF.
        static (double Peak, int SignChanges) BeforeQrs(EcgRecord r, SyntheticTruth t, int lead)
        {
            double peak = 0; var changes = 0;
            var fs = r.SamplingRateHz;
            foreach (var rPeak in t.RPeakSamples)
            {
                var qrsOnset = rPeak - (int)(0.06 * fs);
                var from = qrsOnset - (int)(0.20 * fs);
                if (from < r.RecordedSamples.Start.Value) continue;
                var seg = r.Signals[lead][from..qrsOnset];
                var mean = seg.Average();
                peak = Math.Max(peak, seg.Max(v => Math.Abs(v - mean)));
                for (var k = 1; k < seg.Length; k++) if (Math.Sign(seg[k] - mean) != Math.Sign(seg[k - 1] - mean)) changes++;
            }
            return (peak, changes);
        }
        var (sinusRecord, sinusTruth) = Clean.GenerateWithClasses(2);
        var (afRecord, afTruth) = Clean.GenerateWithClasses(2, "AF");
        var sinus = BeforeQrs(sinusRecord, sinusTruth, Lead("II"));
        var af = BeforeQrs(afRecord, afTruth, Lead("V1"));
        Assert.True(sinus.Peak > 0.05, $"sinus P amplitude {sinus.Peak}");
        // f-waves at 4–9 Hz cross their mean far more often in 200 ms than a single P wave does.
        Assert.True(af.SignChanges / (double)afTruth.RPeakSamples.Length > 1.5, $"AF crossings per beat {af.SignChanges / (double)afTruth.RPeakSamples.Length}");
        Assert.True(sinus.SignChanges / (double)sinusTruth.RPeakSamples.Length <= 2.5);
    }

    /// <summary>The clean QRS of a sinus beat near the middle of a lead, from its true onset to its true offset.</summary>
    static float[] Qrs(EcgRecord r, SyntheticTruth t, string lead)
    {
        var middle = Enumerable.Range(0, t.QrsOnsetSamples.Length).Where(k => !t.VentricularBeats.Contains(k)).MinBy(k => Math.Abs(k - t.QrsOnsetSamples.Length / 2));
        var onset = t.QrsOnsetSamples[middle];
        var length = (int)Math.Round(t.QrsMs / 1000 * r.SamplingRateHz);
        return r.Signals[StandardLeads.IndexOf(lead)][onset..(onset + length + 1)];
    }

    static List<(int Index, float Value)> Extrema(float[] x, float minimumProminence)
    {
        var result = new List<(int, float)>();
        for (var k = 1; k < x.Length - 1; k++)
            if ((x[k] > x[k - 1] && x[k] >= x[k + 1] || x[k] < x[k - 1] && x[k] <= x[k + 1]) && Math.Abs(x[k]) > minimumProminence)
                result.Add((k, x[k]));
        return result;
    }

    [Fact]
    public void RBBB_shows_rSR_prime_in_V1_and_a_wide_terminal_S_in_I_and_V6()
    {
        for (var i = 0; i < 10; i++)
        {
            var (r, t) = Clean.GenerateWithClasses(i, "RBBB");
            var v1 = Qrs(r, t, "V1");
            var signs = Extrema(v1, 0.03f).Select(e => Math.Sign(e.Value)).ToList();
            // r, S, R': positive, then negative, then positive.
            var pattern = string.Concat(signs.Select(s => s > 0 ? '+' : '-'));
            Assert.Matches("\\+-+\\+", pattern.Replace("++", "+").Replace("--", "-"));
            var fs = r.SamplingRateHz;
            foreach (var lead in new[] { "I", "V6" })
            {
                var x = Qrs(r, t, lead);
                var negativeMs = x[(x.Length / 2)..].Count(v => v < -0.05f) * 1000 / fs;
                Assert.True(negativeMs >= 40, $"exam {i} {lead}: terminal S lasts only {negativeMs} ms");
            }
        }
    }

    [Fact]
    public void Premature_ventricular_beats_are_early_wide_without_P_and_followed_by_a_compensatory_pause()
    {
        var withPvcs = 0;
        for (var i = 0; i < 400; i++)
        {
            var (r, t) = Default.Generate(i);
            if (t.VentricularBeats.Length == 0) continue;
            withPvcs++;
            var sinusRr = BeatDelineatorMedian(t.RrSeconds.Where((_, k) => !t.VentricularBeats.Contains(k) && !t.VentricularBeats.Contains(k + 1)).ToArray());
            foreach (var (k, qrsMs) in t.VentricularBeats.Zip(t.VentricularQrsMs))
            {
                Assert.InRange(qrsMs, 140, 200);
                Assert.True(qrsMs > t.QrsMs, $"exam {i}: PVC of {qrsMs} ms no wider than the sinus QRS of {t.QrsMs} ms");
                if (k == 0 || k == t.RrSeconds.Length) continue;
                var (before, after) = (t.RrSeconds[k - 1], t.RrSeconds[k]);
                Assert.True(before < 0.8 * sinusRr, $"exam {i}: PVC {k} not premature ({before:F3} s after a sinus RR of {sinusRr:F3} s)");
                if (t.SynthesisedClasses.Contains("AF")) continue;
                // The sinus node keeps its rhythm, so the PVC and the pause after it span two sinus cycles.
                Assert.InRange(before + after, 1.85 * sinusRr, 2.15 * sinusRr);
            }
            // Its own R peak: the largest deflection of the PVC lies at the true R peak (within 10 ms).
            var fs = r.SamplingRateHz;
            var peak = t.RPeakSamples[t.VentricularBeats[0]];
            var window = (int)(0.1 * fs);
            var magnitude = (int n) => Enumerable.Range(0, 12).Sum(l => r.Signals[l][n] * r.Signals[l][n]);
            var largest = Enumerable.Range(peak - window, 2 * window + 1).Where(n => n >= r.RecordedSamples.Start.Value && n < r.RecordedSamples.End.Value).MaxBy(magnitude);
            Assert.InRange(largest, peak - (int)(0.01 * fs), peak + (int)(0.01 * fs));
        }
        // About 8 % of exams by default.
        Assert.InRange(withPvcs, 16, 56);
    }

    static double BeatDelineatorMedian(double[] values) => CodeII.Experiments.Features.BeatDelineator.Median(values);

    [Fact]
    public void LBBB_shows_a_broad_notched_R_without_Q_in_lateral_leads_and_QS_in_V1()
    {
        for (var i = 0; i < 10; i++)
        {
            var (r, t) = Clean.GenerateWithClasses(i, "LBBB");
            foreach (var lead in new[] { "I", "aVL", "V5", "V6" })
            {
                var x = Qrs(r, t, lead);
                var firstDeflection = x.First(v => Math.Abs(v) > 0.02f);
                Assert.True(firstDeflection > 0, $"exam {i} {lead}: starts with a Q wave");
            }
            var v6 = Qrs(r, t, "V6");
            var peaks = Extrema(v6, 0.1f).Where(e => e.Value > 0).ToList();
            Assert.True(peaks.Count >= 2, $"exam {i}: V6 R wave is not notched");
            var v1 = Qrs(r, t, "V1");
            Assert.True(v1.Min() < -0.5f && v1.Max() < 0.25f, $"exam {i}: V1 is not a deep QS (min {v1.Min()}, max {v1.Max()})");
        }
    }

    [Fact]
    public void Annotation_noise_misses_a_few_labels_and_rarely_adds_one()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 3000, Seed = 3 });
        int synthesised = 0, missed = 0, spurious = 0, negatives = 0;
        for (var i = 0; i < g.Count; i++)
        {
            var (record, truth) = g.Generate(i);
            foreach (var c in SyntheticClasses.All)
            {
                if (truth.SynthesisedClasses.Contains(c)) { synthesised++; if (!record.Labels.Contains(c)) missed++; }
                else { negatives++; if (record.Labels.Contains(c)) spurious++; }
            }
        }
        Assert.InRange(missed / (double)synthesised, 0.02, 0.07);
        Assert.InRange(spurious / (double)negatives, 0.001, 0.0035);
        var noiseless = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 200, Seed = 3, MissedLabelRate = 0, SpuriousLabelRate = 0 });
        for (var i = 0; i < 200; i++)
        {
            var (record, truth) = noiseless.Generate(i);
            Assert.Equal(truth.SynthesisedClasses.Order(), record.Labels.Order());
        }
    }
}

public class SyntheticTargetOptionsTests
{
    [Fact]
    public void Labels_in_CPSC_codes_and_durations_from_6_to_60_seconds()
    {
        var options = new SyntheticEcgOptions { Exams = 300, Seed = 5, SamplingRateHz = 500, DurationSeconds = 6, MaxDurationSeconds = 60, PaddedLength = 0, Taxonomy = "cpsc9" };
        var cpsc = new SyntheticEcgGenerator(options);
        var code = new SyntheticEcgGenerator(options with { Taxonomy = "code6" });
        Assert.Equal(["NORM", "AF", "I-AVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE"], cpsc.ClassNames);
        var durations = new List<double>();
        for (var i = 0; i < options.Exams; i++)
        {
            var (record, truth) = cpsc.Generate(i);
            var same = code.Read(i);
            // The same exam, its labels renamed: 1dAVb as I-AVB, NORM when none was annotated; SB and ST have no CPSC class.
            Assert.Equal(same.Signals[1], record.Signals[1]);
            var expected = same.Labels.Select(l => l switch { "1dAVb" => "I-AVB", "SB" or "ST" => null, _ => l }).OfType<string>().ToHashSet();
            if (same.Labels.Count == 0) expected.Add("NORM");
            Assert.Equal(expected.Order(), record.Labels.Order());
            var seconds = record.SampleCount / 500.0;
            Assert.Equal(record.SampleCount, record.RecordedSamples.GetOffsetAndLength(record.SampleCount).Length); // no padding
            Assert.InRange(seconds, 6, 60);
            Assert.Equal(cpsc.DurationOf(i), seconds, 2);
            durations.Add(seconds);
        }
        // Uniform over 6–60 s: a spread, with both ends reached within a few seconds.
        Assert.InRange(durations.Min(), 6, 9);
        Assert.InRange(durations.Max(), 57, 60);
        Assert.Contains(Enumerable.Range(0, 300), i => cpsc.Read(i).Labels.Contains("NORM"));
        Assert.Contains(Enumerable.Range(0, 300), i => cpsc.Read(i).Labels.Contains("I-AVB"));
    }
}
