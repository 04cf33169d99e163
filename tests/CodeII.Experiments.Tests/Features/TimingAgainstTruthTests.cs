using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using Xunit.Abstractions;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// Where the detector and the delineator put their points in time, signed, against the generator's truth: the ±75 ms
/// window of beat matching and the interval errors (durations) of <see cref="BeatDelineatorTests"/> would both let a
/// detector that is consistently 40 ms late through. Seed 400, which no threshold was chosen on. Each truth beat is
/// paired here with the nearest detection within 75 ms (written in the test, not through <see cref="BeatMatching"/>).
/// </summary>
public class TimingAgainstTruthTests(ITestOutputHelper output)
{
    const int Exams = 200;

    /// <summary>For each sinus (non-ventricular) truth beat, its index and the nearest detection within 75 ms.</summary>
    static IEnumerable<(int Beat, int Detection)> Pairs(SyntheticTruth truth, int[] detections, double fs)
    {
        var window = 0.075 * fs;
        var ventricular = truth.VentricularBeats.ToHashSet();
        for (var k = 0; k < truth.RPeakSamples.Length; k++)
        {
            if (ventricular.Contains(k) || detections.Length == 0) continue;
            var nearest = detections.MinBy(d => Math.Abs(d - truth.RPeakSamples[k]));
            if (Math.Abs(nearest - truth.RPeakSamples[k]) <= window) yield return (k, nearest);
        }
    }

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void Detections_sit_on_the_generators_R_peaks_within_10_ms_on_average(double fs)
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = Exams, Seed = 400, SamplingRateHz = fs });
        var detector = new RPeakDetector();
        var offsetsMs = new List<double>();
        for (var i = 0; i < generator.Count; i++)
        {
            var (record, truth) = generator.Generate(i);
            var detections = detector.Detect(record.Signals, record.RecordedSamples, fs);
            offsetsMs.AddRange(Pairs(truth, detections, fs).Select(p => (p.Detection - truth.RPeakSamples[p.Beat]) / fs * 1000));
        }
        Assert.True(offsetsMs.Count > 1000, $"{offsetsMs.Count} beats paired");
        output.WriteLine($"{fs} Hz: {offsetsMs.Count} beats, detection − R peak mean {offsetsMs.Average():F1} ms, mean |·| {offsetsMs.Average(Math.Abs):F1} ms");
        Assert.InRange(offsetsMs.Average(), -10, 10);
    }

    [Fact]
    public void Delineated_boundaries_sit_on_the_generators_within_10_ms_on_average()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = Exams, Seed = 400 });
        var detector = new RPeakDetector();
        var delineator = new BeatDelineator();
        var errors = new Dictionary<string, List<double>> { ["P onset"] = [], ["QRS onset"] = [], ["QRS offset"] = [], ["T offset"] = [] };
        for (var i = 0; i < generator.Count; i++)
        {
            var (record, truth) = generator.Generate(i);
            var fs = record.SamplingRateHz;
            if (delineator.MedianBeats(record) is not { } beats) continue;
            var d = delineator.Delineate(beats);
            // The delineation is in seconds from the median beat's R peak, which is each detection's point: a boundary
            // of beat k sits at detection + boundary. The truth's boundaries are its QRS onset and the sinus beats' PR,
            // QRS and QT from there.
            foreach (var (k, detection) in Pairs(truth, detector.Detect(record.Signals, record.RecordedSamples, fs), fs))
            {
                var onset = truth.QrsOnsetSamples[k] / fs;
                void Add(string boundary, double found, double expected)
                {
                    if (!double.IsNaN(found) && !double.IsNaN(expected)) errors[boundary].Add((detection / fs + found - expected) * 1000);
                }
                Add("P onset", d.POnset, onset - truth.PrMs / 1000);
                Add("QRS onset", d.QrsOnset, onset);
                Add("QRS offset", d.QrsOffset, onset + truth.QrsMs / 1000);
                Add("T offset", d.TOffset, onset + truth.QtMs / 1000);
            }
        }
        foreach (var (boundary, e) in errors)
        {
            Assert.True(e.Count > 500, $"{boundary}: {e.Count} beats");
            output.WriteLine($"{boundary}: {e.Count} beats, found − true mean {e.Average():F1} ms, mean |·| {e.Average(Math.Abs):F1} ms");
        }
        foreach (var (boundary, e) in errors) Assert.True(Math.Abs(e.Average()) <= 10, $"{boundary}: mean signed error {e.Average():F1} ms");
    }
}
