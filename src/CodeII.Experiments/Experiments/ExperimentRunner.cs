using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

public sealed record RunOptions
{
    /// <summary>Where run folders go; each experiment gets <c>&lt;root&gt;/&lt;name&gt;/&lt;timestamp&gt;</c>.</summary>
    public string RunsRoot { get; init; } = "runs";
    /// <summary>Caps threads for feature extraction and parallel trials; defaults to every core.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;
    public IProgress<StageProgress>? Progress { get; init; }
    /// <summary>Where extracted features are cached (Arrow files); null turns the cache off.</summary>
    public string? FeatureCacheDirectory { get; init; } = Path.Combine("cache", "features");
    /// <summary>Every stream's trials and best score as the sweep goes, for a live table.</summary>
    public IProgress<SweepStatus>? SweepStatus { get; init; }
    /// <summary>Told the run folder as soon as it exists, so a caller can name it if the run is cancelled.</summary>
    public Action<RunFolder>? RunFolderReady { get; init; }
    /// <summary>Shown the sweep engine before it runs, with the rows it is given.</summary>
    public Action<SweepEngine>? SweepStarting { get; init; }
    /// <summary>End the session after this stage (a cluster job that runs part of the plan); null runs the whole plan.</summary>
    public string? StopAfterStage { get; init; }
}

public sealed record RunResult(RunFolder Folder, string ReportPath, ExperimentMetrics Metrics, RunManifest Manifest)
{
    /// <summary>A transfer run's matrix (its <see cref="Metrics"/> are then its first cell's).</summary>
    public TransferMetrics? Transfer { get; init; }
}

/// <summary>
/// Runs a definition as a plan of stages over its run folder (<see cref="RunPlan"/>): features → split → network →
/// sweep → models → predictions → evaluation → importance → report. Each stage writes its artefacts to the folder; a resumed run
/// follows the same plan and skips the stages whose artefacts are there.
/// </summary>
public static class ExperimentRunner
{
    public static RunResult Run(ExperimentDefinition definition, string definitionText, string definitionPath,
        RunOptions options, CancellationToken cancellationToken = default)
    {
        if (definition.Transfer is not null) return TransferRunner.Run(definition, definitionText, definitionPath, options, cancellationToken);
        // Open the data first: a dataset that cannot be opened should not leave an empty run folder behind.
        return Run(definition, definitionText, definitionPath, Datasets.CreateSource(definition), options, cancellationToken);
    }

    /// <summary>A new run on <paramref name="source"/> instead of the definition's dataset: the leakage tests run a
    /// definition on its data with the test exams' labels altered. Such a run cannot be resumed (a resume opens the
    /// definition's dataset, whose fingerprint differs).</summary>
    internal static RunResult Run(ExperimentDefinition definition, string definitionText, string definitionPath, IEcgSource source,
        RunOptions options, CancellationToken cancellationToken = default)
    {
        var started = DateTime.UtcNow;
        var folder = RunFolder.Create(options.RunsRoot, definition.Name, started);
        // Held from before the folder has a definition, so a resume of this folder is refused for as long as the run goes on.
        using var folderLock = RunLock.AcquireNew(folder);
        options.RunFolderReady?.Invoke(folder);
        return Whole(Start(definition, definitionText, definitionPath, folder, source, options, started, cancellationToken));
    }

    /// <summary>
    /// A new run folder that holds the definition and the run's start, with no stage run yet: a cluster executor
    /// makes the folder here and its jobs run the stages (<see cref="ResumeThrough"/>). The caller opens (and
    /// disposes) the definition's source, which it needs too: opening CODE-scale data reads every exam's metadata.
    /// </summary>
    public static RunFolder Create(ExperimentDefinition definition, string definitionText, string definitionPath, IEcgSource source, RunOptions options)
    {
        if (definition.Transfer is not null) throw new ArgumentException("a transfer definition runs its cells in one session; it cannot be created as a plain run folder");
        var started = DateTime.UtcNow;
        var folder = RunFolder.Create(options.RunsRoot, definition.Name, started);
        using var folderLock = RunLock.AcquireNew(folder);
        Begin(definition, definitionText, definitionPath, folder, source, options, started);
        return folder;
    }

    /// <summary>Continues a run folder through <paramref name="lastStage"/> and stops there, keeping what it made for
    /// the next session: the stages before it are loaded or run as in any resume.</summary>
    public static void ResumeThrough(string runFolder, string lastStage, RunOptions options, CancellationToken cancellationToken = default)
    {
        var definition = ExperimentDefinitionLoader.Read(RunFolder.Open(runFolder));
        if (!RunPlan.For(definition).Any(s => s.Name == lastStage))
            throw new ArgumentException($"this run's plan has no stage '{lastStage}' (it has {string.Join(", ", RunPlan.For(definition).Select(s => s.Name))})");
        ResumeCore(runFolder, options with { StopAfterStage = lastStage }, cancellationToken);
    }

