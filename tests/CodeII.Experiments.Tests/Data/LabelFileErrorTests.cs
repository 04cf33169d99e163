using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Tests.Data;

/// <summary>
/// Bad cells of the label files, each made from a real file or from a synthetic dataset by changing one cell: a class
/// cell that is not 0 or 1, a duplicate id and a missing patient id are errors naming file, record and field; nothing
/// is dropped or merged silently. The CODE test-set annotations (Ribeiro et al. 2020, MIT) and PTB-XL's label file
/// (Wagner et al. 2020, CC BY 4.0) come from ../shared/data.
/// </summary>
public class LabelFileErrorTests
{
    /// <summary>Five synthetic exams (exam_id 1–5) in the CODE-15% layout, as <c>codeii data synth</c> writes them.</summary>
    static string SyntheticCode(int exams = 5, int examsPerPart = 20_000)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = 3 }), dir, examsPerPart);
        return dir;
    }

    /// <summary>The synthetic dataset's exams.csv replaced by one whose labels are the first five exams of a real CODE
    /// test-set annotation file, with exam_id 1–5 and patient_id 101–105 put in front.</summary>
    static string CodeWithRealAnnotations(string annotationFile)
    {
        var dir = SyntheticCode();
        var lines = File.ReadAllLines(RepoPaths.Shared("code-test-labels", "annotations", annotationFile));
        File.WriteAllLines(Path.Combine(dir, "exams.csv"),
            ["exam_id,patient_id," + lines[0], .. Enumerable.Range(1, 5).Select(k => $"{k},{100 + k},{lines[k]}")]);
        return dir;
    }

    static void SetCell(string csv, string row, string column, string value)
    {
        var lines = File.ReadAllLines(csv);
        var c = Array.IndexOf(lines[0].Split(','), column);
        Assert.True(c >= 0, $"no column {column}");
        var r = Array.FindIndex(lines, l => l.StartsWith(row + ",", StringComparison.Ordinal));
        Assert.True(r > 0, $"no row {row}");
        var cells = lines[r].Split(',');
        cells[c] = value;
        lines[r] = string.Join(",", cells);
        File.WriteAllLines(csv, lines);
    }

    [Fact]
    public void The_CODE_test_set_annotations_load_with_their_six_classes_and_the_unnamed_pandas_index_is_no_class()
    {
        // dnn.csv starts with pandas' unnamed index column; its second exam (index 1) is the network's LBBB.
        using var source = new CodeHdf5Source(CodeWithRealAnnotations("dnn.csv"));
        Assert.Equal(["1dAVb", "RBBB", "LBBB", "SB", "AF", "ST"], source.ClassNames);
        Assert.Empty(source.Read(0).Labels);
        Assert.Equal(["LBBB"], source.Read(1).Labels);
        Assert.Equal("102", source.Read(1).PatientId);
    }

    [Fact]
    public void Columns_of_text_or_numbers_and_pandas_Unnamed_index_are_metadata_not_classes()
    {
        // A CODE-II export with pandas' named index and two columns of its own: neither holds 0/1 flags.
        var dir = CodeWithRealAnnotations("gold_standard.csv");
        var csv = Path.Combine(dir, "exams.csv");
        var lines = File.ReadAllLines(csv);
        File.WriteAllLines(csv, [$"Unnamed: 0,{lines[0]},exam_date,heart_rate", .. lines[1..].Select((l, k) => $"{k},{l},2019-03-0{k + 1},{60 + 7 * k}")]);
        using var source = new CodeHdf5Source(dir);
        Assert.Equal(["1dAVb", "RBBB", "LBBB", "SB", "AF", "ST"], source.ClassNames);
        Assert.Equal(["LBBB"], source.Read(1).Labels);
    }

    [Theory]
    [InlineData("2", "'2' is not a class flag")]
    [InlineData("", "is empty")]
    [InlineData("yes", "'yes' is not a class flag")]
    public void A_class_cell_that_is_not_0_or_1_is_an_error_naming_file_exam_and_column_not_a_dropped_class(string cell, string problem)
    {
        var dir = CodeWithRealAnnotations("gold_standard.csv");
        var csv = Path.Combine(dir, "exams.csv");
        SetCell(csv, "3", "SB", cell);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal($"{csv}: record exam_id 3, SB: {problem}: a class cell is 0 or 1 (also written 0.0/1.0 or False/True)", e.Message);
    }

    [Fact]
    public void Class_cells_may_be_written_as_0_0_and_1_0_or_False_and_True()
    {
        var dir = CodeWithRealAnnotations("gold_standard.csv");
        var csv = Path.Combine(dir, "exams.csv");
        SetCell(csv, "1", "AF", "1.0");
        SetCell(csv, "1", "ST", "True");
        SetCell(csv, "1", "SB", "False");
        SetCell(csv, "4", "RBBB", "0.0");
        using var source = new CodeHdf5Source(dir);
        Assert.Equal(["1dAVb", "RBBB", "LBBB", "SB", "AF", "ST"], source.ClassNames);
        Assert.Equal(["AF", "ST"], source.Read(0).Labels.Order());
        // gold_standard.csv's second exam is LBBB.
        Assert.Equal(["LBBB"], source.Read(1).Labels);
        Assert.Empty(source.Read(3).Labels);
    }

    [Theory]
    [InlineData("nan", "'nan' is a missing value")]
    [InlineData("", "is empty")]
    [InlineData("NaN", "'NaN' is a missing value")]
    [InlineData("12.5", "'12.5' is not a whole number")]
    public void A_missing_CODE_patient_id_is_an_error_naming_file_exam_and_field(string cell, string problem)
    {
        var dir = SyntheticCode();
        var csv = Path.Combine(dir, "exams.csv");
        SetCell(csv, "4", "patient_id", cell);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.StartsWith($"{csv}: record exam_id 4, patient_id: {problem}", e.Message);
    }

    [Fact]
    public void CODE_patient_ids_written_as_floats_or_text_are_read_as_one_spelling_per_patient()
    {
        var dir = CodeWithRealAnnotations("gold_standard.csv");
        var csv = Path.Combine(dir, "exams.csv");
        SetCell(csv, "1", "patient_id", "777.0");
        SetCell(csv, "2", "patient_id", "777");
        SetCell(csv, "3", "patient_id", "P-9");
        using var source = new CodeHdf5Source(dir);
        Assert.True(source.HasPatientIds);
        Assert.Equal(["777", "777", "P-9", "104", "105"], source.PatientsAndLabels().Select(p => p.PatientId));
    }

    [Fact]
    public void Without_a_patient_id_column_each_CODE_exam_is_its_own_patient_and_inspect_says_so()
    {
        var dir = SyntheticCode();
        var csv = Path.Combine(dir, "exams.csv");
        var lines = File.ReadAllLines(csv).Select(l => l.Split(',')).ToArray();
        var column = Array.IndexOf(lines[0], "patient_id");
        File.WriteAllLines(csv, lines.Select(cells => string.Join(",", cells.Where((_, k) => k != column))));
        using var source = new CodeHdf5Source(dir);
        Assert.False(source.HasPatientIds);
        Assert.Equal(["1", "2", "3", "4", "5"], source.PatientsAndLabels().Select(p => p.PatientId));
        Assert.Contains("patients: exams.csv has no patient_id column, so each exam counts as one patient", DatasetInspector.Inspect(dir).Notes);
        using var withIds = new CodeHdf5Source(SyntheticCode());
        Assert.True(withIds.HasPatientIds);
    }

    [Fact]
    public void A_duplicate_CODE_exam_id_in_exams_csv_is_an_error_naming_both_rows()
    {
        var dir = CodeWithRealAnnotations("gold_standard.csv");
        var csv = Path.Combine(dir, "exams.csv");
        // exam 2's row again, as row 6.
        File.AppendAllLines(csv, [File.ReadLines(csv).Single(l => l.StartsWith("2,", StringComparison.Ordinal))]);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal($"{csv}: record exam_id 2, exam_id: appears twice, in rows 2 and 6 (counting from the first row after the header)", e.Message);
    }

    /// <summary>Another source's records in another order, so an exam can be written twice.</summary>
    sealed class Reordered(IEcgSource inner, int[] order) : IEcgSource
    {
        public string Name => inner.Name;
        public int Count => order.Length;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public bool HasPatientIds => inner.HasPatientIds;
        public string Describe() => inner.Describe();
        public string ExamIdAt(int index) => inner.ExamIdAt(order[index]);
        public EcgRecord Read(int index) => inner.Read(order[index]);
    }

    /// <summary>Exams 1, 2, 3, 2 (the generator's records 0, 1, 2, 1) in parts of <paramref name="examsPerPart"/>, with
    /// exams.csv holding exam 2's row once.</summary>
    static string CodeWithExamTwoTwice(int examsPerPart)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        CodeHdf5Writer.Write(new Reordered(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 3, Seed = 3 }), [0, 1, 2, 1]), dir, examsPerPart);
        var csv = Path.Combine(dir, "exams.csv");
        var lines = File.ReadAllLines(csv).ToList();
        lines.RemoveAt(lines.FindLastIndex(l => l.StartsWith("2,", StringComparison.Ordinal)));
        File.WriteAllLines(csv, lines);
        return dir;
    }

    [Fact]
    public void An_exam_in_two_HDF5_parts_is_an_error_naming_both_parts()
    {
        var dir = CodeWithExamTwoTwice(examsPerPart: 2);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal($"{Path.Combine(dir, "exams_part1.hdf5")}: record exam_id 2, exam_id: is also in {Path.Combine(dir, "exams_part0.hdf5")}: an exam belongs to one part only", e.Message);
    }

    [Fact]
    public void An_exam_twice_in_one_HDF5_part_is_an_error_naming_both_places()
    {
        var dir = CodeWithExamTwoTwice(examsPerPart: 4);
        var e = Assert.Throws<EcgDataException>(() => new CodeHdf5Source(dir));
        Assert.Equal($"{Path.Combine(dir, "exams_part0.hdf5")}: record exam_id 2, exam_id: appears twice in this part, at exam_id[1] and [3]", e.Message);
    }

    /// <summary>PTB-XL's scp_statements.csv and the first 20 rows of its ptbxl_database.csv (ecg_id 1–20), as written.</summary>
    static string PtbXlLabels()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.Copy(RepoPaths.Shared("ptbxl", PtbXlDatabase.StatementsFile), Path.Combine(dir, PtbXlDatabase.StatementsFile));
        File.WriteAllLines(Path.Combine(dir, PtbXlDatabase.DatabaseFile), File.ReadLines(RepoPaths.Shared("ptbxl", PtbXlDatabase.DatabaseFile)).Take(21));
        return dir;
    }

    [Fact]
    public void The_first_twenty_PTB_XL_rows_load_as_written()
    {
        var db = PtbXlDatabase.Load(PtbXlLabels());
        Assert.Equal(Enumerable.Range(1, 20), db.Exams.Select(e => e.EcgId));
        // ptbxl_database.csv writes ecg_id 1's patient as 15709.0 and ecg_id 5's as 17448.0.
        Assert.Equal("15709", db.Exams[0].PatientId);
        Assert.Equal("17448", db.Exams[4].PatientId);
    }

    [Fact]
    public void A_duplicate_PTB_XL_ecg_id_is_an_error_naming_file_id_and_both_rows()
    {
        var dir = PtbXlLabels();
        var csv = Path.Combine(dir, PtbXlDatabase.DatabaseFile);
        // ecg_id 3's row again, as row 21.
        File.AppendAllLines(csv, [File.ReadLines(csv).Single(l => l.StartsWith("3,", StringComparison.Ordinal))]);
        var e = Assert.Throws<EcgDataException>(() => PtbXlDatabase.Load(dir));
        Assert.Equal($"{csv}: record ecg_id 3, ecg_id: appears twice, in rows 3 and 21 (counting from the first row after the header)", e.Message);
    }

    [Theory]
    [InlineData("nan", "'nan' is a missing value")]
    [InlineData("", "is empty")]
    [InlineData("inf", "'inf' is not a number")]
    [InlineData("Infinity", "'Infinity' is not a whole number")]
    [InlineData("P17", "'P17' is not a number")]
    public void A_missing_PTB_XL_patient_id_is_an_error_naming_file_record_and_field(string cell, string problem)
    {
        var dir = PtbXlLabels();
        var csv = Path.Combine(dir, PtbXlDatabase.DatabaseFile);
        SetCell(csv, "5", "patient_id", cell);
        var e = Assert.Throws<EcgDataException>(() => PtbXlDatabase.Load(dir));
        Assert.StartsWith($"{csv}: record ecg_id 5, patient_id: {problem}", e.Message);
    }
}
