using System.Globalization;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Sweep;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CodeII.Experiments.Cli;

/// <summary>The live sweep table under the progress bars: per label subset and feature set, trials done, the last
/// trial's model and score and the best score so far (mean over the subset's labels), then the prior's row; its title
/// has the trials of the whole sweep and the time left.</summary>
static class SweepTable
{
    /// <summary>The table's title, and on its own the progress line of output that is not a terminal. Its counts are
    /// the sweep stage's progress (<see cref="SweepStatus.Done"/> of <see cref="SweepStatus.Planned"/>).</summary>
    public static string Headline(SweepStatus status, ExperimentDefinition definition)
    {
        var (done, planned) = (status.Done, status.Planned);
        // Streams share the workers, so the time left follows the whole sweep's pace (an upper bound: budgets can
        // still end streams early).
        var eta = done == 0 || done >= planned ? "" : $", about {Duration(status.Elapsed.TotalSeconds / done * (planned - done))} left";
        return $"sweep: validation {definition.Sweep.Objective.DisplayName()}, {done}/{planned} trials, {Duration(status.Elapsed.TotalSeconds)} elapsed{eta}";
    }

    public static IRenderable Render(SweepStatus status, ExperimentDefinition definition)
    {
        static bool IsPrior(StreamStatus s) => s.Stream.Name.StartsWith(BinaryLearnerCatalog.Prior + "|", StringComparison.Ordinal);
        var table = new Table().Border(TableBorder.Simple)
            .Title(Markup.Escape(Headline(status, definition)))
            .AddColumns("subset", "features", "trials", "last model", "last", "best so far (mean over labels)");
        // With one configuration per label, a label in several subsets has one stream that each of their rows shows;
        // the title counts it once, and the caption says which rows repeat which.
        var countedUnder = new Dictionary<string, string>(StringComparer.Ordinal);
        var repeated = new List<(string Subset, string Under, string Label)>();
        foreach (var subset in definition.LabelSubsets)
            foreach (var set in definition.Features)
            {
                var streams = status.Streams.Where(s => !IsPrior(s) && s.Stream.FeatureSet == set && (s.Stream.Subset == subset.Name
                    || s.Stream.Subset is null && s.Stream.Labels.All(subset.Labels.Contains))).ToArray();
                if (streams.Length == 0) continue;
                foreach (var stream in streams)
                    if (!countedUnder.TryAdd(stream.Stream.Name, subset.Name))
                        repeated.AddRange(stream.Stream.Labels.Select(label => (subset.Name, countedUnder[stream.Stream.Name], label)));
                AddRow(table, Markup.Escape(subset.Name), Markup.Escape(set), streams);
            }
        var priors = status.Streams.Where(IsPrior).ToArray();
        if (priors.Length > 0) AddRow(table, "every label", "none", priors);
        var repeats = repeated.Distinct().GroupBy(r => (r.Subset, r.Under))
            .Select(g => $"{g.Key.Subset}'s {string.Join(", ", g.Select(r => r.Label))} are {g.Key.Under}'s trials").ToArray();
        if (repeats.Length > 0) table.Caption(Markup.Escape($"{string.Join("; ", repeats)}, counted once in the total (one configuration per label)"));
        return table;
    }

    static void AddRow(Table table, string subset, string features, StreamStatus[] streams)
    {
        var last = streams.Where(s => s.LastModel is not null).MaxBy(s => s.Done);
        var bests = streams.Where(s => !double.IsNaN(s.BestScore)).Select(s => s.BestScore).ToArray();
        table.AddRow(subset, features, $"{streams.Sum(s => s.Done)}/{streams.Sum(s => s.Planned)}", Markup.Escape(last?.LastModel ?? ""),
            Score(last?.LastScore ?? double.NaN),
            bests.Length == streams.Length ? Score(bests.Average()) : bests.Length == 0 ? "" : $"{Score(bests.Average())} ({bests.Length} of {streams.Length} labels)");
    }

    static string Score(double value) => double.IsNaN(value) ? "" : value.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Duration(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds)).ToString(seconds >= 3600 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture);
}

/// <summary>Applies each status at once, as <see cref="ProgressCallback"/> does for stages.</summary>
sealed class StatusCallback(Action<SweepStatus> apply) : IProgress<SweepStatus>
{
    public void Report(SweepStatus value) => apply(value);
}
