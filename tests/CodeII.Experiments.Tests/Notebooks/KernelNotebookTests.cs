using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;

namespace CodeII.Experiments.Tests.Notebooks;

/// <summary>
/// The notebooks that reference the library's package run, cell by cell, in the kernel VS Code's Polyglot Notebooks
/// extension runs: the Microsoft.dotnet-interactive tool (the repository's tool manifest), over its stdio protocol.
/// The packages are packed into the repository's local feed first, as <c>notebooks/pack.sh</c> does for a user.
/// </summary>
public class KernelNotebookTests(LocalFeed feed) : IClassFixture<LocalFeed>
{
    /// <summary>Whether a notebook loads the library as a package (its first cell names the notebook package): every
    /// notebook must; one that does not is listed, and fails, here.</summary>
    public static bool UsesThePackage(string notebook) => File.ReadAllText(notebook).Contains("CodeII.Experiments.Notebooks, ", StringComparison.Ordinal);

    public static TheoryData<string> PackageNotebooks() =>
        new(Directory.GetFiles(Path.Combine(RepoPaths.Root, "notebooks"), "*.ipynb").Select(Path.GetFileName).Order().ToArray()!);

    [Theory, MemberData(nameof(PackageNotebooks))]
    public async Task Every_cell_runs_in_the_dotnet_interactive_kernel_and_shows_a_DataFrame_and_a_chart(string notebook)
    {
        Assert.True(feed.Ready, feed.Problem);
        var path = Path.Combine(RepoPaths.Root, "notebooks", notebook);
        Assert.True(UsesThePackage(path), $"{notebook} does not load the workbench as a package from the local feed");
        var runs = await StdioKernel.RunNotebook(path);
        var failed = runs.Where(r => r.Failure is not null).Select(r => $"cell {r.Index}: {r.Failure}").ToArray();
        Assert.True(failed.Length == 0, string.Join("\n", failed));
        if (Environment.GetEnvironmentVariable("CODEII_REFRESH_NOTEBOOK_OUTPUTS") == "1") SavedOutputs.Write(path, runs);
        Assert.Contains(runs.SelectMany(r => r.Outputs), o => o.MimeType == "text/html" && o.Value.Contains("<table", StringComparison.Ordinal));
        // And a chart, as Plotly figure JSON (data and layout) with its SVG copy in the same output, for code hosts.
        var charts = runs.SelectMany(r => r.Outputs).Where(o => o.MimeType == "application/vnd.plotly.v1+json"
            && JsonNode.Parse(o.Value) is JsonObject figure && figure["data"] is JsonArray { Count: > 0 } && figure["layout"] is JsonObject).ToArray();
        Assert.NotEmpty(charts);
        Assert.All(charts, chart => Assert.Contains(runs.SelectMany(r => r.Outputs), o => o.Event == chart.Event && o.MimeType == "image/svg+xml"
            && System.Xml.Linq.XDocument.Parse(o.Value).Root!.Name.LocalName == "svg"));
    }

