namespace CodeII.Experiments.Labels;

/// <summary>One class of a taxonomy: its code in that dataset, a readable name, a group, and its SNOMED-CT concept if one exists.</summary>
public sealed record LabelClass(string Code, string Name, string Group, string? Snomed);

/// <summary>
/// A dataset's label vocabulary. Built-in taxonomies are CSV files in Labels/Taxonomies (code, name, group, snomed),
/// embedded in the library; datasets that ship their own vocabulary (PTB-XL's scp_statements.csv, CODE-II's class
/// columns, the Challenge's SNOMED-CT tables) are read from their files.
/// </summary>
public sealed class Taxonomy
{
    public required string Name { get; init; }
    public required IReadOnlyList<LabelClass> Classes { get; init; }

    public LabelClass? Find(string code) => Classes.FirstOrDefault(c => string.Equals(c.Code, code, StringComparison.Ordinal));

    /// <summary>CODE-15%'s six abnormalities (Ribeiro et al. 2020).</summary>
    public static Taxonomy Code6 { get; } = Embedded("code6");
    /// <summary>The nine classes of the China Physiological Signal Challenge 2018.</summary>
    public static Taxonomy Cpsc9 { get; } = Embedded("cpsc9");
    /// <summary>The PTB-XL SCP statements that have a SNOMED-CT counterpart in the PhysioNet Challenge tables.</summary>
    public static Taxonomy PtbXlSnomed { get; } = Embedded("ptbxl-snomed");

    /// <summary>The built-in taxonomies by name; the Challenge's scored classes come from its table (<c>SnomedMapping</c>).</summary>
    public static IReadOnlyList<string> BuiltIn { get; } = ["code6", "cpsc9", "ptbxl-snomed"];

    public static Taxonomy Named(string name) => name switch
    {
        "code6" => Code6,
        "cpsc9" => Cpsc9,
        "ptbxl-snomed" => PtbXlSnomed,
        _ => throw new ArgumentException($"no built-in taxonomy '{name}'; there are {string.Join(", ", BuiltIn)}"),
    };

    /// <summary>The classes a set of SNOMED-CT codes (a Challenge record's <c># Dx</c>) stands for: each code, or the
    /// code the Challenge scores in its place, matched to the classes of the same concept.</summary>
    public IReadOnlySet<string> ClassesOf(IEnumerable<string> snomedCodes)
    {
        _byConcept ??= Classes.Where(c => c.Snomed is not null).GroupBy(c => SnomedCt.Canonical(c.Snomed!))
            .ToDictionary(g => g.Key, g => g.Select(c => c.Code).ToArray(), StringComparer.Ordinal);
        var classes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var code in snomedCodes)
            if (_byConcept.TryGetValue(SnomedCt.Canonical(code), out var matched)) classes.UnionWith(matched);
        return classes;
    }
    Dictionary<string, string[]>? _byConcept;

    /// <summary>Classes named only by their codes, e.g. CODE-II's columns; they map to nothing until a SNOMED-CT code is known.</summary>
    public static Taxonomy FromCodes(string name, IEnumerable<string> codes) =>
        new() { Name = name, Classes = codes.Select(c => new LabelClass(c, c, "", null)).ToArray() };

    static Taxonomy Embedded(string name)
    {
        var assembly = typeof(Taxonomy).Assembly;
        using var stream = assembly.GetManifestResourceStream($"CodeII.Experiments.Labels.Taxonomies.{name}.csv")
                           ?? throw new InvalidOperationException($"built-in taxonomy {name} is missing from the library");
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines[0] != "code,name,group,snomed") throw new InvalidOperationException($"taxonomy {name} has header '{lines[0]}'");
        return new Taxonomy
        {
            Name = name,
            Classes = lines.Skip(1).Select(l => l.Split(',')).Select(f => new LabelClass(f[0], f[1], f[2], f[3].Length == 0 ? null : f[3])).ToArray(),
        };
    }
}

/// <summary>
/// Which classes of a target taxonomy a source taxonomy's classes stand for, through SNOMED-CT. Equivalent concepts the
/// PhysioNet Challenge scores as one (complete RBBB ≡ RBBB, complete LBBB ≡ LBBB, PAC ≡ SVPB, PVC ≡ VPB) are joined,
/// so CODE's RBBB covers PTB-XL's CRBBB.
/// </summary>
public sealed class LabelMap
{
    public required Taxonomy Source { get; init; }
    public required Taxonomy Target { get; init; }
    /// <summary>Source code → target codes it corresponds to.</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Mapping { get; init; }

    public static LabelMap Between(Taxonomy source, Taxonomy target)
    {
        var byConcept = target.Classes.Where(c => c.Snomed is not null)
            .GroupBy(c => SnomedCt.Canonical(c.Snomed!))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(c => c.Code).ToArray());
        var mapping = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var c in source.Classes)
            if (c.Snomed is not null && byConcept.TryGetValue(SnomedCt.Canonical(c.Snomed), out var targets))
                mapping[c.Code] = targets;
        return new LabelMap { Source = source, Target = target, Mapping = mapping };
    }

    /// <summary>Target classes a model trained on the source can say something about.</summary>
    public IReadOnlyList<string> CoveredTargets => Mapping.Values.SelectMany(v => v).Distinct().ToArray();

    /// <summary>Target classes with no source counterpart: a transfer report must show them as not covered.</summary>
    public IReadOnlyList<string> UncoveredTargets => Target.Classes.Select(c => c.Code).Except(CoveredTargets).ToArray();
}
