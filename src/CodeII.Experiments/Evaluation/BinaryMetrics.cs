namespace CodeII.Experiments.Evaluation;

/// <summary>Threshold-free and thresholded metrics for one label's scores. The CLI, the metrics file and the report all use these.</summary>
public static class BinaryMetrics
{
    /// <summary>Area under the ROC curve by the Mann–Whitney statistic with mid-ranks for ties; NaN without both classes.</summary>
    public static double Auroc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var order = SortedAscending(scores);
        long positives = 0;
        foreach (var t in truth) if (t) positives++;
        var negatives = truth.Length - positives;
        if (positives == 0 || negatives == 0) return double.NaN;
        double positiveRankSum = 0;
        for (var i = 0; i < order.Length;)
        {
            var j = i;
            while (j + 1 < order.Length && scores[order[j + 1]] == scores[order[i]]) j++;
            var midRank = (i + j) / 2.0 + 1;
            for (var k = i; k <= j; k++) if (truth[order[k]]) positiveRankSum += midRank;
            i = j + 1;
        }
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision: Σ (Rₖ − Rₖ₋₁) Pₖ over distinct thresholds from the highest score down, the step-wise
    /// area under the precision–recall curve (scikit-learn's average_precision_score); NaN without positives.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var order = SortedAscending(scores);
        long positives = 0;
        foreach (var t in truth) if (t) positives++;
        if (positives == 0) return double.NaN;
        double ap = 0, previousRecall = 0;
        long truePositives = 0, predicted = 0;
        for (var i = order.Length - 1; i >= 0;)
        {
            var j = i;
            while (j - 1 >= 0 && scores[order[j - 1]] == scores[order[i]]) j--;
            for (var k = j; k <= i; k++) { predicted++; if (truth[order[k]]) truePositives++; }
            var recall = (double)truePositives / positives;
            ap += (recall - previousRecall) * truePositives / predicted;
            previousRecall = recall;
            i = j - 1;
        }
        return ap;
    }

    /// <summary>F1 of predicting positive where score ≥ threshold; NaN when there is nothing to find and nothing was predicted.</summary>
    public static double F1(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth, double threshold)
    {
        long tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var predicted = scores[i] >= threshold;
            if (predicted && truth[i]) tp++;
            else if (predicted) fp++;
            else if (truth[i]) fn++;
        }
        return tp + fp + fn == 0 ? double.NaN : 2.0 * tp / (2.0 * tp + fp + fn);
    }

    /// <summary>The threshold among the observed scores that maximises F1; meant for validation data only.</summary>
    public static double BestF1Threshold(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var order = SortedAscending(scores);
        long positives = 0;
        foreach (var t in truth) if (t) positives++;
        if (positives == 0 || order.Length == 0) return double.PositiveInfinity;
        double bestF1 = -1, bestThreshold = scores[order[^1]];
        long tp = 0, predicted = 0;
        for (var i = order.Length - 1; i >= 0;)
        {
            var j = i;
            while (j - 1 >= 0 && scores[order[j - 1]] == scores[order[i]]) j--;
            for (var k = j; k <= i; k++) { predicted++; if (truth[order[k]]) tp++; }
            var f1 = 2.0 * tp / (predicted + positives);
            if (f1 > bestF1) { bestF1 = f1; bestThreshold = scores[order[i]]; }
            i = j - 1;
        }
        return bestThreshold;
    }

    /// <summary>ROC points (FPR, TPR) at every distinct threshold, from (0,0) to (1,1).</summary>
    public static (double[] FalsePositiveRate, double[] TruePositiveRate) RocCurve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var order = SortedAscending(scores);
        long positives = 0;
        foreach (var t in truth) if (t) positives++;
        var negatives = truth.Length - positives;
        var fpr = new List<double> { 0 };
        var tpr = new List<double> { 0 };
        long tp = 0, fp = 0;
        for (var i = order.Length - 1; i >= 0;)
        {
            var j = i;
            while (j - 1 >= 0 && scores[order[j - 1]] == scores[order[i]]) j--;
            for (var k = j; k <= i; k++) { if (truth[order[k]]) tp++; else fp++; }
            fpr.Add(negatives == 0 ? 0 : (double)fp / negatives);
            tpr.Add(positives == 0 ? 0 : (double)tp / positives);
            i = j - 1;
        }
        return (fpr.ToArray(), tpr.ToArray());
    }

    static int[] SortedAscending(ReadOnlySpan<float> scores)
    {
        var order = new int[scores.Length];
        var keys = scores.ToArray();
        for (var i = 0; i < order.Length; i++) order[i] = i;
        // Equal scores are always handled as one group, so the order among them cannot change a metric.
        Array.Sort(keys, order);
        return order;
    }
}
