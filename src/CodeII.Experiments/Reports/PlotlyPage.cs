using System.Text;
using System.Text.Json;

namespace CodeII.Experiments.Reports;

/// <summary>
/// The shared shell of every HTML page we write: plotly.js embedded from the Plotly.NET assembly (so pages open offline
/// and make no network request) and a script that draws the charts, then marks the body with data-charts-rendered.
/// </summary>
public static class PlotlyPage
{
    static readonly Lazy<string> PlotlyJs = new(() =>
    {
        var assembly = typeof(Plotly.NET.Chart).Assembly;
        var name = assembly.GetManifestResourceNames().FirstOrDefault(n => n.Contains("plotly-") && n.EndsWith(".min.js", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException("Plotly.NET no longer embeds plotly.js; pages cannot be made self-contained");
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public sealed record Chart(string Id, object Data, object Layout);

    /// <summary>The start of every report page, up to the open body: its title, and the styles all reports share
    /// followed by <paramref name="styles"/> of its own.</summary>
    public static string Head(string title, string styles) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{System.Net.WebUtility.HtmlEncode(title)}}</title>
        <style>
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1f2933; }
        h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d9e2ec; padding-bottom: .3rem; }
        table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; } .scroll { overflow-x: auto; }
        th, td { border: 1px solid #d9e2ec; padding: .3rem .6rem; text-align: right; }
        th { background: #f0f4f8; } td.text, th.text { text-align: left; }
        .meta { color: #52606d; font-size: .9rem; } .grid { display: flex; flex-wrap: wrap; gap: .5rem; }
        code { background: #f0f4f8; padding: 0 .25rem; }
        {{styles}}
        </style></head><body>

        """;

    /// <summary>NaN and infinities (an undefined ROC curve, say) become null, which plotly draws as a gap; JSON has no
    /// literal for them.</summary>
    sealed class NonFiniteAsNull : System.Text.Json.Serialization.JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }

    static readonly JsonSerializerOptions ChartJson = new() { Converters = { new NonFiniteAsNull() } };

    /// <summary>
    /// Plotly reads chart text (titles, trace names, category labels, hover text) as HTML of its own: a class or lead
    /// name such as <c>&lt;a href=…&gt;</c> would become a link. Every string is written as text (&amp;, &lt;, &gt; as
    /// entities, which plotly shows as the characters), except the templates this code writes, which keep their markup,
    /// and the chart's element id.
    /// </summary>
    static void EscapeText(System.Text.Json.Nodes.JsonNode? node, string? key)
    {
        switch (node)
        {
            case System.Text.Json.Nodes.JsonObject o:
                foreach (var (name, child) in o.ToArray()) EscapeText(child, name);
                break;
            case System.Text.Json.Nodes.JsonArray a:
                foreach (var child in a.ToArray()) EscapeText(child, key);
                break;
            // The chart's id names its element in the page, as written there.
            case System.Text.Json.Nodes.JsonValue v when key is not ("hovertemplate" or "texttemplate" or "id") && v.TryGetValue<string>(out var text)
                                                         && text.IndexOfAny(['&', '<', '>']) >= 0:
                v.ReplaceWith(System.Text.Json.Nodes.JsonValue.Create(text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;")));
                break;
        }
    }

    /// <summary>Appends plotly.js and the drawing script; call last, before closing the body.</summary>
    public static void AppendCharts(StringBuilder html, IEnumerable<Chart> charts)
    {
        html.Append("<script>").Append(PlotlyJs.Value).Append("</script>\n<script>\n");
        var figures = JsonSerializer.SerializeToNode(charts.Select(c => new { id = c.Id, data = c.Data, layout = c.Layout }), ChartJson)!;
        EscapeText(figures, key: null);
        html.Append("const codeiiCharts = ").Append(figures.ToJsonString()).Append(";\n");
        html.Append("""
            Promise.all(codeiiCharts.map(c => Plotly.newPlot(c.id, c.data, c.layout, { displaylogo: false, responsive: true })))
              .then(() => {
                document.body.classList.add('charts-drawn');
                document.dispatchEvent(new Event('codeii-charts-drawn'));
                document.body.dataset.chartsRendered = String(codeiiCharts.length);
              });
            </script>
            </body></html>
            """);
    }
}
