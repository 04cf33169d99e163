using System.Globalization;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using CodeII.Experiments.Notebooks;

namespace CodeII.Experiments.Tests.Notebooks;

/// <summary>The notebook charts' two forms (Plotly JSON and SVG) against values worked out by hand.</summary>
public class ChartTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    static double Attr(XElement e, string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);

    [Fact]
    public void Bars_are_as_tall_as_their_values_on_the_axis_and_whiskers_span_the_interval()
    {
        var chart = new Chart("AUROC", "model", "AUROC", [new BarSeries("AUROC", ["a", "b"], [0.5, 1.0], [0.4, 0.9], [0.6, 1.0])]);
        var svg = XDocument.Parse(chart.ToSvg());
        var bars = svg.Descendants(Svg + "rect").Where(r => r.Element(Svg + "title") is not null).ToArray();
        Assert.Equal(2, bars.Length);
        // Bars start at 0, so heights are proportional to the values: 0.5 is half of 1.0.
        Assert.Equal(0.5, Attr(bars[0], "height") / Attr(bars[1], "height"), tolerance: 0.01);
        Assert.Equal(Attr(bars[0], "y") + Attr(bars[0], "height"), Attr(bars[1], "y") + Attr(bars[1], "height"), tolerance: 0.1);
        // The axis runs 0 … 1.05 over 400 − 56 − 86 = 258 px: 0.5 is 258 × 0.5 / 1.05 ≈ 122.9 px tall.
        Assert.Equal(258 * 0.5 / 1.05, Attr(bars[0], "height"), tolerance: 0.5);

        var figure = JsonNode.Parse(chart.ToPlotlyJson())!;
        var errors = figure["data"]![0]!["error_y"]!;
        Assert.Equal([0.1, 0.0], errors["array"]!.AsArray().Select(n => Math.Round(n!.GetValue<double>(), 9)));
        Assert.Equal([0.1, 0.1], errors["arrayminus"]!.AsArray().Select(n => Math.Round(n!.GetValue<double>(), 9)));
    }

    [Fact]
    public void Histograms_share_round_bins_and_show_each_bin_as_a_share_of_its_group()
    {
        // 120 values from 0 to 99 in all: ⌈√120⌉ = 11 bins of 99 / 11 = 9, rounded up to 10, from 0: 10 bins.
        // The 100 values 0…99 put a tenth in each bin; the 20 values at 5 (a NaN is left out) fill one bin.
        var chart = Charts.Histograms("h", new Dictionary<string, IReadOnlyList<double>>
        {
            ["spread"] = [.. Enumerable.Range(0, 100).Select(i => (double)i)],
            ["point"] = [.. Enumerable.Repeat(5.0, 20), double.NaN],
        }, "x");
        Assert.Equal((0.0, 10.0, 10), chart.HistogramBins());
        var bins = JsonNode.Parse(chart.ToPlotlyJson())!["data"]![0]!["xbins"]!;
        Assert.Equal(0, bins["start"]!.GetValue<double>());
        Assert.Equal(10, bins["size"]!.GetValue<double>());

        var rects = XDocument.Parse(chart.ToSvg()).Descendants(Svg + "rect").Where(r => r.Attribute("fill-opacity") is not null).ToArray();
        Assert.Equal(10 + 1, rects.Length);
        var tenth = Attr(rects[0], "height");
        Assert.All(rects.Take(10), r => Assert.Equal(tenth, Attr(r, "height"), tolerance: 0.1));
        Assert.Equal(10 * tenth, Attr(rects[10], "height"), tolerance: 0.5);
    }

    [Fact]
    public void A_second_axis_line_uses_its_own_scale()
    {
        var chart = new Chart("t", "epoch", "loss", [
            new LineSeries("loss", [1, 2, 3], [10, 5, 0]),
            new LineSeries("auroc", [1, 2, 3], [0.5, 0.75, 1.0], RightAxis: true),
        ], RightYTitle: "AUROC");
        var circles = XDocument.Parse(chart.ToSvg()).Descendants(Svg + "circle").ToArray();
        Assert.Equal(6, circles.Length);
        // Both lines span their own axis from end to end, mirrored: the loss falls as the AUROC rises.
        Assert.Equal(Attr(circles[0], "cy"), Attr(circles[5], "cy"), tolerance: 0.1);
        Assert.Equal(Attr(circles[2], "cy"), Attr(circles[3], "cy"), tolerance: 0.1);
        Assert.Equal(Attr(circles[1], "cy"), Attr(circles[4], "cy"), tolerance: 0.1);
        Assert.Equal("y2", JsonNode.Parse(chart.ToPlotlyJson())!["data"]![1]!["yaxis"]!.GetValue<string>());
    }

    [Fact]
    public void An_axis_of_whole_numbers_gets_whole_ticks()
    {
        // Trials 0…11, padded 3 % each side: 11.66 / 5 ≈ 2.3 per tick rounds to 5, not 2.5.
        var chart = new Chart("c", "trial", "score", [new LineSeries("s", [.. Enumerable.Range(0, 12).Select(i => (double)i)], [.. Enumerable.Range(0, 12).Select(i => i / 12.0)])]);
        var labels = XDocument.Parse(chart.ToSvg()).Descendants(Svg + "text").Where(t => t.Attribute("text-anchor")?.Value == "middle" && t.Attribute("font-size") is null)
            .Select(t => t.Value).ToArray();
        Assert.Equal(["0", "5", "10"], labels);
    }
}
