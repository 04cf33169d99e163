using System.Runtime.Intrinsics;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// The measurements a cardiologist reads off a 12-lead ECG, from the delineated median beat: rhythm and RR statistics,
/// intervals with three QTc corrections, frontal axes, per-lead wave amplitudes, ST level, QRS area and notching,
/// voltage criteria, per-lead signal quality, spectral and wavelet band energies, and age and sex. Names carry their unit as a suffix. What cannot be
/// measured (no P wave in AF, a flat lead) is NaN with an indicator, never zero. Frequency-domain HRV is left out:
/// it is not meaningful on a 10 s recording.
/// </summary>
public sealed class HandcraftedFeatureExtractor : IEcgFeatureExtractor
{
    public const string SetName = "handcrafted";
    public string Name => SetName;
    public int Version => 5;

    static readonly string[] Global =
    [
        "hr_bpm", "rr_mean_ms", "rr_sdnn_ms", "rr_rmssd_ms", "rr_pnn50_share", "rr_cv_ratio", "rr_min_ms", "rr_max_ms",
        // Median absolute successive RR difference over the median RR: near 0 in sinus rhythm, large in AF.
        "rr_irregularity_ratio",
        "p_present_flag", "p_duration_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "qtc_framingham_ms",
        "qrs_axis_deg", "p_axis_deg", "t_axis_deg",
        "sokolow_lyon_mv", "cornell_mv", "r_transition_lead", "qrs_notches_max_count",
        "age_years", "sex_male_flag", "delineation_missing_flag",
    ];

    /// <summary>Bands whose share of the median beat's energy is reported: baseline and T (0.5–5 Hz), P and QRS body
    /// (5–15 Hz), QRS detail and notching (15–40 Hz).</summary>
    static readonly (string Name, double Low, double High)[] Bands = [("0p5_5hz", 0.5, 5), ("5_15hz", 5, 15), ("15_40hz", 15, 40)];
    static readonly string[] SpectralLeads = ["II", "V1", "V5"];
    const int MaximumBinHz = 40;

    enum LeadFeature { PAmp, QAmp, RAmp, SAmp, TAmp, St60, QrsArea, QrsNotches, Quality }
    static readonly string[] PerLead = ["p_amp_mv", "q_amp_mv", "r_amp_mv", "s_amp_mv", "t_amp_mv", "st60_mv", "qrs_area_mvms", "qrs_notches_count", "quality_corr"];

    readonly BeatDelineator _delineator = new();

    public IReadOnlyList<string> FeatureNames => Names;

    static readonly string[] Names =
    [
        .. Global,
        .. StandardLeads.Twelve.SelectMany(l => PerLead.Select(f => $"{l}_{f}")),
        .. SpectralLeads.SelectMany(l => Bands.Select(b => $"{l}_band_{b.Name}_share")),
        .. SpectralLeads.SelectMany(l => WaveletBands.Names.Select(b => $"{l}_wavelet_{b}_share")),
    ];

    static readonly Dictionary<string, int> SlotOf = Names.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
    static readonly int BandSlots = Array.IndexOf(Names, $"{SpectralLeads[0]}_band_{Bands[0].Name}_share");
    static readonly int WaveletSlots = BandSlots + SpectralLeads.Length * Bands.Length;

    /// <summary>The destination span with named writes; unmeasured slots keep their NaN.</summary>
    readonly ref struct Slots(Span<float> values)
    {
        readonly Span<float> _values = values;
        public double this[string name]
        {
            get => _values[SlotOf[name]];
            set => _values[SlotOf[name]] = (float)value;
        }
        public double this[int standardLead, LeadFeature feature]
        {
            get => _values[Global.Length + standardLead * PerLead.Length + (int)feature];
            set => _values[Global.Length + standardLead * PerLead.Length + (int)feature] = (float)value;
        }
        public void Set(int slot, double value) => _values[slot] = (float)value;
    }

    public void Extract(EcgRecord record, Span<float> destination)
    {
        if (destination.Length != Names.Length)
            throw new ArgumentException($"destination has {destination.Length} slots; {Name} writes {Names.Length}");
        destination.Fill(float.NaN);
        var f = new Slots(destination);
        f["age_years"] = record.Age ?? double.NaN;
        f["sex_male_flag"] = record.Sex switch { Sex.Male => 1, Sex.Female => 0, _ => double.NaN };
        f["delineation_missing_flag"] = 1;
        var beats = _delineator.MedianBeats(record);
        if (beats is null) return;
        Rhythm(beats, f);
        BandEnergies(beats, f);
        var d = _delineator.Delineate(beats);
        if (double.IsNaN(d.QrsOnset)) return;
        f["delineation_missing_flag"] = 0;
        Intervals(d, f);
        Morphology(beats, d, f);
    }

