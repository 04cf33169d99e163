using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Models;
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
    /// <summary>Every stream's trials and best score as the sweep goes, for a live table.</summary>
    public IProgress<SweepStatus>? SweepStatus { get; init; }
    /// <summary>Told the run folder as soon as it exists, so a caller can name it if the run is cancelled.</summary>
    public Action<RunFolder>? RunFolderReady { get; init; }
    /// <summary>Shown the sweep engine before it runs, with the rows it is given.</summary>
    public Action<SweepEngine>? SweepStarting { get; init; }
}

public sealed record RunResult(RunFolder Folder, string ReportPath, ExperimentMetrics Metrics, RunManifest Manifest);

/// <summary>Runs a definition end to end: data → features → patient split → sweep → test evaluation → report.</summary>
public static class ExperimentRunner
{
    public static RunResult Run(ExperimentDefinition definition, string definitionText, string definitionPath,
        RunOptions options, CancellationToken cancellationToken = default)
    {
        var started = DateTime.UtcNow;
        // Open the data first: a dataset that cannot be opened should not leave an empty run folder behind.
        var source = CreateSource(definition);
        var extractors = CreateExtractors(definition);
        var folder = RunFolder.Create(options.RunsRoot, definition.Name, started);
        options.RunFolderReady?.Invoke(folder);
        var (commit, dirty) = RunManifest.GitState(Path.GetDirectoryName(Path.GetFullPath(definitionPath)) ?? ".");

        var manifest = new RunManifest
        {
            Experiment = definition.Name,
            Seed = definition.Seed,
            DefinitionFile = definitionPath,
            DefinitionSha256 = Sha256(definitionText),
            GitCommit = commit,
            GitDirty = dirty,
            Packages = RunManifest.PackageVersions(),
            Runtime = RunManifest.RuntimeDescription,
            Os = RunManifest.OsDescription,
            ProcessorCount = Environment.ProcessorCount,
            MaxThreads = options.MaxThreads,
            Dataset = source.Describe(),
            FeatureSets = definition.Features,
            FeatureVersions = extractors.ToDictionary(e => e.Name, e => $"v{e.Version}"),
            StartedUtc = started,
            Status = "running",
        };
        folder.WriteText(RunFolder.DefinitionFile, definitionText);
        folder.WriteJson(RunFolder.ResolvedDefinitionFile, definition);
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        return ExecuteGuarded(definition, options, folder, source, extractors, manifest, [], cancellationToken);
    }

    /// <summary>
    /// Continues an interrupted run in its own folder: the definition is the one the folder keeps, features and the
    /// network come from their caches (or resume from their checkpoints), and the trial log is replayed into the
    /// tuners, so only the trials that had not finished are trained. The result equals an uninterrupted run's.
    /// </summary>
    public static RunResult Resume(string runFolder, RunOptions options, CancellationToken cancellationToken = default)
    {
        var folder = RunFolder.Open(runFolder);
        options.RunFolderReady?.Invoke(folder);
        var definitionText = File.ReadAllText(folder.FileIn(RunFolder.DefinitionFile));
        var manifest = folder.ReadManifest();
        var definition = ExperimentDefinitionLoader.Parse(definitionText, folder.FileIn(RunFolder.DefinitionFile));
        var (commit, _) = RunManifest.GitState(Path.GetDirectoryName(Path.GetFullPath(manifest.DefinitionFile)) ?? ".");
        if (commit != manifest.GitCommit)
            options.Progress?.Report(new StageProgress("resume", 0, 0, $"the run started at commit {manifest.GitCommit}, this is {commit}: trials replay only if the sweep proposes the same"));
        var replay = TrialLog.Read(folder.FileIn(RunFolder.TrialsFile), repairTornTail: true);
        var source = CreateSource(definition);
        var extractors = CreateExtractors(definition);
        manifest = manifest with { Status = "running", Resumes = manifest.Resumes + 1, FinishedUtc = null };
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        return ExecuteGuarded(definition, options, folder, source, extractors, manifest, replay, cancellationToken);
    }

    static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    static IEcgFeatureExtractor[] CreateExtractors(ExperimentDefinition definition) =>
        [.. definition.FeatureParts.Where(p => p != LearnedFeatures.SetName).Select(FeatureSetCatalog.Create)];

