using CodeII.Experiments.Features;

namespace CodeII.Experiments.Cli;

/// <summary>Progress&lt;T&gt; posts to the thread pool when there is no synchronisation context, so updates could
/// arrive out of order; this applies them at once, one at a time.</summary>
sealed class ProgressCallback(Action<StageProgress> apply) : IProgress<StageProgress>
{
    readonly Lock _gate = new();
    public void Report(StageProgress value) { lock (_gate) apply(value); }
}
