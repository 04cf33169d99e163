using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Tests.Data;

public class PatientSplitTests
{
    static (string[] Patients, IReadOnlySet<string>[] Labels) Synthetic(int exams, int seed)
    {
        var g = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = seed, MaxExamsPerPatient = 4 });
        var records = Enumerable.Range(0, exams).Select(g.Read).ToArray();
        return (records.Select(r => r.PatientId).ToArray(), records.Select(r => r.Labels).ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void No_patient_lands_in_two_parts(int seed)
    {
        var (patients, labels) = Synthetic(1500, seed);
        var split = PatientSplit.Stratified(patients, labels, 0.6, 0.2, seed);
        var partsOfPatient = patients.Select((p, i) => (p, split.PartOfExam[i])).GroupBy(x => x.p);
        Assert.All(partsOfPatient, g => Assert.Single(g.Select(x => x.Item2).Distinct()));
    }

    [Fact]
    public void Fractions_are_respected_and_every_class_reaches_every_part()
    {
        var (patients, labels) = Synthetic(2000, 4);
        var split = PatientSplit.Stratified(patients, labels, 0.6, 0.2, 4);
        Assert.InRange(split.Indices(SplitPart.Train).Length / 2000.0, 0.55, 0.65);
        Assert.InRange(split.Indices(SplitPart.Validation).Length / 2000.0, 0.16, 0.24);
        Assert.InRange(split.Indices(SplitPart.Test).Length / 2000.0, 0.16, 0.24);
        foreach (var part in (SplitPart[])[SplitPart.Train, SplitPart.Validation, SplitPart.Test])
            foreach (var c in SyntheticClasses.All)
            {
                var indices = split.Indices(part);
                var prevalence = indices.Count(i => labels[i].Contains(c)) / (double)indices.Length;
                var overall = labels.Count(l => l.Contains(c)) / 2000.0;
                Assert.InRange(prevalence, overall * 0.6, overall * 1.4);
            }
    }

    [Fact]
    public void Same_seed_gives_the_same_split_and_another_seed_does_not()
    {
        var (patients, labels) = Synthetic(600, 5);
        Assert.Equal(PatientSplit.Stratified(patients, labels, 0.6, 0.2, 1).PartOfExam, PatientSplit.Stratified(patients, labels, 0.6, 0.2, 1).PartOfExam);
        Assert.NotEqual(PatientSplit.Stratified(patients, labels, 0.6, 0.2, 1).PartOfExam, PatientSplit.Stratified(patients, labels, 0.6, 0.2, 2).PartOfExam);
    }
}

/// <summary>Iterative stratification on real multi-label data: the 18,869 patients of the full PTB-XL label file.</summary>
public class IterativeStratificationTests
{
    static readonly Lazy<(string[] Patients, IReadOnlySet<string>[] Labels)> PtbXl = new(() =>
    {
        var db = CodeII.Experiments.Data.PtbXl.PtbXlDatabase.Load(RepoPaths.Shared("ptbxl-labels-v1.0.3"));
        return (db.Exams.Select(e => e.PatientId).ToArray(), db.Exams.Select(e => db.SubclassesOf(e)).ToArray());
    });

    static double WorstPrevalenceGap(PatientSplit split, IReadOnlySet<string>[] labels)
    {
        var worst = 0.0;
        foreach (var label in labels.SelectMany(l => l).Distinct())
        {
            var overall = labels.Count(l => l.Contains(label)) / (double)labels.Length;
            foreach (var part in Enum.GetValues<SplitPart>())
            {
                var idx = split.Indices(part);
                if (idx.Length == 0) continue;
                var prevalence = idx.Count(i => labels[i].Contains(label)) / (double)idx.Length;
                worst = Math.Max(worst, Math.Abs(prevalence - overall) / overall);
            }
        }
        return worst;
    }

