using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Cluster;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>
/// <c>codeii bench pipeline</c>: the whole pipeline of <c>codeii run</c> on a synthetic CODE-layout dataset of
/// 100,000 exams (written once and reused): wall time per stage, read back from the run folder's event log, the
/// run's peak memory, and the expected wall time on CODE-15% and CODE-II on more cores.
/// </summary>
static class BenchPipeline
{
    public const string LocalExecutor = "local";
    public const string SlurmExecutor = "slurm";

    /// <summary>The published sizes the figures are extrapolated to.</summary>
    static readonly (string Key, string Name, long Exams)[] Targets = [("code15", "CODE-15%", 345_779), ("codeii", "CODE-II", 2_700_000)];

    public static Command Create()
    {
        var exams = new Option<int>("--exams") { Description = "Synthetic exams in the CODE layout (about 197 kB of signal each)", DefaultValueFactory = _ => 100_000 };
        var work = new Option<DirectoryInfo>("--work") { Description = "Scratch folder for the dataset (kept and reused), the definition and the run folders", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "codeii-bench-pipeline")) };
        var threads = new Option<int>("--max-threads") { Description = "Threads for writing the dataset and for the run", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic data and of the experiment", DefaultValueFactory = _ => 42 };
        var executor = new Option<string>("--executor") { Description = "What runs the pipeline: local (a child codeii run on this machine) or slurm (codeii run --executor slurm on the cluster SLURM_CONF names; scripts/slurm-cluster.sh starts a one-node one)", DefaultValueFactory = _ => LocalExecutor };
        executor.AcceptOnlyFromAmong(LocalExecutor, SlurmExecutor);
        var cores = new Option<string>("--cores-for-extrapolation") { Description = "Comma-separated core counts for the expected times on CODE-15% and CODE-II", DefaultValueFactory = _ => "2,32,256" };
        var command = new Command("pipeline", "Every stage of a run on a synthetic CODE-layout dataset: wall time per stage, peak memory, and the expected time on CODE-15% and CODE-II")
        {
            exams, work, threads, seed, executor, cores,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(CliErrors.Run(AnsiConsole.Console, () => Run(parse.GetValue(exams), parse.GetValue(work)!.FullName,
            parse.GetValue(threads), parse.GetValue(seed), parse.GetValue(executor)!, CoreCounts(parse.GetValue(cores)!), cancellationToken))));
        return command;
    }

    static int[] CoreCounts(string text)
    {
        var counts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(c => int.TryParse(c, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new UsageException($"--cores-for-extrapolation: '{c}' is not a positive whole number")).ToArray();
        return counts.Length > 0 ? counts : throw new UsageException("--cores-for-extrapolation: give at least one core count, e.g. 2,32,256");
    }

    static int Run(int exams, string work, int maxThreads, int seed, string executorName, int[] cores, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        if (exams < 100) throw new UsageException("--exams must be at least 100: the split needs validation and test patients for every label");
        if (maxThreads < 1) throw new UsageException("--max-threads must be at least 1");
        IPipelineExecutor executor = executorName switch
        {
            LocalExecutor => new LocalPipelineExecutor(),
            _ => new SlurmPipelineExecutor(),
        };

        // Before any data are written: a Slurm bench needs a cluster to answer.
        if (executor is SlurmPipelineExecutor) Cluster.SlurmExecutor.Run("sinfo", ["-h", "-o", "%P %a"]);
        var dataset = PipelineBenchmark.DatasetFolder(work, exams, seed);
        if (PipelineBenchmark.IsComplete(dataset, exams))
            console.MarkupLineInterpolated($"dataset: {dataset} ({exams:N0} exams, written before; reused)");
        else
        {
            console.MarkupLineInterpolated($"writing {exams:N0} synthetic exams in the CODE layout to {dataset} ({PipelineBenchmark.SignalBytesPerExam * (long)exams / 1e9:F1} GB; once, reused next time)");
            var writing = new ThrottledLines(console, "writing", TimeSpan.FromSeconds(15));
            CliErrors.Writing(dataset, () => PipelineBenchmark.WriteDataset(dataset, exams, seed, maxThreads, new ProgressCallback(writing.Report)));
            console.MarkupLineInterpolated($"written in {SweepTable.Duration(writing.Elapsed.TotalSeconds)}");
        }

        var definition = Path.Combine(work, $"{PipelineBenchmark.ExperimentName}-{exams}.yaml");
        CliErrors.Writing(definition, () => AtomicFile.WriteText(definition, PipelineBenchmark.DefinitionYaml(dataset, seed)));
        console.MarkupLineInterpolated($"running {definition} through the {executor.Name} executor, {maxThreads} threads, feature cache off");
        var executed = executor.Run(definition, Path.Combine(work, "runs"), maxThreads, cancellationToken);

        // Everything below is read from the run folder, as it would be from a run made by any other executor.
        var folder = RunFolder.Open(executed.RunFolder);
        var events = new RunEvents(folder).Read();
        if (!folder.IsFinished) throw new InvalidDataException($"{folder.Path}: the run did not finish (see its {RunEvents.File})");
        // On a cluster the arrays' work happens outside any session's events: their stretches come from the tasks' own times.
        var stages = StageTimes.Of(events).Concat(executed.ClusterStretches ?? []).ToArray();
        var seconds = stages.GroupBy(s => s.Stage).ToDictionary(g => g.Key, g => g.Sum(s => s.Seconds), StringComparer.Ordinal);
        var total = executed.ClusterStretches is null ? StageTimes.TotalSeconds(events) : executed.WallSeconds;
        var usage = PipelineBenchmark.UsageByStage(stages, executed.Samples);
        var trials = TrialLog.Read(folder.FileIn(RunFolder.TrialsFile));
        var measurement = new PipelineMeasurement
        {
            Exams = exams, Threads = maxThreads, StageSeconds = seconds,
            StreamSeconds = [.. trials.GroupBy(t => t.Stream).Select(g => g.Sum(t => t.DurationSeconds))],
            ImportanceModels = File.Exists(folder.FileIn(RunFolder.ImportanceFile))
                ? JsonConventions.ReadFile<CodeII.Experiments.Evaluation.FeatureImportance>(folder.FileIn(RunFolder.ImportanceFile)).Models.Count : 0,
            ValidationShare = ExperimentDefinitionLoader.Read(folder).Splits.Validation,
        };

        // The machine is shared: what the stages would take with its cores to themselves is estimated from their CPU time.
        var alone = PipelineExtrapolation.WithoutContention(measurement, usage.ToDictionary(u => u.Stage, u => u.CpuSeconds));

        WriteStages(console, usage, alone, total, executed);
        WriteExtrapolation(console, measurement, alone, cores);

        var peak = executed.PeakResidentBytes ?? usage.Select(u => u.PeakResidentBytes).DefaultIfEmpty(0).Max();
        string Figure(double value) => double.IsFinite(value) ? value.ToString("F1", CultureInfo.InvariantCulture) : "NaN";
        static string Key(string stage) => stage == "features" ? "read_features" : stage;
        var stageFigures = string.Join(" ", seconds.Select(s => $"{Key(s.Key)}_s={Figure(s.Value)}"));
        var aloneFigures = string.Join(" ", alone.StageSeconds.Select(s => $"{Key(s.Key)}_alone_s={Figure(s.Value)}"));
        var extrapolated = string.Join(" ", Targets.SelectMany(t => cores.Select(c =>
            $"{t.Key}_{c}cores_s={Figure(PipelineExtrapolation.TotalSeconds(alone, t.Exams, c))} {t.Key}_{c}cores_wall_s={Figure(PipelineExtrapolation.TotalSeconds(measurement, t.Exams, c))}")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench pipeline: exams={exams} threads={maxThreads} executor={executor.Name} {stageFigures} total_s={Figure(total)} peak_mib={peak / 1048576.0:F0} cpu_s={Figure(executed.CpuSeconds ?? double.NaN)} mean_load={Figure(executed.Samples.Select(s => s.LoadAverage).DefaultIfEmpty(double.NaN).Average())} {aloneFigures} {extrapolated}"));
        return CliErrors.Success;
    }

    static void WriteStages(IAnsiConsole console, IReadOnlyList<StageUsage> usage, PipelineMeasurement alone, double total, ExecutedRun executed)
    {
        var table = new Table().AddColumns("stage", "wall time", "share", "peak RSS (sampled)", "cores busy", "from storage", "machine load", "cores not shared")
            .Caption("wall time from the run's events.jsonl; RSS, CPU, storage reads and load sampled every 0.5 s; machine load: the 1-minute load average "
                + "(above the cores busy, other processes competed); cores not shared: the stage's CPU seconds over the cores it can keep busy");
        static string Optional(double value, string text) => double.IsFinite(value) ? text : "";
        foreach (var stage in usage)
            table.AddRow(stage.Stage, $"{stage.Seconds:F1} s", $"{stage.Seconds / total:P0}", stage.PeakResidentBytes > 0 ? $"{stage.PeakResidentBytes / 1048576.0:N0} MiB" : "",
                Optional(stage.CoresUsed, $"{stage.CoresUsed:F2}"), Optional(stage.StorageReadBytesPerSecond, $"{stage.StorageReadBytesPerSecond / 1e6:N0} MB/s"),
                Optional(stage.LoadAverage, $"{stage.LoadAverage:F1}"), $"{alone.StageSeconds[stage.Stage]:F1} s");
        table.AddRow("[bold]run[/]", $"[bold]{total:F1} s[/]", "", executed.PeakResidentBytes is { } peak ? $"[bold]{peak / 1048576.0:N0} MiB[/] (exact)" : "",
            executed.CpuSeconds is { } cpu ? $"{cpu / executed.WallSeconds:F2}" : "", "", "", $"{alone.StageSeconds.Values.Sum():F1} s");
        console.Write(table);
        console.MarkupLineInterpolated($"[grey]the process ran {executed.WallSeconds:F1} s, starting and opening the dataset included[/]");
    }

    static void WriteExtrapolation(IAnsiConsole console, PipelineMeasurement measured, PipelineMeasurement alone, int[] cores)
    {
        var table = new Table().AddColumn("stage").AddColumn(new TableColumn($"{measured.Exams:N0}, {measured.Threads} threads").RightAligned());
        foreach (var (_, name, exams) in Targets)
            foreach (var c in cores) table.AddColumn(new TableColumn($"{name}, {c} cores").RightAligned());
        foreach (var stage in alone.StageSeconds.Keys)
            table.AddRow([stage, Hours(alone.StageSeconds[stage]),
                .. Targets.SelectMany(t => cores.Select(c => Hours(PipelineExtrapolation.StageSeconds(alone, stage, t.Exams, c))))]);
        table.AddRow(["[bold]total[/]", $"[bold]{Hours(alone.StageSeconds.Values.Sum())}[/]",
            .. Targets.SelectMany(t => cores.Select(c => $"[bold]{Hours(PipelineExtrapolation.TotalSeconds(alone, t.Exams, c))}[/]"))]);
        table.AddRow(["total from wall times", Hours(measured.StageSeconds.Values.Sum()),
            .. Targets.SelectMany(t => cores.Select(c => Hours(PipelineExtrapolation.TotalSeconds(measured, t.Exams, c))))]);
        console.Write(table.Title($"expected wall time (h:mm:ss): CODE-15% {Targets[0].Exams:N0} exams, CODE-II {Targets[1].Exams:N0}; per stage from its time with the cores not shared, "
            + "and the total also from the wall times as measured"));
        foreach (var (stage, _, assumption) in PipelineExtrapolation.Stages.Where(s => alone.StageSeconds.ContainsKey(s.Stage)))
            console.MarkupLineInterpolated($"[grey]{stage}: {assumption}[/]");
    }

    /// <summary>h:mm:ss with as many hours as it takes (a day and more included).</summary>
    static string Hours(double seconds)
    {
        var whole = (long)Math.Round(seconds);
        return string.Create(CultureInfo.InvariantCulture, $"{whole / 3600}:{whole / 60 % 60:00}:{whole % 60:00}");
    }

    /// <summary>A progress line at most every <paramref name="interval"/>, with the rate and the time left: readable
    /// in a terminal and in a log file alike.</summary>
    sealed class ThrottledLines(IAnsiConsole console, string what, TimeSpan interval)
    {
        readonly Stopwatch _clock = Stopwatch.StartNew();
        TimeSpan _last = TimeSpan.Zero;

        public TimeSpan Elapsed => _clock.Elapsed;

        public void Report(StageProgress p)
        {
            if (_clock.Elapsed - _last < interval && p.Done < p.Total) return;
            _last = _clock.Elapsed;
            var rate = p.Done / Math.Max(1e-9, _clock.Elapsed.TotalSeconds);
            console.MarkupLineInterpolated($"{what}: {p.Done:N0} / {p.Total:N0} ({100.0 * p.Done / p.Total:F0} %), {rate:N0} exams/s, about {SweepTable.Duration((p.Total - p.Done) / Math.Max(rate, 1e-9))} left");
        }
    }
}

/// <summary>What an executor leaves for the bench: the run folder (every figure per stage is read from it), and what
/// only the executor can see of the process: sampled usage, the exact peak and CPU time where it can know them.</summary>
sealed record ExecutedRun(string RunFolder, IReadOnlyList<UsageSample> Samples, long? PeakResidentBytes, double? CpuSeconds, double WallSeconds)
{
    /// <summary>On a cluster: each job array's span, from its first task's start to its last task's end, as a stretch
    /// of the stage it does (features, sweep); the prepare and finish jobs' stages are in the event log as usual.</summary>
    public IReadOnlyList<StageTime>? ClusterStretches { get; init; }
}

/// <summary>
/// How the bench's definition is run. The local executor starts <c>codeii run</c> on this machine; a Slurm executor
/// would submit the same definition with <c>codeii run --executor slurm</c> and wait for the run folder's
/// <c>finished</c> event, its peak memory then coming from the jobs' accounting. The stage times are read from the
/// run folder in both cases.
/// </summary>
interface IPipelineExecutor
{
    string Name { get; }
    ExecutedRun Run(string definitionPath, string runsRoot, int maxThreads, CancellationToken cancellationToken);

    /// <summary>A start of this same program (<see cref="ClusterCommand.ThisProgram"/>), arguments to follow.</summary>
    static (string Host, ProcessStartInfo Start) ThisProgram(bool redirectOutput)
    {
        var program = ClusterCommand.ThisProgram();
        var start = new ProcessStartInfo(program[0]) { UseShellExecute = false, RedirectStandardOutput = redirectOutput };
        foreach (var argument in program.Skip(1)) start.ArgumentList.Add(argument);
        return (program[0], start);
    }
}

/// <summary>
/// A child <c>codeii run</c> of this same build, with the feature cache off so every run extracts: measured from
/// outside, so the bench's own memory (the dataset it may just have written) is not counted, and the peak is the
/// kernel's own figure for the child (<c>getrusage</c> of waited children), not a sample.
/// </summary>
sealed class LocalPipelineExecutor : IPipelineExecutor
{
    public string Name => BenchPipeline.LocalExecutor;

    public ExecutedRun Run(string definitionPath, string runsRoot, int maxThreads, CancellationToken cancellationToken)
    {
        var experimentRuns = Path.Combine(runsRoot, PipelineBenchmark.ExperimentName);
        var before = Directory.Exists(experimentRuns) ? Directory.GetDirectories(experimentRuns).ToHashSet(StringComparer.Ordinal) : [];
        // Run as `dotnet codeii.dll` (dotnet run, the tests) or as the apphost `codeii`: the child is started the same way.
        var (host, start) = IPipelineExecutor.ThisProgram(redirectOutput: false);
        foreach (var argument in new[] { "run", definitionPath, "--runs", runsRoot, "--no-cache", "--max-threads", maxThreads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);

        var samples = new List<UsageSample>();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new IOException($"could not start {host}");
        while (!process.WaitForExit(TimeSpan.FromMilliseconds(500)))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Killed, the run folder stays resumable (codeii run --resume), as after any crash.
                process.Kill();
                process.WaitForExit();
                throw new OperationCanceledException(cancellationToken);
            }
            if (ProcessUsage.Read(process.Id) is { } sample) samples.Add(sample);
        }
        process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        if (process.ExitCode == CliErrors.Cancelled) throw new OperationCanceledException();
        if (process.ExitCode != 0) throw new IOException($"codeii run {definitionPath} failed (exit code {process.ExitCode}); its error is above");
        var made = Directory.GetDirectories(experimentRuns).Where(d => !before.Contains(d)).ToArray();
        if (made.Length != 1) throw new IOException($"{experimentRuns}: expected the one run folder the run made, found {made.Length} new ones");
        // This process starts no other child, so the waited children's peak is the run's.
        var children = ProcessUsage.WaitedChildren();
        return new ExecutedRun(made[0], samples, children?.PeakResidentBytes, children?.CpuSeconds, wall);
    }
}

/// <summary>
/// <c>codeii run --executor slurm --wait</c> on the cluster <c>SLURM_CONF</c> names (scripts/slurm-cluster.sh starts a
/// one-node one): one CPU per task, so the scheduler fills the nodes with feature shards and sweep streams. The peak
/// is the largest of any task's own (each task records it); wall time runs from submission to the report.
/// </summary>
sealed class SlurmPipelineExecutor : IPipelineExecutor
{
    public string Name => BenchPipeline.SlurmExecutor;

    public ExecutedRun Run(string definitionPath, string runsRoot, int maxThreads, CancellationToken cancellationToken)
    {
        var (host, start) = IPipelineExecutor.ThisProgram(redirectOutput: true);
        foreach (var argument in new[] { "run", definitionPath, "--runs", runsRoot, "--no-cache", "--executor", "slurm", "--max-threads", "1", "--wait" })
            start.ArgumentList.Add(argument);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new IOException($"could not start {host}");
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            // Passed on as it comes: each kind's done/total as the jobs progress.
            Console.WriteLine(line);
            lines.Add(line);
            if (cancellationToken.IsCancellationRequested)
            {
                process.Kill();
                throw new OperationCanceledException(cancellationToken);
            }
        }
        process.WaitForExit();
        var wall = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new IOException($"codeii run {definitionPath} --executor slurm failed (exit code {process.ExitCode}); its error is above");
        var report = lines.LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "";
        var folder = RunFolder.Open(Path.GetDirectoryName(report) ?? throw new IOException("codeii run printed no report path"));
        var units = UnitTimes.Read(folder);
        IEnumerable<StageTime> Span(string kind, string stage) => units.Where(u => u.Kind == kind) is var ofKind && ofKind.Any()
            ? [new StageTime(stage, ofKind.Min(u => u.StartedUtc), ofKind.Max(u => u.EndedUtc))] : [];
        var peak = units.Select(u => u.PeakResidentMb).DefaultIfEmpty(0).Max();
        return new ExecutedRun(folder.Path, [], (long)(peak * 1048576), null, wall)
        {
            ClusterStretches = [.. Span("features", "features"), .. Span("sweep", "sweep")],
        };
    }
}
