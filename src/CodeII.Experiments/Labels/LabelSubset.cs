namespace CodeII.Experiments.Labels;

/// <summary>A named group of classes evaluated together, e.g. <c>rhythm: [SB, ST, AF]</c>.</summary>
public sealed record LabelSubset(string Name, IReadOnlyList<string> Labels);
