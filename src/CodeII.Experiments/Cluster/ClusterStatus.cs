using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Cluster;

/// <summary>One unit of a cluster run and where it stands: done, running, pending, failed, cancelled or waiting to be submitted.</summary>
public sealed record UnitStatus(string Kind, int Index, string What, string State, string? Job = null, string? Reason = null);

/// <summary>
/// Where a cluster run stands, unit by unit: done from the run folder (each unit's result file), running or pending
/// from <c>squeue</c>, and failed or cancelled from <c>scontrol</c> for jobs that left the queue (Slurm keeps them
/// there for <c>MinJobAge</c>, 300 s by default). <c>sacct</c> would need an accounting database, which many clusters
/// (and a one-node test cluster) do not run; a unit that is neither done nor known to Slurm any more is reported as
/// gone, which a resume submits again.
/// </summary>
public static class ClusterStatus
{
    public const string Done = "done";
    public const string Running = "running";
    public const string Pending = "pending";
    public const string Gone = "gone";
    public const string NotSubmitted = "not submitted";

    public static IReadOnlyList<UnitStatus> Of(RunFolder folder, bool askScheduler = true)
    {
        var plan = ClusterPlan.Read(folder);
        var progress = ClusterProgress.Of(folder, plan);
        var jobs = SlurmExecutor.Jobs(folder);
        var queue = askScheduler && jobs.Count > 0 ? Queue() : new Dictionary<string, (string State, string Reason)>();
        var ended = new Dictionary<string, Dictionary<string, string>>();

        UnitStatus Unit(string kind, int index, string what, bool done)
        {
            if (done) return new(kind, index, what, Done);
            var isArray = kind is "features" or "sweep";
            var job = jobs.LastOrDefault(j => j.Kind == kind && (!isArray || j.Indices?.Contains(index) == true));
            if (job is null) return new(kind, index, what, NotSubmitted);
            var id = isArray ? $"{job.JobId}_{index}" : job.JobId;
            if (queue.TryGetValue(id, out var queued))
                // Anything queued but not pending (configuring, completing) holds a node: running.
                return new(kind, index, what, queued.State == "PENDING" ? Pending : Running, id, queued.Reason is "None" or "" ? null : queued.Reason);
            if (!askScheduler) return new(kind, index, what, Gone, id);
            if (!ended.TryGetValue(job.JobId, out var states)) ended[job.JobId] = states = EndedStates(job.JobId);
            var state = states.GetValueOrDefault(isArray ? index.ToString(System.Globalization.CultureInfo.InvariantCulture) : "");
            // A job that completed but left no result (its process was killed between) is as good as gone.
            return new(kind, index, what, state is null or "COMPLETED" ? Gone : state.ToLowerInvariant(), id);
        }

        var units = new List<UnitStatus>();
        for (var k = 0; k < plan.Shards; k++)
        {
            var (first, count) = plan.ShardRange(k);
            units.Add(Unit("features", k, $"records {first}–{first + count - 1}", progress.Shards[k] || progress.Prepared));
        }
        units.Add(Unit("prepare", 0, "merge features, split by patient", progress.Prepared));
        if (plan.TrainsNetwork) units.Add(Unit("network", 0, "train the network, compute embeddings", progress.NetworkDone));
        for (var k = 0; k < plan.Streams.Count; k++) units.Add(Unit("sweep", k, plan.Streams[k], progress.Streams[k]));
        units.Add(Unit("finish", 0, "models, predictions, evaluation, report", progress.Finished));
        return units;
    }

    /// <summary>This user's queued jobs and array tasks by id (<c>123</c> or <c>123_4</c>), with state and reason.</summary>
    static Dictionary<string, (string State, string Reason)> Queue()
    {
        var output = SlurmExecutor.Run("squeue", ["-h", "-r", "-u", Environment.UserName, "-o", "%i|%T|%r"]);
        var queue = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (line.Split('|') is [var id, var state, var reason]) queue[id] = (state, reason);
        return queue;
    }

    /// <summary>The final states Slurm still remembers of a job that left the queue, by array task ("" for a plain job).</summary>
    static Dictionary<string, string> EndedStates(string jobId)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        string output;
        try { output = SlurmExecutor.Run("scontrol", ["-o", "show", "job", jobId]); }
        catch (ClusterException) { return states; } // forgotten: older than MinJobAge
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
            if (fields.TryGetValue("JobState", out var state)) states[fields.GetValueOrDefault("ArrayTaskId", "")] = state;
        }
        return states;
    }

    /// <summary>Whether any unit of the run is in the queue (running or pending).</summary>
    public static bool AnyQueued(IReadOnlyList<UnitStatus> units) => units.Any(u => u.State is Running or Pending);
}
