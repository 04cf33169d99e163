using System.Globalization;
using System.CommandLine;
using CodeII.Experiments.Cluster;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Sweep;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii run &lt;definition.yaml&gt;</c>: runs an experiment and prints the report's path last.</summary>
static class RunCommand
{
    public static Command Create()
    {
        var definitionArgument = new Argument<FileInfo>("definition") { Description = "Experiment definition (YAML), e.g. experiments/quickstart.yaml", Arity = ArgumentArity.ZeroOrOne }.AcceptExistingOnly();
        var resumeOption = new Option<DirectoryInfo>("--resume") { Description = "Continue an interrupted run in its folder (runs/<experiment>/<timestamp>): finished trials are replayed from its trial log, not retrained" }.AcceptExistingOnly();
        var runsOption = new Option<DirectoryInfo>("--runs") { Description = "Folder that receives run folders", DefaultValueFactory = _ => new DirectoryInfo("runs") };
        var cacheOption = new Option<DirectoryInfo>("--cache") { Description = "Feature cache folder (Arrow files)", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine("cache", "features")) };
        var noCacheOption = new Option<bool>("--no-cache") { Description = "Extract features afresh and do not write the cache" };
        var threadsOption = new Option<int>("--max-threads") { Description = "Cap on threads for feature extraction and trials (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var executorOption = new Option<string>("--executor") { Description = "Where the stages run: local (this process) or slurm (jobs through sbatch; see the README's \"Running on a cluster\")", DefaultValueFactory = _ => "local" }
            .AcceptOnlyFromAmong("local", ClusterPlan.SlurmExecutor);
        var partitionOption = new Option<string>("--partition") { Description = "slurm: the partition to submit to (default: the cluster's default)" };
        var gpusOption = new Option<int>("--gpus-per-task") { Description = "slurm: GPUs asked for the network's training job (0: none)" };
        var arrayParallelismOption = new Option<int>("--array-parallelism") { Description = "slurm: how many tasks of a job array run at once (0: as many as the scheduler allows)" };
        var shardOption = new Option<int>("--shard-size") { Description = "slurm: records per feature-extraction task", DefaultValueFactory = _ => ClusterPlan.DefaultShardSize };
        var dryRunOption = new Option<bool>("--dry-run") { Description = "slurm: write the run folder and the sbatch scripts (cluster/slurm/) without submitting them" };
        var waitOption = new Option<bool>("--wait") { Description = "slurm: stay until the run finishes or none of its jobs is queued, printing progress" };
        var command = new Command("run", "Run an experiment definition end to end and write an HTML report")
        {
            definitionArgument, resumeOption, runsOption, threadsOption, cacheOption, noCacheOption,
            executorOption, partitionOption, gpusOption, arrayParallelismOption, shardOption, dryRunOption, waitOption,
        };
        command.SetAction((parse, cancellationToken) => Task.FromResult(CliErrors.Run(AnsiConsole.Console, () =>
        {
            var (definition, resume, runs) = (parse.GetValue(definitionArgument), parse.GetValue(resumeOption), parse.GetValue(runsOption)!);
            var cache = parse.GetValue(noCacheOption) ? null : parse.GetValue(cacheOption)!.FullName;
            var slurmOnly = new Option[] { partitionOption, gpusOption, arrayParallelismOption, shardOption, dryRunOption, waitOption }
                .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
            var cluster = parse.GetValue(executorOption) == ClusterPlan.SlurmExecutor
                || resume is not null && ClusterPlan.IsClusterRun(RunFolder.Open(resume.FullName));
            if (!cluster && slurmOnly is not null) throw new UsageException($"{slurmOnly.Name} applies to --executor slurm only");
            // A cluster run's settings are its plan's (cluster/plan.json): every job and resume reads the same cut.
            if (cluster && resume is not null && new Option[] { partitionOption, gpusOption, arrayParallelismOption, shardOption, threadsOption }
                    .FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } fixedByPlan)
                throw new UsageException($"{fixedByPlan.Name}: a cluster run keeps the settings it started with ({ClusterPlan.File} in its folder); resume takes --dry-run and --wait only");
            if (!cluster) return Execute(definition, resume, runs, parse.GetValue(threadsOption), cache, cancellationToken);
            return ClusterCommand.Run(AnsiConsole.Console, definition, resume, runs, cache, new ClusterSettings
            {
                Command = ClusterCommand.ThisProgram(),
                CpusPerTask = parse.GetResult(threadsOption) is { Implicit: false } ? parse.GetValue(threadsOption) : 1,
                Partition = parse.GetValue(partitionOption),
                GpusPerTask = parse.GetValue(gpusOption),
                ArrayParallelism = parse.GetValue(arrayParallelismOption),
                ShardSize = parse.GetValue(shardOption),
                FeatureCache = cache,
            }, parse.GetValue(dryRunOption), parse.GetValue(waitOption), cancellationToken);
        })));
        return command;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
    static extern void ExitImmediately(int status);

    /// <summary>An abandoned LightGBM fit may still be boosting in native code; the runtime's shutdown under it would
    /// crash the process, so the process ends at once. Everything worth keeping is already on disk: the trial log is
    /// flushed per trial and the manifest written atomically.</summary>
    static void ExitNowIfFitsAreRunning(int status)
    {
        if (Cancellable.Running == 0 || !OperatingSystem.IsLinux()) return;
        Console.Out.Flush();
        ExitImmediately(status);
    }

    static int Execute(FileInfo? definitionFile, DirectoryInfo? resume, DirectoryInfo runs, int maxThreads, string? cacheDirectory, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        if (maxThreads < 1) throw new UsageException("--max-threads must be at least 1");
        if ((definitionFile is null) == (resume is null))
            throw new UsageException("give a definition to start a run, or --resume <run folder> to continue one (not both)");
        var definitionPath = definitionFile?.ToString() ?? Path.Combine(resume!.ToString(), RunFolder.DefinitionFile);
        if (resume is not null && RunFolder.Open(resume.FullName) is { IsFinished: true } finished)
        {
            // Read, not only found: a damaged manifest is an error naming it, not a run said to be complete.
            finished.ReadManifest();
            console.MarkupLineInterpolated($"{resume}: this run is already complete; its report:");
            Console.WriteLine(Path.Combine(resume.FullName, RunFolder.ReportFile));
            return CliErrors.Success;
        }
        var text = File.ReadAllText(definitionPath);
        var definition = ExperimentDefinitionLoader.Parse(text, definitionPath);

        var data = definition.Transfer is { } transfer
            ? $"transfer from {string.Join(", ", transfer.Sources.Select(s => s.Name))} to {string.Join(", ", transfer.Targets.Select(t => t.Name))}, {TransferPlan.Cells(definition).Count} cells"
            : definition.Dataset.Kind == DatasetDefinition.SyntheticKind
            ? $"synthetic data, {definition.Dataset.Synthetic.Exams} exams"
            : $"{definition.Dataset.Kind} data from {definition.Dataset.Path}";
        var resuming = resume is null ? "" : $", resuming {resume}";
        console.MarkupLineInterpolated($"[bold]{definition.Name}[/]: {data}, seed {definition.Seed}, {maxThreads} threads{resuming}");
        RunResult result;
        string? runFolder = null;
        try
        {
            RunResult Run(IProgress<StageProgress> progress, IProgress<SweepStatus> sweepStatus)
            {
                var options = new RunOptions
                {
                    RunsRoot = runs.FullName, MaxThreads = maxThreads, Progress = progress, FeatureCacheDirectory = cacheDirectory,
                    SweepStatus = sweepStatus, RunFolderReady = folder => runFolder = folder.Path,
                };
                return resume is null
                    ? ExperimentRunner.Run(definition, text, definitionPath, options, cancellationToken)
                    : ExperimentRunner.Resume(resume.FullName, options, cancellationToken);
            }
            // Spectre's own test for whether it can redraw a live display.
            result = console.Profile.Capabilities is { Interactive: true, Ansi: true }
                ? WithLiveDisplay(console, definition, Run)
                : WithProgressLines(console, definition, Run);
        }
        catch (OperationCanceledException)
        {
            console.MarkupLineInterpolated($"[yellow]cancelled[/]: the run folder keeps every trial finished so far; continue it with [bold]codeii run --resume {runFolder ?? "<run folder>"}[/]");
            ExitNowIfFitsAreRunning(CliErrors.Cancelled);
            return CliErrors.Cancelled;
        }

        if (result.Transfer is { } matrix) WriteTransferMatrix(console, matrix);
        else ResultTables.Write(console, result.Metrics);
        // Unwrapped, like the verdicts: a sentence broken across lines reads badly in a log.
        if (result.Manifest.Patients is { } patients) console.Profile.Out.Writer.WriteLine($"patients: {patients}");
        if (result.Manifest.SkippedRecords > 0)
            console.MarkupLineInterpolated($"[yellow]{result.Manifest.SkippedRecords} records skipped[/]: see {RunFolder.SkippedRecordsFile} in the run folder");
        if (result.Manifest.RecordWarnings > 0)
            console.MarkupLineInterpolated($"[yellow]{result.Manifest.RecordWarnings} warnings about records kept[/] (e.g. a WFDB gain of 0 read as 200): see {RunFolder.RecordWarningsFile} in the run folder");
        if (!string.IsNullOrEmpty(result.Manifest.FeatureCache)) console.MarkupLineInterpolated($"[grey]feature cache: {result.Manifest.FeatureCache}[/]");
        console.MarkupLineInterpolated($"run folder: {result.Folder.Path}");
        console.MarkupLine("report [grey](every label's intervals, the curves, the sweep)[/]:");
        // The report path is printed last and bare, so scripts can take the final line.
        Console.WriteLine(result.ReportPath);
        return CliErrors.Success;
    }

    delegate RunResult RunWith(IProgress<StageProgress> progress, IProgress<SweepStatus> sweepStatus);

    /// <summary>The stages in the order a run goes through them, with their bars' descriptions.</summary>
    static IReadOnlyList<(string Stage, string Description)> Stages(ExperimentDefinition definition)
    {
        var stages = new List<(string Stage, string Description)>();
        // A transfer run goes through its cells one by one; the stage bars below show the current cell's.
        if (definition.Transfer is not null) stages.Add(("transfer", "Transfer cells"));
        stages.AddRange([("features", "Reading ECGs and extracting features"), ("split", "Splitting by patient")]);
        if (definition.Pretrain is not null)
            stages.AddRange([("pretrain", "Training the network"), ("embeddings", "Computing learned features")]);
        stages.AddRange([("sweep", "Sweeping models over labels"), ("models", "Saving the selected models"),
            ("predictions", "Scoring validation and test exams from the saved models"), ("evaluation", "Bootstrapping test metrics"),
            ("report", "Writing the report")]);
        return stages;
    }

    static void Warn(IAnsiConsole console, StageProgress p)
    {
        if (p.Stage == StageProgress.WarningStage && p.Detail is { } warning) console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
    }

    /// <summary>A terminal: one progress bar per stage, and the live sweep table under them.</summary>
    static RunResult WithLiveDisplay(IAnsiConsole console, ExperimentDefinition definition, RunWith run)
    {
        SweepStatus? sweepStatus = null;
        return console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new StageElapsedColumn(), new RemainingTimeColumn())
            .UseRenderHook((bars, _) => Volatile.Read(ref sweepStatus) is { } status ? new Rows(bars, SweepTable.Render(status, definition)) : bars)
            .Start(context =>
            {
                var stages = Stages(definition);
                var tasks = stages.ToDictionary(s => s.Stage, s =>
                {
                    var task = context.AddTask(s.Description, maxValue: 1, autoStart: s.Stage == stages[0].Stage);
                    task.Tag = new StageClock(TimeProvider.System);
                    return task;
                });
                ((StageClock)tasks[stages[0].Stage].Tag!).Report(0, 1);
                var descriptions = stages.ToDictionary(s => s.Stage, s => s.Description);
                var progress = new ProgressCallback(p =>
                {
                    Warn(console, p);
                    if (!tasks.TryGetValue(p.Stage, out var task)) return;
                    if (!task.IsStarted) task.StartTask();
                    ((StageClock)task.Tag!).Report(p.Done, p.Total);
                    if (p.Detail is { } detail) task.Description = $"{descriptions[p.Stage]}: {Markup.Escape(detail)}";
                    task.MaxValue = p.Total;
                    task.Value = p.Done;
                });
                return run(progress, new StatusCallback(status => Volatile.Write(ref sweepStatus, status)));
            });
    }

