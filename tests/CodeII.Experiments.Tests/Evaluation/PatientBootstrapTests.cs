using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class PatientBootstrapTests
{
    [Fact]
    public void Quantile_interpolates_like_numpy()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(1.075, PatientBootstrap.Quantile(sorted, 0.025), 12); // numpy.quantile([1,2,3,4], .025)
        Assert.Equal(2.5, PatientBootstrap.Quantile(sorted, 0.5), 12);
        Assert.Equal(4, PatientBootstrap.Quantile(sorted, 1), 12);
    }

    [Fact]
    public void Resamples_whole_patients_so_their_exams_stay_together()
    {
        // Patient A has exams 0–2 with value 1, patient B exam 3 with value 0. Any resample's mean is k/… of whole patients.
        string[] patients = ["A", "A", "A", "B"];
        double[] value = [1, 1, 1, 0];
        var seen = new HashSet<double>();
        var bootstrap = new PatientBootstrap(patients, 200, seed: 1);
        bootstrap.Estimate(4, idx => { seen.Add(idx.Select(i => value[i]).Average()); return 0; });
        // Possible resamples: AA (mean 1), AB/BA (0.75), BB (0) and the point estimate on all exams (0.75).
        Assert.Subset(new HashSet<double> { 1, 0.75, 0 }, seen);
    }

    [Fact]
    public void Interval_is_deterministic_by_seed_and_brackets_the_estimate()
    {
        var rng = new Random(2);
        var patients = Enumerable.Range(0, 300).Select(i => $"P{i / 2}").ToArray();
        var values = patients.Select(_ => rng.NextDouble()).ToArray();
        double Mean(int[] idx) => idx.Select(i => values[i]).Average();
        var a = new PatientBootstrap(patients, 500, 9).Estimate(300, Mean);
        var b = new PatientBootstrap(patients, 500, 9).Estimate(300, Mean);
        var c = new PatientBootstrap(patients, 500, 10).Estimate(300, Mean);
        Assert.Equal(a, b);
        Assert.NotEqual(a.Lower, c.Lower);
        Assert.InRange(a.Value, a.Lower, a.Upper);
        // Mean of U(0,1) over 150 clusters of 2: standard error ≈ 0.29/√300 ≈ 0.017 → 95 % half-width ≈ 0.033.
        Assert.InRange(a.Upper - a.Lower, 0.04, 0.10);
    }
}
