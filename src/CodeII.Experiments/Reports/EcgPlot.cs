using System.Net;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Reports;

/// <summary>
/// One ECG as a clinician reads it: the standard 3 × 4 layout (2.5 s per column: I/II/III, aVR/aVL/aVF, V1–V3, V4–V6)
/// with a lead II rhythm strip, on ECG paper at 25 mm/s and 10 mm/mV (minor grid 40 ms / 0.1 mV, major 200 ms / 0.5 mV).
/// Records without the 12 standard leads get one full-length row per lead. Given <see cref="BeatMarks"/>, it draws the
/// detected R peaks and the median beat's boundaries over the traces.
/// </summary>
public static class EcgPlot
{
    public static string Render(EcgRecord record, string source, BeatMarks? marks = null)
    {
        var fs = record.SamplingRateHz;
        var sheet = EcgSheet.Lay(record);
        var traces = new List<object>();
        var annotations = new List<object>();
        foreach (var segment in sheet.Segments)
        {
            var samples = record.Signals[segment.Lead].AsSpan(segment.FirstSample, segment.SampleCount);
            var yOffset = -segment.Row * EcgSheet.RowSpacingMv;
            var x = new double[samples.Length];
            var y = new double?[samples.Length];
            for (var k = 0; k < x.Length; k++)
            {
                x[k] = segment.StartSeconds + k / fs;
                y[k] = float.IsNaN(samples[k]) ? null : samples[k] + yOffset;
            }
            traces.Add(new { type = "scattergl", mode = "lines", x, y, name = segment.Label, line = new { color = "#111", width = 1 }, hovertemplate = $"{segment.Label}: %{{customdata:.3f}} mV<extra></extra>",
                customdata = y.Select(v => v - yOffset).ToArray() });
            annotations.Add(new { x = segment.StartSeconds + 0.05, y = yOffset + 1.1, text = segment.Label, showarrow = false, xanchor = "left", font = new { size = 13 } });
        }
        var (width, rows) = (sheet.WidthSeconds, sheet.Rows);
        if (marks is not null) traces.AddRange(MarkTraces(record, sheet, marks));

        var title = EcgSheet.Title(record);
        var paper = "#f4b6b6";
        var majorTicks = Enumerable.Range(0, (int)Math.Floor(width / 0.2) + 1).Select(k => Math.Round(k * 0.2, 6)).ToArray();
        var layout = new
        {
            title = new { text = title, font = new { size = 15 } },
            showlegend = false,
            plot_bgcolor = "#fff7f7",
            margin = new { l = 30, r = 10, t = 50, b = 30 },
            height = (int)(rows * 170 + 90),
            // A tick (and major gridline) every 200 ms, labelled only on whole seconds.
            xaxis = new { range = new[] { 0, width }, tickmode = "array", tickvals = majorTicks, ticktext = majorTicks.Select(t => Math.Abs(t - Math.Round(t)) < 1e-9 ? $"{t + record.StartSeconds:0.##} s" : "").ToArray(),
                gridcolor = paper, gridwidth = 1, zeroline = false, minor = new { dtick = 0.04, gridcolor = "#fbe3e3", showgrid = true } },
            yaxis = new { range = new[] { -(rows - 1) * EcgSheet.RowSpacingMv - 1.8, 1.8 }, dtick = 0.5, gridcolor = paper, gridwidth = 1, zeroline = false, showticklabels = false,
                minor = new { dtick = 0.1, gridcolor = "#fbe3e3", showgrid = true }, scaleanchor = "x", scaleratio = 0.4 },
            annotations,
        };
        var html = new StringBuilder();
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{WebUtility.HtmlEncode($"ECG {record.ExamId}")}</title>
            <style>body {"{"} font-family: system-ui, sans-serif; margin: 1rem; {"}"} .meta {"{"} color: #52606d; font-size: .85rem; {"}"}</style></head><body>
            <div id="ecg" class="plot"></div>
            <p class="meta">Source: {WebUtility.HtmlEncode(source)}. 25 mm/s, 10 mm/mV; small squares 40 ms × 0.1 mV.</p>
            """);
        if (marks is not null)
            html.Append($"""<p class="meta">Dots: detected R peaks. Lines: the median beat's boundaries at every beat, P (blue), QRS (red), T peak and offset (green). {WebUtility.HtmlEncode(marks.Summary())}.</p>""");
        PlotlyPage.AppendCharts(html, [new PlotlyPage.Chart("ecg", traces, layout)]);
        return html.ToString();
    }

    public static readonly IReadOnlyDictionary<string, string> WaveColours = new Dictionary<string, string> { ["P"] = "#1f5fbf", ["QRS"] = "#c0392b", ["T"] = "#1e8449" };

    /// <summary>One marker trace for the R peaks and one line trace per wave: a short vertical line across the trace at
    /// each boundary, the lines of a trace separated by gaps.</summary>
    static IEnumerable<object> MarkTraces(EcgRecord record, EcgSheet sheet, BeatMarks marks)
    {
        var peaks = sheet.RPeaksOn(record, marks).ToArray();
        yield return new
        {
            type = "scattergl", mode = "markers", x = peaks.Select(p => p.SheetSeconds).ToList(),
            y = peaks.Select(p => p.Millivolts - p.Segment.Row * EcgSheet.RowSpacingMv).ToList(), name = "R peaks",
            marker = new { color = "#7b241c", size = 6 }, hovertemplate = "R peak<extra></extra>",
        };
        foreach (var wave in sheet.BoundariesOn(record, marks).GroupBy(b => b.Mark.Wave))
        {
            var (x, y, text) = (new List<double?>(), new List<double?>(), new List<string?>());
            foreach (var (segment, t, mark) in wave)
            {
                var baseline = -segment.Row * EcgSheet.RowSpacingMv;
                x.AddRange([t, t, null]);
                y.AddRange([baseline - 0.8, baseline + 0.8, null]);
                text.AddRange([$"{mark.Wave} {mark.Point}", $"{mark.Wave} {mark.Point}", null]);
            }
            yield return new { type = "scattergl", mode = "lines", x, y, text, name = $"{wave.Key} boundaries", line = new { color = WaveColours[wave.Key], width = 1 }, hovertemplate = "%{text}<extra></extra>" };
        }
    }
}
