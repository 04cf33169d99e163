using System.Runtime.InteropServices;
using System.Text.Json;
using CodeII.Experiments.Cli;

namespace CodeII.Experiments.Tests.Cli;

/// <summary>The arithmetic of <c>codeii bench sweep</c>: best-so-far curves, time to reach a peer's best, medians with
/// "not reached", and the peers' JSON line; and the Optuna peer itself on a matrix whose AUROCs are known.</summary>
public class SweepRaceTests
{
    static SearchCurve Curve(double[] seconds, double[] auroc, double wall = 10, string method = "m") =>
        SearchCurve.FromTrials(method, seconds, auroc, wall, testAuroc: 0.5);

    [Fact]
    public void The_curve_is_the_best_so_far_skipping_unscored_trials()
    {
        var curve = Curve([1, 2, 3, 4, 5], [0.90, double.NaN, 0.85, 0.95, 0.93]);
        Assert.Equal([0.90, 0.90, 0.90, 0.95, 0.95], curve.BestSoFar);
        Assert.Equal(0.95, curve.Best);
        Assert.Equal(5, curve.Trials);
        Assert.True(double.IsNaN(Curve([1], [double.NaN]).Best));
        Assert.True(double.IsNaN(Curve([], []).Best));
    }

    [Fact]
    public void Time_to_reach_is_the_first_trial_whose_best_so_far_reaches_the_target()
    {
        var curve = Curve([1.5, 2.5, 4.0, 7.0], [0.90, 0.92, 0.92, 0.97]);
        Assert.Equal(2.5, curve.TimeToReach(0.92));   // reached exactly, at its first occurrence
        Assert.Equal(7.0, curve.TimeToReach(0.93));
        Assert.Equal(1.5, curve.TimeToReach(0.5));
        Assert.Null(curve.TimeToReach(0.971));
        Assert.Equal(0.92, curve.BestBy(4.0));
        Assert.Equal(0.92, curve.BestBy(6.9));
        Assert.True(double.IsNaN(curve.BestBy(1.0)));
    }

    [Fact]
    public void The_share_is_time_to_reach_the_peers_final_best_over_the_peers_wall_time_and_infinite_when_not_reached()
    {
        var peer = Curve([10, 20, 40], [0.80, 0.91, 0.90], wall: 50, method: "peer");   // final best 0.91
        var fast = Curve([1, 5, 12], [0.85, 0.91, 0.95]);
        var slow = Curve([1, 5, 12], [0.85, 0.90, 0.909]);
        Assert.Equal(5.0 / 50, fast.ShareToReach(peer));
        Assert.Equal(double.PositiveInfinity, slow.ShareToReach(peer));
    }

    [Fact]
    public void Medians_rank_not_reached_above_every_reached_share()
    {
        var inf = double.PositiveInfinity;
        Assert.Equal((0.2, 0.1, 0.9), Shares.Summary([0.9, 0.1, 0.2]));
        Assert.Equal((0.375, 0.125, inf), Shares.Summary([0.25, inf, 0.125, 0.5]));   // middle two 0.25 and 0.5
        Assert.Equal((0.4, 0.1, inf), Shares.Summary([inf, 0.1, 0.4]));               // one not reached of three: the median is reached
        Assert.Equal((inf, 0.1, inf), Shares.Summary([inf, 0.1, inf]));               // two of three: the median is not reached
        Assert.Equal((inf, 0.1, inf), Shares.Summary([inf, 0.1, 0.2, inf]));          // an even count whose upper middle is not reached
        Assert.True(double.IsNaN(Shares.Summary([]).Median));
        Assert.Throws<ArgumentException>(() => Shares.Summary([0.1, double.NaN]));
        Assert.Equal("not reached", Shares.Percent(inf));
        Assert.Equal("inf", Shares.Value(inf));
        Assert.Equal("0.125", Shares.Value(0.125));
    }

