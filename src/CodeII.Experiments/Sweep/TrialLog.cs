namespace CodeII.Experiments.Sweep;

/// <summary>Reads the append-only trial log (JSON lines) of a run folder.</summary>
public static class TrialLog
{
    /// <summary>
    /// Every logged trial. A last line cut short (the process was killed while writing it) is the one line that may be
    /// incomplete: with <paramref name="repairTornTail"/> it is removed from the file, so appends continue cleanly;
    /// any other unreadable line is an error naming the file and line.
    /// </summary>
    public static IReadOnlyList<TrialRecord> Read(string path, bool repairTornTail = false) =>
        JsonLines.Read<TrialRecord>(path, repairTornTail ? JsonLines.TornTail.Repair : JsonLines.TornTail.Error, "trial record");
}