    static void Rhythm(MedianBeats beats, Slots f)
    {
        if (RrStatistics.FromPeaks(beats.RPeaks, beats.RecordSamplingRateHz) is not { } rr) return;
        f["hr_bpm"] = rr.HeartRateBpm;
        f["rr_mean_ms"] = rr.MeanMs;
        f["rr_min_ms"] = rr.MinMs;
        f["rr_max_ms"] = rr.MaxMs;
        f["rr_sdnn_ms"] = rr.SdnnMs;
        f["rr_cv_ratio"] = rr.Cv;
        f["rr_rmssd_ms"] = rr.RmssdMs;
        f["rr_pnn50_share"] = rr.Pnn50;
        f["rr_irregularity_ratio"] = rr.Irregularity;
    }

    static void Intervals(BeatDelineation d, Slots f)
    {
        f["p_present_flag"] = double.IsNaN(d.POnset) ? 0 : 1;
        f["p_duration_ms"] = d.PDurationMs;
        f["pr_ms"] = d.PrMs;
        f["qrs_ms"] = d.QrsMs;
        f["qt_ms"] = d.QtMs;
        var rr = f["rr_mean_ms"] / 1000;
        if (double.IsNaN(rr) || double.IsNaN(d.QtMs)) return;
        f["qtc_bazett_ms"] = d.QtMs / Math.Sqrt(rr);
        f["qtc_fridericia_ms"] = d.QtMs / Math.Cbrt(rr);
        // Framingham (Sagie et al. 1992): QTc = QT + 154 ms × (1 − RR).
        f["qtc_framingham_ms"] = d.QtMs + 154 * (1 - rr);
    }

    static void Morphology(MedianBeats beats, BeatDelineation d, Slots f)
    {
        var fs = beats.SamplingRateHz;
        int At(double seconds) => Math.Clamp(beats.IndexOf(seconds), 0, beats.Length - 1);
        var on = At(d.QrsOnset);
        var off = At(d.QrsOffset);
        var j60 = Math.Min(beats.Length - 1, off + (int)Math.Round(0.06 * fs));
        var isoelectric = Math.Max(1, (int)Math.Round(0.02 * fs));
        Span<(double Qrs, double P, double T)> areas = stackalloc (double, double, double)[StandardLeads.Twelve.Count];
        areas.Fill((double.NaN, double.NaN, double.NaN));
        var maxNotches = double.NaN;
        for (var l = 0; l < beats.Leads.Count; l++)
        {
            var lead = StandardLeads.IndexOf(beats.Leads[l]);
            // A dead lead (electrode off: its median beat does not vary, so its beat correlation is undefined) shows no
            // wave to measure; its morphology stays NaN rather than a made-up 0 mV.
            if (lead < 0 || double.IsNaN(beats.BeatCorrelation[l])) continue;
            var x = beats.Beats[l];
            var baseline = Mean(x, Math.Max(0, on - isoelectric), on - 1);
            var rIndex = on;
            for (var n = on; n <= off; n++) if (x[n] > x[rIndex]) rIndex = n;
            double q = 0, s = 0, low = x[on], high = x[on];
            for (var n = on; n <= rIndex; n++) q = Math.Min(q, x[n] - baseline);
            for (var n = rIndex; n <= off; n++) s = Math.Min(s, x[n] - baseline);
            for (var n = on; n <= off; n++) { low = Math.Min(low, x[n]); high = Math.Max(high, x[n]); }
            var area = Area(x, baseline, on, off, fs);
            var notches = Notches(x, on, off, 0.05 * (high - low));
            f[lead, LeadFeature.QAmp] = q;
            f[lead, LeadFeature.RAmp] = Math.Max(0, x[rIndex] - baseline);
            f[lead, LeadFeature.SAmp] = s;
            f[lead, LeadFeature.QrsArea] = area;
            f[lead, LeadFeature.QrsNotches] = notches;
            f[lead, LeadFeature.St60] = x[j60] - baseline;
            f[lead, LeadFeature.Quality] = beats.BeatCorrelation[l];
            maxNotches = double.IsNaN(maxNotches) ? notches : Math.Max(maxNotches, notches);
            areas[lead] = (area, double.NaN, double.NaN);
            if (!double.IsNaN(d.POnset))
            {
                var (pOn, pOff) = (At(d.POnset), At(d.POffset));
                f[lead, LeadFeature.PAmp] = ExtremeDeviation(x, baseline, pOn, pOff);
                areas[lead].P = Area(x, baseline, pOn, pOff, fs);
            }
            if (!double.IsNaN(d.TOffset))
            {
                var tOff = At(d.TOffset);
                f[lead, LeadFeature.TAmp] = ExtremeDeviation(x, baseline, j60, tOff);
                areas[lead].T = Area(x, baseline, j60, tOff, fs);
            }
        }

        // Frontal axes from net areas in I and aVF (the hexaxial method): atan2(aVF, I), in degrees; NaN when either
        // lead is missing, since atan2 of NaN is NaN.
        var (i, avf) = (areas[StandardLeads.IndexOf("I")], areas[StandardLeads.IndexOf("aVF")]);
        f["qrs_axis_deg"] = Math.Atan2(avf.Qrs, i.Qrs) * 180 / Math.PI;
        f["p_axis_deg"] = Math.Atan2(avf.P, i.P) * 180 / Math.PI;
        f["t_axis_deg"] = Math.Atan2(avf.T, i.T) * 180 / Math.PI;

        static double Wave(Slots f, string lead, LeadFeature wave) => f[StandardLeads.IndexOf(lead), wave];
        // Sokolow–Lyon (1949): S in V1 + the larger R in V5 or V6. Cornell (Casale et al. 1985): R in aVL + S in V3.
        f["sokolow_lyon_mv"] = -Wave(f, "V1", LeadFeature.SAmp) + Math.Max(Wave(f, "V5", LeadFeature.RAmp), Wave(f, "V6", LeadFeature.RAmp));
        f["cornell_mv"] = Wave(f, "aVL", LeadFeature.RAmp) - Wave(f, "V3", LeadFeature.SAmp);
        // R-wave progression: the first precordial lead where R exceeds |S| (normally V3 or V4; late in LBBB and anterior MI).
        var transition = 7;
        for (var k = 1; k <= 6; k++)
            if (Wave(f, $"V{k}", LeadFeature.RAmp) > -Wave(f, $"V{k}", LeadFeature.SAmp)) { transition = k; break; }
        f["r_transition_lead"] = transition;
        f["qrs_notches_max_count"] = maxNotches;
    }

