using CodeII.Experiments.Evaluation;

namespace CodeII.Experiments.Tests.Evaluation;

public class BenchmarkTests
{
    [Fact]
    public void The_official_Challenge_score_matches_a_case_worked_by_hand()
    {
        // Classes A, B and sinus rhythm; A and B half-similar. Worked by hand with evaluate_model.py's rules:
        // observed 1 + 0.5/2 + (0 + 1)/2 = 1.75; correct 1 + 1 + (1 + 1)/2 = 3; sinus rhythm alone 0 + 0 + 1/2 = 0.5;
        // (1.75 − 0.5) / (3 − 0.5) = 0.5.
        var weights = new double[,] { { 1, 0.5, 0 }, { 0.5, 1, 0 }, { 0, 0, 1 } };
        bool[][] truth = [[true, false, false], [false, true, false], [true, false, true]];
        bool[][] predicted = [[true, false, false], [true, false, false], [false, false, true]];
        Assert.Equal(0.5, OfficialChallengeScore.Compute(truth, predicted, weights, sinusRhythm: 2), 12);
        Assert.Equal(1.0, OfficialChallengeScore.Compute(truth, truth, weights, 2), 12);
        Assert.Equal(0.0, OfficialChallengeScore.Compute(truth, [.. truth.Select(_ => new[] { false, false, true })], weights, 2), 12);
    }

    [Fact]
    public void Weights_are_read_from_the_Challenge_s_table_with_its_joined_classes()
    {
        var file = RepoPaths.Shared("cinc2021", "_label_maps", "weights.csv");
        // AF (164889003) and atrial flutter (164890007): 0.5 in the published table; RBBB (59118001) is in the column
        // the table heads "713427006|59118001", so complete RBBB's code finds the same column.
        var weights = OfficialChallengeScore.WeightsFor(["164889003", "164890007", "59118001"], file)!;
        Assert.Equal(1.0, weights[0, 0]);
        Assert.Equal(0.5, weights[0, 1]);
        Assert.Equal(0.5, weights[1, 0]);
        Assert.Equal(1.0, weights[2, 2]);
        var complete = OfficialChallengeScore.WeightsFor(["713427006", "164889003"], file)!;
        Assert.Equal(weights[2, 0], complete[0, 1]);
        Assert.Null(OfficialChallengeScore.WeightsFor(["164889003", "999999999"], file));
    }

    [Fact]
    public void The_precision_recall_curve_drawn_as_steps_has_the_average_precision_as_its_area()
    {
        // Scores 0.9 (+), 0.8 (−), 0.7 (+), 0.6 (−): points (0, 1), (0.5, 1), (0.5, 0.5), (1, 2/3), (1, 0.5).
        float[] scores = [0.9f, 0.8f, 0.7f, 0.6f];
        bool[] truth = [true, false, true, false];
        var (recall, precision) = BinaryMetrics.PrecisionRecallCurve(scores, truth);
        Assert.Equal([0, 0.5, 0.5, 1, 1], recall);
        Assert.Equal([1, 1, 0.5, 2.0 / 3, 0.5], precision, (a, b) => Math.Abs(a - b) < 1e-12);
        // Steps rising to each point before moving right (plotly's "vh"): Σ (Rₖ − Rₖ₋₁) Pₖ = 0.5 + 0 + 0.5·2/3 + 0 = 5/6.
        var area = Enumerable.Range(1, recall.Length - 1).Sum(k => (recall[k] - recall[k - 1]) * precision[k]);
        Assert.Equal(5.0 / 6, area, 12);
        Assert.Equal(5.0 / 6, BinaryMetrics.AveragePrecision(scores, truth), 12);
    }

    [Fact]
    public void Two_close_models_on_the_same_patients_differ_within_a_narrower_paired_interval_than_an_unpaired_one()
    {
        // Model B is model A plus a little noise: on the same patients their difference barely moves between
        // resamples (paired), while resampling each on its own adds each one's whole sampling spread (unpaired).
        var patients = Enumerable.Range(0, 300).Select(i => $"p{i}").ToArray();
        var rng = new Random(3);
        var truth = patients.Select(_ => rng.NextDouble() < 0.3).ToArray();
        var a = truth.Select(t => (float)(rng.NextDouble() + (t ? 0.6 : 0))).ToArray();
        var b = a.Select(x => x + (float)(0.05 * rng.NextDouble())).ToArray();
        Func<int[], double> Auroc(float[] scores) => idx => BinaryMetrics.Auroc([.. idx.Select(i => scores[i])], [.. idx.Select(i => truth[i])]);
        var first = new PatientBootstrap(patients, 500, seed: 1);
        var second = new PatientBootstrap(patients, 500, seed: 2);
        var paired = first.Estimate(300, idx => Auroc(b)(idx) - Auroc(a)(idx));
        var unpaired = second.UnpairedDifference(300, Auroc(b), first, 300, Auroc(a));
        Assert.Equal(paired.Value, unpaired.Value, 12);
        Assert.True(unpaired.Lower < paired.Lower && unpaired.Upper > paired.Upper, $"paired {paired}, unpaired {unpaired}");
        Assert.True(unpaired.Upper - unpaired.Lower > 3 * (paired.Upper - paired.Lower), $"paired {paired}, unpaired {unpaired}");
    }
}
