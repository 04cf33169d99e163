using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace CodeII.Experiments.Runs;

/// <summary>What is needed to reproduce a run: seed, definition, code version, package versions and data fingerprint.</summary>
public sealed record RunManifest
{
    public required string Experiment { get; init; }
    public required int Seed { get; init; }
    public required string DefinitionFile { get; init; }
    public required string DefinitionSha256 { get; init; }
    public required string GitCommit { get; init; }
    public required bool GitDirty { get; init; }
    public required IReadOnlyDictionary<string, string> Packages { get; init; }
    public required string Runtime { get; init; }
    public required string Os { get; init; }
    public required int ProcessorCount { get; init; }
    public required int MaxThreads { get; init; }
    public required string Dataset { get; init; }
    public string? DataFingerprint { get; init; }
    /// <summary>What a patient is in the data, when not a patient id of its own: a dataset that publishes none (the
    /// Challenge's folders, a CODE exams.csv without patient_id) has each exam as its own patient.</summary>
    public string? Patients { get; init; }
    /// <summary>Records left out because they failed to decode (listed in skipped_records.csv).</summary>
    public int SkippedRecords { get; init; }
    /// <summary>Warnings about records that were kept (listed in record_warnings.csv), e.g. a WFDB gain of 0 read as 200.</summary>
    public int RecordWarnings { get; init; }
    /// <summary>"hit &lt;file&gt;", "miss, written to &lt;file&gt;" or "off".</summary>
    public string? FeatureCache { get; init; }
    /// <summary>The compared feature sets, as listed in the definition.</summary>
    public required IReadOnlyList<string> FeatureSets { get; init; }
    /// <summary>Version of each extracted set; for <c>learned</c>, the SHA-256 of the network's best checkpoint.</summary>
    public required IReadOnlyDictionary<string, string> FeatureVersions { get; init; }
    public NetworkSummary? Network { get; init; }
    public required DateTime StartedUtc { get; init; }
    public DateTime? FinishedUtc { get; init; }
    public double? DurationSeconds { get; init; }
    public required string Status { get; init; }
    /// <summary>How many times an interrupted run was resumed (<c>codeii run --resume</c>).</summary>
    public int Resumes { get; init; }

    /// <summary>Versions of the assemblies whose behaviour decides the numbers.</summary>
    public static IReadOnlyDictionary<string, string> PackageVersions()
    {
        // Not GetCustomAttribute: reading Plotly.NET's attributes resolves FSharp.Core 10.1, which a .NET Interactive
        // kernel (FSharp.Core 10.0 already loaded) cannot supply, and report writing then fails in a notebook. The
        // file's version resource needs no type loading.
        static string VersionOf(Assembly a) =>
            (string.IsNullOrEmpty(a.Location) ? null : System.Diagnostics.FileVersionInfo.GetVersionInfo(a.Location).ProductVersion)?.Split('+')[0]
            ?? a.GetName().Version?.ToString() ?? "unknown";
        var packages = new (string Package, Assembly Assembly)[]
        {
            ("CodeII.Experiments", typeof(RunManifest).Assembly),
            ("Microsoft.ML", typeof(Microsoft.ML.MLContext).Assembly),
            ("Microsoft.ML.LightGbm", typeof(Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer).Assembly),
            ("YamlDotNet", typeof(YamlDotNet.RepresentationModel.YamlStream).Assembly),
            ("Plotly.NET", typeof(Plotly.NET.Chart).Assembly),
            ("TorchSharp", typeof(TorchSharp.torch).Assembly),
        };
        return packages.ToDictionary(p => p.Package, p => VersionOf(p.Assembly));
    }

    public static string RuntimeDescription => RuntimeInformation.FrameworkDescription;
    public static string OsDescription => $"{RuntimeInformation.OSDescription} {RuntimeInformation.OSArchitecture}";

    /// <summary>The commit of the repository holding <paramref name="directory"/>, and whether its tree has uncommitted changes.</summary>
    public static (string Commit, bool Dirty) GitState(string directory)
    {
        var commit = Git(directory, "rev-parse HEAD");
        if (commit is null) return ("unknown (not a git checkout)", false);
        var status = Git(directory, "status --porcelain --untracked-files=no");
        return (commit, !string.IsNullOrWhiteSpace(status));
    }

    static string? Git(string directory, string arguments)
    {
        try
        {
            var start = new ProcessStartInfo("git", arguments)
            {
                WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // git is not installed
        }
    }
}

/// <summary>The trained network behind the learned features, as recorded in the manifest and the report.</summary>
public sealed record NetworkSummary
{
    public required string Model { get; init; }
    /// <summary>The data the weights were learned from, and whether they were then fine-tuned or used frozen.</summary>
    public required string TrainedOn { get; init; }
    public required long Parameters { get; init; }
    public required int InputRateHz { get; init; }
    public required int InputSamples { get; init; }
    public required int EpochsTrained { get; init; }
    public required int BestEpoch { get; init; }
    public required double BestValidationMacroAuroc { get; init; }
    public required string StopReason { get; init; }
    public required string CheckpointSha256 { get; init; }
    public required string CheckpointFolder { get; init; }
    public required IReadOnlyList<Features.Learned.EpochSummary> History { get; init; }
}