    [Fact]
    public void A_peer_line_becomes_its_curve_and_a_broken_one_is_named_by_field()
    {
        var curve = PeerOutput.Parse("optuna", """{"peer": "optuna-tpe-hgb", "wall_s": 12.5, "elapsed_s": [1.0, 3.0, 6.5], "auroc": [0.9, null, 0.95], "best_params": {"max_iter": 9}, "test_auroc": 0.93}""");
        Assert.Equal("optuna", curve.Method);
        Assert.Equal([1.0, 3.0, 6.5], curve.Seconds);
        Assert.Equal([0.9, 0.9, 0.95], curve.BestSoFar);
        Assert.Equal(12.5, curve.WallSeconds);
        Assert.Equal(0.93, curve.TestAuroc);

        (string Line, string Error)[] broken =
        [
            ("Traceback", "optuna peer: its output line is not JSON"),
            ("[1, 2]", "optuna peer: its output line is not a JSON object"),
            ("""{"elapsed_s": [1], "auroc": [0.9], "test_auroc": 0.9}""", "optuna peer: field 'wall_s' is missing"),
            ("""{"wall_s": "12", "elapsed_s": [1], "auroc": [0.9], "test_auroc": 0.9}""", "optuna peer: field 'wall_s' is not a number"),
            ("""{"wall_s": 12, "elapsed_s": [1], "auroc": ["x"], "test_auroc": 0.9}""", "optuna peer: field 'auroc', item 0 is neither a number nor null"),
            ("""{"wall_s": 12, "elapsed_s": [1, 2], "auroc": [0.9], "test_auroc": 0.9}""", "optuna peer: 'elapsed_s' has 2 items and 'auroc' 1"),
        ];
        foreach (var (line, error) in broken)
            Assert.StartsWith(error, Assert.Throws<InvalidDataException>(() => PeerOutput.Parse("optuna", line)).Message);
    }

    [Theory]
    [InlineData("No module named 'xgboost'", "python3-xgboost")]
    [InlineData("ModuleNotFoundError: No module named 'optuna.samplers'", "python3-optuna")]
    [InlineData("ModuleNotFoundError: No module named 'pandas'", null)]
    public void A_missing_module_is_named_by_its_Debian_package(string error, string? package) =>
        Assert.Equal(package, BenchCommand.PackageOf(error, new Dictionary<string, string> { ["xgboost"] = "python3-xgboost", ["optuna"] = "python3-optuna" }));

    /// <summary>Every feature separates the classes on training and validation rows, and the reverse way on test rows:
    /// any model that learns anything scores validation AUROC 1 and, if the test rows are the ones scored, test AUROC 0.</summary>
    static string Matrix(string dir, int train, int validation, int test, int features)
    {
        var random = new Random(3);
        var rows = train + validation + test;
        var labels = Enumerable.Range(0, rows).Select(i => (float)(i % 2)).ToArray();
        var values = new List<float>();
        for (var i = 0; i < rows; i++)
        {
            var shift = i < train + validation ? labels[i] : 1 - labels[i];
            for (var f = 0; f < features; f++) values.Add(2 * shift + (float)random.NextDouble());
        }
        var path = Path.Combine(dir, "matrix.f32");
        File.WriteAllBytes(path, [.. MemoryMarshal.AsBytes(values.ToArray().AsSpan()), .. MemoryMarshal.AsBytes(labels.AsSpan())]);
        return path;
    }

    [FactNeedingPython("optuna", "python3-optuna", "sklearn", "python3-sklearn")]
    public void The_Optuna_HistGradientBoosting_peer_scores_validation_rows_in_the_search_and_test_rows_once_with_its_choice() => OptunaPeer("hgb");

    [FactNeedingPython("optuna", "python3-optuna", "xgboost", "python3-xgboost", "sklearn", "python3-sklearn")]
    public void The_Optuna_XGBoost_peer_scores_validation_rows_in_the_search_and_test_rows_once_with_its_choice() => OptunaPeer("xgb");

    static void OptunaPeer(string model)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var matrix = Matrix(dir, train: 240, validation: 80, test: 80, features: 3);
        var script = Path.Combine(RepoPaths.Root, "src", "CodeII.Experiments.Cli", "Peers", "optuna_sweep.py");
        var line = PythonPeer.Run(script, matrix, "240", "80", "80", "3", "3", "1", model).Trim().Split('\n')[^1];
        var curve = PeerOutput.Parse(model, line);
        Assert.Equal(3, curve.Trials);
        Assert.All(curve.BestSoFar, v => Assert.Equal(1.0, v));
        Assert.Equal(0.0, curve.TestAuroc);
        Assert.True(curve.Seconds.Zip(curve.Seconds.Skip(1)).All(p => p.First <= p.Second) && curve.Seconds[^1] <= curve.WallSeconds);
        Assert.Equal($"optuna-tpe-{model}", JsonDocument.Parse(line).RootElement.GetProperty("peer").GetString());
    }
}
