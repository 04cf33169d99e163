using System.Net;
using System.Text;

namespace CodeII.Experiments.Reports;

/// <summary>A rendered report: its page, and every table of it for the run folder's CSV and LaTeX copies.</summary>
public sealed record ReportDocument(string Html, IReadOnlyList<ReportTable> Tables);

/// <summary>
/// Builds a report page: sections that make its table of contents, tab groups (one panel shown at a time on screen,
/// every panel in print), tables kept for export, and charts drawn once the page has loaded. The page carries its own
/// script for the tabs and for sorting tables, so it still needs no network.
/// </summary>
public sealed class ReportPage(string title)
{
    readonly StringBuilder body = new();
    readonly List<PlotlyPage.Chart> charts = [];
    readonly List<ReportTable> tables = [];
    readonly List<(string Id, string Title, int Depth)> contents = [];

    public string Title { get; } = title;

    /// <summary>Raw HTML for the page body.</summary>
    public ReportPage Append(string html) { body.Append(html); return this; }

    /// <summary>A heading that the table of contents links to; depth 0 is a section (h2), 1 a subsection (h3).</summary>
    public ReportPage Heading(string id, string text, int depth = 0)
    {
        contents.Add((id, text, depth));
        body.Append(depth == 0 ? $"<h2 id=\"{E(id)}\">{E(text)}</h2>\n" : $"<h3 id=\"{E(id)}\">{E(text)}</h3>\n");
        return this;
    }

    public ReportPage Table(ReportTable table)
    {
        tables.Add(table);
        body.Append(table.ToHtml());
        return this;
    }

    /// <summary>A table for the CSV and LaTeX files only, where the page draws its own richer version.</summary>
    public ReportPage Export(ReportTable table)
    {
        tables.Add(table);
        return this;
    }

    /// <summary>A chart's box in the page, drawn by plotly once the page loads.</summary>
    public ReportPage Chart(string id, object data, object layout, string cssClass = "chart")
    {
        body.Append($"<div id=\"{E(id)}\" class=\"{E(cssClass)} plot\"></div>\n");
        charts.Add(new PlotlyPage.Chart(id, data, layout));
        return this;
    }

    /// <summary>One tab per panel; the first is shown. Each panel's id is also a link target of the table of contents,
    /// which opens its tab.</summary>
    public ReportPage Tabs(string group, IReadOnlyList<(string Id, string Title, Action Panel)> panels)
    {
        if (panels.Count == 0) return this;
        body.Append($"<div class=\"tabs\" role=\"tablist\" data-group=\"{E(group)}\">");
        for (var k = 0; k < panels.Count; k++)
            body.Append($"<button type=\"button\" role=\"tab\" class=\"tab\" data-panel=\"{E(panels[k].Id)}\" aria-selected=\"{(k == 0 ? "true" : "false")}\">{E(panels[k].Title)}</button>");
        body.Append("</div>\n");
        for (var k = 0; k < panels.Count; k++)
        {
            contents.Add((panels[k].Id, panels[k].Title, 1));
            body.Append($"<section class=\"tabpanel{(k == 0 ? " active" : "")}\" role=\"tabpanel\" id=\"{E(panels[k].Id)}\" data-group=\"{E(group)}\">")
                .Append($"<h3 class=\"panel-title\">{E(panels[k].Title)}</h3>\n");
            panels[k].Panel();
            body.Append("</section>\n");
        }
        return this;
    }

    public ReportDocument Render(string intro, string styles)
    {
        var html = new StringBuilder(PlotlyPage.Head(Title, Styles + styles));
        html.Append($"<h1>{E(Title)}</h1>\n").Append(intro);
        html.Append("<nav id=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>");
        var open = false;
        foreach (var (id, text, depth) in contents)
        {
            if (depth == 0)
            {
                if (open) html.Append("</ol></li>");
                html.Append($"<li><a href=\"#{E(id)}\">{E(text)}</a><ol>");
                open = true;
            }
            else html.Append($"<li><a href=\"#{E(id)}\">{E(text)}</a></li>");
        }
        if (open) html.Append("</ol></li>");
        html.Append("</ol></nav>\n").Append(body).Append(Script);
        PlotlyPage.AppendCharts(html, charts);
        return new ReportDocument(html.ToString(), tables);
    }

