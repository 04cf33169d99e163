using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Tests.Sweep;
using Microsoft.ML;

namespace CodeII.Experiments.Tests.Evaluation;

public class PermutationImportanceTests
{
    /// <summary>Five standard-normal columns; the label is x2 &gt; 0 flipped for 10 % of the exams.</summary>
    static (float[][] Rows, bool[] Truth) Table(int count, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var rows = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 5).Select(_ => (float)Normal()).ToArray()).ToArray();
        var truth = rows.Select(r => r[2] > 0 ^ random.NextDouble() < 0.1).ToArray();
        return (rows, truth);
    }

    [Fact]
    public void A_trained_model_s_permutation_importance_ranks_first_the_feature_the_label_was_made_from()
    {
        var ml = new MLContext(1);
        var (train, trainTruth) = Table(1000, 1);
        var (validation, validationTruth) = Table(400, 2);
        var model = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 50, Leaves = 8, MinExamplesPerLeaf = 10 })
            .FitModel(LabelledViews.Create(ml, train.Select((r, i) => (r, trainTruth[i])), 5));

        var (auroc, drops) = PermutationImportance.Compute(model.Predict, validation, validationTruth, repeats: 5, seed: 42);
        Assert.InRange(auroc, 0.85, 0.95); // 10 % of labels flipped caps it near 0.9
        Assert.Equal(2, Array.IndexOf(drops, drops.MaxBy(d => d.Mean)));
        // Shuffling x2 leaves the model guessing: the drop is most of the AUROC above chance.
        Assert.InRange(drops[2].Mean, 0.3, 0.5);
        Assert.All(drops, d => Assert.True(double.IsFinite(d.Sd) && d.Sd >= 0, $"SD {d.Sd}"));
        Assert.True(drops[2].Sd > 0, "five different shuffles should give different drops");
        Assert.All(drops.Where((_, j) => j != 2), d => Assert.InRange(d.Mean, -0.02, 0.02));

        // Deterministic for a seed; another seed shuffles differently.
        Assert.Equal(drops, PermutationImportance.Compute(model.Predict, validation, validationTruth, repeats: 5, seed: 42).Drops);
        Assert.NotEqual(drops, PermutationImportance.Compute(model.Predict, validation, validationTruth, repeats: 5, seed: 43).Drops);
    }

    [Fact]
    public void A_feature_the_model_does_not_read_has_a_drop_of_exactly_zero_after_one_shuffle_and_an_unshuffled_one_is_not_scored()
    {
        var (rows, truth) = Table(300, 3);
        var scored = 0;
        float[] ReadsOnlyX2(IReadOnlyList<float[]> batch)
        {
            Interlocked.Add(ref scored, batch.Count);
            return [.. batch.Select(r => r[2])];
        }

        var (auroc, drops) = PermutationImportance.Compute(ReadsOnlyX2, rows, truth, repeats: 3, seed: 7, shuffle: j => j != 4);
        Assert.Equal(BinaryMetrics.Auroc([.. rows.Select(r => r[2])], truth), auroc);
        foreach (var j in new[] { 0, 1, 3, 4 }) Assert.Equal(new AurocDrop(0, 0), drops[j]);
        Assert.True(drops[2].Mean > 0.3);
        // The unshuffled rows once; a shuffle of each of the three features the scorer ignores, which changes no score;
        // three of x2; none of x4.
        Assert.Equal(300 + 3 * 300 + 3 * 300, scored);
        // The rows given are left as they were.
        Assert.Equal(Table(300, 3).Rows, rows);
    }

    [Fact]
    public void Near_duplicates_hide_behind_each_other_alone_and_show_what_they_carry_when_shuffled_together()
    {
        // Heart rate and RR as the quickstart has them: one made from the other, so the model can read either.
        var (rows, truth) = Table(400, 5);
        var withTwin = rows.Select(r => r.Append(-r[2]).ToArray()).ToArray();
        float[] ReadsEither(IReadOnlyList<float[]> batch) => [.. batch.Select(r => Math.Max(r[2], -r[5]))];

        var (_, drops) = PermutationImportance.Compute(ReadsEither, withTwin, truth, repeats: 5, seed: 3, columnSets: [[2], [5], [2, 5]]);
        Assert.All(drops.Take(2), d => Assert.True(d.Mean < 0.25, $"alone: {d.Mean}"));
        Assert.True(drops[2].Mean > 0.35, $"together: {drops[2].Mean}");
        // A set of one column is shuffled exactly as that feature alone.
        Assert.Equal(PermutationImportance.Compute(ReadsEither, withTwin, truth, repeats: 5, seed: 3).Drops[2], drops[0]);
    }

    [Fact]
    public void Correlated_groups_join_near_duplicates_through_ranks_and_missing_values_and_leave_the_rest_alone()
    {
        var random = new Random(8);
        var rows = Enumerable.Range(0, 300).Select(i =>
        {
            var rr = 600 + 600 * (float)random.NextDouble();
            var noise = (float)random.NextDouble();
            return new[]
            {
                rr,                                                      // 0 rr_mean_ms
                noise,                                                   // 1 unrelated
                60_000 / rr,                                             // 2 hr_bpm: ρ = −1, not linear
                i % 10 == 0 ? float.NaN : rr + 20 * (float)random.NextDouble(), // 3 rr_min_ms, sometimes unmeasured
                5f,                                                      // 4 constant
                noise * noise,                                           // 5 a monotone function of 1
                (float)random.NextDouble(),                              // 6 unrelated
            };
        }).ToArray();
        var groups = CorrelatedFeatures.Groups(rows, 0.9);
        Assert.Equal([[0, 2, 3], [1, 5]], groups);
        Assert.Empty(CorrelatedFeatures.Groups([.. rows.Select(r => new[] { r[1], r[6], r[4] })], 0.9));
    }

    [Fact]
    public void Scoring_in_parts_from_a_small_buffer_gives_the_same_drops_as_scoring_every_repeat_at_once()
    {
        var (rows, truth) = Table(200, 9);
        var batches = new List<int>();
        float[] Score(IReadOnlyList<float[]> batch)
        {
            batches.Add(batch.Count);
            return [.. batch.Select(r => r[2] + 0.3f * r[0])];
        }
        int[][] sets = [[0], [1], [2], [3], [4], [0, 2]];
        var whole = PermutationImportance.Compute(Score, rows, truth, 4, 11, sets);
        // The unshuffled rows, then per set read by the scorer its first shuffle and the three others at once; per
        // set not read, its first shuffle only.
        Assert.Equal([200, 200, 600, 200, 200, 600, 200, 200, 200, 600], batches);
        batches.Clear();
        // 7 rows of 5 values at a time: parts that straddle repeats and exams.
        var parts = PermutationImportance.Compute(Score, rows, truth, 4, 11, sets, null, maxBufferedValues: 35, CancellationToken.None);
        Assert.Equal(200, batches[0]);
        Assert.All(batches.Skip(1), count => Assert.InRange(count, 1, 7));
        Assert.Equal(200 + 3 * 4 * 200 + 3 * 200, batches.Sum());
        Assert.Equal(whole.Drops, parts.Drops);
        Assert.Equal(Table(200, 9).Rows, rows);
    }

    [Fact]
    public void One_repeat_has_no_spread_to_estimate()
    {
        var (rows, truth) = Table(100, 4);
        var (_, drops) = PermutationImportance.Compute(batch => [.. batch.Select(r => r[2])], rows, truth, repeats: 1, seed: 1);
        Assert.True(double.IsNaN(drops[2].Sd));
    }
}
