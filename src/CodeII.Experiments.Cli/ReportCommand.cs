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
        var folder = new Argument<DirectoryInfo>("run-folder") { Description = "A finished run folder (runs/<experiment>/<timestamp>)" }.AcceptExistingOnly();
        var tables = TablesOption.Create("the run folder's tables/");
        var command = new Command("report", "Rebuild a run's HTML report from its folder (no retraining, no cache needed)") { folder, tables };
        command.SetAction(parse => CliErrors.Run(AnsiConsole.Console, () =>
        {
            var run = RunFolder.Open(parse.GetValue(folder)!.FullName);
            var report = RunReport.Render(run);
            CliErrors.Writing(run.FileIn(RunFolder.ReportFile), () => run.WriteText(RunFolder.ReportFile, report.Html));
            Console.WriteLine(run.FileIn(RunFolder.ReportFile));
            TablesOption.WriteIfAsked(parse, tables, report, run.FileIn(ReportTables.Folder));
            return CliErrors.Success;
        }));
        return command;
    }
}
