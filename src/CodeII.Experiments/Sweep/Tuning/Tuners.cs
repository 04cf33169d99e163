namespace CodeII.Experiments.Sweep.Tuning;

/// <summary>
/// Proposes configurations and learns from their results. Lower loss is better (a tuner maximising AUROC is given
/// 1 − AUROC). Everything a tuner decides follows from its seed and the results it was told, in order, so replaying a
/// trial log (propose, then update with the logged result) rebuilds its state exactly: that is how a sweep resumes.
/// </summary>
public interface ITuner
{
    string Name { get; }
    TrialParameters Propose();
    void Update(TrialParameters configuration, double loss, double cost);
}

/// <summary>Uniform random search; the first proposal is the low-cost corner, like every tuner here, unless another
/// search has evaluated that already (<paramref name="startAtLowCost"/> false).</summary>
public sealed class RandomTuner(SearchSpace space, int seed, bool startAtLowCost = true) : ITuner
{
    readonly Random _random = new(seed);
    bool _startedAtLowCost = !startAtLowCost;

    public string Name => "random";

    public TrialParameters Propose()
    {
        if (!_startedAtLowCost)
        {
            _startedAtLowCost = true;
            return space.FromUnit(space.LowCostUnit);
        }
        return space.FromUnit([.. Enumerable.Range(0, space.Dimensions).Select(_ => _random.NextDouble())]);
    }

    public void Update(TrialParameters configuration, double loss, double cost) { }
}

/// <summary>Every combination of a few levels per parameter, cheapest first; random search once the grid is done.</summary>
public sealed class GridTuner(SearchSpace space, int seed, int numericLevels = 3) : ITuner
{
    readonly IReadOnlyList<double[]> _grid = Combinations(space, numericLevels);
    readonly RandomTuner _after = new(space, seed);
    int _next;

    public string Name => "grid";

    public TrialParameters Propose() => _next < _grid.Count ? space.FromUnit(_grid[_next++]) : _after.Propose();

    public void Update(TrialParameters configuration, double loss, double cost) { }

    static IReadOnlyList<double[]> Combinations(SearchSpace space, int levels)
    {
        IEnumerable<double[]> points = [[]];
        foreach (var parameter in space.Parameters)
        {
            var units = parameter.GridUnits(levels);
            points = points.SelectMany(p => units.Select(u => (double[])[.. p, u]));
        }
        // Cheapest first: nearest the low-cost corner. Points differing only in options their choice switches off are
        // one configuration, proposed once.
        var start = space.LowCostUnit;
        return [.. points.OrderBy(p => p.Select((u, i) => Math.Abs(u - start[i])).Sum())
            .DistinctBy(p => space.FromUnit(p).Identity)];
    }
}

/// <summary>
/// Cost-frugal optimisation in the style of CFO (Wu, Wang and Huang, AAAI 2021): start at the low-cost corner and
/// move by randomised direct search (FLOW2). Each round draws a random unit direction u and tries x + δu, then
/// x − δu; a better point becomes x. After 2^min(d, 9) directions without improvement the step δ halves; when it falls
/// below its floor the search has converged, and it restarts from a random point with a fresh step, keeping the best.
/// Because it moves gradually from cheap configurations, expensive ones are reached only when they pay off.
/// </summary>
public sealed class CfoTuner : ITuner
{
    readonly SearchSpace _space;
    readonly Random _random;
    readonly int _patience;
    readonly double _initialStep;
    readonly double _minimumStep;
    readonly bool _restartOnConvergence;

    double[] _incumbent;
    double _incumbentLoss = double.PositiveInfinity;
    double _step;
    double[]? _direction;
    bool _triedOpposite;
    int _directionsWithoutImprovement;
    double[]? _pending;

    public string Name => "cfo";
    public int Restarts { get; private set; }
    /// <summary>True once the step has fallen below its floor, for a search told not to restart.</summary>
    public bool Converged { get; private set; }
    /// <summary>The loss of the point the search moves from (infinite before its first result or after a restart).</summary>
    public double IncumbentLoss => _incumbentLoss;
    /// <summary>The point the search moves from, in the unit cube.</summary>
    public double[] IncumbentUnit => [.. _incumbent];

