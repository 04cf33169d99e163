using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// The measurements a cardiologist reads off a 12-lead ECG, from the delineated median beat: rhythm and RR statistics,
/// intervals with three QTc corrections, frontal axes, per-lead wave amplitudes, ST level, QRS area and notching,
/// voltage criteria, per-lead signal quality, and age and sex. Names carry their unit as a suffix. What cannot be
/// measured (no P wave in AF, a flat lead) is NaN with an indicator, never zero. Frequency-domain HRV is left out:
/// it is not meaningful on a 10 s recording.
/// </summary>
public sealed class HandcraftedFeatureExtractor : IEcgFeatureExtractor
{
    public const string SetName = "handcrafted";
    public string Name => SetName;
    public int Version => 2;

    static readonly string[] Global =
    [
        "hr_bpm", "rr_mean_ms", "rr_sdnn_ms", "rr_rmssd_ms", "rr_pnn50", "rr_cv", "rr_min_ms", "rr_max_ms",
        // Median absolute successive RR difference over the median RR: near 0 in sinus rhythm, large in AF.
        "rr_irregularity",
        "p_present", "p_duration_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "qtc_framingham_ms",
        "qrs_axis_deg", "p_axis_deg", "t_axis_deg",
        "sokolow_lyon_mv", "cornell_mv", "r_transition_lead", "qrs_notches_max",
        "age_years", "sex_male", "delineation_missing",
    ];

    /// <summary>Bands whose share of the median beat's energy is reported: baseline and T (0.5–5 Hz), P and QRS body
    /// (5–15 Hz), QRS detail and notching (15–40 Hz).</summary>
    static readonly (string Name, double Low, double High)[] Bands = [("0p5_5hz", 0.5, 5), ("5_15hz", 5, 15), ("15_40hz", 15, 40)];
    static readonly string[] SpectralLeads = ["II", "V1", "V5"];

    static readonly string[] PerLead = ["p_amp_mv", "q_amp_mv", "r_amp_mv", "s_amp_mv", "t_amp_mv", "st60_mv", "qrs_area_mvms", "qrs_notches", "quality"];

    readonly BeatDelineator _delineator = new();

    public IReadOnlyList<string> FeatureNames { get; } =
    [
        .. Global,
        .. StandardLeads.Twelve.SelectMany(l => PerLead.Select(f => $"{l}_{f}")),
        .. SpectralLeads.SelectMany(l => Bands.Select(b => $"{l}_band_{b.Name}_share")),
    ];

