using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

/// <summary>
/// Each metric against an implementation written here from its textbook definition, on random inputs with ties, and
/// against hand cases where competing definitions disagree, so a definition swapped in the product (interpolated
/// average precision for the step one, F1 at "greater than" instead of "at least") fails here.
/// </summary>
public class MetricDefinitionTests
{
    [Fact]
    public void Average_precision_is_the_step_definition_not_the_interpolated_one()
    {
        // Ranked 0.9+ 0.8− 0.7− 0.6+ 0.5+: three positives, found at precisions 1/1, 2/4 and 3/5.
        // Step AP (scikit-learn's average_precision_score) = (1 + 0.5 + 0.6) / 3 = 0.700.
        // Interpolated AP (precision replaced by the best precision at any higher recall) = (1 + 0.6 + 0.6) / 3 = 0.733.
        float[] scores = [0.9f, 0.8f, 0.7f, 0.6f, 0.5f];
        bool[] truth = [true, false, false, true, true];
        Assert.Equal(0.700, BinaryMetrics.AveragePrecision(scores, truth), 12);
    }

    [Fact]
    public void Average_precision_equals_the_mean_precision_at_each_positive_on_random_data_with_ties()
    {
        var rng = new Random(11);
        var checkedCases = 0;
        for (var trial = 0; trial < 40; trial++)
        {
            var (scores, truth) = RandomCase(rng);
            if (!truth.Any(t => t)) continue;
            // Definition: the mean over positives of the precision among exams scored at least as high as that positive
            // (tied exams enter together).
            var precisions = Enumerable.Range(0, scores.Length).Where(i => truth[i]).Select(i =>
            {
                var above = Enumerable.Range(0, scores.Length).Where(j => scores[j] >= scores[i]).ToArray();
                return (double)above.Count(j => truth[j]) / above.Length;
            });
            Assert.Equal(precisions.Average(), BinaryMetrics.AveragePrecision(scores, truth), 10);
            checkedCases++;
        }
        Assert.True(checkedCases >= 30, $"only {checkedCases} random cases had positives");
    }

    [Fact]
    public void F1_counts_a_score_equal_to_the_threshold_as_positive()
    {
        // At threshold 0.6: predicted 0.9, 0.6, 0.6 → TP 2 (0.9, one 0.6), FP 1, FN 1 → F1 = 4 / (4 + 1 + 1).
        float[] scores = [0.9f, 0.6f, 0.6f, 0.2f];
        bool[] truth = [true, true, false, true];
        Assert.Equal(4.0 / 6, BinaryMetrics.F1(scores, truth, 0.6f), 12);
        // Strictly above 0.6 would give TP 1, FP 0, FN 2 → 2 / 5; the product must not.
        Assert.NotEqual(2.0 / 5, BinaryMetrics.F1(scores, truth, 0.6f), 6);
    }

    [Fact]
    public void F1_and_the_best_threshold_match_counting_on_random_data_with_ties()
    {
        var rng = new Random(12);
        var checkedCases = 0;
        for (var trial = 0; trial < 40; trial++)
        {
            var (scores, truth) = RandomCase(rng);
            if (!truth.Any(t => t)) continue;
            double F1ByCounting(float threshold) => F1ByCountingAt([.. scores.Select(v => (double)v)], truth, threshold);
            foreach (var threshold in scores.Distinct())
                Assert.Equal(F1ByCounting(threshold), BinaryMetrics.F1(scores, truth, threshold), 12);
            var best = scores.Distinct().Max(F1ByCounting);
            var chosen = BinaryMetrics.BestF1Threshold(scores, truth);
            Assert.Contains((float)chosen, scores);
            Assert.Equal(best, F1ByCounting((float)chosen), 12);
            checkedCases++;
        }
        Assert.True(checkedCases >= 30, $"only {checkedCases} random cases had positives");
    }

    /// <summary>F1 of the rule "positive at or above the threshold", from the confusion counts.</summary>
    internal static double F1ByCountingAt(IReadOnlyList<double> scores, IReadOnlyList<bool> truth, double threshold)
    {
        int tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < scores.Count; i++)
        {
            if (scores[i] >= threshold) { if (truth[i]) tp++; else fp++; }
            else if (truth[i]) fn++;
        }
        return 2.0 * tp / (2 * tp + fp + fn);
    }

    static (float[] Scores, bool[] Truth) RandomCase(Random rng)
    {
        var n = rng.Next(4, 120);
        // Scores rounded to one decimal, so ties are common.
        var scores = Enumerable.Range(0, n).Select(_ => (float)Math.Round(rng.NextDouble(), 1)).ToArray();
        var truth = scores.Select(s => rng.NextDouble() < 0.2 + 0.5 * s).ToArray();
        return (scores, truth);
    }
}
