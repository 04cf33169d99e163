using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class CalibrationTests
{
    static readonly float[] Scores = [0.05f, 0.15f, 0.12f, 0.55f, 0.95f, 0.90f, 0.50f, 1.0f];
    static readonly bool[] Truth = [false, false, true, true, true, false, false, true];

    [Fact]
    public void The_Brier_score_and_the_bins_are_worked_by_hand()
    {
        var c = Calibration.Of(Scores, Truth, bins: 10);
        // (0.05² + 0.15² + 0.88² + 0.45² + 0.05² + 0.90² + 0.50² + 0²) / 8 = (0.0025 + 0.0225 + 0.7744 + 0.2025 + 0.0025 + 0.81 + 0.25) / 8
        Assert.Equal(2.0644 / 8, c.Brier, 6);
        Assert.Equal(10, c.Bins.Count);
        // [0, 0.1): 0.05, a negative. [0.1, 0.2): 0.15 and 0.12, one positive. [0.5, 0.6): 0.55 and 0.50, one positive.
        // [0.9, 1.0]: 0.95, 0.90 and 1.0 (the last bin is closed), two positives.
        Assert.Equal((1, 0.05, 0.0), (c.Bins[0].Exams, Math.Round(c.Bins[0].MeanPredicted, 6), c.Bins[0].ObservedPositive));
        Assert.Equal((2, 0.135, 0.5), (c.Bins[1].Exams, Math.Round(c.Bins[1].MeanPredicted, 6), c.Bins[1].ObservedPositive));
        Assert.Equal((2, 0.525, 0.5), (c.Bins[5].Exams, Math.Round(c.Bins[5].MeanPredicted, 6), c.Bins[5].ObservedPositive));
        Assert.Equal(3, c.Bins[9].Exams);
        Assert.Equal(0.95, c.Bins[9].MeanPredicted, 6);
        Assert.Equal(2.0 / 3, c.Bins[9].ObservedPositive, 12);
        Assert.Equal(0, c.Bins[3].Exams);
        Assert.True(double.IsNaN(c.Bins[3].MeanPredicted));
        Assert.Equal(8, c.Bins.Sum(b => b.Exams));
    }

    [Fact]
    public void The_confusion_matrix_counts_scores_at_or_above_the_threshold_as_positive()
    {
        // At 0.5: positives 0.55, 0.95, 0.90, 0.50, 1.0 → TP 3 (0.55, 0.95, 1.0), FP 2 (0.90, 0.50); negatives → TN 2, FN 1 (0.12).
        var c = ConfusionMatrix.At(Scores, Truth, 0.5);
        Assert.Equal(new ConfusionMatrix(3, 2, 2, 1), c);
        Assert.Equal(0.75, c.Sensitivity, 12);
        Assert.Equal(0.5, c.Specificity, 12);
        Assert.Equal(0.6, c.Ppv, 12);
        Assert.Equal(2.0 / 3, c.Npv, 12);
        Assert.True(double.IsNaN(ConfusionMatrix.At([0.1f], [false], 0.5).Sensitivity));
    }
}
