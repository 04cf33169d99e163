using System.Globalization;
using CodeII.Experiments.Evaluation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace CodeII.Experiments.Cli;

/// <summary>
/// The run's last word, from its <c>metrics.json</c>: the test size, then per label subset each model's test
/// macro-AUROC with its interval (and each label's AUROC when the console is wide enough for them), the best model
/// starred, and the subset's verdict.
/// </summary>
static class ResultTables
{
    public const string BestMark = "★";

    public static void Write(IAnsiConsole console, ExperimentMetrics metrics)
    {
        console.MarkupLineInterpolated(
            $"[bold]test split[/]: {metrics.TestExams} exams from {metrics.TestPatients} patients; intervals: {Percent(metrics.Confidence)} patient bootstrap, {metrics.BootstrapReplicates} resamples");
        foreach (var subset in metrics.Subsets)
        {
            var withLabels = Table(subset, metrics.Confidence, perLabel: true);
            // One row per model stays readable however many models there are; the labels' columns go first when
            // the console is too narrow, since the macro-AUROC and its interval are what the verdict is about.
            console.Write(Fits(console, withLabels) ? withLabels : Table(subset, metrics.Confidence, perLabel: false));
            // Unwrapped: a sentence a reader may quote, left for the terminal to fold.
            if (subset.Summary is { } summary) console.Profile.Out.Writer.WriteLine($"{BestMark} {summary.Verdict}");
        }
    }

    static Table Table(SubsetMetrics subset, double confidence, bool perLabel)
    {
        var best = subset.Summary?.Best;
        var table = new Table().Title($"{Markup.Escape(subset.Name)}: test AUROC").AddColumn("model");
        if (perLabel) foreach (var label in subset.PerLabel) table.AddColumn(new TableColumn(Markup.Escape(label.Label)).RightAligned());
        table.AddColumn(new TableColumn($"macro ({Percent(confidence)} CI)").RightAligned());
        foreach (var (model, macro) in subset.MacroAuroc)
        {
            var isBest = model == best;
            string Emphasised(string text) => isBest ? $"[bold]{text}[/]" : text;
            var cells = new List<string> { isBest ? $"{BestMark} {Emphasised(Markup.Escape(model))}" : $"  {Markup.Escape(model)}" };
            if (perLabel) cells.AddRange(subset.PerLabel.Select(l => l.Models.FirstOrDefault(m => m.Learner == model) is { } m ? Point(m.Auroc.Value) : ""));
            cells.Add(Emphasised(WithInterval(macro)));
            table.AddRow([.. cells]);
        }
        return table;
    }

    static bool Fits(IAnsiConsole console, IRenderable table) =>
        table.Measure(RenderOptions.Create(console), int.MaxValue).Max <= console.Profile.Width;

    /// <summary>The value and its interval to three decimals, as <c>metrics.json</c> holds them rounded.</summary>
    public static string WithInterval(Estimate e) =>
        double.IsNaN(e.Lower) || double.IsNaN(e.Upper) ? Point(e.Value) : $"{Point(e.Value)} ({Point(e.Lower)}–{Point(e.Upper)})";

    static string Point(double v) => double.IsNaN(v) ? "–" : v.ToString("0.000", CultureInfo.InvariantCulture);

    static string Percent(double share) => share.ToString("P0", CultureInfo.InvariantCulture);
}
