using System.Text.Json;

namespace CodeII.Experiments.Sweep;

/// <summary>Reads the append-only trial log (JSON lines) of a run folder.</summary>
public static class TrialLog
{
    /// <summary>
    /// Every logged trial. A last line cut short (the process was killed while writing it) is the one line that may be
    /// incomplete: with <paramref name="repairTornTail"/> it is removed from the file, so appends continue cleanly;
    /// any other unreadable line is an error naming the file and line.
    /// </summary>
    public static IReadOnlyList<TrialRecord> Read(string path, bool repairTornTail = false)
    {
        if (!File.Exists(path)) return [];
        var lines = File.ReadAllLines(path);
        var trials = new List<TrialRecord>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                trials.Add(JsonSerializer.Deserialize<TrialRecord>(lines[i], JsonConventions.Options) ?? throw new JsonException("null record"));
            }
            catch (JsonException e) when (i == lines.Length - 1)
            {
                if (!repairTornTail) throw new InvalidDataException($"{path}, line {i + 1}: incomplete trial record ({e.Message})");
                AtomicFile.WriteText(path, string.Concat(lines.Take(i).Select(l => l + "\n")));
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: unreadable trial record ({e.Message})");
            }
        }
        return trials;
    }
}
