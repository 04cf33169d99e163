using System.Net;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Runs;
using Microsoft.DotNet.Interactive.Formatting;

namespace CodeII.Experiments.Notebooks;

/// <summary>
/// How the workbench's objects show in a notebook: an ECG as the standard 12-lead plot on ECG paper (SVG), charts as
/// Plotly figures with an SVG copy, metrics as the report's AUROC
/// table, a run as a summary with a link to its report. <see cref="Register"/> once per kernel (the notebooks' first
/// cell does it).
/// </summary>
public static class NotebookFormatters
{
    public const string Html = "text/html";

    public static void Register()
    {
        // Static SVG, so an ECG shows in saved outputs on a code host too; `codeii data plot` gives the interactive one.
        Formatter.Register<EcgRecord>((record, writer) => writer.Write(EcgSvg.Render(record)), Chart.SvgMimeType);
        Formatter.Register<EcgRecord>((record, writer) => writer.Write(EcgSheet.Title(record)), "text/plain");
        Formatter.SetPreferredMimeTypesFor(typeof(EcgRecord), Chart.SvgMimeType, "text/plain");
        Formatter.Register<ExperimentMetrics>((metrics, writer) => writer.Write(MetricsHtml(metrics)), Html);
        Formatter.Register<RunResult>((run, writer) => writer.Write(RunHtml(run)), Html);
        // Plotly's renderers draw the figure interactively; the SVG is what a code host shows in saved outputs.
        Formatter.Register<Chart>((chart, writer) => writer.Write(chart.ToPlotlyJson()), Chart.PlotlyMimeType);
        Formatter.Register<Chart>((chart, writer) => writer.Write(chart.ToSvg()), Chart.SvgMimeType);
        Formatter.Register<Chart>((chart, writer) => writer.Write(chart.ToString()), "text/plain");
        Formatter.SetPreferredMimeTypesFor(typeof(Chart), Chart.PlotlyMimeType, Chart.SvgMimeType, "text/plain");
    }

    /// <summary>Test AUROC per label subset, one row per model and one column per label, with the macro average and its interval.</summary>
    public static string MetricsHtml(ExperimentMetrics metrics)
    {
        var html = new StringBuilder();
        foreach (var subset in metrics.Subsets)
        {
            html.Append($"<table><caption>{E(subset.Name)}: test AUROC ({metrics.TestExams} exams, {metrics.Confidence:P0} patient-bootstrap interval on the macro average)</caption><tr><th>model</th>");
            foreach (var label in subset.PerLabel) html.Append($"<th>{E(label.Label)}</th>");
            html.Append("<th>macro</th></tr>");
            foreach (var (model, macro) in subset.MacroAuroc)
            {
                html.Append($"<tr><td>{E(model)}</td>");
                foreach (var label in subset.PerLabel) html.Append($"<td>{HtmlReport.Format(label.Models.First(m => m.Learner == model).Auroc.Value)}</td>");
                html.Append($"<td>{HtmlReport.Format(macro)}</td></tr>");
            }
            html.Append("</table>");
        }
        return html.ToString();
    }

    /// <summary>A finished run: where its folder is, a link to its report, and its metrics.</summary>
    public static string RunHtml(RunResult run) =>
        $"<p>Run <code>{E(run.Manifest.Experiment)}</code>, seed {run.Manifest.Seed}, {run.Manifest.Status}, in <code>{E(run.Folder.Path)}</code>: " +
        $"<a href=\"{E(new Uri(run.ReportPath).AbsoluteUri)}\" target=\"_blank\">report</a></p>" + MetricsHtml(run.Metrics);

    static string E(string s) => WebUtility.HtmlEncode(s);
}
