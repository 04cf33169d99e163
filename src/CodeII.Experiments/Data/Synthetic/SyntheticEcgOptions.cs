namespace CodeII.Experiments.Data.Synthetic;

/// <summary>Parameters of the synthetic dataset; every field is plain data so a definition can set it.</summary>
public sealed record SyntheticEcgOptions
{
    public int Exams { get; init; } = 2400;
    public int Seed { get; init; } = 1;
    public double SamplingRateHz { get; init; } = 400;
    public double DurationSeconds { get; init; } = 10;

    /// <summary>CODE stores 10 s at 400 Hz centred in 4096 samples (Ribeiro et al. 2020); 0 means no padding.</summary>
    public int PaddedLength { get; init; } = 4096;

    public int MaxExamsPerPatient { get; init; } = 3;

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

    public int RecordedLength => (int)Math.Round(SamplingRateHz * DurationSeconds);
    public int StoredLength => Math.Max(PaddedLength, RecordedLength);
}

/// <summary>The CODE-15% abnormality codes the generator produces (Ribeiro et al. 2020).</summary>
public static class SyntheticClasses
{
    public const string FirstDegreeAvBlock = "1dAVb";
    public const string RightBundleBranchBlock = "RBBB";
    public const string LeftBundleBranchBlock = "LBBB";
    public const string SinusBradycardia = "SB";
    public const string AtrialFibrillation = "AF";
    public const string SinusTachycardia = "ST";

    public static readonly IReadOnlyList<string> All =
        [FirstDegreeAvBlock, RightBundleBranchBlock, LeftBundleBranchBlock, SinusBradycardia, AtrialFibrillation, SinusTachycardia];
}
