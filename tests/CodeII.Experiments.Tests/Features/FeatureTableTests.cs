using System.Buffers.Binary;
using System.Text.Json;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// Feature tables whose values are in a feature rows file, mapped, against the same tables in memory: every view and
/// file a run makes of them reads the values a hand-built matrix says, NaN included.
/// </summary>
public class FeatureTableTests : IDisposable
{
    readonly string _root = RepoPaths.NewTemporaryDirectory();
    readonly List<IDisposable> _mapped = [];

    public void Dispose()
    {
        foreach (var values in _mapped) values.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Every value of a table, row by row.</summary>
    internal static float[] AllValues(FeatureTable table) => [.. Enumerable.Range(0, table.RowCount).SelectMany(i => table.Row(i).ToArray())];

    internal static int[] Bits(FeatureTable table) => [.. AllValues(table).Select(BitConverter.SingleToInt32Bits)];

    /// <summary>The oracle: exam r's feature c is r × 1,000 + c, but for one NaN.</summary>
    static float Value(int row, int column) => row == 2 && column == 1 ? float.NaN : row * 1_000 + column;

    static FeatureTable InMemory(int rows, int width, string prefix = "f")
    {
        var values = new float[rows * width];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < width; c++) values[r * width + c] = Value(r, c);
        return new FeatureTable
        {
            FeatureNames = [.. Enumerable.Range(0, width).Select(c => $"{prefix}{c}")],
            ExamIds = [.. Enumerable.Range(0, rows).Select(r => $"exam{r}")],
            PatientIds = [.. Enumerable.Range(0, rows).Select(r => $"patient{r / 2}")],
            Labels = [.. Enumerable.Range(0, rows).Select(r => (IReadOnlySet<string>)new HashSet<string>(r % 2 == 0 ? ["AF"] : Array.Empty<string>()))],
            Values = values,
            DataFingerprint = "sha256:test",
            SourceIndex = [.. Enumerable.Range(0, rows).Select(r => r + 10)],
            SourceRatesHz = [.. Enumerable.Range(0, rows).Select(r => 500f)],
            SourceSeconds = [.. Enumerable.Range(0, rows).Select(r => 10f)],
        };
    }

    FeatureRowsFile.Header HeaderOf(FeatureTable table) => new()
    {
        Rows = table.RowCount, FeatureNames = table.FeatureNames, Producer = "test", DataFingerprint = table.DataFingerprint,
        ExamIdsSha256 = FeatureRowsFile.ExamIdsSha256(table.ExamIds),
    };

    /// <summary>The table's rows written to a feature rows file a row at a time and mapped back.</summary>
    FeatureTable Mapped(FeatureTable table, string? path = null)
    {
        path ??= Path.Combine(_root, $"{Guid.NewGuid():N}{FeatureRowsFile.Extension}");
        FeatureRowsFile.Write(path, HeaderOf(table), sink =>
        {
            for (var i = 0; i < table.RowCount; i++) sink.Write(table.Row(i));
        });
        var values = FeatureRowsFile.TryOpen(path, HeaderOf(table))!;
        _mapped.Add(values);
        return table.WithFeatures(table.FeatureNames, values);
    }

    [Fact]
    public void A_mapped_table_reads_every_row_as_written_and_its_views_and_fusions_as_the_matrix_says()
    {
        var inMemory = InMemory(rows: 7, width: 5);
        var mapped = Mapped(inMemory);
        Assert.IsType<MappedFeatureValues>(mapped.Values);
        Assert.Equal(Bits(inMemory), Bits(mapped));
        Assert.True(float.IsNaN(mapped.Row(2)[1]));

        int[] rows = [6, 2, 3];
        foreach (var table in new[] { inMemory, mapped })
        {
            // Rows, then columns of those rows, then rows of those: each view reads the cells of the matrix it names.
            var view = table.Take(rows).Columns(1, 3).Take([2, 1]);
            Assert.Equal(["exam3", "exam2"], view.ExamIds);
            Assert.Equal([13, 12], view.SourceIndex);
            Assert.Equal(["f1", "f2", "f3"], view.FeatureNames);
            Assert.Equal(new[] { Value(3, 1), Value(3, 2), Value(3, 3), Value(2, 1), Value(2, 2), Value(2, 3) }.Select(BitConverter.SingleToInt32Bits), Bits(view));
            Assert.Throws<ArgumentOutOfRangeException>(() => view.Row(2).ToArray());
            Assert.Throws<ArgumentOutOfRangeException>(() => table.Columns(3, 3));

            // Fused with a table in memory: the mapped side's fusion goes to a scratch file beside it, with the same values.
            var fused = table.Columns(3, 2).Concatenate(InMemory(rows: 7, width: 2, prefix: "g"));
            Assert.Equal(["f3", "f4", "g0", "g1"], fused.FeatureNames);
            Assert.Equal(Enumerable.Range(0, 7).SelectMany(r => new[] { Value(r, 3), Value(r, 4), Value(r, 0), Value(r, 1) }).Select(BitConverter.SingleToInt32Bits), Bits(fused));
            Assert.Equal(table == mapped, fused.Values is MappedFeatureValues);
            (fused.Values as IDisposable)?.Dispose();
        }
        // The scratch files are gone once mapped (Unix) or disposed: only the rows file is left.
        Assert.Single(Directory.GetFiles(_root));
    }

