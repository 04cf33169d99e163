using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Notebooks;

/// <summary>A chart's data: bars (with optional interval whiskers), overlaid histograms, or lines.</summary>
public abstract record ChartSeries(string Name);

public sealed record BarSeries(string Name, IReadOnlyList<string> Categories, IReadOnlyList<double> Values,
    IReadOnlyList<double>? Lower = null, IReadOnlyList<double>? Upper = null) : ChartSeries(Name);

/// <summary>Values binned by the chart (shared bins across a chart's histograms, heights as shares of the series).</summary>
public sealed record HistogramSeries(string Name, IReadOnlyList<double> Values) : ChartSeries(Name);

public sealed record LineSeries(string Name, IReadOnlyList<double> X, IReadOnlyList<double> Y, bool RightAxis = false) : ChartSeries(Name);

/// <summary>
/// A chart the notebooks display two ways at once: as Plotly figure JSON (<c>application/vnd.plotly.v1+json</c>, drawn
/// interactively by VS Code's notebook renderers) and as a static SVG (<c>image/svg+xml</c>), which a code host shows in
/// a notebook's saved outputs. Written by the workbench itself, because chart code built on Plotly.NET needs
/// FSharp.Core 10.1, which the .NET Interactive kernel (with FSharp.Core 10.0 loaded) cannot load.
/// </summary>
public sealed record Chart(string Title, string XTitle, string YTitle, IReadOnlyList<ChartSeries> Series, string? RightYTitle = null)
{
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";
    public const string SvgMimeType = "image/svg+xml";

    /// <summary>The bins every histogram of this chart shares: start, width and count.</summary>
    public (double Start, double Width, int Count) HistogramBins() => ChartBins.For(Series.OfType<HistogramSeries>().SelectMany(h => h.Values).Where(double.IsFinite).ToArray());

    public string ToPlotlyJson()
    {
        var bins = HistogramBins();
        var data = Series.Select(series => series switch
        {
            BarSeries bar => bar.Lower is null || bar.Upper is null
                ? (object)new { type = "bar", name = bar.Name, x = bar.Categories, y = bar.Values }
                : new
                {
                    type = "bar", name = bar.Name, x = bar.Categories, y = bar.Values,
                    error_y = new { type = "data", symmetric = false, array = bar.Upper.Zip(bar.Values, (u, v) => u - v).ToArray(), arrayminus = bar.Values.Zip(bar.Lower, (v, l) => v - l).ToArray() },
                },
            HistogramSeries histogram => new
            {
                type = "histogram", name = histogram.Name, x = histogram.Values.Where(double.IsFinite).ToArray(), opacity = 0.6, histnorm = "probability",
                xbins = new { start = bins.Start, end = bins.Start + bins.Count * bins.Width, size = bins.Width },
            },
            LineSeries line => new { type = "scatter", mode = "lines+markers", name = line.Name, x = line.X, y = line.Y, yaxis = line.RightAxis ? "y2" : "y" },
            _ => throw new NotSupportedException(series.GetType().Name),
        }).ToArray();
        object layout = RightYTitle is null
            ? new { title = new { text = Title }, xaxis = new { title = new { text = XTitle } }, yaxis = new { title = new { text = YTitle } }, barmode = "overlay", height = 380 }
            : new
            {
                title = new { text = Title }, xaxis = new { title = new { text = XTitle } }, yaxis = new { title = new { text = YTitle } },
                yaxis2 = new { title = new { text = RightYTitle }, overlaying = "y", side = "right" }, height = 380,
            };
        return JsonSerializer.Serialize(new { data, layout });
    }

    public string ToSvg() => ChartSvg.Render(this);

    public override string ToString() => $"{Title} ({Series.Count} series)";
}

/// <summary>The charts the notebooks draw: bars, overlaid histograms by group, a sweep's convergence, a network's training.</summary>
public static class Charts
{
    public static Chart Bar(string title, IReadOnlyList<string> x, IReadOnlyList<double> y, string xTitle, string yTitle) =>
        new(title, xTitle, yTitle, [new BarSeries(yTitle, x, y)]);

    /// <summary>One semi-transparent histogram per group, overlaid: e.g. PR interval of exams with and without 1dAVb.</summary>
    public static Chart Histograms(string title, IReadOnlyDictionary<string, IReadOnlyList<double>> groups, string xTitle) =>
        new(title, xTitle, "share of exams", [.. groups.Select(g => (ChartSeries)new HistogramSeries(g.Key, g.Value))]);

    /// <summary>A network's training: loss and validation macro-AUROC per epoch.</summary>
    public static Chart Training(IReadOnlyList<Features.Learned.EpochSummary> history) => new("Network training", "epoch", "loss",
        [
            new LineSeries("training loss", [.. history.Select(e => (double)e.Epoch)], [.. history.Select(e => e.TrainingLoss)]),
            new LineSeries("validation macro-AUROC", [.. history.Select(e => (double)e.Epoch)], [.. history.Select(e => e.ValidationMacroAuroc)], RightAxis: true),
        ], RightYTitle: "AUROC");

    /// <summary>Each stream's best validation score so far against the trial number.</summary>
    public static Chart Convergence(IEnumerable<TrialRecord> trials)
    {
        var lines = new List<ChartSeries>();
        foreach (var stream in trials.Where(t => TrialStatus.Complete(t.Status)).GroupBy(t => t.Stream))
        {
            var best = double.NegativeInfinity;
            var points = stream.OrderBy(t => t.Trial).Select(t => (t.Trial, Best: best = double.IsNaN(t.ValidationScore) ? best : Math.Max(best, t.ValidationScore)))
                .Where(p => double.IsFinite(p.Best)).ToArray();
            lines.Add(new LineSeries(stream.Key, [.. points.Select(p => (double)p.Trial)], [.. points.Select(p => p.Best)]));
        }
        return new("Best validation score so far", "trial", "validation score", lines);
    }

    /// <summary>Test AUROC of every model for one label, with its bootstrap interval as whiskers.</summary>
    public static Chart Auroc(ExperimentMetrics metrics, string label)
    {
        var models = metrics.Subsets.SelectMany(s => s.PerLabel).First(l => l.Label == label).Models;
        return new($"{label}: test AUROC ({metrics.Confidence:P0} patient-bootstrap interval)", "model", "AUROC",
            [new BarSeries("AUROC", [.. models.Select(m => m.Learner)], [.. models.Select(m => m.Auroc.Value)], [.. models.Select(m => m.Auroc.Lower)], [.. models.Select(m => m.Auroc.Upper)])]);
    }

    /// <summary>A transfer run's learning curves on one target and subset: test macro-AUROC against the share of the
    /// training patients, one line per source and mode.</summary>
    public static Chart LearningCurves(TransferMetrics metrics, string target, string subset) =>
        new($"{target} · {subset}: test macro-AUROC by training share", "share of the training patients", "macro-AUROC",
            [.. metrics.Cells.Where(c => c.Target == target && c.Subset == subset).GroupBy(c => c.Source.Length == 0 ? c.Mode : $"{c.Source} · {c.Mode}")
                .Select(row => (ChartSeries)new LineSeries(row.Key, [.. row.OrderBy(c => c.Share).Select(c => c.Share)], [.. row.OrderBy(c => c.Share).Select(c => c.MacroAuroc.Value)]))]);
}