    /// <summary>
    /// Sweeps some of a run's streams into a trial log of their own, in a run folder whose stages before the sweep are
    /// done (a cluster task; many run at once, so this writes nothing else in the folder, not even its event log).
    /// A log left by an interrupted task is replayed, so its finished trials are not trained again.
    /// </summary>
    public static void SweepStreams(string runFolder, IReadOnlySet<string> streams, string trialLog, RunOptions options, CancellationToken cancellationToken = default)
    {
        var folder = RunFolder.Open(runFolder);
        var definition = ExperimentDefinitionLoader.Read(folder);
        var events = new RunEvents(folder);
        using var run = new RunContext
        {
            Definition = definition, Options = options, Folder = folder, Source = Datasets.CreateSource(definition), Events = events,
            Manifest = events.StartingManifest(), Cancellation = cancellationToken,
        };
        foreach (var stage in RunPlan.For(definition).TakeWhile(s => s is not SweepStage))
        {
            if (stage.IsComplete(run)) stage.Load(run);
            // These two read their tables from the cache, where the stage that ran before left them.
            else if (stage is FeaturesStage or EmbeddingsStage) stage.Run(run);
            else throw new InvalidDataException($"{folder.Path}: the {stage.Name} stage has not run yet, and the sweep needs it");
        }
        SweepStage.Sweep(run, streams, trialLog);
    }

    static RunResult Whole(RunResult? result) =>
        result ?? throw new InvalidOperationException("the run stopped before its last stage, as asked (RunOptions.StopAfterStage)");

    /// <summary>
    /// Runs a definition in a given folder (a transfer run's cell): a finished run there is read back, an interrupted
    /// one continues, an empty folder gets a new run. The caller owns the definition; the folder keeps its text, and
    /// the caller holds the lock of the run folder this one is inside.
    /// </summary>
    public static RunResult RunIn(string folderPath, ExperimentDefinition definition, string definitionText, string definitionPath,
        RunOptions options, CancellationToken cancellationToken = default)
    {
        var folder = RunFolder.At(folderPath);
        // What the folder holds must be what this definition would make: a changed definition starts a new run.
        var resolved = folder.FileIn(RunFolder.ResolvedDefinitionFile);
        if (File.Exists(resolved) && File.ReadAllText(resolved) != System.Text.Json.JsonSerializer.Serialize(definition, RunFolder.Json) + "\n")
            throw new InvalidDataException($"{folder.Path}: this run folder was made by another definition ({RunFolder.ResolvedDefinitionFile} differs); start a new run");
        if (folder.IsFinished) return Finished(folder);
        if (!folder.HasStarted) return Whole(Start(definition, definitionText, definitionPath, folder, Datasets.CreateSource(definition), options, DateTime.UtcNow, cancellationToken));
        var events = new RunEvents(folder);
        events.RepairTornTail();
        // The cell's own writer is its transfer run's, which holds the lock: the transfer run's events name it.
        return Whole(Continue(definition, folder, events, events.StartingManifest(), options, lastWriter: null, cancellationToken));
    }

    /// <summary>An interrupted run's next session in its own folder, with the manifest it started with.</summary>
    static RunResult? Continue(ExperimentDefinition definition, RunFolder folder, RunEvents events, RunManifest manifest, RunOptions options,
        RunWriter? lastWriter, CancellationToken cancellationToken)
    {
        var source = Datasets.CreateSource(definition);
        events.Append(Resumed(events, lastWriter));
        return Execute(new RunContext
        {
            Definition = definition, Options = options, Folder = folder, Source = source, Events = events, Manifest = manifest, Cancellation = cancellationToken,
        });
    }

    /// <summary>What a finished run folder holds: its manifest, metrics and report.</summary>
    public static RunResult Finished(RunFolder folder) => new(folder, folder.FileIn(RunFolder.ReportFile),
        JsonConventions.ReadFile<ExperimentMetrics>(folder.FileIn(RunFolder.MetricsFile)),
        folder.ReadManifest());

    static RunResult? Start(ExperimentDefinition definition, string definitionText, string definitionPath, RunFolder folder, IEcgSource source,
        RunOptions options, DateTime started, CancellationToken cancellationToken)
    {
        var (events, manifest) = Begin(definition, definitionText, definitionPath, folder, source, options, started);
        return Execute(new RunContext
        {
            Definition = definition, Options = options, Folder = folder, Source = source, Events = events, Manifest = manifest, Cancellation = cancellationToken,
        });
    }

    /// <summary>Writes a new run's definition and its starting event, which carries the manifest it starts with.</summary>
    static (RunEvents Events, RunManifest Manifest) Begin(ExperimentDefinition definition, string definitionText, string definitionPath, RunFolder folder,
        IEcgSource source, RunOptions options, DateTime started)
    {
        var manifest = NewManifest(definition, definitionText, definitionPath, options, started) with
        {
            Dataset = source.Describe(),
            FeatureSets = definition.Features,
            FeatureVersions = definition.FeatureParts.Where(p => p != LearnedFeatures.SetName).Select(FeatureSetCatalog.Create).ToDictionary(e => e.Name, e => $"v{e.Version}"),
        };
        folder.WriteText(RunFolder.DefinitionFile, definitionText);
        folder.WriteJson(RunFolder.ResolvedDefinitionFile, definition);
        var events = new RunEvents(folder);
        events.Append(new RunEvent { TimeUtc = started, Event = RunEvent.Started, Manifest = manifest });
        return (events, manifest);
    }

