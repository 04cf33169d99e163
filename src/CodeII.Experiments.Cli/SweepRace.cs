using System.Globalization;
using System.Text.Json;

namespace CodeII.Experiments.Cli;

/// <summary>One search's best validation AUROC so far against wall time, and the test AUROC of the configuration it
/// chose (its best validation trial).</summary>
sealed record SearchCurve(string Method, double[] Seconds, double[] BestSoFar, double WallSeconds, double TestAuroc)
{
    /// <summary>A curve from each trial's finishing time and validation AUROC (NaN for a trial that scored nothing).</summary>
    public static SearchCurve FromTrials(string method, IReadOnlyList<double> seconds, IReadOnlyList<double> auroc, double wallSeconds, double testAuroc)
    {
        if (seconds.Count != auroc.Count) throw new ArgumentException($"{method}: {seconds.Count} times for {auroc.Count} scores");
        var best = double.NegativeInfinity;
        return new(method, [.. seconds], [.. auroc.Select(v => double.IsNaN(v) ? best : best = Math.Max(best, v))], wallSeconds, testAuroc);
    }

    public int Trials => Seconds.Length;
    public double Best => BestSoFar.Length == 0 || double.IsNegativeInfinity(BestSoFar[^1]) ? double.NaN : BestSoFar[^1];

    /// <summary>When the best so far first reached <paramref name="target"/>, or null if it never did.</summary>
    public double? TimeToReach(double target)
    {
        for (var i = 0; i < BestSoFar.Length; i++)
            if (BestSoFar[i] >= target) return Seconds[i];
        return null;
    }

    /// <summary>The best validation AUROC of the trials finished by <paramref name="seconds"/> (NaN before the first).</summary>
    public double BestBy(double seconds)
    {
        var best = double.NaN;
        for (var i = 0; i < Seconds.Length && Seconds[i] <= seconds; i++)
            if (!double.IsNegativeInfinity(BestSoFar[i])) best = BestSoFar[i];
        return best;
    }

    /// <summary>The time this search needed to reach <paramref name="peer"/>'s final best, as a share of the peer's
    /// wall time; +∞ when it never reached it within its own budget, so it ranks worse than any reached share.</summary>
    public double ShareToReach(SearchCurve peer) => TimeToReach(peer.Best) is { } t ? t / peer.WallSeconds : double.PositiveInfinity;
}

/// <summary>The one JSON line a Python sweep peer prints (Peers/optuna_sweep.py, Peers/sklearn_sweep.py).</summary>
static class PeerOutput
{
    /// <summary>The peer's curve; a line that is not the expected JSON is an error naming the peer and the field.</summary>
    public static SearchCurve Parse(string method, string line)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{method} peer: its output line is not JSON ({e.Message}): {Shorten(line)}");
        }
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{method} peer: its output line is not a JSON object: {Shorten(line)}");
        JsonElement Field(string name, JsonValueKind kind) =>
            root.TryGetProperty(name, out var value) && value.ValueKind == kind ? value
                : throw new InvalidDataException($"{method} peer: field '{name}' is {(root.TryGetProperty(name, out _) ? "not a " + kind.ToString().ToLowerInvariant() : "missing")}");
        double[] Numbers(string name) => [.. Field(name, JsonValueKind.Array).EnumerateArray().Select((v, i) => v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.Null => double.NaN,
            _ => throw new InvalidDataException($"{method} peer: field '{name}', item {i} is neither a number nor null"),
        })];
        var elapsed = Numbers("elapsed_s");
        var auroc = Numbers("auroc");
        if (elapsed.Length != auroc.Length)
            throw new InvalidDataException($"{method} peer: 'elapsed_s' has {elapsed.Length} items and 'auroc' {auroc.Length}");
        return SearchCurve.FromTrials(method, elapsed, auroc, Field("wall_s", JsonValueKind.Number).GetDouble(), Field("test_auroc", JsonValueKind.Number).GetDouble());
    }

    static string Shorten(string line) => line.Length <= 200 ? line : line[..200] + " …";
}

/// <summary>Medians and ranges of shares over seeds and labels, where +∞ means "not reached" and ranks above every
/// reached share.</summary>
static class Shares
{
    /// <summary>The median (the mean of the middle two for an even count; +∞ if either is +∞), lowest and highest.</summary>
    public static (double Median, double Min, double Max) Summary(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) return (double.NaN, double.NaN, double.NaN);
        if (values.Any(double.IsNaN)) throw new ArgumentException("a share is NaN; not reached is +∞");
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        var median = n % 2 == 1 ? sorted[n / 2]
            : double.IsPositiveInfinity(sorted[n / 2]) ? double.PositiveInfinity : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return (median, sorted[0], sorted[^1]);
    }

    /// <summary>A share as a percentage, or "not reached".</summary>
    public static string Percent(double share) => double.IsPositiveInfinity(share) ? "not reached" : share.ToString("P0", CultureInfo.InvariantCulture);

    /// <summary>For the machine-readable line: "inf" for not reached (Python's float() reads it), else fixed decimals.</summary>
    public static string Value(double value, string format = "F3") =>
        double.IsPositiveInfinity(value) ? "inf" : value.ToString(format, CultureInfo.InvariantCulture);
}
