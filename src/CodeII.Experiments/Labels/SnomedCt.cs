namespace CodeII.Experiments.Labels;

/// <summary>SNOMED-CT concepts as the PhysioNet Challenge compares them: the lingua franca that maps one dataset's labels to another's.</summary>
public static class SnomedCt
{
    /// <summary>Pairs the Challenge scores as one class (evaluate_model.py, 2020–2021): CRBBB/RBBB, CLBBB/LBBB, PAC/SVPB,
    /// PVC/VPB; kept in Labels/Taxonomies/snomed-equivalents.csv.</summary>
    public static readonly IReadOnlyDictionary<string, string> ScoredAsOne = LoadEquivalents();

    static Dictionary<string, string> LoadEquivalents()
    {
        using var stream = typeof(SnomedCt).Assembly.GetManifestResourceStream("CodeII.Experiments.Labels.Taxonomies.snomed-equivalents.csv")
                           ?? throw new InvalidOperationException("snomed-equivalents.csv is missing from the library");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)
            .Select(l => l.Split(',')).ToDictionary(f => f[0], f => f[1]);
    }

    /// <summary>The code the Challenge scores in place of <paramref name="snomed"/> (itself unless it is one of a pair).</summary>
    public static string Canonical(string snomed) => ScoredAsOne.TryGetValue(snomed, out var c) ? c : snomed;
}
