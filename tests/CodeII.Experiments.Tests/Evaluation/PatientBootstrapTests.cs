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

/// <summary>
/// The interval against quantiles computed here from the replicates the metric saw, and its coverage by simulation on
/// a problem whose AUROC is known in closed form, so an interval with the wrong level or the wrong tails fails.
/// </summary>
public class BootstrapIntervalTests
{
    [Fact]
    public void Bounds_are_the_2_5_and_97_5_percentiles_of_the_replicates()
    {
        var rng = new Random(3);
        var patients = Enumerable.Range(0, 120).Select(i => $"P{i / 3}").ToArray();
        var values = patients.Select(_ => rng.NextDouble()).ToArray();
        var replicates = new List<double>();
        var estimate = new PatientBootstrap(patients, 400, seed: 4).Estimate(120, idx =>
        {
            var mean = idx.Select(i => values[i]).Average();
            replicates.Add(mean);
            return mean;
        });
        Assert.Equal(401, replicates.Count); // the point estimate on all exams, then each resample
        Assert.Equal(values.Average(), estimate.Value, 12);
        var sorted = replicates.Skip(1).Order().ToArray();
        // numpy.quantile's default: the order statistic at q·(n − 1), interpolated; with 400 replicates
        // 0.025 · 399 = 9.975 and 0.975 · 399 = 389.025.
        Assert.Equal(sorted[9] + 0.975 * (sorted[10] - sorted[9]), estimate.Lower, 12);
        Assert.Equal(sorted[389] + 0.025 * (sorted[390] - sorted[389]), estimate.Upper, 12);
    }

    [Fact]
    public void A_95_percent_auroc_interval_covers_the_true_auroc_in_95_percent_of_repetitions()
    {
        // Positives score N(d, 1) and negatives N(0, 1): the AUROC is Φ(d / √2). Each repetition draws 150 patients of
        // each class (one exam each), so the bootstrap's patients are independent as it assumes.
        const double d = 1.0;
        var trueAuroc = MathNet.Numerics.Distributions.Normal.CDF(0, 1, d / Math.Sqrt(2));
        var rng = new Random(21);
        const int repetitions = 600;
        var covered = 0;
        for (var r = 0; r < repetitions; r++)
        {
            var truth = Enumerable.Range(0, 300).Select(i => i < 150).ToArray();
            var scores = truth.Select(t => (float)(Gaussian(rng) + (t ? d : 0))).ToArray();
            var patients = Enumerable.Range(0, 300).Select(i => $"P{i}").ToArray();
            var interval = new PatientBootstrap(patients, 300, seed: r).Estimate(300,
                idx => BinaryMetrics.Auroc([.. idx.Select(i => scores[i])], [.. idx.Select(i => truth[i])]));
            if (interval.Lower <= trueAuroc && trueAuroc <= interval.Upper) covered++;
        }
        // The standard error of a 95 % coverage over 600 repetitions is 0.9 %; ±3 % is more than three of them.
        // A 90 % interval labelled 95 % would cover about 90 %.
        Assert.InRange((double)covered / repetitions, 0.92, 0.98);
    }

    static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