    [Fact]
    public async Task The_quickstart_shows_a_working_pipeline_experiment_and_sweep()
    {
        Assert.True(feed.Ready, feed.Problem);
        // Run after the notebook, in its kernel: what its cells computed.
        const string checks = """
            var problems = new List<string>();
            if (!(afAuroc > 0.9)) problems.Add($"the AF pipeline's test AUROC is {afAuroc}");
            foreach (var label in rhythm.PerLabel)
                if (!(label.Models.Single(m => m.Learner == "lightgbm").Auroc.Value >= 0.9)) problems.Add($"{label.Label}'s LightGBM AUROC is below 0.9");
            if (!File.Exists(result.ReportPath)) problems.Add("the experiment wrote no report");
            foreach (var label in swept.Trials.Where(t => t.Learner == "lightgbm").GroupBy(t => t.Labels[0]))
            {
                if (label.Count() != 8) problems.Add($"{label.Key}: {label.Count()} trials, not 8");
                if (label.First().Parameters["iterations"] != 4 || label.First().Parameters["leaves"] != 4) problems.Add($"{label.Key}: the first trial is not 4 trees of 4 leaves");
                if (label.Max(t => t.ValidationScore) < label.First().ValidationScore) problems.Add($"{label.Key}: tuning ended worse than it started");
            }
            display(problems.Count == 0 ? "quickstart checks passed" : "quickstart checks failed: " + string.Join("; ", problems));
            """;
        var runs = await StdioKernel.RunNotebook(Path.Combine(RepoPaths.Root, "notebooks", "quickstart.ipynb"), checks);
        Assert.All(runs, r => Assert.True(r.Failure is null, $"cell {r.Index}: {r.Failure}"));
        Assert.Contains(runs[^1].Outputs, o => o.Value == "quickstart checks passed");
        // The synthetic exam's summary names the class it was drawn with.
        Assert.Contains(runs.SelectMany(r => r.Outputs), o => o.Value.Contains("RBBB", StringComparison.Ordinal) && o.Value.Contains("patient", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_cell_that_throws_fails_the_notebook()
    {
        Assert.True(feed.Ready, feed.Problem);
        var notebook = Path.Combine(RepoPaths.NewTemporaryDirectory(), "broken.ipynb");
        File.WriteAllText(notebook, """
            {"cells":[
             {"cell_type":"code","metadata":{"polyglot_notebook":{"kernelName":"csharp"}},"outputs":[],"source":["var x = 1 + 1;"]},
             {"cell_type":"code","metadata":{"polyglot_notebook":{"kernelName":"csharp"}},"outputs":[],"source":["throw new InvalidOperationException(\"deliberately broken\");"]}
            ],"metadata":{"polyglot_notebook":{"kernelInfo":{"defaultKernelName":"csharp","items":[{"aliases":[],"name":"csharp"}]}}},"nbformat":4,"nbformat_minor":5}
            """);
        var runs = await StdioKernel.RunNotebook(notebook);
        Assert.Null(runs[0].Failure);
        Assert.Contains("deliberately broken", runs[1].Failure);
    }
}

/// <summary>Packs the library and its notebook companion into <c>local-feed/</c> once per test run with
/// <c>notebooks/pack.sh</c>, which also removes the copies NuGet and the kernel cached from an earlier pack.</summary>
public sealed class LocalFeed
{
    public LocalFeed()
    {
        // The same script a user runs: one way to make the feed.
        var start = new ProcessStartInfo("bash") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, "notebooks", "pack.sh"));
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) Problem = $"notebooks/pack.sh failed ({process.ExitCode}): {output.Result}{errors.Result}";
        else Ready = true;
    }

    public bool Ready { get; }
    public string Problem { get; } = "";
}

/// <summary>
/// Runs every C# cell of a notebook, in order, in the Microsoft.dotnet-interactive tool over its stdio protocol: one
/// command envelope per line in (SubmitCode), event envelopes out until the command succeeds or fails. A cell fails on
/// CommandFailed or any error output.
/// </summary>
static class StdioKernel
{
    /// <summary>One formatted value of one kernel event (<paramref name="Event"/> numbers the events of a cell).</summary>
    public sealed record Output(int Event, string Kind, string MimeType, string Value);
    public sealed record CellRun(int Index, string? Failure, IReadOnlyList<Output> Outputs);

