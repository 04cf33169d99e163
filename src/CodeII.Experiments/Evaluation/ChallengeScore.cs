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

/// <summary>
/// The Challenge 2020–21 score as its evaluate_model.py computes it, for published tables: the weights of its
/// <c>weights.csv</c>, each exam's credit divided by the size of the union of its true and predicted classes (at least
/// 1), and normalised so that the true classes score 1 and predicting sinus rhythm alone scores 0.
/// </summary>
public static class OfficialChallengeScore
{
    /// <param name="weights">classes × classes, in the order of the truth and prediction columns</param>
    /// <param name="sinusRhythm">the column of sinus rhythm (SNOMED-CT 426783006), the "inactive" prediction</param>
    public static double Compute(IReadOnlyList<bool[]> truth, IReadOnlyList<bool[]> predicted, double[,] weights, int sinusRhythm)
    {
        if (truth.Count != predicted.Count) throw new ArgumentException("truth and predictions must cover the same exams");
        var classes = weights.GetLength(0);
        double Score(Func<int, bool[]> outputs)
        {
            var total = 0.0;
            for (var r = 0; r < truth.Count; r++)
            {
                var t = truth[r];
                var o = outputs(r);
                var union = Math.Max(1, Enumerable.Range(0, classes).Count(c => t[c] || o[c]));
                for (var j = 0; j < classes; j++)
                    if (t[j])
                        for (var k = 0; k < classes; k++)
                            if (o[k]) total += weights[j, k] / union;
            }
            return total;
        }
        var inactive = new bool[classes];
        inactive[sinusRhythm] = true;
        var observed = Score(r => predicted[r]);
        var correct = Score(r => truth[r]);
        var inactiveScore = Score(_ => inactive);
        return correct == inactiveScore ? 0 : (observed - inactiveScore) / (correct - inactiveScore);
    }

    public const string SinusRhythm = "426783006";

    /// <summary>The weights of <paramref name="path"/> (a weights.csv: a header of classes, each a SNOMED-CT code or
    /// codes scored as one joined by '|', then a row per class) for classes given by their SNOMED-CT codes; null when
    /// a class has no row.</summary>
    public static double[,]? WeightsFor(IReadOnlyList<string?> snomedOfClass, string path)
    {
        var lines = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        var header = lines[0].Split(',').Skip(1).Select(h => h.Split('|').Select(c => c.Trim()).ToArray()).ToArray();
        int? IndexOf(string? snomed) => snomed is null ? null
            : Array.FindIndex(header, codes => codes.Any(c => c == snomed || Labels.SnomedCt.Canonical(c) == Labels.SnomedCt.Canonical(snomed))) is var i and >= 0 ? i : null;
        var index = snomedOfClass.Select(IndexOf).ToArray();
        if (index.Any(i => i is null)) return null;
        var table = lines.Skip(1).Select(l => l.Split(',').Skip(1).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray();
        if (table.Length != header.Length || table.Any(r => r.Length != header.Length))
            throw new InvalidDataException($"{path}: a weights table has as many rows and columns as classes ({header.Length})");
        var weights = new double[index.Length, index.Length];
        for (var a = 0; a < index.Length; a++)
            for (var b = 0; b < index.Length; b++) weights[a, b] = table[index[a]!.Value][index[b]!.Value];
        return weights;
    }
}
