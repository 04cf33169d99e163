using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// One step of a run. A stage writes its artefacts to the run folder (or to the cache it names) atomically, and knows
/// whether they are there: the runner runs the stages that are not complete and asks the complete ones to read their
/// artefacts back for the stages after them. Resuming a run is nothing more than running its plan again.
/// </summary>
public interface IRunStage
{
    /// <summary>The stage's name in the event log and in progress reports.</summary>
    string Name { get; }

    /// <summary>Whether the stage's artefacts are in the run folder, so it need not run again.</summary>
    bool IsComplete(RunContext run);

    /// <summary>Does the stage's work and writes its artefacts.</summary>
    void Run(RunContext run);

    /// <summary>Reads a complete stage's artefacts back into the context, for the stages after it.</summary>
    void Load(RunContext run) { }
}

/// <summary>The stages of a run, in order: the plan every run and every resume follows.</summary>
public static class RunPlan
{
    public static IReadOnlyList<IRunStage> For(ExperimentDefinition definition) =>
    [
        new FeaturesStage(), new SplitStage(),
        .. definition.Pretrain is null ? Array.Empty<IRunStage>() : [new PretrainStage(), new EmbeddingsStage()],
        new SweepStage(), new ModelsStage(), new PredictionsStage(), new EvaluationStage(),
        .. definition.Evaluation.Importance ? [new ImportanceStage()] : Array.Empty<IRunStage>(), new ReportStage(),
    ];
}

/// <summary>What the stages of one run session share: the definition and folder, and what earlier stages made or read back.</summary>
public sealed class RunContext : IDisposable
{
    public required ExperimentDefinition Definition { get; init; }
    public required RunOptions Options { get; init; }
    public required RunFolder Folder { get; init; }
    public required IEcgSource Source { get; init; }
    public required RunEvents Events { get; init; }
    public CancellationToken Cancellation { get; init; }
    /// <summary>The manifest as the stages fill it in; written once, when the run finishes.</summary>
    public required RunManifest Manifest { get; set; }

    /// <summary>Extracted feature sets by name (<c>handcrafted</c>, <c>learned</c>, …); every one has the same rows.</summary>
    public Dictionary<string, FeatureTable> Tables { get; } = new(StringComparer.Ordinal);
    /// <summary>The exams read without error, with their ids, patients and labels (the first extracted table).</summary>
    public FeatureTable Rows => Tables.Values.FirstOrDefault() ?? throw new InvalidOperationException("no features have been read yet");
    public PatientSplit? Split { get; set; }
    public PretrainedNetwork? Network { get; set; }
    /// <summary>The network's sigmoid outputs per exam (<c>resnet_&lt;class&gt;</c> columns).</summary>
    public FeatureTable? NetworkOutputs { get; set; }
    /// <summary>The sweep's trials and selected models, until the models stage has saved them (then null: later stages load the bundles).</summary>
    public SweepResult? Swept { get; set; }
    public ExperimentMetrics? Metrics { get; set; }
    /// <summary>What the stage that just ran leaves in its <c>stage_done</c> event, for later sessions to check against.</summary>
    public string? StageDetail { get; set; }
    public string? ReportPath { get; set; }

    /// <summary>Each compared feature set's table; fused sets (<c>a+b</c>) put their parts' features side by side.</summary>
    public FeatureTable FeatureSet(string name) => _fused.TryGetValue(name, out var table) ? table
        : _fused[name] = FeatureSetCatalog.Parts(name).Select(part => Tables[part]).Aggregate((a, b) => a.Concatenate(b));
    readonly Dictionary<string, FeatureTable> _fused = new(StringComparer.Ordinal);

    /// <summary>Where networks are trained and checkpointed: beside the feature cache.</summary>
    public string NetworkCacheRoot => Options.FeatureCacheDirectory is { } features
        ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(features)) ?? ".", "networks")
        : Path.Combine(Path.GetTempPath(), "codeii-networks");

    public void Report(string stage, int done, int total, string? detail = null) =>
        Options.Progress?.Report(new StageProgress(stage, done, total, detail));

    public void Dispose()
    {
        // Mapped values (the learned features, fused sets made from them) are unmapped here, at the run's end, when no
        // stage reads a row any more.
        foreach (var values in Tables.Values.Concat(_fused.Values).Append(NetworkOutputs).OfType<FeatureTable>().Select(t => t.Values).Distinct())
            (values as IDisposable)?.Dispose();
        Network?.Dispose();
        (Source as IDisposable)?.Dispose();
    }
}
