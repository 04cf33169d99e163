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
