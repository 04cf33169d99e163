using CodeII.Experiments.Reports;

namespace CodeII.Experiments.Tests.Reports;

public class ReportTableTests
{
    static readonly ReportTable Table = new("code6-metrics", "Test AUROC & F1 of 1dAVb_x, 50% \"held out\"", ["model", "AUROC"],
        [new(["handcrafted+learned/logistic_regression", TableCell.Number("0.991 (0.983–0.998)")]), new(["a, \"quoted\" one", TableCell.Number("−0.010")])]);

    [Fact]
    public void CSV_quotes_fields_with_commas_and_quotes_as_RFC_4180_says()
    {
        Assert.Equal("model,AUROC\nhandcrafted+learned/logistic_regression,0.991 (0.983–0.998)\n\"a, \"\"quoted\"\" one\",−0.010\n", Table.ToCsv());
    }

    [Fact]
    public void LaTeX_escapes_its_special_characters_and_aligns_numbers_right()
    {
        var tex = Table.ToLatex();
        Assert.Contains("\\begin{tabular}{lr}", tex);
        Assert.Contains("\\caption{Test AUROC \\& F1 of 1dAVb\\_x, 50\\% \"held out\"}", tex);
        Assert.Contains("handcrafted+learned/logistic\\_regression & 0.991 (0.983--0.998) \\\\", tex);
        Assert.Contains("$-$0.010", tex);
        Assert.Equal(tex.Count(c => c == '{'), tex.Count(c => c == '}'));
    }

    [Fact]
    public void File_names_cannot_leave_the_tables_folder()
    {
        Assert.Equal("..-..-etc-passwd", ReportTables.FileName("../../etc/passwd"));
        Assert.Equal("table", ReportTables.FileName(".."));
        Assert.Equal("code6-handcrafted-lightgbm", ReportTables.FileName("code6/handcrafted/lightgbm"));
    }
}
