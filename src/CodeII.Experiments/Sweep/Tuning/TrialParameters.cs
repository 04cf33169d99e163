namespace CodeII.Experiments.Sweep.Tuning;

/// <summary>Hyperparameters of one trial, by name, at full precision.</summary>
public sealed class TrialParameters : SortedDictionary<string, double>
{
    public TrialParameters() : base(StringComparer.Ordinal) { }
    public TrialParameters(IDictionary<string, double> values) : base(values, StringComparer.Ordinal) { }
    public override string ToString() => string.Join(", ", this.Select(p => $"{p.Key}={p.Value:G6}"));
    /// <summary>The configuration at full precision: equal for equal configurations only.</summary>
    public string Identity => string.Join(",", this.Select(p => $"{p.Key}={p.Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}"));
}
