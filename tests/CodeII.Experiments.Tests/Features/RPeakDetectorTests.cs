using CodeII.Experiments.Data.Wfdb;
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
            var c = BeatMatching.Compare(detected.Select(d => (long)d).ToArray(), truth.RPeakSamples.Select(r => (long)r).ToArray(), record.SamplingRateHz);
            (truePositives, falseNegatives, falsePositives) = (truePositives + c.TruePositives, falseNegatives + c.FalseNegatives, falsePositives + c.FalsePositives);
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

    [Fact]
    public void Beat_matching_pairs_within_the_window_and_counts_misses_and_extras()
    {
        // Reference beats at 100, 500, 900; detections at 110 (match), 300 (extra), 860 (40 samples off: outside ±27 at 360 Hz).
        var c = BeatMatching.Compare([110, 300, 860], [100, 500, 900], 360);
        Assert.Equal((1, 2, 2), (c.TruePositives, c.FalseNegatives, c.FalsePositives));
        Assert.Equal(1 / 3.0, c.Sensitivity, 12);
        Assert.Equal(1 / 3.0, c.PositivePredictivity, 12);
        // A detection beyond the annotated span (after the last reference beat + window) is not held against the detector.
        var beyond = BeatMatching.Compare([110, 2000], [100], 360);
        Assert.Equal((1, 0, 0), (beyond.TruePositives, beyond.FalseNegatives, beyond.FalsePositives));
    }

    [Fact]
    public void Detects_every_annotated_beat_of_MIT_BIH_record_100()
    {
        var record = CodeII.Experiments.Data.Wfdb.WfdbRecordReader.Read(RepoPaths.Shared("wfdb-samples", "100"));
        var mv = record.ToMillivolts();
        var detected = new RPeakDetector().Detect(mv, new Range(0, record.SampleCount), 360).Select(p => (long)p).ToArray();
        var beats = CodeII.Experiments.Data.Wfdb.WfdbAnnotationReader.Read(RepoPaths.Shared("wfdb-samples", "100.atr"))
            .Where(a => a.IsBeat).Select(a => a.Sample).ToArray();
        var c = BeatMatching.Compare(detected, beats, 360);
        Assert.True(c.Sensitivity >= 0.998, $"Se {c.Sensitivity:P2}");
        Assert.True(c.PositivePredictivity >= 0.998, $"+P {c.PositivePredictivity:P2}");
    }

    [Theory]
    [InlineData(500)]
    [InlineData(100)]
    public void At_30_bpm_a_large_P_wave_with_first_degree_block_and_the_T_wave_are_not_beats(int rate)
    {
        // PTB-XL 191: the cardiologist reports sinus bradycardia with first-degree AV block and no ectopic beat, so every
        // QRS has one P wave well before it and the rate is under 60 bpm: no RR interval can be shorter than a second.
        // Its P waves (320 ms before R) and T waves (380 ms after) are large; taking either for a beat halves an RR.
        var source = new CodeII.Experiments.Data.PtbXl.PtbXlSource(RepoPaths.Shared("ptbxl"),
            new() { SamplingRateHz = rate, IncludeEcgId = id => id == 191 });
        var record = source.Read(0);
        var peaks = new RPeakDetector().Detect(record.Signals, record.RecordedSamples, record.SamplingRateHz);
        Assert.True(peaks.Length >= 4, $"{peaks.Length} beats");
        var shortest = peaks.Zip(peaks.Skip(1), (a, b) => (b - a) / record.SamplingRateHz).Min();
        Assert.True(shortest > 1.0, $"shortest RR {shortest:F2} s among beats at {string.Join(", ", peaks.Select(p => (p / record.SamplingRateHz).ToString("F2")))} s");
    }
}

public class FlutterExclusionTests
{
    static WfdbAnnotation At(long sample, int code) => new(sample, code, 0, 0, 0, "");

    [Fact]
    public void Unmatched_detections_inside_annotated_ventricular_flutter_are_excluded_not_counted_false()
    {
        // N at 100 and 500; flutter from '[' at 900 to ']' at 1300 with '!' waves at 1000 and 1100; N at 1700.
        const int normal = 1, flutterWave = 31, open = 32, close = 33;
        var reference = ReferenceBeats.FromAnnotations([
            At(100, normal), At(500, normal), At(900, open), At(1000, flutterWave), At(1100, flutterWave), At(1300, close), At(1700, normal)]);
        Assert.Equal([100L, 500, 1700], reference.Beats);
        Assert.Equal([(900L, 1300L)], reference.FlutterEpisodes);

        // Detections: the three beats, two on flutter waves (excluded), one at 1500 after the episode and one at 300
        // before it (both false).
        long[] detected = [100, 300, 500, 1000, 1100, 1500, 1700];
        var c = BeatMatching.Compare(detected, reference, 360);
        Assert.Equal((3, 0, 2, 2), (c.TruePositives, c.FalseNegatives, c.FalsePositives, c.ExcludedDetections));
        // Without the episode the same detections on flutter waves are false positives.
        var plain = BeatMatching.Compare(detected, reference.Beats, 360);
        Assert.Equal((3, 0, 4, 0), (plain.TruePositives, plain.FalseNegatives, plain.FalsePositives, plain.ExcludedDetections));
    }

    [Fact]
    public void An_episode_left_open_lasts_to_the_end_and_non_conducted_P_waves_are_not_beats()
    {
        const int normal = 1, open = 32, nonConductedP = 37;
        var reference = ReferenceBeats.FromAnnotations([At(100, normal), At(200, nonConductedP), At(900, open)], recordEnd: 5000);
        Assert.Equal([100L], reference.Beats);
        Assert.Equal([(900L, 5000L)], reference.FlutterEpisodes);
    }
}
