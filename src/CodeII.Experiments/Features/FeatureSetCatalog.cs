using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// The feature sets a definition, a model bundle or <c>codeii features extract</c> can name. Sets that need nothing
/// but the record are made here; <c>learned</c> needs a trained network and is made from its checkpoint
/// (<see cref="Learned.NetworkEmbeddingExtractor"/>). Sets joined with '+' are fused, their features side by side.
/// </summary>
public static class FeatureSetCatalog
{
    public static readonly IReadOnlyList<string> RecordOnlySets = [BasicFeatureExtractor.SetName, HandcraftedFeatureExtractor.SetName];

    /// <summary>The parts of a fused set, in order: <c>handcrafted+learned</c> → handcrafted, learned.</summary>
    public static IReadOnlyList<string> Parts(string featureSet) => featureSet.Split('+');

    /// <summary>Feature names that two parts of a fused set would both give (learned features never collide): such a
    /// fusion would have ambiguous columns, so it is refused.</summary>
    public static IReadOnlyList<string> SharedNames(string featureSet) =>
        [.. Parts(featureSet).Where(RecordOnlySets.Contains).SelectMany(p => Create(p).FeatureNames).GroupBy(n => n, StringComparer.Ordinal)
            .Where(g => g.Count() > 1).Select(g => g.Key)];

    public static IEcgFeatureExtractor Create(string name) => name switch
    {
        BasicFeatureExtractor.SetName => new BasicFeatureExtractor(),
        HandcraftedFeatureExtractor.SetName => new HandcraftedFeatureExtractor(),
        Learned.LearnedFeatures.SetName => throw new ArgumentException($"feature set '{name}' needs a trained network; load it with NetworkEmbeddingExtractor.Load"),
        _ => throw new ArgumentException($"unknown feature set '{name}' (known: {string.Join(", ", [.. RecordOnlySets, Learned.LearnedFeatures.SetName])})"),
    };
}

/// <summary>Several extractors' features side by side, as one set (<c>handcrafted+learned</c>).</summary>
public sealed class FusedFeatureExtractor : IEcgFeatureExtractor
{
    public FusedFeatureExtractor(IReadOnlyList<IEcgFeatureExtractor> parts)
    {
        Parts = parts;
        Name = string.Join("+", parts.Select(p => p.Name));
        FeatureNames = [.. parts.SelectMany(p => p.FeatureNames)];
        var shared = FeatureNames.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        if (shared.Length > 0) throw new ArgumentException($"'{Name}' fuses sets that share features ({string.Join(", ", shared.Take(5))}): their columns would be ambiguous");
    }

    public IReadOnlyList<IEcgFeatureExtractor> Parts { get; }
    public string Name { get; }
    public int Version => 1;
    public IReadOnlyList<string> FeatureNames { get; }

    public void Extract(EcgRecord record, Span<float> destination)
    {
        var offset = 0;
        foreach (var part in Parts)
        {
            part.Extract(record, destination.Slice(offset, part.FeatureNames.Count));
            offset += part.FeatureNames.Count;
        }
    }
}
