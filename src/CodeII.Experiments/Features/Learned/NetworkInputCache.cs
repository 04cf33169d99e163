using System.IO.MemoryMappedFiles;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// Every exam's network input (12 × samples float32, preprocessed) in one memory-mapped file beside a one-byte-per-exam
/// "written" flag file, so each exam is decoded and resampled once and later epochs read it back at memory speed.
/// Memory stays bounded: the operating system pages the file in and out. A flag is set only after its exam's data
/// are written, so an interrupted run leaves at worst some exams to decode again.
/// </summary>
public sealed unsafe class NetworkInputCache : IDisposable
{
    readonly MemoryMappedFile _data;
    readonly MemoryMappedViewAccessor _view;
    readonly FileStream _flags;
    readonly byte[] _written;
    readonly byte* _origin;
    readonly Lock _flagGate = new();

    public int Exams { get; }
    public int FloatsPerExam { get; }
    public string DataPath { get; }

    public NetworkInputCache(string folder, int exams, int floatsPerExam)
    {
        Directory.CreateDirectory(folder);
        Exams = exams;
        FloatsPerExam = floatsPerExam;
        DataPath = Path.Combine(folder, "inputs.f32");
        var bytes = (long)exams * floatsPerExam * sizeof(float);
        _flags = new FileStream(Path.Combine(folder, "inputs.written"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _written = new byte[exams];
        if (_flags.Length == exams) _flags.ReadExactly(_written);
        else _flags.SetLength(exams); // a cache of another size is not this one: start over
        _data = MemoryMappedFile.CreateFromFile(DataPath, FileMode.OpenOrCreate, null, Math.Max(1, bytes), MemoryMappedFileAccess.ReadWrite);
        _view = _data.CreateViewAccessor(0, Math.Max(1, bytes), MemoryMappedFileAccess.ReadWrite);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _origin = pointer + _view.PointerOffset;
    }

    public int CachedCount => _written.Count(b => b != 0);

    Span<float> Slot(int exam) => new(_origin + (long)exam * FloatsPerExam * sizeof(float), FloatsPerExam);

    /// <summary>Copies exam <paramref name="exam"/>'s input into <paramref name="destination"/> if it is cached.</summary>
    public bool TryRead(int exam, Span<float> destination)
    {
        if (Volatile.Read(ref _written[exam]) == 0) return false;
        Slot(exam).CopyTo(destination);
        return true;
    }

    public void Write(int exam, ReadOnlySpan<float> input)
    {
        input.CopyTo(Slot(exam));
        Volatile.Write(ref _written[exam], 1);
        lock (_flagGate)
        {
            _flags.Position = exam;
            _flags.WriteByte(1);
        }
    }

    public void Dispose()
    {
        _view.Flush();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _data.Dispose();
        _flags.Dispose();
    }
}