    const string Styles = """
        nav#toc { background: #f8fafc; border: 1px solid #d9e2ec; padding: .5rem 1rem; font-size: .9rem; columns: 2; }
        nav#toc ol { margin: .2rem 0; padding-left: 1.2rem; } nav#toc > ol > li { break-inside: avoid; }
        .tabs { display: flex; flex-wrap: wrap; gap: .25rem; border-bottom: 2px solid #d9e2ec; margin-top: 1rem; }
        .tab { border: 1px solid #d9e2ec; border-bottom: none; background: #f0f4f8; padding: .35rem .9rem; cursor: pointer; font: inherit; border-radius: 4px 4px 0 0; }
        .tab[aria-selected=true] { background: #fff; font-weight: 600; border-color: #9fb3c8; }
        .panel-title { display: none; }
        /* Every panel shows until the charts are drawn, so each chart takes its real size; then only the chosen tab. */
        .charts-drawn .tabpanel:not(.active) { display: none; }
        .scroll { overflow: auto; max-height: 70vh; max-width: 100%; }
        .scroll thead th { position: sticky; top: 0; z-index: 1; box-shadow: 0 1px 0 #d9e2ec; }
        table.sortable th { cursor: pointer; user-select: none; } th[aria-sort=ascending]::after { content: " ▲"; } th[aria-sort=descending]::after { content: " ▼"; }
        .legend { display: flex; flex-wrap: wrap; gap: .3rem 1rem; font-size: .85rem; margin: .4rem 0; }
        .legend span::before { content: ""; display: inline-block; width: 1.4em; height: .25em; margin-right: .35em; vertical-align: middle; background: var(--colour); }
        .warning { border-left: 4px solid #d64545; background: #fff5f5; padding: .5rem 1rem; }
        @media print {
          body { max-width: none; margin: 0; } nav#toc { columns: 2; } .tabs { display: none; }
          .charts-drawn .tabpanel:not(.active), .tabpanel { display: block !important; } .panel-title { display: block; break-after: avoid; }
          .scroll { overflow: visible; max-height: none; } .scroll thead th { position: static; }
          h2 { break-before: page; } h2, h3 { break-after: avoid; } tr, .plot { break-inside: avoid; } .modebar { display: none !important; }
        }

        """;

    /// <summary>Tabs (also opened from a link or the address's #fragment), sortable tables (numbers by value, text
    /// alphabetically; "n/a" last either way), and charts resized when their tab is shown or the page is printed.</summary>
    const string Script = """
        <script>
        (() => {
          const resize = root => root.querySelectorAll('.plot.js-plotly-plot').forEach(p => Plotly.Plots.resize(p));
          const open = id => {
            const panel = document.getElementById(id);
            const target = panel && (panel.classList.contains('tabpanel') ? panel : panel.closest('.tabpanel'));
            if (!target) return;
            const group = target.dataset.group;
            document.querySelectorAll(`.tabpanel[data-group="${group}"]`).forEach(p => p.classList.toggle('active', p === target));
            document.querySelectorAll(`.tabs[data-group="${group}"] .tab`).forEach(t => t.setAttribute('aria-selected', String(t.dataset.panel === target.id)));
            if (window.Plotly) resize(target);
          };
          document.querySelectorAll('.tab').forEach(t => t.addEventListener('click', () => open(t.dataset.panel)));
          document.querySelectorAll('a[href^="#"]').forEach(a => a.addEventListener('click', () => open(a.getAttribute('href').slice(1))));
          const fragment = () => decodeURIComponent(location.hash.slice(1));
          window.addEventListener('hashchange', () => open(fragment()));
          if (location.hash) open(fragment());
          // Hiding the other tabs once the charts are drawn moves everything up: go back to the address's target.
          document.addEventListener('codeii-charts-drawn', () => { if (location.hash) { open(fragment()); document.getElementById(fragment())?.scrollIntoView(); } });
          // A number: the cell's leading value ("0.991 (0.983–0.998)", "+0.012, p 0.03", "45.2 %"), not a label such as "1dAVb".
          const key = text => { const m = /^[+−-]?\d+(\.\d+)?(?=$|[\s(,%])/.exec(text.trim()); return m ? parseFloat(m[0].replace('−', '-')) : null; };
          document.querySelectorAll('table.sortable').forEach(table => table.querySelectorAll('thead th').forEach((th, column) => th.addEventListener('click', () => {
            const ascending = th.getAttribute('aria-sort') !== 'ascending';
            table.querySelectorAll('thead th').forEach(h => h.removeAttribute('aria-sort'));
            th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
            const body = table.tBodies[0];
            const rows = [...body.rows].map((row, index) => ({ row, index, text: row.cells[column]?.innerText ?? '' }));
            // Numbers before text whichever the direction, so "n/a" stays last.
            rows.sort((a, b) => {
              const [x, y] = [key(a.text), key(b.text)];
              if ((x === null) !== (y === null)) return x === null ? 1 : -1;
              const order = x !== null ? x - y : a.text.localeCompare(b.text);
              return (ascending ? order : -order) || a.index - b.index;
            });
            rows.forEach(r => body.appendChild(r.row));
          })));
          window.addEventListener('beforeprint', () => { if (window.Plotly) resize(document); });
        })();
        </script>

        """;

    static string E(string s) => WebUtility.HtmlEncode(s);
}
