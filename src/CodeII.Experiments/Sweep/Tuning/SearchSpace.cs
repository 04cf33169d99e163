namespace CodeII.Experiments.Sweep.Tuning;

/// <summary>
/// One tunable option. Tuners work in the unit cube: every parameter maps its values to [0, 1] (linearly, or
/// logarithmically for rates and regularisers whose effect is multiplicative), so one step means the same everywhere.
/// </summary>
public abstract record Parameter(string Name)
{
    /// <summary>A conditional option exists only when a choice takes one value (e.g. GOSS's rates when booster = goss).</summary>
    public (string Choice, string Option)? ActiveWhen { get; init; }

    /// <summary>Where the search starts: the cheapest setting (fewest trees, fewest leaves), as in CFO.</summary>
    public abstract double LowCostUnit { get; }
    public abstract double FromUnit(double unit);
    public abstract double ToUnit(double value);
    /// <summary>Grid levels in the unit interval.</summary>
    public abstract IReadOnlyList<double> GridUnits(int numericLevels);
}

public sealed record NumericParameter(string Name, double Min, double Max, bool Log = false, bool Integer = false, double? LowCost = null) : Parameter(Name)
{
    /// <summary>Whether a trial's cost grows in proportion to this option's value (trees, leaves, passes), so that
    /// the blend's cost bound counts it; set by the learner that knows, since a low-cost end at the minimum alone
    /// does not say so (a regulariser's cheap end is its minimum too, and it costs nothing to raise).</summary>
    public bool ScalesCost { get; init; }

    /// <summary>How much the logarithm of the cost grows per unit step: ln(Max/Min) on a log scale, where a unit step
    /// multiplies the value by the same factor everywhere; 1 otherwise.</summary>
    public double LogCostPerUnit => Log && Min > 0 && Max > Min ? Math.Log(Max / Min) : 1;

    public override double LowCostUnit => ToUnit(LowCost ?? Min);

    public override double FromUnit(double unit)
    {
        unit = Math.Clamp(unit, 0, 1);
        var value = Log ? Math.Exp(Math.Log(Min) + unit * (Math.Log(Max) - Math.Log(Min))) : Min + unit * (Max - Min);
        return Integer ? Math.Clamp(Math.Round(value), Min, Max) : Math.Clamp(value, Min, Max);
    }

    public override double ToUnit(double value)
    {
        if (Max == Min) return 0;
        var unit = Log ? (Math.Log(value) - Math.Log(Min)) / (Math.Log(Max) - Math.Log(Min)) : (value - Min) / (Max - Min);
        return Math.Clamp(unit, 0, 1);
    }

    public override IReadOnlyList<double> GridUnits(int numericLevels) =>
        [.. Enumerable.Range(0, numericLevels).Select(i => numericLevels == 1 ? 0.5 : i / (double)(numericLevels - 1)).Select(u => ToUnit(FromUnit(u))).Distinct()];
}

/// <summary>A categorical option; its value in a configuration is the index of the chosen option.</summary>
public sealed record ChoiceParameter(string Name, IReadOnlyList<string> Options, int LowCostIndex = 0) : Parameter(Name)
{
    public override double LowCostUnit => ToUnit(LowCostIndex);
    public override double FromUnit(double unit) => Math.Min(Options.Count - 1, (int)(Math.Clamp(unit, 0, 1) * Options.Count));
    /// <summary>The centre of the option's bin, so a small step stays on it and a larger one reaches a neighbour.</summary>
    public override double ToUnit(double value) => (value + 0.5) / Options.Count;
    public override IReadOnlyList<double> GridUnits(int numericLevels) => [.. Enumerable.Range(0, Options.Count).Select(i => ToUnit(i))];
}

/// <summary>A learner's options as data, so an experiment definition can narrow or widen any of them.</summary>
public sealed record SearchSpace(IReadOnlyList<Parameter> Parameters)
{
    public int Dimensions => Parameters.Count;

    public TrialParameters FromUnit(IReadOnlyList<double> unit)
    {
        var configuration = new TrialParameters();
        for (var i = 0; i < Parameters.Count; i++) configuration[Parameters[i].Name] = Parameters[i].FromUnit(unit[i]);
        // Inactive options are left out, so a configuration names only what its learner reads.
        foreach (var parameter in Parameters)
            if (parameter.ActiveWhen is var (choice, option) && Parameters.FirstOrDefault(p => p.Name == choice) is ChoiceParameter c
                && c.Options[(int)configuration[choice]] != option)
                configuration.Remove(parameter.Name);
        return configuration;
    }

    /// <summary>A configuration's point in the unit cube; an option it leaves out sits at its low-cost value.</summary>
    public double[] ToUnit(TrialParameters configuration) =>
        [.. Parameters.Select(p => configuration.TryGetValue(p.Name, out var v) ? p.ToUnit(v) : p.LowCostUnit)];

    public double[] LowCostUnit => [.. Parameters.Select(p => p.LowCostUnit)];

    /// <summary>The space with one numeric parameter's range replaced (its low-cost start kept inside it).</summary>
    public SearchSpace WithRange(string name, double min, double max) => new([.. Parameters.Select(p => p is NumericParameter n && n.Name == name
        ? n with { Min = min, Max = max, LowCost = n.LowCost is { } c ? Math.Clamp(c, min, max) : null }
        : p)]);
}
