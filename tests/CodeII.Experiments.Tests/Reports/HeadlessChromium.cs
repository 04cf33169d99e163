using System.Globalization;
using Microsoft.Playwright;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>What a person would see opening one of our HTML pages in Debian's headless Chromium.</summary>
public sealed record PageVisit(IReadOnlyList<string> ConsoleErrors, IReadOnlyList<string> Requests, int ChartsRendered,
    int ChartSvgs, IReadOnlyList<(string Subset, string Label, string Learner, string Metric, string Text)> Cells, byte[] Screenshot);

public static class HeadlessChromium
{
    const string ChromiumPath = "/usr/bin/chromium";

    public static async Task<PageVisit> Visit(string pagePath)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run ./test.sh, which installs Debian's chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        var errors = new List<string>();
        var requests = new List<string>();
        page.Console += (_, message) => { if (message.Type == "error") errors.Add(message.Text); };
        page.PageError += (_, error) => errors.Add(error);
        page.Request += (_, request) => requests.Add(request.Url);

        var url = new Uri(pagePath).AbsoluteUri;
        await page.GotoAsync(url, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForSelectorAsync("body[data-charts-rendered]", new PageWaitForSelectorOptions { Timeout = 30_000 });
        var rendered = int.Parse(await page.GetAttributeAsync("body", "data-charts-rendered") ?? "0", CultureInfo.InvariantCulture);
        var svgs = await page.Locator(".plot .main-svg").CountAsync();
        var cells = new List<(string, string, string, string, string)>();
        foreach (var cell in await page.Locator("td.metric").AllAsync())
            cells.Add((await cell.GetAttributeAsync("data-subset") ?? "", await cell.GetAttributeAsync("data-label") ?? "",
                await cell.GetAttributeAsync("data-learner") ?? "", await cell.GetAttributeAsync("data-metric") ?? "", (await cell.InnerTextAsync()).Trim()));
        var screenshot = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        return new PageVisit(errors, requests.Where(r => r != url).ToArray(), rendered, svgs, cells, screenshot);
    }
}