    [Fact]
    public void Smaller_training_shares_are_nested_keep_patients_whole_and_leave_validation_and_test_alone()
    {
        var (patients, labels) = PtbXl.Value;
        var full = PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, seed: 1);
        var trainPatients = full.Indices(SplitPart.Train).Select(i => patients[i]).Distinct().Count();
        PatientSplit? previous = null;
        foreach (var share in (double[])[0.05, 0.25, 1.0])
        {
            var split = full.KeepTrainingShare(share, patients, labels, seed: 1);
            // Validation and test are the full split's, exam for exam.
            Assert.Equal(full.Indices(SplitPart.Validation), split.Indices(SplitPart.Validation));
            Assert.Equal(full.Indices(SplitPart.Test), split.Indices(SplitPart.Test));
            // Every exam is kept or left unused with its patient.
            Assert.All(patients.Select((p, i) => (p, split.PartOfExam[i])).GroupBy(x => x.p), g => Assert.Single(g.Select(x => x.Item2).Distinct()));
            var kept = split.Indices(SplitPart.Train).Select(i => patients[i]).Distinct().Count();
            // The share of the training patients, plus at most a patient per stratum (rounded up) and one per class.
            Assert.InRange(kept, share * trainPatients, share * trainPatients + 2 * 24);
            // Nested: every patient kept at a smaller share is kept at this one.
            if (previous is not null) Assert.Subset(split.Indices(SplitPart.Train).ToHashSet(), previous.Indices(SplitPart.Train).ToHashSet());
            previous = split;
        }
        // Each of the 23 subclasses still has a training patient at 5 %.
        var small = full.KeepTrainingShare(0.05, patients, labels, seed: 1);
        foreach (var label in labels.SelectMany(l => l).Distinct())
            Assert.Contains(small.Indices(SplitPart.Train), i => labels[i].Contains(label));
        // Another seed keeps other patients.
        Assert.NotEqual(small.Indices(SplitPart.Train), full.KeepTrainingShare(0.05, patients, labels, seed: 2).Indices(SplitPart.Train));
    }

    [Fact]
    public void A_class_that_is_nobodys_rarest_keeps_a_training_patient_at_any_share()
    {
        // 40 training patients: 20 with X and 20 with Y, 15 of each also with C. C (30 patients) is never a patient's
        // rarest class, so stratifying alone could drop all of its patients at a small share.
        var patients = Enumerable.Range(0, 40).Select(i => $"p{i:D2}").ToArray();
        var labels = Enumerable.Range(0, 40).Select(i => (IReadOnlySet<string>)new HashSet<string>(
            (i % 20 < 15 ? ["C"] : Array.Empty<string>()).Append(i < 20 ? "X" : "Y"))).ToArray();
        var all = new PatientSplit { PartOfExam = [.. Enumerable.Repeat(SplitPart.Train, 40)] };
        for (var seed = 0; seed < 50; seed++)
        {
            var small = all.KeepTrainingShare(0.01, patients, labels, seed);
            foreach (var label in (string[])["C", "X", "Y"])
                Assert.Contains(small.Indices(SplitPart.Train), i => labels[i].Contains(label));
            Assert.Subset(all.KeepTrainingShare(0.5, patients, labels, seed).Indices(SplitPart.Train).ToHashSet(), small.Indices(SplitPart.Train).ToHashSet());
        }
    }

    [Fact]
    public void Keeps_patients_whole_and_hits_the_fractions()
    {
        var (patients, labels) = PtbXl.Value;
        var split = PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, seed: 1);
        var partsOfPatient = patients.Select((p, i) => (p, split.PartOfExam[i])).GroupBy(x => x.p);
        Assert.All(partsOfPatient, g => Assert.Single(g.Select(x => x.Item2).Distinct()));
        Assert.InRange(split.Indices(SplitPart.Train).Length / (double)patients.Length, 0.79, 0.81);
        Assert.InRange(split.Indices(SplitPart.Validation).Length / (double)patients.Length, 0.095, 0.105);
    }

    [Fact]
    public void Spreads_all_23_PTB_XL_subclasses_more_evenly_than_stratifying_by_the_rarest_label()
    {
        var (patients, labels) = PtbXl.Value;
        Assert.Equal(23, labels.SelectMany(l => l).Distinct().Count());
        var iterative = WorstPrevalenceGap(PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, 1), labels);
        var rarest = WorstPrevalenceGap(PatientSplit.Stratified(patients, labels, 0.8, 0.1, 1), labels);
        Assert.True(iterative < rarest, $"iterative worst relative gap {iterative:P1}, rarest-label {rarest:P1}");
        Assert.True(iterative < 0.25, $"iterative worst relative prevalence gap {iterative:P1}");
    }

    [Fact]
    public void Is_deterministic_by_seed()
    {
        var (patients, labels) = PtbXl.Value;
        Assert.Equal(PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, 4).PartOfExam, PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, 4).PartOfExam);
        Assert.NotEqual(PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, 4).PartOfExam, PatientSplit.IterativeStratified(patients, labels, 0.8, 0.1, 5).PartOfExam);
    }
}
