using System.CommandLine;
using System.Text.Json;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Runs;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii compare &lt;run folder&gt; &lt;run folder&gt; … [--out report.html] [--tables dir]</c>: a cross-run report.</summary>
static class CompareCommand
{
    public static Command Create()
    {
        var folders = new Argument<DirectoryInfo[]>("run-folders") { Description = "Two or more finished run folders", Arity = ArgumentArity.OneOrMore }.AcceptExistingOnly();
        var output = new Option<FileInfo>("--out") { Description = "The comparison page; its JSON (same name, .json) is written beside it", DefaultValueFactory = _ => new FileInfo("comparison.html") };
        var tables = TablesOption.Create("tables/ beside the page");
        var replicates = new Option<int>("--bootstrap") { Description = "Bootstrap resamples of patients", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the resamples", DefaultValueFactory = _ => 42 };
        var command = new Command("compare", "Compare the models of several runs on the labels they share (paired when the runs tested the same patients)")
            { folders, output, tables, replicates, seed };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var console = AnsiConsole.Console;
            var given = parse.GetValue(folders)!;
            if (given.Length < 2) throw new UsageException("give at least two run folders to compare");
            var runs = given.Select(f => ComparedRuns.Read(RunFolder.Open(f.FullName))).ToList();
            // The same experiment started in the same second, or one folder given twice, still needs two names.
            for (var k = 0; k < runs.Count; k++)
                if (runs.Take(k).Any(r => r.Name == runs[k].Name)) runs[k] = runs[k] with { Name = $"{runs[k].Name}#{k + 1}" };
            var comparison = RunComparer.Compare(runs, parse.GetValue(replicates), seed: parse.GetValue(seed));
            var page = parse.GetValue(output)!.FullName;
            var directory = Path.GetDirectoryName(page)!;
            var report = ComparisonReport.Render(comparison);
            CliErrors.Writing(page, () =>
            {
                Directory.CreateDirectory(directory);
                AtomicFile.WriteText(Path.ChangeExtension(page, ".json"), JsonSerializer.Serialize(comparison, JsonConventions.Options) + "\n");
                AtomicFile.WriteText(page, report.Html);
            });
            if (comparison.Warning is { } warning) console.MarkupLineInterpolated($"[yellow]warning:[/] {warning}");
            foreach (var d in comparison.Differences)
                Console.WriteLine($"{d.Run} {d.Model} − {d.VersusRun} {d.VersusModel}: {HtmlReport.Format(d.Difference)} ({(d.Paired ? "paired" : "unpaired")}{(d.Significant ? ", significant" : "")})");
            TablesOption.WriteIfAsked(parse, tables, report, Path.Combine(directory, ReportTables.Folder));
            Console.WriteLine(page);
            return CliErrors.Success;
        }));
        return command;
    }
}