    static RunResult ExecuteGuarded(ExperimentDefinition definition, RunOptions options, RunFolder folder, IEcgSource source,
        IReadOnlyList<IEcgFeatureExtractor> extractors, RunManifest manifest, IReadOnlyList<TrialRecord> replay, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            return Execute(definition, options, folder, source, extractors, manifest, replay, clock, cancellationToken);
        }
        catch (Exception e)
        {
            (source as IDisposable)?.Dispose();
            // The folder stays, with every trial logged so far, and says how the run ended.
            var status = e is OperationCanceledException ? "cancelled" : $"failed: {e.GetType().Name}: {e.Message}";
            folder.WriteJson(RunFolder.ManifestFile, manifest with { FinishedUtc = DateTime.UtcNow, DurationSeconds = (manifest.DurationSeconds ?? 0) + clock.Elapsed.TotalSeconds, Status = status });
            throw;
        }
    }

    static RunResult Execute(ExperimentDefinition definition, RunOptions options, RunFolder folder, IEcgSource source,
        IReadOnlyList<IEcgFeatureExtractor> extractors, RunManifest manifest, IReadOnlyList<TrialRecord> replay, Stopwatch clock, CancellationToken cancellationToken)
    {
        // Extracted sets, by name; the first one's rows (exams read without error) are every set's rows.
        var tables = new Dictionary<string, FeatureTable>(StringComparer.Ordinal);
        var cacheUses = new List<string>();
        foreach (var extractor in extractors.DefaultIfEmpty(new MetadataOnlyExtractor()))
        {
            var (table, use) = ExtractOrLoad(definition, options, source, extractor, cancellationToken);
            tables[extractor.Name] = table;
            cacheUses.Add(extractors.Count > 1 ? $"{extractor.Name}: {use}" : use);
        }
        var rows = tables.Values.First();
        manifest = manifest with { DataFingerprint = rows.DataFingerprint, SkippedRecords = rows.Skipped.Count, FeatureCache = string.Join("; ", cacheUses) };
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        if (rows.Skipped.Count > 0)
            folder.WriteText(RunFolder.SkippedRecordsFile, "exam_id,reason\n" + string.Concat(rows.Skipped.Select(r => $"{r.ExamId},\"{r.Reason.Replace("\"", "\"\"")}\"\n")));

        var split = definition.Splits.Kind == SplitKind.Predefined
            ? PredefinedSplit(source, rows)
            : PatientSplit.IterativeStratified(rows.PatientIds, rows.Labels, definition.Splits.Train, definition.Splits.Validation, definition.Seed);
        folder.WriteText(RunFolder.SplitFile, SplitCsv(rows, split));
        var train = split.Indices(SplitPart.Train);
        var validation = split.Indices(SplitPart.Validation);
        var test = split.Indices(SplitPart.Test);

        var pretrainProgress = new StageWatch(options.Progress, "pretrain");
        using var network = definition.Pretrain is { } pretrain ? Pretrain(definition, pretrain, options with { Progress = pretrainProgress }, source, rows, split, cancellationToken) : null;
        // A network taken whole from the cache trains no batch: its stage is complete all the same.
        if (network is not null && !pretrainProgress.Reported)
            options.Progress?.Report(new StageProgress("pretrain", 1, 1,
                $"{network.State.CompletedEpochs} epochs, best {network.State.BestEpoch} (validation macro AUROC {network.State.BestValidationMacroAuroc:0.000})"));
        FeatureTable? networkOutputs = null;
        if (network is not null)
        {
            var (embeddings, outputs, use) = NetworkFeatures(definition, options, source, rows, network, cancellationToken);
            tables[LearnedFeatures.SetName] = embeddings;
            networkOutputs = outputs;
            RunNetwork.Write(folder, network, definition.Pretrain!);
            manifest = manifest with { FeatureCache = $"{manifest.FeatureCache}; learned: {use}" };
            manifest = manifest with
            {
                FeatureVersions = new Dictionary<string, string>(manifest.FeatureVersions) { [LearnedFeatures.SetName] = $"checkpoint sha256:{network.CheckpointSha256}" },
                Network = Summary(network, definition.Pretrain!),
            };
            folder.WriteJson(RunFolder.ManifestFile, manifest);
        }

        // The sweep sees the training and validation rows only.
        var (development, developmentSplit) = split.WithoutTest();
        var featureSets = definition.Features.ToDictionary(set => set,
            set => FeatureSetCatalog.Parts(set).Select(part => tables[part]).Aggregate((a, b) => a.Concatenate(b)), StringComparer.Ordinal);
        var engine = new SweepEngine
        {
            FeatureSets = [.. definition.Features.Select(set => (set, featureSets[set].Take(development)))],
            Split = developmentSplit,
            Subsets = definition.LabelSubsets,
            Learners = definition.Learners,
            Seed = definition.Seed,
            Settings = definition.Sweep,
            MaxThreads = options.MaxThreads,
            Replay = replay,
        };
        options.SweepStarting?.Invoke(engine);
        var swept = engine.Run(trial => folder.AppendJsonLine(RunFolder.TrialsFile, trial), options.Progress, options.SweepStatus, cancellationToken);

        // Final models: every selected model as a bundle in the run folder.
        var bundles = new List<string>();
        var firstSet = definition.Features[0];
        foreach (var model in swept.Selected)
        {
            var set = model.Trial.FeatureSet ?? firstSet;
            var relative = ModelBundle.RelativeFolder(set, model.Learner, model.Label, model.Subset);
            var description = Describe(definition, manifest, rows.DataFingerprint, model.Learner, model.Label, model.Subset, model.Threshold, model.Trial.Learner,
                model.Trial.Parameters, model.Trial.Trial, model.Trial.For(model.Label).ValidationAuroc) with
            {
                FeatureSet = model.Trial.FeatureSet,
                FeatureParts = model.Trial.FeatureSet is null ? [] : [.. FeatureSetCatalog.Parts(set).Select(part => new FeaturePartVersion(part, manifest.FeatureVersions[part]))],
                FeatureNames = model.Trial.FeatureSet is null ? [] : featureSets[set].FeatureNames,
                Network = model.Trial.FeatureSet is not null && FeatureSetCatalog.Parts(set).Contains(LearnedFeatures.SetName)
                    ? RunNetwork.Reference(folder, relative, network!, definition.Pretrain!) : null,
            };
            ModelBundle.Save(folder.FileIn(relative), description, model.Fitted, featureSets[set].FeatureNames.Count);
            bundles.Add(relative);
            options.Progress?.Report(new StageProgress("models", bundles.Count, swept.Selected.Count));
        }
        // The network's outputs compare only where it learned the experiment's labels (its own data, or fine-tuned).
        if (network is not null && networkOutputs is not null && definition.Pretrain!.EndToEnd && definition.AllLabels.All(network.Classes.Contains))
            foreach (var label in definition.AllLabels)
            {
                var relative = ModelBundle.RelativeFolder(firstSet, LearnedFeatures.EndToEndModel, label, null);
                ModelBundle.Save(folder.FileIn(relative), EndToEnd(definition, manifest, network, networkOutputs, label, train, validation, relative, folder), null, 0);
                bundles.Add(relative);
            }

        // Predictions: every model loaded back from its bundle scores the validation and test exams.
        var scored = new List<(ScoredModel Scores, BundleDescription Description)>();
        foreach (var relative in bundles)
        {
            using var bundle = ModelBundle.Load(folder.FileIn(relative));
            var d = bundle.Description;
            var table = d.NetworkOutput is not null ? networkOutputs! : d.FeatureSet is { } set ? featureSets[set] : null;
            float[] Score(int[] indices) => bundle.ScoreFeatures([.. indices.Select(i => table is null ? [] : table.Row(i).ToArray())]);
            var validationScores = Score(validation);
            // The threshold was chosen on the sweep's own scores of these exams: the saved model must give the same.
            var threshold = BinaryMetrics.BestF1Threshold(validationScores, [.. validation.Select(i => rows.Labels[i].Contains(d.Label))]);
            if (!threshold.Equals(d.Threshold))
                throw new InvalidOperationException($"{bundle.Folder}: the saved model scores the validation exams differently from the model the sweep selected (threshold {threshold:R}, not {d.Threshold:R})");
            scored.Add((new ScoredModel(d.Model, d.Label, d.Subset, d.Threshold, validationScores, Score(test)), d));
            options.Progress?.Report(new StageProgress("predictions", scored.Count, bundles.Count));
        }
        // Labels in definition order, then models in the order they were swept, as the report lays them out.
        var modelNames = scored.Select(m => m.Scores.Model).Distinct().ToArray();
        var labelOrder = definition.AllLabels.ToList();
        scored = [.. scored.OrderBy(m => labelOrder.IndexOf(m.Scores.Label)).ThenBy(m => Array.IndexOf(modelNames, m.Scores.Model))];
        folder.WriteText(RunFolder.PredictionsFile, PredictionsFile.Write([.. scored.Select(m => m.Scores)], rows.ExamIds, rows.PatientIds, rows.Labels, validation, test));

        var predictions = scored.Select(m => new ModelPredictions
        {
            Label = m.Scores.Label, Model = m.Scores.Model, Subset = m.Scores.Subset, Threshold = m.Scores.Threshold, TestScores = m.Scores.TestScores,
            ValidationAuroc = m.Description.ValidationAuroc, Trial = m.Description.Trial, Parameters = m.Description.Parameters,
        }).ToArray();
        var metrics = ExperimentEvaluator.Evaluate(predictions, definition.LabelSubsets, modelNames,
            test.Select(i => rows.PatientIds[i]).ToArray(),
            label => test.Select(i => rows.Labels[i].Contains(label)).ToArray(),
            definition.Evaluation.BootstrapReplicates, definition.Evaluation.Confidence, definition.Seed, options.Progress);
        folder.WriteJson(RunFolder.MetricsFile, metrics);

        manifest = manifest with { FinishedUtc = DateTime.UtcNow, DurationSeconds = (manifest.DurationSeconds ?? 0) + clock.Elapsed.TotalSeconds, Status = "complete" };
        // The report is rendered from the folder's files, as `codeii report` renders it.
        folder.WriteText(RunFolder.ReportFile, HtmlReport.Render(folder.ReadReportModel(manifest)));
        folder.WriteJson(RunFolder.ManifestFile, manifest);
        (source as IDisposable)?.Dispose();
        return new RunResult(folder, folder.FileIn(RunFolder.ReportFile), metrics, manifest);
    }

    /// <summary>What every bundle of this run shares, and the model's own choices.</summary>
    static BundleDescription Describe(ExperimentDefinition definition, RunManifest manifest, string fingerprint, string model, string label, string? subset,
        double threshold, string learner, IReadOnlyDictionary<string, double> parameters, int trial, double validationAuroc)
    {
        var taxonomy = definition.Dataset.Kind is DatasetDefinition.SyntheticKind or DatasetDefinition.CodeKind ? Labels.Taxonomy.Code6
            : definition.Dataset.Kind == DatasetDefinition.PtbXlKind ? Labels.Taxonomy.PtbXlSnomed : null;
        var known = taxonomy?.Find(label);
        return new BundleDescription
        {
            FormatVersion = BundleDescription.CurrentFormatVersion,
            Model = model,
            Label = label,
            Taxonomy = known is null ? null : taxonomy!.Name,
            SnomedCt = known?.Snomed,
            Subset = subset,
            Threshold = threshold,
            Learner = learner,
            Parameters = new SortedDictionary<string, double>(parameters.ToDictionary(), StringComparer.Ordinal),
            Trial = trial,
            ValidationAuroc = validationAuroc,
            Preprocessing = definition.Preprocessing,
            TrainingDataFingerprint = fingerprint,
            Packages = manifest.Packages,
        };
    }

    /// <summary>The network's own sigmoid output for a label as one more model, thresholded on validation like the others.</summary>
    static BundleDescription EndToEnd(ExperimentDefinition definition, RunManifest manifest, PretrainedNetwork network, FeatureTable outputs, string label,
        int[] train, int[] validation, string relative, RunFolder folder)
    {
        var c = network.Classes.ToList().IndexOf(label);
        var validationScores = validation.Select(i => outputs.Row(i)[c]).ToArray();
        var validationTruth = validation.Select(i => outputs.Labels[i].Contains(label)).ToArray();
        var (result, threshold) = LabelResult.FromValidation(label, validationScores, validationTruth, train.Count(i => outputs.Labels[i].Contains(label)));
        var parameters = new Dictionary<string, double> { ["epochs"] = network.State.CompletedEpochs, ["best_epoch"] = network.State.BestEpoch, ["parameters"] = network.Parameters };
        return Describe(definition, manifest, outputs.DataFingerprint, LearnedFeatures.EndToEndModel, label, null, threshold, LearnedFeatures.EndToEndModel,
            parameters, 0, result.ValidationAuroc) with
        {
            NetworkOutput = c,
            FeatureNames = outputs.FeatureNames,
            Network = RunNetwork.Reference(folder, relative, network, definition.Pretrain!),
        };
    }

    /// <summary>Every exam's split, by patient: <c>exam_id,patient_id,split</c>.</summary>
    static string SplitCsv(FeatureTable rows, PatientSplit split)
    {
        var csv = new StringBuilder("exam_id,patient_id,split\n");
        for (var i = 0; i < rows.RowCount; i++)
            csv.Append(rows.ExamIds[i]).Append(',').Append(rows.PatientIds[i]).Append(',').Append(split.PartOfExam[i].ToString().ToLowerInvariant()).Append('\n');
        return csv.ToString();
    }

    /// <summary>
    /// The network's embeddings (the learned features) and sigmoid outputs for every row, from the feature cache when
    /// this checkpoint has already been run over these data: the key is the feature cache's plus the checkpoint hash.
    /// </summary>
    static (FeatureTable Embeddings, FeatureTable Outputs, string CacheUse) NetworkFeatures(ExperimentDefinition definition, RunOptions options,
        IEcgSource source, FeatureTable rows, PretrainedNetwork network, CancellationToken cancellationToken)
    {
        var width = network.Model.Shape.EmbeddingSize;
        var embeddingNames = NetworkPretraining.FeatureNames(width);
        IReadOnlyList<string> names = [.. embeddingNames, .. network.Classes.Select(c => $"{LearnedFeatures.EndToEndModel}_{c}")];
        var outputNames = names.Skip(width).ToArray();
        (FeatureTable, FeatureTable) Split(FeatureTable both)
        {
            var classes = network.Classes.Count;
            var embeddings = new float[(long)rows.RowCount * width];
            var outputs = new float[rows.RowCount * classes];
            for (var r = 0; r < rows.RowCount; r++)
            {
                both.Row(r)[..width].CopyTo(embeddings.AsSpan(r * width, width));
                both.Row(r)[width..].CopyTo(outputs.AsSpan(r * classes, classes));
            }
            return (rows.WithFeatures(embeddingNames, embeddings), rows.WithFeatures(outputNames, outputs));
        }
        if (options.FeatureCacheDirectory is not { } cacheDirectory)
        {
            var (e, o) = NetworkPretraining.Infer(network, rows.SourceIndex, batchSize: NetworkPretraining.InferenceBatch, options.Progress, cancellationToken);
            return (rows.WithFeatures(embeddingNames, e), rows.WithFeatures(outputNames, o), "off");
        }
        var cache = new FeatureCache(cacheDirectory);
        var key = FeatureCache.Key(source, $"network sha256:{network.CheckpointSha256}", names, definition.Dataset.SkipBadRecords, definition.Dataset.Path);
        if (cache.TryLoad(key, names) is { } cached && cached.ExamIds.SequenceEqual(rows.ExamIds))
        {
            options.Progress?.Report(new StageProgress("embeddings", rows.RowCount, rows.RowCount));
            var (e, o) = Split(cached);
            return (e, o, $"hit {Path.GetFullPath(cache.PathOf(key))}");
        }
        var (embeddings, outputs) = NetworkPretraining.Infer(network, rows.SourceIndex, batchSize: NetworkPretraining.InferenceBatch, options.Progress, cancellationToken);
        var embeddingTable = rows.WithFeatures(embeddingNames, embeddings);
        // Cached together, as one table: the outputs follow the embeddings in each row.
        var outputTable = rows.WithFeatures(outputNames, outputs);
        cache.Save(key, embeddingTable.Concatenate(outputTable));
        return (embeddingTable, outputTable, $"miss, written to {Path.GetFullPath(cache.PathOf(key))}");
    }

    /// <summary>Trains the network on the training exams (early stopping on the validation ones), or reuses a finished
    /// or interrupted training of the same network on the same data from the cache.</summary>
    static PretrainedNetwork Pretrain(ExperimentDefinition definition, PretrainDefinition pretrain, RunOptions options, IEcgSource source,
        FeatureTable rows, PatientSplit split, CancellationToken cancellationToken)
    {
        var cacheRoot = options.FeatureCacheDirectory is { } features
            ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(features)) ?? ".", "networks")
            : Path.Combine(Path.GetTempPath(), "codeii-networks");
        var progress = options.Progress is null ? null : new TrainingProgressAdapter(options.Progress);
        pretrain = pretrain with { Training = pretrain.Training with { Seed = definition.Seed } };

        PretrainedNetwork OnTarget(PretrainedNetwork? startFrom)
        {
            int[] SourceRows(SplitPart part) => split.Indices(part).Select(i => rows.SourceIndex[i]).ToArray();
            var labels = LabelsBySourceIndex(rows);
            return NetworkPretraining.TrainOrResume(source, rows.DataFingerprint, definition.AllLabels, SourceRows(SplitPart.Train), SourceRows(SplitPart.Validation),
                pretrain, cacheRoot, options.MaxThreads, i => labels[i], progress, cancellationToken, startFrom);
        }
        if (definition.PretrainDataset is not { } sourceDataset) return OnTarget(startFrom: null);

        // Transfer: pre-train on another dataset, split by patient into training and validation parts of its own.
        var pretrainSource = OpenDataset(sourceDataset, new Preprocessing.PreprocessingOptions());
        var classes = definition.PretrainLabels ?? definition.AllLabels;
        foreach (var label in classes)
            if (!pretrainSource.ClassNames.Contains(label))
                throw new EcgDataException(sourceDataset.Path ?? sourceDataset.Kind, "(dataset)", "pretrain.labels",
                    $"'{label}' is not a class of the pre-training dataset; it has {string.Join(", ", pretrainSource.ClassNames)}");
        var (sourceRows, _) = ExtractOrLoad(definition with { Dataset = sourceDataset }, options, pretrainSource, new MetadataOnlyExtractor(), cancellationToken);
        var sourceSplit = PatientSplit.IterativeStratified(sourceRows.PatientIds, sourceRows.Labels, 0.8, 0.15, definition.Seed);
        int[] PretrainRows(SplitPart part) => sourceSplit.Indices(part).Select(i => sourceRows.SourceIndex[i]).ToArray();
        var sourceLabels = LabelsBySourceIndex(sourceRows);
        var pretrained = NetworkPretraining.TrainOrResume(pretrainSource, sourceRows.DataFingerprint, classes, PretrainRows(SplitPart.Train), PretrainRows(SplitPart.Validation),
            pretrain, cacheRoot, options.MaxThreads, i => sourceLabels[i], progress, cancellationToken);
        var origin = $"{pretrainSource.Describe()} (classes {string.Join(", ", classes)}; checkpoint sha256 {pretrained.CheckpointSha256[..16]}…)";
        if (pretrain.Transfer == TransferMode.FineTune)
            using (pretrained)
                return OnTarget(startFrom: pretrained) with { TrainedOn = $"pre-trained on {origin}, then fine-tuned on the experiment's training patients" };

        // Frozen: the source's network, reading the experiment's exams.
        var targetLabels = LabelsBySourceIndex(rows);
        var (loader, inputs) = NetworkPretraining.Loader(source, rows.DataFingerprint, classes, pretrain, cacheRoot, options.MaxThreads, i => targetLabels[i]);
        pretrained.Inputs.Dispose();
        return pretrained with { Loader = loader, Inputs = inputs, TrainedOn = $"{origin}, frozen" };
    }

    static Dictionary<int, IReadOnlySet<string>> LabelsBySourceIndex(FeatureTable rows) =>
        Enumerable.Range(0, rows.RowCount).ToDictionary(r => rows.SourceIndex[r], r => rows.Labels[r]);

    /// <summary>Passes progress on and notes whether a stage reported any.</summary>
    sealed class StageWatch(IProgress<StageProgress>? inner, string stage) : IProgress<StageProgress>
    {
        public bool Reported { get; private set; }
        public void Report(StageProgress value)
        {
            Reported |= value.Stage == stage;
            inner?.Report(value);
        }
    }

    sealed class TrainingProgressAdapter(IProgress<StageProgress> inner) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p) => inner.Report(new StageProgress("pretrain", (p.Epoch - 1) * p.Batches + p.Batch, p.Epochs * p.Batches,
            $"epoch {p.Epoch}/{p.Epochs} · loss {p.RunningLoss:0.000}" + (p.LastValidationMacroAuroc is { } a ? $" · val AUROC {a:0.000}" : "") + $" · {p.SamplesPerSecond:N0} ECGs/s"));
    }

    static NetworkSummary Summary(PretrainedNetwork network, PretrainDefinition pretrain) => new()
    {
        Model = pretrain.Model,
        TrainedOn = network.TrainedOn,
        Parameters = network.Parameters,
        InputRateHz = pretrain.InputRateHz,
        InputSamples = network.Model.Shape.InputSamples,
        EpochsTrained = network.State.CompletedEpochs,
        BestEpoch = network.State.BestEpoch,
        BestValidationMacroAuroc = network.State.BestValidationMacroAuroc,
        StopReason = network.State.StopReason ?? "",
        CheckpointSha256 = network.CheckpointSha256,
        CheckpointFolder = network.CheckpointFolder,
        History = network.State.History,
    };

    static (FeatureTable Table, string CacheUse) ExtractOrLoad(ExperimentDefinition definition, RunOptions options, IEcgSource source,
        IEcgFeatureExtractor extractor, CancellationToken cancellationToken)
    {
        FeatureTable Extract() => FeatureTableBuilder.Extract(source, extractor, options.MaxThreads, options.Progress, cancellationToken, definition.Dataset.SkipBadRecords);
        if (options.FeatureCacheDirectory is null) return (Extract(), "off");
        var cache = new FeatureCache(options.FeatureCacheDirectory);
        var key = FeatureCache.Key(source, extractor, definition.Dataset.SkipBadRecords, definition.Dataset.Path);
        var (table, hit) = cache.LoadOrExtract(key, extractor, Extract);
        if (!hit) return (table, $"miss, written to {Path.GetFullPath(cache.PathOf(key))}");
        options.Progress?.Report(new StageProgress("features", table.RowCount, table.RowCount));
        return (table, $"hit {Path.GetFullPath(cache.PathOf(key))}");
    }

    /// <summary>Opens the definition's dataset and checks that every label of every subset is one of its classes.</summary>
    public static IEcgSource CreateSource(ExperimentDefinition definition)
    {
        var d = definition.Dataset;
        var source = OpenDataset(d, definition.Preprocessing);
        foreach (var subset in definition.LabelSubsets)
            foreach (var label in subset.Labels)
                if (!source.ClassNames.Contains(label))
                    throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", $"label_subsets.{subset.Name}",
                        $"'{label}' is not a class of this dataset; it has {string.Join(", ", source.ClassNames)}");
        return source;
    }

    static IEcgSource OpenDataset(DatasetDefinition d, Preprocessing.PreprocessingOptions preprocessing)
    {
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
        if (!preprocessing.IsIdentity)
            source = new Preprocessing.PreprocessedSource(source, new Preprocessing.EcgPreprocessor(preprocessing));
        if (source.Count == 0) throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", "records", "the dataset has no records");
        return source;
    }

    /// <summary>PTB-XL's recommended folds (Wagner et al. 2020): strat_fold 1–8 train, 9 validation, 10 test, by patient.</summary>
    static PatientSplit PredefinedSplit(IEcgSource source, FeatureTable features) =>
        (source is Preprocessing.PreprocessedSource p ? p.Inner : source) is Data.PtbXl.PtbXlSource ptbXl
        ? new PatientSplit { PartOfExam = features.SourceIndex.Select(i => Data.PtbXl.PtbXlDatabase.PartOfFold(ptbXl.ExamAt(i).StratFold)).ToArray() }
        : throw new ArgumentException($"dataset '{source.Name}' has no predefined split");

}
