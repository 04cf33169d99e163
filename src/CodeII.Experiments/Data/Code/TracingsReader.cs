using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using PureHDF;
using PureHDF.Selections;

namespace CodeII.Experiments.Data.Code;

/// <summary>How <see cref="CodeHdf5Source"/> reads the tracings.</summary>
public enum CodeHdf5Reading
{
    /// <summary>Straight from the file where the layout allows (IEEE float32 of either byte order, contiguous or chunked
    /// with deflate and shuffle), through PureHDF otherwise.</summary>
    Direct,
    /// <summary>Always through PureHDF's public API: the reference the direct reader is tested against.</summary>
    PureHdf,
}

/// <summary>Reads one part's (N, samples, leads) float32 <c>tracings</c>, one exam at a time, from any thread.</summary>
abstract class TracingsReader : IDisposable
{
    protected TracingsReader(string path, int samples, int leads) => (FilePath, Samples, Leads) = (path, samples, leads);

    public string FilePath { get; }
    public int Samples { get; }
    public int Leads { get; }
    protected int ExamElements => Samples * Leads;

    /// <summary>Which path reads this part and why, for <c>codeii data inspect</c> and the benchmark.</summary>
    public abstract string Description { get; }
    public abstract bool IsDirect { get; }

    /// <summary>Fills <paramref name="exam"/> (samples × leads, row-major) with row <paramref name="row"/>; errors name
    /// <paramref name="record"/>.</summary>
    public abstract void Read(int row, string record, Span<float> exam);

    public virtual void Dispose() { }

    public static TracingsReader Open(string path, IH5Dataset tracings, CodeHdf5Reading reading)
    {
        var dims = tracings.Space.Dimensions;
        var (samples, leads) = ((int)dims[1], (int)dims[2]);
        if (reading == CodeHdf5Reading.PureHdf) return new PureHdfTracings(path, samples, leads, "PureHDF (asked for)");
        var storage = PureHdfStorage.Locate(tracings, out var whyNot);
        if (storage is Hdf5Float32Storage.Chunked refused && ChunkedTracings.Refuses(refused) is { } why) (storage, whyNot) = (null, why);
        return storage switch
        {
            Hdf5Float32Storage.Contiguous contiguous => new ContiguousTracings(path, contiguous),
            Hdf5Float32Storage.Chunked chunked => new ChunkedTracings(path, chunked),
            _ => new PureHdfTracings(path, samples, leads, $"PureHDF (the direct reader does not apply: {whyNot})"),
        };
    }

    /// <summary>"little-endian" or "big-endian", for the descriptions.</summary>
    protected static string ByteOrder(Hdf5Float32Storage storage) => storage.BigEndian ? "big-endian" : "little-endian";

    /// <summary>Puts float32 read in the file's byte order into this machine's.</summary>
    protected static void ToMachineOrder(Hdf5Float32Storage storage, Span<float> values)
    {
        if (storage.BigEndian != BitConverter.IsLittleEndian) return;
        var words = MemoryMarshal.Cast<float, uint>(values);
        BinaryPrimitives.ReverseEndianness(words, words);
    }

    protected EcgDataException Truncated(string record, string field, long fileLength, long end, Exception? cause = null) =>
        new(FilePath, record, field, $"the file ends at byte {fileLength:N0} but the data runs to byte {end:N0}: the part is truncated", cause);
}

/// <summary>One positional read per exam: the exam's rows are one run of bytes at a fixed stride. The handle is shared
/// by every thread, as positional reads need no lock.</summary>
sealed class ContiguousTracings : TracingsReader
{
    readonly SafeFileHandle _file;
    readonly Hdf5Float32Storage.Contiguous _storage;
    readonly long _offset;

    public ContiguousTracings(string path, Hdf5Float32Storage.Contiguous storage) : base(path, (int)storage.Dimensions[1], (int)storage.Dimensions[2])
    {
        (_storage, _offset) = (storage, storage.FileOffset);
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        var end = _offset + (long)storage.Dimensions[0] * ExamElements * sizeof(float);
        var length = RandomAccess.GetLength(_file);
        if (end > length)
        {
            _file.Dispose();
            throw Truncated("(file)", CodeLayout.TracingsDataset, length, end);
        }
    }

    public override string Description => $"direct: contiguous {ByteOrder(_storage)} float32, one positional read per exam";
    public override bool IsDirect => true;

    public override void Read(int row, string record, Span<float> exam)
    {
        var bytes = MemoryMarshal.AsBytes(exam[..ExamElements]);
        var offset = _offset + (long)row * bytes.Length;
        for (var done = 0; done < bytes.Length;)
        {
            var n = RandomAccess.Read(_file, bytes[done..], offset + done);
            // The length was checked at opening; a file cut short since then ends here.
            if (n == 0) throw Truncated(record, $"{CodeLayout.TracingsDataset}[{row}]", offset + done, offset + bytes.Length);
            done += n;
        }
        ToMachineOrder(_storage, exam[..ExamElements]);
    }

