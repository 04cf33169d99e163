using System.Text.Json;

namespace CodeII.Experiments.Runs;

/// <summary>
/// One writer per run folder: the process that runs or resumes a run holds an exclusive lock on the folder's
/// <c>run.lock</c> until the session ends. The lock is the kernel's (.NET takes <c>flock(LOCK_EX)</c> for
/// <see cref="FileShare.None"/> on Unix, a sharing lock on Windows), so it vanishes with its process however that
/// process ends: a lock left by a killed run is simply free, and nothing has to guess whether its holder is alive.
/// A locked file cannot be read by another process, so the holder names itself in <c>writer.json</c> beside it.
/// </summary>
public sealed class RunLock : IDisposable
{
    public const string LockFile = "run.lock";
    /// <summary>The process writing the run, or the last one that did.</summary>
    public const string WriterFile = "writer.json";

    readonly FileStream _stream;

    RunLock(FileStream stream, RunWriter? previous) => (_stream, Previous) = (stream, previous);

    /// <summary>The process that wrote the run before this session, when one did and said so.</summary>
    public RunWriter? Previous { get; }

    /// <summary>Takes the folder's lock, or refuses with <see cref="RunFolderBusyException"/> naming the process that holds it.</summary>
    public static RunLock Acquire(RunFolder folder)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(folder.FileIn(LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            throw new RunFolderBusyException(folder, Writer(folder));
        }
        try
        {
            var previous = Writer(folder);
            AtomicFile.WriteText(folder.FileIn(WriterFile), JsonSerializer.Serialize(RunWriter.Current(), RunFolder.Json) + "\n");
            return new RunLock(stream, previous);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>The process <c>writer.json</c> names: the one writing the run now, if its lock is held.</summary>
    public static RunWriter? Writer(RunFolder folder)
    {
        try
        {
            return JsonSerializer.Deserialize<RunWriter>(File.ReadAllText(folder.FileIn(WriterFile)), RunFolder.Json);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null; // a run from before run folders had writers
        }
    }

    /// <summary>
    /// Whether another session holds the folder's lock now. The probe shares the lock for an instant (readers never
    /// exclude each other); a folder from before run folders had locks, or one this process cannot read, counts as not held.
    /// </summary>
    public static bool IsHeld(RunFolder folder)
    {
        try
        {
            using var probe = new FileStream(folder.FileIn(LockFile), FileMode.Open, FileAccess.Read, FileShare.Read);
            return false;
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The error .NET raises when a file's lock is held by another handle: EWOULDBLOCK from <c>flock</c> on Unix
    /// (11 on Linux, 35 on macOS and FreeBSD), ERROR_SHARING_VIOLATION on Windows.</summary>
    static bool IsHeldElsewhere(IOException e) => e is not FileNotFoundException and not DirectoryNotFoundException
        && e.HResult == (OperatingSystem.IsWindows() ? unchecked((int)0x80070020) : OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11);

    public void Dispose() => _stream.Dispose();
}

/// <summary>A process that writes a run folder, as <c>writer.json</c> records it.</summary>
public sealed record RunWriter(int Pid, string Host, DateTime SinceUtc)
{
    public static RunWriter Current() => new(Environment.ProcessId, Environment.MachineName, DateTime.UtcNow);

    public override string ToString() => $"pid {Pid} on host {Host}, since {RunStatus.Time(SinceUtc)}";

    /// <summary>The process holding a run folder, in words, whether or not it named itself.</summary>
    public static string Describe(RunWriter? writer) => $"another codeii process ({writer?.ToString() ?? "its process id is not recorded"})";
}

/// <summary>A run folder another process is writing: a second writer would interleave its lines with the first's.</summary>
public sealed class RunFolderBusyException(RunFolder folder, RunWriter? writer)
    : IOException($"{folder.Path}: {RunWriter.Describe(writer)} is writing this run; wait for it or stop it")
{
    public RunFolder Folder { get; } = folder;
}
