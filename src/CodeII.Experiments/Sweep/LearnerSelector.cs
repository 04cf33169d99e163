namespace CodeII.Experiments.Sweep;

/// <summary>
/// Chooses which learner's tuner proposes next, by estimated cost for improvement (ECI), as FLAML does (Wang et al.,
/// MLSys 2021). Every learner is tried once first, in the listed order. Afterwards each learner's ECI is the work it
/// has needed per improvement so far — max(work since its last improvement, work between its last two) — and, when
/// it trails the best learner, at least the work its recent rate of improvement needs to close the gap. A learner is
/// drawn with probability inversely proportional to its ECI. Work is deterministic, so the choices repeat exactly.
/// </summary>
public sealed class LearnerSelector(IReadOnlyList<string> learners, int seed)
{
    sealed class State
    {
        public int Trials;
        public double Work, BestLoss = double.PositiveInfinity, WorkAtBest, WorkAtPreviousBest;
        /// <summary>Before any result, improvement is measured from the worst possible loss (objectives lie in [0, 1]).</summary>
        public double PreviousBestLoss = 1;
    }

    readonly Dictionary<string, State> _states = learners.ToDictionary(l => l, _ => new State());
    readonly Random _random = new(seed);

    /// <summary>The next learner among those still allowed, or null when none is.</summary>
    public string? Choose(Func<string, bool> allowed)
    {
        var candidates = learners.Where(allowed).ToArray();
        if (candidates.Length == 0) return null;
        if (candidates.FirstOrDefault(l => _states[l].Trials == 0) is { } untried) return untried;
        var globalBest = _states.Values.Min(s => s.BestLoss);
        var inverse = candidates.Select(l => 1 / Eci(_states[l], globalBest)).ToArray();
        var draw = _random.NextDouble() * inverse.Sum();
        for (var i = 0; i < candidates.Length; i++)
            if ((draw -= inverse[i]) <= 0) return candidates[i];
        return candidates[^1];
    }

    public void Update(string learner, double loss, double work)
    {
        var s = _states[learner];
        s.Trials++;
        s.Work += work;
        if (double.IsNaN(loss) || loss >= s.BestLoss) return;
        if (!double.IsPositiveInfinity(s.BestLoss)) s.PreviousBestLoss = s.BestLoss;
        s.WorkAtPreviousBest = s.WorkAtBest;
        s.BestLoss = loss;
        s.WorkAtBest = s.Work;
    }

    public double EstimatedCostForImprovement(string learner) => Eci(_states[learner], _states.Values.Min(s => s.BestLoss));

    static double Eci(State s, double globalBest)
    {
        const double floor = 1e-9;
        var sinceImprovement = s.Work - s.WorkAtBest;
        var betweenImprovements = s.WorkAtBest - s.WorkAtPreviousBest;
        var eci = Math.Max(sinceImprovement, betweenImprovements);
        if (double.IsPositiveInfinity(s.BestLoss)) return Math.Max(eci, floor) * 2; // every trial failed: try it rarely
        if (s.BestLoss > globalBest && s.PreviousBestLoss > s.BestLoss)
        {
            var rate = (s.PreviousBestLoss - s.BestLoss) / Math.Max(betweenImprovements, floor);
            eci = Math.Max(eci, (s.BestLoss - globalBest) / rate);
        }
        return Math.Max(eci, floor);
    }
}
