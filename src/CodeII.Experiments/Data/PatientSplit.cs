namespace CodeII.Experiments.Data;

public enum SplitPart { Train, Validation, Test }

/// <summary>Which split each exam belongs to. Built from patients, so a patient's exams never straddle two parts.</summary>
public sealed class PatientSplit
{
    public required SplitPart[] PartOfExam { get; init; }

    public int[] Indices(SplitPart part) =>
        Enumerable.Range(0, PartOfExam.Length).Where(i => PartOfExam[i] == part).ToArray();

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
}
