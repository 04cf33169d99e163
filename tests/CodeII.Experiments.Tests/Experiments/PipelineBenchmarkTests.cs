using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>The arithmetic of <c>codeii bench pipeline</c>: stage times read back from an event log, the usage
/// samples summarised per stage, and the extrapolation to more exams and cores, each against values worked out by hand.</summary>
public class PipelineBenchmarkTests
{
    static readonly DateTime T0 = new(2026, 12, 2, 10, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void Stage_times_are_read_from_the_events_file_pairing_each_start_with_its_end_and_summing_over_sessions()
    {
        var folder = RunFolder.At(RepoPaths.NewTemporaryDirectory());
        // A run killed during its sweep and resumed: the killed session's unfinished sweep is not counted, its features
        // are; the second session redoes the sweep and runs the rest.
        var lines = new[]
        {
            """{"time_utc":"2026-12-02T10:00:00Z","event":"started"}""",
            """{"time_utc":"2026-12-02T10:00:01.5Z","event":"stage_started","stage":"features"}""",
            """{"time_utc":"2026-12-02T10:01:31.5Z","event":"stage_done","stage":"features","detail":"data sha256:x"}""",
            """{"time_utc":"2026-12-02T10:01:31.5Z","event":"stage_started","stage":"split"}""",
            """{"time_utc":"2026-12-02T10:01:33Z","event":"stage_done","stage":"split"}""",
            """{"time_utc":"2026-12-02T10:01:33Z","event":"stage_started","stage":"sweep"}""",
            """{"time_utc":"2026-12-02T11:00:00Z","event":"resumed","detail":"last session: killed"}""",
            """{"time_utc":"2026-12-02T11:00:02Z","event":"stage_started","stage":"features"}""",
            """{"time_utc":"2026-12-02T11:00:32Z","event":"stage_done","stage":"features"}""",
            """{"time_utc":"2026-12-02T11:00:32Z","event":"stage_started","stage":"sweep"}""",
            """{"time_utc":"2026-12-02T11:10:32Z","event":"stage_done","stage":"sweep"}""",
            """{"time_utc":"2026-12-02T11:10:32Z","event":"finished"}""",
        };
        File.WriteAllText(folder.FileIn(RunEvents.File), string.Join("\n", lines) + "\n");
        var events = new RunEvents(folder).Read();

        var stretches = StageTimes.Of(events);
        Assert.Equal(["features", "split", "features", "sweep"], stretches.Select(s => s.Stage));
        var seconds = StageTimes.SecondsByStage(events);
        Assert.Equal(90 + 30, seconds["features"], 9);
        Assert.Equal(1.5, seconds["split"], 9);
        Assert.Equal(600, seconds["sweep"], 9);
        // First session 10:00:00 to its last event 10:01:33 (93 s), second 11:00:00 to 11:10:32 (632 s).
        Assert.Equal(93 + 632, StageTimes.TotalSeconds(events), 9);
    }

    [Fact]
    public void Usage_per_stage_is_the_largest_sample_within_it_and_the_cpu_seconds_it_gained_per_second()
    {
        StageTime[] stages = [new("features", T0, T0.AddSeconds(10)), new("sweep", T0.AddSeconds(10), T0.AddSeconds(20)), new("report", T0.AddSeconds(20), T0.AddSeconds(20.2))];
        UsageSample Sample(double at, long mib, double cpu, long read, double load) => new(T0.AddSeconds(at), mib << 20, cpu, read, load);
        UsageSample[] samples = [Sample(1, 100, 1, 0, 2), Sample(5, 300, 9, 4000, 3), Sample(9, 200, 17, 8000, 4), Sample(11, 500, 19, 8000, 2), Sample(19, 400, 27, 8000, 2)];

        var usage = PipelineBenchmark.UsageByStage(stages, samples);

        Assert.Equal(["features", "sweep", "report"], usage.Select(u => u.Stage));
        Assert.Equal(300L << 20, usage[0].PeakResidentBytes);
        Assert.Equal((17 - 1) / 8.0, usage[0].CoresUsed, 9);
        Assert.Equal(2 * 10, usage[0].CpuSeconds, 9);
        Assert.Equal(8000 / 8.0, usage[0].StorageReadBytesPerSecond, 9);
        Assert.Equal(3, usage[0].LoadAverage, 9);
        Assert.Equal(500L << 20, usage[1].PeakResidentBytes);
        Assert.Equal((27 - 19) / 8.0, usage[1].CoresUsed, 9);
        Assert.Equal(0, usage[1].StorageReadBytesPerSecond, 9);
        // Shorter than the sampling interval: no sample, so nothing is claimed about it.
        Assert.Equal(0, usage[2].PeakResidentBytes);
        Assert.True(double.IsNaN(usage[2].CoresUsed));
    }

    [Fact]
    public void The_makespan_is_that_of_workers_taking_the_next_item_in_order_when_free()
    {
        Assert.Equal(60, PipelineExtrapolation.Makespan([30, 30, 30], 2));
        Assert.Equal(30, PipelineExtrapolation.Makespan([30, 30, 30], 3));
        Assert.Equal(30, PipelineExtrapolation.Makespan([30, 30, 30], 256));
        // 40 | 10+10+10+10: both workers end at 40; in order, not longest first.
        Assert.Equal(40, PipelineExtrapolation.Makespan([40, 10, 10, 10, 10], 2));
        Assert.Equal(50, PipelineExtrapolation.Makespan([10, 10, 40], 2));
        Assert.Equal(0, PipelineExtrapolation.Makespan([], 4));
    }

    [Fact]
    public void Each_stage_is_extrapolated_by_its_own_rule()
    {
        var measured = new PipelineMeasurement
        {
            Exams = 10_000, Threads = 2, ValidationShare = 0.2, ImportanceModels = 12,
            StageSeconds = new Dictionary<string, double>
            {
                ["features"] = 50, ["split"] = 2, ["sweep"] = 120, ["models"] = 3, ["predictions"] = 4, ["evaluation"] = 10, ["importance"] = 30, ["report"] = 5,
            },
            StreamSeconds = [30, 30, 30],
        };
        const long code15 = 345_779;
        var growth = code15 / 10_000.0;
        // Features: per exam, over the cores: 50 s × 34.5779 × 2 / 32.
        Assert.Equal(50 * growth * 2 / 32, PipelineExtrapolation.StageSeconds(measured, "features", code15, 32), 6);
        Assert.Equal(50 * growth, PipelineExtrapolation.StageSeconds(measured, "features", code15, 2), 6);
        // One core whatever the cores.
        Assert.Equal(2 * growth, PipelineExtrapolation.StageSeconds(measured, "split", code15, 256), 6);
        Assert.Equal(10 * growth, PipelineExtrapolation.StageSeconds(measured, "evaluation", code15, 32), 6);
        // Three equal streams: 60 s of makespan on 2 cores, 30 s on 3 or more, so half the measured time from 3 cores on.
        Assert.Equal(120 * growth, PipelineExtrapolation.StageSeconds(measured, "sweep", code15, 2), 6);
        Assert.Equal(120 * growth / 2, PipelineExtrapolation.StageSeconds(measured, "sweep", code15, 32), 6);
        Assert.Equal(120 * growth / 2, PipelineExtrapolation.StageSeconds(measured, "sweep", code15, 256), 6);
        Assert.Equal(3, PipelineExtrapolation.StageSeconds(measured, "models", 2_700_000, 256), 6);
        // Importance: 2,000 validation exams measured; 10,000 (its cap) at CODE-15%: ×5. 12 models take 6 rounds on
        // 2 cores, 3 rounds on 4 cores, 1 round on 32: ×1/6.
        Assert.Equal(30 * 5.0, PipelineExtrapolation.StageSeconds(measured, "importance", code15, 2), 6);
        Assert.Equal(30 * 5.0 / 2, PipelineExtrapolation.StageSeconds(measured, "importance", code15, 4), 6);
        Assert.Equal(30 * 5.0 / 6, PipelineExtrapolation.StageSeconds(measured, "importance", 2_700_000, 32), 6);
        // A smaller dataset than measured: 1,000 validation exams of 5,000.
        Assert.Equal(30 * 0.5, PipelineExtrapolation.StageSeconds(measured, "importance", 5_000, 2), 6);

        var total = 50 * growth * 2 / 32 + 2 * growth + 120 * growth / 2 + 3 + 4 * growth + 10 * growth + 30 * 5.0 / 6 + 5 * growth;
        Assert.Equal(total, PipelineExtrapolation.TotalSeconds(measured, code15, 32), 6);
    }

    [Fact]
    public void Without_contention_each_stage_takes_its_cpu_seconds_over_the_cores_it_can_keep_busy()
    {
        var measured = new PipelineMeasurement
        {
            Exams = 10_000, Threads = 2, ValidationShare = 0.2, ImportanceModels = 3,
            StageSeconds = new Dictionary<string, double> { ["features"] = 50, ["split"] = 2, ["sweep"] = 120, ["importance"] = 30, ["report"] = 5 },
            // In order on 2 workers: 30 | 10 + 20, a makespan of 30 s for 60 s of streams: 2 cores busy on average.
            StreamSeconds = [30, 10, 20],
        };
        var cpu = new Dictionary<string, double> { ["features"] = 60, ["split"] = 3, ["sweep"] = 100, ["importance"] = 24, ["report"] = double.NaN };

        var alone = PipelineExtrapolation.WithoutContention(measured, cpu).StageSeconds;

        Assert.Equal(60 / 2.0, alone["features"], 9);
        // More CPU than wall on a one-core stage (the collector's threads): the wall time stands.
        Assert.Equal(2, alone["split"], 9);
        Assert.Equal(100 / 2.0, alone["sweep"], 9);
        // Three equal models on 2 workers: 2 rounds for 3 models' work, 1.5 cores busy on average.
        Assert.Equal(24 / 1.5, alone["importance"], 9);
        Assert.Equal(5, alone["report"], 9);
    }

    [Fact]
    public void The_benchmark_definition_is_the_handcrafted_features_with_the_default_learners_under_the_quickstart_budget()
    {
        var folder = Path.Combine(RepoPaths.NewTemporaryDirectory(), "it's here");
        var definition = ExperimentDefinitionLoader.Parse(PipelineBenchmark.DefinitionYaml(folder, 7), "bench.yaml");
        var defaults = new ExperimentDefinition();
        Assert.Equal(DatasetDefinition.CodeKind, definition.Dataset.Kind);
        Assert.Equal(folder, definition.Dataset.Path);
        Assert.Equal(7, definition.Seed);
        Assert.Equal(["handcrafted"], definition.Features);
        Assert.Null(definition.Pretrain);
        Assert.Equal(defaults.Learners.Select(l => l.Learner), definition.Learners.Select(l => l.Learner));
        var quickstartFile = Path.Combine(RepoPaths.Root, "experiments", "quickstart.yaml");
        var quickstart = ExperimentDefinitionLoader.Parse(File.ReadAllText(quickstartFile), quickstartFile);
        Assert.Equal(quickstart.Learners.Select(l => (l.Learner, l.Trials)), definition.Learners.Select(l => (l.Learner, l.Trials)));
        Assert.Equal(quickstart.Sweep, definition.Sweep);
        Assert.Equal(defaults.LabelSubsets.Select(s => s.Name), definition.LabelSubsets.Select(s => s.Name));
        Assert.Equal(defaults.Evaluation, definition.Evaluation);
    }
}
