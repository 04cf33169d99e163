using System.CommandLine;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Reports;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii report &lt;run folder&gt;</c>: rebuilds report.html from the folder's files alone.</summary>
static class ReportCommand
{
    public static Command Create()
    {
        var folder = new Argument<DirectoryInfo>("run-folder") { Description = "A finished run folder (runs/<experiment>/<timestamp>)" };
        var tables = TablesOption.Create("the run folder's tables/");
        var command = new Command("report", "Rebuild a run's HTML report from its folder (no retraining, no cache needed)") { folder, tables };
        command.SetAction(parse =>
        {
            var console = AnsiConsole.Console;
            try
            {
                var run = RunFolder.Open(parse.GetValue(folder)!.FullName);
                var report = RunReport.Render(run);
                run.WriteText(RunFolder.ReportFile, report.Html);
                Console.WriteLine(run.FileIn(RunFolder.ReportFile));
                TablesOption.WriteIfAsked(parse, tables, report, run.FileIn(ReportTables.Folder));
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or System.Text.Json.JsonException
                                           or ExperimentDefinitionException or Data.EcgDataException && Environment.GetEnvironmentVariable("CODEII_DEBUG") != "1")
            {
                console.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
