using CodeII.Experiments.Cli;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Sweep;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CodeII.Experiments.Tests.Cli;

/// <summary>A clock that moves only when told to.</summary>
sealed class ManualClock : TimeProvider
{
    DateTimeOffset _now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    public override DateTimeOffset GetUtcNow() => _now;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>The console's progress: stage clocks, plain progress lines for output that is not a terminal, and the
/// live sweep table's counts.</summary>
public class ConsoleProgressTests
{
    static (IAnsiConsole Console, StringWriter Text) PlainConsole()
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 200;
        return (console, text);
    }

    static string Rendered(IRenderable renderable)
    {
        var (console, text) = PlainConsole();
        console.Write(renderable);
        return text.ToString().Trim();
    }

    static string ShownElapsed(ProgressTask task)
    {
        var (console, _) = PlainConsole();
        return Rendered(new StageElapsedColumn().Render(RenderOptions.Create(console), task, TimeSpan.Zero));
    }

    [Fact]
    public void A_finished_stage_shows_the_same_elapsed_time_however_long_the_display_goes_on()
    {
        var clock = new ManualClock();
        var task = new ProgressTask(0, "Reading ECGs", 100, autoStart: true, clock);
        var stage = new StageClock(clock);
        task.Tag = stage;
        stage.Report(0, 100);
        clock.Advance(TimeSpan.FromSeconds(7));
        stage.Report(40, 100);
        Assert.Equal("00:00:07", ShownElapsed(task));
        clock.Advance(TimeSpan.FromSeconds(5));
        stage.Report(100, 100);
        task.Value = 100;
        Assert.Equal("00:00:12", ShownElapsed(task));
        clock.Advance(TimeSpan.FromMinutes(3));
        stage.Report(100, 100);
        Assert.Equal("00:00:12", ShownElapsed(task));
        // Spectre's own clock, which the column replaces, would have run on.
        Assert.Equal(TimeSpan.FromSeconds(192), task.ElapsedTime);
    }

