using System.Diagnostics;
using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// One writer per run folder: a second session on a folder being written is refused, a lock left by a killed process
/// is taken over, and a killed run reads as interrupted, not running. Processes are paused with SIGSTOP where a test
/// needs one to hold the lock for as long as it takes, so no test depends on how fast anything runs.
/// </summary>
[Collection(nameof(AloneCollection))]
public class RunLockTests
{
    const string Yaml = """
        name: locked
        seed: 3
        dataset: { exams: 200 }
        label_subsets: { rhythm: [SB, ST, AF] }
        learners: { lightgbm: { trials: 30 } }
        sweep: { trials: 30 }
        evaluation: { bootstrap_replicates: 20, importance: false }
        """;

    static RunOptions Options(string root) => new() { RunsRoot = Path.Combine(root, "runs"), FeatureCacheDirectory = Path.Combine(root, "cache", "features"), MaxThreads = 1 };

    static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    static string[] Lines(string path)
    {
        try { return File.Exists(path) ? File.ReadAllLines(path) : []; }
        catch (IOException) { return []; }
    }

    /// <summary>Waits (without a deadline that could fail a slow machine, short of the test's own) until the condition holds.</summary>
    static async Task Until(Func<bool> condition, Process? alive, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (alive is { HasExited: true }) Assert.Fail($"the process ended before {what}");
            if (clock.Elapsed > TimeSpan.FromMinutes(3)) Assert.Fail($"gave up waiting for {what}");
            await Task.Delay(10);
        }
    }

    static string Host => Environment.MachineName;

    /// <summary>codeii to its end, its lines unwrapped: a message is checked as the one line it is.</summary>
    static async Task<(int ExitCode, string[] Lines)> Codeii(string root, params string[] args)
    {
        var (process, stdout, stderr) = CliTests.StartCodeii(root, new Dictionary<string, string?> { ["COLUMNS"] = "10000" }, args);
        using (process)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "codeii did not finish in 3 minutes");
            return (process.ExitCode, (await stdout + await stderr).ReplaceLineEndings("\n").TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public void A_resume_of_a_run_still_going_in_this_process_is_refused_naming_the_writer_and_writes_nothing()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        Exception? refusal = null;
        string? eventsDuringRefusal = null, eventsBefore = null;
        var options = Options(root) with
        {
            // The sweep starts while the run holds its folder: a resume now is a second writer.
            SweepStarting = _ =>
            {
                var folder = Directory.GetDirectories(Path.Combine(root, "runs", "locked")).Single();
                eventsBefore = File.ReadAllText(Path.Combine(folder, RunEvents.File));
                refusal = Record.Exception(() => ExperimentRunner.Resume(folder, Options(root)));
                eventsDuringRefusal = File.ReadAllText(Path.Combine(folder, RunEvents.File));
            },
        };
        var result = ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(Yaml, "locked.yaml"), Yaml, "locked.yaml", options);

        var busy = Assert.IsType<RunFolderBusyException>(refusal);
        var since = RunLock.Writer(result.Folder)!.SinceUtc;
        Assert.Equal(
            $"{result.Folder.Path}: another codeii process (pid {Environment.ProcessId} on host {Host}, since {since:yyyy-MM-dd HH:mm:ss}Z) is writing this run; wait for it or stop it",
            busy.Message);
        Assert.Equal(eventsBefore, eventsDuringRefusal);
        // The lock went with the session: the finished run's folder is free again.
        Assert.Equal(RunStatus.Complete, RunStatus.Of(result.Folder).State);
        using (RunLock.Acquire(result.Folder)) { }
    }

    [Fact]
    public async Task Two_resumes_of_one_folder_at_once_leave_one_writer_and_a_trial_log_without_duplicate_or_torn_lines()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(root, "locked.yaml"), Yaml);
        // A run cancelled after a few trials, as Ctrl-C leaves it.
        using var cancel = new CancellationTokenSource();
        string? folder = null;
        var options = Options(root) with
        {
            RunFolderReady = f => folder = f.Path,
            SweepStatus = new Progress(status => { if (status.Done >= 3) cancel.Cancel(); }),
        };
        Assert.ThrowsAny<OperationCanceledException>(() => ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(Yaml, "locked.yaml"), Yaml, "locked.yaml", options, cancel.Token));
        var cancelledAt = new RunEvents(RunFolder.Open(folder!)).Read()[^1];
        Assert.Equal(RunEvent.Cancelled, cancelledAt.Event);

        // The first resume holds the folder once writer.json names it; paused there, it holds it while the second tries.
        var first = CliTests.StartCodeii(root, "run", "--resume", folder!, "--cache", "cache/features", "--max-threads", "1");
        try
        {
            RunWriter? writer = null;
            await Until(() => (writer = RunLock.Writer(RunFolder.Open(folder!)))?.Pid == first.Process.Id, first.Process, "the first resume took the folder");
            Signal(first.Process, "STOP");
            var (exit, lines) = await Codeii(root, "run", "--resume", folder!, "--cache", "cache/features", "--max-threads", "1");
            Assert.True(exit == 1, $"exit {exit}: {string.Join('\n', lines)}");
            // The run's header line, then the refusal: one line.
            Assert.Equal(2, lines.Length);
            Assert.Equal(
                $"error: {folder}: another codeii process (pid {first.Process.Id} on host {Host}, since {writer!.SinceUtc:yyyy-MM-dd HH:mm:ss}Z) is writing this run; wait for it or stop it",
                lines[1]);
            Signal(first.Process, "CONT");
            Assert.True(first.Process.WaitForExit(TimeSpan.FromMinutes(3)), "the resume did not finish");
            Assert.True(first.Process.ExitCode == 0, await first.StdErr + await first.StdOut);
        }
        finally
        {
            if (!first.Process.HasExited) { Signal(first.Process, "CONT"); first.Process.Kill(); }
            first.Process.Dispose();
        }

        var trials = File.ReadAllLines(Path.Combine(folder!, RunFolder.TrialsFile));
        // Every line whole (JsonDocument throws on a torn one), and each trial once: a stream per label, each with its
        // 30 LightGBM trials and the prior's one.
        var logged = trials.Select(l => JsonDocument.Parse(l).RootElement).Select(t => (t.GetProperty("stream").GetString(), t.GetProperty("trial").GetInt32())).ToArray();
        Assert.Equal(3 * 31, logged.Length);
        Assert.Equal(logged.Length, logged.Distinct().Count());
        var events = new RunEvents(RunFolder.Open(folder!)).Read();
        var resume = Assert.Single(events, e => e.Event == RunEvent.Resumed);
        Assert.Equal($"last session: cancelled at {cancelledAt.TimeUtc:yyyy-MM-dd HH:mm:ss}Z", resume.Detail);
        Assert.Equal(RunEvent.Finished, events[^1].Event);
    }

    [Fact]
    public async Task A_killed_run_reads_as_interrupted_not_running_and_a_resume_takes_its_lock_over()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(root, "locked.yaml"), Yaml);
        var (process, stdout, stderr) = CliTests.StartCodeii(root, "run", "locked.yaml", "--runs", "runs", "--cache", "cache/features", "--max-threads", "1");
        var pid = process.Id;
        string? folder = null;
        using (process)
        {
            await Until(() => (folder ??= Directory.Exists(Path.Combine(root, "runs", "locked")) ? Directory.GetDirectories(Path.Combine(root, "runs", "locked")).SingleOrDefault() : null) is { } f
                && Lines(Path.Combine(f, RunFolder.TrialsFile)).Length >= 3, process, "the sweep logged three trials");
            Signal(process, "STOP");
            var since = $"{RunLock.Writer(RunFolder.Open(folder!))!.SinceUtc:yyyy-MM-dd HH:mm:ss}Z";
            var (exit, lines) = await Codeii(root, "report", folder!);
            Assert.Equal(1, exit); // a run folder that cannot be reported yet is a data error, not a bad command line
            Assert.Equal(
                [$"error: {folder}: the run has no metrics.json yet: it is still running: another codeii process (pid {process.Id} on host {Host}, since {since}) is writing it; wait for it to finish"],
                lines);

            process.Kill();
            process.WaitForExit();
        }

        var lastEvent = new RunEvents(RunFolder.Open(folder!)).Read()[^1];
        var killed = RunLock.Writer(RunFolder.Open(folder!))!;
        Assert.Equal((pid, Host), (killed.Pid, killed.Host));
        var interrupted = $"interrupted: the process that ran it (pid {pid} on host {Host}, since {killed.SinceUtc:yyyy-MM-dd HH:mm:ss}Z) is gone, "
            + $"killed or crashed during the sweep stage after its last event at {lastEvent.TimeUtc:yyyy-MM-dd HH:mm:ss}Z";
        var (reportExit, reportLines) = await Codeii(root, "report", folder!);
        Assert.Equal(1, reportExit);
        Assert.Equal([$"error: {folder}: the run folder has no metrics.json; the run did not finish ({interrupted}); resume it with codeii run --resume {folder}"], reportLines);

        var (resumeExit, resumeOutput, resumeErrors) = CliTests.Codeii(root, "run", "--resume", folder!, "--cache", "cache/features", "--max-threads", "1");
        Assert.True(resumeExit == 0, resumeErrors + resumeOutput);
        var resumed = Assert.Single(new RunEvents(RunFolder.Open(folder!)).Read(), e => e.Event == RunEvent.Resumed);
        Assert.Equal($"last session: {interrupted}", resumed.Detail);
        Assert.Equal(3 * 31, File.ReadAllLines(Path.Combine(folder!, RunFolder.TrialsFile)).Length);
    }

    [Fact]
    public async Task A_transfer_cell_stands_as_its_transfer_run_does_running_while_it_holds_the_lock_then_interrupted_resumed_through_it()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        // A transfer run's folder and one of its cells, as TransferRunner lays them out: the lock and the event log of
        // the whole run are the transfer run's; the cell has its own run files and the marker naming the transfer run.
        var transfer = RunFolder.At(Path.Combine(root, "runs", "transfer", "20260101T000000Z"));
        var transferEvents = new RunEvents(transfer);
        transferEvents.Append(RunEvent.Started);
        transferEvents.Append(RunEvent.StageStarted, "cell cells/a/share-0.5/scratch");
        var cellPath = Path.Combine(transfer.Path, "cells", "a", "share-0.5", "scratch");
        var cell = RunFolder.At(cellPath);
        File.WriteAllText(cell.FileIn(RunFolder.DefinitionFile), Yaml);
        new RunEvents(cell).Append(RunEvent.Started);
        File.WriteAllText(cell.FileIn("cell.json"), """{ "name": "a", "share": 0.5, "arm": "scratch", "transfer_run": "../../../.." }""");

        string since;
        using (RunLock.Acquire(transfer))
        {
            since = $"{RunLock.Writer(transfer)!.SinceUtc:yyyy-MM-dd HH:mm:ss}Z";
            Assert.Equal(RunStatus.Running, RunStatus.Of(cell).State);
            var (exit, lines) = await Codeii(root, "report", cellPath);
            Assert.Equal(1, exit);
            Assert.Equal(
                [$"error: {cellPath}: the run has no metrics.json yet: it is still running: another codeii process (pid {Environment.ProcessId} on host {Host}, since {since}) is writing its transfer run {transfer.Path}; wait for it to finish"],
                lines);
        }

        // This process is the transfer run's last writer; with its lock gone, the cell's run reads as the transfer run's
        // did, and is resumed through it (codeii run --resume refuses a cell).
        var lastEvent = transferEvents.Read()[^1];
        var (endedExit, endedLines) = await Codeii(root, "report", cellPath);
        Assert.Equal(1, endedExit);
        Assert.Equal(
            [$"error: {cellPath}: the run folder has no metrics.json; the run did not finish (its transfer run {transfer.Path}: interrupted: the process that ran it "
                + $"(pid {Environment.ProcessId} on host {Host}, since {since}) is gone, killed or crashed during the cell cells/a/share-0.5/scratch stage "
                + $"after its last event at {lastEvent.TimeUtc:yyyy-MM-dd HH:mm:ss}Z); resume its transfer run with codeii run --resume {transfer.Path}"],
            endedLines);
        Assert.Equal(RunStatus.Interrupted, RunStatus.Of(cell).State);
    }

    [Fact]
    public async Task A_run_where_file_locking_is_off_is_refused_naming_the_folder_and_why_and_leaves_no_folder()
    {
        var root = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(root, "locked.yaml"), Yaml);
        // .NET then opens run.lock without flock: the lock would exclude no second writer.
        var (process, stdout, stderr) = CliTests.StartCodeii(root, new Dictionary<string, string?> { ["COLUMNS"] = "10000", ["DOTNET_SYSTEM_IO_DISABLEFILELOCKING"] = "1" },
            ["run", "locked.yaml", "--runs", "runs", "--cache", "cache/features", "--max-threads", "1"]);
        using (process)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(3)), "codeii did not finish in 3 minutes");
            var output = await stdout + await stderr;
            Assert.True(process.ExitCode == 1, $"exit {process.ExitCode}: {output}");
            var error = Assert.Single(output.ReplaceLineEndings("\n").Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal));
            // The run's new folder, named by the time it started.
            var folder = System.Text.RegularExpressions.Regex.Match(error, $"^error: ({System.Text.RegularExpressions.Regex.Escape(Path.Combine(root, "runs", "locked"))}/[0-9]{{8}}T[0-9]{{6}}Z):").Groups[1].Value;
            Assert.Equal(
                $"error: {folder}: cannot lock run.lock: file locking is turned off (DOTNET_SYSTEM_IO_DISABLEFILELOCKING=1); a second codeii process could write "
                + "this run at the same time, so it is not run (put the runs folder on a local disk, or let .NET lock files)",
                error);
            Assert.DoesNotContain("   at ", output);
        }
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(root, "runs", "locked")));
    }

    [Fact]
    public void A_lock_shared_for_an_instant_by_a_status_probe_is_waited_for_while_a_writer_s_lock_is_refused_after_the_retries()
    {
        var folder = RunFolder.At(RepoPaths.NewTemporaryDirectory());
        // What RunLock.IsHeld holds while codeii report or compare asks whether the run is going: a shared lock. The
        // probe ends as the writer first waits, so no clock decides the outcome.
        var probe = new FileStream(folder.FileIn(RunLock.LockFile), FileMode.OpenOrCreate, FileAccess.Read, FileShare.Read);
        var waits = new List<int>();
        using (RunLock.Acquire(folder, attempt => { waits.Add(attempt); probe.Dispose(); }))
        {
            Assert.Equal([1], waits);
            Assert.Equal(Environment.ProcessId, RunLock.Writer(folder)!.Pid);

            // A writer holds its lock for its whole session: every try is refused, and the refusal names it.
            waits.Clear();
            var busy = Assert.Throws<RunFolderBusyException>(() => RunLock.Acquire(folder, waits.Add));
            Assert.Equal([1, 2, 3, 4], waits);
            Assert.StartsWith($"{folder.Path}: another codeii process (pid {Environment.ProcessId} on host {Host}, since ", busy.Message);
        }
    }

    sealed class Progress(Action<CodeII.Experiments.Sweep.SweepStatus> report) : IProgress<CodeII.Experiments.Sweep.SweepStatus>
    {
        public void Report(CodeII.Experiments.Sweep.SweepStatus value) => report(value);
    }
}
