using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Tests.Experiments;
using Microsoft.Playwright;

namespace CodeII.Experiments.Tests.Reports;

/// <summary>Opens the report in Debian's headless Chromium, as a reviewer would, and checks what is on screen.</summary>
public class HtmlReportInBrowserTests(SmallExperiment small) : IClassFixture<SmallExperiment>
{
    const string ChromiumPath = "/usr/bin/chromium";

    sealed record PageVisit(IReadOnlyList<string> ConsoleErrors, IReadOnlyList<string> Requests, int ChartsRendered,
        int ChartSvgs, IReadOnlyList<(string Subset, string Label, string Learner, string Metric, string Text)> Cells, byte[] Screenshot);

    static async Task<PageVisit> Visit(string reportPath)
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

        var url = new Uri(reportPath).AbsoluteUri;
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

    static string Shown(JsonElement estimate)
    {
        static string F(JsonElement e) => e.ValueKind == JsonValueKind.String ? "n/a" : e.GetDouble().ToString("F3", CultureInfo.InvariantCulture);
        var lower = estimate.GetProperty("lower");
        return lower.ValueKind == JsonValueKind.String
            ? F(estimate.GetProperty("value"))
            : $"{F(estimate.GetProperty("value"))} ({F(lower)}–{F(estimate.GetProperty("upper"))})";
    }

    [Fact]
    public async Task Charts_render_offline_without_console_errors_and_the_numbers_equal_the_metrics_file()
    {
        var visit = await Visit(small.Result.ReportPath);
        File.WriteAllBytes(Path.Combine(small.Result.Folder.Path, "report-screenshot.png"), visit.Screenshot);

        Assert.Empty(visit.ConsoleErrors);
        Assert.Empty(visit.Requests);
        // Two heatmaps (one per subset) and one ROC chart per distinct label.
        Assert.Equal(2 + 6, visit.ChartsRendered);
        Assert.True(visit.ChartSvgs >= visit.ChartsRendered, $"{visit.ChartSvgs} chart SVGs for {visit.ChartsRendered} charts");

        using var metrics = JsonDocument.Parse(File.ReadAllText(small.Result.Folder.FileIn(RunFolder.MetricsFile)));
        var expected = new List<(string, string, string, string, string)>();
        foreach (var subset in metrics.RootElement.GetProperty("subsets").EnumerateArray())
        {
            var name = subset.GetProperty("name").GetString()!;
            foreach (var macro in subset.GetProperty("macro_auroc").EnumerateObject())
                expected.Add((name, "*", macro.Name, "macro_auroc", Shown(macro.Value)));
            foreach (var label in subset.GetProperty("per_label").EnumerateArray())
            {
                var labelName = label.GetProperty("label").GetString()!;
                var prevalence = label.GetProperty("test_positives").GetDouble() / label.GetProperty("test_exams").GetDouble();
                expected.Add((name, labelName, "*", "prevalence", prevalence.ToString("F3", CultureInfo.InvariantCulture)));
                foreach (var model in label.GetProperty("models").EnumerateArray())
                    foreach (var metric in new[] { "auroc", "auprc", "f1" })
                        expected.Add((name, labelName, model.GetProperty("learner").GetString()!, metric, Shown(model.GetProperty(metric))));
            }
        }
        Assert.Equal(expected.Count, visit.Cells.Count);
        Assert.Equal(expected.Order(), visit.Cells.Order());
    }
}
