using System.Buffers.Binary;

namespace CodeII.Experiments.Data.Wfdb;

/// <summary>A decoded WFDB record: the header and every signal's raw ADC values, checksums verified.</summary>
public sealed class WfdbRecord
{
    public required WfdbHeader Header { get; init; }
    /// <summary>Digital[signal][sample] in ADC units; <see cref="WfdbRecordReader.MissingSample"/> marks WFDB's invalid-sample code.</summary>
    public required int[][] Digital { get; init; }

    public int SampleCount => Digital.Length == 0 ? 0 : Digital[0].Length;

    /// <summary>(digital − baseline) / gain, in millivolts; invalid samples become NaN.</summary>
    public float[][] ToMillivolts()
    {
        var result = new float[Digital.Length][];
        for (var s = 0; s < Digital.Length; s++)
        {
            var signal = Header.Signals[s];
            var scale = WfdbHeader.ToMillivolts(signal.Units,
                problem => new EcgDataException(Header.Path, Header.RecordName, $"signal {s + 1} ({signal.Description}) units", problem)) / signal.Gain;
            var digital = Digital[s];
            var physical = result[s] = new float[digital.Length];
            for (var n = 0; n < digital.Length; n++)
                physical[n] = digital[n] == WfdbRecordReader.MissingSample ? float.NaN : (float)((digital[n] - signal.Baseline) * scale);
        }
        return result;
    }
}

/// <summary>
/// Decodes WFDB signal files in formats 16 (little-endian 16-bit) and 212 (two 12-bit samples in three bytes),
/// with signals spread over several files, a byte offset (as in the PhysioNet Challenge's <c>.mat</c> files),
/// and every checksum and initial value checked against the header.
/// </summary>
public static class WfdbRecordReader
{
    public const int MissingSample = int.MinValue;
    public static readonly IReadOnlyList<int> SupportedFormats = [16, 212];

    /// <summary>Reads <c>&lt;path&gt;.hea</c> (the path may be given with or without the extension) and its signal files.</summary>
    /// <param name="datasetRoot">The folder every signal file must lie in; the header's own folder when null.</param>
    public static WfdbRecord Read(string recordPath, string? datasetRoot = null)
    {
        var headerPath = recordPath.EndsWith(".hea", StringComparison.OrdinalIgnoreCase) ? recordPath : recordPath + ".hea";
        return Read(WfdbHeader.Read(headerPath), datasetRoot);
    }

