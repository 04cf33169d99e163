using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Cluster;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>
/// Runs on a cluster: <c>codeii run --executor slurm</c> (submits), <c>codeii task …</c> (what each job runs) and
/// <c>codeii status &lt;run&gt;</c> (where a run stands, for a run of either executor).
/// </summary>
static class ClusterCommand
{
    /// <summary>How the cluster's jobs start this same program: the app host, or the runtime and this assembly.</summary>
    public static IReadOnlyList<string> ThisProgram()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("this process has no path");
        return Path.GetFileNameWithoutExtension(process) == "dotnet" && System.Reflection.Assembly.GetEntryAssembly()?.Location is { Length: > 0 } assembly
            ? [process, assembly]
            : [process];
    }

    public static int Run(IAnsiConsole console, FileInfo? definitionFile, DirectoryInfo? resume, DirectoryInfo runs, string? cache, ClusterSettings settings,
        bool dryRun, bool wait, CancellationToken cancellationToken)
    {
        if ((definitionFile is null) == (resume is null))
            throw new UsageException("give a definition to start a run, or --resume <run folder> to continue one (not both)");
        if (settings.CpusPerTask < 1) throw new UsageException("--max-threads must be at least 1");
        if (settings.ShardSize < 1) throw new UsageException("--shard-size must be at least 1");
        if (settings.GpusPerTask < 0 || settings.ArrayParallelism < 0) throw new UsageException("--gpus-per-task and --array-parallelism cannot be negative");
        ClusterRun.Submission submission;
        if (resume is not null)
        {
            var folder = RunFolder.Open(resume.FullName);
            if (folder.IsFinished)
            {
                console.MarkupLineInterpolated($"{resume}: this run is already complete; its report:");
                Console.WriteLine(folder.FileIn(RunFolder.ReportFile));
                return CliErrors.Success;
            }
            submission = ClusterRun.Resume(folder, dryRun);
        }
        else
        {
            var text = File.ReadAllText(definitionFile!.FullName);
            var definition = ExperimentDefinitionLoader.Parse(text, definitionFile.ToString());
            var options = new RunOptions { RunsRoot = runs.FullName, FeatureCacheDirectory = cache, MaxThreads = settings.CpusPerTask };
            submission = ClusterRun.Start(definition, text, definitionFile.ToString(), settings, options, dryRun);
        }
        var plan = ClusterPlan.Read(submission.Folder);
        console.MarkupLineInterpolated($"[bold]{Path.GetFileName(Path.GetDirectoryName(submission.Folder.Path))}[/] on Slurm: {plan.Shards} feature shards of up to {plan.ShardSize:N0} records, {plan.Streams.Count} sweep streams, {plan.CpusPerTask} CPUs per task");
        if (dryRun)
        {
            console.MarkupLine("dry run: nothing submitted; the scripts, and submit.sh which submits them in order:");
            foreach (var script in submission.Scripts) console.Profile.Out.Writer.WriteLine($"  {script}");
        }
        else
            foreach (var job in submission.Jobs)
                console.Profile.Out.Writer.WriteLine($"submitted {job.Kind}: job {job.JobId}" + (job.Indices is { } indices ? $", array {SlurmExecutor.ArraySpec(indices)}" : ""));
        console.Profile.Out.Writer.WriteLine($"see where it stands: codeii status {submission.Folder.Path}");
        if (dryRun || !wait)
        {
            Console.WriteLine(submission.Folder.Path);
            return CliErrors.Success;
        }
        var finished = ClusterRun.Wait(submission.Folder, units => console.Profile.Out.Writer.WriteLine(Summary(units)), TimeSpan.FromSeconds(2), cancellationToken);
        if (!finished)
        {
            CliErrors.Line($"{submission.Folder.Path}: none of its jobs is queued any more, and the run is not finished; see codeii status {submission.Folder.Path}, then codeii run --resume {submission.Folder.Path}");
            return CliErrors.DataOrIo;
        }
        console.MarkupLine("report:");
        Console.WriteLine(submission.Folder.FileIn(RunFolder.ReportFile));
        return CliErrors.Success;
    }

    /// <summary>One line: each kind's done units out of its total, and anything running, pending or failed.</summary>
    static string Summary(IReadOnlyList<UnitStatus> units) => string.Join("  ", units.GroupBy(u => u.Kind).Select(g =>
    {
        var others = g.Where(u => u.State != ClusterStatus.Done).GroupBy(u => u.State).Select(s => $"{s.Count()} {s.Key}");
        return $"{g.Key} {g.Count(u => u.State == ClusterStatus.Done)}/{g.Count()}" + (others.Any() ? $" ({string.Join(", ", others)})" : "");
    }));

    /// <summary><c>codeii task &lt;kind&gt; &lt;run&gt; [--index k]</c>: one unit of a cluster run, as its job runs it.</summary>
    public static Command Task()
    {
        var command = new Command("task", "One unit of work of a cluster run, as its Slurm job runs it (written into the sbatch scripts by codeii run --executor slurm)");
        foreach (var kind in SlurmExecutor.Kinds)
        {
            var run = new Argument<DirectoryInfo>("run") { Description = "The run folder" }.AcceptExistingOnly();
            var index = new Option<int>("--index") { Description = "The array task's index: a feature shard or a sweep stream" };
            var sub = new Command(kind, kind switch
            {
                "features" => "Extract one shard of records' features into the run folder",
                "prepare" => "Merge the feature shards into the cache and split by patient",
                "network" => "Train the network and compute its embeddings",
                "sweep" => "Sweep one stream into its own trial log",
                _ => "Gather the trial logs; save models, score, evaluate and write the report",
            }) { run };
            if (kind is "features" or "sweep") sub.Options.Add(index);
            sub.SetAction((parse, cancellationToken) => System.Threading.Tasks.Task.FromResult(CliErrors.Run(AnsiConsole.Console, () =>
            {
                var folder = parse.GetValue(run)!.FullName;
                var progress = new ProgressCallback(p => { if (p.Stage == StageProgress.WarningStage) Console.WriteLine($"warning: {p.Detail}"); });
                var started = DateTime.UtcNow;
                var done = kind switch
                {
                    "features" => ClusterTasks.ExtractShard(folder, parse.GetValue(index), progress, cancellationToken),
                    "sweep" => ClusterTasks.SweepStream(folder, parse.GetValue(index), progress, cancellationToken),
                    "prepare" => Done(() => ClusterTasks.Prepare(folder, progress, cancellationToken), "features merged, split written"),
                    "network" => Done(() => ClusterTasks.TrainNetwork(folder, progress, cancellationToken), "network trained, embeddings written"),
                    _ => $"report: {ClusterTasks.Finish(folder, progress, cancellationToken).ReportPath}",
                };
                var times = new UnitTimes(kind, parse.GetValue(index), started, DateTime.UtcNow, ProcessMemory.PeakResidentMb(), Environment.MachineName);
                var record = RunFolder.Open(folder);
                Directory.CreateDirectory(record.FileIn(Path.Combine(ClusterPlan.Folder, "times")));
                record.WriteJson(ClusterPlan.UnitTimes(kind, times.Index), times);
                Console.WriteLine($"{kind}: {done} in {times.Seconds.ToString("0.0", CultureInfo.InvariantCulture)} s, peak {times.PeakResidentMb:F0} MB");
                return CliErrors.Success;
            })));
            command.Subcommands.Add(sub);
        }
        return command;
    }

    static string Done(Action action, string what)
    {
        action();
        return what;
    }

    /// <summary><c>codeii status &lt;run&gt; [--json]</c>.</summary>
    public static Command Status()
    {
        var run = new Argument<DirectoryInfo>("run") { Description = "A run folder (runs/<experiment>/<timestamp>)" }.AcceptExistingOnly();
        var json = new Option<bool>("--json") { Description = "Print the units as JSON, one object per unit" };
        var command = new Command("status", "Where a run stands: its state and, for a cluster run, every shard, stream and job (done, running, pending, failed)") { run, json };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var folder = RunFolder.Open(parse.GetValue(run)!.FullName);
            var state = RunStatus.Of(folder);
            if (!ClusterPlan.IsClusterRun(folder))
            {
                var stages = new RunEvents(folder).Read().Where(e => e.Event == RunEvent.StageDone).Select(e => e.Stage).Distinct().ToArray();
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(new { executor = "local", state = state.State, description = state.Description, stages_done = stages }, JsonConventions.Line));
                else console.Profile.Out.Writer.WriteLine($"{folder.Path}: {state.Description}\nstages done: {(stages.Length == 0 ? "none" : string.Join(", ", stages))}");
                return CliErrors.Success;
            }
            var units = ClusterStatus.Of(folder);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { executor = ClusterPlan.SlurmExecutor, finished = folder.IsFinished, units }, JsonConventions.Line));
                return CliErrors.Success;
            }
            console.Profile.Out.Writer.WriteLine($"{folder.Path}: {(folder.IsFinished ? "complete" : ClusterStatus.AnyQueued(units) ? "running on Slurm" : "not running: no job of it is queued")}");
            var table = new Table().AddColumns("unit", "done", "running", "pending", "failed or gone", "not submitted");
            foreach (var kind in units.GroupBy(u => u.Kind))
            {
                string Count(params string[] states) => kind.Count(u => states.Contains(u.State)) is var n and > 0 ? $"{n}" : "";
                var failed = kind.Count(u => u.State is not (ClusterStatus.Done or ClusterStatus.Running or ClusterStatus.Pending or ClusterStatus.NotSubmitted));
                table.AddRow(kind.Key, $"{kind.Count(u => u.State == ClusterStatus.Done)}/{kind.Count()}", Count(ClusterStatus.Running), Count(ClusterStatus.Pending),
                    failed > 0 ? $"[red]{failed}[/]" : "", Count(ClusterStatus.NotSubmitted));
            }
            console.Write(table);
            foreach (var unit in units.Where(u => u.State is not (ClusterStatus.Done or ClusterStatus.NotSubmitted)))
                console.Profile.Out.Writer.WriteLine($"  {unit.Kind} {unit.Index} ({unit.What}): {unit.State}{(unit.Job is null ? "" : $", job {unit.Job}")}{(unit.Reason is null ? "" : $", {unit.Reason}")}");
            if (!folder.IsFinished && !ClusterStatus.AnyQueued(units))
                console.Profile.Out.Writer.WriteLine($"continue it (only what is not done is submitted): codeii run --resume {folder.Path}");
            return CliErrors.Success;
        }));
        return command;
    }
}
