using static CodeII.Experiments.Tests.CliTests;

namespace CodeII.Experiments.Tests.Cli;

/// <summary>
/// Broken and hostile inputs through the real <c>codeii</c>: each gets its exit code (1 data or I/O, 2 command line or
/// definition) and one <c>error:</c> line naming the file, never a stack trace.
/// </summary>
public class CliErrorTests
{
    /// <summary>The one error line of a failed command, after checking its exit code and that no stack was printed.</summary>
    static string ErrorLine((int ExitCode, string StdOut, string StdErr) result, int expectedExit)
    {
        var output = result.StdOut + result.StdErr;
        Assert.True(result.ExitCode == expectedExit, $"exit {result.ExitCode}, not {expectedExit}:\n{output}");
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("Unhandled exception", output);
        return Assert.Single(output.ReplaceLineEndings("\n").Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_definition_key_that_is_a_list_or_a_mapping_is_refused_at_its_line_and_column()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        (string Yaml, string Error)[] cases =
        [
            ("name: k\n[a, b]: 1\n", "k.yaml:2:1: a key must be a name, not a list"),
            ("name: k\ndataset:\n  kind: synthetic\n  [a, b]: 1\n", "k.yaml:4:3: 'dataset': a key must be a name, not a list"),
            ("name: k\n? {a: 1}\n: 2\n", "k.yaml:2:3: a key must be a name, not a mapping"),
            // An alias that stands for its own ancestor: an endless definition, which overflowed the stack.
            ("name: k\nlabel_subsets: &s\n  r: [SB]\n  again: *s\n", "k.yaml:2:16: 'label_subsets.again': an alias here stands for a mapping or list that contains it"),
        ];
        foreach (var (yaml, error) in cases)
        {
            File.WriteAllText(Path.Combine(dir, "k.yaml"), yaml);
            Assert.StartsWith($"error: {error}", ErrorLine(Codeii(dir, "run", "k.yaml", "--runs", "runs"), 2));
            Assert.False(Directory.Exists(Path.Combine(dir, "runs")));
        }
    }

    [Fact]
    public void Plot_synth_and_extract_name_a_destination_they_cannot_write_and_exit_1()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "");
        // We run as root in CI containers, where permissions stop nothing; /proc takes no new files even from root.
        var proc = $"/proc/codeii-{Guid.NewGuid():N}";
        var missing = Path.Combine(dir, "missing", "folder");
        var record = RepoPaths.Shared("wfdb-samples", "100");
        (string[] Args, string Error)[] cases =
        [
            (["data", "plot", record, "--record", "100", "--out", Path.Combine(file, "out.html")], $"cannot write {file}/out.html: {file} is a file, not a folder"),
            (["data", "plot", record, "--record", "100", "--out", proc + ".html"], $"cannot write {proc}.html: the folder /proc does not take new files"),
            (["data", "plot", record, "--record", "100", "--out", Path.Combine(missing, "out.svg")], $"cannot write {missing}/out.svg: the folder {missing} does not exist"),
            (["data", "synth", "--exams", "3", "--out", Path.Combine(file, "ds")], $"cannot write {file}/ds: {file} is a file, not a folder"),
            (["data", "synth", "--exams", "3", "--out", proc], $"cannot write {proc}: the folder /proc does not take new files"),
            (["features", "extract", record, "--out", Path.Combine(file, "f.csv")], $"cannot write {file}/f.csv: {file} is a file, not a folder"),
            (["features", "extract", record, "--out", proc + ".arrow"], $"cannot write {proc}.arrow: the folder /proc does not take new files"),
            (["features", "extract", record, "--out", Path.Combine(missing, "f.csv")], $"cannot write {missing}/f.csv: the folder {missing} does not exist"),
        ];
        foreach (var (args, error) in cases)
            Assert.Equal($"error: {error}", ErrorLine(Codeii(dir, args), 1));
        Assert.False(Directory.Exists(Path.Combine(dir, "missing")));
        Assert.Equal([file], Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void A_truncated_or_garbage_HDF5_part_is_named_by_inspect_plot_and_extract()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var made = Codeii(dir, "data", "synth", "--out", "ds", "--exams", "20");
        Assert.True(made.ExitCode == 0, made.StdErr + made.StdOut);
        var whole = File.ReadAllBytes(Path.Combine(dir, "ds", "exams_part0.hdf5"));
        foreach (var (name, bytes) in new[] { ("truncated", whole[..3000]), ("garbage", Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7919 >> 3)).ToArray()) })
        {
            RepoPaths.CopyDirectory(Path.Combine(dir, "ds"), Path.Combine(dir, name));
            File.WriteAllBytes(Path.Combine(dir, name, "exams_part0.hdf5"), bytes);
            foreach (var args in new[] { ["data", "inspect", name], ["data", "plot", name, "--record", "1", "--out", "x.html"], new[] { "features", "extract", name, "--out", "f.csv" } })
                Assert.StartsWith($"error: {name}/exams_part0.hdf5: record (file), HDF5: cannot be read (", ErrorLine(Codeii(dir, args), 1));
        }
    }

    [Fact]
    public async Task A_damaged_manifest_is_named_by_resume_report_and_compare_and_CODEII_DEBUG_keeps_the_exception()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "tiny.yaml"), """
            name: tiny
            dataset: { exams: 300 }
            label_subsets: { rhythm: [SB, ST, AF] }
            features: [basic]
            learners: { lightgbm: { trials: 1 } }
            evaluation: { bootstrap_replicates: 50 }
            """);
        var run = Codeii(dir, "run", "tiny.yaml", "--runs", "runs", "--max-threads", "1", "--no-cache");
        Assert.True(run.ExitCode == 0, run.StdErr + run.StdOut);
        var good = Path.GetDirectoryName(run.StdOut.TrimEnd().Split('\n')[^1].Trim())!;
        (string Content, string Problem)[] manifests =
        [
            ("null", "holds null, not the JSON object it was written with; the file is damaged"),
            ("", "unreadable JSON at line 1, byte 1 ("),
            ("{\"experiment\": \"ti", "unreadable JSON at line 1, byte 19 ("),
        ];
        foreach (var (content, problem) in manifests)
        {
            var damaged = Path.Combine(dir, "damaged-" + Guid.NewGuid().ToString("N"));
            RepoPaths.CopyDirectory(good, damaged);
            File.WriteAllText(Path.Combine(damaged, "manifest.json"), content);
            foreach (var args in new[] { ["run", "--resume", damaged], ["report", damaged], new[] { "compare", damaged, good } })
                Assert.StartsWith($"error: {damaged}/manifest.json: {problem}", ErrorLine(Codeii(dir, args), 1));
        }

        var (process, stdout, stderr) = StartCodeii(dir, new Dictionary<string, string?> { ["CODEII_DEBUG"] = "1" }, ["report", Directory.GetDirectories(dir, "damaged-*")[0]]);
        using var _ = process;
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)));
        var output = await stdout + await stderr;
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("System.IO.InvalidDataException", output);
        Assert.Contains("   at ", output);
    }

    [Fact]
    public void Plot_reads_a_PTB_XL_record_at_500_Hz_where_present_and_at_100_Hz_from_a_download_of_records100_alone()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var both = Codeii(dir, "data", "plot", RepoPaths.Shared("ptbxl"), "--record", "1", "--out", "both.html");
        Assert.True(both.ExitCode == 0, both.StdErr + both.StdOut);
        Assert.Contains("ecg_id 1: records500/00000/00001_hr at 500 Hz", both.StdOut);

        // records100 alone, as a user who fetched only the low-rate files has it: ecg_ids 1 and 2 from the real data.
        var ptbXl = Path.Combine(dir, "ptbxl-100");
        Directory.CreateDirectory(Path.Combine(ptbXl, "records100", "00000"));
        File.WriteAllLines(Path.Combine(ptbXl, "ptbxl_database.csv"), File.ReadLines(RepoPaths.Shared("ptbxl", "ptbxl_database.csv")).Take(3));
        File.Copy(RepoPaths.Shared("ptbxl", "scp_statements.csv"), Path.Combine(ptbXl, "scp_statements.csv"));
        foreach (var file in new[] { "00001_lr.hea", "00001_lr.dat", "00002_lr.hea", "00002_lr.dat" })
            File.Copy(RepoPaths.Shared("ptbxl", "records100", "00000", file), Path.Combine(ptbXl, "records100", "00000", file));
        var low = Codeii(dir, "data", "plot", ptbXl, "--record", "2", "--out", "low.html");
        Assert.True(low.ExitCode == 0, low.StdErr + low.StdOut);
        Assert.Contains("ecg_id 2: records100/00000/00002_lr at 100 Hz", low.StdOut);
        Assert.Equal(Path.Combine(dir, "low.html"), low.StdOut.TrimEnd().Split('\n')[^1].Trim());
        // The header of 00002_lr reads "00002_lr 12 100 1000": 10 s at 100 Hz, labelled NORM in ptbxl_database.csv.
        Assert.Contains("100 Hz \\u00B7 10 s \\u00B7 labels: NORM", File.ReadAllText(Path.Combine(dir, "low.html")));
        // Extraction reads that download at 100 Hz too (at 500 Hz it would find no record file): both exams.
        var features = Codeii(dir, "features", "extract", ptbXl, "--features", "basic", "--out", "low.csv");
        Assert.True(features.ExitCode == 0, features.StdErr + features.StdOut);
        Assert.Equal(["1", "2"], File.ReadAllLines(Path.Combine(dir, "low.csv")).Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void Command_lines_the_parser_refuses_and_missing_inputs_exit_2_and_unreadable_datasets_exit_1()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        // The parser's own refusals, which exited 1 before.
        var format = Codeii(dir, "data", "synth", "--out", "ds", "--format", "xyz");
        Assert.Equal(2, format.ExitCode);
        Assert.Contains("error: Argument 'xyz' not recognized", format.StdErr);
        Assert.Contains("see: codeii data synth --help", format.StdErr);
        Assert.False(Directory.Exists(Path.Combine(dir, "ds")));
        Assert.Equal("error: Unrecognized command or argument '--bogus'.", ErrorLine(Codeii(dir, "data", "inspect", dir, "--bogus"), 2));
        // Inputs named on the command line that do not exist.
        Assert.Equal("error: Directory does not exist: 'no/such/run'.", ErrorLine(Codeii(dir, "report", "no/such/run"), 2));
        Assert.Equal("error: no such file, folder or WFDB record: 'no/such/data'", ErrorLine(Codeii(dir, "data", "inspect", "no/such/data"), 2));
        Assert.Equal("error: no such file, folder or WFDB record: 'no/such/data'", ErrorLine(Codeii(dir, "features", "extract", "no/such/data", "--out", "f.csv"), 2));
        // An option value the command itself refuses.
        Assert.Equal("error: --exams and --exams-per-part must be at least 1", ErrorLine(Codeii(dir, "data", "synth", "--out", "ds", "--exams", "0"), 2));
        // A path that exists but holds no dataset is a data error, as an unreadable dataset is.
        Assert.StartsWith($"error: {dir}: record (folder), format: not recognised", ErrorLine(Codeii(dir, "data", "inspect", dir), 1));
    }

    [Fact]
    public async Task Bench_pipeline_refuses_a_cluster_that_does_not_answer_and_bad_core_counts_before_writing_any_data()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var work = Path.Combine(dir, "work");
        // No cluster answers (a configuration that does not exist): said before any data are written.
        var (slurm, _, slurmError) = CliTests.StartCodeii(dir, new Dictionary<string, string?> { ["SLURM_CONF"] = Path.Combine(dir, "no-such-slurm.conf") },
            ["bench", "pipeline", "--work", work, "--executor", "slurm"]);
        using (slurm)
        {
            Assert.True(slurm.WaitForExit(TimeSpan.FromMinutes(1)));
            Assert.Equal(1, slurm.ExitCode);
            Assert.StartsWith($"error: SLURM_CONF names {Path.Combine(dir, "no-such-slurm.conf")}, which does not exist", await slurmError);
        }
        Assert.Contains("error: Argument 'pbs' not recognized", Codeii(dir, "bench", "pipeline", "--work", work, "--executor", "pbs").StdErr);
        Assert.Equal("error: --cores-for-extrapolation: '0' is not a positive whole number",
            ErrorLine(Codeii(dir, "bench", "pipeline", "--work", work, "--cores-for-extrapolation", "2,0"), 2));
        Assert.Equal("error: --exams must be at least 100: the split needs validation and test patients for every label",
            ErrorLine(Codeii(dir, "bench", "pipeline", "--work", work, "--exams", "10"), 2));
        Assert.False(Directory.Exists(work));
    }

    [Fact]
    public void Features_extract_refuses_max_threads_below_one_as_run_and_predict_do()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        Assert.Equal("error: --max-threads must be at least 1", ErrorLine(Codeii(dir, "features", "extract", dir, "--out", "f.csv", "--max-threads", "0"), 2));
        Assert.False(File.Exists(Path.Combine(dir, "f.csv")));
    }

    [Fact]
    public void Bench_sweep_without_its_python_peer_fails_with_an_error_line_on_standard_error()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var result = Codeii(dir, "bench", "sweep", "--exams", "100", "--trials", "2", "--python", "no/such/python", "--cache", "cache");
        Assert.Equal("error: Optuna TPE + HistGradientBoosting peer: no no/such/python: install the peer with: apt-get install python3-optuna python3-sklearn", ErrorLine(result, 1));
        Assert.Contains("error: Optuna TPE + HistGradientBoosting peer:", result.StdErr);
        var sklearn = Codeii(dir, "bench", "sweep", "--exams", "100", "--peers", "sklearn", "--python", "no/such/python", "--cache", "cache");
        Assert.Equal("error: scikit-learn RandomizedSearchCV + HistGradientBoosting peer: no no/such/python: install the peer with: apt-get install python3-sklearn", ErrorLine(sklearn, 1));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Bench_sweep_with_a_python_that_lacks_optuna_or_xgboost_names_that_Debian_package_not_a_traceback()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        foreach (var (module, peer, package) in new[] { ("optuna", "optuna-hgb", "python3-optuna"), ("xgboost", "optuna-xgb", "python3-xgboost") })
        {
            var result = Codeii(dir, "bench", "sweep", "--exams", "100", "--labels", "RBBB", "--seeds", "1", "--peers", peer, "--python", PythonLacking(dir, module), "--cache", "cache");
            Assert.EndsWith($"lacks a module (ModuleNotFoundError: No module named '{module}'); install the peer with: apt-get install {package}", ErrorLine(result, 1));
            Assert.DoesNotContain("Traceback", result.StdOut + result.StdErr);
        }
    }

    /// <summary>A Python as a fresh Debian 12 has it: it runs, and the peer's import of <paramref name="module"/> fails.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    static string PythonLacking(string dir, string module)
    {
        var python = Path.Combine(dir, "python3");
        File.WriteAllText(python, $"#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"ModuleNotFoundError: No module named '{module}'\" >&2\nexit 1\n");
        File.SetUnixFileMode(python, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return python;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Bench_features_with_a_python_that_lacks_numpy_names_the_Debian_package_not_a_traceback()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var python = PythonLacking(dir, "numpy");
        var (exit, stdout, stderr) = Codeii(dir, "bench", "features", "--ecgs", "20", "--python", python);
        Assert.Equal(0, exit);
        Assert.Contains("install the peer with: apt-get install python3-scipy", stdout + stderr);
        Assert.DoesNotContain("Traceback", stdout + stderr);
        Assert.Contains("not measured", stdout);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Bench_data_with_a_python_that_lacks_h5py_names_the_Debian_package_and_reports_NaN_for_the_peer()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var python = PythonLacking(dir, "h5py");
        var (exit, stdout, stderr) = Codeii(dir, "bench", "data", "--exams", "12", "--wfdb-records", "4", "--work", Path.Combine(dir, "work"), "--python", python);
        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains("install the peer with: apt-get install python3-h5py", stdout + stderr);
        Assert.DoesNotContain("Traceback", stdout + stderr);
        var last = stdout.Trim().Split('\n')[^1];
        Assert.Matches(@"^bench data: hdf5_fast_per_s=\d+ hdf5_purehdf_per_s=\d+ h5py_per_s=NaN wfdb_per_s=\d+ peak_mib=\d+$", last);
    }
}
