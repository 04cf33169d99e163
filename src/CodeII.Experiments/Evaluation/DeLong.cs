namespace CodeII.Experiments.Evaluation;

/// <summary>Two correlated AUROCs compared on the same exams: their difference, its standard error and the two-sided p-value.</summary>
public sealed record AurocComparison(double AurocA, double AurocB, double Difference, double StandardError, double Z, double PValue);

/// <summary>
/// DeLong, DeLong and Clarke-Pearson's (1988) test of two correlated AUROCs, computed with the midrank formulation of
/// Sun and Xu (2014): each positive's and each negative's structural component, their covariance across the two
/// models, and a z test of the difference. O((m + n) log(m + n)) for m positives and n negatives.
/// </summary>
public static class DeLong
{
    public static AurocComparison Compare(ReadOnlySpan<float> scoresA, ReadOnlySpan<float> scoresB, ReadOnlySpan<bool> truth)
    {
        if (scoresA.Length != truth.Length || scoresB.Length != truth.Length)
            throw new ArgumentException("both models must score the same exams as the truth has");
        var positives = new List<int>();
        var negatives = new List<int>();
        for (var i = 0; i < truth.Length; i++) (truth[i] ? positives : negatives).Add(i);
        var (m, n) = (positives.Count, negatives.Count);
        if (m < 2 || n < 2) return new AurocComparison(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);

        var (v10A, v01A, aucA) = Components(scoresA, positives, negatives);
        var (v10B, v01B, aucB) = Components(scoresB, positives, negatives);
        static double Covariance(double[] x, double[] y, double mx, double my) =>
            x.Zip(y, (a, b) => (a - mx) * (b - my)).Sum() / (x.Length - 1);
        var variance = (Covariance(v10A, v10A, aucA, aucA) + Covariance(v10B, v10B, aucB, aucB) - 2 * Covariance(v10A, v10B, aucA, aucB)) / m
                       + (Covariance(v01A, v01A, aucA, aucA) + Covariance(v01B, v01B, aucB, aucB) - 2 * Covariance(v01A, v01B, aucA, aucB)) / n;
        var difference = aucA - aucB;
        var se = Math.Sqrt(Math.Max(0, variance));
        // Identical rankings (or ties everywhere) leave no variance: the difference is exactly 0 and not significant.
        if (se == 0) return new AurocComparison(aucA, aucB, difference, 0, 0, difference == 0 ? 1 : 0);
        var z = difference / se;
        return new AurocComparison(aucA, aucB, difference, se, z, MathNet.Numerics.SpecialFunctions.Erfc(Math.Abs(z) / Math.Sqrt(2)));
    }

    /// <summary>The structural components: for each positive, the share of negatives it outranks (ties count half),
    /// and for each negative, the share of positives that outrank it; both average to the AUROC.</summary>
    static (double[] V10, double[] V01, double Auroc) Components(ReadOnlySpan<float> scores, List<int> positives, List<int> negatives)
    {
        var (m, n) = (positives.Count, negatives.Count);
        var all = new float[m + n];
        for (var i = 0; i < m; i++) all[i] = scores[positives[i]];
        for (var j = 0; j < n; j++) all[m + j] = scores[negatives[j]];
        var overall = Midranks(all);
        var withinPositives = Midranks(all.AsSpan(0, m).ToArray());
        var withinNegatives = Midranks(all.AsSpan(m, n).ToArray());
        var v10 = new double[m];
        var v01 = new double[n];
        for (var i = 0; i < m; i++) v10[i] = (overall[i] - withinPositives[i]) / n;
        for (var j = 0; j < n; j++) v01[j] = 1 - (overall[m + j] - withinNegatives[j]) / m;
        return (v10, v01, v10.Average());
    }

    /// <summary>1-based ranks, tied values sharing the mean of their ranks.</summary>
    static double[] Midranks(float[] values)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Length];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            var midrank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++) ranks[order[k]] = midrank;
            start = end + 1;
        }
        return ranks;
    }
}

/// <summary>Holm's (1979) step-down correction of p-values for multiple comparisons: strong control of the
/// family-wise error rate without assuming independence.</summary>
public static class Holm
{
    public const string Name = "Holm–Bonferroni";

    public static double[] Adjust(IReadOnlyList<double> pValues)
    {
        var order = Enumerable.Range(0, pValues.Count).Where(i => !double.IsNaN(pValues[i])).OrderBy(i => pValues[i]).ToArray();
        var adjusted = Enumerable.Repeat(double.NaN, pValues.Count).ToArray();
        var running = 0.0;
        for (var k = 0; k < order.Length; k++)
        {
            running = Math.Max(running, Math.Min(1, (order.Length - k) * pValues[order[k]]));
            adjusted[order[k]] = running;
        }
        return adjusted;
    }
}
