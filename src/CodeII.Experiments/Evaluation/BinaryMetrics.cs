namespace CodeII.Experiments.Evaluation;

/// <summary>Threshold-free and thresholded metrics for one label's scores. The CLI, the metrics file and the report all use these.</summary>
public static class BinaryMetrics
{
    /// <summary>
    /// Cumulative counts when predicting positive at each distinct score, highest first. Tied scores enter together,
    /// so every metric below treats ties the same way (and the order among tied exams cannot change a result).
    /// </summary>
    readonly record struct ThresholdSweep(float[] Thresholds, long[] TruePositives, long[] FalsePositives, long Positives, long Negatives)
    {
        public static ThresholdSweep Of(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
        {
            var keys = scores.ToArray();
            var order = new int[keys.Length];
            for (var i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort(keys, order);
            var thresholds = new List<float>();
            var tps = new List<long>();
            var fps = new List<long>();
            long tp = 0, fp = 0;
            for (var i = keys.Length - 1; i >= 0; i--)
            {
                if (truth[order[i]]) tp++; else fp++;
                if (i > 0 && keys[i - 1] == keys[i]) continue;
                thresholds.Add(keys[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
            return new ThresholdSweep(thresholds.ToArray(), tps.ToArray(), fps.ToArray(), tp, fp);
        }
    }

    /// <summary>
    /// The exams ordered by score, ascending, in buffers rented from the shared pool (return them with
    /// <see cref="ReturnSorted"/>): the bootstrap computes these metrics hundreds of thousands of times, and arrays
    /// allocated each time (on the large-object heap from about 10,000 exams) piled up as garbage by the gigabyte
    /// before a collection of the oldest generation took them back.
    /// </summary>
    static (float[] Keys, int[] Order) RentSorted(ReadOnlySpan<float> scores)
    {
        var keys = System.Buffers.ArrayPool<float>.Shared.Rent(scores.Length);
        var order = System.Buffers.ArrayPool<int>.Shared.Rent(scores.Length);
        scores.CopyTo(keys);
        for (var i = 0; i < scores.Length; i++) order[i] = i;
        // The same sort as Array.Sort(keys, order); tied scores enter together below, so their order does not matter.
        keys.AsSpan(0, scores.Length).Sort(order.AsSpan(0, scores.Length));
        return (keys, order);
    }

    static void ReturnSorted((float[] Keys, int[] Order) sorted)
    {
        System.Buffers.ArrayPool<float>.Shared.Return(sorted.Keys);
        System.Buffers.ArrayPool<int>.Shared.Return(sorted.Order);
    }

    static long CountPositives(ReadOnlySpan<bool> truth)
    {
        long positives = 0;
        foreach (var t in truth) if (t) positives++;
        return positives;
    }

    /// <summary>
    /// Area under the ROC curve (trapezoids, which gives ties half credit as Mann–Whitney does); NaN without both
    /// classes. The trapezoids over <see cref="RocCurve"/>'s points, summed in the same order, without keeping the points.
    /// </summary>
    public static double Auroc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        if (scores.Length == 0) return double.NaN;
        var positives = CountPositives(truth[..scores.Length]);
        var negatives = scores.Length - positives;
        var sorted = RentSorted(scores);
        var (keys, order) = sorted;
        double area = 0, previousFpr = 0, previousTpr = 0;
        long tp = 0, fp = 0;
        for (var i = scores.Length - 1; i >= 0; i--)
        {
            if (truth[order[i]]) tp++; else fp++;
            if (i > 0 && keys[i - 1] == keys[i]) continue;
            var fpr = negatives == 0 ? double.NaN : (double)fp / negatives;
            var tpr = positives == 0 ? double.NaN : (double)tp / positives;
            area += (fpr - previousFpr) * (tpr + previousTpr) / 2;
            (previousFpr, previousTpr) = (fpr, tpr);
        }
        ReturnSorted(sorted);
        return double.IsNaN(previousFpr) || double.IsNaN(previousTpr) ? double.NaN : area;
    }

    /// <summary>
    /// Average precision: Σ (Rₖ − Rₖ₋₁) Pₖ over distinct thresholds from the highest score down, the step-wise
    /// area under the precision–recall curve (scikit-learn's average_precision_score); NaN without positives.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var positives = CountPositives(truth[..scores.Length]);
        if (positives == 0) return double.NaN;
        var sorted = RentSorted(scores);
        var (keys, order) = sorted;
        double ap = 0, previousRecall = 0;
        long tp = 0, fp = 0;
        for (var i = scores.Length - 1; i >= 0; i--)
        {
            if (truth[order[i]]) tp++; else fp++;
            if (i > 0 && keys[i - 1] == keys[i]) continue;
            var recall = (double)tp / positives;
            ap += (recall - previousRecall) * tp / (tp + fp);
            previousRecall = recall;
        }
        ReturnSorted(sorted);
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
        var sweep = ThresholdSweep.Of(scores, truth);
        if (sweep.Positives == 0 || sweep.Thresholds.Length == 0) return double.PositiveInfinity;
        var best = 0;
        double bestF1 = -1;
        for (var k = 0; k < sweep.Thresholds.Length; k++)
        {
            // F1 = 2TP / (2TP + FP + FN) = 2TP / (predicted positives + actual positives)
            var f1 = 2.0 * sweep.TruePositives[k] / (sweep.TruePositives[k] + sweep.FalsePositives[k] + sweep.Positives);
            if (f1 > bestF1) { bestF1 = f1; best = k; }
        }
        return sweep.Thresholds[best];
    }

    /// <summary>ROC points (FPR, TPR) at every distinct threshold, from (0,0) to (1,1); NaN rates where a class is absent.</summary>
    public static (double[] FalsePositiveRate, double[] TruePositiveRate) RocCurve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var sweep = ThresholdSweep.Of(scores, truth);
        var fpr = new double[sweep.Thresholds.Length + 1];
        var tpr = new double[sweep.Thresholds.Length + 1];
        for (var k = 0; k < sweep.Thresholds.Length; k++)
        {
            fpr[k + 1] = sweep.Negatives == 0 ? double.NaN : (double)sweep.FalsePositives[k] / sweep.Negatives;
            tpr[k + 1] = sweep.Positives == 0 ? double.NaN : (double)sweep.TruePositives[k] / sweep.Positives;
        }
        return (fpr, tpr);
    }

    /// <summary>
    /// Precision–recall points at every distinct threshold, highest first, after a first point (recall 0, precision 1).
    /// Drawn as steps that rise to each point's precision before moving right (plotly's <c>vh</c>), the area under them
    /// is <see cref="AveragePrecision"/>. Empty without positives.
    /// </summary>
    public static (double[] Recall, double[] Precision) PrecisionRecallCurve(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var sweep = ThresholdSweep.Of(scores, truth);
        if (sweep.Positives == 0) return ([], []);
        var recall = new double[sweep.Thresholds.Length + 1];
        var precision = new double[sweep.Thresholds.Length + 1];
        precision[0] = 1;
        for (var k = 0; k < sweep.Thresholds.Length; k++)
        {
            recall[k + 1] = (double)sweep.TruePositives[k] / sweep.Positives;
            precision[k + 1] = (double)sweep.TruePositives[k] / (sweep.TruePositives[k] + sweep.FalsePositives[k]);
        }
        return (recall, precision);
    }
}
