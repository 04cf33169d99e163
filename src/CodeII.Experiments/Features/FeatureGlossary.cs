using System.Globalization;
using System.Text.RegularExpressions;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>What a feature measures, and in what unit, for a reader of a report.</summary>
/// <param name="Meaning">As docs/features.md writes it: Markdown, with names in backticks.</param>
public sealed record FeatureDescription(string Unit, string Meaning);

/// <summary>
/// The unit and meaning of every documented feature, row for row as the tables of docs/features.md give them (a test
/// holds the two equal, so neither can change alone). The extractors know their names, not their meanings, so the
/// meanings live here. <c>{lead}</c> in a name stands for any of the twelve leads and <c>{window}</c> for a basic
/// template window (<c>m400ms</c> … <c>p360ms</c>). Learned features are coordinates of the network's penultimate
/// layer, with no unit.
/// </summary>
public static partial class FeatureGlossary
{
    /// <summary>One row of docs/features.md: the names it covers, their unit and their meaning.</summary>
    public sealed record Row(IReadOnlyList<string> Names, string Unit, string Meaning);

    public static readonly IReadOnlyList<Row> Documented =
    [
        // handcrafted: rhythm
        new(["hr_bpm"], "beats/min", "60,000 / `rr_mean_ms`"),
        new(["rr_mean_ms"], "ms", "mean RR interval"),
        new(["rr_sdnn_ms"], "ms", "standard deviation of RR (SDNN; needs 3 beats)"),
        new(["rr_rmssd_ms"], "ms", "root mean square of successive RR differences"),
        new(["rr_pnn50_share"], "fraction", "share of successive RR differences above 50 ms"),
        new(["rr_cv_ratio"], "ratio", "`rr_sdnn_ms` / `rr_mean_ms`"),
        new(["rr_min_ms", "rr_max_ms"], "ms", "shortest and longest RR"),
        new(["rr_irregularity_ratio"], "ratio", "median absolute successive RR difference over the median RR: near 0 in sinus rhythm, high in AF"),
        // intervals and axes
        new(["p_present_flag"], "0/1", "a P wave recurs in every beat (indicator for the P measurements)"),
        new(["p_duration_ms"], "ms", "P onset to P offset"),
        new(["pr_ms"], "ms", "P onset to QRS onset"),
        new(["qrs_ms"], "ms", "global QRS onset to offset"),
        new(["qt_ms"], "ms", "QRS onset to T offset"),
        new(["qtc_bazett_ms"], "ms", "QT / √RR (RR in s)"),
        new(["qtc_fridericia_ms"], "ms", "QT / ∛RR"),
        new(["qtc_framingham_ms"], "ms", "QT + 154 ms × (1 − RR) (Sagie et al. 1992)"),
        new(["qrs_axis_deg", "p_axis_deg", "t_axis_deg"], "degrees", "frontal axis from the net wave areas in I and aVF, atan2(aVF, I)"),
        new(["delineation_missing_flag"], "0/1", "no beat could be delineated; every morphology value is then missing"),
        // voltage criteria and QRS shape
        new(["sokolow_lyon_mv"], "mV", "S in V1 + the larger R in V5 or V6 (Sokolow & Lyon 1949)"),
        new(["cornell_mv"], "mV", "R in aVL + S in V3 (Casale et al. 1985)"),
        new(["r_transition_lead"], "lead number", @"first precordial lead (1–6) where R exceeds \|S\|; 7 when none does"),
        new(["qrs_notches_max_count"], "count", "the largest `{lead}_qrs_notches_count` over the leads"),
        // per lead
        new(["{lead}_p_amp_mv"], "mV", "largest deviation from baseline within the P wave (signed)"),
        new(["{lead}_q_amp_mv"], "mV", "most negative deflection before R (≤ 0)"),
        new(["{lead}_r_amp_mv"], "mV", "largest positive deflection within the QRS (≥ 0)"),
        new(["{lead}_s_amp_mv"], "mV", "most negative deflection after R (≤ 0)"),
        new(["{lead}_t_amp_mv"], "mV", "largest deviation from J+60 ms to T offset (signed)"),
        new(["{lead}_st60_mv"], "mV", "ST level at J + 60 ms"),
        new(["{lead}_qrs_area_mvms"], "mV·ms", "net area of the QRS"),
        new(["{lead}_qrs_notches_count"], "count", "turning points inside the QRS beyond those of an rS/qR shape (notching, fragmentation)"),
        new(["{lead}_quality_corr"], "correlation", "median correlation of the lead's beats with its median beat: a signal-quality index in [−1, 1]"),
        // spectral and wavelet band energies
        new(["{lead}_band_0p5_5hz_share"], "fraction", "share of the 1–40 Hz energy (DFT at 1 Hz resolution) below 5 Hz: T wave and baseline"),
        new(["{lead}_band_5_15hz_share"], "fraction", "5–15 Hz: P wave and QRS body"),
        new(["{lead}_band_15_40hz_share"], "fraction", "15–40 Hz: QRS detail and notching"),
        new(["{lead}_wavelet_32_64hz_share"], "fraction", "share of the Daubechies-4 (8-tap) DWT octave nearest 32–64 Hz"),
        new(["{lead}_wavelet_16_32hz_share"], "fraction", "octave nearest 16–32 Hz"),
        new(["{lead}_wavelet_8_16hz_share"], "fraction", "octave nearest 8–16 Hz"),
        new(["{lead}_wavelet_4_8hz_share"], "fraction", "octave nearest 4–8 Hz"),
        new(["{lead}_wavelet_0_4hz_share"], "fraction", "the approximation below the 4–8 Hz octave"),
        // metadata
        new(["age_years"], "years", "from the dataset's metadata; missing when not recorded"),
        new(["sex_male_flag"], "0/1", "1 male, 0 female; missing when not recorded"),
        // basic (its other rhythm features are the handcrafted set's, from the same RR statistics)
        new(["rr_sd_ms"], "ms", "standard deviation of RR (as `rr_sdnn_ms`)"),
        new(["{lead}_beat_max_mv"], "mV", "highest point of the lead's median beat"),
        new(["{lead}_beat_min_mv"], "mV", "lowest point of the lead's median beat"),
        new(["{lead}_beat_range_mv"], "mV", "`{lead}_beat_max_mv` − `{lead}_beat_min_mv`"),
        new(["{lead}_signal_sd_mv"], "mV", "standard deviation of the whole recorded lead"),
        new(["{lead}_beat_{window}_mv"], "mV", "for II, V1 and V6: the median beat's mean over the 40 ms from `{window}` (`m400ms`: 400 ms before R; `p0ms`: at R)"),
    ];

