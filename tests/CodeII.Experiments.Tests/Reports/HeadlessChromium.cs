using System.Globalization;
using Microsoft.Playwright;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>What a person would see opening one of our HTML pages in Debian's headless Chromium.</summary>
public sealed record PageVisit(IReadOnlyList<string> ConsoleErrors, IReadOnlyList<string> Requests, int ChartsRendered,
    int ChartSvgs, IReadOnlyList<(string Subset, string Label, string Learner, string Metric, string Text)> Cells, byte[] Screenshot)
{
    /// <summary>The markup of every chart's SVG, as the browser holds it.</summary>
    public string ChartSvgText { get; init; } = "";
}

public static class HeadlessChromium
{
    const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Debian's chromium, headless, with nothing of its own that would reach the network.</summary>
    public static Task<IBrowser> Launch(IPlaywright playwright)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run ./test.sh, which installs Debian's chromium");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    /// <summary>A new page whose console errors, page errors and requests are collected.</summary>
    public static async Task<(IPage Page, List<string> Errors, List<string> Requests)> Open(IBrowser browser, int width)
    {
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = 900 } });
        var errors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        page.Request += (_, request) => requests.Add(request.Url);
        return (page, errors, requests);
    }

    public static async Task<PageVisit> Visit(string pagePath)
    {
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Launch(playwright);
        var (page, errors, requests) = await Open(browser, 1280);

        var url = new Uri(pagePath).AbsoluteUri;
        await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForSelectorAsync("body[data-charts-rendered]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        var rendered = int.Parse(await page.GetAttributeAsync("body", "data-charts-rendered") ?? "0", CultureInfo.InvariantCulture);
        var svgs = await page.Locator(".plot .main-svg").CountAsync();
        var svgText = await page.EvaluateAsync<string>("() => [...document.querySelectorAll('div.plot')].map(p => p.innerHTML).join('\\n')");
        var cells = new List<(string, string, string, string, string)>();
        foreach (var cell in await page.Locator("td.metric").AllAsync())
            cells.Add((await cell.GetAttributeAsync("data-subset") ?? "", await cell.GetAttributeAsync("data-label") ?? "",
                await cell.GetAttributeAsync("data-learner") ?? "", await cell.GetAttributeAsync("data-metric") ?? "", (await cell.InnerTextAsync()).Trim()));
        var screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        return new PageVisit(errors, requests.Where(r => r != url).ToArray(), rendered, svgs, cells, screenshot) { ChartSvgText = svgText };
    }
}

/// <summary>A reviewer's walk through a report page: every link of its contents and every tab clicked, each section
/// photographed, one table sorted, and the page printed.</summary>
public sealed record PageTour(
    IReadOnlyList<string> ConsoleErrors,
    IReadOnlyList<string> Requests,
    int ChartsRendered,
    int Plots,
    int PlotsDrawn,
    IReadOnlyList<IReadOnlyDictionary<string, string>> MetricCells,
    IReadOnlyList<(string Href, bool TargetVisible)> ContentsLinks,
    IReadOnlyList<(string Panel, bool Shown, bool OthersHidden)> Tabs,
    IReadOnlyList<(string Section, double InkShare)> Sections,
    bool SortedAscending,
    bool SortedDescending,
    int PdfPages,
    bool PrintLaysOutEveryPanelAndChart,
    bool FragmentTargetOnScreen);

