namespace CodeII.Experiments.Data.Synthetic;

/// <summary>Parameters of the synthetic dataset; every field is plain data so a definition can set it.</summary>
public sealed record SyntheticEcgOptions
{
    public int Exams { get; init; } = 2400;
    public int Seed { get; init; } = 1;
    public double SamplingRateHz { get; init; } = 400;
    public double DurationSeconds { get; init; } = 10;

    /// <summary>With a value, each exam's duration is drawn uniformly from [<see cref="DurationSeconds"/>, this]
    /// (CPSC 2018's records run from 6 to 60 s); null: every exam lasts <see cref="DurationSeconds"/>.</summary>
    public double? MaxDurationSeconds { get; init; }

    /// <summary>The classes the labels are written in: <c>code6</c> (CODE's six abnormalities, as the generator makes
    /// them) or <c>cpsc9</c> (CPSC 2018's codes through SNOMED-CT: 1dAVb as I-AVB, and NORM for an exam annotated with
    /// no abnormality; SB and ST have no CPSC class, and PAC, PVC, STD and STE are never made).</summary>
    public string Taxonomy { get; init; } = SyntheticClasses.TaxonomyName;

    /// <summary>CODE stores 10 s at 400 Hz centred in 4096 samples (Ribeiro et al. 2020); 0 means no padding.</summary>
    public int PaddedLength { get; init; } = 4096;

    public int MaxExamsPerPatient { get; init; } = 3;

    /// <summary>Share of exams, of any class, with one to three premature ventricular beats (wide, without P wave).
    /// PVCs carry no CODE class, so labels do not change; they are in every real dataset, and a wide beat among
    /// narrow ones is what R-peak detection and median beats must cope with.</summary>
    public double PrematureVentricularExamRate { get; init; } = 0.08;

    /// <summary>Multiplies every noise source (white noise, baseline wander, mains hum); 0 gives clean signals.</summary>
    public double NoiseScale { get; init; } = 1;

    /// <summary>Probability that the annotation misses a class the signal shows. Cardiologists disagree on a few
    /// percent of CODE exams (Ribeiro et al. 2020, Table 2), so perfect labels would flatter every model.</summary>
    public double MissedLabelRate { get; init; } = 0.04;

    /// <summary>Probability that the annotation adds a class the signal does not show. Spurious positives rank low under
    /// any model, capping AUROC near 1 − rate·(1 − p)/p for a class of prevalence p: about 0.98 at p = 0.09.</summary>
    public double SpuriousLabelRate { get; init; } = 0.002;

    /// <summary>Per-exam probability of each class. CODE's real prevalences are 1–4 %; these are higher so a
    /// small quickstart still has enough positives in every split.</summary>
    public IReadOnlyDictionary<string, double> Prevalence { get; init; } = DefaultPrevalence;

    public static readonly IReadOnlyDictionary<string, double> DefaultPrevalence = new Dictionary<string, double>
    {
        [SyntheticClasses.FirstDegreeAvBlock] = 0.10,
        [SyntheticClasses.RightBundleBranchBlock] = 0.09,
        [SyntheticClasses.LeftBundleBranchBlock] = 0.08,
        [SyntheticClasses.SinusBradycardia] = 0.09,
        [SyntheticClasses.AtrialFibrillation] = 0.09,
        [SyntheticClasses.SinusTachycardia] = 0.10,
    };

    /// <summary>Samples recorded in an exam of <paramref name="seconds"/>, and stored with the padding.</summary>
    public int RecordedLength(double seconds) => (int)Math.Round(SamplingRateHz * seconds);
    public int StoredLength(double seconds) => Math.Max(PaddedLength, RecordedLength(seconds));
}

/// <summary>The CODE-15% abnormality codes the generator produces (Ribeiro et al. 2020).</summary>
public static class SyntheticClasses
{
    /// <summary>The taxonomy the generator's own class codes belong to.</summary>
    public const string TaxonomyName = "code6";

    public const string FirstDegreeAvBlock = "1dAVb";
    public const string RightBundleBranchBlock = "RBBB";
    public const string LeftBundleBranchBlock = "LBBB";
    public const string SinusBradycardia = "SB";
    public const string AtrialFibrillation = "AF";
    public const string SinusTachycardia = "ST";

    public static readonly IReadOnlyList<string> All =
        [FirstDegreeAvBlock, RightBundleBranchBlock, LeftBundleBranchBlock, SinusBradycardia, AtrialFibrillation, SinusTachycardia];
}
