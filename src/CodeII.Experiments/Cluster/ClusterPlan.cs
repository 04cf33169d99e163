using System.Globalization;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Cluster;

/// <summary>
/// How a run is cut into cluster jobs, kept in the run folder (<c>cluster/plan.json</c>) so every job, a resume and
/// <c>codeii status</c> read the same cut. Plain data: the executor's settings and the units of work.
/// </summary>
public sealed record ClusterPlan
{
    public const string Folder = "cluster";
    public const string File = "cluster/plan.json";
    public const string SlurmExecutor = "slurm";
    public const int DefaultShardSize = 10_000;

    public required string Executor { get; init; }
    /// <summary>Records in the source; shard k reads records k·ShardSize up to the next shard's first.</summary>
    public required int Records { get; init; }
    public required int ShardSize { get; init; }
    /// <summary>The record-based feature sets every shard extracts (<c>metadata</c> when every set is learned).</summary>
    public required IReadOnlyList<string> FeatureSets { get; init; }
    /// <summary>The sweep's streams, in the order the sweep runs them; task k sweeps stream k.</summary>
    public required IReadOnlyList<string> Streams { get; init; }
    /// <summary>Whether the run trains a network (its own job, with GPUs when asked).</summary>
    public required bool TrainsNetwork { get; init; }
    /// <summary>Where the jobs share extracted features and embeddings: the feature cache, or the run's own.</summary>
    public required string FeatureCache { get; init; }
    /// <summary>Threads (and CPUs asked of Slurm) per task.</summary>
    public required int CpusPerTask { get; init; }
    public string? Partition { get; init; }
    public int GpusPerTask { get; init; }
    /// <summary>How many tasks of one array may run at once (Slurm's <c>%K</c>); 0 leaves it to the scheduler.</summary>
    public int ArrayParallelism { get; init; }
    /// <summary>The program and its first arguments that run <c>codeii</c> on the cluster's nodes.</summary>
    public required IReadOnlyList<string> Command { get; init; }
    /// <summary>The folder jobs start in, where relative paths of the definition (a dataset path) resolve.</summary>
    public required string WorkingDirectory { get; init; }

    public int Shards => Math.Max(1, (Records + ShardSize - 1) / ShardSize);

    public (int First, int Count) ShardRange(int shard)
    {
        var first = shard * ShardSize;
        return (first, Math.Min(ShardSize, Records - first));
    }

    /// <summary>The stage a session runs through before the sweep: the split, or the network's embeddings.</summary>
    public string PrepareThrough => TrainsNetwork ? NetworkThrough : "split";
    public const string NetworkThrough = "embeddings";

    public static ClusterPlan For(ExperimentDefinition definition, int records, ClusterSettings settings, RunFolder folder) => new()
    {
        Executor = settings.Executor,
        Records = records,
        ShardSize = settings.ShardSize,
        FeatureSets = [.. FeaturesStage.RecordExtractors(definition).Select(e => e.Name)],
        Streams = [.. SweepStage.Streams(definition).Select(s => s.Name)],
        TrainsNetwork = definition.Pretrain is not null,
        FeatureCache = Path.GetFullPath(settings.FeatureCache ?? folder.FileIn(Path.Combine(Folder, "cache"))),
        CpusPerTask = settings.CpusPerTask,
        Partition = settings.Partition,
        GpusPerTask = settings.GpusPerTask,
        ArrayParallelism = settings.ArrayParallelism,
        Command = settings.Command,
        WorkingDirectory = Path.GetFullPath(settings.WorkingDirectory),
    };

    public static bool IsClusterRun(RunFolder folder) => System.IO.File.Exists(folder.FileIn(File));

    public static ClusterPlan Read(RunFolder folder) => JsonConventions.ReadFile<ClusterPlan>(folder.FileIn(File));

    public void Write(RunFolder folder)
    {
        Directory.CreateDirectory(folder.FileIn(Folder));
        folder.WriteJson(File, this);
    }

    /// <summary>The options every task of this plan runs with.</summary>
    public RunOptions RunOptions(IProgress<StageProgress>? progress) => new()
    {
        MaxThreads = CpusPerTask, FeatureCacheDirectory = FeatureCache, Progress = progress,
    };

    // Where each unit leaves its result: a unit is done when its file is there (each is written atomically).
    public static string ShardFile(string featureSet, int shard, string extension) =>
        Path.Combine(Folder, "features", featureSet, $"shard-{shard.ToString("D5", CultureInfo.InvariantCulture)}.{extension}");
    public static string StreamLog(int stream) => Path.Combine(Folder, "sweep", $"stream-{stream.ToString("D4", CultureInfo.InvariantCulture)}.jsonl");
    public static string UnitTimes(string kind, int index) => Path.Combine(Folder, "times", $"{kind}-{index.ToString("D5", CultureInfo.InvariantCulture)}.json");
    public static string StreamDone(int stream) => Path.Combine(Folder, "sweep", $"stream-{stream.ToString("D4", CultureInfo.InvariantCulture)}.done");
}

/// <summary>What the user asked of a cluster run (<c>codeii run --executor slurm …</c>).</summary>
public sealed record ClusterSettings
{
    public string Executor { get; init; } = ClusterPlan.SlurmExecutor;
    public int ShardSize { get; init; } = ClusterPlan.DefaultShardSize;
    public string? FeatureCache { get; init; }
    public int CpusPerTask { get; init; } = 1;
    public string? Partition { get; init; }
    public int GpusPerTask { get; init; }
    public int ArrayParallelism { get; init; }
    public required IReadOnlyList<string> Command { get; init; }
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;
}

/// <summary>Which units of a cluster run are done, read from the run folder alone.</summary>
public sealed record ClusterProgress(ClusterPlan Plan, bool[] Shards, bool Prepared, bool NetworkDone, bool[] Streams, bool Finished)
{
    public static ClusterProgress Of(RunFolder folder, ClusterPlan plan)
    {
        var done = new RunEvents(folder).Read().Where(e => e.Event == RunEvent.StageDone).Select(e => e.Stage).ToHashSet(StringComparer.Ordinal);
        return new ClusterProgress(plan,
            [.. Enumerable.Range(0, plan.Shards).Select(k => plan.FeatureSets.All(set => System.IO.File.Exists(folder.FileIn(ClusterPlan.ShardFile(set, k, "hashes")))))],
            done.Contains("split"),
            !plan.TrainsNetwork || done.Contains(ClusterPlan.NetworkThrough),
            [.. Enumerable.Range(0, plan.Streams.Count).Select(k => System.IO.File.Exists(folder.FileIn(ClusterPlan.StreamDone(k))))],
            folder.IsFinished);
    }

    public static IReadOnlyList<int> Missing(bool[] done) => [.. Enumerable.Range(0, done.Length).Where(k => !done[k])];
}

/// <summary>When a unit's task ran and the most memory its process held: written by the task as it ends, for
/// <c>codeii bench pipeline --executor slurm</c> and anyone sizing a cluster's jobs.</summary>
public sealed record UnitTimes(string Kind, int Index, DateTime StartedUtc, DateTime EndedUtc, double PeakResidentMb, string? Host)
{
    public double Seconds => (EndedUtc - StartedUtc).TotalSeconds;

    public static IReadOnlyList<UnitTimes> Read(RunFolder folder)
    {
        var times = folder.FileIn(Path.Combine(ClusterPlan.Folder, "times"));
        return Directory.Exists(times)
            ? [.. Directory.GetFiles(times, "*.json").Order(StringComparer.Ordinal).Select(JsonConventions.ReadFile<UnitTimes>)]
            : [];
    }
}
