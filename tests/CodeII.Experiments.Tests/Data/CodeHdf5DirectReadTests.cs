using System.Runtime.InteropServices;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;
using PureHDF;
using PureHDF.Filters;
using PureHDF.VOL.Native;

namespace CodeII.Experiments.Tests.Data;

/// <summary>
/// The direct reader against PureHDF, the reference: every exam bit for bit, on each layout <c>codeii data synth</c>
/// writes and on chunked layouts written by PureHDF's writer and by h5py.
/// </summary>
public class CodeHdf5DirectReadTests
{
    /// <summary>25 synthetic exams in parts of 10, 10 and 5, as <c>codeii data synth --exams-per-part 10</c> writes them.</summary>
    static string Synthetic(int exams = 25, int perPart = 10)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = 4 }), dir, examsPerPart: perPart, batchSize: 4);
        return dir;
    }

    /// <summary>Every exam of <paramref name="actual"/>, read in parallel as a run reads them, equals
    /// <paramref name="expected"/>'s bit for bit, with the same recording inside the padding.</summary>
    static void AssertSameExams(CodeHdf5Source expected, CodeHdf5Source actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        var records = new EcgRecord[actual.Count];
        Parallel.For(0, actual.Count, new ParallelOptions { MaxDegreeOfParallelism = 3 }, i => records[i] = actual.Read(i));
        for (var i = 0; i < expected.Count; i++)
        {
            var reference = expected.Read(i);
            Assert.Equal(reference.ExamId, records[i].ExamId);
            Assert.Equal(reference.RecordedSamples, records[i].RecordedSamples);
            for (var l = 0; l < reference.Signals.Length; l++)
                Assert.True(MemoryMarshal.AsBytes(reference.Signals[l].AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(records[i].Signals[l].AsSpan())),
                    $"exam {reference.ExamId}, lead {l}: the direct reader differs from PureHDF");
        }
    }

    /// <summary>The same exams in chunked parts written by PureHDF.</summary>
    static string ChunkedCopy(string original, uint[] chunks, params H5Filter[] filters)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.Copy(Path.Combine(original, CodeLayout.MetadataFile), Path.Combine(dir, CodeLayout.MetadataFile));
        foreach (var part in Directory.GetFiles(original, "*.hdf5"))
        {
            using var file = H5File.OpenRead(part);
            var tracings = file.Dataset(CodeLayout.TracingsDataset);
            var dims = tracings.Space.Dimensions;
            new H5File
            {
                [CodeLayout.TracingsDataset] = new H5Dataset<float[]>(tracings.Read<float[]>(), chunks, dims, new H5DatasetCreation(Filters: [.. filters])),
                [CodeLayout.ExamIdDataset] = file.Dataset(CodeLayout.ExamIdDataset).Read<long[]>(),
            }.Write(Path.Combine(dir, Path.GetFileName(part)));
        }
        return dir;
    }

    [Fact]
    public void The_contiguous_parts_codeii_data_synth_writes_are_read_directly_and_bit_for_bit_as_PureHDF_reads_them()
    {
        var dir = Synthetic();
        using var reference = new CodeHdf5Source(dir, CodeHdf5Reading.PureHdf);
        using var direct = new CodeHdf5Source(dir);
        Assert.True(direct.ReadsDirectly, direct.ReadPath);
        Assert.Equal("direct: contiguous little-endian float32, one positional read per exam", direct.ReadPath);
        Assert.False(reference.ReadsDirectly);
        Assert.StartsWith("PureHDF", reference.ReadPath);
        AssertSameExams(reference, direct);
        Assert.Contains("reading: direct: contiguous little-endian float32, one positional read per exam", CodeII.Experiments.Data.Formats.DatasetInspector.Inspect(dir).Notes);
    }

    [Theory]
    [InlineData(new uint[] { 1, 4096, 12 }, "", "chunked (1, 4096, 12)")]
    [InlineData(new uint[] { 3, 1000, 5 }, "", "chunked (3, 1000, 5)")] // partial chunks on every axis
    [InlineData(new uint[] { 1, 4096, 12 }, "deflate", "chunked (1, 4096, 12), deflate")]
    [InlineData(new uint[] { 4, 512, 12 }, "shuffle deflate", "chunked (4, 512, 12), shuffle + deflate")]
    [InlineData(new uint[] { 3, 1000, 5 }, "shuffle deflate", "chunked (3, 1000, 5), shuffle + deflate")]
    [InlineData(new uint[] { 3, 1000, 5 }, "shuffle", "chunked (3, 1000, 5), shuffle")]
    public void Chunked_parts_written_by_PureHDF_are_read_directly_and_bit_for_bit_as_PureHDF_reads_them(uint[] chunks, string filters, string path)
    {
        var original = Synthetic();
        var dir = ChunkedCopy(original, chunks, [.. filters.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f == "shuffle" ? (H5Filter)ShuffleFilter.Id : DeflateFilter.Id)]);
        using var reference = new CodeHdf5Source(original, CodeHdf5Reading.PureHdf);
        using var direct = new CodeHdf5Source(dir);
        Assert.True(direct.ReadsDirectly, direct.ReadPath);
        Assert.StartsWith($"direct: {path}, little-endian float32", direct.ReadPath);
        AssertSameExams(reference, direct);
        // And PureHDF reads the chunked copy as it reads the original, so the copy is a fair test.
        using var referenceOfCopy = new CodeHdf5Source(dir, CodeHdf5Reading.PureHdf);
        AssertSameExams(reference, referenceOfCopy);
    }

    [FactNeedingPython("h5py", "python3-h5py")]
    public void Parts_written_by_h5py_are_read_directly_and_bit_for_bit_as_PureHDF_reads_the_original_in_every_layout()
    {
        var original = Synthetic();
        var output = RepoPaths.NewTemporaryDirectory();
        var layouts = PythonPeer.Run(Path.Combine(RepoPaths.Root, "tests", "fixtures", "code-hdf5", "h5py_layouts.py"), original, output)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["contiguous", "chunked-auto", "gzip-per-exam", "shuffle-gzip-auto", "latest-resizable", "big-endian"], layouts);
        using var reference = new CodeHdf5Source(original, CodeHdf5Reading.PureHdf);
        foreach (var layout in layouts)
        {
            using var source = new CodeHdf5Source(Path.Combine(output, layout));
            Assert.True(source.ReadsDirectly, $"{layout}: {source.ReadPath}");
            AssertSameExams(reference, source);
        }
        using var shuffled = new CodeHdf5Source(Path.Combine(output, "shuffle-gzip-auto"));
        Assert.Contains(", shuffle + deflate, little-endian float32", shuffled.ReadPath);
        // PureHDF 2.2 refuses to convert byte order, so there the direct reader is the only one that reads the file.
        using var bigEndian = new CodeHdf5Source(Path.Combine(output, "big-endian"));
        Assert.Equal("direct: contiguous big-endian float32, one positional read per exam", bigEndian.ReadPath);
    }

    [Fact]
    public void A_filter_the_direct_reader_does_not_undo_falls_back_to_PureHDF_and_says_so()
    {
        var original = Synthetic(exams: 7, perPart: 7);
        var dir = ChunkedCopy(original, [1, 4096, 12], Fletcher32Filter.Id);
        using var reference = new CodeHdf5Source(original, CodeHdf5Reading.PureHdf);
        using var source = new CodeHdf5Source(dir);
        Assert.False(source.ReadsDirectly);
        Assert.Equal("PureHDF (the direct reader does not apply: chunks pass through HDF5 filter 3 (fletcher32); only deflate and shuffle are read directly)", source.ReadPath);
        AssertSameExams(reference, source);
    }

    [Fact]
    public void Tracings_that_are_not_float32_are_an_error_naming_the_file_and_dataset()
    {
        var dir = Synthetic(exams: 2, perPart: 2);
        var part = Path.Combine(dir, "exams_part0.hdf5");
        new H5File
        {
            [CodeLayout.TracingsDataset] = new H5Dataset<double[]>(new double[2 * 4096 * 12], fileDims: [2, 4096, 12]),
            [CodeLayout.ExamIdDataset] = new long[] { 1, 2 },
        }.Write(part);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal(part, e.File);
        Assert.Equal("tracings", e.Field);
        Assert.Equal("holds FloatingPoint values of 8 bytes; CODE's tracings are float32", e.Problem);
    }

    [Fact]
    public void Parts_read_differently_are_each_named_in_the_read_path()
    {
        var original = Synthetic(exams: 6, perPart: 3);
        var dir = ChunkedCopy(original, [1, 4096, 12], Fletcher32Filter.Id);
        File.Copy(Path.Combine(original, "exams_part0.hdf5"), Path.Combine(dir, "exams_part0.hdf5"), overwrite: true);
        using var source = new CodeHdf5Source(dir);
        Assert.False(source.ReadsDirectly);
        Assert.Equal("exams_part0.hdf5: direct: contiguous little-endian float32, one positional read per exam; "
            + "exams_part1.hdf5: PureHDF (the direct reader does not apply: chunks pass through HDF5 filter 3 (fletcher32); only deflate and shuffle are read directly)",
            source.ReadPath);
    }

    [Fact]
    public void A_part_cut_short_inside_its_tracings_is_an_error_naming_the_file()
    {
        // PureHDF writes the metadata after the data, so the cut takes the metadata with it.
        var dir = Synthetic(exams: 6, perPart: 6);
        var part = Path.Combine(dir, "exams_part0.hdf5");
        var (start, end) = ExtentOfTracings(part);
        using (var file = File.OpenWrite(part)) file.SetLength(start + (end - start) / 2);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal(part, e.File);
        Assert.Contains("the part is truncated", e.Problem);
    }

    [FactNeedingPython("h5py", "python3-h5py")]
    public void A_part_cut_short_with_its_metadata_whole_is_an_error_naming_the_file_before_any_exam_is_read()
    {
        // h5py writes the metadata first, and the layouts script the tracings last, so only the tracings are cut.
        var output = RepoPaths.NewTemporaryDirectory();
        PythonPeer.Run(Path.Combine(RepoPaths.Root, "tests", "fixtures", "code-hdf5", "h5py_layouts.py"), Synthetic(exams: 6, perPart: 6), output);
        foreach (var layout in new[] { "contiguous", "gzip-per-exam" })
        {
            var part = Path.Combine(output, layout, "exams_part0.hdf5");
            var (start, end) = ExtentOfTracings(part);
            Assert.Equal(new FileInfo(part).Length, end);
            using (var file = File.OpenWrite(part)) file.SetLength(start + (end - start) / 2);
            var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(Path.Combine(output, layout)));
            Assert.Equal(part, e.File);
            Assert.Equal("tracings", e.Field);
            Assert.Equal($"the file ends at byte {start + (end - start) / 2:N0} but the data runs to byte {end:N0}: the part is truncated", e.Problem);
        }
    }

    /// <summary>Where the tracings' bytes lie in the part, so the cut falls inside them whatever order the writer chose.</summary>
    static (long Start, long End) ExtentOfTracings(string part)
    {
        using var file = H5File.OpenRead(part);
        return PureHdfStorage.Locate(file.Dataset(CodeLayout.TracingsDataset), out var whyNot) switch
        {
            Hdf5Float32Storage.Contiguous c => (c.FileOffset, c.FileOffset + (long)(c.Dimensions[0] * c.Dimensions[1] * c.Dimensions[2]) * sizeof(float)),
            Hdf5Float32Storage.Chunked k => (k.Chunks.Min(x => x.FileOffset), k.Chunks.Max(x => x.FileOffset + x.StoredBytes)),
            _ => throw new InvalidOperationException(whyNot),
        };
    }

    [Fact]
    public void NaN_in_chunked_tracings_is_an_error_naming_file_exam_and_element()
    {
        var original = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new AlteredSource(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 4, Seed = 1 }), (index, r) =>
        {
            if (index == 2) r.Signals[7][3000] = float.PositiveInfinity;
            return r;
        }), original);
        var dir = ChunkedCopy(original, [3, 1000, 5], ShuffleFilter.Id, DeflateFilter.Id);
        using var source = new CodeHdf5Source(dir);
        Assert.True(source.ReadsDirectly);
        source.Read(1);
        var e = Assert.Throws<EcgDataException>(() => source.Read(2));
        Assert.Equal(Path.Combine(dir, "exams_part0.hdf5"), e.File);
        Assert.Equal("exam_id 3", e.Record);
        Assert.Equal("tracings[2, 3000, 7]", e.Field);
    }
}