    /// <summary>Where signal <paramref name="signal"/>'s file is, refused unless inside <paramref name="datasetRoot"/>
    /// (the header's own folder when null), so a header cannot make us read any other file on the machine.</summary>
    public static string SignalFile(WfdbHeader header, int signal, string? datasetRoot = null)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(header.Path))!;
        return DatasetPaths.Contained(datasetRoot ?? directory, directory, header.Signals[signal].FileName, header.Path, header.RecordName, $"signal {signal + 1} file name");
    }

    public static WfdbRecord Read(WfdbHeader header, string? datasetRoot = null)
    {
        var digital = new int[header.Signals.Count][];
        long? sampleCount = header.SampleCount;
        var index = 0;
        while (index < header.Signals.Count)
        {
            // Signals stored in the same file are consecutive in the header and interleaved frame by frame in the file.
            var file = header.Signals[index].FileName;
            var first = index;
            while (index < header.Signals.Count && header.Signals[index].FileName == file) index++;
            var group = Enumerable.Range(first, index - first).ToArray();
            var samples = DecodeFile(header, SignalFile(header, first, datasetRoot), group, sampleCount);
            sampleCount ??= samples[0].Length;
            for (var k = 0; k < group.Length; k++) digital[group[k]] = samples[k];
        }
        for (var s = 0; s < digital.Length; s++) Verify(header, s, digital[s]);
        return new WfdbRecord { Header = header, Digital = digital };
    }

    static int[][] DecodeFile(WfdbHeader header, string path, int[] group, long? expectedSamples)
    {
        var spec = header.Signals[group[0]];
        EcgDataException Error(string field, string problem) => new(path, header.RecordName, field, problem);
        foreach (var s in group)
        {
            var other = header.Signals[s];
            if (other.Format != spec.Format || other.ByteOffset != spec.ByteOffset)
                throw Error($"signal {s + 1} format", "signals in one file must share its format and byte offset");
            if (other.SamplesPerFrame != 1)
                throw Error($"signal {s + 1} format", $"{other.SamplesPerFrame} samples per frame is not supported");
        }
        if (!SupportedFormats.Contains(spec.Format))
            throw Error($"signal {group[0] + 1} format", $"format {spec.Format} is not supported (supported: {string.Join(", ", SupportedFormats)})");
        if (!File.Exists(path)) throw Error("signal file", "file not found");

        if (spec.ByteOffset < 0) throw Error("byte offset", $"{spec.ByteOffset} is negative");
        var bytes = File.ReadAllBytes(path);
        var available = bytes.Length - (long)spec.ByteOffset;
        if (available < 0) throw Error("byte offset", $"offset {spec.ByteOffset} lies beyond the file's {bytes.Length} bytes");
        var perFrame = group.Length;
        // In 128 bits: a sample count near 2^63 from a corrupt header must compare as too large, not wrap around.
        Int128 BytesFor(long samples) => spec.Format == 16 ? (Int128)samples * perFrame * 2 : ((Int128)samples * perFrame * 3 + 1) / 2;
        var samplesInFile = spec.Format == 16 ? available / (2 * perFrame) : available * 2 / 3 / perFrame;
        var n = expectedSamples ?? samplesInFile;
        if (BytesFor(n) != available)
            throw Error("number of samples",
                BytesFor(n) > available
                    ? $"the header announces {n} samples per signal ({BytesFor(n)} bytes) but the file holds only {available} bytes after its offset: it is truncated"
                    : $"the header announces {n} samples per signal ({BytesFor(n)} bytes) but the file holds {available} bytes after its offset");

        var result = new int[perFrame][];
        for (var k = 0; k < perFrame; k++) result[k] = new int[n];
        var data = bytes.AsSpan(spec.ByteOffset);
        if (spec.Format == 16)
        {
            for (long f = 0, p = 0; f < n; f++)
                for (var k = 0; k < perFrame; k++, p += 2)
                {
                    int v = BinaryPrimitives.ReadInt16LittleEndian(data.Slice((int)p, 2));
                    result[k][f] = v == short.MinValue ? MissingSample : v;
                }
        }
        else
        {
            long value = 0;
            for (long f = 0; f < n; f++)
                for (var k = 0; k < perFrame; k++, value++)
                {
                    var p = (int)(value / 2 * 3);
                    var v = value % 2 == 0 ? data[p] | (data[p + 1] & 0x0F) << 8 : data[p + 2] | (data[p + 1] & 0xF0) << 4;
                    if (v > 2047) v -= 4096;
                    result[k][f] = v == -2048 ? MissingSample : v;
                }
        }
        return result;
    }

    static void Verify(WfdbHeader header, int s, int[] samples)
    {
        var spec = header.Signals[s];
        var where = $"signal {s + 1} ({spec.Description})";
        if (spec.InitialValue is { } initial && samples.Length > 0 && samples[0] != MissingSample && samples[0] != initial)
            throw new EcgDataException(header.Path, header.RecordName, $"{where} initial value", $"header says {initial}, the signal file starts with {samples[0]}");
        if (spec.Checksum is not { } expected) return;
        // header(5): the checksum is the 16-bit sum of all samples; some writers print it unsigned, so compare modulo 65536.
        long sum = 0;
        foreach (var v in samples) sum += v == MissingSample ? (spec.Format == 212 ? -2048 : short.MinValue) : v;
        if (((sum % 65536) + 65536) % 65536 != ((expected % 65536) + 65536) % 65536)
            throw new EcgDataException(header.Path, header.RecordName, $"{where} checksum",
                $"header says {expected}, the samples sum to {(short)(sum & 0xFFFF)} (mod 65536): the signal file is corrupt or does not belong to this header");
    }
}
