using System.Diagnostics;
using System.Globalization;
using System.Text;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Cluster;

/// <summary>One submission of a unit kind: a job, or a job array over some of the kind's indices.</summary>
public sealed record SubmittedJob(string Kind, string JobId, IReadOnlyList<int>? Indices, DateTime SubmittedUtc);

/// <summary>
/// Runs a cluster plan on Slurm: writes one <c>sbatch</c> script per kind of unit into <c>cluster/slurm/</c> and submits
/// what is not done yet, each kind after the one before it (<c>--dependency=afterok</c>, with
/// <c>--kill-on-invalid-dep=yes</c> so a failed task cancels what waits on it instead of leaving it pending forever).
/// The kinds, in order: <c>features</c> (an array over record shards), <c>prepare</c> (merge and split),
/// <c>network</c> (when the run trains one), <c>sweep</c> (an array over streams) and <c>finish</c>.
/// </summary>
public static class SlurmExecutor
{
    public const string ScriptsFolder = "cluster/slurm";
    public const string JobsFile = "cluster/jobs.json";
    public static readonly IReadOnlyList<string> Kinds = ["features", "prepare", "network", "sweep", "finish"];

    /// <summary>The units each kind still has to do: indices for the arrays, one unit (index 0) for the single jobs.</summary>
    public static IReadOnlyList<(string Kind, IReadOnlyList<int> Indices)> Pending(ClusterProgress progress)
    {
        var plan = progress.Plan;
        var pending = new List<(string, IReadOnlyList<int>)>();
        if (progress.Finished) return pending;
        // Merged features in the cache make the shards unnecessary once the split is done.
        if (!progress.Prepared && ClusterProgress.Missing(progress.Shards) is { Count: > 0 } shards) pending.Add(("features", shards));
        if (!progress.Prepared) pending.Add(("prepare", [0]));
        if (plan.TrainsNetwork && !progress.NetworkDone) pending.Add(("network", [0]));
        if (ClusterProgress.Missing(progress.Streams) is { Count: > 0 } streams) pending.Add(("sweep", streams));
        pending.Add(("finish", [0]));
        return pending;
    }

