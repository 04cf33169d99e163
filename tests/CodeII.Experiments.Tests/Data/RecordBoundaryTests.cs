using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Data;

/// <summary>What the record boundary makes of failures inside one record, and of records that are odd but real.</summary>
public class RecordBoundaryTests
{
    /// <summary>A synthetic source whose record 1 is passed through <paramref name="second"/>, each record in a file of its own.</summary>
    static AlteredSource Faulty(IEcgSource inner, Func<EcgRecord, EcgRecord> second) =>
        new(inner, (index, record) => index == 1 ? second(record) : record, index => $"exams-{index}.bin");

    static IEcgSource Synthetic(int exams = 3) => new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = 5 });

    [Fact]
    public void A_failure_inside_one_record_is_that_record_s_located_error_and_skippable()
    {
        var source = Faulty(Synthetic(), _ => throw new IndexOutOfRangeException("Index was outside the bounds of the array."));
        var e = Assert.Throws<EcgDataException>(() => RecordBoundary.Read(source, 1));
        Assert.Equal("exams-1.bin: record 2, signals: Index was outside the bounds of the array. (IndexOutOfRangeException)", e.Message);
        var table = FeatureTableBuilder.Extract(source, new BasicFeatureExtractor(), 1, skipBadRecords: true);
        Assert.Equal(["1", "3"], table.ExamIds);
        var skipped = Assert.Single(table.Skipped);
        Assert.Equal(("2", "exams-1.bin", "signals"), (skipped.ExamId, skipped.File, skipped.Field));
    }

    [Fact]
    public void A_disk_that_fails_stops_the_work_instead_of_skipping_every_record_after_it()
    {
        // EIO from a dying disk or a mount that went away is the machine's failure, not the record's.
        var source = Faulty(Synthetic(), _ => throw new IOException("Input/output error"));
        Assert.Throws<IOException>(() => FeatureTableBuilder.Extract(source, new BasicFeatureExtractor(), 1, skipBadRecords: true));
        // A file the record names that is not there is the record's.
        var missing = Faulty(Synthetic(), _ => throw new FileNotFoundException("Could not find file 'x.dat'."));
        Assert.Equal("exams-1.bin", Assert.Throws<EcgDataException>(() => RecordBoundary.Read(missing, 1)).File);
    }

    [Fact]
    public void A_flat_CODE_exam_is_kept_with_a_warning()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(Faulty(Synthetic(), record =>
        {
            foreach (var signal in record.Signals) Array.Clear(signal);
            return record;
        }), dir);
        using var source = new CodeHdf5Source(dir);
        var flat = RecordBoundary.Read(source, 1);
        Assert.Equal(["no recorded samples: every one is zero padding, so its features read as missing"], flat.Warnings);
        Assert.Empty(RecordBoundary.Read(source, 0).Warnings);
        var table = FeatureTableBuilder.Extract(source, new BasicFeatureExtractor(), 1);
        Assert.Equal(3, table.RowCount);
        Assert.Equal([new RecordWarning("2", flat.Warnings[0])], table.Warnings);
    }
}
