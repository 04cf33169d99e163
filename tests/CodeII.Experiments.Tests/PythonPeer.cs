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

/// <summary>A fact that needs Python modules as its peer: skipped, naming the Debian packages to install, when
/// Debian's Python lacks any of them. Arguments come in pairs: a module, then the Debian package that brings it.</summary>
sealed class FactNeedingPythonAttribute : FactAttribute
{
    public FactNeedingPythonAttribute(string module, string debianPackage, params string[] moreModulesAndPackages)
    {
        if (moreModulesAndPackages.Length % 2 != 0) throw new ArgumentException("modules and Debian packages come in pairs", nameof(moreModulesAndPackages));
        var pairs = moreModulesAndPackages.Chunk(2).Select(p => (Module: p[0], Package: p[1])).Prepend((Module: module, Package: debianPackage));
        var missing = pairs.Where(p => !PythonPeer.Has(p.Module)).ToArray();
        if (missing.Length > 0)
            Skip = $"needs {PythonPeer.Python} with {string.Join(", ", missing.Select(p => p.Module))}, the test's peer: apt-get install {string.Join(' ', missing.Select(p => p.Package))}";
    }
}
