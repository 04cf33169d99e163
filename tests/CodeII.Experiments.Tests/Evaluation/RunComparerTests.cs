using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class RunComparerTests
{
    static readonly string[] Exams = [.. Enumerable.Range(0, 120).Select(i => $"e{i}")];
    static readonly string[] Patients = [.. Exams.Select((_, i) => $"p{i / 2}")];
    static readonly bool[] Truth = [.. Exams.Select((_, i) => i % 3 == 0)];

    static float[] Scores(int seed, double signal)
    {
        var rng = new Random(seed);
        return [.. Truth.Select(t => (float)(rng.NextDouble() + (t ? signal : 0)))];
    }

    /// <summary>A run over the given exams in the given order, with its models' scores for label L.</summary>
    static ComparedRun Run(string name, int[] order, string fingerprint, params (string Model, float[] Scores)[] models) => new()
    {
        Name = name, Folder = $"/runs/{name}", SplitFingerprint = fingerprint,
        TestExams = [.. order.Select(i => Exams[i])], TestPatients = [.. order.Select(i => Patients[i])],
        TestLabels = [.. order.Select(i => (IReadOnlySet<string>)(Truth[i] ? new HashSet<string> { "L" } : []))],
        Scores = models.ToDictionary(m => (m.Model, "L"), m => order.Select(i => m.Scores[i]).ToArray()),
        Versions = new Dictionary<string, string> { ["seed"] = name }, Definition = new Dictionary<string, string> { ["seed"] = name, ["name"] = "x" },
    };

    [Fact]
    public void Runs_of_the_same_exams_in_another_order_are_paired_exam_by_exam()
    {
        var natural = Enumerable.Range(0, Exams.Length).ToArray();
        var shuffled = natural.OrderBy(i => (i * 37) % 120).ToArray();
        var a = Scores(1, 0.5);
        var b = Scores(2, 0.8);
        var comparison = RunComparer.Compare([Run("A", natural, "same", ("m", a)), Run("B", shuffled, "same", ("m", b))], replicates: 300, seed: 7);
        Assert.True(comparison.Paired);
        Assert.Null(comparison.Warning);
        // The same difference as one run holding both models, by a paired bootstrap on the first run's exams.
        var bootstrap = new PatientBootstrap(Patients, 300, 7);
        double Auroc(float[] s, int[] idx) => BinaryMetrics.Auroc([.. idx.Select(i => s[i])], [.. idx.Select(i => Truth[i])]);
        var expected = bootstrap.Estimate(Exams.Length, idx => Auroc(b, idx) - Auroc(a, idx));
        var difference = Assert.Single(comparison.Differences).Difference;
        Assert.Equal(expected, difference);
        var fact = Assert.Single(comparison.DefinitionDifferences);
        Assert.Equal("seed", fact.Key);
        Assert.Equal(["A", "B"], fact.Values);
    }

    [Fact]
    public void Runs_of_other_exams_are_unpaired_with_a_warning_and_a_wider_interval()
    {
        var natural = Enumerable.Range(0, Exams.Length).ToArray();
        var a = Scores(1, 0.5);
        var paired = RunComparer.Compare([Run("A", natural, "same", ("m", a)), Run("B", natural, "same", ("m", a))], replicates: 300);
        var unpaired = RunComparer.Compare([Run("A", natural, "one", ("m", a)), Run("B", natural, "other", ("m", a))], replicates: 300);
        Assert.False(unpaired.Paired);
        Assert.Contains("unpaired", unpaired.Warning);
        var (p, u) = (paired.Differences.Single().Difference, unpaired.Differences.Single().Difference);
        Assert.Equal((0.0, 0.0, 0.0), (p.Value, p.Lower, p.Upper));
        // The same scores resampled independently: centred on 0, but as wide as two runs' sampling spread.
        Assert.Equal(0.0, u.Value);
        Assert.True(u.Lower < -0.02 && u.Upper > 0.02, $"{u}");
    }

    [Fact]
    public void Runs_that_share_no_label_or_no_complete_model_are_refused_with_their_folders()
    {
        var natural = Enumerable.Range(0, Exams.Length).ToArray();
        var a = Run("A", natural, "same", ("m", Scores(1, 0.5)));
        var other = a with { Name = "B", Folder = "/runs/B", Scores = new Dictionary<(string, string), float[]> { [("m", "K")] = Scores(2, 0.5) } };
        Assert.Contains("share no label", Assert.Throws<ArgumentException>(() => RunComparer.Compare([a, other])).Message);
        Assert.Throws<ArgumentException>(() => RunComparer.Compare([a]));
    }
}