    /// <summary>Moves the search to a better point found elsewhere (by a global search), with a fresh step.</summary>
    public void MoveTo(TrialParameters configuration, double loss)
    {
        _incumbent = _space.ToUnit(configuration);
        _incumbentLoss = loss;
        _direction = null;
        _pending = null;
        _directionsWithoutImprovement = 0;
        _step = _initialStep;
    }

    public CfoTuner(SearchSpace space, int seed, double initialStep = 0.1, double minimumStep = 0.002, bool restartOnConvergence = true)
    {
        _restartOnConvergence = restartOnConvergence;
        _space = space;
        _random = new Random(seed);
        _incumbent = space.LowCostUnit;
        _patience = 1 << Math.Min(space.Dimensions, 9);
        _initialStep = initialStep * Math.Sqrt(space.Dimensions);
        _minimumStep = minimumStep;
        _step = _initialStep;
    }

    public TrialParameters Propose()
    {
        if (double.IsPositiveInfinity(_incumbentLoss))
            _pending = _incumbent; // the first trial evaluates the starting point itself
        else if (_direction is not null && !_triedOpposite)
        {
            _triedOpposite = true;
            _pending = Move(_incumbent, _direction, -_step);
        }
        else
        {
            _direction = RandomDirection();
            _triedOpposite = false;
            _pending = Move(_incumbent, _direction, _step);
        }
        return _space.FromUnit(_pending);
    }

    public void Update(TrialParameters configuration, double loss, double cost)
    {
        var point = _pending ?? _space.ToUnit(configuration);
        _pending = null;
        if (double.IsNaN(loss)) loss = double.PositiveInfinity;
        if (loss < _incumbentLoss)
        {
            var first = double.IsPositiveInfinity(_incumbentLoss);
            _incumbent = point;
            _incumbentLoss = loss;
            if (!first) { _direction = null; _directionsWithoutImprovement = 0; }
            return;
        }
        if (_direction is null || !_triedOpposite) return; // the opposite direction is still to try
        _direction = null;
        if (++_directionsWithoutImprovement < _patience) return;
        _directionsWithoutImprovement = 0;
        _step /= 2;
        if (_step >= _minimumStep) return;
        if (_restartOnConvergence) RestartAtRandomPoint();
        else Converged = true;
    }

    /// <summary>Looks elsewhere: the incumbent moves to a random point, which must then beat nothing (its own loss is
    /// unknown until evaluated), so the best-so-far is kept by the caller's log, not here.</summary>
    public void RestartAtRandomPoint()
    {
        Restarts++;
        Converged = false;
        _incumbent = [.. Enumerable.Range(0, _space.Dimensions).Select(_ => _random.NextDouble())];
        _incumbentLoss = double.PositiveInfinity;
        _direction = null;
        _pending = null;
        _directionsWithoutImprovement = 0;
        _step = _initialStep;
    }

    double[] RandomDirection()
    {
        // A uniform direction on the unit sphere: normalised Gaussian coordinates (Box–Muller).
        var d = new double[_space.Dimensions];
        for (var i = 0; i < d.Length; i++)
            d[i] = Math.Sqrt(-2 * Math.Log(1 - _random.NextDouble())) * Math.Cos(2 * Math.PI * _random.NextDouble());
        var norm = Math.Sqrt(d.Sum(v => v * v));
        return norm == 0 ? RandomDirection() : [.. d.Select(v => v / norm)];
    }

    static double[] Move(double[] from, double[] direction, double step) =>
        [.. from.Select((x, i) => Math.Clamp(x + step * direction[i], 0, 1))];
}

