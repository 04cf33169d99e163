using System.Text.RegularExpressions;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Reports;

namespace CodeII.Experiments.Tests.Reports;

public class EcgPlotTests
{
    [Fact]
    public async Task A_PTB_XL_record_plots_in_the_standard_layout_offline_without_errors()
    {
        var source = EcgSources.Open(RepoPaths.Shared("ptbxl"));
        var record = source.Read(EcgSources.IndexOf(source, "8", "ptbxl"));
        var html = EcgPlot.Render(record, source.Describe());
        // 12 lead segments of 2.5 s plus the lead II rhythm strip.
        Assert.Equal(13, Regex.Matches(html, "\"type\":\"scattergl\"").Count);
        var path = Path.Combine(RepoPaths.NewTemporaryDirectory(), "ecg.html");
        File.WriteAllText(path, html);
        var visit = await HeadlessChromium.Visit(path);
        Assert.Empty(visit.ConsoleErrors);
        Assert.Empty(visit.Requests);
        Assert.Equal(1, visit.ChartsRendered);
    }

    [Fact]
    public void A_record_without_the_twelve_standard_leads_gets_one_row_per_lead()
    {
        var source = EcgSources.Open(RepoPaths.Shared("wfdb-samples", "test01_00s"));
        var html = EcgPlot.Render(source.Read(0), source.Describe());
        Assert.Equal(4, Regex.Matches(html, "\"type\":\"scattergl\"").Count);
    }

    [Fact]
    public void An_unknown_record_id_is_named()
    {
        var source = EcgSources.Open(RepoPaths.Shared("ptbxl"));
        var e = Assert.Throws<EcgDataException>(() => EcgSources.IndexOf(source, "99999", "ptbxl"));
        Assert.Equal("99999", e.Record);
    }
}

public class ChartTextTests
{
    [Fact]
    public async Task Markup_in_names_from_data_is_shown_as_text_never_followed_or_applied()
    {
        const string hostile = "<a href=\"https://example.org/x\">L</a><span style=\"font-size:80px\">big</span> & co";
        var html = new System.Text.StringBuilder(PlotlyPage.Head("t", ""));
        html.Append("<div id=\"c\" class=\"plot\" style=\"width:600px;height:400px\"></div>");
        PlotlyPage.AppendCharts(html, [new PlotlyPage.Chart("c",
            new object[] { new { type = "scatter", mode = "lines", name = hostile, x = new[] { hostile, "b" }, y = new[] { 1, 2 }, hovertemplate = "%{x}<extra></extra>" } },
            new { title = new { text = hostile }, showlegend = true })]);
        var path = Path.Combine(RepoPaths.NewTemporaryDirectory(), "chart.html");
        File.WriteAllText(path, html.ToString());
        var visit = await HeadlessChromium.Visit(path);
        Assert.Empty(visit.ConsoleErrors);
        Assert.Empty(visit.Requests);
        Assert.Equal(1, visit.ChartsRendered);
        // The chart's SVG holds the name as characters: no link, no restyled span.
        var svg = visit.ChartSvgText;
        Assert.DoesNotMatch(@"<a[^>]*example\.org", svg);
        Assert.DoesNotMatch(@"<tspan[^>]*font-size:\s*80px", svg);
        Assert.Contains("&lt;a href=\"https://example.org/x\"&gt;L&lt;/a&gt;", svg);
    }
}
