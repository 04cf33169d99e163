namespace CodeII.Experiments.Evaluation;

/// <summary>
/// The PhysioNet/CinC Challenge 2020–21 score (Perez Alday et al. 2020) for multi-label predictions, normalised so
/// that predicting every exam's true classes scores 1 and predicting none of them ("inactive") scores 0.
/// Each exam spreads one unit of credit over its pairs (true class, predicted class), divided by the size of the union
/// of the two sets, and each pair earns its weight. Our classes have no published similarity table, so the default
/// weights are the identity; an exam with no class of the set counts as an implicit class "none".
/// </summary>
public static class ChallengeScore
{
    /// <param name="truth">per exam, per class</param>
    /// <param name="predicted">per exam, per class</param>
    /// <param name="weights">(classes + 1)² weights, the last row and column for "none"; null: identity</param>
    public static double Normalised(IReadOnlyList<bool[]> truth, IReadOnlyList<bool[]> predicted, double[,]? weights = null)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException("truth and predictions must cover the same exams");
        if (truth.Count == 0) return double.NaN;
        var classes = truth[0].Length;
        double W(int i, int j) => weights?[i, j] ?? (i == j ? 1 : 0);
        int[] Set(bool[] row) { var s = Enumerable.Range(0, classes).Where(c => row[c]).ToArray(); return s.Length == 0 ? [classes] : s; }
        double Credit(int[] t, int[] p)
        {
            var union = t.Union(p).Count();
            return t.Sum(i => p.Sum(j => W(i, j))) / union;
        }
        double observed = 0, correct = 0, inactive = 0;
        for (var r = 0; r < truth.Count; r++)
        {
            var t = Set(truth[r]);
            observed += Credit(t, Set(predicted[r]));
            correct += Credit(t, t);
            inactive += Credit(t, [classes]);
        }
        return correct == inactive ? double.NaN : (observed - inactive) / (correct - inactive);
    }
}
