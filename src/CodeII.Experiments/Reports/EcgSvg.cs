using System.Globalization;
using System.Net;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Reports;

/// <summary>
/// One ECG as a static SVG on ECG paper: 25 mm/s and 10 mm/mV at <see cref="PixelsPerMm"/>, 1 mm minor and 5 mm major
/// squares, a 1 mV × 200 ms calibration pulse at the start of each row, and the <see cref="EcgSheet"/> layout. Static, so
/// it shows wherever an image does (a notebook's saved outputs on a code host, a printed page); each drawn pixel column
/// keeps its sample minimum and maximum, so no spike is lost to the thinning.
/// </summary>
public static class EcgSvg
{
    public const double PixelsPerMm = 4;
    public const double MmPerSecond = 25;
    public const double MmPerMv = 10;

    /// <summary>Left of the time axis: room for the calibration pulse.</summary>
    public const double LeftMarginMm = 10;

    /// <summary>Above the first row's baseline: the title line and 1.5 mV of headroom.</summary>
    public const double TopMarginMm = 25;

    const double BottomMarginMm = 18;

    public static double XPixels(double seconds) => (LeftMarginMm + seconds * MmPerSecond) * PixelsPerMm;

    /// <summary>The y pixel of <paramref name="millivolts"/> in <paramref name="row"/> (y grows downwards).</summary>
    public static double YPixels(int row, double millivolts) => (TopMarginMm + (row * EcgSheet.RowSpacingMv - millivolts) * MmPerMv) * PixelsPerMm;

    public static string Render(EcgRecord record, BeatMarks? marks = null)
    {
        var sheet = EcgSheet.Lay(record);
        var width = XPixels(sheet.WidthSeconds) + 2 * PixelsPerMm;
        var height = YPixels(sheet.Rows - 1, 0) + BottomMarginMm * PixelsPerMm;
        var svg = new StringBuilder();
        svg.Append(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{width:0}" height="{height:0}" viewBox="0 0 {width:0} {height:0}" font-family="sans-serif">"""));
        svg.Append($"<title>{WebUtility.HtmlEncode($"ECG {record.ExamId}")}</title>");
        var minor = PixelsPerMm;
        var major = 5 * PixelsPerMm;
        svg.Append(Invariant($"""<defs><pattern id="minor" width="{minor}" height="{minor}" patternUnits="userSpaceOnUse"><path d="M {minor} 0 L 0 0 0 {minor}" fill="none" stroke="#fbe3e3" stroke-width="0.5"/></pattern>"""));
        svg.Append(Invariant($"""<pattern id="major" width="{major}" height="{major}" patternUnits="userSpaceOnUse"><rect width="{major}" height="{major}" fill="url(#minor)"/><path d="M {major} 0 L 0 0 0 {major}" fill="none" stroke="#f4b6b6" stroke-width="1"/></pattern></defs>"""));
        svg.Append(Invariant($"""<rect width="100%" height="100%" fill="#fff7f7"/><rect width="100%" height="100%" fill="url(#major)"/>"""));
        svg.Append(Invariant($"""<text x="{2 * PixelsPerMm}" y="{6 * PixelsPerMm}" font-size="15">{WebUtility.HtmlEncode(EcgSheet.Title(record))}</text>"""));

