using System.Diagnostics;
using System.Text.Json;
using CodeII.Experiments.Cluster;
using CodeII.Experiments.Tests.Experiments;
using Xunit.Abstractions;

namespace CodeII.Experiments.Tests.Cluster;

/// <summary>
/// A private one-node Slurm cluster (Debian's slurm-wlm and munge: munged, slurmctld and slurmd on localhost), started
/// by <c>scripts/slurm-cluster.sh</c> for these tests and stopped after them, with every job it ran cancelled.
/// </summary>
public sealed class SlurmClusterFixture : IDisposable
{
    public string Folder { get; } = RepoPaths.NewTemporaryDirectory();
    public string Configuration => Path.Combine(Folder, "slurm.conf");
    public IReadOnlyDictionary<string, string?> Environment => new Dictionary<string, string?> { ["SLURM_CONF"] = Configuration };

    public SlurmClusterFixture()
    {
        var (exit, output) = Script("start", Folder);
        if (exit != 0) throw new InvalidOperationException($"scripts/slurm-cluster.sh start failed (exit {exit}):\n{output}");
    }

    public static (int Exit, string Output) Script(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "scripts", "slurm-cluster.sh"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    /// <summary>A Slurm client command against this cluster.</summary>
    public string Client(string tool, params string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["SLURM_CONF"] = Configuration;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(" ", arguments)}: exit {process.ExitCode}: {stderr}");
        return stdout.Result;
    }

    public void Dispose() => Script("stop", Folder);
}

[Collection(nameof(AloneCollection))]
public class SlurmExecutorTests(SlurmClusterFixture cluster, ITestOutputHelper output) : IClassFixture<SlurmClusterFixture>
{
    // Enough trials per stream (a few seconds each) that a stream can be caught running and cancelled midway.
    const string Definition = """
        name: slurm_small
        seed: 7
        dataset: { kind: synthetic, exams: 600 }
        splits: { train: 0.6, validation: 0.2 }
        label_subsets: { code3: [1dAVb, RBBB, AF] }
        features: [basic]
        learners:
          lightgbm: {}
          logistic_regression: { trials: 2 }
        sweep: { trials: 40 }
        evaluation: { bootstrap_replicates: 200 }
        """;