    public override void Dispose() => _file.Dispose();
}

/// <summary>
/// Chunks read with positional reads and decoded here (inflate, then unshuffle). Each thread keeps the decoded chunks
/// of the run of exams it read last (one chunk row along the exam axis), so reading exams in order decodes each chunk
/// once per thread.
/// </summary>
sealed class ChunkedTracings : TracingsReader
{
    /// <summary>A thread's decoded chunk row is held while it reads that row's exams; a layout that would need more is
    /// left to PureHDF.</summary>
    const long MaxCachedBytesPerThread = 256L << 20;

    readonly SafeFileHandle _file;
    readonly Hdf5Float32Storage.Chunked _storage;
    readonly int[] _chunk;
    readonly int _gridSamples, _gridLeads;
    readonly ThreadLocal<ChunkRow> _rows;

    sealed class ChunkRow(int chunks)
    {
        public int Index = -1;
        public readonly float[]?[] Chunks = new float[chunks][];
        public readonly bool[] Decoded = new bool[chunks];
        public byte[] Stored = [];
        public byte[] Inflated = [];
    }

    /// <summary>Why the direct reader will not read this chunked layout, or null.</summary>
    public static string? Refuses(Hdf5Float32Storage.Chunked storage)
    {
        if (storage.ChunkDimensions.Length != 3) return $"chunks of rank {storage.ChunkDimensions.Length}";
        if (storage.Filters is not ([] or [Hdf5Filter.Deflate] or [Hdf5Filter.Shuffle] or [Hdf5Filter.Shuffle, Hdf5Filter.Deflate]))
            return $"the filters {string.Join(", ", storage.Filters)} in this order";
        var rowBytes = storage.ChunkDimensions[0] * GridCount(storage, 1) * storage.ChunkDimensions[1] * GridCount(storage, 2) * storage.ChunkDimensions[2] * (long)sizeof(float);
        return rowBytes > MaxCachedBytesPerThread ? $"a row of chunks holds {rowBytes >> 20:N0} MiB decoded (chunks of {storage.ChunkDimensions[0]} exams)" : null;
    }

    static int GridCount(Hdf5Float32Storage.Chunked storage, int axis) =>
        (int)((storage.Dimensions[axis] + (ulong)storage.ChunkDimensions[axis] - 1) / (ulong)storage.ChunkDimensions[axis]);

    public ChunkedTracings(string path, Hdf5Float32Storage.Chunked storage) : base(path, (int)storage.Dimensions[1], (int)storage.Dimensions[2])
    {
        _storage = storage;
        _chunk = storage.ChunkDimensions;
        (_gridSamples, _gridLeads) = (GridCount(storage, 1), GridCount(storage, 2));
        _rows = new ThreadLocal<ChunkRow>(() => new ChunkRow(_gridSamples * _gridLeads));
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        var length = RandomAccess.GetLength(_file);
        var end = storage.Chunks.Length == 0 ? 0 : storage.Chunks.Max(c => c.FileOffset + StoredBytes(c));
        if (end > length)
        {
            _file.Dispose();
            throw Truncated("(file)", CodeLayout.TracingsDataset, length, end);
        }
    }

    long ChunkBytes => _storage.ChunkElements * sizeof(float);
    long StoredBytes(Hdf5ChunkLocation chunk) => _storage.Filters.Length == 0 ? ChunkBytes : chunk.StoredBytes;

    public override string Description =>
        $"direct: chunked ({string.Join(", ", _chunk)}){(_storage.Filters.Length == 0 ? "" : ", " + string.Join(" + ", _storage.Filters.Select(f => f.ToString().ToLowerInvariant())))}, {ByteOrder(_storage)} float32, positional reads";
    public override bool IsDirect => true;

    public override void Read(int row, string record, Span<float> exam)
    {
        var cache = _rows.Value!;
        var chunkRow = row / _chunk[0];
        if (cache.Index != chunkRow)
        {
            Array.Clear(cache.Decoded);
            cache.Index = chunkRow;
        }
        var rowInChunk = row % _chunk[0];
        for (var gs = 0; gs < _gridSamples; gs++)
            for (var gl = 0; gl < _gridLeads; gl++)
            {
                var slot = gs * _gridLeads + gl;
                if (!cache.Decoded[slot])
                {
                    var index = ((long)chunkRow * _gridSamples + gs) * _gridLeads + gl;
                    Decode(index, record, row, cache.Chunks[slot] ??= new float[_storage.ChunkElements], cache);
                    cache.Decoded[slot] = true;
                }
                var chunk = cache.Chunks[slot]!;
                var (firstSample, firstLead) = (gs * _chunk[1], gl * _chunk[2]);
                var samples = Math.Min(_chunk[1], Samples - firstSample);
                var leads = Math.Min(_chunk[2], Leads - firstLead);
                for (var s = 0; s < samples; s++)
                    chunk.AsSpan(((rowInChunk * _chunk[1]) + s) * _chunk[2], leads)
                        .CopyTo(exam.Slice((firstSample + s) * Leads + firstLead, leads));
            }
    }

