using System.Globalization;
using System.Xml.Linq;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Data.Wfdb;
using CodeII.Experiments.Features;
using CodeII.Experiments.Reports;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>
/// <c>codeii data plot --annotate</c> with a time window. Where a mark is drawn is read back from the SVG through ECG
/// paper's published scale (25 mm/s at 4 px/mm, after a 10 mm margin) and compared with what the marks stand for: the
/// generator's true R peaks and QRS boundaries, and the cardiologists' beat annotations of MIT-BIH.
/// </summary>
public class AnnotatedPlotTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Seconds on the sheet's time axis from an SVG x coordinate: x = (10 mm + 25 mm/s · t) · 4 px/mm.</summary>
    static double SheetSeconds(XElement element, string attribute) =>
        (double.Parse(element.Attribute(attribute)!.Value, CultureInfo.InvariantCulture) / 4 - 10) / 25;

    static double[] Marks(XDocument svg, string element, string lead, string? wave = null, string? point = null) =>
        [.. svg.Descendants(Svg + element)
            .Where(e => e.Attribute("data-lead")?.Value == lead && (wave is null || e.Attribute("data-wave")?.Value == wave) && (point is null || e.Attribute("data-point")?.Value == point))
            .Select(e => SheetSeconds(e, element == "circle" ? "cx" : "x1")).Order()];

    /// <summary>Every mark has a true point within <paramref name="tolerance"/> seconds and the other way round.</summary>
    static void AssertPaired(double[] drawn, double[] truth, double tolerance, string what)
    {
        Assert.True(drawn.Length > 0, $"no {what} drawn");
        Assert.All(drawn, t => Assert.True(truth.Any(u => Math.Abs(u - t) <= tolerance), $"{what} drawn at {t:0.###} s has no true one within {tolerance * 1000} ms (true: {string.Join(", ", truth.Select(u => u.ToString("0.###")))})"));
        Assert.All(truth, u => Assert.True(drawn.Any(t => Math.Abs(u - t) <= tolerance), $"true {what} at {u:0.###} s is not drawn (drawn: {string.Join(", ", drawn.Select(t => t.ToString("0.###")))})"));
    }

    [Fact]
    public void The_marks_of_a_window_sit_on_the_generators_true_R_peaks_and_QRS_boundaries()
    {
        var (record, truth) = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 1, Seed = 5, NoiseScale = 0 }).Generate(0);
        var fs = record.SamplingRateHz;
        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var window = record.Window(2, 5);
        Assert.Equal(2, window.StartSeconds, 6);
        Assert.Equal(record.Signals[0][start + (int)(2 * fs)], window.Signals[0][0]);
        var svg = XDocument.Parse(EcgSvg.Render(window, BeatMarks.Find(window)));
        Assert.Contains("2–7 s of 10 s", svg.Descendants(Svg + "text").First().Value);

        // True times within the window, in seconds from its first sample; beats whose QRS the window cuts are left out.
        double[] Within(IEnumerable<double> samples) => [.. samples.Select(s => (s - start) / fs - 2).Where(t => t > 0.15 && t < 4.85)];
        // The lead II rhythm strip spans the whole window (the lead II segment of the first column repeats its first 2.5 s).
        var qrsOn = Within(truth.QrsOnsetSamples.Select(s => (double)s));
        AssertPaired(Marks(svg, "circle", "II").Where(t => t > 0.15 && t < 4.85).ToArray(), Within(truth.RPeakSamples.Select(s => (double)s)), 0.025, "R peak");
        AssertPaired(Marks(svg, "line", "II", "QRS", "onset").Where(t => t > 0.1 && t < 4.8).ToArray(), qrsOn, 0.025, "QRS onset");
        AssertPaired(Marks(svg, "line", "II", "QRS", "offset").Where(t => t > 0.25 && t < 4.95).ToArray(),
            [.. qrsOn.Select(t => t + truth.QrsMs / 1000)], 0.025, "QRS offset");
    }

    [Fact]
    public void A_thirty_minute_MIT_BIH_record_plots_one_readable_window_with_a_dot_on_each_annotated_beat()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var record = RepoPaths.Shared("mitdb-ds1", "101");
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "plot", record, "--record", "101", "--from", "600", "--seconds", "10", "--annotate", "--out", "101.svg");
        Assert.True(exit == 0, stderr + stdout);
        var file = new FileInfo(Path.Combine(dir, "101.svg"));
        // Two rows of 10 s at 25 mm/s: 250 mm of trace, 10 mm of calibration margin and 2 mm to spare, at 4 px/mm.
        var svg = XDocument.Load(file.FullName);
        Assert.Equal("1048", svg.Root!.Attribute("width")!.Value);
        Assert.True(file.Length < 300_000, $"{file.Length:N0} bytes for 10 s of two leads");
        Assert.Contains("600–610 s of 1805.6 s", svg.Descendants(Svg + "text").First().Value);

        var beats = WfdbAnnotationReader.Read(record + ".atr").Where(a => a.IsBeat).Select(a => a.Sample / 360.0 - 600)
            .Where(t => t > 0.2 && t < 9.8).ToArray();
        Assert.InRange(beats.Length, 8, 20);
        AssertPaired(Marks(svg, "circle", "MLII").Where(t => t > 0.2 && t < 9.8).ToArray(), beats, 0.075, "beat");
    }

    [Fact]
    public void A_long_record_without_a_window_gets_ten_seconds_and_a_window_past_its_end_is_refused()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var record = RepoPaths.Shared("mitdb-ds1", "101");
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "plot", record, "--record", "101", "--out", "101.svg");
        Assert.True(exit == 0, stderr + stdout);
        Assert.Contains("plotting 0–10 s (choose with --from and --seconds)", stdout);
        Assert.Contains("0–10 s of 1805.6 s", XDocument.Load(Path.Combine(dir, "101.svg")).Descendants(Svg + "text").First().Value);

        (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "plot", record, "--record", "101", "--from", "1900", "--out", "late.svg");
        Assert.Equal(2, exit);
        Assert.Contains("--from 1900 s is past the end of record 101, which lasts 1805.556 s", stderr + stdout);
        Assert.False(File.Exists(Path.Combine(dir, "late.svg")));
    }

    [Fact]
    public async Task The_annotated_interactive_plot_renders_offline_with_the_marks_as_four_more_traces()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var (exit, stdout, stderr) = CliTests.Codeii(dir, "data", "plot", RepoPaths.Shared("ptbxl"), "--record", "8", "--annotate", "--out", "8.html");
        Assert.True(exit == 0, stderr + stdout);
        var html = File.ReadAllText(Path.Combine(dir, "8.html"));
        // 13 lead segments, then R peaks and the P, QRS and T boundaries.
        Assert.Equal(17, System.Text.RegularExpressions.Regex.Matches(html, "\"type\":\"scattergl\"").Count);
        var visit = await HeadlessChromium.Visit(Path.Combine(dir, "8.html"));
        Assert.Empty(visit.ConsoleErrors);
        Assert.Empty(visit.Requests);
        Assert.Equal(1, visit.ChartsRendered);
    }
}
