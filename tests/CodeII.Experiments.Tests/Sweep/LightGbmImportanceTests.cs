using CodeII.Experiments.Sweep;
using Microsoft.ML;

namespace CodeII.Experiments.Tests.Sweep;

/// <summary>LightGBM's gain importance and TreeSHAP contributions through our C API wrapper, on known answers.</summary>
public class LightGbmImportanceTests
{
    /// <summary>Five features, the label a noisy function of the first two, with some values missing (LightGBM sends
    /// NaN down a learned default branch, which TreeSHAP must follow too).</summary>
    static (LightGbmBinaryModel Model, float[][] Rows) Trained(MLContext ml)
    {
        var random = new Random(11);
        var rows = Enumerable.Range(0, 600).Select(_ => Enumerable.Range(0, 5).Select(_ => random.NextDouble() < 0.05 ? float.NaN : (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var labels = rows.Select(r => (double.IsNaN(r[0]) ? 0 : r[0]) + 0.5 * (double.IsNaN(r[1]) ? 0 : r[1]) + 0.4 * (random.NextDouble() - 0.5) > 0).ToArray();
        var view = LabelledViews.Create(ml, rows.Select((r, i) => (r, labels[i])), 5);
        var model = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 40, Leaves = 8, LearningRate = 0.2, MinExamplesPerLeaf = 5 }).FitModel(view);
        return (model, rows);
    }

    [Fact]
    public void TreeSHAP_contributions_and_the_expected_value_sum_to_the_raw_margin_for_every_row()
    {
        var ml = new MLContext(1);
        var (model, rows) = Trained(ml);
        var raw = model.RawScores(rows);
        var contributions = model.Contributions(rows);
        Assert.Equal(rows.Length * 6, contributions.Length);
        var probabilities = model.Predict(rows);
        for (var r = 0; r < rows.Length; r++)
        {
            var sum = contributions.AsSpan(r * 6, 6).ToArray().Sum();
            Assert.True(Math.Abs(sum - raw[r]) <= 1e-6 * Math.Max(1, Math.Abs(raw[r])), $"row {r}: contributions sum to {sum:R}, raw margin {raw[r]:R}");
            // The raw margin is what the probability is the sigmoid of.
            Assert.Equal(1 / (1 + Math.Exp(-raw[r])), probabilities[r], 5);
        }
        // The expected value (last column) is one number for the model, the same in every row.
        Assert.Single(Enumerable.Range(0, rows.Length).Select(r => contributions[r * 6 + 5]).Distinct());
        // Features the label ignores contribute far less than the one it is mostly made of.
        var meanAbs = Enumerable.Range(0, 5).Select(j => Enumerable.Range(0, rows.Length).Average(r => Math.Abs(contributions[r * 6 + j]))).ToArray();
        Assert.Equal(0, Array.IndexOf(meanAbs, meanAbs.Max()));
    }

    [Fact]
    public void The_feature_that_alone_determines_the_label_has_the_most_gain_and_a_saved_booster_reports_the_same()
    {
        var ml = new MLContext(1);
        var random = new Random(4);
        var rows = Enumerable.Range(0, 800).Select(_ => Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var view = LabelledViews.Create(ml, rows.Select(r => (r, r[0] > 0.5f)), 4);
        var model = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 20, Leaves = 4, MinExamplesPerLeaf = 5 }).FitModel(view);
        var gain = model.GainImportance();
        Assert.Equal(4, gain.Length);
        Assert.Equal(0, Array.IndexOf(gain, gain.Max()));
        Assert.True(gain[0] > 10 * gain.Skip(1).Sum(), $"gain {string.Join(", ", gain)}: the noise features should have next to none");
        var splits = model.SplitCounts();
        Assert.True(splits[0] > 0);
        Assert.All(splits, s => Assert.Equal(Math.Round(s), s));

        using var loaded = LightGbmBinaryModel.Load(ml, model.ToModelString(), 4);
        // The model text keeps split gains in single precision; the trees themselves are exact.
        Assert.All(gain.Zip(loaded.GainImportance()), g => Assert.Equal(g.First, g.Second, 1e-6 * Math.Max(1, g.First)));
        Assert.Equal(splits, loaded.SplitCounts());
    }

    [Fact]
    public void Importances_and_contributions_refuse_a_booster_of_another_width_rather_than_overrun_the_buffer()
    {
        var ml = new MLContext(1);
        var (model, rows) = Trained(ml);
        using var narrower = LightGbmBinaryModel.Load(ml, model.ToModelString(), 3);
        Assert.Throws<InvalidOperationException>(() => narrower.GainImportance());
        Assert.Throws<InvalidOperationException>(() => narrower.Contributions([.. rows.Select(r => r[..3])]));
    }
}