    [Fact]
    public void A_stage_that_gets_work_again_after_it_finished_starts_its_clock_afresh()
    {
        var clock = new ManualClock();
        var stage = new StageClock(clock);
        Assert.Null(stage.Elapsed);
        stage.Report(0, 3);
        clock.Advance(TimeSpan.FromSeconds(4));
        stage.Report(3, 3);
        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(TimeSpan.FromSeconds(4), stage.Elapsed);
        // A transfer run's next cell.
        stage.Report(1, 3);
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TimeSpan.FromSeconds(2), stage.Elapsed);
    }

    static ExperimentDefinition Definition(string share) => ExperimentDefinitionLoader.Parse($"""
        name: counts
        label_subsets: {"{"} code6: [1dAVb, RBBB, LBBB, SB, AF, ST], rhythm: [SB, ST, AF] {"}"}
        features: [basic]
        sweep: {"{"} trials: 4, share: {share} {"}"}
        """, "counts.yaml");

    /// <summary>One configuration per label: a stream per label, the prior's per label, one stream ended early.</summary>
    static SweepStatus PerLabelStatus(ExperimentDefinition definition)
    {
        var streams = new List<StreamStatus>();
        foreach (var label in definition.AllLabels)
        {
            var stream = new SweepStream($"basic|{label}", "basic", null, [label], [new LearnerBudget(BinaryLearnerCatalog.LightGbm)], 4);
            streams.Add(label == "RBBB"
                ? new StreamStatus(stream, 2, "lightgbm", 0.8, 0.8, "lightgbm", Ended: true)
                : new StreamStatus(stream, 3, "lightgbm", 0.9, 0.9, "lightgbm"));
        }
        foreach (var label in definition.AllLabels)
            streams.Add(new StreamStatus(new SweepStream($"prior|{label}", "basic", null, [label], [new LearnerBudget(BinaryLearnerCatalog.Prior, 1)], 1),
                1, "prior", 0.5, 0.5, "prior", Ended: true));
        return new SweepStatus(streams, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void The_sweep_table_s_total_is_the_progress_bar_s_and_its_rows_say_which_trials_they_repeat()
    {
        var definition = Definition("per_label");
        var status = PerLabelStatus(definition);
        // The sweep stage's bar shows status.Done of status.Planned (SweepEngine reports both from one snapshot).
        Assert.Equal((5 * 3 + 2 + 6, 5 * 4 + 2 + 6), (status.Done, status.Planned));
        var text = Rendered(SweepTable.Render(status, definition));
        Assert.Contains($"sweep: validation AUROC, {status.Done}/{status.Planned} trials, 0:30 elapsed", text);
        var rows = text.Split('\n').Select(l => l.Trim()).ToArray();
        // RBBB's stream ended after 2 trials, so code6 plans 2 + 5 × 4; rhythm's labels are code6's.
        Assert.Contains(rows, r => r.StartsWith("code6") && r.Contains(" 17/22 "));
        Assert.Contains(rows, r => r.StartsWith("rhythm") && r.Contains(" 9/12 "));
        Assert.Contains(rows, r => r.StartsWith("every label") && r.Contains(" 6/6 ") && r.Contains("prior"));
        Assert.Contains("rhythm's SB, AF, ST are code6's trials, counted once in the total", text.ReplaceLineEndings(" "));
    }

    [Fact]
    public void Plain_progress_lines_come_at_a_stage_s_start_at_most_once_per_interval_and_at_its_end_with_its_time()
    {
        var clock = new ManualClock();
        var (console, text) = PlainConsole();
        var definition = Definition("per_label");
        var lines = new ProgressLines(console, new Dictionary<string, string> { ["features"] = "Reading ECGs", ["sweep"] = "Sweeping" }, definition,
            clock, TimeSpan.FromSeconds(5));
        lines.Report(new StageProgress("features", 64, 640));
        clock.Advance(TimeSpan.FromSeconds(2));
        lines.Report(new StageProgress("features", 128, 640));
        clock.Advance(TimeSpan.FromSeconds(4));
        lines.Report(new StageProgress("features", 320, 640));
        clock.Advance(TimeSpan.FromSeconds(1));
        lines.Report(new StageProgress("features", 640, 640));
        lines.Report(new StageProgress("features", 640, 640));
        lines.Report(new StageProgress("unknown stage", 1, 2));
        Assert.Equal(["Reading ECGs: 10 % (64/640), 0:00", "Reading ECGs: 50 % (320/640), 0:06", "Reading ECGs: done in 0:07"],
            text.ToString().TrimEnd().Split('\n').Select(l => l.TrimEnd()));
    }

    [Fact]
    public void Plain_sweep_lines_give_the_table_s_title_then_the_table_once_the_sweep_ends()
    {
        var clock = new ManualClock();
        var (console, text) = PlainConsole();
        var definition = Definition("per_label");
        var lines = new ProgressLines(console, new Dictionary<string, string> { ["sweep"] = "Sweeping" }, definition, clock, TimeSpan.FromSeconds(5));
        var running = PerLabelStatus(definition);
        lines.Report(running);
        lines.Report(new StageProgress("sweep", running.Done, running.Planned));
        clock.Advance(TimeSpan.FromSeconds(1));
        lines.Report(running);
        var ended = running with { Streams = [.. running.Streams.Select(s => s with { Ended = true })] };
        lines.Report(ended);
        lines.Report(new StageProgress("sweep", ended.Done, ended.Planned));
        var output = text.ToString().Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        // The second status came within the interval: one progress line, then the table under its title.
        Assert.Equal(SweepTable.Headline(running, definition), output[0]);
        Assert.Equal(SweepTable.Headline(ended, definition), output[1]);
        Assert.Equal(2, output.Count(l => l.StartsWith("sweep: ")));
        Assert.Contains(output, l => l.StartsWith("every label"));
        Assert.Equal("Sweeping: done in 0:01", output[^1]);
    }
}