    [Fact]
    public void A_mapped_view_round_trips_through_arrow_and_csv_as_the_same_view_in_memory()
    {
        var inMemory = InMemory(rows: 9, width: 4);
        foreach (var extension in new[] { ".arrow", ".csv" })
        {
            var fromMemory = Path.Combine(_root, "memory" + extension);
            var fromMap = Path.Combine(_root, "mapped" + extension);
            FeatureTableFiles.Write(inMemory.Take([8, 0, 2]).Columns(1, 2), fromMemory);
            FeatureTableFiles.Write(Mapped(inMemory).Take([8, 0, 2]).Columns(1, 2), fromMap);
            Assert.Equal(File.ReadAllBytes(fromMemory), File.ReadAllBytes(fromMap));
        }
        var read = FeatureTableFiles.ReadArrow(Path.Combine(_root, "mapped.arrow"));
        Assert.Equal(["exam8", "exam0", "exam2"], read.ExamIds);
        Assert.Equal(new[] { Value(8, 1), Value(8, 2), Value(0, 1), Value(0, 2), Value(2, 1), Value(2, 2) }.Select(BitConverter.SingleToInt32Bits), Bits(read));
    }

    [Fact]
    public void A_file_written_for_other_rows_damaged_or_cut_short_is_not_read_and_a_failed_write_leaves_no_file()
    {
        var table = InMemory(rows: 6, width: 3);
        var path = Path.Combine(_root, "rows" + FeatureRowsFile.Extension);
        Mapped(table, path);
        var header = HeaderOf(table);
        Assert.NotNull(FeatureRowsFile.TryOpen(path, header));
        Assert.Null(FeatureRowsFile.TryOpen(path, header with { Producer = "another network" }));
        Assert.Null(FeatureRowsFile.TryOpen(path, header with { ExamIdsSha256 = FeatureRowsFile.ExamIdsSha256(table.ExamIds.Reverse().ToArray()) }));
        Assert.Null(FeatureRowsFile.TryOpen(path, header with { DataFingerprint = "sha256:other" }));
        Assert.Null(FeatureRowsFile.TryOpen(path, header with { FeatureNames = ["a", "b", "c"] }));

        var bytes = File.ReadAllBytes(path);
        var cut = Path.Combine(_root, "cut" + FeatureRowsFile.Extension);
        File.WriteAllBytes(cut, bytes[..^4]);
        Assert.Null(FeatureRowsFile.TryOpen(cut, header));
        Assert.Contains("bytes, where 6 rows of 3 floats", Assert.Throws<InvalidDataException>(() => FeatureRowsFile.ReadHeader(cut)).Message);
        File.WriteAllText(cut, "exam_id,f0\n");
        Assert.Null(FeatureRowsFile.TryOpen(cut, header));
        Assert.Equal($"{cut}: not a feature rows file (it does not begin with CODEIIFR)", Assert.Throws<InvalidDataException>(() => FeatureRowsFile.ReadHeader(cut)).Message);

        // While rows are written they are in a temporary file, never under the name (a process killed then leaves no
        // half file there); when they fail midway (a run cancelled during inference) the temporary file goes too.
        var failed = Path.Combine(_root, "failed" + FeatureRowsFile.Extension);
        Assert.Throws<OperationCanceledException>(() => FeatureRowsFile.Write(failed, header, sink =>
        {
            sink.Write(table.Row(0));
            Assert.False(File.Exists(failed));
            Assert.Single(Directory.GetFiles(_root, "failed*.tmp"));
            throw new OperationCanceledException();
        }));
        Assert.False(File.Exists(failed));
        Assert.Empty(Directory.GetFiles(_root, "failed*"));
        // Fewer rows than the header promises is not a file either.
        Assert.Throws<InvalidOperationException>(() => FeatureRowsFile.Write(failed, header, sink => sink.Write(table.Row(0))));
        Assert.False(File.Exists(failed));
    }

    [Fact]
    public void The_file_is_laid_out_as_documented_for_readers_outside_dotnet()
    {
        var table = InMemory(rows: 3, width: 2);
        var path = Path.Combine(_root, "rows" + FeatureRowsFile.Extension);
        Mapped(table, path);
        // As numpy would: magic, data offset, header length, JSON header, then row-major little-endian float32.
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("CODEIIFR"u8.ToArray(), bytes[..8]);
        var dataOffset = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(8));
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(16));
        Assert.Equal(0, dataOffset % 4096);
        using var header = JsonDocument.Parse(bytes.AsMemory(24, (int)headerLength));
        Assert.Equal(3, header.RootElement.GetProperty("rows").GetInt64());
        Assert.Equal(2, header.RootElement.GetProperty("width").GetInt32());
        Assert.Equal(["f0", "f1"], header.RootElement.GetProperty("feature_names").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(dataOffset + 3 * 2 * 4, bytes.Length);
        for (var r = 0; r < 3; r++)
            for (var c = 0; c < 2; c++)
                Assert.Equal(BitConverter.SingleToInt32Bits(Value(r, c)), BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)dataOffset + (r * 2 + c) * 4)));
    }
}