    /// <summary>Writes the scripts for what is pending and, unless <paramref name="dryRun"/>, submits them in order.</summary>
    /// <returns>The jobs submitted (none on a dry run) and the scripts written.</returns>
    public static (IReadOnlyList<SubmittedJob> Jobs, IReadOnlyList<string> Scripts) Submit(RunFolder folder, bool dryRun)
    {
        var plan = ClusterPlan.Read(folder);
        var pending = Pending(ClusterProgress.Of(folder, plan));
        Directory.CreateDirectory(folder.FileIn(Path.Combine(ScriptsFolder, "logs")));
        var scripts = pending.Select(p => (p.Kind, p.Indices, Path: folder.FileIn(Path.Combine(ScriptsFolder, $"{p.Kind}.sbatch")))).ToArray();
        foreach (var (kind, indices, path) in scripts) AtomicFile.WriteText(path, Script(folder, plan, kind, indices));
        var chain = folder.FileIn(Path.Combine(ScriptsFolder, "submit.sh"));
        AtomicFile.WriteText(chain, SubmitScript(scripts.Select(s => s.Kind).ToArray()));
        if (!OperatingSystem.IsWindows()) foreach (var path in scripts.Select(s => s.Path).Append(chain)) File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        if (dryRun) return ([], [.. scripts.Select(s => s.Path), chain]);

        var submitted = new List<SubmittedJob>();
        string? previous = null;
        foreach (var (kind, indices, path) in scripts)
        {
            string[] arguments = ["--parsable", .. previous is null ? Array.Empty<string>() : [$"--dependency=afterok:{previous}"], path];
            var output = Run("sbatch", arguments).Trim();
            // --parsable prints "jobid" or "jobid;cluster".
            var jobId = output.Split(';')[0];
            if (!long.TryParse(jobId, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                throw new ClusterException($"sbatch {path}: expected a job id, got '{output}'");
            var job = new SubmittedJob(kind, jobId, kind is "features" or "sweep" ? indices : null, DateTime.UtcNow);
            submitted.Add(job);
            // Recorded one at a time, so a failure halfway still leaves the jobs already queued on record.
            folder.WriteJson(JobsFile, Jobs(folder).Append(job).ToArray());
            previous = jobId;
        }
        return (submitted, [.. scripts.Select(s => s.Path), chain]);
    }

    /// <summary>Every job this run has submitted, oldest first.</summary>
    public static IReadOnlyList<SubmittedJob> Jobs(RunFolder folder) =>
        File.Exists(folder.FileIn(JobsFile)) ? JsonConventions.ReadFile<SubmittedJob[]>(folder.FileIn(JobsFile)) : [];

    static string Script(RunFolder folder, ClusterPlan plan, string kind, IReadOnlyList<int> indices)
    {
        var isArray = kind is "features" or "sweep";
        var experiment = Path.GetFileName(Path.GetDirectoryName(folder.Path)) ?? "run";
        var logs = folder.FileIn(Path.Combine(ScriptsFolder, "logs"));
        var text = new StringBuilder("#!/bin/bash\n")
            .Append(CultureInfo.InvariantCulture, $"# codeii {kind} for {folder.Path}, written by `codeii run --executor slurm`.\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --job-name=codeii-{kind}-{experiment}\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --chdir={plan.WorkingDirectory}\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={plan.CpusPerTask}\n")
            .Append(CultureInfo.InvariantCulture, $"#SBATCH --output={logs}/{kind}-%A{(isArray ? "_%a" : "")}.out\n")
            .Append("#SBATCH --kill-on-invalid-dep=yes\n");
        if (plan.Partition is { } partition) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --partition={partition}\n");
        if (kind == "network" && plan.GpusPerTask > 0) text.Append(CultureInfo.InvariantCulture, $"#SBATCH --gpus-per-task={plan.GpusPerTask}\n");
        if (isArray)
            text.Append(CultureInfo.InvariantCulture, $"#SBATCH --array={ArraySpec(indices)}{(plan.ArrayParallelism > 0 ? $"%{plan.ArrayParallelism}" : "")}\n");
        text.Append("set -euo pipefail\n")
            .Append("exec ").Append(string.Join(" ", plan.Command.Select(Quote))).Append(" task ").Append(kind).Append(' ').Append(Quote(folder.Path));
        if (isArray) text.Append(" --index \"$SLURM_ARRAY_TASK_ID\"");
        return text.Append('\n').ToString();
    }

    /// <summary>The chain a dry run leaves for the user to submit by hand: each script after the one before it.</summary>
    static string SubmitScript(IReadOnlyList<string> kinds)
    {
        var text = new StringBuilder("#!/bin/bash\n# Submits this run's jobs in order, each after the one before it succeeds.\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\nprevious=\n");
        foreach (var kind in kinds)
            text.Append(CultureInfo.InvariantCulture, $"previous=$(sbatch --parsable ${{previous:+--dependency=afterok:$previous}} {kind}.sbatch | cut -d';' -f1)\necho \"{kind}: job $previous\"\n");
        return text.ToString();
    }

    /// <summary>Slurm's array syntax: runs of consecutive indices as ranges (0-9,12,15-17).</summary>
    public static string ArraySpec(IReadOnlyList<int> indices)
    {
        var parts = new List<string>();
        for (var i = 0; i < indices.Count;)
        {
            var j = i;
            while (j + 1 < indices.Count && indices[j + 1] == indices[j] + 1) j++;
            parts.Add(j == i ? $"{indices[i]}" : $"{indices[i]}-{indices[j]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    static string Quote(string argument) => "'" + argument.Replace("'", "'\\''") + "'";

    /// <summary>Runs a Slurm client command and returns what it printed; its failure is an error that says what it said.</summary>
    public static string Run(string tool, IReadOnlyList<string> arguments)
    {
        // Slurm's clients retry a missing configuration file for a minute before they say so.
        if (Environment.GetEnvironmentVariable("SLURM_CONF") is { Length: > 0 } configuration && !File.Exists(configuration))
            throw new ClusterException($"SLURM_CONF names {configuration}, which does not exist: point it at the cluster's slurm.conf " +
                "(scripts/slurm-cluster.sh start <folder> prints the one of a one-node cluster), or unset it to use the system's");
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new ClusterException($"{tool} was not found: the Slurm executor runs where Slurm's client commands are (a cluster's login node; " +
                "Debian: apt-get install slurm-client). scripts/slurm-cluster.sh starts a one-node cluster on this machine to try it");
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new ClusterException($"{tool} {string.Join(" ", arguments)} failed (exit {process.ExitCode}): {stderr.Trim()}");
            return stdout.Result;
        }
    }
}

/// <summary>The scheduler refused or could not be asked; its message says why.</summary>
public sealed class ClusterException(string message) : Exception(message);