    /// <summary>The event that begins a resumed session, saying how the last one ended: cancelled, failed, or its process gone.</summary>
    internal static RunEvent Resumed(RunEvents events, RunWriter? lastWriter) => new()
    {
        TimeUtc = DateTime.UtcNow, Event = RunEvent.Resumed, Detail = $"last session: {RunStatus.Ended(events.Read(), lastWriter).Description}",
    };

    /// <summary>What every run records about how it was made: seed, definition, commit, packages, machine.</summary>
    internal static RunManifest NewManifest(ExperimentDefinition definition, string definitionText, string definitionPath, RunOptions options, DateTime started)
    {
        var (commit, dirty) = RunManifest.GitState(Path.GetDirectoryName(Path.GetFullPath(definitionPath)) ?? ".");
        return new RunManifest
        {
            Experiment = definition.Name,
            Seed = definition.Seed,
            DefinitionFile = definitionPath,
            DefinitionSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(definitionText))),
            GitCommit = commit,
            GitDirty = dirty,
            Packages = RunManifest.PackageVersions(),
            Runtime = RunManifest.RuntimeDescription,
            Os = RunManifest.OsDescription,
            ProcessorCount = Environment.ProcessorCount,
            MaxThreads = options.MaxThreads,
            Dataset = "",
            FeatureSets = definition.Features,
            FeatureVersions = new Dictionary<string, string>(),
            StartedUtc = started,
            Status = "running",
        };
    }

    /// <summary>
    /// Continues an interrupted run in its own folder with the definition the folder keeps: the stages whose artefacts
    /// are there are skipped, the trial log is replayed into the tuners, and a network resumes from its last epoch.
    /// The result equals an uninterrupted run's.
    /// </summary>
    public static RunResult Resume(string runFolder, RunOptions options, CancellationToken cancellationToken = default) =>
        Whole(ResumeCore(runFolder, options, cancellationToken));

    static RunResult? ResumeCore(string runFolder, RunOptions options, CancellationToken cancellationToken)
    {
        var folder = RunFolder.Open(runFolder);
        if (folder.TransferRun() is { } transferRun)
            throw new InvalidDataException($"{folder.Path} is a cell of a transfer run: resume the transfer run, {transferRun.Path}");
        // Before anything is written: two sessions appending to one trial log would interleave and tear its lines.
        using var folderLock = RunLock.Acquire(folder);
        // A session that held the lock until a moment ago may have finished the run.
        if (folder.IsFinished) return Finished(folder);
        options.RunFolderReady?.Invoke(folder);
        var definitionText = File.ReadAllText(folder.FileIn(RunFolder.DefinitionFile));
        var events = new RunEvents(folder);
        // A line cut short by a crash would otherwise sit in the middle of the log once this session appends to it.
        events.RepairTornTail();
        var manifest = events.StartingManifest();
        var definition = ExperimentDefinitionLoader.Parse(definitionText, folder.FileIn(RunFolder.DefinitionFile));
        if (definition.Transfer is not null) return TransferRunner.Resume(folder, definition, definitionText, events, manifest, options, folderLock.Previous, cancellationToken);
        var (commit, _) = RunManifest.GitState(Path.GetDirectoryName(Path.GetFullPath(manifest.DefinitionFile)) ?? ".");
        if (commit != manifest.GitCommit)
            options.Progress?.Report(StageProgress.Warning($"the run started at commit {manifest.GitCommit}, this is {commit}: trials replay only if the sweep proposes the same"));
        return Continue(definition, folder, events, manifest, options, folderLock.Previous, cancellationToken);
    }

    /// <summary>Runs the plan's stages that are not complete; null when it stopped after <see cref="RunOptions.StopAfterStage"/>.</summary>
    static RunResult? Execute(RunContext run)
    {
        using (run)
        {
            try
            {
                foreach (var stage in RunPlan.For(run.Definition))
                {
                    run.Cancellation.ThrowIfCancellationRequested();
                    if (stage.IsComplete(run))
                    {
                        stage.Load(run);
                        run.Report(stage.Name, 1, 1, "done in an earlier session");
                    }
                    else
                    {
                        run.Events.Append(RunEvent.StageStarted, stage.Name);
                        run.StageDetail = null;
                        stage.Run(run);
                        run.Events.Append(RunEvent.StageDone, stage.Name, run.StageDetail);
                    }
                    if (stage.Name == run.Options.StopAfterStage)
                    {
                        run.Events.Append(RunEvent.Stopped, stage.Name);
                        return null;
                    }
                }
                // The manifest is the run's summary: written once, after everything else.
                run.Folder.WriteJson(RunFolder.ManifestFile, run.Manifest);
                run.Events.Append(RunEvent.Finished);
                return new RunResult(run.Folder, run.ReportPath!, run.Metrics!, run.Manifest);
            }
            catch (Exception e)
            {
                // The folder keeps every finished stage and trial, and its event log says how the session ended.
                run.Events.AppendEnding(e);
                throw;
            }
        }
    }
}
