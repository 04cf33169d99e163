namespace CodeII.Experiments.Runs;

/// <summary>One stretch of a stage's work, from its <c>stage_started</c> event to its <c>stage_done</c>.</summary>
public sealed record StageTime(string Stage, DateTime StartedUtc, DateTime DoneUtc)
{
    public double Seconds => (DoneUtc - StartedUtc).TotalSeconds;
}

/// <summary>
/// How long each stage of a run took, read from its event log rather than timed by whoever started it, so the same
/// figures come out of a run made in this process, in a child <c>codeii run</c> or by a cluster's scheduler.
/// </summary>
public static class StageTimes
{
    /// <summary>
    /// Every finished stretch of stage work in log order. A stage started in a session that ended before the stage
    /// did (killed, cancelled, failed) has no <c>stage_done</c>: that stretch is not counted, and the session that
    /// resumed the run logs the stage's work again.
    /// </summary>
    public static IReadOnlyList<StageTime> Of(IReadOnlyList<RunEvent> events)
    {
        var stretches = new List<StageTime>();
        RunEvent? open = null;
        foreach (var e in events)
        {
            if (e.Event == RunEvent.StageDone && open is not null && open.Stage == e.Stage)
                stretches.Add(new StageTime(e.Stage!, open.TimeUtc, e.TimeUtc));
            // Anything else after a start (another start, a session's end or resumption) leaves that start unfinished.
            open = e.Event == RunEvent.StageStarted ? e : null;
        }
        return stretches;
    }

    /// <summary>Seconds per stage, summed over its stretches.</summary>
    public static IReadOnlyDictionary<string, double> SecondsByStage(IReadOnlyList<RunEvent> events)
    {
        var seconds = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var stretch in Of(events)) seconds[stretch.Stage] = seconds.GetValueOrDefault(stretch.Stage) + stretch.Seconds;
        return seconds;
    }

    /// <summary>The run's working seconds from its start to its last event, over every session (<see cref="RunEvents.WorkingSeconds"/>).</summary>
    public static double TotalSeconds(IReadOnlyList<RunEvent> events) =>
        events.Count == 0 ? 0 : RunEvents.WorkingSeconds(events, events[^1].TimeUtc);
}
