using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// The walking skeleton's feature set: heart rate and RR statistics from <see cref="RPeakDetector"/>, amplitude
/// statistics of each lead's median beat, and the median beat of II, V1 and V6 averaged in 40 ms windows,
/// which carries P-wave timing and QRS shape without any delineation.
/// </summary>
public sealed class BasicFeatureExtractor : IEcgFeatureExtractor
{
    public const string SetName = "basic";
    public string Name => SetName;
    // 2: the R-peak detector computes its slope energy in single precision.
    public int Version => 4;

    static readonly string[] RhythmFeatures = ["hr_bpm", "rr_mean_ms", "rr_sd_ms", "rr_rmssd_ms", "rr_min_ms", "rr_max_ms", "rr_cv_ratio"];
    static readonly string[] LeadStatistics = ["beat_max_mv", "beat_min_mv", "beat_range_mv", "signal_sd_mv"];
    static readonly string[] TemplateLeads = ["II", "V1", "V6"];

    const double BeatBeforeSeconds = 0.40;
    const double BeatAfterSeconds = 0.40;
    const double TemplateWindowSeconds = 0.04;
    static readonly int TemplateWindows = (int)Math.Round((BeatBeforeSeconds + BeatAfterSeconds) / TemplateWindowSeconds);

    /// <summary>Subtracting a 0.6 s moving average removes baseline wander before beats are averaged.</summary>
    const double BaselineWindowSeconds = 0.6;

    readonly RPeakDetector _detector = new();

    public IReadOnlyList<string> FeatureNames { get; } = BuildNames();

    static string[] BuildNames()
    {
        var names = new List<string>(RhythmFeatures);
        foreach (var lead in StandardLeads.Twelve)
            names.AddRange(LeadStatistics.Select(s => $"{lead}_{s}"));
        foreach (var lead in TemplateLeads)
            for (var w = 0; w < TemplateWindows; w++)
            {
                var fromMs = (int)Math.Round((-BeatBeforeSeconds + w * TemplateWindowSeconds) * 1000);
                names.Add($"{lead}_beat_{(fromMs < 0 ? "m" : "p")}{Math.Abs(fromMs)}ms_mv");
            }
        return names.ToArray();
    }

    public void Extract(EcgRecord record, Span<float> destination)
    {
        if (destination.Length != FeatureNames.Count)
            throw new ArgumentException($"destination has {destination.Length} slots; {Name} writes {FeatureNames.Count}");
        destination.Fill(float.NaN);
        var leadIndex = StandardLeads.Twelve.Select(l => IndexOfLead(record, l)).ToArray();
        var available = leadIndex.Where(i => i >= 0).Select(i => record.Signals[i]).ToArray();
        if (available.Length == 0) return;

        var fs = record.SamplingRateHz;
        var peaks = _detector.Detect(available, record.RecordedSamples, fs);
        WriteRhythm(peaks, fs, destination);

        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var before = (int)Math.Round(BeatBeforeSeconds * fs);
        var after = (int)Math.Round(BeatAfterSeconds * fs);
        var beats = peaks.Where(p => p - before >= start && p + after < start + length).ToArray();
        var detrended = new double[length];
        var baseline = new double[length];
        var slot = RhythmFeatures.Length;
        var templates = new Dictionary<string, double[]>();
        for (var l = 0; l < StandardLeads.Twelve.Count; l++, slot += LeadStatistics.Length)
        {
            if (leadIndex[l] < 0) continue;
            var signal = record.Signals[leadIndex[l]].AsSpan(start, length);
            RPeakDetector.MovingAverage<float>(signal, (int)Math.Round(BaselineWindowSeconds * fs), baseline);
            for (var n = 0; n < length; n++) detrended[n] = signal[n] - baseline[n];
            destination[slot + 3] = (float)StandardDeviation(detrended);
            if (beats.Length == 0) continue;
            var median = MedianBeat(detrended, beats.Select(b => b - start).ToArray(), before, after);
            var max = median.Max();
            var min = median.Min();
            // A dead lead (electrode off) has a flat median beat: no beat to measure, so its beat features stay NaN.
            if (max == min) continue;
            destination[slot] = (float)max;
            destination[slot + 1] = (float)min;
            destination[slot + 2] = (float)(max - min);
            templates[StandardLeads.Twelve[l]] = median;
        }

        var windowSamples = (int)Math.Round(TemplateWindowSeconds * fs);
        foreach (var lead in TemplateLeads)
        {
            if (templates.TryGetValue(lead, out var median))
                for (var w = 0; w < TemplateWindows; w++)
                    destination[slot + w] = (float)median.AsSpan(w * windowSamples, windowSamples).ToArray().Average();
            slot += TemplateWindows;
        }
    }

    static int IndexOfLead(EcgRecord record, string lead)
    {
        for (var i = 0; i < record.Leads.Count; i++)
            if (string.Equals(record.Leads[i], lead, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    static void WriteRhythm(int[] peaks, double fs, Span<float> destination)
    {
        if (RrStatistics.FromPeaks(peaks, fs) is not { } rr) return;
        destination[0] = (float)rr.HeartRateBpm;
        destination[1] = (float)rr.MeanMs;
        destination[2] = (float)rr.SdnnMs;
        destination[3] = (float)rr.RmssdMs;
        destination[4] = (float)rr.MinMs;
        destination[5] = (float)rr.MaxMs;
        destination[6] = (float)rr.Cv;
    }

    /// <summary>Sample-wise median across beats: robust to an ectopic or noisy beat.</summary>
    static double[] MedianBeat(double[] signal, int[] beats, int before, int after)
    {
        var template = new double[before + after];
        var column = new double[beats.Length];
        for (var k = 0; k < template.Length; k++)
        {
            for (var b = 0; b < beats.Length; b++) column[b] = signal[beats[b] - before + k];
            template[k] = BeatDelineator.MedianInPlace(column);
        }
        return template;
    }

    internal static double StandardDeviation(ReadOnlySpan<double> values)
    {
        if (values.Length < 2) return double.NaN;
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        return Math.Sqrt(squares / (values.Length - 1));
    }
}
