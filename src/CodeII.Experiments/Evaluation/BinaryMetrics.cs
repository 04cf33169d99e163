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

    /// <summary>Area under the ROC curve (trapezoids, which gives ties half credit as Mann–Whitney does); NaN without both classes.</summary>
    public static double Auroc(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var (fpr, tpr) = RocCurve(scores, truth);
        if (fpr.Length < 2 || double.IsNaN(fpr[^1]) || double.IsNaN(tpr[^1])) return double.NaN;
        double area = 0;
        for (var i = 1; i < fpr.Length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
        return area;
    }

    /// <summary>
    /// Average precision: Σ (Rₖ − Rₖ₋₁) Pₖ over distinct thresholds from the highest score down, the step-wise
    /// area under the precision–recall curve (scikit-learn's average_precision_score); NaN without positives.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth)
    {
        var sweep = ThresholdSweep.Of(scores, truth);
        if (sweep.Positives == 0) return double.NaN;
        double ap = 0, previousRecall = 0;
        for (var k = 0; k < sweep.Thresholds.Length; k++)
        {
            var recall = (double)sweep.TruePositives[k] / sweep.Positives;
            ap += (recall - previousRecall) * sweep.TruePositives[k] / (sweep.TruePositives[k] + sweep.FalsePositives[k]);
            previousRecall = recall;
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