/// <summary>
/// Local and global search blended, after BlendSearch (Wang, Wu, Huang and Wang, ICLR 2021). Cost-frugal local
/// searches (CFO) propose while their results keep improving the best; once <c>globalEvery</c> − 1 local results in a
/// row have not, a global model-based search (TPE, which learns from every result) takes every <c>globalEvery</c>-th
/// proposal until one does again, so the global search costs nothing while the cheap path pays. The first local search starts at the low-cost corner; a global proposal better
/// than every result so far starts another one there, so a plateau the cheap search cannot leave by small steps (one
/// strong split can make every cheap neighbour score alike) is left without giving up the cheap search's progress.
/// Each local proposal comes from the local search improving fastest per unit of cost: its last improvement divided
/// by the cost spent from the result before it until now, which decays while a search spends without improving.
/// Global proposals are cost-bounded as whole configurations: the logarithm of their cost (the sum over the options
/// that scale it, trees and leaves, of each one's log-value) may exceed the best local point's only by a margin that
/// widens with every global proposal, so early ones stay cheap and the bound opens as the search goes on; and their
/// estimated cost may not exceed a quarter of all the work spent so far, so one global trial never costs more than the
/// cheap path has (without it, the widening margin let the fourth global proposal of a stalled search cost 100 times
/// the best point: 650 trees of 27 leaves, run B of docs/benchmarks.md). A proposal over the bound has its raised
/// options pulled back towards the best point in proportion. Bounding each option alone (as before) kept cheap
/// configurations of another shape out of reach: a few trees of many leaves costs what many trees of a few leaves do,
/// yet needed as many global proposals as raising both (run A, LBBB).
/// A local search that has converged ends; the last one left restarts at a random point instead.
/// </summary>
public sealed class BlendTuner(SearchSpace space, int seed, int globalEvery = 3, double marginPerGlobal = 0.15, int maximumLocalSearches = 4,
    double globalShareOfSpent = 0.25) : ITuner
{
    /// <summary>One local search and how fast it has been improving per unit of cost.</summary>
    sealed class LocalSearch(CfoTuner search)
    {
        public CfoTuner Search { get; } = search;
        public double LastImprovement { get; private set; }
        double _costOfLastImprovement;
        double _costSinceImprovement;

        /// <summary>A search started at a global result credits that result's improvement and cost to itself.</summary>
        public static LocalSearch Starting(CfoTuner search, double improvement, double cost)
        {
            var local = new LocalSearch(search);
            local.LastImprovement = improvement;
            local._costOfLastImprovement = cost;
            return local;
        }

        public double Speed => LastImprovement / Math.Max(_costOfLastImprovement + _costSinceImprovement, 1e-12);

        public void Record(double lossBefore, double lossAfter, double cost)
        {
            if (lossAfter < lossBefore && !double.IsPositiveInfinity(lossBefore))
            {
                LastImprovement = lossBefore - lossAfter;
                _costOfLastImprovement = _costSinceImprovement + cost;
                _costSinceImprovement = 0;
            }
            else _costSinceImprovement += cost;
        }
    }

    readonly List<LocalSearch> _locals = [new(new CfoTuner(space, seed, restartOnConvergence: false))];
    readonly TpeTuner _global = new(space, seed + 7919, startAtLowCost: false); // the first local search starts there
    double _globalCostSinceImprovement;
    // Per option, how much its unit step adds to the log of the cost; 0 for options that do not scale it.
    readonly double[] _logCostPerUnit = [.. space.Parameters.Select(p => p is NumericParameter { ScalesCost: true } n && n.Max > n.Min ? n.LogCostPerUnit : 0)];
    double _spent;
    // Each result's cost over e^(its log-cost): the cost of one unit of trees × leaves, which rows, feature fraction
    // and early stopping vary; its median turns a configuration's log-cost into an estimated cost.
    readonly List<double> _costPerCostUnit = [];
    int _proposals;
    int _localResultsWithoutImprovement;
    int _globalProposals;
    int _localSearchesStarted;
    LocalSearch? _proposer; // null when the last proposal was global
    double _bestLoss = double.PositiveInfinity;

    public string Name => "blend";

    /// <summary>How many local searches are running now.</summary>
    public int LocalSearches => _locals.Count;
    /// <summary>Whether the last proposal came from the global search.</summary>
    public bool LastProposalWasGlobal => _proposer is null;

    public TrialParameters Propose()
    {
        // The global search takes its turn only while local results have stopped improving the best.
        if (++_proposals % globalEvery != 0 || _localResultsWithoutImprovement < globalEvery - 1)
        {
            _proposer = Fastest();
            return _proposer.Search.Propose();
        }
        _proposer = null;
        var unit = space.ToUnit(_global.Propose());
        var best = Best().Search.IncumbentUnit;
        BoundCost(unit, best, AllowedLogCostExcess(best, ++_globalProposals));
        return space.FromUnit(unit);
    }

    double LogCost(IReadOnlyList<double> unit)
    {
        double logCost = 0;
        for (var i = 0; i < unit.Count; i++) logCost += unit[i] * _logCostPerUnit[i];
        return logCost;
    }

    /// <summary>
    /// How far the log of a global proposal's cost may exceed the best point's: the widening margin (every cost option
    /// raised by <c>marginPerGlobal</c> unit steps per global proposal so far), and no further than an estimated cost
    /// of <c>globalShareOfSpent</c> of the work spent so far.
    /// </summary>
    internal double AllowedLogCostExcess(IReadOnlyList<double> best, int globalProposal)
    {
        var allowed = marginPerGlobal * globalProposal * _logCostPerUnit.Sum();
        if (_costPerCostUnit.Count == 0 || _spent <= 0) return allowed;
        var ratios = _costPerCostUnit.Order().ToArray();
        var median = ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[ratios.Length / 2 - 1] + ratios[ratios.Length / 2]) / 2;
        var bestCost = median * Math.Exp(LogCost(best));
        return Math.Min(allowed, Math.Log(globalShareOfSpent * _spent / bestCost));
    }

    /// <summary>
    /// Pulls the raised cost options of <paramref name="unit"/> back towards <paramref name="best"/> until the log
    /// of its cost exceeds the best point's by at most <paramref name="allowed"/>, or to the best point's values when
    /// even they are over. Options below the best point's count in the proposal's favour: fewer trees pay for more
    /// leaves.
    /// </summary>
    internal void BoundCost(double[] unit, IReadOnlyList<double> best, double allowed)
    {
        double raised = 0, lowered = 0;
        for (var i = 0; i < unit.Length; i++)
        {
            var change = (unit[i] - best[i]) * _logCostPerUnit[i];
            if (change > 0) raised += change; else lowered += change;
        }
        if (raised + lowered <= allowed) return;
        var keep = Math.Clamp((allowed - lowered) / raised, 0, 1);
        for (var i = 0; i < unit.Length; i++)
            if (_logCostPerUnit[i] > 0 && unit[i] > best[i]) unit[i] = best[i] + keep * (unit[i] - best[i]);
    }

    public void Update(TrialParameters configuration, double loss, double cost)
    {
        if (double.IsNaN(loss)) loss = double.PositiveInfinity;
        if (cost > 0 && double.IsFinite(cost))
        {
            _spent += cost;
            _costPerCostUnit.Add(cost / Math.Exp(LogCost(space.ToUnit(configuration))));
        }
        _global.Update(configuration, loss, cost);
        var bestBefore = _bestLoss;
        _bestLoss = Math.Min(_bestLoss, loss);
        if (_proposer is { } local)
        {
            _localResultsWithoutImprovement = loss < bestBefore ? 0 : _localResultsWithoutImprovement + 1;
            var before = local.Search.IncumbentLoss;
            local.Search.Update(configuration, loss, cost);
            local.Record(before, local.Search.IncumbentLoss, cost);
            // A converged search ends; the last one left restarts at a random point instead.
            if (local.Search.Converged)
            {
                if (_locals.Count > 1) _locals.Remove(local);
                else local.Search.RestartAtRandomPoint();
            }
        }
        else if (loss >= bestBefore) _globalCostSinceImprovement += cost;
        else
        {
            // The new search is credited with what the global search spent to find its start, not just the last trial.
            var searchCost = _globalCostSinceImprovement + cost;
            _globalCostSinceImprovement = 0;
            var search = new CfoTuner(space, seed + 104729 * ++_localSearchesStarted, restartOnConvergence: false);
            search.MoveTo(configuration, loss);
            if (_locals.Count == maximumLocalSearches) _locals.Remove(_locals.MinBy(l => l.Speed)!);
            _locals.Add(LocalSearch.Starting(search, bestBefore - loss, searchCost));
        }
    }

    // A search not yet evaluated (infinite loss) goes first; ties fall to the one started earliest.
    LocalSearch Fastest() =>
        _locals.FirstOrDefault(l => double.IsPositiveInfinity(l.Search.IncumbentLoss)) ?? _locals.MaxBy(l => l.Speed)!;

    LocalSearch Best() => _locals.MinBy(l => l.Search.IncumbentLoss)!;
}
