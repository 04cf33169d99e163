namespace CodeII.Experiments.Tests;

static class RepoPaths
{
    /// <summary>The repository root, found by walking up from the test binaries to the solution file.</summary>
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "CodeII.Experiments.sln"))) return dir.FullName;
        throw new InvalidOperationException("cannot find CodeII.Experiments.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>The real public ECGs beside the repository (<c>../shared/data</c>); CODEII_SHARED_DATA overrides it.</summary>
    public static string SharedData { get; } =
        Environment.GetEnvironmentVariable("CODEII_SHARED_DATA") is { Length: > 0 } overridden
            ? overridden
            : Path.GetFullPath(Path.Combine(Root, "..", "shared", "data"));

    /// <summary>A path under the shared data, failing clearly when the folder is absent rather than skipping.</summary>
    public static string Shared(params string[] parts)
    {
        Assert.True(Directory.Exists(SharedData), $"real test data not found at {SharedData}; set CODEII_SHARED_DATA");
        return Path.Combine([SharedData, .. parts]);
    }

    /// <summary>A copy of a folder and everything in it, e.g. a run folder sent to a reviewer.</summary>
    public static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public static string NewTemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "codeii-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }
}