    /// <summary>The unit and meaning of a feature of any set; an unknown name gets the unit its suffix names, if any.</summary>
    public static FeatureDescription Describe(string name)
    {
        if (LearnedName().Match(name) is { Success: true } learned)
            return new("none", $"coordinate {int.Parse(learned.Groups[1].Value, CultureInfo.InvariantCulture)} of the network's penultimate layer");
        foreach (var (pattern, row) in Patterns.Value)
            if (pattern.IsMatch(name)) return new(row.Unit, row.Meaning);
        var suffix = UnitOfSuffix.FirstOrDefault(s => name.EndsWith(s.Suffix, StringComparison.Ordinal));
        return new(suffix.Unit ?? "", "");
    }

    /// <summary>Each documented name as a whole-name pattern, in the table's order.</summary>
    static readonly Lazy<(Regex Pattern, Row Row)[]> Patterns = new(() =>
    [
        .. Documented.SelectMany(row => row.Names.Select(name => (new Regex("^" + Regex.Escape(name)
            .Replace(@"\{lead}", "(" + string.Join("|", StandardLeads.Twelve) + ")")
            .Replace(@"\{window}", "[mp][0-9]+ms") + "$", RegexOptions.CultureInvariant), row))),
    ]);

    /// <summary>The unit suffixes of feature names (docs/features.md), for names the tables do not list.</summary>
    static readonly (string Suffix, string Unit)[] UnitOfSuffix =
    [
        ("_ms", "ms"), ("_bpm", "beats/min"), ("_mvms", "mV·ms"), ("_mv", "mV"), ("_deg", "degrees"), ("_years", "years"),
        ("_share", "fraction"), ("_ratio", "ratio"), ("_lead", "lead number"), ("_flag", "0/1"), ("_count", "count"), ("_corr", "correlation"),
    ];

    [GeneratedRegex(@"^learned_(\d+)$", RegexOptions.CultureInvariant)]
    private static partial Regex LearnedName();
}
