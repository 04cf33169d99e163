using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class DeLongTests
{
    // 4 positives and 5 negatives, with ties inside each model and across classes.
    static readonly bool[] Truth = [true, true, true, true, false, false, false, false, false];
    static readonly float[] A = [0.9f, 0.8f, 0.4f, 0.6f, 0.7f, 0.3f, 0.2f, 0.6f, 0.1f];
    static readonly float[] B = [0.6f, 0.7f, 0.9f, 0.5f, 0.8f, 0.1f, 0.5f, 0.5f, 0.3f];

    [Fact]
    public void Matches_DeLongs_formulas_worked_pair_by_pair()
    {
        var c = DeLong.Compare(A, B, Truth);
        // By hand: A's positives outrank 5, 5, 3 and 3.5 of the 5 negatives (0.6 ties 0.6): 16.5 / 20 = 0.825;
        // B's: 4, 4, 5 and 3 (0.5 ties two 0.5s): 16 / 20 = 0.8.
        Assert.Equal(0.825, c.AurocA, 12);
        Assert.Equal(0.8, c.AurocB, 12);
        // The structural components' covariances, from the pairwise definition (DeLong et al. 1988, eq. 4–5), worked
        // outside this code: SE 0.16583123951776998, z 0.1507556722888813, two-sided p 0.8801684549067259.
        Assert.Equal(0.16583123951776998, c.StandardError, 12);
        Assert.Equal(0.1507556722888813, c.Z, 12);
        Assert.Equal(0.8801684549067259, c.PValue, 10);
        // Swapping the models flips the sign only.
        var swapped = DeLong.Compare(B, A, Truth);
        Assert.Equal(-c.Z, swapped.Z, 12);
        Assert.Equal(c.PValue, swapped.PValue, 12);
    }

    [Fact]
    public void A_model_compared_with_itself_differs_by_nothing_and_a_clear_winner_is_significant()
    {
        var same = DeLong.Compare(A, A, Truth);
        Assert.Equal(0, same.Difference);
        Assert.Equal(1, same.PValue);

        var rng = new Random(3);
        var truth = Enumerable.Range(0, 400).Select(i => i % 4 == 0).ToArray();
        var good = truth.Select(t => (float)((t ? 1.0 : 0.0) + rng.NextDouble() * 0.8)).ToArray();
        var poor = truth.Select(t => (float)((t ? 0.2 : 0.0) + rng.NextDouble())).ToArray();
        var c = DeLong.Compare(good, poor, truth);
        Assert.True(c.Difference > 0.2);
        Assert.True(c.PValue < 1e-6, $"p = {c.PValue}");
    }

    [Fact]
    public void Holm_multiplies_the_sorted_p_values_by_the_remaining_count_and_keeps_them_monotone()
    {
        // Sorted: 0.005 × 4 = 0.02, 0.01 × 3 = 0.03, 0.03 × 2 = 0.06, 0.04 × 1 = 0.04 → raised to 0.06.
        Assert.Equal([0.03, 0.06, 0.06, 0.02], Holm.Adjust([0.01, 0.04, 0.03, 0.005]).Select(p => Math.Round(p, 12)));
        // 0.2 × 2 = 0.4, 0.6 × 1 = 0.6; and 0.4 × 2 = 0.8, 0.7 × 1 = 0.7 → raised to 0.8; 0.9 × 2 is capped at 1.
        Assert.Equal([0.6, 0.4], Holm.Adjust([0.6, 0.2]).Select(p => Math.Round(p, 12)));
        Assert.Equal([0.8, 0.8], Holm.Adjust([0.7, 0.4]).Select(p => Math.Round(p, 12)));
        Assert.Equal([1.0, 1.0], Holm.Adjust([0.9, 0.95]).Select(p => Math.Round(p, 12)));
        var withMissing = Holm.Adjust([0.02, double.NaN, 0.01]);
        Assert.True(double.IsNaN(withMissing[1]));
        Assert.Equal(0.02, withMissing[2], 12);
        Assert.Equal(0.02, withMissing[0], 12);
    }
}
