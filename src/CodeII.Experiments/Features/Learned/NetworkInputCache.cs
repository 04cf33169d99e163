using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// Every exam's network input (12 × samples float32, preprocessed) in one file beside a one-byte-per-exam "written"
/// flag file, so each exam is decoded and resampled once and later epochs read it back from the page cache. Memory
/// stays bounded: the operating system keeps what fits. A flag is set only after its exam's data are written, so an
/// interrupted run leaves at worst some exams to decode again.
/// <para>
/// The file is written with positioned writes, not through a memory map: a mapped page that a full disk cannot back
/// kills the process with SIGBUS, where a write fails with an error. It is read through a read-only map, which spares
/// each read a system call (11 % of the small network's training time, docs/benchmarks.md) and cannot fault: the file
/// has its full length from the start, and reading a page never asks the disk for space. The cache is only a cache: a
/// folder it cannot open or a write that fails turns it off (<see cref="Unwritable"/> says why), and the exams it lacks
/// are decoded from the data each time they are read.
/// </para>
/// </summary>
public sealed class NetworkInputCache : IDisposable
{
    const string FlagsFile = "inputs.written";
    static readonly byte[] Written = [1];

    readonly SafeFileHandle? _data;
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly SafeFileHandle? _flags;
    readonly byte[] _written;
    string? _unwritable;

    public int Exams { get; }
    public int FloatsPerExam { get; }
    public string DataPath { get; }

    public NetworkInputCache(string folder, int exams, int floatsPerExam)
    {
        Exams = exams;
        FloatsPerExam = floatsPerExam;
        DataPath = Path.Combine(folder, "inputs.f32");
        _written = new byte[exams];
        try
        {
            Directory.CreateDirectory(folder);
            var created = CreateReserved(DataPath, Bytes);
            _data = created ?? File.OpenHandle(DataPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            _flags = File.OpenHandle(Path.Combine(folder, FlagsFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
            if (created is null && RandomAccess.GetLength(_flags) == exams) RandomAccess.Read(_flags, _written, 0);
            else
            {
                // New data, or a cache of another size (not this one): start over, every flag cleared.
                RandomAccess.SetLength(_flags, 0);
                RandomAccess.SetLength(_flags, exams);
            }
            (_map, _view) = ReadMap(_data, Bytes);
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            Disable(e);
        }
    }

    long Bytes => (long)Exams * FloatsPerExam * sizeof(float);

    /// <summary>A read-only map of the data file at its full length (the reservation leaves the length at 0, and the
    /// blocks are already the file's); none where the file cannot be mapped, and then reads are positioned reads.</summary>
    static (MemoryMappedFile?, MemoryMappedViewAccessor?) ReadMap(SafeFileHandle data, long bytes)
    {
        if (bytes == 0) return (null, null);
        MemoryMappedFile? map = null;
        try
        {
            if (RandomAccess.GetLength(data) < bytes) RandomAccess.SetLength(data, bytes);
            map = MemoryMappedFile.CreateFromFile(data, null, bytes, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            return (map, map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            map?.Dispose();
            return (null, null);
        }
    }

    /// <summary>
    /// A new data file with its whole size reserved on disk (fallocate), so a disk too small for the cache refuses it
    /// at once, before the cache has taken the space the checkpoints need; null when the file exists already (this
    /// cache's earlier session, or another run that created it a moment ago).
    /// </summary>
    static SafeFileHandle? CreateReserved(string path, long bytes)
    {
        if (File.Exists(path)) return null;
        try
        {
            return File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, FileOptions.None, preallocationSize: bytes);
        }
        catch (IOException) when (File.Exists(path))
        {
            return null;
        }
    }

    /// <summary>Why the cache holds no more exams, when it cannot be written: the file, the reason and the space it needs.</summary>
    public string? Unwritable => Volatile.Read(ref _unwritable);

    public int CachedCount => _written.Count(b => b != 0);

    long Offset(int exam) => (long)exam * FloatsPerExam * sizeof(float);

    /// <summary>Copies exam <paramref name="exam"/>'s input into <paramref name="destination"/> if it is cached.</summary>
    public bool TryRead(int exam, Span<float> destination)
    {
        if (Volatile.Read(ref _written[exam]) == 0) return false;
        if (_view is { } view)
        {
            view.SafeMemoryMappedViewHandle.ReadSpan((ulong)Offset(exam), destination[..FloatsPerExam]);
            return true;
        }
        var bytes = MemoryMarshal.AsBytes(destination[..FloatsPerExam]);
        // A data file cut short (by hand, or by another run's crash) holds less than its flags say: decode those exams again.
        return RandomAccess.Read(_data!, bytes, Offset(exam)) == bytes.Length;
    }

    public void Write(int exam, ReadOnlySpan<float> input)
    {
        if (Unwritable is not null) return;
        try
        {
            RandomAccess.Write(_data!, MemoryMarshal.AsBytes(input[..FloatsPerExam]), Offset(exam));
            RandomAccess.Write(_flags!, Written, exam);
            Volatile.Write(ref _written[exam], 1);
        }
        catch (Exception e) when (IsWriteFailure(e))
        {
            Disable(e);
        }
    }

    /// <summary>A full disk (IOException), a size over the process's file size limit (.NET's ArgumentOutOfRangeException
    /// for EFBIG), or a folder this process may not write.</summary>
    static bool IsWriteFailure(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentOutOfRangeException;

    void Disable(Exception e)
    {
        // .NET words a failed reservation in its own way; the free space says plainly whether the disk is too small.
        var free = FreeBytes(Path.GetDirectoryName(DataPath)!);
        var reason = free < Bytes ? $"the disk holding it has {free / 1e6:0.#} MB free" : WriteFailure.Reason(e);
        Interlocked.CompareExchange(ref _unwritable,
            $"{DataPath}: the network input cache cannot be written ({reason}; it needs {Bytes / 1e6:0.#} MB for {Exams} exams), "
            + "so it is off: exams it does not hold are decoded from the data each time the network reads them", null);
    }

    static long FreeBytes(string folder)
    {
        try { return new DriveInfo(folder).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { return long.MaxValue; }
    }

    public void Dispose()
    {
        _view?.Dispose();
        _map?.Dispose();
        _data?.Dispose();
        _flags?.Dispose();
    }
}
