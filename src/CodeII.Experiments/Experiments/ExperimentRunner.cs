using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

public sealed record RunOptions
{
    /// <summary>Where run folders go; each experiment gets <c>&lt;root&gt;/&lt;name&gt;/&lt;timestamp&gt;</c>.</summary>
    public string RunsRoot { get; init; } = "runs";
    /// <summary>Caps threads for feature extraction and parallel trials; defaults to every core.</summary>
    public int MaxThreads { get; init; } = Environment.ProcessorCount;
    public IProgress<StageProgress>? Progress { get; init; }
    /// <summary>Where extracted features are cached (Arrow files); null turns the cache off.</summary>
    public string? FeatureCacheDirectory { get; init; } = Path.Combine("cache", "features");
}

public sealed record RunResult(RunFolder Folder, string ReportPath, ExperimentMetrics Metrics, RunManifest Manifest);

/// <summary>Runs a definition end to end: data → features → patient split → sweep → test evaluation → report.</summary>
public static class ExperimentRunner
{
    public static RunResult Run(ExperimentDefinition definition, string definitionText, string definitionPath,
        RunOptions options, CancellationToken cancellationToken = default)
    {
        var started = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        // Open the data first: a dataset that cannot be opened should not leave an empty run folder behind.
        var source = CreateSource(definition);
        var extractor = CreateExtractor(definition.Features);
        var folder = RunFolder.Create(options.RunsRoot, definition.Name, started);
        var (commit, dirty) = RunManifest.GitState(Path.GetDirectoryName(Path.GetFullPath(definitionPath)) ?? ".");

        var manifest = new RunManifest
        {
            Experiment = definition.Name,
            Seed = definition.Seed,
            DefinitionFile = definitionPath,
            DefinitionSha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(definitionText))),
            GitCommit = commit,
            GitDirty = dirty,
            Packages = RunManifest.PackageVersions(),
            Runtime = RunManifest.RuntimeDescription,
            Os = RunManifest.OsDescription,
            ProcessorCount = Environment.ProcessorCount,
            MaxThreads = options.MaxThreads,
            Dataset = source.Describe(),
            FeatureSet = extractor.Name,
            FeatureSetVersion = extractor.Version,
            StartedUtc = started,
            Status = "running",
        };
        folder.WriteText(RunFolder.DefinitionFile, definitionText);
        folder.WriteJson(RunFolder.ResolvedDefinitionFile, definition);
        folder.WriteJson(RunFolder.ManifestFile, manifest);

        try
        {
            return Execute(definition, options, folder, source, extractor, manifest, clock, cancellationToken);
        }
        catch (Exception e)
        {
            (source as IDisposable)?.Dispose();
            // The folder stays, with every trial logged so far, and says how the run ended.
            var status = e is OperationCanceledException ? "cancelled" : $"failed: {e.GetType().Name}: {e.Message}";
            folder.WriteJson(RunFolder.ManifestFile, manifest with { FinishedUtc = DateTime.UtcNow, DurationSeconds = clock.Elapsed.TotalSeconds, Status = status });
            throw;
        }
    }

    static RunResult Execute(ExperimentDefinition definition, RunOptions options, RunFolder folder, IEcgSource source,
        IEcgFeatureExtractor extractor, RunManifest manifest, Stopwatch clock, CancellationToken cancellationToken)
    {
        var (features, cacheUse) = ExtractOrLoad(definition, options, source, extractor, cancellationToken);
        manifest = manifest with { DataFingerprint = features.DataFingerprint, SkippedRecords = features.Skipped.Count, FeatureCache = cacheUse };
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        if (features.Skipped.Count > 0)
            folder.WriteText(RunFolder.SkippedRecordsFile, "exam_id,reason\n" + string.Concat(features.Skipped.Select(r => $"{r.ExamId},\"{r.Reason.Replace("\"", "\"\"")}\"\n")));

        var split = definition.Splits.Kind == SplitKind.Predefined
            ? PredefinedSplit(source, features)
            : PatientSplit.IterativeStratified(features.PatientIds, features.Labels, definition.Splits.Train, definition.Splits.Validation, definition.Seed);
        var learners = definition.LearnersWithBaseline;
        var sweep = new LabelSweep
        {
            Features = features,
            Split = split,
            Labels = definition.AllLabels,
            Learners = learners,
            Seed = definition.Seed,
            MaxDegreeOfParallelism = options.MaxThreads,
        }.Run(trial => folder.AppendJsonLine(RunFolder.TrialsFile, trial), options.Progress, cancellationToken);

        var test = split.Indices(SplitPart.Test);
        var metrics = ExperimentEvaluator.Evaluate(sweep, definition.LabelSubsets, learners.Select(l => l.Learner).ToArray(),
            test.Select(i => features.PatientIds[i]).ToArray(),
            label => test.Select(i => features.Labels[i].Contains(label)).ToArray(),
            definition.Evaluation.BootstrapReplicates, definition.Evaluation.Confidence, definition.Seed, options.Progress);

        folder.WriteText(RunFolder.PredictionsFile, PredictionsCsv(sweep, features, test));
        folder.WriteJson(RunFolder.MetricsFile, metrics);

        manifest = manifest with { FinishedUtc = DateTime.UtcNow, DurationSeconds = clock.Elapsed.TotalSeconds, Status = "complete" };
        var report = HtmlReport.Render(new ReportModel(definition, manifest, metrics, sweep, test.Select(i => features.Labels[i]).ToArray(), features.Skipped));
        folder.WriteText(RunFolder.ReportFile, report);
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        (source as IDisposable)?.Dispose();
        return new RunResult(folder, folder.FileIn(RunFolder.ReportFile), metrics, manifest);
    }

    static (FeatureTable Table, string CacheUse) ExtractOrLoad(ExperimentDefinition definition, RunOptions options, IEcgSource source,
        IEcgFeatureExtractor extractor, CancellationToken cancellationToken)
    {
        FeatureTable Extract() => FeatureTableBuilder.Extract(source, extractor, options.MaxThreads, options.Progress, cancellationToken, definition.Dataset.SkipBadRecords);
        if (options.FeatureCacheDirectory is null) return (Extract(), "off");
        var cache = new FeatureCache(options.FeatureCacheDirectory);
        var key = FeatureCache.Key(source, extractor, definition.Dataset.SkipBadRecords, definition.Dataset.Path);
        if (cache.TryLoad(key, extractor) is { } cached)
        {
            options.Progress?.Report(new StageProgress("features", cached.RowCount, cached.RowCount));
            return (cached, $"hit {Path.GetFullPath(cache.PathOf(key))}");
        }
        var table = Extract();
        cache.Save(key, table);
        return (table, $"miss, written to {Path.GetFullPath(cache.PathOf(key))}");
    }

    /// <summary>Opens the definition's dataset and checks that every label of every subset is one of its classes.</summary>
    public static IEcgSource CreateSource(ExperimentDefinition definition)
    {
        var d = definition.Dataset;
        IEcgSource source = d.Kind switch
        {
            DatasetDefinition.SyntheticKind => new SyntheticEcgGenerator(d.Synthetic),
            DatasetDefinition.PtbXlKind => new Data.PtbXl.PtbXlSource(d.Path!, d.PtbXl with
            {
                IncludeEcgId = d.EcgIds is { } range ? id => id >= range.First && id <= range.Last : null,
            }),
            DatasetDefinition.CodeKind => new Data.Code.CodeHdf5Source(d.Path!),
            var kind => throw new ArgumentException($"dataset kind '{kind}' is not supported"),
        };
        if (!definition.Preprocessing.IsIdentity)
            source = new Preprocessing.PreprocessedSource(source, new Preprocessing.EcgPreprocessor(definition.Preprocessing));
        foreach (var subset in definition.LabelSubsets)
            foreach (var label in subset.Labels)
                if (!source.ClassNames.Contains(label))
                    throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", $"label_subsets.{subset.Name}",
                        $"'{label}' is not a class of this dataset; it has {string.Join(", ", source.ClassNames)}");
        if (source.Count == 0) throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", "records", "the dataset has no records");
        return source;
    }

    /// <summary>PTB-XL's recommended folds (Wagner et al. 2020): strat_fold 1–8 train, 9 validation, 10 test, by patient.</summary>
    static PatientSplit PredefinedSplit(IEcgSource source, FeatureTable features) =>
        (source is Preprocessing.PreprocessedSource p ? p.Inner : source) is Data.PtbXl.PtbXlSource ptbXl
        ? new PatientSplit { PartOfExam = features.SourceIndex.Select(i => Data.PtbXl.PtbXlDatabase.PartOfFold(ptbXl.ExamAt(i).StratFold)).ToArray() }
        : throw new ArgumentException($"dataset '{source.Name}' has no predefined split");

    static IEcgFeatureExtractor CreateExtractor(string name) => name switch
    {
        BasicFeatureExtractor.SetName => new BasicFeatureExtractor(),
        HandcraftedFeatureExtractor.SetName => new HandcraftedFeatureExtractor(),
        _ => throw new ArgumentException($"feature set '{name}' is not supported yet"),
    };

    /// <summary>Long format, one row per test exam, label and learner, scores at full precision.</summary>
    static string PredictionsCsv(SweepResult sweep, FeatureTable features, int[] test)
    {
        var csv = new StringBuilder("exam_id,patient_id,label,learner,score,truth,threshold\n");
        foreach (var model in sweep.Selected)
            for (var k = 0; k < test.Length; k++)
            {
                var exam = test[k];
                csv.Append(features.ExamIds[exam]).Append(',').Append(features.PatientIds[exam]).Append(',')
                    .Append(model.Label).Append(',').Append(model.Learner).Append(',')
                    .Append(model.TestScores[k].ToString("R", CultureInfo.InvariantCulture)).Append(',')
                    .Append(features.Labels[exam].Contains(model.Label) ? '1' : '0').Append(',')
                    .Append(model.Threshold.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        return csv.ToString();
    }
}
