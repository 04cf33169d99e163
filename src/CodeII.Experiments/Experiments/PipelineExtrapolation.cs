namespace CodeII.Experiments.Experiments;

/// <summary>How a stage's wall time grows with the number of exams and the cores given to it.</summary>
public enum StageScaling
{
    /// <summary>Each exam's work is its own: time grows with the exams and shrinks with every core.</summary>
    ExamsOverCores,
    /// <summary>Time grows with the exams on one core, whatever the cores.</summary>
    ExamsOnOneCore,
    /// <summary>The sweep: each stream's trials run one after another, on training rows whose number grows with
    /// the exams; streams run side by side, at most one per core.</summary>
    StreamsOverCores,
    /// <summary>Feature importance: each model scores a sample of the validation exams (at most
    /// <see cref="ImportanceStage.MaxExams"/>); models run side by side, at most one per core.</summary>
    ValidationSampleOverModels,
    /// <summary>Independent of the exams and the cores.</summary>
    Fixed,
}

/// <summary>What one run of the pipeline measured, as the extrapolation reads it.</summary>
public sealed record PipelineMeasurement
{
    public required int Exams { get; init; }
    /// <summary>The threads the run was given (<c>--max-threads</c>).</summary>
    public required int Threads { get; init; }
    public required IReadOnlyDictionary<string, double> StageSeconds { get; init; }
    /// <summary>Each sweep stream's trial seconds, in the order the streams start.</summary>
    public required IReadOnlyList<double> StreamSeconds { get; init; }
    /// <summary>How many models feature importance scores.</summary>
    public required int ImportanceModels { get; init; }
    /// <summary>The share of exams in the validation split.</summary>
    public required double ValidationShare { get; init; }
}

/// <summary>
/// Expected wall time of the pipeline on more exams and more cores, stage by stage, from one measured run. Every
/// stage is taken as linear in the exams it handles (LightGBM's histograms are built over the training rows, so a
/// trial of the same configuration costs in proportion to them; reading, features, scoring and the bootstrap visit
/// each exam a fixed number of times). That is a lower bound where more data lets early stopping grow more trees,
/// or where a stage sorts (the bootstrap's AUROCs, n log n).
/// </summary>
public static class PipelineExtrapolation
{
    /// <summary>Each stage of the plan, how it scales, and the assumption behind that, in words.</summary>
    public static readonly IReadOnlyList<(string Stage, StageScaling Scaling, string Assumption)> Stages =
    [
        ("features", StageScaling.ExamsOverCores, "reading and feature extraction are per exam and independent: linear in exams, divided over all cores (on a cluster: if the shared file system keeps up)"),
        ("split", StageScaling.ExamsOnOneCore, "iterative stratification over the patients: linear in exams, one core"),
        ("sweep", StageScaling.StreamsOverCores, "each stream's trials are sequential and linear in training rows; streams (6 labels + 6 priors here) run in parallel, one per core, scheduled in order: no gain beyond one core per stream"),
        ("models", StageScaling.Fixed, "saving the selected models: independent of exams"),
        ("predictions", StageScaling.ExamsOnOneCore, "every model scores the validation and test exams: linear in exams, one core"),
        ("evaluation", StageScaling.ExamsOnOneCore, "patient bootstrap over the test exams: linear in exams (sorting is n log n), one core"),
        ("importance", StageScaling.ValidationSampleOverModels, "permutation importance on at most 10,000 validation exams: grows with exams until then, constant after; models in parallel, one per core"),
        ("report", StageScaling.ExamsOnOneCore, "reads the predictions and draws the curves: linear in exams, one core"),
    ];

    public static StageScaling ScalingOf(string stage) =>
        Stages.FirstOrDefault(s => s.Stage == stage) is { Stage: not null } known ? known.Scaling : StageScaling.ExamsOnOneCore;

