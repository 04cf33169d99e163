using System.Globalization;
using System.Net;
using System.Text;

namespace CodeII.Experiments.Notebooks;

/// <summary>Bin widths and axis ticks at round numbers (1, 2, 2.5 or 5 × 10ⁿ).</summary>
static class ChartBins
{
    /// <param name="whole">Whole numbers only (trials, epochs): no 2.5 and nothing below 1.</param>
    public static double RoundStep(double rough, bool whole = false)
    {
        if (!(rough > 0) || !double.IsFinite(rough)) return 1;
        if (whole && rough <= 1) return 1;
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (var m in whole ? (double[])[1, 2, 5, 10] : [1, 2, 2.5, 5, 10])
            if (m * power >= rough * (1 - 1e-9)) return m * power;
        return 10 * power;
    }

    /// <summary>About √n bins (10 to 40) of a round width covering every value.</summary>
    public static (double Start, double Width, int Count) For(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return (0, 1, 1);
        var (min, max) = (values.Min(), values.Max());
        if (max <= min) return (min - 0.5, 1, 1);
        var width = RoundStep((max - min) / Math.Clamp(Math.Ceiling(Math.Sqrt(values.Count)), 10, 40));
        var start = Math.Floor(min / width) * width;
        return (start, width, (int)Math.Floor((max - start) / width) + 1);
    }

    public static double[] Ticks(double low, double high, bool whole = false)
    {
        var step = RoundStep((high - low) / 5, whole);
        var first = Math.Ceiling(low / step - 1e-9) * step;
        return [.. Enumerable.Range(0, (int)Math.Floor((high - first) / step + 1e-9) + 1).Select(k => Math.Round(first + k * step, 10))];
    }
}

/// <summary>A <see cref="Chart"/> as a static SVG: axes with round ticks, bars with whiskers, overlaid histograms, lines
/// with markers, a second y axis on the right, and a legend when there is more than one series.</summary>
static class ChartSvg
{
    const double Width = 720, Height = 400, Top = 56, Bottom = 86, Left = 70;
    static readonly string[] Palette = ["#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880"];

    sealed record Axis(double Low, double High, double From, double To)
    {
        public double Map(double value) => From + (value - Low) / (High - Low) * (To - From);
    }