    void Decode(long index, string record, int row, float[] chunk, ChunkRow buffers)
    {
        var location = _storage.Chunks[index];
        var field = $"{CodeLayout.TracingsDataset}[{row}] (chunk {index} at byte {location.FileOffset:N0})";
        var target = MemoryMarshal.AsBytes(chunk.AsSpan());
        var stored = StoredBytes(location);
        // Filter i was skipped for this chunk when bit i of its mask is set.
        bool Applied(Hdf5Filter filter) => Array.IndexOf(_storage.Filters, filter) is var i and >= 0 && (location.SkippedFilters & (1u << i)) == 0;
        var (inflate, unshuffle) = (Applied(Hdf5Filter.Deflate), Applied(Hdf5Filter.Shuffle));
        if (!inflate && stored != target.Length)
            throw new EcgDataException(FilePath, record, field, $"holds {stored:N0} bytes unfiltered, not the chunk's {target.Length:N0}");
        Span<byte> bytes = inflate ? Grow(ref buffers.Stored, stored) : unshuffle ? Grow(ref buffers.Inflated, stored) : target;
        ReadAt(bytes, location.FileOffset, record, field);
        if (inflate)
        {
            var inflated = unshuffle ? Grow(ref buffers.Inflated, target.Length) : target;
            Inflate(buffers.Stored, (int)stored, inflated, record, field);
            bytes = inflated;
        }
        if (unshuffle) Unshuffle(bytes, target);
        ToMachineOrder(_storage, chunk);
    }

    static Span<byte> Grow(ref byte[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new byte[length];
        return buffer.AsSpan(0, (int)length);
    }

    void ReadAt(Span<byte> bytes, long offset, string record, string field)
    {
        for (var done = 0; done < bytes.Length;)
        {
            var n = RandomAccess.Read(_file, bytes[done..], offset + done);
            if (n == 0) throw Truncated(record, field, offset + done, offset + bytes.Length);
            done += n;
        }
    }

    void Inflate(byte[] stored, int length, Span<byte> target, string record, string field)
    {
        try
        {
            using var zlib = new ZLibStream(new MemoryStream(stored, 0, length, writable: false), CompressionMode.Decompress);
            zlib.ReadExactly(target);
            // A stream with more data than the chunk holds is as damaged as one with less.
            if (zlib.ReadByte() != -1) throw new InvalidDataException("it inflates to more than the chunk's size");
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new EcgDataException(FilePath, record, field, $"cannot be inflated ({e.Message}): the part is damaged", e);
        }
    }

    /// <summary>HDF5's shuffle filter stores byte k of every element together; this puts each float's four bytes back
    /// side by side.</summary>
    static void Unshuffle(ReadOnlySpan<byte> shuffled, Span<byte> target)
    {
        var elements = target.Length / sizeof(float);
        for (var b = 0; b < sizeof(float); b++)
        {
            var plane = shuffled.Slice(b * elements, elements);
            for (var i = 0; i < elements; i++) target[i * sizeof(float) + b] = plane[i];
        }
    }

    public override void Dispose()
    {
        _file.Dispose();
        _rows.Dispose();
    }
}

/// <summary>
/// PureHDF's public API: every layout and filter it knows, at about 80 MB/s per thread. PureHDF handles are not safe
/// for concurrent reads, and decoding is CPU-bound inside PureHDF, so each thread opens its own handle rather than
/// queueing on one.
/// </summary>
sealed class PureHdfTracings : TracingsReader
{
    readonly ThreadLocal<(IH5Dataset Tracings, float[] Buffer)> _perThread;
    readonly System.Collections.Concurrent.ConcurrentBag<IDisposable> _files = [];

    public PureHdfTracings(string path, int samples, int leads, string description) : base(path, samples, leads)
    {
        Description = description;
        _perThread = new(() =>
        {
            var file = H5File.OpenRead(path);
            _files.Add(file);
            return (file.Dataset(CodeLayout.TracingsDataset), new float[ExamElements]);
        });
    }

    public override string Description { get; }
    public override bool IsDirect => false;

    public override void Read(int row, string record, Span<float> exam)
    {
        try
        {
            var (tracings, buffer) = _perThread.Value;
            tracings.Read(buffer, fileSelection: new HyperslabSelection(3, [(ulong)row, 0, 0], [1, (ulong)Samples, (ulong)Leads]));
            buffer.CopyTo(exam);
        }
        catch (Exception e) when (e is not EcgDataException)
        {
            throw new EcgDataException(FilePath, record, $"{CodeLayout.TracingsDataset}[{row}]", $"cannot be read ({e.Message}): the part is truncated or damaged", e);
        }
    }

    public override void Dispose()
    {
        foreach (var file in _files) file.Dispose();
        _perThread.Dispose();
    }
}
