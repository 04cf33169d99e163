using Spectre.Console;
using Spectre.Console.Rendering;

namespace CodeII.Experiments.Cli;

/// <summary>
/// A stage's time: from its first progress report until its work is all done. Spectre's own clock
/// (<see cref="ProgressTask.ElapsedTime"/>) runs on after a bar is full until <see cref="ProgressTask.StopTask"/>,
/// which cannot be undone, and a transfer run's stage bars start again for each cell; so the stop is kept here, and
/// more work after it (the next cell) starts the clock afresh.
/// </summary>
sealed class StageClock(TimeProvider time)
{
    sealed record Span(DateTimeOffset Start, DateTimeOffset? Stop);

    // Written by progress reports, read by the display's refresh thread: one immutable span swapped whole.
    volatile Span? _span;

    public void Report(double done, double total)
    {
        var now = time.GetUtcNow();
        var span = _span;
        if (span is null || span.Stop is not null && done < total) span = new Span(now, null);
        if (done >= total && span.Stop is null) span = span with { Stop = now };
        _span = span;
    }

    /// <summary>Null before the stage's first report; frozen once its work is done.</summary>
    public TimeSpan? Elapsed => _span is { } span ? (span.Stop ?? time.GetUtcNow()) - span.Start : null;
}

/// <summary>Spectre's <see cref="ElapsedTimeColumn"/>, but reading the task's <see cref="StageClock"/> (its
/// <see cref="ProgressTask.Tag"/>) so that a finished stage's time stands still.</summary>
sealed class StageElapsedColumn : ProgressColumn
{
    protected override bool NoWrap => true;

    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        var elapsed = task.Tag is StageClock clock ? clock.Elapsed : task.ElapsedTime;
        return elapsed switch
        {
            null => new Markup("--:--:--"),
            { TotalHours: > 99 } => new Markup("**:**:**"),
            { } e => new Text($@"{e:hh\:mm\:ss}", new Style(Color.Blue)),
        };
    }

    public override int? GetColumnWidth(RenderOptions options) => 8;
}
