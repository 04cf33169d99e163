using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Cluster;

/// <summary>
/// A run on a cluster: the run folder is made here, as for a run on one machine, with the plan that cuts it into
/// jobs; the jobs do the stages. Resuming submits again only the units that are not done.
/// </summary>
public static class ClusterRun
{
    public sealed record Submission(RunFolder Folder, IReadOnlyList<SubmittedJob> Jobs, IReadOnlyList<string> Scripts);

    public static Submission Start(ExperimentDefinition definition, string definitionText, string definitionPath, ClusterSettings settings,
        RunOptions options, bool dryRun)
    {
        if (definition.Transfer is not null)
            throw new ArgumentException("the Slurm executor runs single experiments; a transfer definition runs on one machine (codeii run without --executor)");
        if (settings.ShardSize < 1) throw new ArgumentException("the shard size must be at least 1 record");
        // Opened before the folder is made, as for a local run: data that cannot be opened leave no empty run folder.
        var source = Datasets.CreateSource(definition);
        RunFolder folder;
        int records;
        using (source as IDisposable) (folder, records) = (ExperimentRunner.Create(definition, definitionText, definitionPath, source, options), source.Count);
        ClusterPlan.For(definition, records, settings, folder).Write(folder);
        var (jobs, scripts) = SlurmExecutor.Submit(folder, dryRun);
        return new Submission(folder, jobs, scripts);
    }

    /// <summary>Submits the units of an interrupted cluster run that are not done; refused while any of its jobs is queued.</summary>
    public static Submission Resume(RunFolder folder, bool dryRun)
    {
        var queued = ClusterStatus.Of(folder).Where(u => u.State is ClusterStatus.Running or ClusterStatus.Pending).ToArray();
        if (queued.Length > 0)
            throw new ClusterException($"{folder.Path}: {queued.Length} of its units are still queued or running ({string.Join(", ", queued.Take(5).Select(u => $"{u.Kind} {u.Index}: job {u.Job}"))}"
                + $"{(queued.Length > 5 ? ", …" : "")}); wait for them (codeii status {folder.Path}) or scancel them, then resume");
        var (jobs, scripts) = SlurmExecutor.Submit(folder, dryRun);
        return new Submission(folder, jobs, scripts);
    }

    /// <summary>Waits until the run is finished or none of its units is queued any more, telling each change of the counts.</summary>
    /// <returns>Whether the run finished.</returns>
    public static bool Wait(RunFolder folder, Action<IReadOnlyList<UnitStatus>> changed, TimeSpan poll, CancellationToken cancellationToken)
    {
        string? last = null;
        while (true)
        {
            var units = ClusterStatus.Of(folder);
            var summary = string.Join(",", units.Select(u => u.State));
            if (summary != last) changed(units);
            last = summary;
            if (folder.IsFinished) return true;
            if (!ClusterStatus.AnyQueued(units)) return false;
            Task.Delay(poll, cancellationToken).Wait(cancellationToken);
        }
    }
}
