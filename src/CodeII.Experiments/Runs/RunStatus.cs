namespace CodeII.Experiments.Runs;

/// <summary>
/// Where a run stands, from its folder. A killed process can write nothing, so no one file can say it: the manifest
/// (written once, when the run finishes), the lock (held while a process writes the run) and the event log (how the
/// last session ended, when it could say) together tell a finished, running, cancelled, failed or dead run apart.
/// A transfer run's cell has no lock or events of its own: its transfer run's tell how it stands.
/// </summary>
public sealed record RunStatus(string State, string Description)
{
    public const string Complete = "complete";
    public const string Running = "running";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";
    public const string Waiting = "waiting";

    public bool IsRunning => State == Running;

    /// <summary>The transfer run a cell's status is read from, and the folder to resume it through; null for a run of its own.</summary>
    public RunFolder? TransferRun { get; init; }

    public static RunStatus Of(RunFolder folder)
    {
        if (folder.IsFinished) return new(Complete, "complete");
        if (folder.TransferRun() is not { } transferRun) return OfRun(folder, "it");
        var status = OfRun(transferRun, $"its transfer run {transferRun.Path}");
        return status with
        {
            TransferRun = transferRun,
            Description = status.IsRunning ? status.Description : $"its transfer run {transferRun.Path}: {status.Description}",
        };
    }

    static RunStatus OfRun(RunFolder run, string written)
    {
        if (run.IsFinished) return new(Complete, "complete");
        var writer = RunLock.Writer(run);
        if (RunLock.IsHeld(run)) return new(Running, $"still running: {RunWriter.Describe(writer)} is writing {written}");
        return Ended(new RunEvents(run).Read(), writer);
    }

    /// <summary>How the last session of a run no process is writing ended: its last event, or nothing when it was killed.</summary>
    /// <param name="writer">The process that ran that session, when known.</param>
    public static RunStatus Ended(IReadOnlyList<RunEvent> events, RunWriter? writer)
    {
        var last = events.LastOrDefault();
        if (last?.Event == RunEvent.Cancelled) return new(Cancelled, $"cancelled at {Time(last.TimeUtc)}");
        if (last?.Event == RunEvent.Failed) return new(Failed, $"failed: {last.Detail}");
        if (last?.Event == RunEvent.Stopped) return new(Waiting, $"waiting: its last job ran it through the {last.Stage} stage at {Time(last.TimeUtc)}; the next job continues it");
        var process = writer is null ? "the process that ran it" : $"the process that ran it ({writer})";
        var stage = events.LastOrDefault(e => e.Event is RunEvent.StageStarted or RunEvent.StageDone) is { Event: RunEvent.StageStarted, Stage: { } name }
            ? $" during the {name} stage" : "";
        return new(Interrupted, $"interrupted: {process} is gone, killed or crashed{stage}" + (last is null ? "" : $" after its last event at {Time(last.TimeUtc)}"));
    }

    internal static string Time(DateTime utc) => utc.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) + "Z";
}
