using System.Text.Json.Serialization;

namespace CodeII.Experiments.Runs;

/// <summary>What happened to a run, one line of <c>events.jsonl</c> each: started (with the manifest as it began),
/// resumed, stage_started, stage_done, cancelled, failed, stopped, finished.</summary>
public sealed record RunEvent
{
    public const string Started = "started";
    public const string Resumed = "resumed";
    public const string StageStarted = "stage_started";
    public const string StageDone = "stage_done";
    public const string Cancelled = "cancelled";
    public const string Failed = "failed";
    public const string Finished = "finished";
    /// <summary>A session that ran part of the plan, as asked (a cluster job), and left the rest to the next job.</summary>
    public const string Stopped = "stopped";

    public required DateTime TimeUtc { get; init; }
    public required string Event { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Stage { get; init; }
    /// <summary>What the stage left behind or why the run ended, in words.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Detail { get; init; }
    /// <summary>On <c>started</c>: the run's seed, definition, code and package versions, as the manifest begins.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public RunManifest? Manifest { get; init; }
}

/// <summary>
/// The run folder's append-only event log. Every line is flushed as it is written, so a run killed at any moment
/// leaves a log that says how far it got; a torn last line (killed mid-write) is ignored when read.
/// </summary>
public sealed class RunEvents(RunFolder folder)
{
    public const string File = "events.jsonl";

    public void Append(RunEvent e) => folder.AppendJsonLine(File, e);

    public void Append(string @event, string? stage = null, string? detail = null) =>
        Append(new RunEvent { TimeUtc = DateTime.UtcNow, Event = @event, Stage = stage, Detail = detail });

    /// <summary>Every event so far; a last line cut short by a crash is read past.</summary>
    public IReadOnlyList<RunEvent> Read() => JsonLines.Read<RunEvent>(folder.FileIn(File), JsonLines.TornTail.Ignore, "event");

    /// <summary>Drops a last line cut short (the process died while writing it), so that appends continue cleanly.</summary>
    public void RepairTornTail() => JsonLines.Read<RunEvent>(folder.FileIn(File), JsonLines.TornTail.Repair, "event");

    /// <summary>
    /// How a session ended early, so the folder says it: cancelled, or failed with the exception's message. Written if
    /// it can be: the disk that failed the run may refuse this line too, and the caller's error is the one to report.
    /// </summary>
    public void AppendEnding(Exception e)
    {
        try
        {
            if (e is OperationCanceledException) Append(RunEvent.Cancelled);
            else Append(RunEvent.Failed, detail: $"{e.GetType().Name}: {e.Message}");
        }
        catch (Exception unwritten) when (unwritten is IOException or UnauthorizedAccessException)
        {
            // Without the line, the folder reads as interrupted (no process holds its lock), which is what it was.
        }
    }

    /// <summary>The manifest of a finished run: when it finished, its working time over every session, its resumes.</summary>
    public RunManifest Completed(RunManifest manifest, DateTime now)
    {
        var events = Read();
        return manifest with
        {
            FinishedUtc = now,
            DurationSeconds = WorkingSeconds(events, now),
            Resumes = events.Count(e => e.Event == RunEvent.Resumed),
            Status = "complete",
        };
    }

    /// <summary>The manifest the run started with.</summary>
    public RunManifest StartingManifest() =>
        Read().FirstOrDefault(e => e.Event == RunEvent.Started)?.Manifest
        ?? throw new InvalidDataException($"{folder.FileIn(File)}: no '{RunEvent.Started}' event; this folder was not made by codeii run, or by a version before run folders kept their events");

    /// <summary>Seconds the run has been working, summed over its sessions (each from its start or resume to its last event).</summary>
    public static double WorkingSeconds(IReadOnlyList<RunEvent> events, DateTime now)
    {
        var seconds = 0.0;
        DateTime? sessionStart = null, last = null;
        foreach (var e in events)
        {
            if (e.Event is RunEvent.Started or RunEvent.Resumed)
            {
                if (sessionStart is { } s && last is { } l) seconds += (l - s).TotalSeconds;
                sessionStart = e.TimeUtc;
            }
            last = e.TimeUtc;
        }
        if (sessionStart is { } start) seconds += (now - start).TotalSeconds;
        return seconds;
    }
}
