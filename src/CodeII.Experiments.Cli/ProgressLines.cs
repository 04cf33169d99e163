using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Sweep;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>
/// Progress as plain lines, for output that is not a terminal (a file, a pipe, a CI log), where a live display
/// cannot redraw: a stage's first report, then at most one line per <paramref name="interval"/> while it runs, and
/// its end with its time. The sweep's lines are the live table's title (trials of the whole sweep, time left), and
/// the table itself is printed once when the sweep ends.
/// </summary>
sealed class ProgressLines(IAnsiConsole console, IReadOnlyDictionary<string, string> descriptions, ExperimentDefinition definition,
    TimeProvider time, TimeSpan interval)
{
    sealed class StageLines(StageClock clock)
    {
        public StageClock Clock { get; } = clock;
        public DateTimeOffset LastLine { get; set; }
        public bool Ended { get; set; }
    }

    readonly Dictionary<string, StageLines> _stages = new(StringComparer.Ordinal);
    readonly Lock _gate = new();
    DateTimeOffset? _lastSweepLine;
    bool _sweepTablePrinted;

    public void Report(StageProgress p)
    {
        if (!descriptions.TryGetValue(p.Stage, out var description)) return;
        lock (_gate)
        {
            var now = time.GetUtcNow();
            var name = p.Detail is { } detail ? $"{description}: {detail}" : description;
            var first = !_stages.TryGetValue(p.Stage, out var stage);
            if (first) _stages[p.Stage] = stage = new StageLines(new StageClock(time));
            stage!.Clock.Report(p.Done, p.Total);
            var done = p.Done >= p.Total;
            // More work after the end: a transfer run's next cell goes through the stages again.
            if (stage.Ended && !done) { stage.Ended = false; first = true; }
            if (done)
            {
                if (stage.Ended) return;
                stage.Ended = true;
                // A stage done at its first report was skipped or read from a cache, and its detail says which.
                console.WriteLine(first && p.Detail is not null ? name : $"{name}: done in {SweepTable.Duration(stage.Clock.Elapsed!.Value.TotalSeconds)}");
            }
            // The sweep's own lines say more than a percentage.
            else if (p.Stage == "sweep") return;
            else if (first || now - stage.LastLine >= interval)
                console.WriteLine($"{name}: {Math.Floor(100.0 * p.Done / p.Total)} % ({p.Done}/{p.Total}), {SweepTable.Duration(stage.Clock.Elapsed!.Value.TotalSeconds)}");
            else return;
            stage.LastLine = now;
        }
    }

    public void Report(SweepStatus status)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            // A transfer run sweeps once per cell.
            if (_sweepTablePrinted && !status.Ended) (_sweepTablePrinted, _lastSweepLine) = (false, null);
            if (status.Ended)
            {
                if (_sweepTablePrinted) return;
                _sweepTablePrinted = true;
                console.Write(SweepTable.Render(status, definition));
                return;
            }
            if (_lastSweepLine is { } last && now - last < interval) return;
            _lastSweepLine = now;
            console.WriteLine(SweepTable.Headline(status, definition));
        }
    }
}
