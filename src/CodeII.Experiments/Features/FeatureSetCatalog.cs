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

    public static IEcgFeatureExtractor Create(string name) => name switch
    {
        BasicFeatureExtractor.SetName => new BasicFeatureExtractor(),
        HandcraftedFeatureExtractor.SetName => new HandcraftedFeatureExtractor(),
        Learned.LearnedFeatures.SetName => throw new ArgumentException($"feature set '{name}' needs a trained network; load it with NetworkEmbeddingExtractor.Load"),
        _ => throw new ArgumentException($"unknown feature set '{name}' (known: {string.Join(", ", [.. RecordOnlySets, Learned.LearnedFeatures.SetName])})"),
    };
}

/// <summary>Several extractors' features side by side, as one set (<c>handcrafted+learned</c>).</summary>
public sealed class FusedFeatureExtractor(IReadOnlyList<IEcgFeatureExtractor> parts) : IEcgFeatureExtractor
{
    public IReadOnlyList<IEcgFeatureExtractor> Parts { get; } = parts;
    public string Name { get; } = string.Join("+", parts.Select(p => p.Name));
    public int Version => 1;
    public IReadOnlyList<string> FeatureNames { get; } = [.. parts.SelectMany(p => p.FeatureNames)];

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
