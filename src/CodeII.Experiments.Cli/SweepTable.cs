using System.Globalization;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Sweep;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CodeII.Experiments.Cli;

/// <summary>The live sweep table under the progress bars: per label subset and feature set, trials done, the last
/// trial's model and score and the best score so far (mean over the subset's labels); its title has the time left.</summary>
static class SweepTable
{
    public static IRenderable Render(SweepStatus status, ExperimentDefinition definition)
    {
        var tuned = status.Streams.Where(s => !s.Stream.Name.StartsWith(BinaryLearnerCatalog.Prior + "|", StringComparison.Ordinal)).ToArray();
        var done = status.Streams.Sum(s => s.Done);
        var planned = status.Streams.Sum(s => s.Stream.Trials);
        // Streams share the workers, so the time left follows the whole sweep's pace (an upper bound: budgets and
        // learner caps can end streams early).
        var eta = done == 0 || done >= planned ? "" : $", about {Duration(status.Elapsed.TotalSeconds / done * (planned - done))} left";
        var table = new Table().Border(TableBorder.Simple)
            .Title($"sweep: validation {definition.Sweep.Objective.DisplayName()}, {done}/{planned} trials, {Duration(status.Elapsed.TotalSeconds)} elapsed{eta}")
            .AddColumns("subset", "features", "trials", "last model", "last", "best so far (mean over labels)");
        foreach (var subset in definition.LabelSubsets)
            foreach (var set in definition.Features)
            {
                var streams = tuned.Where(s => s.Stream.FeatureSet == set && (s.Stream.Subset == subset.Name
                    || s.Stream.Subset is null && s.Stream.Labels.All(subset.Labels.Contains))).ToArray();
                if (streams.Length == 0) continue;
                var rowDone = streams.Sum(s => s.Done);
                var rowPlanned = streams.Sum(s => s.Stream.Trials);
                var last = streams.Where(s => s.LastModel is not null).MaxBy(s => s.Done);
                var bests = streams.Where(s => !double.IsNaN(s.BestScore)).Select(s => s.BestScore).ToArray();
                table.AddRow(Markup.Escape(subset.Name), Markup.Escape(set), $"{rowDone}/{rowPlanned}", Markup.Escape(last?.LastModel ?? ""),
                    Score(last?.LastScore ?? double.NaN), bests.Length == streams.Length ? Score(bests.Average()) : bests.Length == 0 ? "" : $"{Score(bests.Average())} ({bests.Length} of {streams.Length} labels)");
            }
        return table;
    }

    static string Score(double value) => double.IsNaN(value) ? "" : value.ToString("0.0000", CultureInfo.InvariantCulture);

    static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds)).ToString(seconds >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
}

/// <summary>Applies each status at once, as <see cref="ProgressCallback"/> does for stages.</summary>
sealed class StatusCallback(Action<SweepStatus> apply) : IProgress<SweepStatus>
{
    public void Report(SweepStatus value) => apply(value);
}
