namespace CodeII.Experiments.Evaluation;

/// <summary>Counts at a threshold (scores at or above it are positive) and the rates a clinician reads from them.</summary>
public sealed record ConfusionMatrix(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    public double Sensitivity => Rate(TruePositives, TruePositives + FalseNegatives);
    public double Specificity => Rate(TrueNegatives, TrueNegatives + FalsePositives);
    /// <summary>Positive predictive value (precision).</summary>
    public double Ppv => Rate(TruePositives, TruePositives + FalsePositives);
    public double Npv => Rate(TrueNegatives, TrueNegatives + FalseNegatives);

    static double Rate(int part, int whole) => whole == 0 ? double.NaN : (double)part / whole;

    public static ConfusionMatrix At(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth, double threshold)
    {
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            var positive = scores[i] >= threshold;
            if (positive && truth[i]) tp++;
            else if (positive) fp++;
            else if (truth[i]) fn++;
            else tn++;
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }
}

/// <summary>One bin of a reliability diagram: its exams, their mean predicted probability and the share that are positive.</summary>
public sealed record CalibrationBin(double Lower, double Upper, int Exams, double MeanPredicted, double ObservedPositive);

/// <summary>A model's calibration on the test exams: the Brier score and a reliability diagram in equal-width bins.</summary>
public sealed record Calibration(double Brier, IReadOnlyList<CalibrationBin> Bins)
{
    /// <summary>Brier score, the mean of (score − outcome)²; bins [k/B, (k+1)/B), the last closed at 1; an empty bin has NaN means.</summary>
    public static Calibration Of(ReadOnlySpan<float> scores, ReadOnlySpan<bool> truth, int bins = 10)
    {
        var brier = 0.0;
        var counts = new int[bins];
        var predicted = new double[bins];
        var positives = new int[bins];
        for (var i = 0; i < scores.Length; i++)
        {
            var p = Math.Clamp((double)scores[i], 0, 1);
            var y = truth[i] ? 1.0 : 0.0;
            brier += (p - y) * (p - y);
            // Scores are stored as floats: 0.9f is 0.89999998, which belongs to the bin that starts at 0.9.
            var b = Math.Min(bins - 1, (int)Math.Floor(p * bins + 1e-6));
            counts[b]++;
            predicted[b] += p;
            if (truth[i]) positives[b]++;
        }
        return new Calibration(scores.Length == 0 ? double.NaN : brier / scores.Length,
            [.. Enumerable.Range(0, bins).Select(b => new CalibrationBin((double)b / bins, (double)(b + 1) / bins, counts[b],
                counts[b] == 0 ? double.NaN : predicted[b] / counts[b], counts[b] == 0 ? double.NaN : (double)positives[b] / counts[b]))]);
    }
}
