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
/// How the workbench's objects show in a notebook: an ECG as the standard 12-lead plot, metrics as the report's AUROC
/// table, a run as a summary with a link to its report. <see cref="Register"/> once per kernel (the notebooks' first
/// cell does it).
/// </summary>
public static class NotebookFormatters
{
    public const string Html = "text/html";

    public static void Register()
    {
        Formatter.Register<EcgRecord>((record, writer) => writer.Write(EcgRecordHtml(record)), Html);
        Formatter.Register<ExperimentMetrics>((metrics, writer) => writer.Write(MetricsHtml(metrics)), Html);
        Formatter.Register<RunResult>((run, writer) => writer.Write(RunHtml(run)), Html);
        // Plotly's own renderers draw the figure; plain text says what it is where none is installed.
        Formatter.Register<PlotlyFigure>((figure, writer) => writer.Write(figure.ToJson()), PlotlyFigure.MimeType);
        Formatter.Register<PlotlyFigure>((figure, writer) => writer.Write($"Plotly chart ({figure.Data.Count} traces)"), "text/plain");
        Formatter.SetPreferredMimeTypesFor(typeof(PlotlyFigure), PlotlyFigure.MimeType, "text/plain");
    }

    /// <summary>The 12-lead plot of <c>codeii data plot</c>, in a frame of its own so its page styles stay inside it.</summary>
    public static string EcgRecordHtml(EcgRecord record)
    {
        var page = EcgPlot.Render(record, record.ExamId);
        return $"<iframe srcdoc=\"{WebUtility.HtmlEncode(page)}\" style=\"width:100%;height:640px;border:0\" title=\"ECG {WebUtility.HtmlEncode(record.ExamId)}\"></iframe>";
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
