using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace CodeII.Experiments.Tests.Notebooks;

/// <summary>A notebook names package versions in its text; they must be the versions the build uses.</summary>
public class NotebookPackageVersionTests
{
    static readonly Regex PackageReference = new(@"nuget:\s*(?<id>[A-Za-z][A-Za-z0-9._-]*),\s*(?<version>[0-9][A-Za-z0-9.+-]*)", RegexOptions.CultureInvariant);

    /// <summary>Package id → version, from Directory.Packages.props, and this repository's own packages at the version
    /// Directory.Build.props gives them.</summary>
    static Dictionary<string, string> BuildVersions()
    {
        var versions = XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Packages.props")).Descendants("PackageVersion")
            .ToDictionary(p => (string)p.Attribute("Include")!, p => (string)p.Attribute("Version")!, StringComparer.OrdinalIgnoreCase);
        var own = (string)XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Build.props")).Descendants("Version").Single();
        versions["CodeII.Experiments"] = versions["CodeII.Experiments.Notebooks"] = own;
        return versions;
    }

    [Fact]
    public void Every_package_a_notebook_references_is_at_the_version_the_build_uses()
    {
        var versions = BuildVersions();
        var references = Directory.GetFiles(Path.Combine(RepoPaths.Root, "notebooks"), "*.ipynb")
            .SelectMany(n => PackageReference.Matches(File.ReadAllText(n)).Select(m => (Notebook: Path.GetFileName(n), Id: m.Groups["id"].Value, Version: m.Groups["version"].Value)))
            .ToArray();
        Assert.NotEmpty(references);
        Assert.All(references, r =>
        {
            Assert.True(versions.TryGetValue(r.Id, out var expected), $"{r.Notebook} references {r.Id}, which the build does not use");
            Assert.True(expected == r.Version, $"{r.Notebook} references {r.Id} {r.Version}; the build uses {expected}");
        });
        // The rule itself: a version other than the build's is caught.
        Assert.Matches(PackageReference, "#r \"nuget: Microsoft.ML, 4.0.0\"");
        Assert.NotEqual("4.0.0", versions["Microsoft.ML"]);
    }
}
