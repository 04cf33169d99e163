namespace CodeII.Experiments.Labels;

/// <summary>How one target label is covered by a source's classes.</summary>
public enum CoverageKind
{
    /// <summary>Exactly one source class stands for the label.</summary>
    Covered,
    /// <summary>Several source classes stand for the label (e.g. CRBBB and RBBB for CPSC's RBBB); zero-shot scores it
    /// by the largest of their outputs.</summary>
    ManyToOne,
    /// <summary>No source class stands for the label: zero-shot cannot score it.</summary>
    Uncovered,
}

/// <summary>A target label and the source classes that stand for it.</summary>
public sealed record CoverageRow(string Label, CoverageKind Kind, IReadOnlyList<string> SourceClasses);

/// <summary>
/// Which of a target's labels a source's classes stand for, through SNOMED-CT (<see cref="LabelMap"/>): the table a
/// transfer report shows for every source and target, so that a label zero-shot cannot score is listed, never dropped.
/// </summary>
public sealed record LabelCoverage(string SourceTaxonomy, string TargetTaxonomy, IReadOnlyList<CoverageRow> Rows)
{
    public IReadOnlyList<string> Covered => [.. Rows.Where(r => r.Kind != CoverageKind.Uncovered).Select(r => r.Label)];
    public IReadOnlyList<string> Uncovered => [.. Rows.Where(r => r.Kind == CoverageKind.Uncovered).Select(r => r.Label)];

    public CoverageRow For(string label) => Rows.FirstOrDefault(r => r.Label == label)
        ?? throw new ArgumentException($"'{label}' is not a target label of this coverage ({string.Join(", ", Rows.Select(r => r.Label))})");

    /// <param name="sourceClasses">The classes the source network learned (a subset of its taxonomy's).</param>
    /// <param name="targetLabels">The target's labels being evaluated (a subset of its taxonomy's).</param>
    public static LabelCoverage Of(Taxonomy source, IReadOnlyList<string> sourceClasses, Taxonomy target, IReadOnlyList<string> targetLabels)
    {
        var map = LabelMap.Between(source, target);
        var rows = targetLabels.Select(label =>
        {
            var covering = sourceClasses.Where(c => map.Mapping.TryGetValue(c, out var targets) && targets.Contains(label)).ToArray();
            var kind = covering.Length switch { 0 => CoverageKind.Uncovered, 1 => CoverageKind.Covered, _ => CoverageKind.ManyToOne };
            return new CoverageRow(label, kind, covering);
        }).ToArray();
        return new LabelCoverage(source.Name, target.Name, rows);
    }
}
