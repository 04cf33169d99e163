using System.IO.MemoryMappedFiles;
using Microsoft.Win32.SafeHandles;

namespace CodeII.Experiments.Features;

/// <summary>
/// A feature table's values as one run of float32: in an array, or in a file mapped into memory. A mapped matrix is
/// never in the managed heap: the operating system pages in the rows that are read and drops them under pressure, so a
/// network's embeddings of millions of exams (5,120 floats each for the full model) cost disk, not memory.
/// </summary>
public abstract class FeatureValues
{
    /// <summary>How many floats there are.</summary>
    public abstract long Length { get; }

    /// <summary>The folder of the file the values are mapped from; null for values in memory. Tables made from mapped
    /// ones (fused sets) are written beside them, so they do not end up in memory either.</summary>
    public virtual string? Folder => null;

    /// <summary><paramref name="length"/> floats from <paramref name="start"/>.</summary>
    public abstract ReadOnlySpan<float> Slice(long start, int length);

    public static implicit operator FeatureValues(float[] values) => new InMemoryFeatureValues(values);

    /// <summary>Throws unless [start, start + length) lies inside the values: a mapped read past the end would not throw
    /// but fault.</summary>
    protected void CheckRange(long start, int length)
    {
        if (start < 0 || length < 0 || start > Length - length)
            throw new ArgumentOutOfRangeException(nameof(start), $"floats [{start}, {start + length}) lie outside the {Length} values");
    }
}

sealed class InMemoryFeatureValues(float[] values) : FeatureValues
{
    public override long Length => values.LongLength;

    public override ReadOnlySpan<float> Slice(long start, int length)
    {
        CheckRange(start, length);
        return values.AsSpan((int)start, length);
    }
}

/// <summary>
/// Float32 values of a file, mapped read-only. The map lasts until <see cref="Dispose"/> (a run disposes its tables'
/// values when it ends); values never disposed stay mapped until the process exits, so a span handed out earlier is
/// never left pointing at memory that was unmapped under it.
/// </summary>
public sealed unsafe class MappedFeatureValues : FeatureValues, IDisposable
{
    readonly MemoryMappedViewAccessor? _view;
    readonly float* _first;
    int _disposed;

    /// <param name="offset">Where the floats begin in the file, in bytes (a multiple of 4).</param>
    /// <param name="length">How many floats; the file must hold them all.</param>
    public MappedFeatureValues(string path, long offset, long length)
    {
        // Shared for deleting and writing: a run that replaces a cache file (a rename) or deletes it does not disturb
        // this map, which keeps the file it was made from.
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        (Path, Length) = (path, length);
        _view = Map(file, path, offset, length, out _first);
    }

    MappedFeatureValues(SafeFileHandle file, string path, long length)
    {
        (Path, Length) = (path, length);
        _view = Map(file, path, 0, length, out _first);
    }

    static MemoryMappedViewAccessor? Map(SafeFileHandle file, string path, long offset, long length, out float* first)
    {
        first = null;
        if (offset < 0 || offset % sizeof(float) != 0 || length < 0) throw new ArgumentOutOfRangeException(nameof(offset), $"{path}: {length} floats at byte {offset}");
        var bytes = offset + length * sizeof(float);
        if (RandomAccess.GetLength(file) < bytes)
            throw new InvalidDataException($"{path}: the file is {RandomAccess.GetLength(file)} bytes long, short of the {bytes} its {length} floats need");
        if (length == 0) return null; // nothing to map, and an empty map cannot be made
        using var map = MemoryMappedFile.CreateFromFile(file, null, bytes, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        var view = map.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.Read);
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        first = (float*)(pointer + view.PointerOffset + offset);
        return view;
    }

    public string Path { get; }
    public override long Length { get; }
    public override string? Folder => System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));

    public override ReadOnlySpan<float> Slice(long start, int length)
    {
        CheckRange(start, length);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new ReadOnlySpan<float>(_first + start, length);
    }

    /// <summary>
    /// Values written once, to a new file in <paramref name="folder"/>, and mapped: for a matrix computed from mapped ones
    /// (a fused feature set). The file is scratch, not a cache: on Unix its name is removed before the first value is
    /// written (the open file and then the map keep its data), so even a killed process leaves nothing behind; elsewhere
    /// the system deletes it once it is closed and unmapped.
    /// </summary>
    public static MappedFeatureValues WriteScratch(string folder, long length, Action<Stream> write)
    {
        Directory.CreateDirectory(folder);
        var path = System.IO.Path.Combine(folder, $"scratch-{Environment.ProcessId}-{Guid.NewGuid():N}.f32");
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Delete, bufferSize: 1 << 20, FileOptions.DeleteOnClose);
        // Windows refuses while the file is open; DeleteOnClose removes it there.
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        write(stream);
        stream.Flush();
        if (stream.Length != length * sizeof(float)) throw new InvalidOperationException($"{path}: {stream.Length} bytes written for {length} floats");
        return new MappedFeatureValues(stream.SafeFileHandle, path, length);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || _view is null) return;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
    }
}
