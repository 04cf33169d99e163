using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using Xunit.Abstractions;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// Delineation against the generator's ground truth. The thresholds were tuned on seed 100; these exams come from
/// seed 200, which tuning never saw.
/// </summary>
public class BeatDelineatorTests(ITestOutputHelper output)
{
    [Fact]
    public void Intervals_match_the_synthesised_ones_across_all_classes()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 300, Seed = 200 });
        var delineator = new BeatDelineator();
        var pr = new List<double>();
        var qrs = new List<double>();
        var qt = new List<double>();
        int sinus = 0, sinusWithP = 0, af = 0, afWithoutP = 0;
        var classesSeen = new HashSet<string>();
        for (var i = 0; i < generator.Count; i++)
        {
            var (record, truth) = generator.Generate(i);
            classesSeen.UnionWith(truth.SynthesisedClasses);
            var d = delineator.Delineate(delineator.MedianBeats(record)!);
            qrs.Add(Math.Abs(d.QrsMs - truth.QrsMs));
            qt.Add(Math.Abs(d.QtMs - truth.QtMs));
            if (truth.SynthesisedClasses.Contains("AF"))
            {
                af++;
                if (double.IsNaN(d.POnset)) afWithoutP++;
            }
            else
            {
                sinus++;
                if (!double.IsNaN(d.POnset)) { sinusWithP++; pr.Add(Math.Abs(d.PrMs - truth.PrMs)); }
            }
        }
        Assert.Equal(SyntheticClasses.All.Order(), classesSeen.Order());
        output.WriteLine($"synthetic seed 200: PR MAE {pr.Average():F1} ms, QRS MAE {qrs.Average():F1} ms, QT MAE {qt.Average():F1} ms; P in {sinusWithP} of {sinus} sinus exams, absent in {afWithoutP} of {af} AF exams");
        Assert.True(pr.Average() <= 10, $"PR MAE {pr.Average():F1} ms");
        Assert.True(qrs.Average() <= 10, $"QRS MAE {qrs.Average():F1} ms");
        Assert.True(qt.Average() <= 20, $"QT MAE {qt.Average():F1} ms");
        // A P wave riding on the previous T at rates above ~120 bpm is reported missing rather than guessed.
        Assert.True(sinusWithP >= 0.9 * sinus, $"P found in {sinusWithP} of {sinus} sinus-rhythm exams");
        Assert.True(afWithoutP >= 0.85 * af, $"P reported absent in {afWithoutP} of {af} AF exams");
    }

    /// <summary>RBBB's terminal R' (V1) and slow, slurred S (I, V6) end the QRS: the true offset is the end of the
    /// slurred S, which a per-lead slope threshold relative to the lead's steepest slope cut short (PTB-XL CRBBB read
    /// 72–104 ms). Seed 300, which no threshold was chosen on, at 500 and at 100 Hz.
    /// At 100 Hz a sample is 10 ms and beats align on the sample grid, so each boundary may move by a sample or two.
    [Theory]
    [InlineData(500, 8, 20)]
    [InlineData(100, 16, 45)]
    public void RBBB_QRS_lasts_to_the_end_of_the_slurred_S(double rateHz, double maximumMeanError, double maximumError)
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 40, Seed = 300, SamplingRateHz = rateHz, PaddedLength = 0 });
        var delineator = new BeatDelineator();
        var errors = new List<(int Exam, double Measured, double True)>();
        for (var i = 0; i < generator.Count; i++)
        {
            var (record, truth) = generator.GenerateWithClasses(i, "RBBB");
            var d = delineator.Delineate(delineator.MedianBeats(record)!);
            errors.Add((i, d.QrsMs, truth.QrsMs));
        }
        var absolute = errors.Select(e => Math.Abs(e.Measured - e.True)).ToArray();
        var worst = errors.OrderByDescending(e => Math.Abs(e.Measured - e.True)).Take(5).Select(e => $"exam {e.Exam}: {e.Measured:F0} ms for {e.True:F0} ms");
        Assert.True(absolute.Average() <= maximumMeanError, $"RBBB QRS MAE {absolute.Average():F1} ms; worst {string.Join(", ", worst)}");
        Assert.True(absolute.Max() <= maximumError, $"worst {string.Join(", ", worst)}");
        Assert.All(errors, e => Assert.True(e.Measured >= 120, $"exam {e.Exam}: RBBB read {e.Measured:F0} ms (true {e.True:F0} ms)"));
    }

    [Fact]
    public void A_flat_record_has_no_median_beat()
    {
        var record = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 1 }).Read(0);
        foreach (var lead in record.Signals) Array.Clear(lead);
        Assert.Null(new BeatDelineator().MedianBeats(record));
    }
}

