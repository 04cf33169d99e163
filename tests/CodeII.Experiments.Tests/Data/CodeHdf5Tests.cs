using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Tests.Data;

public class CodeHdf5Tests
{
    [Fact]
    public void A_synthetic_CODE_15_dataset_round_trips_bit_exactly_across_several_parts()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 45, Seed = 9 });
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(generator, dir, examsPerPart: 20, batchSize: 7);
        Assert.Equal(["exams_part0.hdf5", "exams_part1.hdf5", "exams_part2.hdf5"], Directory.GetFiles(dir, "*.hdf5").Select(Path.GetFileName).Order());
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));

        using var source = new CodeHdf5Source(dir);
        Assert.Equal(45, source.Count);
        Assert.Equal(SyntheticClasses.All, source.ClassNames);
        for (var i = 0; i < source.Count; i++)
        {
            var expected = generator.Read(i);
            var actual = source.Read(i);
            Assert.Equal(expected.ExamId, actual.ExamId);
            Assert.Equal(expected.PatientId, actual.PatientId);
            Assert.Equal(expected.Age, actual.Age);
            Assert.Equal(expected.Sex, actual.Sex);
            Assert.Equal(expected.Labels.Order(), actual.Labels.Order());
            Assert.Equal(400, actual.SamplingRateHz);
            for (var l = 0; l < 12; l++) Assert.Equal(expected.Signals[l], actual.Signals[l]); // bit-exact float32
            // The reader finds the true 10 s recording inside the centred padding.
            Assert.Equal(expected.RecordedSamples, actual.RecordedSamples);
        }
    }

    [Fact]
    public void The_metadata_csv_has_CODE_15s_columns_with_classes_between_them()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 5, Seed = 1 }), dir);
        Assert.Equal("exam_id,age,is_male,nn_predicted_age,1dAVb,RBBB,LBBB,SB,AF,ST,patient_id,normal_ecg,death,timey,trace_file",
            File.ReadLines(Path.Combine(dir, "exams.csv")).First());
    }

    [Fact]
    public void Class_columns_come_from_the_csv_header_so_a_66_class_file_needs_no_code_change()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 4, Seed = 1 }), dir);
        var csv = Path.Combine(dir, "exams.csv");
        var lines = File.ReadAllLines(csv);
        // Append 60 more class columns, positive only for the first exam.
        var extra = Enumerable.Range(1, 60).Select(k => $"class_{k:D2}").ToArray();
        lines[0] += "," + string.Join(",", extra);
        for (var r = 1; r < lines.Length; r++) lines[r] += "," + string.Join(",", extra.Select(_ => r == 1 ? "1" : "0"));
        File.WriteAllLines(csv, lines);
        using var source = new CodeHdf5Source(dir);
        Assert.Equal(66, source.ClassNames.Count);
        Assert.Contains("class_60", source.Read(0).Labels);
        Assert.DoesNotContain("class_60", source.Read(1).Labels);
    }

    [Fact]
    public void An_exam_without_metadata_is_named()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 3, Seed = 1 }), dir);
        var csv = Path.Combine(dir, "exams.csv");
        File.WriteAllLines(csv, File.ReadAllLines(csv).Where(l => !l.StartsWith("2,")));
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal("exam_id 2", e.Record);
        Assert.EndsWith("exams_part0.hdf5", e.File);
    }

    [Fact]
    public void NaN_in_the_tracings_is_an_error_naming_file_exam_and_position()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new AlteredSource(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 3, Seed = 1 }), (index, r) =>
        {
            if (index == 1) r.Signals[4][1000] = float.NaN;
            return r;
        }), dir);
        using var source = new CodeHdf5Source(dir);
        source.Read(0);
        var e = Assert.Throws<EcgDataException>(() => source.Read(1));
        Assert.Equal("exam_id 2", e.Record);
        Assert.Equal("tracings[1, 1000, 4]", e.Field);
    }
}
