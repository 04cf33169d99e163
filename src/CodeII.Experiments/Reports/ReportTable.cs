using System.Globalization;
using System.Net;
using System.Text;

namespace CodeII.Experiments.Reports;

/// <summary>One cell: its text, and for the HTML page a class, a tooltip and data attributes (which tests match to the
/// JSON the numbers came from).</summary>
public sealed record TableCell(string Text, string? Class = null, IReadOnlyDictionary<string, string>? Data = null, string? Title = null)
{
    public static implicit operator TableCell(string text) => new(text, "text");

    /// <summary>A right-aligned number; <c>number</c> cells are outside the tests that read <c>metric</c> cells.</summary>
    public static TableCell Number(string text) => new(text, "number");
    public static TableCell Number(double value) => new(HtmlReport.Format(value), "number");
    public static TableCell Count(int value) => new(value.ToString(CultureInfo.InvariantCulture), "number");
}

public sealed record TableRow(IReadOnlyList<TableCell> Cells, string? Class = null);

/// <summary>
/// A table of a report, written three ways from the same cells: into the HTML page (sortable, with a sticky header), and
/// into the run folder as CSV and as a LaTeX <c>tabular</c> (booktabs) for papers.
/// </summary>
public sealed record ReportTable(string Id, string Caption, IReadOnlyList<string> Headers, IReadOnlyList<TableRow> Rows)
{
    /// <summary>The HTML class of the table, for its styles and for tests.</summary>
    public string HtmlClass { get; init; } = "";
    public bool Sortable { get; init; } = true;

