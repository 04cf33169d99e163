using System.Text;

namespace CodeII.Experiments;

/// <summary>
/// Writes a file whole or not at all: to a temporary name beside it, then a rename, so a reader (or a resumed run)
/// never sees half a file. Each write has a temporary name of its own, so writers of one file at the same moment
/// (runs sharing a cache) never write into each other's temporary file: the last rename wins, whole.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<string> writeTemporary)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            writeTemporary(temporary);
            // On disk before the rename, so a crash of the machine cannot leave the new name on an empty file.
            using (var written = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite)) written.Flush(flushToDisk: true);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // A full or read-only disk: leave no half-written temporary file behind.
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    public static void WriteText(string path, string content) =>
        Write(path, temporary => File.WriteAllText(temporary, content, new UTF8Encoding(false)));

    public static void WriteBytes(string path, byte[] content) => Write(path, temporary => File.WriteAllBytes(temporary, content));

    public static void WriteStream(string path, Action<Stream> write) => Write(path, temporary =>
    {
        using var stream = File.Create(temporary);
        write(stream);
    });

    /// <summary>
    /// Deletes the temporary files of <paramref name="path"/> that killed writers left: their process is not running and
    /// they have not been written to for <paramref name="quiet"/>. For files written over hours (a network's embeddings
    /// of millions of exams, tens of GB), whose every kill would otherwise leave that much behind. A writer that is alive
    /// writes more often than that, so its file is kept even when its process is not visible here (another machine or
    /// container sharing the folder).
    /// </summary>
    public static void DeleteAbandonedTemporaries(string path, TimeSpan quiet)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(folder)) return;
        var name = Path.GetFileName(path);
        // Simple matching: Win32 matching reads "*." as "up to the name's last dot", which "<name>.*.tmp" would trip on.
        foreach (var temporary in Directory.EnumerateFiles(folder, $"{name}.*.tmp", new EnumerationOptions { MatchType = MatchType.Simple }))
        {
            var writer = Path.GetFileName(temporary)[(name.Length + 1)..^".tmp".Length].Split('.');
            if (writer.Length != 2 || !int.TryParse(writer[0], out var pid) || IsRunning(pid)) continue;
            if (DateTime.UtcNow - File.GetLastWriteTimeUtc(temporary) < quiet) continue;
            try { File.Delete(temporary); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
