using Spectre.Console;

namespace CodeII.Experiments.Cli;

static class ConsoleWidth
{
    /// <summary>Spectre takes 80 columns when its output is not a terminal, which breaks tables and long lines in a
    /// file or a CI log; there the width is $COLUMNS when set, else wide enough for any table of ours.</summary>
    public static void WidenWhenRedirected(IAnsiConsole console)
    {
        if (console.Profile.Out.IsTerminal) return;
        console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 200;
    }
}
