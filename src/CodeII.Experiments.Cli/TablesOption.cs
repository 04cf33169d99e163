using System.CommandLine;
using CodeII.Experiments.Reports;

namespace CodeII.Experiments.Cli;

/// <summary><c>--tables [folder]</c> of <c>report</c> and <c>compare</c>: every table of the page also as CSV and LaTeX.</summary>
static class TablesOption
{
    public static Option<DirectoryInfo?> Create(string defaultPlace) => new("--tables")
    {
        Description = $"Also write every table as CSV and LaTeX into this folder (default: {defaultPlace})",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Writes the tables when the option was given, into its folder or <paramref name="defaultDirectory"/>.</summary>
    public static void WriteIfAsked(ParseResult parse, Option<DirectoryInfo?> option, ReportDocument report, string defaultDirectory)
    {
        if (parse.GetResult(option) is null) return;
        var directory = parse.GetValue(option)?.FullName ?? defaultDirectory;
        IReadOnlyList<string> written = [];
        CliErrors.Writing(directory, () => written = ReportTables.Write(report.Tables, directory));
        Console.Error.WriteLine($"{written.Count} tables as CSV and LaTeX in {directory}");
    }
}
