namespace CodeII.Experiments.Data;

public enum SplitPart
{
    Train,
    Validation,
    Test,
    /// <summary>A training patient left out of a smaller training set (<see cref="PatientSplit.KeepTrainingShare"/>):
    /// neither trained on nor evaluated.</summary>
    Unused,
}

/// <summary>Which split each exam belongs to. Built from patients, so a patient's exams never straddle two parts.</summary>
public sealed class PatientSplit
{
    public required SplitPart[] PartOfExam { get; init; }

    public int[] Indices(SplitPart part) =>
        Enumerable.Range(0, PartOfExam.Length).Where(i => PartOfExam[i] == part).ToArray();

    /// <summary>The training and validation exams (their indices, in order) and their split without the test part:
    /// what a sweep is given, so that nothing it chooses can depend on a test exam.</summary>
    public (int[] Rows, PatientSplit Split) WithoutTest()
    {
        var rows = Enumerable.Range(0, PartOfExam.Length).Where(i => PartOfExam[i] is SplitPart.Train or SplitPart.Validation).ToArray();
        return (rows, new PatientSplit { PartOfExam = [.. rows.Select(i => PartOfExam[i])] });
    }

    /// <summary>
    /// Keeps <paramref name="share"/> of the training patients and marks the rest <see cref="SplitPart.Unused"/>;
    /// validation and test are untouched. Patients are stratified by their rarest class, as in <see cref="Stratified"/>,
    /// and taken in one seeded order per stratum (rounded up, at least one per stratum); and for every class, the first
    /// of its patients in one seeded order of all training patients is always kept, so no class loses its training
    /// positives. Both choices grow with the share, so the subsets are nested: every patient kept at 5 % is kept at
    /// 25 %. That pairs the points of a data-efficiency curve.
    /// </summary>
    public PatientSplit KeepTrainingShare(double share, IReadOnlyList<string> patientOfExam, IReadOnlyList<IReadOnlySet<string>> labelsOfExam, int seed)
    {
        if (share is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(share), $"a training share must lie in (0, 1], not {share}");
        if (share == 1) return this;
        var train = Indices(SplitPart.Train);
        var classCounts = train.SelectMany(i => labelsOfExam[i]).GroupBy(c => c, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var patients = train.GroupBy(i => patientOfExam[i], StringComparer.Ordinal).ToArray();
        string Stratum(IEnumerable<int> exams) => exams.SelectMany(e => labelsOfExam[e])
            .OrderBy(c => classCounts[c]).ThenBy(c => c, StringComparer.Ordinal).FirstOrDefault() ?? "";
        var kept = new HashSet<string>(StringComparer.Ordinal);
        var rng = new Random(seed);
        foreach (var stratum in patients.GroupBy(p => Stratum(p)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = stratum.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
            rng.Shuffle(members);
            var keep = Math.Max(1, (int)Math.Ceiling(share * members.Length - 1e-9));
            kept.UnionWith(members.Take(keep).Select(p => p.Key));
        }
        var everyone = patients.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        new Random(seed + 1).Shuffle(everyone);
        foreach (var label in classCounts.Keys.Order(StringComparer.Ordinal))
            kept.Add(everyone.First(p => p.Any(e => labelsOfExam[e].Contains(label))).Key);
        var parts = (SplitPart[])PartOfExam.Clone();
        foreach (var patient in patients.Where(p => !kept.Contains(p.Key)))
            foreach (var exam in patient) parts[exam] = SplitPart.Unused;
        return new PatientSplit { PartOfExam = parts };
    }

    /// <summary>
    /// Stratifies by each patient's rarest positive class (or "no class"), then deals each stratum's shuffled patients
    /// into the parts by the requested fractions, so rare classes appear in every part.
    /// </summary>
    public static PatientSplit Stratified(IReadOnlyList<string> patientOfExam, IReadOnlyList<IReadOnlySet<string>> labelsOfExam,
        double trainFraction, double validationFraction, int seed)
    {
        if (trainFraction <= 0 || validationFraction <= 0 || trainFraction + validationFraction >= 1)
            throw new ArgumentException("train and validation fractions must be positive and leave room for a test part");

        var classCounts = labelsOfExam.SelectMany(l => l).GroupBy(c => c, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var patients = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < patientOfExam.Count; i++)
        {
            if (!patients.TryGetValue(patientOfExam[i], out var exams)) patients[patientOfExam[i]] = exams = [];
            exams.Add(i);
        }

        string Stratum(List<int> exams) => exams.SelectMany(e => labelsOfExam[e])
            .OrderBy(c => classCounts[c]).ThenBy(c => c, StringComparer.Ordinal).FirstOrDefault() ?? "";

        var rng = new Random(seed);
        var parts = new SplitPart[patientOfExam.Count];
        foreach (var stratum in patients.GroupBy(p => Stratum(p.Value)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Sort before shuffling so the result does not depend on dictionary order.
            var members = stratum.OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
            rng.Shuffle(members);
            for (var k = 0; k < members.Length; k++)
            {
                // Position within the stratum (k + 0.5) / n decides the part, so small strata still reach every part.
                var position = (k + 0.5) / members.Length;
                var part = position < trainFraction ? SplitPart.Train
                    : position < trainFraction + validationFraction ? SplitPart.Validation : SplitPart.Test;
                foreach (var exam in members[k].Value) parts[exam] = part;
            }
        }
        return new PatientSplit { PartOfExam = parts };
    }

    /// <summary>
    /// Iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011) over patients: the rarest label is placed first,
    /// each of its patients going to the part that most lacks that label, so every label's prevalence is close to the
    /// same in every part even when exams carry several labels. A patient's exams always stay together.
    /// </summary>
    public static PatientSplit IterativeStratified(IReadOnlyList<string> patientOfExam, IReadOnlyList<IReadOnlySet<string>> labelsOfExam,
        double trainFraction, double validationFraction, int seed)
    {
        if (trainFraction <= 0 || validationFraction <= 0 || trainFraction + validationFraction >= 1)
            throw new ArgumentException("train and validation fractions must be positive and leave room for a test part");
        double[] fractions = [trainFraction, validationFraction, 1 - trainFraction - validationFraction];
        var rng = new Random(seed);

        var examsOfPatient = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < patientOfExam.Count; i++)
        {
            if (!examsOfPatient.TryGetValue(patientOfExam[i], out var list)) examsOfPatient[patientOfExam[i]] = list = [];
            list.Add(i);
        }
        // Sorted, then shuffled: independent of dictionary order, dependent only on the seed.
        var patients = examsOfPatient.Keys.Order(StringComparer.Ordinal).ToArray();
        rng.Shuffle(patients);
        var labelCounts = patients.ToDictionary(p => p, p => examsOfPatient[p].SelectMany(e => labelsOfExam[e])
            .GroupBy(l => l, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal), StringComparer.Ordinal);

        var labels = labelCounts.Values.SelectMany(c => c.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var wantedExams = fractions.Select(f => f * patientOfExam.Count).ToArray();
        var wantedLabel = labels.ToDictionary(l => l, l => fractions.Select(f => f * labelCounts.Values.Sum(c => c.GetValueOrDefault(l))).ToArray(), StringComparer.Ordinal);
        var unassigned = new HashSet<string>(patients, StringComparer.Ordinal);
        var partOfPatient = new Dictionary<string, int>(StringComparer.Ordinal);

        void Assign(string patient, int part)
        {
            partOfPatient[patient] = part;
            unassigned.Remove(patient);
            wantedExams[part] -= examsOfPatient[patient].Count;
            foreach (var (label, count) in labelCounts[patient]) wantedLabel[label][part] -= count;
        }

        int Best(IEnumerable<int> candidates, Func<int, double> key)
        {
            var max = candidates.Max(key);
            var tied = candidates.Where(c => key(c) == max).ToArray();
            return tied.Length == 1 ? tied[0] : tied[rng.Next(tied.Length)];
        }

        while (true)
        {
            // The label with the fewest exams still to place goes first: rare labels get the most even spread.
            var remaining = labels.Select(l => (Label: l, Exams: unassigned.Sum(p => labelCounts[p].GetValueOrDefault(l))))
                .Where(x => x.Exams > 0).ToArray();
            if (remaining.Length == 0) break;
            var label = remaining.OrderBy(x => x.Exams).ThenBy(x => x.Label, StringComparer.Ordinal).First().Label;
            foreach (var patient in patients.Where(p => unassigned.Contains(p) && labelCounts[p].ContainsKey(label)).ToArray())
            {
                var byLabel = Best([0, 1, 2], part => wantedLabel[label][part]);
                var tiedOnLabel = new[] { 0, 1, 2 }.Where(part => wantedLabel[label][part] == wantedLabel[label][byLabel]).ToArray();
                Assign(patient, tiedOnLabel.Length == 1 ? byLabel : Best(tiedOnLabel, part => wantedExams[part]));
            }
        }
        foreach (var patient in patients.Where(unassigned.Contains).ToArray())
            Assign(patient, Best([0, 1, 2], part => wantedExams[part]));

        var parts = new SplitPart[patientOfExam.Count];
        foreach (var (patient, part) in partOfPatient)
            foreach (var exam in examsOfPatient[patient]) parts[exam] = (SplitPart)part;
        return new PatientSplit { PartOfExam = parts };
    }
}
