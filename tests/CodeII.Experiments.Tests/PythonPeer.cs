using System.Collections.Concurrent;
using System.Diagnostics;

namespace CodeII.Experiments.Tests;

/// <summary>Debian's Python with a library used as a test peer only (never by the product).</summary>
static class PythonPeer
{
    public const string Python = "/usr/bin/python3";
    static readonly ConcurrentDictionary<string, bool> Modules = new();

    public static bool Has(string module) => Modules.GetOrAdd(module, m =>
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(Python, ["-c", $"import {m}"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    /// <summary>Runs a script and returns its standard output; fails the test with the script's standard error.</summary>
    public static string Run(string script, params string[] arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{Path.GetFileName(script)} failed: {stderr.Result}");
        return stdout;
    }
}

/// <summary>A fact that needs a Python module as its peer: skipped, naming the Debian package to install, when
/// Debian's Python lacks it.</summary>
sealed class FactNeedingPythonAttribute : FactAttribute
{
    public FactNeedingPythonAttribute(string module, string debianPackage)
    {
        if (!PythonPeer.Has(module)) Skip = $"needs {PythonPeer.Python} with {module}, the test's peer: apt-get install {debianPackage}";
    }
}
