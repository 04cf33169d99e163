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
}