public static class ReportTour
{
    public static async Task<PageTour> Take(string pagePath, string screenshots)
    {
        Directory.CreateDirectory(screenshots);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await HeadlessChromium.Launch(playwright);
        var (page, errors, requests) = await HeadlessChromium.Open(browser, 1400);
        var url = new Uri(pagePath).AbsoluteUri;
        await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForSelectorAsync("body[data-charts-rendered]", new PageWaitForSelectorOptions { Timeout = 60_000 });
        var rendered = int.Parse(await page.GetAttributeAsync("body", "data-charts-rendered") ?? "0", CultureInfo.InvariantCulture);

        // Printed as loaded, before any tab is opened: every panel and every chart must be laid out at a real size.
        var pdf = await page.PdfAsync(new PagePdfOptions { Format = "A4", PrintBackground = true });
        File.WriteAllBytes(Path.Combine(screenshots, "report.pdf"), pdf);
        var pages = System.Text.RegularExpressions.Regex.Matches(System.Text.Encoding.Latin1.GetString(pdf), @"/Type\s*/Page(?!s)").Count;
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Print });
        var printed = await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('.tabpanel, div.plot')].every(e => { const r = e.getBoundingClientRect(); return r.width > 50 && r.height > 50; })");
        await page.EmulateMediaAsync(new PageEmulateMediaOptions { Media = Media.Screen });

        var cells = new List<IReadOnlyDictionary<string, string>>();
        foreach (var cell in await page.Locator("td.metric").AllAsync())
        {
            var attributes = await cell.EvaluateAsync<Dictionary<string, string>>("e => Object.fromEntries([...e.attributes].filter(a => a.name.startsWith('data-')).map(a => [a.name.slice(5), a.value]))");
            attributes["text"] = (await cell.TextContentAsync() ?? "").Trim();
            cells.Add(attributes);
        }

        // Every tab: its panel shows, the others of its group hide, and its charts get drawn at their size.
        var tabs = new List<(string, bool, bool)>();
        foreach (var tab in await page.Locator("button.tab").AllAsync())
        {
            var panel = await tab.GetAttributeAsync("data-panel") ?? "";
            await tab.ClickAsync();
            var shown = await page.Locator($"[id='{panel}']").IsVisibleAsync();
            var group = await page.Locator($"[id='{panel}']").GetAttributeAsync("data-group");
            var othersHidden = await page.EvaluateAsync<bool>("([id, group]) => [...document.querySelectorAll(`.tabpanel[data-group='${group}']`)].every(p => p.id === id || p.offsetParent === null)", new[] { panel, group });
            tabs.Add((panel, shown, othersHidden));
        }
        var drawn = await page.EvaluateAsync<int>("() => [...document.querySelectorAll('div.plot')].filter(p => { const s = p.querySelector('.main-svg'); return s && s.getBoundingClientRect !== undefined && s.querySelectorAll('path, rect').length > 0; }).length");
        var plots = await page.Locator("div.plot").CountAsync();

        // Every link of the contents: its target is on screen after the click (a tab's panel opens).
        var links = new List<(string, bool)>();
        foreach (var link in await page.Locator("nav#toc a").AllAsync())
        {
            var href = await link.GetAttributeAsync("href") ?? "";
            await link.ClickAsync();
            var target = page.Locator($"[id='{href.TrimStart('#')}']");
            links.Add((href, await target.IsVisibleAsync() && await target.EvaluateAsync<bool>("e => { const r = e.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }")));
        }

        // Each section (h2) and each tab panel photographed on its own.
        var sections = new List<(string, double)>();
        foreach (var id in await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('h2[id]')].map(h => h.id)"))
        {
            await page.EvaluateAsync("id => location.hash = id", id);
            var box = await page.EvaluateAsync<double[]>("id => { const h = document.getElementById(id); const top = h.getBoundingClientRect().top + scrollY; let bottom = h.getBoundingClientRect().bottom + scrollY; for (let e = h.nextElementSibling; e && e.tagName !== 'H2' && e.tagName !== 'SCRIPT'; e = e.nextElementSibling) bottom = Math.max(bottom, e.getBoundingClientRect().bottom + scrollY); return [top, bottom]; }", id);
            var height = Math.Max(1, Math.Min(box[1] - box[0], 4000));
            var png = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true, Clip = new Clip { X = 0, Y = (float)box[0], Width = 1400, Height = (float)height } });
            File.WriteAllBytes(Path.Combine(screenshots, $"{id}.png"), png);
            sections.Add((id, PngPixels.InkShare(png)));
        }

        // Sorting: the first metrics table's third column (its tab opened), clicked once and twice.
        async Task<double[]> Column(ILocator table, int column) =>
            [.. (await table.Locator($"tbody tr td:nth-child({column})").AllTextContentsAsync()).Select(t => double.TryParse(t.Split(' ')[0], CultureInfo.InvariantCulture, out var v) ? v : double.NaN).Where(double.IsFinite)];
        var sortable = page.Locator("table.sortable.metrics, table.sortable.models").First;
        await sortable.EvaluateAsync("t => { const panel = t.closest('.tabpanel'); if (panel) document.querySelector(`.tab[data-panel='${panel.id}']`).click(); }");
        var header = sortable.Locator("thead th:nth-child(3)");
        await header.ClickAsync();
        var up = await Column(sortable, 3);
        await header.ClickAsync();
        var down = await Column(sortable, 3);

        // Opened at an address with a fragment (a link from elsewhere), the page ends on its target once drawn.
        var lastSection = sections.Count > 0 ? sections[^1].Item1 : "";
        var (linked, _, _) = await HeadlessChromium.Open(browser, 1400);
        await linked.GotoAsync($"{url}#{lastSection}", new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await linked.WaitForSelectorAsync("body[data-charts-rendered]", new PageWaitForSelectorOptions { Timeout = 60_000 });
        var fragmentOnScreen = await linked.EvaluateAsync<bool>("id => { const r = document.getElementById(id).getBoundingClientRect(); return r.top >= -1 && r.top < innerHeight; }", lastSection);

        return new PageTour(errors, requests.Where(r => r != url && !r.StartsWith(url + "#", StringComparison.Ordinal)).ToArray(), rendered, plots, drawn, cells, links, tabs, sections,
            up.Length > 1 && up.SequenceEqual(up.Order()), down.Length > 1 && down.SequenceEqual(down.OrderDescending()), pages, printed, fragmentOnScreen);
    }
}