    /// <summary>The stage's expected seconds on <paramref name="exams"/> exams and <paramref name="cores"/> cores.</summary>
    public static double StageSeconds(PipelineMeasurement measured, string stage, long exams, int cores)
    {
        var seconds = measured.StageSeconds[stage];
        var growth = (double)exams / measured.Exams;
        return ScalingOf(stage) switch
        {
            StageScaling.ExamsOverCores => seconds * growth * measured.Threads / cores,
            StageScaling.ExamsOnOneCore => seconds * growth,
            StageScaling.StreamsOverCores => seconds * growth * ParallelTimeRatio(measured.StreamSeconds, measured.Threads, cores),
            StageScaling.ValidationSampleOverModels => seconds * ImportanceExams(measured, exams) / ImportanceExams(measured, measured.Exams)
                * ParallelTimeRatio([.. Enumerable.Repeat(1.0, measured.ImportanceModels)], measured.Threads, cores),
            _ => seconds,
        };
    }

    /// <summary>
    /// The stage times the measuring machine would have given with its cores to the run alone: each stage's CPU
    /// seconds over the cores it can keep busy (the threads; one for a one-core stage; for the sweep and feature
    /// importance, the workers their items keep busy on average), never more than the wall time measured. Stages
    /// without a CPU figure keep their wall time. Where a stage waits on storage rather than on the cores, this is
    /// too low by the waiting.
    /// </summary>
    public static PipelineMeasurement WithoutContention(PipelineMeasurement measured, IReadOnlyDictionary<string, double> cpuSeconds) => measured with
    {
        StageSeconds = measured.StageSeconds.ToDictionary(s => s.Key, s => cpuSeconds.TryGetValue(s.Key, out var cpu) && double.IsFinite(cpu)
            ? Math.Min(s.Value, cpu / BusyCores(measured, s.Key)) : s.Value, StringComparer.Ordinal),
    };

    /// <summary>The cores a stage keeps busy on average with the measured threads, with no one else on them.</summary>
    static double BusyCores(PipelineMeasurement measured, string stage)
    {
        static double Average(IReadOnlyList<double> items, int workers) => Makespan(items, workers) is > 0 and var span ? items.Sum() / span : 1;
        return ScalingOf(stage) switch
        {
            StageScaling.ExamsOverCores => measured.Threads,
            StageScaling.StreamsOverCores => Average(measured.StreamSeconds, measured.Threads),
            StageScaling.ValidationSampleOverModels => Average([.. Enumerable.Repeat(1.0, measured.ImportanceModels)], measured.Threads),
            _ => 1,
        };
    }

    /// <summary>The whole pipeline's expected seconds: the sum of its stages.</summary>
    public static double TotalSeconds(PipelineMeasurement measured, long exams, int cores) =>
        measured.StageSeconds.Keys.Sum(stage => StageSeconds(measured, stage, exams, cores));

    /// <summary>How much shorter the items' makespan is on <paramref name="cores"/> workers than on <paramref name="measuredOn"/>
    /// (below 1 with more cores); 1 when the items took no time.</summary>
    static double ParallelTimeRatio(IReadOnlyList<double> items, int measuredOn, int cores) =>
        Makespan(items, measuredOn) is > 0 and var before ? Makespan(items, cores) / before : 1;

    static double ImportanceExams(PipelineMeasurement measured, long exams) => Math.Min(measured.ValidationShare * exams, ImportanceStage.MaxExams);

    /// <summary>
    /// When the last of <paramref name="items"/> ends on <paramref name="workers"/> workers that each take the next
    /// item, in order, as soon as they are free (a parallel loop's schedule, roughly).
    /// </summary>
    public static double Makespan(IReadOnlyList<double> items, int workers)
    {
        if (workers < 1) throw new ArgumentOutOfRangeException(nameof(workers), workers, "at least one worker");
        var free = new double[Math.Min(workers, Math.Max(1, items.Count))];
        foreach (var item in items)
        {
            var next = Array.IndexOf(free, free.Min());
            free[next] += item;
        }
        return free.Max();
    }
}
