using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CodeII.Experiments.Features;

/// <summary>
/// A matrix of float32 rows on disk, one row per exam, written batch by batch as it is computed and read back through a
/// memory map (<see cref="MappedFeatureValues"/>): how the learned features and the network's outputs are kept.
/// <para>
/// Layout: the 8 bytes <c>CODEIIFR</c>; the data's offset in bytes (int64, little-endian); the header's length in bytes
/// (int64); the header, UTF-8 JSON (<see cref="Header"/>); zeros up to the data offset, a multiple of 4,096; then
/// rows × width float32, little-endian, row-major. numpy maps it in one line:
/// <c>np.memmap(path, "&lt;f4", "r", offset=data_offset, shape=(rows, width))</c>.
/// </para>
/// <para>
/// Raw and row-major, not Arrow, because the sweep, the predictions and the importance read rows by index: here row i
/// is one run of width floats at data_offset + i × width × 4, a page or two of the file, found by arithmetic. The
/// feature cache's Arrow tables are columnar, one column per feature, so one row would touch a page in each of width
/// columns (5,120 for the full model); an Arrow file of fixed-size-list rows is row-major within each record batch, but
/// a row is found only through the batches' offsets in its flatbuffer footer, and Apache.Arrow's reader copies batches
/// into memory rather than mapping them.
/// </para>
/// </summary>
public static class FeatureRowsFile
{
    public const string Extension = ".f32";
    public const string FormatName = "codeii feature rows";
    public const int CurrentVersion = 1;
    const int Alignment = 4096;
    const int PrefixBytes = 24;
    static ReadOnlySpan<byte> Magic => "CODEIIFR"u8;

    /// <summary>How long a temporary file of a writer that is not running here must have been left unwritten before it is
    /// deleted: far longer than a batch of the full network takes on a CPU.</summary>
    static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    /// <summary>What the rows are; a file whose header differs from what a run expects is not read (a cache miss).</summary>
    public sealed record Header
    {
        public string Format { get; init; } = FormatName;
        public int Version { get; init; } = CurrentVersion;
        public required long Rows { get; init; }
        public required IReadOnlyList<string> FeatureNames { get; init; }
        /// <summary>Floats per row (the number of feature names), for readers that skip the names.</summary>
        public int Width => FeatureNames.Count;
        public string Values { get; init; } = "float32 little-endian, row-major";
        /// <summary>What computed the rows: a network's checkpoint hash, and its input when not a crop.</summary>
        public required string Producer { get; init; }
        /// <summary>The data's fingerprint (<see cref="FeatureTable.DataFingerprint"/>).</summary>
        public required string DataFingerprint { get; init; }
        /// <summary>SHA-256 of the rows' exam ids in order, each followed by a newline: the file holds values only, and a
        /// run's <c>split.csv</c> lists its exams in this order.</summary>
        public required string ExamIdsSha256 { get; init; }

        public bool Describes(Header other) => Format == other.Format && Version == other.Version && Rows == other.Rows
            && FeatureNames.SequenceEqual(other.FeatureNames, StringComparer.Ordinal) && Producer == other.Producer
            && DataFingerprint == other.DataFingerprint && ExamIdsSha256 == other.ExamIdsSha256;
    }