        for (var row = 0; row < sheet.Rows; row++)
        {
            // 1 mV for 200 ms, starting and ending on the baseline.
            double X(double mm) => (2 + mm) * PixelsPerMm;
            var (baseline, top) = (YPixels(row, 0), YPixels(row, 1));
            svg.Append(Invariant($"""<path d="M {X(0)} {baseline} L {X(1)} {baseline} L {X(1)} {top} L {X(6)} {top} L {X(6)} {baseline} L {X(7)} {baseline}" fill="none" stroke="#111" stroke-width="1"/>"""));
        }
        foreach (var segment in sheet.Segments)
        {
            svg.Append(Invariant($"""<text x="{XPixels(segment.StartSeconds) + 2 * PixelsPerMm}" y="{YPixels(segment.Row, 1.1)}" font-size="13">{WebUtility.HtmlEncode(segment.Label)}</text>"""));
            svg.Append("<path fill=\"none\" stroke=\"#111\" stroke-width=\"1\" stroke-linejoin=\"round\" d=\"");
            AppendTrace(svg, record.Signals[segment.Lead].AsSpan(segment.FirstSample, segment.SampleCount), record.SamplingRateHz, segment);
            svg.Append("\"/>");
        }
        var caption = "25 mm/s, 10 mm/mV; small squares 40 ms × 0.1 mV";
        if (marks is not null)
        {
            AppendMarks(svg, record, sheet, marks);
            caption += $". Dots: R peaks; lines: median-beat boundaries, P blue, QRS red, T green. {marks.Summary()}";
        }
        svg.Append(Invariant($"""<text x="{2 * PixelsPerMm}" y="{height - 5 * PixelsPerMm}" font-size="12" fill="#52606d">{WebUtility.HtmlEncode(caption)}</text>"""));
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>A dot on the trace at each R peak and a 16 mm vertical line across the baseline at each boundary; the
    /// classes and data attributes say what each one marks.</summary>
    static void AppendMarks(StringBuilder svg, EcgRecord record, EcgSheet sheet, BeatMarks marks)
    {
        foreach (var (segment, t, mark) in sheet.BoundariesOn(record, marks))
        {
            var x = XPixels(t);
            svg.Append(Invariant($"""<line class="boundary" data-wave="{mark.Wave}" data-point="{mark.Point}" data-lead="{WebUtility.HtmlEncode(segment.Label)}" x1="{x:0.#}" x2="{x:0.#}" y1="{YPixels(segment.Row, 0.8):0.#}" y2="{YPixels(segment.Row, -0.8):0.#}" stroke="{EcgPlot.WaveColours[mark.Wave]}" stroke-width="1" stroke-opacity="0.8"/>"""));
        }
        // The dots after every line, so no line is drawn over a dot.
        foreach (var (segment, t, v) in sheet.RPeaksOn(record, marks))
            svg.Append(Invariant($"""<circle class="r-peak" data-lead="{WebUtility.HtmlEncode(segment.Label)}" cx="{XPixels(t):0.#}" cy="{YPixels(segment.Row, v):0.#}" r="{PixelsPerMm * 0.8:0.#}" fill="#7b241c"/>"""));
    }

    /// <summary>The trace as path commands: per pixel column the samples' minimum and maximum, in time order; a gap
    /// (NaN, a dead lead) lifts the pen.</summary>
    static void AppendTrace(StringBuilder d, ReadOnlySpan<float> samples, double fs, EcgSheet.Segment segment)
    {
        var penDown = false;
        var column = int.MinValue;
        (int Index, float Value) low = default, high = default;
        void Flush(StringBuilder d)
        {
            if (column == int.MinValue) return;
            var (first, second) = low.Index <= high.Index ? (low, high) : (high, low);
            Point(d, first.Index, first.Value);
            if (second.Index != first.Index) Point(d, second.Index, second.Value);
            column = int.MinValue;
        }
        void Point(StringBuilder d, int index, float value)
        {
            d.Append(penDown ? " L " : " M ");
            d.Append(Invariant($"{XPixels(segment.StartSeconds + index / fs):0.#} {YPixels(segment.Row, value):0.#}"));
            penDown = true;
        }

        for (var k = 0; k < samples.Length; k++)
        {
            var value = samples[k];
            if (float.IsNaN(value))
            {
                Flush(d);
                penDown = false;
                continue;
            }
            var pixel = (int)Math.Floor(XPixels(segment.StartSeconds + k / fs));
            if (pixel != column)
            {
                Flush(d);
                column = pixel;
                low = high = (k, value);
            }
            else if (value < low.Value) low = (k, value);
            else if (value > high.Value) high = (k, value);
        }
        Flush(d);
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
