using CodeII.Experiments.Data;

namespace CodeII.Experiments.Features;

/// <summary>Turns one ECG into a fixed-length feature vector with stable, documented names.</summary>
public interface IEcgFeatureExtractor
{
    /// <summary>The feature-set name used in experiment definitions.</summary>
    string Name { get; }

    /// <summary>Bumped whenever the same record would give different values; keys the feature cache.</summary>
    int Version { get; }

    /// <summary>Names with their unit as a suffix (<c>_ms</c>, <c>_mv</c>, <c>_bpm</c>).</summary>
    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Writes one value per feature; a feature that cannot be measured is NaN, never a made-up zero.</summary>
    void Extract(EcgRecord record, Span<float> destination);
}
