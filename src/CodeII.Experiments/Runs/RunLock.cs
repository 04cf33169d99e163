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

    /// <summary>
    /// How often a lock found taken is tried again before the run is refused. <see cref="IsHeld"/> (what <c>codeii
    /// report</c> and <c>compare</c> ask) shares the lock for the instant of an open and a close, and a writer that
    /// meets such a probe would be refused, in a message naming the last writer, which may be long dead. A probe ends
    /// within microseconds unless its process is descheduled, so a few tries over about 200 ms tell it from a writer,
    /// which holds the lock for its whole session.
    /// </summary>
    const int Attempts = 5;
    static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>Takes the folder's lock, or refuses with <see cref="RunFolderBusyException"/> naming the process that
    /// holds it, or with <see cref="RunLockUnavailableException"/> where file locks do not work.</summary>
    public static RunLock Acquire(RunFolder folder) => Acquire(folder, _ => Thread.Sleep(RetryDelay));

    /// <param name="beforeRetry">Waits before each new try (given the number of tries so far).</param>
    internal static RunLock Acquire(RunFolder folder, Action<int> beforeRetry)
    {
        var stream = Open(folder, beforeRetry);
        try
        {
            EnsureEffective(folder);
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

    /// <summary>Takes a new run folder's lock; a folder whose lock cannot be taken is removed, so a refused run leaves
    /// no empty run behind (nothing but the lock file is in it yet).</summary>
    public static RunLock AcquireNew(RunFolder folder)
    {
        try
        {
            return Acquire(folder);
        }
        catch (IOException)
        {
            try { Directory.Delete(folder.Path, recursive: true); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            throw;
        }
    }

    static FileStream Open(RunFolder folder, Action<int> beforeRetry)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return new FileStream(folder.FileIn(LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (IsHeldElsewhere(e) && attempt < Attempts)
            {
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                throw new RunFolderBusyException(folder, Writer(folder));
            }
            beforeRetry(attempt);
        }
    }

    /// <summary>
    /// Refuses a lock that excludes no one. .NET skips <c>flock</c> when DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set, and
    /// ignores its failure where the file system has no locks (ENOTSUP, ENOLCK: some NFS, CIFS and FUSE mounts), so the
    /// open above succeeds either way. A second handle of this process tells: <c>flock</c> locks belong to an open file
    /// description, so even this process's own shared open must be refused while the lock is held. Refusing beats a
    /// fallback: a lock file created exclusively outlives a killed run and brings back guessing whether its holder is
    /// alive, which a process on another host sharing the mount cannot even check.
    /// </summary>
    static void EnsureEffective(RunFolder folder)
    {
        try
        {
            using var probe = new FileStream(folder.FileIn(LockFile), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (IOException e) when (IsHeldElsewhere(e))
        {
            return;
        }
        throw new RunLockUnavailableException(folder);
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

/// <summary>A run folder whose lock would not exclude a second writer: file locking is off, or the file system has none.</summary>
public sealed class RunLockUnavailableException(RunFolder folder)
    : IOException($"{folder.Path}: cannot lock {RunLock.LockFile}: {Reason}; a second codeii process could write this run at the same time, "
        + "so it is not run (put the runs folder on a local disk, or let .NET lock files)")
{
    /// <summary>.NET reads the switch from the environment variable or the app's runtime configuration.</summary>
    static string Reason
    {
        get
        {
            var variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
            if (variable is not null && (variable == "1" || variable.Equals("true", StringComparison.OrdinalIgnoreCase)))
                return $"file locking is turned off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING={variable})";
            if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out var disabled) && disabled)
                return "file locking is turned off (System.IO.DisableFileLocking in the runtime configuration)";
            return "the file system does not support file locks (some NFS, CIFS and FUSE mounts do not)";
        }
    }
}

/// <summary>A run folder another process is writing: a second writer would interleave its lines with the first's.</summary>
public sealed class RunFolderBusyException(RunFolder folder, RunWriter? writer)
    : IOException($"{folder.Path}: {RunWriter.Describe(writer)} is writing this run; wait for it or stop it")
{
    public RunFolder Folder { get; } = folder;
}
