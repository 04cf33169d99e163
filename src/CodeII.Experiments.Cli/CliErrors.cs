using System.CommandLine;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Models;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary>A command line that asks for something the command cannot do as written (exit code 2), found by the
/// command itself rather than by the parser: an option's value out of range, a destination that is a file.</summary>
sealed class UsageException(string message) : Exception(message);

/// <summary>An output the file system would not take, named as the user gave it (not by its temporary name).</summary>
sealed class CannotWriteException(string path, string reason, Exception inner) : IOException($"cannot write {path}: {reason}", inner);

/// <summary>
/// The one error boundary of every command: an exception becomes one <c>error:</c> line and an exit code, so a user
/// sees what is wrong and where, never our stack. <c>CODEII_DEBUG=1</c> lets the exception through for a bug report.
/// </summary>
static class CliErrors
{
    public const int Success = 0;
    /// <summary>The data or a file could not be read or written.</summary>
    public const int DataOrIo = 1;
    /// <summary>The command line or the definition is wrong as written.</summary>
    public const int Usage = 2;
    /// <summary>Stopped by Ctrl-C or a termination signal (128 + SIGINT, as shells report it).</summary>
    public const int Cancelled = 130;

    static bool Debugging => Environment.GetEnvironmentVariable("CODEII_DEBUG") == "1";

    /// <summary>Runs a command's body; <paramref name="cancelled"/> says what a cancelled command leaves behind.</summary>
    public static int Run(IAnsiConsole console, Func<int> body, Func<int>? cancelled = null)
    {
        try
        {
            return body();
        }
        catch (OperationCanceledException)
        {
            if (cancelled is not null) return cancelled();
            console.MarkupLine("[yellow]cancelled[/]");
            return Cancelled;
        }
        catch (Exception e) when (!Debugging)
        {
            var error = e is AggregateException { InnerExceptions.Count: 1 } single ? single.InnerExceptions[0] : e;
            var code = ExitCode(error);
            Line(error.Message);
            // An exception we did not expect carries a message but not a place; its stack is what a bug report needs.
            if (code is null) Console.Error.WriteLine("set CODEII_DEBUG=1 to see the full exception");
            return code ?? DataOrIo;
        }
    }

    /// <summary>The exit code of the errors a command expects; null for one it does not (a bug).</summary>
    static int? ExitCode(Exception e) => e switch
    {
        UsageException or ExperimentDefinitionException => Usage,
        // A library's refusal of what was asked (two runs that share no label, a split that leaves no test part);
        // the null and range variants are our own mistakes, not the user's.
        ArgumentNullException or ArgumentOutOfRangeException => null,
        ArgumentException => Usage,
        // The scheduler refused or is not there: the machine's setup, said in the message.
        Cluster.ClusterException => DataOrIo,
        EcgDataException or ModelBundleException or IOException or UnauthorizedAccessException or InvalidDataException or JsonException => DataOrIo,
        _ => null,
    };

    /// <summary>One error line on standard error, as the parser's are, unwrapped however long its paths: a script or a
    /// log reads it whole, and output piped elsewhere does not carry it.</summary>
    public static void Line(string message)
    {
        Console.Out.Flush();
        Console.Error.WriteLine($"error: {message}");
    }

    /// <summary>The parser's errors (unknown option, a value of the wrong type, a missing file), one line each, then
    /// where to read the usage; the help itself would bury them.</summary>
    public static int ParseErrors(ParseResult parse)
    {
        foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, result.Command.Name);
        Console.Error.WriteLine($"see: {string.Join(' ', names)} --help");
        return Usage;
    }

    /// <summary>Writes an output file or folder, turning the file system's refusal into one line that names the
    /// destination as given and says why in words (the runtime names temporary files and errno texts).</summary>
    public static void Writing(string destination, Action write)
    {
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not CannotWriteException)
        {
            throw new CannotWriteException(destination, Why(destination, e), e);
        }
    }

    static string Why(string destination, Exception e)
    {
        if (e is UnauthorizedAccessException) return "permission denied";
        if (e is not (DirectoryNotFoundException or FileNotFoundException)) return e.Message;
        // The nearest part of the path that exists tells a missing folder from a file in the way.
        for (var folder = Path.GetDirectoryName(Path.GetFullPath(destination)); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder)) return $"{folder} is a file, not a folder";
            if (!Directory.Exists(folder)) continue;
            return folder == Path.GetDirectoryName(Path.GetFullPath(destination))
                ? $"the folder {folder} does not take new files"
                : $"the folder {Path.GetDirectoryName(Path.GetFullPath(destination))} does not exist";
        }
        return e.Message;
    }
}
