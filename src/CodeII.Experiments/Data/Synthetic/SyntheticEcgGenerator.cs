namespace CodeII.Experiments.Data.Synthetic;

/// <summary>What the generator put into one exam, so extractors can be scored against it.</summary>
public sealed record SyntheticTruth
{
    /// <summary>The classes whose signs were synthesised; the record's labels are these after annotation noise.</summary>
    public required IReadOnlySet<string> SynthesisedClasses { get; init; }
    /// <summary>60 / mean RR over the beats whose QRS lies inside the recording.</summary>
    public required double HeartRateBpm { get; init; }
    /// <summary>P onset to QRS onset; NaN in atrial fibrillation, which has no P wave.</summary>
    public required double PrMs { get; init; }
    public required double QrsMs { get; init; }
    public required double QtMs { get; init; }
    /// <summary>Sample index (in the stored, padded signal) of each beat's dominant QRS lobe, premature ventricular
    /// beats included (PR, QRS and QT above are the sinus beats').</summary>
    public required int[] RPeakSamples { get; init; }
    /// <summary>Sample index of each beat's QRS onset, for the same beats as <see cref="RPeakSamples"/>.</summary>
    public required int[] QrsOnsetSamples { get; init; }
    /// <summary>RR intervals in seconds between consecutive beats in <see cref="RPeakSamples"/>.</summary>
    public required double[] RrSeconds { get; init; }
    /// <summary>Indices into <see cref="RPeakSamples"/> of the premature ventricular beats; empty in most exams.</summary>
    public int[] VentricularBeats { get; init; } = [];
    /// <summary>QRS duration of each premature ventricular beat, in the order of <see cref="VentricularBeats"/>.</summary>
    public double[] VentricularQrsMs { get; init; } = [];
}

/// <summary>
/// Deterministic synthetic 12-lead ECGs from a heart-vector model (P, QRS and T lobes projected onto the leads),
/// with the six CODE abnormalities drawn with their defining signs, noise, baseline wander and powerline hum.
/// Exam <c>i</c> depends only on the seed and <c>i</c>, so exams can be generated in any order or in parallel.
/// </summary>
public sealed class SyntheticEcgGenerator : IEcgSource
{
    /// <summary>Bumped whenever the same options would give different signals; part of the data fingerprint.</summary>
    public const int Version = 2;

    /// <summary>Brazil's mains frequency; CODE was recorded there.</summary>
    const double PowerlineHz = 60;

    readonly SyntheticEcgOptions _options;
    readonly int[] _patientOfExam;
    /// <summary>How the generator's classes are written in another taxonomy; null for its own.</summary>
    readonly Labels.LabelMap? _labelNames;

    /// <summary>The class a record of no abnormality gets in CPSC 2018's taxonomy.</summary>
    public const string CpscNormal = "NORM";

    public SyntheticEcgGenerator(SyntheticEcgOptions options)
    {
        if (options.Exams <= 0) throw new ArgumentOutOfRangeException(nameof(options), "exams must be positive");
        if (options.SamplingRateHz < 50) throw new ArgumentOutOfRangeException(nameof(options), "sampling rate must be at least 50 Hz");
        if (options.DurationSeconds < 2) throw new ArgumentOutOfRangeException(nameof(options), "duration must be at least 2 s");
        if (options.MaxDurationSeconds < options.DurationSeconds)
            throw new ArgumentOutOfRangeException(nameof(options), $"the longest duration ({options.MaxDurationSeconds} s) is below the shortest ({options.DurationSeconds} s)");
        _labelNames = options.Taxonomy switch
        {
            SyntheticClasses.TaxonomyName => null,
            "cpsc9" => Labels.LabelMap.Between(Labels.Taxonomy.Code6, Labels.Taxonomy.Cpsc9),
            var other => throw new ArgumentException($"the synthetic generator writes labels in code6 or cpsc9, not '{other}'"),
        };
        if (options.MaxExamsPerPatient < 1) throw new ArgumentOutOfRangeException(nameof(options), "max exams per patient must be at least 1");
        foreach (var (code, _) in options.Prevalence)
            if (!SyntheticClasses.All.Contains(code))
                throw new ArgumentException($"the synthetic generator has no class '{code}' (it has {string.Join(", ", SyntheticClasses.All)})");
        _options = options;
        _patientOfExam = AssignExamsToPatients(options);
    }