    public string ToHtml()
    {
        var html = new StringBuilder($"<div class=\"scroll\"><table id=\"table-{E(Id)}\" class=\"{E(HtmlClass)}{(Sortable ? " sortable" : "")}\" data-table=\"{E(Id)}\">");
        // A table of facts (key, value) has no header on the page.
        if (Headers.Any(h => h.Length > 0))
        {
            html.Append("<thead><tr>");
            for (var c = 0; c < Headers.Count; c++)
                html.Append($"<th class=\"{(IsNumeric(c) ? "" : "text")}\"{(Sortable ? " title=\"sort\"" : "")}>{E(Headers[c])}</th>");
            html.Append("</tr></thead>");
        }
        html.Append("<tbody>\n");
        foreach (var row in Rows)
        {
            html.Append(row.Class is null ? "<tr>" : $"<tr class=\"{E(row.Class)}\">");
            foreach (var cell in row.Cells)
            {
                html.Append("<td");
                if (cell.Class is not null) html.Append($" class=\"{E(cell.Class)}\"");
                if (cell.Title is not null) html.Append($" title=\"{E(cell.Title)}\"");
                foreach (var (key, value) in cell.Data ?? new Dictionary<string, string>()) html.Append($" data-{key}=\"{E(value)}\"");
                html.Append('>').Append(E(cell.Text)).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        return html.Append("</tbody></table></div>\n").ToString();
    }

    /// <summary>RFC 4180: fields with commas, quotes or line breaks are quoted, quotes doubled.</summary>
    public string ToCsv()
    {
        static string Field(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{s.Replace("\"", "\"\"")}\"" : s;
        var csv = new StringBuilder(string.Join(",", HeadersOrNames.Select(Field))).Append('\n');
        foreach (var row in Rows) csv.Append(string.Join(",", row.Cells.Select(c => Field(c.Text)))).Append('\n');
        return csv.ToString();
    }

    /// <summary>A <c>table</c> float with a booktabs <c>tabular</c>: text columns left, numbers right, special characters escaped.</summary>
    public string ToLatex()
    {
        var align = string.Concat(Enumerable.Range(0, Headers.Count).Select(c => IsNumeric(c) ? 'r' : 'l'));
        var tex = new StringBuilder("% requires \\usepackage{booktabs}\n\\begin{table}\n\\centering\n")
            .Append($"\\caption{{{Latex(Caption)}}}\n\\label{{tab:{ReportTables.FileName(Id)}}}\n\\begin{{tabular}}{{{align}}}\n\\toprule\n")
            .Append(string.Join(" & ", HeadersOrNames.Select(Latex))).Append(" \\\\\n\\midrule\n");
        foreach (var row in Rows) tex.Append(string.Join(" & ", row.Cells.Select(c => Latex(c.Text)))).Append(" \\\\\n");
        return tex.Append("\\bottomrule\n\\end{tabular}\n\\end{table}\n").ToString();
    }

    /// <summary>LaTeX's ten special characters, the characters the default OT1 text font prints as others (&lt;, &gt;, |),
    /// and the typographic and Greek characters our tables use, so the file compiles with pdflatex as well as xelatex.</summary>
    public static string Latex(string s)
    {
        var tex = new StringBuilder();
        foreach (var ch in s)
            tex.Append(ch switch
            {
                '\\' => "\\textbackslash{}", '&' => "\\&", '%' => "\\%", '$' => "\\$", '#' => "\\#", '_' => "\\_",
                '{' => "\\{", '}' => "\\}", '~' => "\\textasciitilde{}", '^' => "\\textasciicircum{}",
                '–' => "--", '—' => "---", '−' => "$-$", '±' => "$\\pm$", '×' => "$\\times$", '≥' => "$\\geq$", '≤' => "$\\leq$", '★' => "$\\star$",
                '<' => "$<$", '>' => "$>$", '|' => "$|$", 'Δ' => "$\\Delta$", 'ρ' => "$\\rho$", 'μ' => "$\\mu$", 'µ' => "$\\mu$", '√' => "$\\surd$",
                '∛' => "$\\sqrt[3]{}$", '·' => "$\\cdot$", '²' => "$^2$", '³' => "$^3$", '°' => "$^\\circ$", '…' => "\\ldots{}", 'é' => "\\'e", 'ö' => "\\\"o",
                _ => ch.ToString(),
            });
        return tex.ToString();
    }

    bool IsNumeric(int column) => Rows.Count > 0 && Rows.All(r => column < r.Cells.Count && r.Cells[column].Class != "text");

    /// <summary>A file needs column names even where the page shows none: a table of facts is (item, value).</summary>
    IEnumerable<string> HeadersOrNames => Headers.Any(h => h.Length > 0) ? Headers : Headers.Select((_, c) => c == 0 ? "item" : "value");

    static string E(string s) => WebUtility.HtmlEncode(s);
}

/// <summary>Writes a report's tables as <c>&lt;id&gt;.csv</c> and <c>&lt;id&gt;.tex</c> into a folder.</summary>
public static class ReportTables
{
    /// <summary>The folder of a run (or comparison) the tables go to by default.</summary>
    public const string Folder = "tables";

    public static IReadOnlyList<string> Write(IEnumerable<ReportTable> tables, string directory)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        foreach (var table in tables)
        {
            // Two ids can clean to one name (a/b and a-b): the second gets a number rather than replacing the first.
            var name = FileName(table.Id);
            for (var k = 2; written.Contains(name, StringComparer.OrdinalIgnoreCase); k++) name = $"{FileName(table.Id)}-{k}";
            AtomicFile.WriteText(Path.Combine(directory, name + ".csv"), table.ToCsv());
            AtomicFile.WriteText(Path.Combine(directory, name + ".tex"), table.ToLatex());
            written.Add(name);
        }
        return written;
    }

    /// <summary>Ids carry label and model names (<c>handcrafted+learned/lightgbm</c>): anything but letters, digits,
    /// dots, dashes and underscores becomes a dash, so a name can never leave the folder.</summary>
    public static string FileName(string id)
    {
        var name = new string(id.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '-').ToArray());
        return name.Trim('.').Length > 0 ? name : "table";
    }
}
