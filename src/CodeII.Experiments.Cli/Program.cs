using System.CommandLine;
using CodeII.Experiments.Cli;

ConsoleWidth.WidenWhenRedirected(Spectre.Console.AnsiConsole.Console);
var root = new RootCommand("codeii: automated machine-learning experiments on 12-lead ECGs (CODE-II workbench)");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(CompareCommand.Create());
root.Subcommands.Add(DataCommand.Create());
root.Subcommands.Add(FeaturesCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
root.Subcommands.Add(ClusterCommand.Status());
root.Subcommands.Add(ClusterCommand.Task());
var parse = root.Parse(args);
// A command line the parser refuses is a usage error (2), like a bad definition; the parser's own default is 1.
if (parse.Errors.Count > 0) return CliErrors.ParseErrors(parse);
return await parse.InvokeAsync();