/// <summary>The handcrafted set on real PTB-XL records 1–400 (401–500 are reserved).</summary>
public class HandcraftedFeaturesOnPtbXlTests
{
    [Fact]
    public void Every_record_extracts_and_the_rate_separates_SBRAD_from_STACH()
    {
        var source = new CodeII.Experiments.Data.PtbXl.PtbXlSource(RepoPaths.Shared("ptbxl"),
            new() { SamplingRateHz = 500, Labels = CodeII.Experiments.Data.PtbXl.PtbXlLabelLevel.Statement, IncludeEcgId = id => id <= 400 });
        var extractor = new HandcraftedFeatureExtractor();
        var table = FeatureTableBuilder.Extract(source, extractor, Environment.ProcessorCount);
        Assert.Equal(source.Count, table.RowCount);
        var names = extractor.FeatureNames.ToList();
        float Feature(int row, string name) => table.Row(row)[names.IndexOf(name)];
        var sbrad = Enumerable.Range(0, table.RowCount).Where(r => table.Labels[r].Contains("SBRAD")).ToArray();
        var stach = Enumerable.Range(0, table.RowCount).Where(r => table.Labels[r].Contains("STACH")).ToArray();
        Assert.NotEmpty(sbrad);
        Assert.NotEmpty(stach);
        Assert.All(sbrad, r => Assert.True(Feature(r, "hr_bpm") < 60, $"SBRAD exam {table.ExamIds[r]} at {Feature(r, "hr_bpm")} bpm"));
        Assert.All(stach, r => Assert.True(Feature(r, "hr_bpm") > 100, $"STACH exam {table.ExamIds[r]} at {Feature(r, "hr_bpm")} bpm"));
        // Nearly every record delineates; QRS durations are physiological.
        var delineated = Enumerable.Range(0, table.RowCount).Count(r => Feature(r, "delineation_missing_flag") == 0);
        Assert.True(delineated >= 0.98 * table.RowCount, $"{delineated} of {table.RowCount} delineated");
        var qrs = Enumerable.Range(0, table.RowCount).Select(r => Feature(r, "qrs_ms")).Where(v => !float.IsNaN(v)).ToArray();
        Assert.InRange(BeatDelineator.Median(qrs.Select(v => (double)v).ToArray()), 70, 120);
    }

    [Fact]
    public void Features_have_documented_units_and_no_made_up_zeros_for_a_flat_record()
    {
        var extractor = new HandcraftedFeatureExtractor();
        Assert.All(extractor.FeatureNames, n => Assert.Matches("_(bpm|ms|mv|mvms|deg|years|flag|count|corr|ratio|lead|share)$", n));
        Assert.Equal(extractor.FeatureNames.Count, extractor.FeatureNames.Distinct().Count());
        var record = new CodeII.Experiments.Data.Synthetic.SyntheticEcgGenerator(new() { Exams = 1 }).Read(0);
        foreach (var lead in record.Signals) Array.Clear(lead);
        var values = new float[extractor.FeatureNames.Count];
        extractor.Extract(record, values);
        var names = extractor.FeatureNames.ToList();
        Assert.Equal(1f, values[names.IndexOf("delineation_missing_flag")]);
        Assert.True(float.IsNaN(values[names.IndexOf("qrs_ms")]));
        Assert.True(float.IsNaN(values[names.IndexOf("hr_bpm")]));
        Assert.Equal((float)record.Age!.Value, values[names.IndexOf("age_years")]);
    }

    [Fact]
    public void Band_energy_shares_sum_to_one_and_a_wide_QRS_moves_energy_to_low_frequencies()
    {
        var generator = new CodeII.Experiments.Data.Synthetic.SyntheticEcgGenerator(new() { Exams = 5, Seed = 8, NoiseScale = 0 });
        var extractor = new HandcraftedFeatureExtractor();
        var names = extractor.FeatureNames.ToList();
        float[] Features(params string[] classes)
        {
            var values = new float[names.Count];
            extractor.Extract(generator.GenerateWithClasses(1, classes).Record, values);
            return values;
        }
        var normal = Features();
        var lbbb = Features("LBBB");
        var shares = new[] { "0p5_5hz", "5_15hz", "15_40hz" }.Select(b => normal[names.IndexOf($"V5_band_{b}_share")]).ToArray();
        Assert.Equal(1, shares.Sum(), 3);
        // A QRS of 120–170 ms has less energy above 15 Hz than one of 70–110 ms.
        Assert.True(lbbb[names.IndexOf("V5_band_15_40hz_share")] < normal[names.IndexOf("V5_band_15_40hz_share")]);
    }
}

public class ColumnMedianTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(12)]
    [InlineData(25)]
    public void Vector_medians_equal_sorting_each_column(int beats)
    {
        var rng = new Random(beats);
        var segments = Enumerable.Range(0, beats).Select(_ => Enumerable.Range(0, 551).Select(_ => (float)Math.Round(rng.NextDouble() * 4 - 2, 2)).ToArray()).ToArray();
        var medians = new double[551];
        BeatDelineator.ColumnMedians(segments, medians, new double[beats]);
        for (var k = 0; k < 551; k++)
        {
            var column = segments.Select(s => (double)s[k]).Order().ToArray();
            var expected = beats % 2 == 1 ? column[beats / 2] : (column[beats / 2 - 1] + column[beats / 2]) / 2;
            Assert.Equal(expected, medians[k]);
        }
    }
}

public class FeatureCatalogueTests
{
    [Fact]
    public void Every_handcrafted_feature_is_documented_with_its_name_in_docs_features_md()
    {
        var catalogue = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "features.md"));
        var extractor = new HandcraftedFeatureExtractor();
        Assert.Contains($"(version {extractor.Version})", catalogue);
        Assert.Contains($"writes {extractor.FeatureNames.Count} values", catalogue);
        foreach (var name in extractor.FeatureNames)
        {
            // Per-lead names are documented once, with {lead} in place of the lead.
            var lead = CodeII.Experiments.Data.StandardLeads.Twelve.FirstOrDefault(l => name.StartsWith(l + "_", StringComparison.Ordinal));
            var documented = lead is null ? name : "{lead}" + name[lead.Length..];
            Assert.True(catalogue.Contains($"`{documented}`"), $"{documented} is not in docs/features.md");
        }
    }
}
