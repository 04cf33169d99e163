using System.Text.Json;

namespace CodeII.Experiments;

/// <summary>
/// The run folder's append-only logs (trials, events): one JSON object per line, each line written and flushed whole.
/// Only the last line can be incomplete (the process died while writing it); what happens to it is the caller's choice.
/// </summary>
public static class JsonLines
{
    public enum TornTail
    {
        /// <summary>An incomplete last line is an error naming the file and line.</summary>
        Error,
        /// <summary>Read past it, leaving the file as it is (a reader beside a running writer).</summary>
        Ignore,
        /// <summary>Remove it from the file, and end the file with a line break, so appends continue cleanly.</summary>
        Repair,
    }

    /// <param name="what">What a line holds, for error messages ("trial record").</param>
    public static List<T> Read<T>(string path, TornTail tornTail, string what)
    {
        if (!File.Exists(path)) return [];
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var items = new List<T>();
        var kept = lines.Length;
        for (var i = 0; i < lines.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(lines[i])) continue;
            try
            {
                items.Add(JsonSerializer.Deserialize<T>(lines[i], JsonConventions.Options) ?? throw new JsonException("null record"));
            }
            catch (JsonException e) when (i == LastNonEmpty(lines))
            {
                if (tornTail == TornTail.Error) throw new InvalidDataException($"{path}, line {i + 1}: incomplete {what} ({e.Message})");
                kept = i;
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}, line {i + 1}: unreadable {what} ({e.Message})");
            }
        }
        if (tornTail == TornTail.Repair && (kept < lines.Length || text.Length > 0 && !text.EndsWith('\n')))
            AtomicFile.WriteText(path, string.Concat(lines.Take(kept).Where(l => !string.IsNullOrWhiteSpace(l)).Select(l => l + "\n")));
        return items;
    }

    static int LastNonEmpty(string[] lines)
    {
        for (var i = lines.Length - 1; i >= 0; i--)
            if (!string.IsNullOrWhiteSpace(lines[i])) return i;
        return -1;
    }
}