    public static string Render(Chart chart)
    {
        var right = chart.RightYTitle is null ? 24.0 : 70.0;
        // The legend (more than one series) wraps into rows above the plot, which moves down to make room.
        var legend = new List<(double X, double Y, int Series)>();
        if (chart.Series.Count > 1)
        {
            var (itemX, itemY) = (Left, Top - 20.0);
            for (var s = 0; s < chart.Series.Count; s++)
            {
                var itemWidth = 16 + 7 * chart.Series[s].Name.Length + 18;
                if (itemX > Left && itemX + itemWidth > Width - right) (itemX, itemY) = (Left, itemY + 16);
                legend.Add((itemX, itemY, s));
                itemX += itemWidth;
            }
        }
        var legendRows = legend.Select(l => l.Y).Distinct().Count();
        var height = Height + Math.Max(0, legendRows - 1) * 16;
        var (plotLeft, plotRight, plotTop, plotBottom) = (Left, Width - right, Top + Math.Max(0, legendRows - 1) * 16, height - Bottom);
        var svg = new StringBuilder();
        svg.Append(I($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="12">"""));
        svg.Append($"<title>{E(chart.Title)}</title>");
        svg.Append(I($"""<rect width="100%" height="100%" fill="#fff"/><text x="{Width / 2}" y="22" font-size="15" text-anchor="middle">{E(chart.Title)}</text>"""));

        var bars = chart.Series.OfType<BarSeries>().ToArray();
        var histograms = chart.Series.OfType<HistogramSeries>().ToArray();
        var lines = chart.Series.OfType<LineSeries>().ToArray();
        var bins = chart.HistogramBins();
        var shares = histograms.Select(h => Shares(h, bins)).ToArray();

        // y: from 0 for bars and histograms, the lines' range (padded) otherwise.
        var leftValues = bars.SelectMany(b => b.Upper ?? b.Values).Concat(shares.SelectMany(s => s)).Concat(lines.Where(l => !l.RightAxis).SelectMany(l => l.Y)).Where(double.IsFinite).ToArray();
        var y = YAxis(leftValues, fromZero: bars.Length + histograms.Length > 0, plotBottom, plotTop);
        var y2 = chart.RightYTitle is null ? null : YAxis([.. lines.Where(l => l.RightAxis).SelectMany(l => l.Y).Where(double.IsFinite)], false, plotBottom, plotTop);

        Axis? x = null;
        var wholeX = histograms.Length == 0 && lines.SelectMany(l => l.X).All(v => !double.IsFinite(v) || v == Math.Round(v));
        if (histograms.Length > 0) x = new Axis(bins.Start, bins.Start + bins.Count * bins.Width, plotLeft, plotRight);
        else if (lines.Length > 0)
        {
            var xs = lines.SelectMany(l => l.X).Where(double.IsFinite).DefaultIfEmpty(0).ToArray();
            var (low, high) = (xs.Min(), xs.Max());
            if (high <= low) (low, high) = (low - 1, high + 1);
            var pad = (high - low) * 0.03;
            x = new Axis(low - pad, high + pad, plotLeft, plotRight);
        }

        // Grid and y ticks.
        foreach (var tick in ChartBins.Ticks(y.Low, y.High))
            svg.Append(I($"""<line x1="{plotLeft}" x2="{plotRight}" y1="{y.Map(tick):0.#}" y2="{y.Map(tick):0.#}" stroke="#e5e7eb"/><text x="{plotLeft - 6}" y="{y.Map(tick) + 4:0.#}" text-anchor="end">{Number(tick)}</text>"""));
        if (y2 is not null)
            foreach (var tick in ChartBins.Ticks(y2.Low, y2.High))
                svg.Append(I($"""<text x="{plotRight + 6}" y="{y2.Map(tick) + 4:0.#}">{Number(tick)}</text>"""));

        var xTitleY = plotBottom + 40;
        if (bars.Length > 0)
        {
            var categories = bars.SelectMany(b => b.Categories).Distinct().ToArray();
            var band = (plotRight - plotLeft) / Math.Max(1, categories.Length);
            var barWidth = band * 0.7 / bars.Length;
            var rotate = categories.Length > 8 || categories.Any(c => c.Length * 7 > band);
            if (rotate) xTitleY = height - 10;
            for (var c = 0; c < categories.Length; c++)
            {
                var centre = plotLeft + (c + 0.5) * band;
                svg.Append(rotate
                    ? I($"""<text transform="translate({centre:0.#},{plotBottom + 14}) rotate(-35)" text-anchor="end">{E(categories[c])}</text>""")
                    : I($"""<text x="{centre:0.#}" y="{plotBottom + 16}" text-anchor="middle">{E(categories[c])}</text>"""));
            }
            for (var s = 0; s < bars.Length; s++)
                for (var k = 0; k < bars[s].Categories.Count; k++)
                {
                    var value = bars[s].Values[k];
                    if (!double.IsFinite(value)) continue;
                    var left = plotLeft + Array.IndexOf(categories, bars[s].Categories[k]) * band + band * 0.15 + s * barWidth;
                    var (top, zero) = (y.Map(Math.Max(value, y.Low)), y.Map(Math.Max(0, y.Low)));
                    svg.Append(I($"""<rect x="{left:0.#}" y="{Math.Min(top, zero):0.#}" width="{barWidth:0.#}" height="{Math.Abs(zero - top):0.#}" fill="{Palette[s % Palette.Length]}"><title>{E(bars[s].Categories[k])}: {Number(value)}</title></rect>"""));
                    if (bars[s].Lower is { } lower && bars[s].Upper is { } upper)
                    {
                        var middle = left + barWidth / 2;
                        svg.Append(I($"""<path d="M {middle:0.#} {y.Map(lower[k]):0.#} L {middle:0.#} {y.Map(upper[k]):0.#} M {middle - 5:0.#} {y.Map(lower[k]):0.#} L {middle + 5:0.#} {y.Map(lower[k]):0.#} M {middle - 5:0.#} {y.Map(upper[k]):0.#} L {middle + 5:0.#} {y.Map(upper[k]):0.#}" stroke="#111" stroke-width="1.2"/>"""));
                    }
                }
        }
        if (x is not null)
            foreach (var tick in ChartBins.Ticks(x.Low, x.High, wholeX))
                svg.Append(I($"""<text x="{x.Map(tick):0.#}" y="{plotBottom + 16}" text-anchor="middle">{Number(tick)}</text>"""));
        for (var h = 0; h < histograms.Length; h++)
            for (var b = 0; b < bins.Count; b++)
            {
                if (shares[h][b] <= 0) continue;
                var (left, rightEdge) = (x!.Map(bins.Start + b * bins.Width), x.Map(bins.Start + (b + 1) * bins.Width));
                svg.Append(I($"""<rect x="{left:0.##}" y="{y.Map(shares[h][b]):0.#}" width="{rightEdge - left:0.##}" height="{y.Map(0) - y.Map(shares[h][b]):0.#}" fill="{Palette[h % Palette.Length]}" fill-opacity="0.6"/>"""));
            }
        for (var l = 0; l < lines.Length; l++)
        {
            var axis = lines[l].RightAxis && y2 is not null ? y2 : y;
            var colour = Palette[(bars.Length + histograms.Length + l) % Palette.Length];
            var points = lines[l].X.Zip(lines[l].Y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).Select(p => (X: x!.Map(p.First), Y: axis.Map(p.Second))).ToArray();
            if (points.Length == 0) continue;
            svg.Append($"<path fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" d=\"M {string.Join(" L ", points.Select(p => I($"{p.X:0.#} {p.Y:0.#}")))}\"/>");
            foreach (var p in points) svg.Append(I($"""<circle cx="{p.X:0.#}" cy="{p.Y:0.#}" r="3" fill="{colour}"/>"""));
        }

        // Axes, titles and legend.
        svg.Append(I($"""<path d="M {plotLeft} {plotTop} L {plotLeft} {plotBottom} L {plotRight} {plotBottom}" fill="none" stroke="#444"/>"""));
        svg.Append(I($"""<text x="{(plotLeft + plotRight) / 2}" y="{xTitleY}" text-anchor="middle" font-size="13">{E(chart.XTitle)}</text>"""));
        svg.Append(I($"""<text transform="translate(16,{(plotTop + plotBottom) / 2}) rotate(-90)" text-anchor="middle" font-size="13">{E(chart.YTitle)}</text>"""));
        if (chart.RightYTitle is not null)
            svg.Append(I($"""<text transform="translate({Width - 14},{(plotTop + plotBottom) / 2}) rotate(90)" text-anchor="middle" font-size="13">{E(chart.RightYTitle)}</text>"""));
        foreach (var (itemX, itemY, series) in legend)
            svg.Append(I($"""<rect x="{itemX}" y="{itemY}" width="12" height="12" fill="{Palette[series % Palette.Length]}"/><text x="{itemX + 16}" y="{itemY + 10}">{E(chart.Series[series].Name)}</text>"""));
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Each bin's share of the series' finite values.</summary>
    static double[] Shares(HistogramSeries series, (double Start, double Width, int Count) bins)
    {
        var counts = new double[bins.Count];
        var finite = series.Values.Where(double.IsFinite).ToArray();
        foreach (var v in finite) counts[Math.Clamp((int)Math.Floor((v - bins.Start) / bins.Width), 0, bins.Count - 1)]++;
        return [.. counts.Select(c => finite.Length == 0 ? 0 : c / finite.Length)];
    }

    static Axis YAxis(IReadOnlyList<double> values, bool fromZero, double bottom, double top)
    {
        var (low, high) = values.Count == 0 ? (0.0, 1.0) : (values.Min(), values.Max());
        if (fromZero) (low, high) = (Math.Min(0, low), Math.Max(0, high));
        if (high <= low) (low, high) = (low - 0.5, high + 0.5);
        var pad = (high - low) * 0.05;
        return new Axis(fromZero && low >= 0 ? low : low - pad, high + pad, bottom, top);
    }

    static string Number(double value) => value.ToString("G4", CultureInfo.InvariantCulture);
    static string E(string s) => WebUtility.HtmlEncode(s);
    static string I(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
