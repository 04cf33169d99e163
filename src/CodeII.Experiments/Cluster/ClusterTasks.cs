using System.Text;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Cluster;

/// <summary>
/// The units of work a cluster run is cut into, each run by one job (or array task) on the run folder: a features
/// shard, the preparation (merged features and the split), the network, one sweep stream, and the finish (models,
/// predictions, evaluation and the report). Each leaves its result atomically, so a unit that is done is never redone,
/// and a unit killed midway starts again, or, for a stream, replays its own trial log.
/// </summary>
public static class ClusterTasks
{
    /// <summary>Extracts shard <paramref name="shard"/> of every record-based feature set into the run folder.</summary>
    public static string ExtractShard(string runFolder, int shard, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        var (folder, plan, definition) = Open(runFolder);
        if (shard < 0 || shard >= plan.Shards) throw new ArgumentException($"shard {shard} is not in this run's plan (shards 0–{plan.Shards - 1})");
        var (first, count) = plan.ShardRange(shard);
        var ecgSource = Datasets.CreateSource(definition);
        using var disposeSource = ecgSource as IDisposable;
        if (ecgSource.Count != plan.Records)
            throw new InvalidDataException($"{folder.Path}: the dataset has {ecgSource.Count} records now, {plan.Records} when the run was planned; the data changed, start a new run");
        var written = new List<string>();
        foreach (var extractor in FeaturesStage.RecordExtractors(definition))
        {
            var hashes = folder.FileIn(ClusterPlan.ShardFile(extractor.Name, shard, "hashes"));
            if (File.Exists(hashes)) continue;
            var part = FeatureTableBuilder.ExtractShard(ecgSource, first, count, extractor, plan.CpusPerTask, progress, cancellationToken, definition.Dataset.SkipBadRecords);
            Directory.CreateDirectory(Path.GetDirectoryName(hashes)!);
            FeatureTableFiles.WriteArrow(part.Table, folder.FileIn(ClusterPlan.ShardFile(extractor.Name, shard, "arrow")));
            // Written last: the shard counts as done once its hashes are there.
            AtomicFile.WriteBytes(hashes, [.. part.RecordHashes.SelectMany(h => h)]);
            written.Add(extractor.Name);
        }
        return written.Count == 0 ? $"shard {shard}: done before" : $"shard {shard}: records {first}–{first + count - 1}, {string.Join(", ", written)}";
    }

    /// <summary>
    /// Merges every set's shards in order into the feature cache, under the key a one-machine run would use (so the
    /// features stage reads them as a cache hit), then runs the plan through the split.
    /// </summary>
    public static void Prepare(string runFolder, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        var (folder, plan, definition) = Open(runFolder);
        var options = plan.RunOptions(progress);
        var cache = new FeatureCache(plan.FeatureCache);
        var source = Datasets.CreateSource(definition);
        using (source as IDisposable)
            foreach (var extractor in FeaturesStage.RecordExtractors(definition))
            {
                var key = FeatureCache.Key(source, extractor, definition.Dataset.SkipBadRecords, definition.Dataset.Path);
                if (cache.TryLoad(key, extractor) is not null) continue;
                var shards = Enumerable.Range(0, plan.Shards).Select(k => ReadShard(folder, extractor.Name, k)).ToArray();
                cache.Save(key, FeatureTableBuilder.Combine(shards));
            }
        ExperimentRunner.ResumeThrough(folder.Path, "split", options, cancellationToken);
    }

    /// <summary>Trains the network and computes its embeddings (the plan through the embeddings stage).</summary>
    public static void TrainNetwork(string runFolder, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        var (folder, plan, _) = Open(runFolder);
        if (!plan.TrainsNetwork) throw new ArgumentException($"{folder.Path}: this run trains no network");
        ExperimentRunner.ResumeThrough(folder.Path, ClusterPlan.NetworkThrough, plan.RunOptions(progress), cancellationToken);
    }

    /// <summary>Sweeps stream <paramref name="stream"/> into its own trial log, and marks it done.</summary>
    public static string SweepStream(string runFolder, int stream, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        var (folder, plan, _) = Open(runFolder);
        if (stream < 0 || stream >= plan.Streams.Count) throw new ArgumentException($"stream {stream} is not in this run's plan (streams 0–{plan.Streams.Count - 1})");
        var name = plan.Streams[stream];
        if (File.Exists(folder.FileIn(ClusterPlan.StreamDone(stream)))) return $"stream {stream} ({name}): done before";
        ExperimentRunner.SweepStreams(folder.Path, new HashSet<string>(StringComparer.Ordinal) { name }, ClusterPlan.StreamLog(stream), plan.RunOptions(progress), cancellationToken);
        var trials = TrialLog.Read(folder.FileIn(ClusterPlan.StreamLog(stream))).Count;
        folder.WriteText(ClusterPlan.StreamDone(stream), $"{name}\n{trials} trials\n");
        return $"stream {stream} ({name}): {trials} trials";
    }

    /// <summary>
    /// Gathers the streams' trial logs into the run's trial log, in the order a one-machine sweep lists them, and runs
    /// the rest of the plan: the sweep replays every trial and refits each selected model, then models, predictions,
    /// evaluation and the report follow as in any run.
    /// </summary>
    public static RunResult Finish(string runFolder, IProgress<StageProgress>? progress, CancellationToken cancellationToken)
    {
        var (folder, plan, _) = Open(runFolder);
        if (folder.IsFinished) return ExperimentRunner.Finished(folder);
        var missing = Enumerable.Range(0, plan.Streams.Count).Where(k => !File.Exists(folder.FileIn(ClusterPlan.StreamDone(k)))).ToArray();
        if (missing.Length > 0)
            throw new ClusterException($"{folder.Path}: streams {string.Join(", ", missing)} have not finished; resume the run to sweep them");
        var log = new StringBuilder();
        for (var k = 0; k < plan.Streams.Count; k++)
        {
            var path = folder.FileIn(ClusterPlan.StreamLog(k));
            if (File.Exists(path)) log.Append(File.ReadAllText(path));
        }
        folder.WriteText(RunFolder.TrialsFile, log.ToString());
        return ExperimentRunner.Resume(folder.Path, plan.RunOptions(progress), cancellationToken);
    }

    static FeatureShard ReadShard(RunFolder folder, string featureSet, int shard)
    {
        var hashesPath = folder.FileIn(ClusterPlan.ShardFile(featureSet, shard, "hashes"));
        if (!File.Exists(hashesPath)) throw new ClusterException($"{hashesPath}: features shard {shard} has not been extracted; resume the run to extract it");
        var table = FeatureTableFiles.ReadArrow(folder.FileIn(ClusterPlan.ShardFile(featureSet, shard, "arrow")));
        var bytes = File.ReadAllBytes(hashesPath);
        if (bytes.Length != table.RowCount * FeatureShard.HashBytes)
            throw new InvalidDataException($"{hashesPath}: {bytes.Length} bytes for {table.RowCount} records; expected {FeatureShard.HashBytes} per record");
        return new FeatureShard(table, [.. bytes.Chunk(FeatureShard.HashBytes)]);
    }

    static (RunFolder Folder, ClusterPlan Plan, ExperimentDefinition Definition) Open(string runFolder)
    {
        var folder = RunFolder.Open(runFolder);
        if (!ClusterPlan.IsClusterRun(folder)) throw new InvalidDataException($"{folder.Path}: not a cluster run (no {ClusterPlan.File})");
        return (folder, ClusterPlan.Read(folder), ExperimentDefinitionLoader.Read(folder));
    }
}