    public static string ExamIdsSha256(IReadOnlyList<string> examIds)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var id in examIds) hash.AppendData(Encoding.UTF8.GetBytes(id + "\n"));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Takes rows as they are computed and appends them to the file: nothing is held but what the stream buffers.</summary>
    public sealed class RowSink
    {
        readonly Stream _stream;
        readonly int _width;
        readonly string _path;

        internal RowSink(Stream stream, int width, string path) => (_stream, _width, _path) = (stream, width, path);

        public long Rows { get; private set; }

        /// <summary>Whole rows, row-major.</summary>
        public void Write(ReadOnlySpan<float> rows)
        {
            if (rows.Length % _width != 0) throw new ArgumentException($"{rows.Length} values are not whole rows of {_width}");
            try
            {
                _stream.Write(MemoryMarshal.AsBytes(rows));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new FeatureRowsWriteException(_path, e);
            }
            Rows += rows.Length / _width;
        }
    }

    /// <summary>
    /// Writes the header and then the rows <paramref name="writeRows"/> gives, whole or not at all: into a temporary file,
    /// renamed to <paramref name="path"/> once every row is in, so a process killed midway leaves no file under that name.
    /// A failure to write the file (a full or read-only disk) is a <see cref="FeatureRowsWriteException"/>; what
    /// <paramref name="writeRows"/> itself throws passes through as it is.
    /// </summary>
    public static void Write(string path, Header header, Action<RowSink> writeRows)
    {
        if (header.Width == 0) throw new ArgumentException($"{path}: a feature rows file needs at least one feature");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("feature rows files are little-endian");
        Exception? fromRows = null;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            // A writer of this file killed earlier left its rows, up to the size of the whole file, in a temporary file.
            AtomicFile.DeleteAbandonedTemporaries(path, AbandonedAfter);
            AtomicFile.WriteStream(path, stream =>
            {
                var json = JsonSerializer.SerializeToUtf8Bytes(header, JsonConventions.Options);
                var dataOffset = (PrefixBytes + json.Length + Alignment - 1) / Alignment * (long)Alignment;
                Span<byte> prefix = stackalloc byte[PrefixBytes];
                Magic.CopyTo(prefix);
                BinaryPrimitives.WriteInt64LittleEndian(prefix[8..], dataOffset);
                BinaryPrimitives.WriteInt64LittleEndian(prefix[16..], json.Length);
                stream.Write(prefix);
                stream.Write(json);
                stream.Write(new byte[dataOffset - PrefixBytes - json.Length]);
                var sink = new RowSink(stream, header.Width, path);
                try
                {
                    writeRows(sink);
                }
                catch (Exception e) when (e is not FeatureRowsWriteException)
                {
                    fromRows = e;
                    throw;
                }
                if (sink.Rows != header.Rows) throw new InvalidOperationException($"{path}: {sink.Rows} rows were written where the header promises {header.Rows}");
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not FeatureRowsWriteException && e != fromRows)
        {
            throw new FeatureRowsWriteException(path, e);
        }
    }

    /// <summary>A file's header and where its rows begin; throws <see cref="InvalidDataException"/> naming the file when it
    /// is not a feature rows file of this version or is not as long as its header says.</summary>
    public static (Header Header, long DataOffset) ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> prefix = stackalloc byte[PrefixBytes];
        if (stream.ReadAtLeast(prefix, PrefixBytes, throwOnEndOfStream: false) < PrefixBytes || !prefix[..8].SequenceEqual(Magic))
            throw new InvalidDataException($"{path}: not a feature rows file (it does not begin with CODEIIFR)");
        var dataOffset = BinaryPrimitives.ReadInt64LittleEndian(prefix[8..]);
        var headerBytes = BinaryPrimitives.ReadInt64LittleEndian(prefix[16..]);
        if (headerBytes is <= 0 or > int.MaxValue || dataOffset < PrefixBytes + headerBytes || dataOffset % sizeof(float) != 0 || dataOffset > stream.Length)
            throw new InvalidDataException($"{path}: the header's length ({headerBytes} bytes) or the data offset ({dataOffset}) does not fit the file");
        var json = new byte[headerBytes];
        stream.ReadExactly(json);
        Header header;
        try
        {
            header = JsonSerializer.Deserialize<Header>(json, JsonConventions.Options) ?? throw new InvalidDataException($"{path}: the header is null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: the header is not the JSON this version writes ({e.Message})", e);
        }
        if (header.Format != FormatName || header.Version != CurrentVersion)
            throw new InvalidDataException($"{path}: format '{header.Format}' version {header.Version}, not '{FormatName}' version {CurrentVersion}");
        var expected = dataOffset + header.Rows * header.Width * (long)sizeof(float);
        if (header.Rows < 0 || stream.Length != expected)
            throw new InvalidDataException($"{path}: {stream.Length} bytes, where {header.Rows} rows of {header.Width} floats after a header of {dataOffset} bytes need {expected}");
        return (header, dataOffset);
    }

    /// <summary>The rows of <paramref name="path"/> mapped, when it holds the rows <paramref name="expected"/> describes;
    /// null when it is absent, damaged, of another version or written for other rows (other exams, data, features or
    /// network): those are computed again.</summary>
    public static MappedFeatureValues? TryOpen(string path, Header expected)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var (header, dataOffset) = ReadHeader(path);
            return header.Describes(expected) ? new MappedFeatureValues(path, dataOffset, header.Rows * header.Width) : null;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The rows of a file this version wrote, mapped, whatever they hold.</summary>
    public static (Header Header, MappedFeatureValues Values) Open(string path)
    {
        var (header, dataOffset) = ReadHeader(path);
        return (header, new MappedFeatureValues(path, dataOffset, header.Rows * header.Width));
    }
}

/// <summary>A feature rows file that could not be written (a full or read-only disk), as against a failure of what
/// computes its rows.</summary>
public sealed class FeatureRowsWriteException(string path, Exception cause)
    : IOException($"{path}: cannot be written: {WriteFailure.Reason(cause)}", cause)
{
    public string Path { get; } = path;
}
