using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class BinaryMetricsTests
{
    // Hand-checked against scikit-learn 1.2: roc_auc_score, average_precision_score, f1_score.
    static readonly float[] Scores = [0.1f, 0.4f, 0.35f, 0.8f];
    static readonly bool[] Truth = [false, false, true, true];

    [Fact]
    public void Auroc_counts_correctly_ordered_pairs()
    {
        // Pairs (pos, neg): (0.35,0.1) ok, (0.35,0.4) wrong, (0.8,0.1) ok, (0.8,0.4) ok → 3/4.
        Assert.Equal(0.75, BinaryMetrics.Auroc(Scores, Truth), 12);
    }

    [Fact]
    public void Auroc_gives_ties_half_credit()
    {
        Assert.Equal(0.5, BinaryMetrics.Auroc([0.5f, 0.5f, 0.5f, 0.5f], [true, false, true, false]), 12);
        // (0.7 vs 0.7) tie = 0.5, (0.7 vs 0.2) = 1 → 0.75
        Assert.Equal(0.75, BinaryMetrics.Auroc([0.7f, 0.7f, 0.2f], [true, false, false]), 12);
    }

    [Fact]
    public void Auroc_is_undefined_with_a_single_class()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([0.1f, 0.2f], [true, true])));
    }

    [Fact]
    public void Average_precision_matches_the_step_definition()
    {
        // Descending: 0.8(+) P=1 R=.5; 0.4(−); 0.35(+) P=2/3 R=1 → AP = .5·1 + .5·2/3 = 0.8333…
        Assert.Equal(0.5 + 0.5 * 2.0 / 3, BinaryMetrics.AveragePrecision(Scores, Truth), 12);
        // All tied: one threshold, precision = prevalence.
        Assert.Equal(0.25, BinaryMetrics.AveragePrecision([0.3f, 0.3f, 0.3f, 0.3f], [true, false, false, false]), 12);
    }

    [Fact]
    public void F1_at_a_threshold_and_the_best_validation_threshold()
    {
        // Threshold 0.35 predicts {0.4, 0.35, 0.8}: tp 2, fp 1, fn 0 → 4/5.
        Assert.Equal(0.8, BinaryMetrics.F1(Scores, Truth, 0.35f), 12);
        // Threshold 0.8: tp 1, fn 1 → 2/3.
        Assert.Equal(2.0 / 3, BinaryMetrics.F1(Scores, Truth, 0.8f), 12);
        Assert.Equal(0.35f, BinaryMetrics.BestF1Threshold(Scores, Truth), 6);
    }

    [Fact]
    public void Roc_curve_runs_from_origin_to_one_one_through_each_threshold()
    {
        var (fpr, tpr) = BinaryMetrics.RocCurve(Scores, Truth);
        Assert.Equal([0, 0, 0.5, 0.5, 1], fpr);
        Assert.Equal([0, 0.5, 0.5, 1, 1], tpr);
        // Trapezoid area of the curve equals the Mann–Whitney AUROC.
        double area = 0;
        for (var i = 1; i < fpr.Length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
        Assert.Equal(BinaryMetrics.Auroc(Scores, Truth), area, 12);
    }

    [Fact]
    public void Auroc_equals_the_brute_force_pair_count_on_random_data_with_ties()
    {
        var rng = new Random(5);
        for (var trial = 0; trial < 20; trial++)
        {
            var n = rng.Next(5, 200);
            var s = Enumerable.Range(0, n).Select(_ => (float)Math.Round(rng.NextDouble(), 1)).ToArray();
            var y = Enumerable.Range(0, n).Select(i => rng.NextDouble() < 0.3 + 0.4 * s[i]).ToArray();
            if (y.All(v => v) || y.All(v => !v)) continue;
            double credit = 0, pairs = 0;
            for (var i = 0; i < n; i++)
                for (var j = 0; j < n; j++)
                    if (y[i] && !y[j]) { pairs++; credit += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0; }
            Assert.Equal(credit / pairs, BinaryMetrics.Auroc(s, y), 10);
        }
    }

    [Fact]
    public void Empty_input_has_no_auroc()
    {
        Assert.True(double.IsNaN(BinaryMetrics.Auroc([], [])));
    }
}
