using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

public class RPeakDetectorTests
{
    [Fact]
    public void Finds_the_synthesised_beats_across_all_classes_with_noise()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 300, Seed = 21 });
        var detector = new RPeakDetector();
        int truePositives = 0, falsePositives = 0, falseNegatives = 0;
        for (var i = 0; i < g.Count; i++)
        {
            var (record, truth) = g.Generate(i);
            var detected = detector.Detect(record.Signals, record.RecordedSamples, record.SamplingRateHz);
            // 150 ms match window, as in the ANSI/AAMI EC57 beat-detection standard.
            var window = (int)(0.075 * record.SamplingRateHz);
            var matched = new bool[detected.Length];
            foreach (var r in truth.RPeakSamples)
            {
                var k = Array.FindIndex(detected, d => Math.Abs(d - r) <= window);
                if (k >= 0 && !matched[k]) { matched[k] = true; truePositives++; }
                else falseNegatives++;
            }
            // Beats cut by the record's edges are not in the truth; do not count detections there against the detector.
            var first = truth.QrsOnsetSamples.DefaultIfEmpty(0).First() - window;
            var last = truth.RPeakSamples.DefaultIfEmpty(int.MaxValue).Last() + window;
            falsePositives += detected.Where((d, k) => !matched[k] && d > first && d < last).Count();
        }
        var sensitivity = truePositives / (double)(truePositives + falseNegatives);
        var ppv = truePositives / (double)(truePositives + falsePositives);
        Assert.True(sensitivity >= 0.995, $"sensitivity {sensitivity:P2}");
        Assert.True(ppv >= 0.995, $"positive predictivity {ppv:P2}");
    }

    [Fact]
    public void Heart_rate_feature_matches_the_synthesised_rate()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 200, Seed = 22 });
        var extractor = new BasicFeatureExtractor();
        var values = new float[extractor.FeatureNames.Count];
        var hr = extractor.FeatureNames.ToList().IndexOf("hr_bpm");
        var errors = new List<double>();
        for (var i = 0; i < g.Count; i++)
        {
            var (record, truth) = g.Generate(i);
            extractor.Extract(record, values);
            errors.Add(Math.Abs(values[hr] - truth.HeartRateBpm));
        }
        Assert.True(errors.Average() < 1.0, $"heart-rate MAE {errors.Average():F2} bpm");
    }

    [Fact]
    public void A_flat_record_gives_no_beats_and_missing_rhythm_features_not_zeros()
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 1, Seed = 1 });
        var record = g.Read(0);
        foreach (var lead in record.Signals) Array.Clear(lead);
        Assert.Empty(new RPeakDetector().Detect(record.Signals, record.RecordedSamples, record.SamplingRateHz));
        var extractor = new BasicFeatureExtractor();
        var values = new float[extractor.FeatureNames.Count];
        extractor.Extract(record, values);
        Assert.True(float.IsNaN(values[0]));
        Assert.True(float.IsNaN(values[extractor.FeatureNames.ToList().IndexOf("II_beat_max_mv")]));
    }
}
