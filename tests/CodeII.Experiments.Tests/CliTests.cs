using System.Diagnostics;

namespace CodeII.Experiments.Tests;

/// <summary>Runs the real <c>codeii</c> executable as a user would.</summary>
public class CliTests
{
    /// <summary>Starts codeii with its output read in the background (read the tasks only once it has ended).</summary>
    internal static (Process Process, Task<string> StdOut, Task<string> StdErr) StartCodeii(string workingDirectory, params string[] args) =>
        StartCodeii(workingDirectory, new Dictionary<string, string?>(), args);

    /// <summary>As above, with environment variables set (or, when null, removed) for codeii alone.</summary>
    internal static (Process Process, Task<string> StdOut, Task<string> StdErr) StartCodeii(string workingDirectory, IReadOnlyDictionary<string, string?> environment, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "codeii.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    internal static (int ExitCode, string StdOut, string StdErr) Codeii(string workingDirectory, params string[] args)
    {
        var (process, stdout, stderr) = StartCodeii(workingDirectory, args);
        using (process)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "codeii did not finish in 3 minutes");
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    [Fact]
    public void Run_prints_the_report_path_last()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "tiny.yaml"), """
            name: tiny
            dataset: { exams: 300 }
            label_subsets: { rhythm: [SB, ST, AF] }
            learners: { lightgbm: { trials: 1 } }
            evaluation: { bootstrap_replicates: 50 }
            """);
        var (exit, stdout, stderr) = Codeii(dir, "run", "tiny.yaml", "--runs", "out", "--max-threads", "1");
        Assert.True(exit == 0, stderr + stdout);
        var last = stdout.TrimEnd().Split('\n')[^1].Trim();
        Assert.EndsWith("report.html", last);
        Assert.True(File.Exists(last), $"last line '{last}' is not a file");
        Assert.StartsWith(Path.Combine(dir, "out", "tiny"), last);
    }

    [Fact]
    public async Task Piped_output_ends_with_unbroken_tables_of_metrics_json_intervals_the_starred_best_model_and_the_test_size_and_shows_the_sweep()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        // The quickstart's longest model name, handcrafted+learned/logistic_regression, from a network of one epoch.
        File.WriteAllText(Path.Combine(dir, "piped.yaml"), """
            name: piped
            dataset: { exams: 300 }
            label_subsets: { rhythm: [SB, ST, AF] }
            features: [handcrafted, handcrafted+learned]
            pretrain: { model: small, epochs: 1 }
            learners: { lightgbm: { trials: 1 }, logistic_regression: { trials: 1 } }
            evaluation: { bootstrap_replicates: 50 }
            """);
        // Standard output is a pipe here; COLUMNS is removed so the default width for a pipe is what is tested.
        var (process, stdout, stderr) = StartCodeii(dir, new Dictionary<string, string?> { ["COLUMNS"] = null }, ["run", "piped.yaml", "--runs", "out", "--max-threads", "1"]);
        using var _ = process;
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "codeii did not finish in 3 minutes");
        var output = await stdout;
        Assert.True(process.ExitCode == 0, await stderr + output);
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        using var metrics = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Path.GetDirectoryName(lines.Last(l => l.Length > 0))!, "metrics.json")));
        var root = metrics.RootElement;

        Assert.Contains(lines, l => l.StartsWith("sweep: validation AUROC, ", StringComparison.Ordinal) && l.Contains(" trials, "));
        Assert.Contains($"test split: {root.GetProperty("test_exams").GetInt32()} exams from {root.GetProperty("test_patients").GetInt32()} patients", output);
        var subset = root.GetProperty("subsets")[0];
        var title = Array.FindIndex(lines, l => l.Trim() == "rhythm: test AUROC");
        Assert.True(title >= 0, output);
        // The table runs from its top border to its bottom one; every line of it is as wide as its border.
        var table = lines.Skip(title + 1).TakeWhile(l => l.Length > 0 && "┌│├└".Contains(l[0])).ToArray();
        Assert.Equal('└', table[^1][0]);
        Assert.All(table, l => Assert.Equal(table[0].Length, l.Length));
        Assert.True(table[0].Length > 80, "the table is narrow enough for 80 columns, so this test would not see it broken");
        static string Point(System.Text.Json.JsonElement e, string name) => e.GetProperty(name).GetDouble().ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var models = subset.GetProperty("macro_auroc").EnumerateObject().ToArray();
        Assert.Contains(models, m => m.Name == "handcrafted+learned/logistic_regression");
        Assert.Equal(models.Length + 1, table.Count(l => l.StartsWith('│')));
        var best = subset.GetProperty("summary").GetProperty("best").GetString()!;
        foreach (var model in models)
        {
            var row = Assert.Single(table, l => l.StartsWith('│') && l.Split('│')[1].Trim().TrimStart('★').Trim() == model.Name);
            Assert.Contains($"{Point(model.Value, "value")} ({Point(model.Value, "lower")}–{Point(model.Value, "upper")})", row);
            Assert.Equal(model.Name == best, row.Contains('★'));
        }
        var verdict = lines[title + 1 + table.Length];
        Assert.Equal($"★ {subset.GetProperty("summary").GetProperty("verdict").GetString()}", verdict);
    }

    [Fact]
    public void A_bad_definition_gets_a_located_error_and_no_stack_trace()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "bad.yaml"), "name: bad\nlearners:\n  lightgbm: { trails: 3 }\n");
        var (exit, stdout, stderr) = Codeii(dir, "run", "bad.yaml");
        var output = stdout + stderr;
        Assert.Equal(2, exit);
        Assert.Contains("bad.yaml:3:15: 'learners.lightgbm.trails': unknown key", output.ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", output);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")), "a failed definition must not leave a run folder");
    }

    [Fact]
    public void A_missing_definition_file_is_named()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = Codeii(dir, "run", "nowhere.yaml");
        Assert.Equal(2, exit);
        Assert.Contains("nowhere.yaml", stdout + stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void Data_inspect_json_on_PTB_XL_gives_the_published_superclass_counts()
    {
        var (exit, stdout, stderr) = Codeii(RepoPaths.Root, "data", "inspect", RepoPaths.Shared("ptbxl"), "--json");
        Assert.True(exit == 0, stderr + stdout);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("ptb-xl", root.GetProperty("format").GetString());
        Assert.Equal(500, root.GetProperty("records").GetInt32());
        var labels = root.GetProperty("labels");
        // ../shared/data/README.md, "Records 1–500 by superclass".
        Assert.Equal(297, labels.GetProperty("NORM").GetInt32());
        Assert.Equal(96, labels.GetProperty("STTC").GetInt32());
        Assert.Equal(78, labels.GetProperty("CD").GetInt32());
        Assert.Equal(73, labels.GetProperty("MI").GetInt32());
        Assert.Equal(40, labels.GetProperty("HYP").GetInt32());
        Assert.Equal(2, root.GetProperty("sampling_rates_hz").EnumerateObject().Count());
    }

    [Fact]
    public void Data_inspect_on_something_unrecognised_names_it()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = Codeii(dir, "data", "inspect", dir);
        // The folder exists: what it holds is the problem, a data error.
        Assert.Equal(1, exit);
        Assert.Contains("not recognised", stdout + stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void Features_rpeaks_json_scores_MIT_BIH_100_against_its_annotations()
    {
        var (exit, stdout, stderr) = Codeii(RepoPaths.Root, "features", "rpeaks", RepoPaths.Shared("wfdb-samples", "100"),
            "--reference", RepoPaths.Shared("wfdb-samples", "100.atr"), "--json");
        Assert.True(exit == 0, stderr + stdout);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(2273, json.RootElement.GetProperty("reference_beats").GetInt32());
        Assert.True(json.RootElement.GetProperty("sensitivity").GetDouble() >= 0.998);
        Assert.True(json.RootElement.GetProperty("ppv").GetDouble() >= 0.998);
    }

    [Fact]
    public void Features_delineate_json_scores_QT_Database_sel100_beside_ecgpuwave()
    {
        var (exit, stdout, stderr) = Codeii(RepoPaths.Root, "features", "delineate", RepoPaths.Shared("qtdb-sel100", "sel100"),
            "--reference", RepoPaths.Shared("qtdb-sel100", "sel100.q1c"), "--json");
        Assert.True(exit == 0, stderr + stdout);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal(1134, root.GetProperty("beats").GetArrayLength()); // the record's 1,134 beats (sel100.atr)
        var scores = root.GetProperty("scores").EnumerateArray().ToArray();
        // Ours, then ecgpuwave's two files found beside the record, each on the cardiologist's 30 beats.
        Assert.Equal(["codeii", "ecgpuwave pu0 (MLII)", "ecgpuwave pu1 (V5)"], scores.Select(s => s.GetProperty("delineation").GetString()!).ToArray());
        Assert.All(scores, s => Assert.Equal(30, s.GetProperty("matched_beats").GetInt32()));
        var qrsOffset = scores[0].GetProperty("boundaries").EnumerateArray().Single(b => b.GetProperty("boundary").GetString() == "qrs_offset");
        Assert.Equal(30, qrsOffset.GetProperty("reference").GetInt32());
        Assert.Equal(11.6, qrsOffset.GetProperty("tolerance_ms").GetDouble());
        Assert.InRange(qrsOffset.GetProperty("mean_error_ms").GetDouble(), -5, 5);
        // ecgpuwave's own QRS onset on MLII, as its .pu0 file gives it: decoded by hand from the file (its errors sum to −4 ms over 30 beats).
        var peerOnset = scores[1].GetProperty("boundaries").EnumerateArray().Single(b => b.GetProperty("boundary").GetString() == "qrs_onset");
        Assert.Equal(-4.0 / 30, peerOnset.GetProperty("mean_error_ms").GetDouble(), 2);
    }

    [Fact]
    public void Features_delineate_names_a_reference_file_that_is_not_an_annotation_file()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var bad = Path.Combine(dir, "bad.q1c");
        File.WriteAllBytes(bad, [0x01, 0x04, 0x02]);
        var (exit, stdout, stderr) = Codeii(dir, "features", "delineate", RepoPaths.Shared("qtdb-sel100", "sel100"), "--reference", bad);
        Assert.Equal(1, exit);
        Assert.Contains("bad.q1c", stderr + stdout);
    }

    [Fact]
    public void Features_extract_writes_one_row_per_record_with_named_columns()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var output = Path.Combine(dir, "features.csv");
        var (exit, stdout, stderr) = Codeii(dir, "features", "extract", RepoPaths.Shared("wfdb-samples"), "--out", output);
        Assert.True(exit == 0, stderr + stdout);
        var lines = File.ReadAllLines(output);
        Assert.StartsWith("exam_id,patient_id,classes,hr_bpm,", lines[0]);
        Assert.Equal(4, lines.Length); // header + records 100, s0010_re, test01_00s
        Assert.Equal(output, stdout.TrimEnd().Split('\n')[^1].Trim());
    }

    [Fact]
    public void A_dataset_folder_that_does_not_exist_is_named_and_leaves_no_run_folder()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "missing.yaml"), "name: missing\ndataset: { kind: ptb-xl, path: no/such/ptbxl }\nsplits: { kind: predefined }\nlabel_subsets: { s: [NORM] }\n");
        var (exit, stdout, stderr) = Codeii(dir, "run", "missing.yaml");
        Assert.NotEqual(0, exit);
        Assert.Contains("no/such/ptbxl", (stdout + stderr).ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", stdout + stderr);
        Assert.False(Directory.Exists(Path.Combine(dir, "runs")), "a dataset that cannot be opened must not leave a run folder");
    }

    [Fact]
    public void A_transfer_run_ends_with_each_target_s_test_size_and_the_best_cell_of_each_column_starred()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "t.yaml"), Experiments.SmallTransferRun.Yaml);
        var (exit, stdout, stderr) = Codeii(dir, "run", "t.yaml", "--runs", "out");
        Assert.True(exit == 0, stderr + stdout);
        var folder = Directory.GetDirectories(Path.Combine(dir, "out", "small-transfer")).Single();
        var matrix = System.Text.Json.JsonSerializer.Deserialize<CodeII.Experiments.Evaluation.TransferMetrics>(
            File.ReadAllText(Path.Combine(folder, "metrics.json")), JsonConventions.Options)!;
        var target = matrix.Targets.Single();
        Assert.Contains(stdout.Split('\n'), line => line.StartsWith($"cpsc test split: {target.TestExams} exams from {target.TestPatients} patients;", StringComparison.Ordinal));
        // One star per column (share) of each subset's table, on the cell with the best macro-AUROC.
        Assert.Equal(matrix.Shares.Count * matrix.Cells.Select(c => c.Subset).Distinct().Count(), stdout.Split('\n').Where(l => l.StartsWith('│')).Sum(l => l.Count(c => c == '★')));
    }

    [Fact]
    public void Synth_refuses_to_write_over_a_dataset_unless_forced_and_then_replaces_it_whole()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = Codeii(dir, "data", "synth", "--out", "ds", "--exams", "30", "--exams-per-part", "10");
        Assert.True(exit == 0, stderr + stdout);
        Assert.Equal(3, Directory.GetFiles(Path.Combine(dir, "ds"), "exams_part*.hdf5").Length);
        var before = File.ReadAllBytes(Path.Combine(dir, "ds", "exams.csv"));

        // Over it, unasked: refused, and nothing changed.
        (exit, stdout, stderr) = Codeii(dir, "data", "synth", "--out", "ds", "--exams", "10", "--exams-per-part", "10");
        Assert.Equal(2, exit);
        Assert.Contains("--force", (stdout + stderr).ReplaceLineEndings(""));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "ds", "exams.csv")));

        // Forced: the smaller dataset replaces the larger one whole, with no part of it left over, and opens.
        (exit, stdout, stderr) = Codeii(dir, "data", "synth", "--out", "ds", "--exams", "10", "--exams-per-part", "10", "--force");
        Assert.True(exit == 0, stderr + stdout);
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "ds"), "exams_part*.hdf5"));
        (exit, stdout, stderr) = Codeii(dir, "data", "inspect", "ds", "--json");
        Assert.True(exit == 0, stderr + stdout);
        using var summary = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal(10, summary.RootElement.GetProperty("records").GetInt32());

        // A file as the destination: an error line, not a stack trace.
        File.WriteAllText(Path.Combine(dir, "a-file"), "");
        (exit, stdout, stderr) = Codeii(dir, "data", "synth", "--out", "a-file", "--exams", "5");
        Assert.Equal(2, exit);
        Assert.Contains("is a file", (stdout + stderr).ReplaceLineEndings(""));
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void Compare_refuses_missing_and_unfinished_run_folders_with_a_message_not_a_stack_trace()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var unfinished = Path.Combine(dir, "runs", "x", "20260101T000000Z");
        Directory.CreateDirectory(unfinished);
        File.WriteAllText(Path.Combine(unfinished, "definition.yaml"), "name: x\n");
        // Errors go to standard error, so output piped elsewhere does not carry them.
        Assert.Contains("not a run folder", Codeii(dir, "compare", unfinished, unfinished).StdErr.ReplaceLineEndings(""));
        File.WriteAllText(Path.Combine(unfinished, "events.jsonl"), "");
        foreach (var args in new[] { new[] { "compare", "no/such/run", "no/such/other" }, ["compare", unfinished, unfinished], ["compare", unfinished] })
        {
            var (exit, stdout, stderr) = Codeii(dir, args);
            Assert.True(exit != 0, $"codeii {string.Join(' ', args)} exited 0");
            Assert.Contains("error", (stdout + stderr).ToLowerInvariant());
            Assert.DoesNotContain("   at ", stdout + stderr);
        }
        Assert.Contains("did not finish", Codeii(dir, "compare", unfinished, unfinished).StdErr.ReplaceLineEndings(""));
    }

    [Fact]
    public async Task A_run_stopped_by_a_termination_signal_names_its_folder_and_resumes_from_there_to_a_report()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "long.yaml"), """
            name: long
            dataset: { exams: 300 }
            label_subsets: { rhythm: [SB, ST, AF] }
            learners: { lightgbm: { trials: 200 } }
            sweep: { trials: 200 }
            evaluation: { bootstrap_replicates: 50 }
            """);
        var (process, stdout, stderr) = StartCodeii(dir, "run", "long.yaml", "--runs", "out", "--max-threads", "1");
        using var _ = process;
        // SIGTERM, which a scheduler sends and which a background job cannot have ignored (Ctrl-C's SIGINT can).
        string? folder = null;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2) && !process.HasExited)
        {
            folder = Directory.Exists(Path.Combine(dir, "out", "long")) ? Directory.GetDirectories(Path.Combine(dir, "out", "long")).SingleOrDefault() : null;
            var trials = folder is null ? null : Path.Combine(folder, "trials.jsonl");
            if (trials is not null && File.Exists(trials) && File.ReadLines(trials).Count() >= 5) break;
            await Task.Delay(50);
        }
        // (The message reads the output only on failure: reading it waits for the process to end.)
        if (process.HasExited) Assert.Fail("the run ended before it could be stopped: " + await stdout);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        // 200 trials take minutes; a limit of 60 s tells stopping on SIGTERM from running to the end on a loaded machine.
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "codeii did not stop within 60 s of SIGTERM");
        var (output, errors) = (await stdout, await stderr);
        Assert.True(process.ExitCode == 130, $"exit {process.ExitCode}: {errors}{output}");
        static string Squeezed(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", "");
        Assert.Contains(Squeezed($"codeii run --resume {folder}"), Squeezed(output));
        Assert.EndsWith("\"event\":\"cancelled\"}", File.ReadAllLines(Path.Combine(folder!, "events.jsonl"))[^1]);
        Assert.False(File.Exists(Path.Combine(folder!, "manifest.json")));

        var (exit, resumedOut, resumedErr) = Codeii(dir, "run", "--resume", folder!);
        Assert.True(exit == 0, resumedErr + resumedOut);
        Assert.Equal(Path.Combine(folder!, "report.html"), resumedOut.TrimEnd().Split('\n')[^1].Trim());
    }
}
