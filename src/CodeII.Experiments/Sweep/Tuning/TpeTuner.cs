namespace CodeII.Experiments.Sweep.Tuning;

/// <summary>
/// Model-based search with the tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011). After a few random
/// trials (the first at the low-cost corner), the results are split at the γ-quantile of loss into good and bad;
/// each is modelled per dimension by a Gaussian kernel density in the unit cube, candidates are drawn from the good
/// density, and the one with the highest good-to-bad density ratio is proposed (the expected-improvement maximiser
/// under this model).
/// </summary>
public sealed class TpeTuner(SearchSpace space, int seed, int startupTrials = 10, double gamma = 0.25, int candidates = 24, bool startAtLowCost = true) : ITuner
{
    readonly RandomTuner _startup = new(space, seed, startAtLowCost);
    readonly Random _random = new(seed + 1);
    readonly List<(double[] Point, double Loss)> _history = [];

    public string Name => "tpe";

    int _proposals;

    public TrialParameters Propose()
    {
        // Its own first proposals are random even when it has been told of other searches' results (in a blend), and
        // so are later ones while every result is alike: a flat history says nothing about where to look.
        if (_proposals++ < startupTrials || _history.All(h => h.Loss == _history[0].Loss)) return _startup.Propose();
        var ordered = _history.OrderBy(h => h.Loss).ToArray();
        var goodCount = Math.Max(1, (int)Math.Ceiling(gamma * ordered.Length));
        var good = ordered.Take(goodCount).Select(h => h.Point).ToArray();
        var bad = ordered.Skip(goodCount).Select(h => h.Point).ToArray();
        double[]? best = null;
        var bestScore = double.NegativeInfinity;
        for (var c = 0; c < candidates; c++)
        {
            var candidate = Sample(good);
            var score = LogDensity(good, candidate) - LogDensity(bad, candidate);
            if (score > bestScore) { bestScore = score; best = candidate; }
        }
        return space.FromUnit(best!);
    }

    public void Update(TrialParameters configuration, double loss, double cost) =>
        _history.Add((space.ToUnit(configuration), double.IsNaN(loss) ? double.PositiveInfinity : loss));

    /// <summary>Scott's rule for each density's bandwidth, with a floor so a tight cluster still explores.</summary>
    static double Bandwidth(int points) => Math.Max(0.02, 1.06 * 0.3 * Math.Pow(Math.Max(1, points), -0.2));

    double[] Sample(double[][] points)
    {
        var centre = points[_random.Next(points.Length)];
        var h = Bandwidth(points.Length);
        return [.. centre.Select(x => Math.Clamp(x + h * Gaussian(), 0, 1))];
    }

    static double LogDensity(double[][] points, double[] x)
    {
        if (points.Length == 0) return 0; // no bad points yet: a flat density
        var h = Bandwidth(points.Length);
        var total = 0.0;
        foreach (var p in points)
        {
            var squared = 0.0;
            for (var i = 0; i < x.Length; i++) squared += (x[i] - p[i]) * (x[i] - p[i]);
            total += Math.Exp(-squared / (2 * h * h));
        }
        // The prior keeps the density positive far from every point (a uniform mixture component).
        return Math.Log(total / points.Length + 1e-12);
    }

    double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
}