    (int Exit, string StdOut, string StdErr) Codeii(string dir, params string[] args)
    {
        var (process, stdout, stderr) = CliTests.StartCodeii(dir, cluster.Environment, args);
        using (process)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(10)), $"codeii {string.Join(" ", args)} did not finish in 10 minutes");
            output.WriteLine($"$ codeii {string.Join(" ", args)} → exit {process.ExitCode}\n{stdout.Result}{stderr.Result}");
            return (process.ExitCode, stdout.Result, stderr.Result);
        }
    }

    static UnitStatus[] Units(string json) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty("units").EnumerateArray().Select(u => u.Deserialize<UnitStatus>(JsonConventions.Options)!)];

    [Fact]
    public void A_cancelled_array_task_is_resubmitted_alone_and_the_metrics_equal_a_local_run()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "small.yaml"), Definition);
        var local = Codeii(dir, "run", "small.yaml", "--runs", "local", "--max-threads", "2", "--no-cache");
        Assert.Equal(0, local.Exit);

        var submitted = Codeii(dir, "run", "small.yaml", "--runs", "slurm", "--executor", "slurm", "--shard-size", "250", "--max-threads", "1");
        Assert.Equal(0, submitted.Exit);
        var run = submitted.StdOut.TrimEnd().Split('\n')[^1].Trim();
        Assert.True(Directory.Exists(run), $"the last line names the run folder: {run}");
        var plan = ClusterPlan.Read(Runs.RunFolder.Open(run));
        Assert.Equal(3, plan.Shards);
        // Three labels with two tuned learners, then the prior of each label: six streams.
        Assert.Equal(["basic|1dAVb", "basic|RBBB", "basic|AF", "prior|1dAVb", "prior|RBBB", "prior|AF"], plan.Streams);

        // Catch a tuned stream running with some of its trials logged, and cancel that array task.
        string? cancelled = null;
        int cancelledStream = -1, trialsBeforeCancel = 0;
        var deadline = DateTime.UtcNow.AddMinutes(8);
        while (cancelled is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no sweep task was seen running with trials logged");
            var units = Units(Codeii(dir, "status", run, "--json").StdOut);
            foreach (var unit in units.Where(u => u is { Kind: "sweep", State: ClusterStatus.Running, Index: < 3 }))
            {
                var log = Path.Combine(run, ClusterPlan.StreamLog(unit.Index));
                var trials = File.Exists(log) ? File.ReadAllLines(log).Length : 0;
                if (trials is < 1 or > 30) continue;
                cluster.Client("scancel", unit.Job!);
                (cancelled, cancelledStream) = (unit.Job, unit.Index);
                break;
            }
            Thread.Sleep(100);
        }
        output.WriteLine($"cancelled {cancelled} (stream {plan.Streams[cancelledStream]})");

        // The rest of the array goes on; the finish job, which depended on it, is cancelled with it.
        UnitStatus[] after;
        do
        {
            Thread.Sleep(1000);
            Assert.True(DateTime.UtcNow < deadline.AddMinutes(2), "the run's jobs did not leave the queue");
            after = Units(Codeii(dir, "status", run, "--json").StdOut);
        }
        while (after.Any(u => u.State is ClusterStatus.Running or ClusterStatus.Pending));
        Assert.False(File.Exists(Path.Combine(run, ClusterPlan.StreamDone(cancelledStream))));
        trialsBeforeCancel = File.ReadAllLines(Path.Combine(run, ClusterPlan.StreamLog(cancelledStream))).Length;
        Assert.InRange(trialsBeforeCancel, 1, 39);
        var cancelledUnit = after.Single(u => u.Kind == "sweep" && u.Index == cancelledStream);
        Assert.Equal("cancelled", cancelledUnit.State);
        Assert.NotEqual(ClusterStatus.Done, after.Single(u => u.Kind == "finish").State);
        Assert.All(after.Where(u => u.Kind is "features" or "prepare"), u => Assert.Equal(ClusterStatus.Done, u.State));
        var doneStreams = after.Where(u => u.Kind == "sweep" && u.State == ClusterStatus.Done).Select(u => u.Index).ToArray();
        Assert.Equal(5, doneStreams.Length);
        var table = Codeii(dir, "status", run);
        Assert.Contains($"sweep {cancelledStream} ({plan.Streams[cancelledStream]}): cancelled, job {cancelled}", table.StdOut);
        Assert.Contains($"codeii run --resume {run}", table.StdOut);

        // Finished units are kept as they are: their files are not written again.
        string[] kept = [.. Enumerable.Range(0, 3).Select(k => ClusterPlan.ShardFile("basic", k, "arrow")), .. doneStreams.Select(ClusterPlan.StreamLog)];
        var writtenAt = kept.ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(run, f)));
        var partialLog = File.ReadAllLines(Path.Combine(run, ClusterPlan.StreamLog(cancelledStream)));

        var resumed = Codeii(dir, "run", "--resume", run, "--wait");
        Assert.Equal(0, resumed.Exit);
        var jobs = SlurmExecutor.Jobs(Runs.RunFolder.Open(run));
        var second = jobs.SkipWhile(j => j.Kind != "finish").Skip(1).ToArray();
        Assert.Equal(["sweep", "finish"], second.Select(j => j.Kind));
        Assert.Equal([cancelledStream], second[0].Indices);
        Assert.All(kept, f => Assert.Equal(writtenAt[f], File.GetLastWriteTimeUtc(Path.Combine(run, f))));
        // The cancelled stream went on from its own log: the trials it had are the first of the finished log, unchanged.
        Assert.Equal(partialLog, File.ReadAllLines(Path.Combine(run, ClusterPlan.StreamLog(cancelledStream))).Take(partialLog.Length));

        var localRun = Directory.GetDirectories(Path.Combine(dir, "local", "slurm_small")).Single();
        Assert.Equal(File.ReadAllBytes(Path.Combine(localRun, "metrics.json")), File.ReadAllBytes(Path.Combine(run, "metrics.json")));
        Assert.Equal(File.ReadAllText(Path.Combine(localRun, "predictions.csv")), File.ReadAllText(Path.Combine(run, "predictions.csv")));
        Assert.Contains("complete", Codeii(dir, "status", run).StdOut);
        // Every unit that ran to its end left when it ran and its peak memory (the cancelled task could not).
        var times = UnitTimes.Read(Runs.RunFolder.Open(run));
        Assert.Equal(["features:0", "features:1", "features:2", "finish:0", "prepare:0", .. Enumerable.Range(0, 6).Select(k => $"sweep:{k}")],
            times.Select(t => $"{t.Kind}:{t.Index}").Order(StringComparer.Ordinal));
        Assert.All(times, t => { Assert.True(t.EndedUtc >= t.StartedUtc); Assert.InRange(t.PeakResidentMb, 10, 4096); });
        Assert.Empty(cluster.Client("squeue", "-h").Trim());
    }

    [Fact]
    public void A_dry_run_writes_scripts_that_sbatch_accepts_and_submits_nothing()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "small.yaml"), Definition.Replace("exams: 600", "exams: 120"));
        var dry = Codeii(dir, "run", "small.yaml", "--runs", "runs", "--executor", "slurm", "--dry-run", "--shard-size", "50",
            "--array-parallelism", "2", "--partition", "debug");
        Assert.Equal(0, dry.Exit);
        var run = dry.StdOut.TrimEnd().Split('\n')[^1].Trim();
        var scripts = Path.Combine(run, SlurmExecutor.ScriptsFolder);
        Assert.Equal(["features.sbatch", "finish.sbatch", "prepare.sbatch", "submit.sh", "sweep.sbatch"],
            Directory.GetFiles(scripts).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        // Records 0–49, 50–99, 100–119; six streams; at most two tasks of an array at once.
        Assert.Contains("#SBATCH --array=0-2%2\n", File.ReadAllText(Path.Combine(scripts, "features.sbatch")));
        Assert.Contains("#SBATCH --array=0-5%2\n", File.ReadAllText(Path.Combine(scripts, "sweep.sbatch")));
        Assert.Contains("#SBATCH --partition=debug\n", File.ReadAllText(Path.Combine(scripts, "prepare.sbatch")));
        Assert.False(File.Exists(Path.Combine(run, SlurmExecutor.JobsFile)));
        // Slurm's own reading of each script: --test-only parses it and says where it would run, submitting nothing.
        foreach (var script in Directory.GetFiles(scripts, "*.sbatch"))
        {
            var start = new ProcessStartInfo("sbatch") { RedirectStandardError = true, RedirectStandardOutput = true };
            start.Environment["SLURM_CONF"] = cluster.Configuration;
            start.ArgumentList.Add("--test-only");
            start.ArgumentList.Add(script);
            using var process = Process.Start(start)!;
            var said = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"sbatch --test-only {Path.GetFileName(script)}: {said}");
            Assert.Contains("to start at", said);
        }
        Assert.Empty(cluster.Client("squeue", "-h").Trim());
        var status = Codeii(dir, "status", run, "--json");
        Assert.All(Units(status.StdOut), u => Assert.Equal(ClusterStatus.NotSubmitted, u.State));

        // A run that trains a network gets a job of its own for it, and only that job asks for GPUs.
        File.WriteAllText(Path.Combine(dir, "net.yaml"), Definition.Replace("exams: 600", "exams: 120").Replace("features: [basic]",
            "features: [basic, learned]\npretrain: { model: small, epochs: 1 }"));
        var withNetwork = Codeii(dir, "run", "net.yaml", "--runs", "runs", "--executor", "slurm", "--dry-run", "--gpus-per-task", "2");
        Assert.Equal(0, withNetwork.Exit);
        var networkScripts = Path.Combine(withNetwork.StdOut.TrimEnd().Split('\n')[^1].Trim(), SlurmExecutor.ScriptsFolder);
        Assert.Contains("#SBATCH --gpus-per-task=2\n", File.ReadAllText(Path.Combine(networkScripts, "network.sbatch")));
        Assert.Contains(" task network ", File.ReadAllText(Path.Combine(networkScripts, "network.sbatch")));
        Assert.All(Directory.GetFiles(networkScripts, "*.sbatch").Where(f => !f.EndsWith("network.sbatch")),
            f => Assert.DoesNotContain("--gpus", File.ReadAllText(f)));
        // submit.sh chains them in the plan's order.
        var chain = File.ReadAllText(Path.Combine(networkScripts, "submit.sh"));
        Assert.True(chain.IndexOf("prepare.sbatch") < chain.IndexOf("network.sbatch") && chain.IndexOf("network.sbatch") < chain.IndexOf("sweep.sbatch"));

        // A resume keeps the plan's settings; asking for others is a usage error.
        var changed = Codeii(dir, "run", "--resume", run, "--partition", "other", "--dry-run");
        Assert.Equal(2, changed.Exit);
        Assert.Contains("keeps the settings it started with", changed.StdErr);
    }

    [Fact]
    public void Resuming_a_run_whose_jobs_are_queued_is_refused()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        File.WriteAllText(Path.Combine(dir, "small.yaml"), Definition.Replace("exams: 600", "exams: 120"));
        // The run's finish job waits for all its sweep's streams, some seconds at least.
        try
        {
            var submitted = Codeii(dir, "run", "small.yaml", "--runs", "runs", "--executor", "slurm");
            Assert.Equal(0, submitted.Exit);
            var run = submitted.StdOut.TrimEnd().Split('\n')[^1].Trim();
            var resumed = Codeii(dir, "run", "--resume", run);
            Assert.Equal(1, resumed.Exit);
            Assert.Contains("still queued or running", resumed.StdErr);
            Assert.Contains("scancel", resumed.StdErr);
        }
        finally
        {
            cluster.Client("scancel", "--user", Environment.UserName);
        }
    }
}