    public SyntheticEcgOptions Options => _options;
    public string Name => "synthetic";
    public int Count => _options.Exams;
    public IReadOnlyList<string> ClassNames => _labelNames is null ? SyntheticClasses.All : [.. _labelNames.Target.Classes.Select(c => c.Code)];
    public bool HasPatientIds => true;

    public string Describe() =>
        $"synthetic v{Version} seed={_options.Seed} exams={_options.Exams} fs={_options.SamplingRateHz} " +
        $"duration={_options.DurationSeconds}{(_options.MaxDurationSeconds is { } longest ? $"-{longest}" : "")} " +
        (_options.Taxonomy == SyntheticClasses.TaxonomyName ? "" : $"taxonomy={_options.Taxonomy} ") +
        $"padded={_options.PaddedLength} maxPerPatient={_options.MaxExamsPerPatient} " +
        $"missed={_options.MissedLabelRate:R} spurious={_options.SpuriousLabelRate:R} pvcExams={_options.PrematureVentricularExamRate:R} " +
        $"prevalence={string.Join(",", _options.Prevalence.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}:{p.Value:R}"))}";

    public EcgRecord Read(int index) => Generate(index).Record;

    public string ExamIdAt(int index) => (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    static int[] AssignExamsToPatients(SyntheticEcgOptions options)
    {
        var rng = new Random(Mix(options.Seed, -1));
        var patientOfExam = new int[options.Exams];
        var exam = 0;
        for (var patient = 0; exam < options.Exams; patient++)
        {
            var examsForPatient = rng.Next(1, options.MaxExamsPerPatient + 1);
            for (var k = 0; k < examsForPatient && exam < options.Exams; k++) patientOfExam[exam++] = patient;
        }
        return patientOfExam;
    }

    /// <summary>A patient's lasting traits: anatomy, age, sex, and the conduction defects that persist across exams.</summary>
    sealed record PatientTraits(int Age, Sex Sex, double FrontalRotation, double HorizontalRotation, double AmplitudeScale,
        bool HasFirstDegreeBlock, bool HasRbbb, bool HasLbbb, bool ProneToAf, double QtcSeconds);

    PatientTraits TraitsOf(int patient)
    {
        var rng = new Random(Mix(_options.Seed, 1_000_003 + patient));
        double P(string code) => _options.Prevalence.TryGetValue(code, out var p) ? p : 0;
        var age = rng.Next(18, 91);
        var sex = rng.NextDouble() < 0.5 ? Sex.Female : Sex.Male;
        var rbbb = rng.NextDouble() < P(SyntheticClasses.RightBundleBranchBlock) / Persistence;
        var lbbb = !rbbb && rng.NextDouble() < P(SyntheticClasses.LeftBundleBranchBlock) / Persistence;
        return new PatientTraits(
            age, sex,
            FrontalRotation: Uniform(rng, -0.45, 0.35),
            HorizontalRotation: Uniform(rng, -0.25, 0.25),
            AmplitudeScale: Math.Exp(Gaussian(rng) * 0.18),
            HasFirstDegreeBlock: rng.NextDouble() < P(SyntheticClasses.FirstDegreeAvBlock) / Persistence,
            HasRbbb: rbbb,
            HasLbbb: lbbb,
            ProneToAf: rng.NextDouble() < P(SyntheticClasses.AtrialFibrillation) / Persistence,
            QtcSeconds: Uniform(rng, 0.39, 0.44));
    }

    /// <summary>Probability that a patient's lasting condition shows in a given exam.</summary>
    const double Persistence = 0.85;

    public (EcgRecord Record, SyntheticTruth Truth) Generate(int index)
    {
        if ((uint)index >= (uint)_options.Exams) throw new ArgumentOutOfRangeException(nameof(index));
        var patient = _patientOfExam[index];
        var traits = TraitsOf(patient);
        var rng = new Random(Mix(_options.Seed, index));
        double P(string code) => _options.Prevalence.TryGetValue(code, out var p) ? p : 0;

        var labels = new HashSet<string>(StringComparer.Ordinal);
        var af = traits.ProneToAf && rng.NextDouble() < Persistence;
        if (af) labels.Add(SyntheticClasses.AtrialFibrillation);
        if (traits.HasRbbb && rng.NextDouble() < Persistence) labels.Add(SyntheticClasses.RightBundleBranchBlock);
        if (traits.HasLbbb && rng.NextDouble() < Persistence) labels.Add(SyntheticClasses.LeftBundleBranchBlock);
        // PR is undefined without P waves, so a first-degree block cannot be seen in AF.
        if (!af && traits.HasFirstDegreeBlock && rng.NextDouble() < Persistence) labels.Add(SyntheticClasses.FirstDegreeAvBlock);
        if (!af)
        {
            // SB and ST are sinus rhythms, exclusive of each other and of AF.
            var u = rng.NextDouble();
            var sb = P(SyntheticClasses.SinusBradycardia);
            var st = P(SyntheticClasses.SinusTachycardia);
            // Divide by the share of exams that are not AF so the exam-level prevalence matches the option.
            var notAf = Math.Max(1e-9, 1 - P(SyntheticClasses.AtrialFibrillation));
            if (u < sb / notAf) labels.Add(SyntheticClasses.SinusBradycardia);
            else if (u < (sb + st) / notAf) labels.Add(SyntheticClasses.SinusTachycardia);
        }

        return Synthesise(index, patient, traits, labels, rng);
    }

    /// <summary>
    /// Exam <paramref name="index"/>'s patient and noise, but showing exactly <paramref name="classes"/>: for examples,
    /// tests and notebooks that need a given abnormality. Exclusive classes (SB with ST, AF with SB/ST/1dAVb,
    /// RBBB with LBBB) are rejected.
    /// </summary>
    public (EcgRecord Record, SyntheticTruth Truth) GenerateWithClasses(int index, params string[] classes)
    {
        if ((uint)index >= (uint)_options.Exams) throw new ArgumentOutOfRangeException(nameof(index));
        var set = new HashSet<string>(classes, StringComparer.Ordinal);
        foreach (var c in set)
            if (!SyntheticClasses.All.Contains(c)) throw new ArgumentException($"the synthetic generator has no class '{c}'");
        string[][] exclusive =
        [
            [SyntheticClasses.SinusBradycardia, SyntheticClasses.SinusTachycardia],
            [SyntheticClasses.AtrialFibrillation, SyntheticClasses.SinusBradycardia],
            [SyntheticClasses.AtrialFibrillation, SyntheticClasses.SinusTachycardia],
            [SyntheticClasses.AtrialFibrillation, SyntheticClasses.FirstDegreeAvBlock],
            [SyntheticClasses.RightBundleBranchBlock, SyntheticClasses.LeftBundleBranchBlock],
        ];
        foreach (var pair in exclusive)
            if (set.Contains(pair[0]) && set.Contains(pair[1]))
                throw new ArgumentException($"{pair[0]} and {pair[1]} cannot occur together");
        var patient = _patientOfExam[index];
        return Synthesise(index, patient, TraitsOf(patient), set, new Random(Mix(_options.Seed, index)));
    }

    /// <summary>Exam <paramref name="index"/>'s duration, from a stream of its own so that durations leave the signals' draws alone.</summary>
    public double DurationOf(int index) => _options.MaxDurationSeconds is { } longest
        ? Uniform(new Random(Mix(_options.Seed, 2_000_003 + index)), _options.DurationSeconds, longest)
        : _options.DurationSeconds;

    (EcgRecord, SyntheticTruth) Synthesise(int index, int patient, PatientTraits traits, HashSet<string> labels, Random rng)
    {
        var fs = _options.SamplingRateHz;
        var seconds = DurationOf(index);
        var recorded = _options.RecordedLength(seconds);
        var stored = _options.StoredLength(seconds);
        var padBefore = (stored - recorded) / 2;
        var duration = recorded / fs;

        var af = labels.Contains(SyntheticClasses.AtrialFibrillation);
        var rbbb = labels.Contains(SyntheticClasses.RightBundleBranchBlock);
        var lbbb = labels.Contains(SyntheticClasses.LeftBundleBranchBlock);

        // Ranges meet at the clinical cut-offs (SB < 50 bpm, ST > 100 bpm, PR > 200 ms, QRS ≥ 120 ms), so borderline
        // exams exist as they do in real data.
        // A 1 bpm margin keeps the realised mean rate, which respiratory variation moves slightly, on the right side.
        var meanHr = labels.Contains(SyntheticClasses.SinusBradycardia) ? Uniform(rng, 36, 49)
            : labels.Contains(SyntheticClasses.SinusTachycardia) ? Uniform(rng, 101, 145)
            : af ? Uniform(rng, 60, 130)
            : 51 + 48 * Math.Pow(rng.NextDouble(), 1.3);
        var meanRr = 60 / meanHr;
        var pr = labels.Contains(SyntheticClasses.FirstDegreeAvBlock) ? Uniform(rng, 0.202, 0.320) : Uniform(rng, 0.120, 0.198);
        var pDuration = Uniform(rng, 0.085, 0.110);
        var qrs = rbbb ? Uniform(rng, 0.120, 0.155) : lbbb ? Uniform(rng, 0.120, 0.170) : Uniform(rng, 0.070, 0.110);
        // Fridericia's QTc = QT / RR^(1/3) (Bazett over-corrects at the slow rates of SB); a bundle branch block
        // lengthens QT by its extra QRS width.
        var qt = traits.QtcSeconds * Math.Cbrt(meanRr) + Math.Max(0, qrs - 0.09);

        var beatLobes = BuildBeatLobes(traits, rbbb, lbbb, af, pr, pDuration, qrs, qt, rng);

        // Beat times from before the recording to after it so edge beats are cut, not missing.
        var qrsOnsets = new List<double>();
        var respiratoryPhase = Uniform(rng, 0, 2 * Math.PI);
        var respiratoryHz = Uniform(rng, 0.18, 0.32);
        for (var t = -Uniform(rng, 0.3, 1.5) * meanRr; t < duration + 1.0;)
        {
            qrsOnsets.Add(t);
            t += af
                ? Math.Clamp(meanRr * Math.Exp(Gaussian(rng) * 0.22), 0.28, 2.2) // irregularly irregular
                : meanRr * (1 + 0.03 * Math.Sin(2 * Math.PI * respiratoryHz * t + respiratoryPhase)) + Gaussian(rng) * 0.006 * meanRr;
        }

        var dominantOffset = beatLobes.Where(l => l.Onset >= -1e-9 && l.Offset <= qrs + 1e-9).MaxBy(l => l.Vector.Length).CentreSeconds;
        var beats = qrsOnsets.Select(onset => new Beat(onset, beatLobes, qrs, dominantOffset)).ToList();
        AddPrematureVentricularBeats(index, traits, beats, meanRr);

        var x = new double[recorded];
        var y = new double[recorded];
        var z = new double[recorded];
        foreach (var beat in beats)
            foreach (var lobe in beat.Lobes)
                AddLobe(lobe, beat.QrsOnset, fs, x, y, z);

        if (af) AddFibrillatoryWaves(rng, fs, x, y, z);

        var signals = new float[12][];
        for (var l = 0; l < 12; l++) signals[l] = new float[stored];
        LeadProjection.ProjectRecordedLeads(x, y, z, signals, padBefore);
        AddNoise(rng, fs, _options.NoiseScale, signals, padBefore, recorded);
        LeadProjection.DeriveLimbLeads(signals, padBefore, recorded);

        var inside = beats.Where(b => b.QrsOnset >= 0 && b.QrsOnset + b.QrsSeconds <= duration).ToArray();
        var rPeaks = inside.Select(b => padBefore + (int)Math.Round((b.QrsOnset + b.DominantOffset) * fs)).ToArray();
        var rr = inside.Zip(inside.Skip(1), (a, b) => b.QrsOnset - a.QrsOnset).ToArray();

        var truth = new SyntheticTruth
        {
            SynthesisedClasses = labels,
            HeartRateBpm = rr.Length > 0 ? 60 / rr.Average() : meanHr,
            PrMs = af ? double.NaN : pr * 1000,
            QrsMs = qrs * 1000,
            QtMs = qt * 1000,
            RPeakSamples = rPeaks,
            QrsOnsetSamples = inside.Select(b => padBefore + (int)Math.Round(b.QrsOnset * fs)).ToArray(),
            RrSeconds = rr,
            VentricularBeats = [.. inside.Select((b, k) => (b, k)).Where(p => p.b.Ventricular).Select(p => p.k)],
            VentricularQrsMs = [.. inside.Where(b => b.Ventricular).Select(b => b.QrsSeconds * 1000)],
        };
        var record = new EcgRecord
        {
            // Numeric ids, as CODE's exam_id and patient_id are, so exams can be written in the CODE layout unchanged.
            ExamId = ExamIdAt(index),
            PatientId = (patient + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Age = traits.Age,
            Sex = traits.Sex,
            SamplingRateHz = fs,
            Leads = StandardLeads.Twelve,
            Signals = signals,
            RecordedSamples = new Range(padBefore, padBefore + recorded),
            Labels = Named(Annotate(labels, rng)),
        };
        return (record, truth);
    }

    /// <summary>One beat: its lobes timed from its QRS onset, its QRS width, and where its dominant QRS lobe peaks.</summary>
    readonly record struct Beat(double QrsOnset, IReadOnlyList<DipoleLobe> Lobes, double QrsSeconds, double DominantOffset, bool Ventricular = false);

    /// <summary>
    /// Occasional premature ventricular beats, in <see cref="SyntheticEcgOptions.PrematureVentricularExamRate"/> of
    /// exams whatever their class (PVCs are common and carry no CODE label): one to three sinus beats are replaced by
    /// a beat from a ventricular focus, early (55–75 % of the RR), without P wave, wide (140–200 ms) and bizarre (two
    /// broad lobes in the focus's own direction, a discordant T), followed by the compensatory pause, since the sinus
    /// node keeps its rhythm. Drawn from a stream of the exam's own, so exams without PVCs are unchanged.
    /// </summary>
    void AddPrematureVentricularBeats(int index, PatientTraits traits, List<Beat> beats, double meanRr)
    {
        var rng = new Random(Mix(_options.Seed, 3_000_003 + index));
        if (rng.NextDouble() >= _options.PrematureVentricularExamRate || beats.Count < 5) return;
        var count = rng.Next(1, 4);
        var replaced = new HashSet<int>();
        for (var k = 0; k < count; k++)
        {
            // Never the first or last beat, nor next to another PVC: a couplet would be another rhythm.
            var at = rng.Next(2, beats.Count - 1);
            if (replaced.Contains(at) || replaced.Contains(at - 1) || replaced.Contains(at + 1)) continue;
            replaced.Add(at);
            var width = Uniform(rng, 0.14, 0.20);
            var coupling = Uniform(rng, 0.55, 0.75) * (beats[at].QrsOnset - beats[at - 1].QrsOnset);
            // A right-ventricular focus activates leftwards (LBBB-like), a left one rightwards and forwards (RBBB-like).
            var fromRight = rng.NextDouble() < 0.5;
            var direction = (fromRight ? new BodyVector(0.8, Uniform(rng, -0.6, 0.7), -0.5) : new BodyVector(-0.7, Uniform(rng, -0.6, 0.7), 0.6))
                .Rotate(traits.FrontalRotation, traits.HorizontalRotation).Normalised();
            var turn = new BodyVector(Uniform(rng, -0.4, 0.4), Uniform(rng, -0.4, 0.4), Uniform(rng, -0.4, 0.4));
            var scale = traits.AmplitudeScale;
            DipoleLobe Lobe(BodyVector v, double mv, double startFraction, double endFraction) =>
                new(v.Normalised() * (mv * scale), width * (startFraction + endFraction) / 2, width * (endFraction - startFraction) / (2 * DipoleLobe.SupportInSigmas));
            var first = Lobe(direction, Uniform(rng, 1.6, 2.4), 0.00, 0.70);
            var second = Lobe(direction + turn, Uniform(rng, 0.6, 1.0), 0.35, 1.00);
            // Repolarisation follows the abnormal depolarisation, so the T is opposite to the QRS and broad.
            var tSigma = Uniform(rng, 0.035, 0.045);
            var tEnd = width + Uniform(rng, 0.22, 0.30);
            var t = new DipoleLobe(-direction * (Uniform(rng, 0.4, 0.7) * scale), tEnd - DipoleLobe.SupportInSigmas * tSigma, tSigma);
            beats[at] = new Beat(beats[at - 1].QrsOnset + coupling, [first, second, t], width, first.CentreSeconds, Ventricular: true);
        }
    }

    /// <summary>
    /// The lobes of one beat, timed from QRS onset. Every QRS lobe's support lies in [0, QRS], the P lobe's support
    /// is [-PR, -PR + P duration], and the T lobe ends at QT, so the intervals in the ground truth are exact.
    /// </summary>
    static List<DipoleLobe> BuildBeatLobes(PatientTraits traits, bool rbbb, bool lbbb, bool af,
        double pr, double pDuration, double qrs, double qt, Random rng)
    {
        var lobes = new List<DipoleLobe>();
        var scale = traits.AmplitudeScale;
        BodyVector Orient(double x, double y, double z) => new BodyVector(x, y, z).Rotate(traits.FrontalRotation, traits.HorizontalRotation);
        DipoleLobe Lobe(BodyVector v, double mv, double startFraction, double endFraction) =>
            new(v.Normalised() * (mv * scale), qrs * (startFraction + endFraction) / 2, qrs * (endFraction - startFraction) / (2 * DipoleLobe.SupportInSigmas));

        if (!af)
        {
            var pVector = Orient(0.55, 0.75, 0.15).Normalised() * (Uniform(rng, 0.10, 0.18) * scale);
            lobes.Add(new DipoleLobe(pVector, -pr + pDuration / 2, pDuration / (2 * DipoleLobe.SupportInSigmas)));
        }

        BodyVector mainDirection;
        if (lbbb)
        {
            // Septum activates left-to-right in LBBB, so lateral leads lose their septal q; the slow LV
            // activation makes a broad R with two lobes (the notch) and a deep QS in V1.
            mainDirection = Orient(0.8, 0.25, -0.55);
            lobes.Add(Lobe(Orient(0.6, 0.1, -0.35), 0.25, 0.00, 0.30));
            lobes.Add(Lobe(Orient(0.75, 0.3, -0.55), Uniform(rng, 1.1, 1.5), 0.12, 0.60));
            lobes.Add(Lobe(Orient(0.8, 0.2, -0.5), Uniform(rng, 1.2, 1.6), 0.48, 1.00));
        }
        else
        {
            mainDirection = Orient(0.75, 0.6, -0.3);
            var lvEnd = rbbb ? 0.62 : 1.0;
            lobes.Add(Lobe(Orient(-0.45, 0.15, 0.6), 0.22, 0.00, 0.30 * lvEnd));                       // septal r in V1, q in I/V6
            lobes.Add(Lobe(mainDirection, Uniform(rng, 1.1, 1.7), 0.18 * lvEnd, 0.78 * lvEnd));          // LV free wall
            if (rbbb)
            {
                // Late right-ventricular activation spreading slowly through muscle: an R' in V1 (anterior, rightward),
                // then a slow rightward tail that is the broad, slurred S of I and V6 and ends the QRS. The tail's slope is
                // a fraction of the LV upstroke's, which is what a per-lead slope threshold mistook for the end of the QRS.
                lobes.Add(Lobe(Orient(-0.35, 0.0, 0.95), Uniform(rng, 0.6, 0.9), 0.48, 0.82));
                lobes.Add(Lobe(Orient(-0.95, 0.1, 0.25), Uniform(rng, 0.35, 0.5), 0.50, 1.00));
            }
            else
                lobes.Add(Lobe(Orient(-0.3, -0.4, -0.55), Uniform(rng, 0.25, 0.45), 0.55, 1.00));        // basal terminal S
        }

        // T offset at QT; its width is capped so it starts after the QRS even at high rates.
        var tSigma = Math.Min(0.036, (qt - qrs) / (2 * DipoleLobe.SupportInSigmas + 0.5));
        var tVector = lbbb || rbbb
            ? (-mainDirection.Normalised()) * 0.25 + Orient(0.5, 0.6, 0.2).Normalised() * 0.05    // secondary, discordant T
            : Orient(0.55, 0.65, 0.25).Normalised() * Uniform(rng, 0.25, 0.45);
        lobes.Add(new DipoleLobe(tVector * scale, qt - DipoleLobe.SupportInSigmas * tSigma, tSigma));
        return lobes;
    }

    /// <summary>The annotation in the options' taxonomy: each class under its name there (classes without one drop
    /// out), and CPSC's NORM for an exam annotated with no abnormality.</summary>
    IReadOnlySet<string> Named(HashSet<string> annotated)
    {
        if (_labelNames is null) return annotated;
        var named = new HashSet<string>(annotated.SelectMany(c => _labelNames.Mapping.TryGetValue(c, out var targets) ? targets : []), StringComparer.Ordinal);
        if (annotated.Count == 0) named.Add(CpscNormal);
        return named;
    }

    /// <summary>The label a cardiologist would write: mostly the synthesised classes, with occasional misses and additions.</summary>
    HashSet<string> Annotate(HashSet<string> synthesised, Random rng)
    {
        var annotated = new HashSet<string>(StringComparer.Ordinal);
        foreach (var code in SyntheticClasses.All)
        {
            var draw = rng.NextDouble(); // always drawn, so noise settings do not shift the rest of the stream
            if (synthesised.Contains(code) ? draw >= _options.MissedLabelRate : draw < _options.SpuriousLabelRate)
                annotated.Add(code);
        }
        return annotated;
    }

    static void AddLobe(DipoleLobe lobe, double qrsOnset, double fs, double[] x, double[] y, double[] z)
    {
        var centre = qrsOnset + lobe.CentreSeconds;
        // Evaluate out to 4σ so the lobe's tails are continuous; beyond it the value is below 0.04 % of peak.
        var first = Math.Max(0, (int)Math.Floor((centre - 4 * lobe.SigmaSeconds) * fs));
        var last = Math.Min(x.Length - 1, (int)Math.Ceiling((centre + 4 * lobe.SigmaSeconds) * fs));
        var inverseTwoSigmaSquared = 1 / (2 * lobe.SigmaSeconds * lobe.SigmaSeconds);
        for (var n = first; n <= last; n++)
        {
            var d = n / fs - centre;
            var g = Math.Exp(-d * d * inverseTwoSigmaSquared);
            x[n] += lobe.Vector.X * g;
            y[n] += lobe.Vector.Y * g;
            z[n] += lobe.Vector.Z * g;
        }
    }

    /// <summary>Fibrillatory waves at 4–8 Hz, strongest in V1 and the inferior leads.</summary>
    static void AddFibrillatoryWaves(Random rng, double fs, double[] x, double[] y, double[] z)
    {
        var direction = new BodyVector(-0.15, 0.6, 0.75).Normalised();
        var f1 = Uniform(rng, 4.5, 7.5);
        var f2 = f1 * Uniform(rng, 1.1, 1.3);
        var a = Uniform(rng, 0.04, 0.09);
        var (p1, p2, pm) = (Uniform(rng, 0, 6.3), Uniform(rng, 0, 6.3), Uniform(rng, 0, 6.3));
        for (var n = 0; n < x.Length; n++)
        {
            var t = n / fs;
            var amplitude = a * (0.7 + 0.3 * Math.Sin(2 * Math.PI * 0.3 * t + pm));
            var v = amplitude * (Math.Sin(2 * Math.PI * f1 * t + p1) + 0.5 * Math.Sin(2 * Math.PI * f2 * t + p2));
            x[n] += direction.X * v;
            y[n] += direction.Y * v;
            z[n] += direction.Z * v;
        }
    }

    /// <summary>Per-lead white noise, baseline wander (respiration, electrode drift) and, in some exams, mains hum.</summary>
    static void AddNoise(Random rng, double fs, double scale, float[][] signals, int start, int length)
    {
        var humAmplitude = scale * (rng.NextDouble() < 0.5 ? Uniform(rng, 0.005, 0.03) : 0);
        var humPhase = Uniform(rng, 0, 6.3);
        foreach (var lead in LeadProjection.RecordedLeads.Select(l => signals[l]))
        {
            var noise = scale * Uniform(rng, 0.004, 0.02);
            var (w1, w2) = (Uniform(rng, 0.05, 0.25), Uniform(rng, 0.25, 0.5));
            var (a1, a2) = (scale * Uniform(rng, 0, 0.15), scale * Uniform(rng, 0, 0.06));
            var (p1, p2) = (Uniform(rng, 0, 6.3), Uniform(rng, 0, 6.3));
            for (var n = 0; n < length; n++)
            {
                var t = n / fs;
                lead[start + n] += (float)(noise * Gaussian(rng)
                    + a1 * Math.Sin(2 * Math.PI * w1 * t + p1) + a2 * Math.Sin(2 * Math.PI * w2 * t + p2)
                    + humAmplitude * Math.Sin(2 * Math.PI * PowerlineHz * t + humPhase));
            }
        }
    }

    static double Uniform(Random rng, double low, double high) => low + (high - low) * rng.NextDouble();

    static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A stable 32-bit mix of seed and stream id (SplitMix64 finaliser), so streams are independent.</summary>
    internal static int Mix(int seed, int stream)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)stream) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }
}
