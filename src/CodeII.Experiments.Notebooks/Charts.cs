using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Notebooks;

/// <summary>
/// A Plotly figure as the JSON Plotly's own notebook renderers draw (<c>application/vnd.plotly.v1+json</c>): written by
/// the workbench itself, because chart code built on Plotly.NET needs FSharp.Core 10.1, which the .NET Interactive
/// kernel (with FSharp.Core 10.0 loaded) cannot load.
/// </summary>
public sealed record PlotlyFigure(IReadOnlyList<object> Data, object Layout)
{
    public const string MimeType = "application/vnd.plotly.v1+json";

    public string ToJson() => JsonSerializer.Serialize(new { data = Data, layout = Layout });
}

/// <summary>The charts the notebooks draw: bars, overlaid histograms by group, a sweep's convergence.</summary>
public static class Charts
{
    public static PlotlyFigure Bar(string title, IReadOnlyList<string> x, IReadOnlyList<double> y, string xTitle, string yTitle) =>
        new([new { type = "bar", x, y }], Layout(title, xTitle, yTitle));

    /// <summary>One semi-transparent histogram per group, overlaid: e.g. PR interval of exams with and without 1dAVb.</summary>
    public static PlotlyFigure Histograms(string title, IReadOnlyDictionary<string, IReadOnlyList<double>> groups, string xTitle) =>
        new([.. groups.Select(g => (object)new { type = "histogram", name = g.Key, x = g.Value.Where(double.IsFinite).ToArray(), opacity = 0.6, histnorm = "probability" })],
            Layout(title, xTitle, "share of exams") with { barmode = "overlay" });

    /// <summary>A network's training: loss and validation macro-AUROC per epoch.</summary>
    public static PlotlyFigure Training(IReadOnlyList<Features.Learned.EpochSummary> history) => new(
        [
            new { type = "scatter", mode = "lines+markers", name = "training loss", x = history.Select(e => e.Epoch).ToArray(), y = history.Select(e => e.TrainingLoss).ToArray() },
            new { type = "scatter", mode = "lines+markers", name = "validation macro-AUROC", x = history.Select(e => e.Epoch).ToArray(), y = history.Select(e => e.ValidationMacroAuroc).ToArray(), yaxis = "y2" },
        ],
        new
        {
            title = new { text = "Network training" },
            xaxis = new { title = new { text = "epoch" }, dtick = 1 },
            yaxis = new { title = new { text = "loss" } },
            yaxis2 = new { title = new { text = "AUROC" }, overlaying = "y", side = "right" },
            height = 380,
        });

    /// <summary>Each stream's best validation score so far against the trial number.</summary>
    public static PlotlyFigure Convergence(IEnumerable<TrialRecord> trials)
    {
        var lines = new List<object>();
        foreach (var stream in trials.Where(t => TrialStatus.Complete(t.Status)).GroupBy(t => t.Stream))
        {
            var best = double.NegativeInfinity;
            var points = stream.OrderBy(t => t.Trial).Select(t => (t.Trial, Best: best = double.IsNaN(t.ValidationScore) ? best : Math.Max(best, t.ValidationScore)))
                .Where(p => double.IsFinite(p.Best)).ToArray();
            lines.Add(new { type = "scatter", mode = "lines+markers", name = stream.Key, x = points.Select(p => p.Trial).ToArray(), y = points.Select(p => p.Best).ToArray() });
        }
        return new(lines, Layout("Best validation score so far", "trial", "validation score"));
    }

    /// <summary>Test AUROC of every model for one label, with its bootstrap interval as error bars.</summary>
    public static PlotlyFigure Auroc(ExperimentMetrics metrics, string label)
    {
        var models = metrics.Subsets.SelectMany(s => s.PerLabel).First(l => l.Label == label).Models;
        return new([new
        {
            type = "bar",
            x = models.Select(m => m.Learner).ToArray(),
            y = models.Select(m => m.Auroc.Value).ToArray(),
            error_y = new { type = "data", symmetric = false, array = models.Select(m => m.Auroc.Upper - m.Auroc.Value).ToArray(), arrayminus = models.Select(m => m.Auroc.Value - m.Auroc.Lower).ToArray() },
        }], Layout($"{label}: test AUROC ({metrics.Confidence:P0} patient-bootstrap interval)", "model", "AUROC"));
    }

    sealed record ChartLayout(object title, object xaxis, object yaxis, string? barmode = null, int height = 380);

    static ChartLayout Layout(string title, string xTitle, string yTitle) =>
        new(new { text = title }, new { title = new { text = xTitle } }, new { title = new { text = yTitle } });
}