    /// <summary>
    /// Two views of where each median beat's energy lies. Spectral: each band's share of the energy from 1 to 40 Hz,
    /// by the DFT at 1 Hz resolution (the beat zero-padded to one second); each bin by Goertzel's recurrence, four
    /// bins per vector so the recurrences overlap. Wavelet: each octave's share of the Daubechies-4 decomposition.
    /// </summary>
    static void BandEnergies(MedianBeats beats, Slots f)
    {
        var fs = beats.SamplingRateHz;
        var bins = Math.Min(MaximumBinHz, (int)Math.Ceiling(fs / 2) - 1);
        Span<double> power = stackalloc double[MaximumBinHz + 1];
        for (var s = 0; s < SpectralLeads.Length; s++)
        {
            var x = beats.Lead(SpectralLeads[s]);
            if (x is null) continue;
            GoertzelPower(x, fs, power[..(bins + 1)]);
            var total = 0.0;
            for (var k = 1; k <= bins; k++) total += power[k];
            for (var b = 0; b < Bands.Length; b++)
            {
                var band = 0.0;
                for (var k = 1; k <= bins; k++)
                    if (k >= Bands[b].Low && k < Bands[b].High) band += power[k];
                f.Set(BandSlots + s * Bands.Length + b, total > 0 ? band / total : double.NaN);
            }
            var shares = WaveletBands.Shares(x, fs);
            for (var b = 0; b < shares.Length; b++)
                f.Set(WaveletSlots + s * shares.Length + b, shares[b]);
        }
    }

    /// <summary>DFT power of the mean-removed signal at k Hz for every k in [1, power.Length), at the signal's sampling rate.</summary>
    static void GoertzelPower(double[] x, double fs, Span<double> power)
    {
        var mean = x.Average();
        var vectors = (power.Length - 1 + 3) / 4;
        Span<Vector256<double>> coefficient = stackalloc Vector256<double>[vectors];
        Span<Vector256<double>> s1 = stackalloc Vector256<double>[vectors];
        Span<Vector256<double>> s2 = stackalloc Vector256<double>[vectors];
        Span<double> c = stackalloc double[4];
        for (var v = 0; v < vectors; v++)
        {
            for (var lane = 0; lane < 4; lane++) c[lane] = 2 * Math.Cos(2 * Math.PI * (1 + 4 * v + lane) / fs);
            coefficient[v] = Vector256.Create<double>(c);
        }
        s1.Clear();
        s2.Clear();
        foreach (var sample in x)
        {
            var input = Vector256.Create(sample - mean);
            for (var v = 0; v < vectors; v++)
            {
                var s0 = input + coefficient[v] * s1[v] - s2[v];
                s2[v] = s1[v];
                s1[v] = s0;
            }
        }
        for (var v = 0; v < vectors; v++)
        {
            var p = s1[v] * s1[v] + s2[v] * s2[v] - coefficient[v] * s1[v] * s2[v];
            for (var lane = 0; lane < 4 && 1 + 4 * v + lane < power.Length; lane++) power[1 + 4 * v + lane] = p[lane];
        }
    }

    static double Mean(double[] x, int from, int to)
    {
        if (to < from) return x[from];
        var sum = 0.0;
        for (var n = from; n <= to; n++) sum += x[n];
        return sum / (to - from + 1);
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
