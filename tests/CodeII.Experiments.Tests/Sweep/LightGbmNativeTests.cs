using CodeII.Experiments.Sweep;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Tests.Sweep;

public class LightGbmNativeTests
{
    static IDataView View(MLContext ml, IEnumerable<(float[] Features, bool Label)> rows, int columns) => LabelledViews.Create(ml, rows, columns);

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void Two_boosting_rounds_on_one_perfect_split_give_the_hand_computed_Newton_steps()
    {
        // Ten exams with x = 0 (negative) and ten with x = 1 (positive); balanced, so boosting starts at score 0.
        // Round 1: gradient p − y = ∓0.5, Hessian p(1 − p) = 0.25 in each leaf, leaf value −G/H = ∓2.
        // Round 2: from ±2, p = σ(2) for the positives: gradient σ(2) − 1, Hessian σ(2)(1 − σ(2)), step −g/h.
        var ml = new MLContext(1);
        var data = View(ml, Enumerable.Range(0, 20).Select(i => (new[] { i < 10 ? 0f : 1f }, i >= 10)), 1);
        var options = new LightGbmOptions { Iterations = 1, Leaves = 2, LearningRate = 1, MinExamplesPerLeaf = 1 };
        var one = new LightGbmBinaryEstimator(ml, options).FitModel(data).Predict([[0f], [1f]]);
        Assert.Equal(Sigmoid(-2), one[0], 5);
        Assert.Equal(Sigmoid(2), one[1], 5);

        var p = Sigmoid(2);
        var secondStep = -(p - 1) / (p * (1 - p));
        var two = new LightGbmBinaryEstimator(ml, options with { Iterations = 2 }).FitModel(data).Predict([[0f], [1f]]);
        Assert.Equal(Sigmoid(-2 - secondStep), two[0], 5);
        Assert.Equal(Sigmoid(2 + secondStep), two[1], 5);
    }

