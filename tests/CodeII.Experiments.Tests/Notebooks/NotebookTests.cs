using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace CodeII.Experiments.Tests.Notebooks;

/// <summary>What a Polyglot notebook's C# kernel gives every cell; here <c>display</c> records instead of rendering.</summary>
public sealed class NotebookGlobals
{
    public List<object?> Displayed { get; } = [];
    public object? display(object? value) { Displayed.Add(value); return value; }
}

/// <summary>Runs the notebooks' C# cells with Roslyn scripting, in order and sharing state, as the kernel would.</summary>
public partial class NotebookTests
{
    static string NotebooksDirectory => Path.Combine(RepoPaths.Root, "notebooks");

    /// <summary>The notebooks that load the library by path; those that reference its package run in the real kernel
    /// (<see cref="KernelNotebookTests"/>).</summary>
    public static TheoryData<string> Notebooks() =>
        new(Directory.GetFiles(NotebooksDirectory, "*.ipynb").Where(n => !KernelNotebookTests.UsesThePackage(n)).Select(Path.GetFileName).Order().ToArray()!);

    [GeneratedRegex("^#r\\s+\"(?<target>[^\"]+)\"\\s*$", RegexOptions.Multiline)]
    private static partial Regex ReferenceDirective();

    static IReadOnlyList<string> CSharpCells(string notebookPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(notebookPath));
        var defaultKernel = doc.RootElement.GetProperty("metadata").GetProperty("polyglot_notebook").GetProperty("kernelInfo").GetProperty("defaultKernelName").GetString();
        var cells = new List<string>();
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            var kernel = cell.GetProperty("metadata").TryGetProperty("polyglot_notebook", out var p) ? p.GetProperty("kernelName").GetString() : defaultKernel;
            Assert.Equal("csharp", kernel);
            cells.Add(string.Concat(cell.GetProperty("source").EnumerateArray().Select(s => s.GetString())));
        }
        return cells;
    }

    /// <summary>Drops <c>#r</c> lines after checking that file references point at what the build produces.</summary>
    static string WithoutReferences(string cell, string notebookPath)
    {
        foreach (Match m in ReferenceDirective().Matches(cell))
        {
            var target = m.Groups["target"].Value;
            if (target.StartsWith("nuget:", StringComparison.Ordinal)) continue;
            var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(notebookPath)!, target));
            Assert.True(File.Exists(path), $"{Path.GetFileName(notebookPath)} references {target}, which the build does not produce");
        }
        return ReferenceDirective().Replace(cell, "");
    }

    static async Task<(ScriptState<object> State, NotebookGlobals Globals)> RunNotebook(string name)
    {
        var path = Path.Combine(NotebooksDirectory, name);
        var options = ScriptOptions.Default
            .WithReferences(typeof(CodeII.Experiments.Data.EcgRecord).Assembly, typeof(Microsoft.ML.MLContext).Assembly,
                typeof(Microsoft.ML.IDataView).Assembly, typeof(Enumerable).Assembly,
                typeof(Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer).Assembly, typeof(Microsoft.ML.Data.TextLoader).Assembly)
            .WithImports("System", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks", "System.Text")
            .WithLanguageVersion(Microsoft.CodeAnalysis.CSharp.LanguageVersion.Latest);
        var globals = new NotebookGlobals();
        ScriptState<object>? state = null;
        var cells = CSharpCells(path);
        Assert.NotEmpty(cells);
        for (var i = 0; i < cells.Count; i++)
        {
            var code = WithoutReferences(cells[i], path);
            try
            {
                state = state is null
                    ? await CSharpScript.RunAsync(code, options, globals, typeof(NotebookGlobals))
                    : await state.ContinueWithAsync(code, options);
            }
            catch (CompilationErrorException e)
            {
                Assert.Fail($"{name}, code cell {i + 1} does not compile: {string.Join("; ", e.Diagnostics)}");
            }
        }
        return (state!, globals);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public async Task Every_code_cell_runs(string notebook)
    {
        var (_, globals) = await RunNotebook(notebook);
        Assert.NotEmpty(globals.Displayed);
    }

    [Fact]
    public async Task The_quickstart_notebook_shows_ground_truth_features_and_a_report()
    {
        var (state, globals) = await RunNotebook("quickstart.ipynb");
        var summary = Assert.IsType<string>(globals.Displayed[0]);
        Assert.Contains("RBBB", summary);
        var report = ((CodeII.Experiments.Experiments.RunResult)state.GetVariable("result").Value).ReportPath;
        Assert.EndsWith("report.html", report);
        Assert.True(File.Exists(report));
        Assert.True((double)state.GetVariable("afAuroc").Value > 0.9);
        var rhythm = (CodeII.Experiments.Evaluation.SubsetMetrics)state.GetVariable("rhythm").Value;
        foreach (var label in rhythm.PerLabel)
            Assert.True(label.Models.Single(m => m.Learner == "lightgbm").Auroc.Value >= 0.9, $"{label.Label} AUROC below 0.9");
        // The engine on its own: 8 LightGBM trials per rhythm label from 4 trees of 4 leaves, never worse than where they started.
        var swept = (CodeII.Experiments.Sweep.SweepResult)state.GetVariable("swept").Value;
        foreach (var label in swept.Trials.Where(t => t.Learner == "lightgbm").GroupBy(t => t.Labels[0]))
        {
            Assert.Equal(8, label.Count());
            Assert.Equal((4.0, 4.0), (label.First().Parameters["iterations"], label.First().Parameters["leaves"]));
            Assert.True(label.Max(t => t.ValidationScore) >= label.First().ValidationScore);
        }
    }
}
