using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests;

/// <summary>Keeps every progress report, from any thread, in arrival order.</summary>
sealed class ProgressRecorder : IProgress<StageProgress>
{
    public List<StageProgress> Reports { get; } = [];
    public void Report(StageProgress value) { lock (Reports) Reports.Add(value); }
}
