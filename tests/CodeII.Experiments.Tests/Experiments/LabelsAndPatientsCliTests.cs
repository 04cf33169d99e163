using System.Net;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// <c>codeii run</c> on label files a user got wrong: a dataset without patient ids splits by exam, not by patient, and
/// the run says so in its console output, manifest.json and report.html (and nothing of the kind for a dataset that has
/// them); a bad class cell stops the run with one line naming file, exam and column.
/// </summary>
public class LabelsAndPatientsCliTests
{
    const string Note = "each exam is its own patient: the dataset publishes no patient ids, so the split is by exam, and one patient's exams could fall in more than one part";

    static void WriteDefinition(string dir, string dataset) =>
        File.WriteAllText(Path.Combine(dir, $"{dataset}.yaml"), $$"""
            name: {{dataset}}
            dataset: { kind: code, path: {{dataset}} }
            label_subsets: { rhythm: [SB, ST, AF] }
            learners: { lightgbm: { trials: 1 } }
            evaluation: { bootstrap_replicates: 20 }
            """);

    static (string StdOut, RunFolder Folder, string Report) Run(string dir, string dataset)
    {
        WriteDefinition(dir, dataset);
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "run", $"{dataset}.yaml", "--runs", "out", "--max-threads", "1", "--no-cache");
        Assert.True(exit == 0, stderr + stdout);
        var report = stdout.TrimEnd().Split('\n')[^1].Trim();
        return (stdout, RunFolder.Open(Path.GetDirectoryName(report)!), WebUtility.HtmlDecode(File.ReadAllText(report)));
    }

    [Fact]
    public void A_CODE_dataset_without_patient_ids_says_in_console_manifest_and_report_that_each_exam_is_its_own_patient()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "synth", "--out", "with-ids", "--exams", "200");
        Assert.True(exit == 0, stderr + stdout);
        // The same exams, with exams.csv's patient_id column taken out.
        RepoPaths.CopyDirectory(Path.Combine(dir, "with-ids"), Path.Combine(dir, "without-ids"));
        var csv = Path.Combine(dir, "without-ids", "exams.csv");
        var rows = File.ReadAllLines(csv).Select(l => l.Split(',')).ToArray();
        var column = Array.IndexOf(rows[0], "patient_id");
        Assert.True(column >= 0);
        File.WriteAllLines(csv, rows.Select(cells => string.Join(",", cells.Where((_, k) => k != column))));

        var without = Run(dir, "without-ids");
        Assert.Contains($"patients: {Note}", without.StdOut.Split('\n').Select(l => l.TrimEnd()));
        Assert.Equal(Note, without.Folder.ReadManifest().Patients);
        Assert.Contains($"\"patients\": \"{Note}\"", File.ReadAllText(without.Folder.FileIn(RunFolder.ManifestFile)));
        Assert.Contains($"Patients: {Note}.", without.Report);
        // The data section's split row says it too.
        Assert.Contains($"a patient's exams stay in one part; {Note}", without.Report);

        var with = Run(dir, "with-ids");
        Assert.DoesNotContain("its own patient", with.StdOut);
        Assert.Null(with.Folder.ReadManifest().Patients);
        Assert.DoesNotContain("its own patient", with.Report);
    }

    [Fact]
    public void A_class_cell_of_2_stops_the_run_with_one_line_naming_file_exam_and_column()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "synth", "--out", "ds", "--exams", "20");
        Assert.True(exit == 0, stderr + stdout);
        var csv = Path.Combine(dir, "ds", "exams.csv");
        var rows = File.ReadAllLines(csv);
        var sb = Array.IndexOf(rows[0].Split(','), "SB");
        var cells = rows[3].Split(',');
        Assert.Equal("3", cells[0]);
        cells[sb] = "2";
        rows[3] = string.Join(",", cells);
        File.WriteAllLines(csv, rows);

        WriteDefinition(dir, "ds");
        (exit, stdout, stderr) = CliTests.Codeii(dir, "run", "ds.yaml", "--runs", "out", "--max-threads", "1", "--no-cache");
        Assert.Equal(1, exit);
        // The definition names the dataset relative to the working folder, and so does the error.
        Assert.Contains($"error: {Path.Combine("ds", "exams.csv")}: record exam_id 3, SB: '2' is not a class flag: a class cell is 0 or 1 (also written 0.0/1.0 or False/True)",
            (stdout + stderr).ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", stdout + stderr);
    }
}