    /// <param name="checks">C# run after the notebook's cells, in the same kernel, for a test to look at its state.</param>
    public static async Task<IReadOnlyList<CellRun>> RunNotebook(string path, params string[] checks)
    {
        var kernels = new KernelInfoCollection { new KernelInfo("csharp", "C#", aliases: ["c#", "C#"]) };
        var document = Notebook.Parse(await File.ReadAllTextAsync(path), kernels);
        var cellsToRun = document.Elements.Select(e => (KernelName: e.KernelName, Contents: e.Contents)).Concat(checks.Select(c => (KernelName: (string?)"csharp", Contents: c))).ToArray();
        var start = new ProcessStartInfo("dotnet")
        {
            // `dotnet tool run` finds the tool manifest from the repository; the kernel works in the notebook's folder, as in VS Code.
            WorkingDirectory = RepoPaths.Root, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        foreach (var a in new[] { "tool", "run", "dotnet-interactive", "--", "stdio", "--default-kernel", "csharp", "--working-dir", Path.GetDirectoryName(Path.GetFullPath(path))! })
            start.ArgumentList.Add(a);
        start.Environment["DOTNET_INTERACTIVE_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var events = Channel.CreateUnbounded<JsonObject>();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith('{')) continue; // the welcome banner
                try { if (JsonNode.Parse(line) is JsonObject o) await events.Writer.WriteAsync(o); }
                catch (JsonException) { }
            }
            events.Writer.Complete();
        });
        _ = process.StandardError.ReadToEndAsync();
        var runs = new List<CellRun>();
        try
        {
            var index = 0;
            foreach (var cell in cellsToRun)
            {
                index++;
                if (cell.KernelName is not ("csharp" or "C#" or "c#")) continue;
                var token = $"cell-{index}";
                var envelope = new JsonObject
                {
                    ["token"] = token, ["commandType"] = "SubmitCode",
                    ["command"] = new JsonObject { ["code"] = cell.Contents, ["targetKernelName"] = "csharp" },
                };
                await process.StandardInput.WriteLineAsync(envelope.ToJsonString());
                await process.StandardInput.FlushAsync();
                var outputs = new List<Output>();
                var eventNumber = 0;
                string? failure = null;
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                while (true)
                {
                    JsonObject e;
                    try { e = await events.Reader.ReadAsync(timeout.Token); }
                    catch (OperationCanceledException) { failure = "timed out after 5 minutes"; break; }
                    catch (ChannelClosedException) { failure = "the kernel exited"; break; }
                    var type = (string?)e["eventType"];
                    var body = e["event"] as JsonObject;
                    if (type is "DisplayedValueProduced" or "ReturnValueProduced" or "StandardOutputValueProduced")
                    {
                        eventNumber++;
                        foreach (var v in body?["formattedValues"]?.AsArray() ?? [])
                            outputs.Add(new Output(eventNumber, type, (string?)v?["mimeType"] ?? "", (string?)v?["value"] ?? ""));
                    }
                    if (type == "ErrorProduced") failure ??= "error output: " + (string?)body?["message"];
                    if (type == "CommandFailed" && (string?)e["command"]?["token"] == token) failure = (string?)body?["message"] ?? "CommandFailed";
                    if (type is "CommandSucceeded" or "CommandFailed" && (string?)e["command"]?["token"] == token) break;
                }
                runs.Add(new CellRun(index, failure, outputs));
                if (failure is "the kernel exited" or "timed out after 5 minutes") break;
            }
        }
        finally
        {
            try { process.StandardInput.Close(); } catch (IOException) { }
            if (!process.WaitForExit(5000)) process.Kill(entireProcessTree: true);
        }
        return runs;
    }
}

/// <summary>
/// Writes a kernel run's outputs into the notebook file, so a reader on a code host sees the results without running
/// it (<c>notebooks/refresh-outputs.sh</c>). An output over 300,000 characters is left
/// out with a note. The notebook's metadata names the commit the outputs came from.
/// </summary>
static class SavedOutputs
{
    const int Largest = 300_000;

    public static void Write(string path, IReadOnlyList<StdioKernel.CellRun> runs)
    {
        var notebook = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var cells = notebook["cells"]!.AsArray();
        foreach (var run in runs)
        {
            var outputs = new JsonArray();
            foreach (var group in run.Outputs.GroupBy(o => o.Event))
            {
                if (group.First().Kind == "StandardOutputValueProduced")
                {
                    outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = Lines(group.First().Value) });
                    continue;
                }
                var data = new JsonObject();
                foreach (var o in group)
                    data[o.MimeType] = o.Value.Length <= Largest ? Lines(o.Value)
                        : Lines($"(an output of {o.Value.Length / 1e6:F1} million characters is not saved here: run the cell to see it)");
                outputs.Add(new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() });
            }
            cells[run.Index - 1]!["outputs"] = outputs;
        }
        var commit = Process.Start(new ProcessStartInfo("git", "rev-parse --short HEAD") { WorkingDirectory = RepoPaths.Root, RedirectStandardOutput = true })!;
        var sha = commit.StandardOutput.ReadToEnd().Trim();
        commit.WaitForExit();
        notebook["metadata"]!["codeii"] = new JsonObject { ["outputs_from_commit"] = sha };
        File.WriteAllText(path, notebook.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n");
    }

    static JsonArray Lines(string text)
    {
        var lines = text.Split('\n');
        return [.. lines.Select((l, i) => (JsonNode)JsonValue.Create(i < lines.Length - 1 ? l + "\n" : l)!).Where(n => n.GetValue<string>().Length > 0)];
    }
}