    /// <summary>A file, a pipe or a CI log: plain progress lines every few seconds, since a live display would
    /// print nothing there until it ends.</summary>
    static RunResult WithProgressLines(IAnsiConsole console, ExperimentDefinition definition, RunWith run)
    {
        var lines = new ProgressLines(console, Stages(definition).ToDictionary(s => s.Stage, s => s.Description), definition,
            TimeProvider.System, TimeSpan.FromSeconds(5));
        return run(new ProgressCallback(p => { Warn(console, p); lines.Report(p); }), new StatusCallback(lines.Report));
    }

    /// <summary>Per target and label subset: one row per source and mode, one column per training share, each cell the
    /// test macro-AUROC and its paired difference to scratch.</summary>
    static void WriteTransferMatrix(IAnsiConsole console, TransferMetrics matrix)
    {
        static string Point(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        foreach (var target in matrix.Targets)
            // Unwrapped, like the verdicts: a sentence broken across lines reads badly in a log.
            console.Profile.Out.Writer.WriteLine($"{target.Target} test split: {target.TestExams} exams from {target.TestPatients} patients; Δ scratch by paired patient bootstrap "
                + $"({matrix.BootstrapReplicates} resamples), coloured where its {matrix.Confidence.ToString("P0", CultureInfo.InvariantCulture)} interval excludes 0; ★ the best cell of each column; every interval is in the report"
                + (target.RecordIsPatient ? $"; {FeaturesStage.RecordIsPatient}" : ""));
        foreach (var group in matrix.Cells.GroupBy(c => (c.Target, c.Subset)))
        {
            var best = matrix.Shares.ToDictionary(share => share, share => group.Where(c => c.Share == share && double.IsFinite(c.MacroAuroc.Value))
                .Select(c => c.MacroAuroc.Value).DefaultIfEmpty(double.NaN).Max());
            var table = new Table().Title($"{group.Key.Target} · {group.Key.Subset}: test macro-AUROC (Δ scratch)").AddColumn("source · mode");
            foreach (var share in matrix.Shares) table.AddColumn(new TableColumn($"{share:P0} of training").RightAligned());
            foreach (var row in group.GroupBy(c => (c.Source, c.Mode)))
                table.AddRow([Markup.Escape(row.Key.Source.Length == 0 ? row.Key.Mode : $"{row.Key.Source} · {row.Key.Mode}"),
                    .. matrix.Shares.Select(share => row.FirstOrDefault(c => c.Share == share) is { } cell
                        ? (cell.MacroAuroc.Value == best[share] ? "★ " : "") + Point(cell.MacroAuroc.Value) + (cell.VersusScratch is { } d
                            ? $" ({(d.Lower > 0 ? "[green]" : d.Upper < 0 ? "[red]" : "[grey]")}{(d.Value >= 0 ? "+" : "")}{Point(d.Value)}[/])" : "")
                        : "")]);
            console.Write(table);
        }
        foreach (var uncovered in matrix.Coverage.Where(c => c.Coverage.Uncovered.Count > 0))
            console.MarkupLineInterpolated($"[grey]zero-shot from {uncovered.Source} cannot score {string.Join(", ", uncovered.Coverage.Uncovered)} on {uncovered.Target}: no source class stands for them[/]");
    }
}
