namespace CodeII.Experiments.Sweep.Tuning;

public static class TunerCatalog
{
    public const string Cfo = "cfo";
    public const string Blend = "blend";
    public const string Tpe = "tpe";
    public const string Random = "random";
    public const string Grid = "grid";
    public static readonly IReadOnlyList<string> Names = [Cfo, Blend, Tpe, Random, Grid];

    public static ITuner Create(string name, SearchSpace space, int seed) => name switch
    {
        Cfo => new CfoTuner(space, seed),
        Blend => new BlendTuner(space, seed),
        Tpe => new TpeTuner(space, seed),
        Random => new RandomTuner(space, seed),
        Grid => new GridTuner(space, seed),
        _ => throw new ArgumentException($"unknown tuner '{name}' (known: {string.Join(", ", Names)})"),
    };

    /// <summary>A hash of a name that is the same in every process (string.GetHashCode is randomised per process),
    /// so tuner and selector seeds derived from stream and learner names repeat.</summary>
    public static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)(hash & 0x7fffffff);
    }
}