    static (IDataView Train, IDataView Validation, float[][] Rows) NoisyData(MLContext ml)
    {
        // One informative feature among five, and label noise, so boosting overfits after a while.
        var random = new Random(5);
        var rows = Enumerable.Range(0, 1200).Select(_ => Enumerable.Range(0, 5).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
        var labels = rows.Select(r => random.NextDouble() < 0.2 + 0.6 * r[0]).ToArray();
        return (View(ml, rows.Take(800).Select((r, i) => (r, labels[i])), 5), View(ml, rows.Skip(800).Select((r, i) => (r, labels[800 + i])), 5), rows);
    }

    [Fact]
    public void Early_stopping_keeps_the_trees_up_to_the_best_validation_round_and_predicts_as_a_model_of_that_many_trees()
    {
        var ml = new MLContext(1);
        var (train, validation, rows) = NoisyData(ml);
        var options = new LightGbmOptions { Iterations = 500, Leaves = 31, LearningRate = 0.3, MinExamplesPerLeaf = 2, EarlyStoppingRounds = 10 };
        var stopped = new LightGbmBinaryEstimator(ml, options, validation).FitModel(train);
        Assert.True(stopped.TreesGrown < 500, $"{stopped.TreesGrown} trees: boosting never stopped");
        Assert.Equal(stopped.TreesUsed + 10, stopped.TreesGrown);

        var exact = new LightGbmBinaryEstimator(ml, options with { Iterations = stopped.TreesUsed, EarlyStoppingRounds = 0 }).FitModel(train);
        Assert.Equal(exact.Predict(rows), stopped.Predict(rows));
    }

    [Fact]
    public void A_feature_only_a_few_exams_separate_stays_usable_for_small_leaves_after_the_dataset_served_large_ones()
    {
        // Ten positives marked by one feature, 790 negatives, four noise features. LightGBM drops at binning time the
        // features its default min_data_in_leaf (20) could not split unless pre-filtering is off; the binned
        // dataset is built once and reused for every configuration, so it must keep them for the small leaves a
        // later configuration may ask for.
        var ml = new MLContext(1);
        var random = new Random(3);
        var rows = Enumerable.Range(0, 800).Select(i => new[] { i < 10 ? 1f : 0f }.Concat(Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble())).ToArray()).ToArray();
        var train = View(ml, rows.Select((r, i) => (r, i < 10)), 5);
        new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 5, Leaves = 4, MinExamplesPerLeaf = 300 }).FitModel(train);
        var small = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 20, Leaves = 4, MinExamplesPerLeaf = 2 }).FitModel(train);
        var p = small.Predict(rows);
        Assert.All(p.Take(10), v => Assert.True(v > 0.5, $"a marked positive scored {v:F3}"));
        Assert.All(p.Skip(10), v => Assert.True(v < 0.5, $"a negative scored {v:F3}"));
    }

    [Fact]
    public void A_feature_is_split_at_no_more_thresholds_than_its_bins_allow_and_each_bin_count_keeps_its_own_dataset()
    {
        // A feature with 1,000 distinct values and labels that change every few rows, so deep boosting wants a split
        // between almost every pair of neighbours. LightGBM can only split between bins: at most max_bin − 1
        // distinct thresholds, whatever the trees want (LightGBM's documented meaning of max_bin).
        var ml = new MLContext(1);
        var train = View(ml, Enumerable.Range(0, 1000).Select(i => (new[] { i / 1000f }, i * 7919 % 13 < 6)), 1);
        var options = new LightGbmOptions { Iterations = 100, Leaves = 31, LearningRate = 0.3, MinExamplesPerLeaf = 1 };
        static int Thresholds(LightGbmBinaryModel model) => model.ToModelString().Split('\n')
            .Where(line => line.StartsWith("threshold=", StringComparison.Ordinal))
            .SelectMany(line => line["threshold=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)).Distinct().Count();

        var coarse = new LightGbmBinaryEstimator(ml, options).FitModel(train);
        Assert.Equal(63, options.MaxBin);
        Assert.InRange(Thresholds(coarse), 40, 62);
        // The same view then serves 255 bins (its own dataset, not the 63-bin one) and 63 again (the first dataset).
        var fine = new LightGbmBinaryEstimator(ml, options with { MaxBin = 255 }).FitModel(train);
        Assert.InRange(Thresholds(fine), 100, 254);
        Assert.Equal(coarse.ToModelString(), new LightGbmBinaryEstimator(ml, options).FitModel(train).ToModelString());
    }

    [Fact]
    public void The_ML_NET_transformer_scores_what_the_batch_prediction_does_and_adds_score_probability_and_label()
    {
        var ml = new MLContext(1);
        var (train, validation, _) = NoisyData(ml);
        var estimator = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 30, Leaves = 8 });
        var model = estimator.FitModel(train);
        var scored = model.Transformer.Transform(validation);
        var probabilities = scored.GetColumn<float>("Probability").ToArray();
        var features = validation.GetColumn<float[]>("Features").ToArray();
        Assert.Equal(model.Predict(features), probabilities);
        Assert.Equal(probabilities.Select(p => p >= 0.5f), scored.GetColumn<bool>("PredictedLabel"));
        Assert.Equal(probabilities.Select(p => (float)Math.Log(p / (1 - p))), scored.GetColumn<float>("Score"));
    }

    [Fact]
    public void A_cancelled_fit_stops_itself_within_a_tree_rather_than_running_on_abandoned()
    {
        var ml = new MLContext(1);
        var (train, _, _) = NoisyData(ml);
        using var cancellation = new CancellationTokenSource();
        var estimator = new LightGbmBinaryEstimator(ml, new LightGbmOptions { Iterations = 1_000_000, Leaves = 64, MinExamplesPerLeaf = 1 },
            cancellationToken: cancellation.Token);
        var fit = Task.Run(() => estimator.FitModel(train));
        Thread.Sleep(300);
        Assert.False(fit.IsCompleted); // a million trees take minutes
        cancellation.Cancel();
        // Uncancelled, the fit runs for minutes; 60 s is a limit no loaded machine reaches for one tree, not a speed target.
        Assert.Throws<OperationCanceledException>(() =>
        {
            try { Assert.True(fit.Wait(TimeSpan.FromSeconds(60)), "the cancelled fit was still running after 60 s"); }
            catch (AggregateException e) { throw e.InnerException!; }
        });
    }
}