    public void Extract(EcgRecord record, Span<float> destination)
    {
        if (destination.Length != FeatureNames.Count)
            throw new ArgumentException($"destination has {destination.Length} slots; {Name} writes {FeatureNames.Count}");
        destination.Fill(float.NaN);
        var values = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["age_years"] = record.Age ?? double.NaN,
            ["sex_male"] = record.Sex switch { Sex.Male => 1, Sex.Female => 0, _ => double.NaN },
            ["delineation_missing"] = 1,
        };
        var beats = _delineator.MedianBeats(record);
        if (beats is not null)
        {
            Rhythm(beats, values);
            Spectral(beats, values);
            var d = _delineator.Delineate(beats);
            if (!double.IsNaN(d.QrsOnset))
            {
                values["delineation_missing"] = 0;
                Intervals(d, values);
                Morphology(beats, d, values);
            }
        }
        for (var i = 0; i < FeatureNames.Count; i++)
            if (values.TryGetValue(FeatureNames[i], out var v)) destination[i] = (float)v;
    }

    static void Rhythm(MedianBeats beats, Dictionary<string, double> f)
    {
        if (RrStatistics.FromPeaks(beats.RPeaks, beats.SamplingRateHz) is not { } rr) return;
        f["hr_bpm"] = rr.HeartRateBpm;
        f["rr_mean_ms"] = rr.MeanMs;
        f["rr_min_ms"] = rr.MinMs;
        f["rr_max_ms"] = rr.MaxMs;
        f["rr_sdnn_ms"] = rr.SdnnMs;
        f["rr_cv"] = rr.Cv;
        f["rr_rmssd_ms"] = rr.RmssdMs;
        f["rr_pnn50"] = rr.Pnn50;
        f["rr_irregularity"] = rr.Irregularity;
    }

    static void Intervals(BeatDelineation d, Dictionary<string, double> f)
    {
        f["p_present"] = double.IsNaN(d.POnset) ? 0 : 1;
        f["p_duration_ms"] = d.PDurationMs;
        f["pr_ms"] = d.PrMs;
        f["qrs_ms"] = d.QrsMs;
        f["qt_ms"] = d.QtMs;
        if (!f.TryGetValue("rr_mean_ms", out var rrMs) || double.IsNaN(d.QtMs)) return;
        var rr = rrMs / 1000;
        f["qtc_bazett_ms"] = d.QtMs / Math.Sqrt(rr);
        f["qtc_fridericia_ms"] = d.QtMs / Math.Cbrt(rr);
        // Framingham (Sagie et al. 1992): QTc = QT + 154 ms × (1 − RR).
        f["qtc_framingham_ms"] = d.QtMs + 154 * (1 - rr);
    }

    static void Morphology(MedianBeats beats, BeatDelineation d, Dictionary<string, double> f)
    {
        var fs = beats.SamplingRateHz;
        int At(double seconds) => Math.Clamp(beats.IndexOf(seconds), 0, beats.Length - 1);
        var on = At(d.QrsOnset);
        var off = At(d.QrsOffset);
        var isoelectric = Math.Max(1, (int)Math.Round(0.02 * fs));
        var areas = new Dictionary<string, (double Qrs, double P, double T)>();
        for (var l = 0; l < beats.Leads.Count; l++)
        {
            var name = beats.Leads[l];
            if (StandardLeads.IndexOf(name) < 0) continue;
            var x = beats.Beats[l];
            var baseline = x.AsSpan(Math.Max(0, on - isoelectric), isoelectric).ToArray().Average();
            double Dev(int n) => x[n] - baseline;
            var rIndex = on;
            for (var n = on; n <= off; n++) if (Dev(n) > Dev(rIndex)) rIndex = n;
            double q = 0, s = 0, area = 0;
            for (var n = on; n <= rIndex; n++) q = Math.Min(q, Dev(n));
            for (var n = rIndex; n <= off; n++) s = Math.Min(s, Dev(n));
            for (var n = on; n <= off; n++) area += Dev(n) * 1000 / fs;
            f[$"{name}_q_amp_mv"] = q;
            f[$"{name}_r_amp_mv"] = Math.Max(0, Dev(rIndex));
            f[$"{name}_s_amp_mv"] = s;
            f[$"{name}_qrs_area_mvms"] = area;
            f[$"{name}_qrs_notches"] = Notches(x, on, off, 0.05 * (x.AsSpan(on, off - on + 1).ToArray().Max() - x.AsSpan(on, off - on + 1).ToArray().Min()));
            f[$"{name}_st60_mv"] = Dev(Math.Min(beats.Length - 1, off + (int)Math.Round(0.06 * fs)));
            f[$"{name}_quality"] = beats.BeatCorrelation[l];
            double pArea = double.NaN, tArea = double.NaN;
            if (!double.IsNaN(d.POnset))
            {
                var (pOn, pOff) = (At(d.POnset), At(d.POffset));
                f[$"{name}_p_amp_mv"] = ExtremeDeviation(x, baseline, pOn, pOff);
                pArea = Area(x, baseline, pOn, pOff, fs);
            }
            if (!double.IsNaN(d.TOffset))
            {
                var (tOn, tOff) = (Math.Min(beats.Length - 1, off + (int)Math.Round(0.06 * fs)), At(d.TOffset));
                f[$"{name}_t_amp_mv"] = ExtremeDeviation(x, baseline, tOn, tOff);
                tArea = Area(x, baseline, tOn, tOff, fs);
            }
            areas[name] = (area, pArea, tArea);
        }

        // Frontal axes from net areas in I and aVF (the hexaxial method): atan2(aVF, I), in degrees.
        double Axis(Func<(double Qrs, double P, double T), double> wave) =>
            areas.TryGetValue("I", out var i) && areas.TryGetValue("aVF", out var avf) ? Math.Atan2(wave(avf), wave(i)) * 180 / Math.PI : double.NaN;
        f["qrs_axis_deg"] = Axis(a => a.Qrs);
        f["p_axis_deg"] = Axis(a => a.P);
        f["t_axis_deg"] = Axis(a => a.T);

        double Get(string key) => f.TryGetValue(key, out var v) ? v : double.NaN;
        // Sokolow–Lyon (1949): S in V1 + the larger R in V5 or V6. Cornell (Casale et al. 1985): R in aVL + S in V3.
        f["sokolow_lyon_mv"] = -Get("V1_s_amp_mv") + Math.Max(Get("V5_r_amp_mv"), Get("V6_r_amp_mv"));
        f["cornell_mv"] = Get("aVL_r_amp_mv") - Get("V3_s_amp_mv");
        // R-wave progression: the first precordial lead where R exceeds |S| (normally V3 or V4; late in LBBB and anterior MI).
        var transition = Enumerable.Range(1, 6).FirstOrDefault(k => Get($"V{k}_r_amp_mv") > -Get($"V{k}_s_amp_mv"));
        f["r_transition_lead"] = transition == 0 ? 7 : transition;
        f["qrs_notches_max"] = StandardLeads.Twelve.Select(l => Get($"{l}_qrs_notches")).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();
    }

    /// <summary>Each band's share of the median beat's energy from 1 to 40 Hz, by the DFT at 1 Hz resolution (the beat
    /// zero-padded to one second), each bin by Goertzel's recurrence: one multiply-add per sample.</summary>
    static void Spectral(MedianBeats beats, Dictionary<string, double> f)
    {
        var fs = beats.SamplingRateHz;
        foreach (var lead in SpectralLeads)
        {
            var x = beats.Lead(lead);
            if (x is null) continue;
            var mean = x.Average();
            var power = new double[41];
            for (var k = 1; k <= 40 && k < fs / 2; k++)
            {
                var coefficient = 2 * Math.Cos(2 * Math.PI * k / fs);
                double s1 = 0, s2 = 0;
                for (var n = 0; n < x.Length; n++)
                {
                    var s0 = x[n] - mean + coefficient * s1 - s2;
                    s2 = s1;
                    s1 = s0;
                }
                power[k] = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
            }
            var total = power.Skip(1).Sum();
            foreach (var (name, low, high) in Bands)
            {
                var band = Enumerable.Range(1, 40).Where(k => k >= low && k < high).Sum(k => power[k]);
                f[$"{lead}_band_{name}_share"] = total > 0 ? band / total : double.NaN;
            }
        }
    }

    /// <summary>Local extrema inside the QRS beyond the first peak: a notched or fragmented QRS has more.</summary>
    static double Notches(double[] x, int from, int to, double minimumSwing)
    {
        var extrema = 0;
        var direction = 0;
        var lastExtreme = x[from];
        for (var n = from + 1; n <= to; n++)
        {
            var step = x[n] - lastExtreme;
            if (direction >= 0 && step < -minimumSwing) { extrema += direction > 0 ? 1 : 0; direction = -1; lastExtreme = x[n]; }
            else if (direction <= 0 && step > minimumSwing) { extrema += direction < 0 ? 1 : 0; direction = 1; lastExtreme = x[n]; }
            else if (direction > 0 && x[n] > lastExtreme || direction < 0 && x[n] < lastExtreme) lastExtreme = x[n];
        }
        // A monophasic R has one turning point and a normal qRs two; count the turns beyond those.
        return Math.Max(0, extrema - 2);
    }

    static double ExtremeDeviation(double[] x, double baseline, int from, int to)
    {
        var best = 0.0;
        for (var n = from; n <= to; n++) if (Math.Abs(x[n] - baseline) > Math.Abs(best)) best = x[n] - baseline;
        return best;
    }

    static double Area(double[] x, double baseline, int from, int to, double fs)
    {
        double area = 0;
        for (var n = from; n <= to; n++) area += (x[n] - baseline) * 1000 / fs;
        return area;
    }
}
