using System.Globalization;
using CodeII.Experiments.Data.Code;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Experiments;

/// <summary>What the run did during one stage: the largest resident set seen, the cores it kept busy on average, what
/// it read from storage per second, and the machine's mean load (above the run's own cores, other processes were
/// competing for them).</summary>
public sealed record StageUsage(string Stage, double Seconds, long PeakResidentBytes, double CoresUsed, double StorageReadBytesPerSecond, double LoadAverage)
{
    /// <summary>CPU seconds over the stage, from the cores it kept busy; NaN when it had too few samples.</summary>
    public double CpuSeconds => CoresUsed * Seconds;
}

/// <summary>
/// The data and the definition of <c>codeii bench pipeline</c>: a synthetic dataset in the CODE layout, written once
/// and reused, and an experiment on it with the handcrafted features, the default learners and the quickstart's
/// sweep budget, so that every stage of a real run is measured on CODE-sized data.
/// </summary>
public static class PipelineBenchmark
{
    public const string ExperimentName = "bench-pipeline";

    /// <summary>Float32 signal per exam: 4096 samples × 12 leads.</summary>
    public const long SignalBytesPerExam = (long)CodeLayout.Samples * CodeLayout.Leads * sizeof(float);

    /// <summary>exams.csv's row and HDF5's bookkeeping per exam, generously.</summary>
    const long OtherBytesPerExam = 512;

    /// <summary>Left free after the dataset, for the run folder and the rest of the disk's users.</summary>
    const long HeadroomBytes = 1L << 30;

    public static string DatasetFolder(string work, int exams, int seed) =>
        Path.Combine(work, string.Create(CultureInfo.InvariantCulture, $"code-{exams}-seed{seed}"));

    /// <summary>Free disk space the dataset needs: its signal, its table, and a gigabyte to spare.</summary>
    public static long BytesNeeded(int exams) => exams * (SignalBytesPerExam + OtherBytesPerExam) + HeadroomBytes;

    /// <summary>Whether the folder holds the whole dataset: the writer writes exams.csv last, after every part, so a
    /// write that was stopped leaves no exams.csv; and a dataset of another size is not this one.</summary>
    public static bool IsComplete(string folder, int exams)
    {
        var table = Path.Combine(folder, CodeLayout.MetadataFile);
        return File.Exists(table) && File.ReadLines(table).Skip(1).Count(line => line.Length > 0) == exams;
    }

    /// <summary>
    /// Writes <paramref name="exams"/> synthetic exams in the CODE-15% layout, after checking the disk can take them
    /// (parts left by a stopped write are replaced, so their space counts as free). Generating the signals runs on
    /// <paramref name="maxThreads"/> threads; the writing itself is sequential.
    /// </summary>
    public static void WriteDataset(string folder, int exams, int seed, int maxThreads, IProgress<StageProgress>? progress)
    {
        Directory.CreateDirectory(folder);
        var leftovers = Directory.GetFiles(folder, "exams_part*.hdf5").Append(Path.Combine(folder, CodeLayout.MetadataFile)).Where(File.Exists).ToArray();
        var free = new DriveInfo(Path.GetFullPath(folder)).AvailableFreeSpace + leftovers.Sum(f => new FileInfo(f).Length);
        var needed = BytesNeeded(exams);
        if (free < needed)
            throw new IOException(string.Create(CultureInfo.InvariantCulture,
                $"{exams:N0} exams in the CODE layout need {needed / 1e9:F1} GB of free disk ({SignalBytesPerExam * (long)exams / 1e9:F1} GB of signal and 1 GB to spare); the disk has {free / 1e9:F1} GB: free some space, give --work on a larger disk, or fewer --exams"));
        foreach (var file in leftovers) File.Delete(file);
        CodeHdf5Writer.Write(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = seed }), folder, progress: progress, maxThreads: maxThreads);
    }

    /// <summary>
    /// The experiment: the dataset's six CODE classes (the default label subset), the handcrafted features, the
    /// default learners (LightGBM and logistic regression, with the prior added by the sweep) under the quickstart's
    /// budget (12 trials per label, at most 3 of them logistic regression), the default evaluation (1,000 bootstrap
    /// resamples and feature importance).
    /// </summary>
    public static string DefinitionYaml(string datasetFolder, int seed) => string.Create(CultureInfo.InvariantCulture, $"""
        # Written by codeii bench pipeline: every stage of a run on a synthetic dataset in the CODE layout.
        # Anything not written here takes its default (README.md): label subset code6, a 60/20/20 patient split,
        # 1,000 bootstrap resamples, feature importance on the validation exams.
        name: {ExperimentName}
        seed: {seed}

        dataset:
          kind: code
          path: '{datasetFolder.Replace("'", "''", StringComparison.Ordinal)}'

        features: [handcrafted]

        learners:                # the default learners, with the quickstart's budget
          lightgbm: {"{}"}
          logistic_regression: {"{ trials: 3 }"}

        sweep:
          tuner: blend
          trials: 12             # per label, learners together
          early_stopping_rounds: 20

        """);

    /// <summary>Per stage: the samples taken while it ran, summarised (a stage shorter than the sampling interval may
    /// have none, and then shows zero memory and NaN cores).</summary>
    public static IReadOnlyList<StageUsage> UsageByStage(IReadOnlyList<StageTime> stages, IReadOnlyList<UsageSample> samples) =>
        [.. stages.GroupBy(s => s.Stage).Select(stage =>
        {
            var within = samples.Where(x => stage.Any(s => x.TimeUtc >= s.StartedUtc && x.TimeUtc <= s.DoneUtc)).ToArray();
            var span = within.Length < 2 ? double.NaN : (within[^1].TimeUtc - within[0].TimeUtc).TotalSeconds;
            return new StageUsage(stage.Key, stage.Sum(s => s.Seconds), within.Select(x => x.ResidentBytes).DefaultIfEmpty(0).Max(),
                (within.LastOrDefault().CpuSeconds - within.FirstOrDefault().CpuSeconds) / span,
                (within.LastOrDefault().StorageReadBytes - within.FirstOrDefault().StorageReadBytes) / span,
                within.Length == 0 ? double.NaN : within.Average(x => x.LoadAverage));
        })];
}
