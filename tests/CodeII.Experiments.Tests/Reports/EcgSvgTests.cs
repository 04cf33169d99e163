using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Reports;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>The static ECG against ECG paper's published scale: 25 mm/s and 10 mm/mV, here at 4 pixels per mm.</summary>
public class EcgSvgTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>12 leads at 500 Hz, flat except lead I: +1 mV from 1.0 s to 1.5 s.</summary>
    static EcgRecord StepInLeadI()
    {
        var signals = Enumerable.Range(0, 12).Select(_ => new float[5000]).ToArray();
        for (var k = 500; k < 750; k++) signals[0][k] = 1f;
        return new EcgRecord
        {
            ExamId = "step", PatientId = "p1", SamplingRateHz = 500, Leads = StandardLeads.Twelve, Signals = signals,
            RecordedSamples = Range.All, Labels = new HashSet<string> { "RBBB" },
        };
    }

    static (double X, double Y)[] Points(XElement path) =>
        [.. Regex.Matches(path.Attribute("d")!.Value, @"[ML] (-?[\d.]+) (-?[\d.]+)").Select(m => (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))];

    [Fact]
    public void A_one_millivolt_step_rises_ten_millimetres_and_starts_twenty_five_millimetres_per_second_in()
    {
        var svg = XDocument.Parse(EcgSvg.Render(StepInLeadI()));
        var labels = svg.Descendants(Svg + "text").Select(t => t.Value).ToArray();
        foreach (var lead in StandardLeads.Twelve) Assert.Contains(lead, labels);
        Assert.Equal(2, labels.Count(l => l == "II")); // the lead II segment and the rhythm strip

        // Traces: 12 segments and the rhythm strip; the 4 calibration pulses are drawn before them.
        var traces = svg.Descendants(Svg + "path").Where(p => p.Attribute("stroke-linejoin") is not null).ToArray();
        Assert.Equal(13, traces.Length);
        var leadI = Points(traces[0]);
        // Layout by hand: the left margin is 10 mm = 40 px; row 0's baseline is 25 mm = 100 px down.
        var baseline = 100.0;
        Assert.Equal(baseline, leadI.Max(p => p.Y), tolerance: 1);
        // 1 mV = 10 mm = 40 px up (y grows downwards).
        Assert.Equal(baseline - 40, leadI.Min(p => p.Y), tolerance: 1);
        // The step starts at 1.0 s = 25 mm = 100 px after the margin, and ends at 1.5 s = 37.5 mm = 150 px after it.
        var high = leadI.Where(p => p.Y < baseline - 20).Select(p => p.X).ToArray();
        Assert.Equal(40 + 100, high.Min(), 0.5);
        Assert.Equal(40 + 150, high.Max(), tolerance: 1);
        // The first column ends at 2.5 s: 62.5 mm = 250 px after the margin.
        Assert.Equal(40 + 250, leadI.Max(p => p.X), tolerance: 1);
        // Thinned to at most two points per pixel column, not 1,250 samples.
        Assert.InRange(leadI.Length, 250, 2 * 251);

        // Every calibration pulse is 1 mV (40 px) high and 200 ms (5 mm = 20 px) wide.
        var pulses = svg.Descendants(Svg + "path").Where(p => p.Attribute("stroke-linejoin") is null && p.Attribute("stroke")?.Value == "#111").Select(Points).ToArray();
        Assert.Equal(4, pulses.Length);
        Assert.All(pulses, pulse =>
        {
            Assert.Equal(40, pulse.Max(p => p.Y) - pulse.Min(p => p.Y), tolerance: 1);
            var top = pulse.Where(p => p.Y == pulse.Min(q => q.Y)).Select(p => p.X).ToArray();
            Assert.Equal(20, top.Max() - top.Min(), tolerance: 1);
        });
    }

    [Fact]
    public void A_spike_of_one_sample_survives_the_thinning_and_a_dead_lead_lifts_the_pen()
    {
        var record = StepInLeadI();
        record.Signals[1][1000] = 2f; // lead II, one sample at 2.0 s: a 2 mV spike, 80 px tall
        for (var k = 0; k < 5000; k++) record.Signals[2][k] = k is >= 200 and < 400 ? float.NaN : 0f; // lead III dead 0.4–0.8 s
        var traces = XDocument.Parse(EcgSvg.Render(record)).Descendants(Svg + "path").Where(p => p.Attribute("stroke-linejoin") is not null).ToArray();
        // Lead II is the second segment of the first column (row 1: baseline 25 + 30 mm = 220 px).
        Assert.Equal(220 - 80, Points(traces[1]).Min(p => p.Y), tolerance: 1);
        Assert.Equal(2, Regex.Matches(traces[2].Attribute("d")!.Value, "M ").Count);
    }

    [Fact]
    public void A_PTB_XL_record_draws_all_its_leads_and_names_its_labels()
    {
        var source = EcgSources.Open(RepoPaths.Shared("ptbxl"));
        var record = source.Read(EcgSources.IndexOf(source, "8", "ptbxl"));
        var text = EcgSvg.Render(record);
        var svg = XDocument.Parse(text);
        Assert.Equal(13, svg.Descendants(Svg + "path").Count(p => p.Attribute("stroke-linejoin") is not null));
        Assert.Contains(svg.Descendants(Svg + "text"), t => t.Value.StartsWith("Exam 8 ", StringComparison.Ordinal) && t.Value.Contains(" Hz · ", StringComparison.Ordinal));
        Assert.InRange(text.Length, 20_000, 200_000);
    }
}
