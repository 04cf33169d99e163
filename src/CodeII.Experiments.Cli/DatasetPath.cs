using System.CommandLine;

namespace CodeII.Experiments.Cli;

/// <summary>The dataset argument of <c>data</c>, <c>features</c> and <c>predict</c>: a folder, a file, or a WFDB record
/// named without its extension.</summary>
static class DatasetPath
{
    /// <summary>A path that names none of them is refused by the parser, as a missing run folder or definition is:
    /// a usage error (exit code 2), where a path that exists but does not hold a dataset is a data error.</summary>
    public static Argument<string> AcceptExistingDatasetOnly(this Argument<string> argument)
    {
        argument.Validators.Add(result =>
        {
            var path = result.GetValueOrDefault<string>();
            if (!File.Exists(path) && !Directory.Exists(path) && !File.Exists(path + ".hea"))
                result.AddError($"no such file, folder or WFDB record: '{path}'");
        });
        return argument;
    }
}
