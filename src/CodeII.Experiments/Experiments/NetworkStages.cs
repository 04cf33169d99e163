using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// Trains the definition's network on the training exams (early stopping on the validation ones), or pre-trains it on
/// another dataset and uses it frozen or fine-tuned. Training checkpoints every epoch under the network cache, so an
/// interrupted training resumes from its last epoch; the stage's artefact is the run folder's <c>network/</c>, and a
/// later session loads the network from there.
/// </summary>
public sealed class PretrainStage : IRunStage
{
    public string Name => "pretrain";

    public bool IsComplete(RunContext run) =>
        File.Exists(run.Folder.FileIn(Path.Combine(RunNetwork.Folder, RunNetwork.DescriptionFile)))
        && File.Exists(run.Folder.FileIn(Path.Combine(RunNetwork.Folder, RunNetwork.Checkpoint)));

    public void Run(RunContext run)
    {
        var watch = new StageWatch(run.Options.Progress, Name);
        var network = Pretrain(run, run.Options with { Progress = watch });
        run.Network = network;
        // A network taken whole from the cache trains no batch: its stage is complete all the same.
        if (!watch.Reported)
            run.Report(Name, 1, 1, $"{network.State.CompletedEpochs} epochs, best {network.State.BestEpoch} (validation macro AUROC {network.State.BestValidationMacroAuroc:0.000})");
        RunNetwork.Write(run.Folder, network, run.Definition.Pretrain!);
        Record(run);
        NoteUnwritableInputCache(run);
    }

    /// <summary>An input cache the network could not write is a warning and a note in the manifest, once per run.</summary>
    internal static void NoteUnwritableInputCache(RunContext run)
    {
        if (run.Network?.Inputs.Unwritable is not { } why || run.Manifest.FeatureCache?.Contains(why, StringComparison.Ordinal) == true) return;
        run.Options.Progress?.Report(StageProgress.Warning(why));
        run.Manifest = run.Manifest with { FeatureCache = $"{run.Manifest.FeatureCache}; network inputs: {why}" };
    }

    public void Load(RunContext run)
    {
        var folder = run.Folder.FileIn(RunNetwork.Folder);
        var path = Path.Combine(folder, RunNetwork.DescriptionFile);
        var description = JsonConventions.ReadFile<RunNetwork.Description>(path);
        var checkpoint = Path.Combine(folder, RunNetwork.Checkpoint);
        using (var stream = File.OpenRead(checkpoint))
            if (Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)) != description.Sha256)
                throw new InvalidDataException($"{checkpoint}: the checkpoint does not have the SHA-256 {RunNetwork.DescriptionFile} records; the run folder was changed");
        var model = new ResNet1d(description.Shape);
        try
        {
            model.load(checkpoint);
            var labels = LabelsBySourceIndex(run.Rows);
            var (loader, inputs) = NetworkPretraining.Loader(run.Source, run.Rows.DataFingerprint, description.Classes, run.Definition.Pretrain!,
                run.NetworkCacheRoot, run.Options.MaxThreads, i => labels[i]);
            run.Network = new PretrainedNetwork(model, description.Training, description.Classes, description.Sha256, folder, loader, description.Parameters, inputs)
            {
                TrainedOn = description.TrainedOn,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
        Record(run);
    }

    static void Record(RunContext run)
    {
        var network = run.Network!;
        var pretrain = run.Definition.Pretrain!;
        run.Manifest = run.Manifest with
        {
            FeatureVersions = new Dictionary<string, string>(run.Manifest.FeatureVersions) { [LearnedFeatures.SetName] = $"checkpoint sha256:{network.CheckpointSha256}" },
            Network = new NetworkSummary
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
                // The run's own copy, whether this session trained the network or read it back.
                CheckpointFolder = run.Folder.FileIn(RunNetwork.Folder),
                History = network.State.History,
            },
        };
    }

    static PretrainedNetwork Pretrain(RunContext run, RunOptions options)
    {
        var (definition, source, rows, split, cancellationToken) = (run.Definition, run.Source, run.Rows, run.Split!, run.Cancellation);
        var cacheRoot = run.NetworkCacheRoot;
        var progress = options.Progress is null ? null : new TrainingProgressAdapter(options.Progress);
        var pretrain = definition.Pretrain! with { Training = definition.Pretrain!.Training with { Seed = definition.Seed } };

        var targetLabels = LabelsBySourceIndex(rows);
        // A network of these classes reading the experiment's own exams, through their input cache.
        (EcgBatchLoader, NetworkInputCache) TargetLoader(IReadOnlyList<string> classes) =>
            NetworkPretraining.Loader(source, rows.DataFingerprint, classes, pretrain, cacheRoot, options.MaxThreads, i => targetLabels[i]);
        PretrainedNetwork OnTarget(PretrainedNetwork? startFrom)
        {
            int[] SourceRows(SplitPart part) => split.Indices(part).Select(i => rows.SourceIndex[i]).ToArray();
            return NetworkPretraining.TrainOrResume(source, rows.DataFingerprint, definition.AllLabels, SourceRows(SplitPart.Train), SourceRows(SplitPart.Validation),
                pretrain, cacheRoot, options.MaxThreads, i => targetLabels[i], progress, cancellationToken, startFrom);
        }
        PretrainedNetwork pretrained;
        if (definition.PretrainWeights is { } imported)
        {
            // An imported network has no exams of its own: its loader reads the experiment's from the start.
            var (importLoader, importInputs) = TargetLoader(imported.Classes);
            pretrained = NetworkPretraining.Import(imported.Path, imported.Classes, pretrain, cacheRoot, importLoader, importInputs);
        }
        else if (definition.PretrainDataset is { } sourceDataset)
        {
            // Transfer: pre-train on another dataset, split by patient into training and validation parts of its own.
            // The experiment's preprocessing applies to the source too: the network must read both alike.
            var pretrainSource = Datasets.Open(sourceDataset, definition.Preprocessing);
            var classes = definition.PretrainLabels ?? definition.AllLabels;
            Datasets.RequireClasses(pretrainSource, sourceDataset, classes, "pretrain.labels");
            var (sourceRows, _) = FeaturesStage.ExtractOrLoad(sourceDataset, options, pretrainSource, new MetadataOnlyExtractor(), cancellationToken);
            var sourceSplit = PatientSplit.IterativeStratified(sourceRows.PatientIds, sourceRows.Labels, 0.8, 0.15, definition.Seed);
            int[] PretrainRows(SplitPart part) => sourceSplit.Indices(part).Select(i => sourceRows.SourceIndex[i]).ToArray();
            var sourceLabels = LabelsBySourceIndex(sourceRows);
            pretrained = NetworkPretraining.TrainOrResume(pretrainSource, sourceRows.DataFingerprint, classes, PretrainRows(SplitPart.Train), PretrainRows(SplitPart.Validation),
                pretrain, cacheRoot, options.MaxThreads, i => sourceLabels[i], progress, cancellationToken);
            pretrained = pretrained with { TrainedOn = $"{pretrainSource.Describe()} (classes {string.Join(", ", classes)}; checkpoint sha256 {pretrained.CheckpointSha256[..16]}…)" };
        }
        else return OnTarget(startFrom: null);

        var origin = pretrained.TrainedOn;
        if (pretrain.Transfer == TransferMode.FineTune)
            using (pretrained)
                return OnTarget(startFrom: pretrained) with { TrainedOn = $"pre-trained: {origin}, then fine-tuned on the experiment's training patients" };

        // Frozen: the source's network, reading the experiment's exams.
        if (definition.PretrainWeights is null)
        {
            var (loader, inputs) = TargetLoader(pretrained.Classes);
            pretrained.Inputs.Dispose();
            pretrained = pretrained with { Loader = loader, Inputs = inputs };
        }
        return pretrained with { TrainedOn = $"{origin}, frozen" };
    }

    internal static Dictionary<int, IReadOnlySet<string>> LabelsBySourceIndex(FeatureTable rows) =>
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
}

/// <summary>
/// The network's embeddings (the learned features) and sigmoid outputs for every exam, streamed batch by batch to a
/// feature rows file (<see cref="FeatureRowsFile"/>) as inference computes them and read back through a memory map, so
/// memory holds one batch of them whatever the number of exams. The file is in the feature cache, keyed by the feature
/// cache's key plus the checkpoint hash, so a checkpoint already run over these data is a cache hit; with the cache off
/// (or unwritable) it is the run folder's <see cref="RunFolder.EmbeddingsFile"/>, which a resumed session reads back.
/// Like <see cref="FeaturesStage"/> the stage always runs.
/// </summary>
public sealed class EmbeddingsStage : IRunStage
{
    public string Name => "embeddings";

    public bool IsComplete(RunContext run) => false;

    public void Run(RunContext run)
    {
        var (definition, options, source, rows, network) = (run.Definition, run.Options, run.Source, run.Rows, run.Network!);
        var width = network.Model.Shape.EmbeddingSize;
        IReadOnlyList<string> names = [.. NetworkPretraining.FeatureNames(width), .. network.Classes.Select(c => $"{LearnedFeatures.EndToEndModel}_{c}")];
        // Windows give other embeddings than crops of the same network: they key the cache too.
        var input = definition.Pretrain!.Input.Windowing == InputWindowing.Crop ? "" : $" input {definition.Pretrain.Input.Describe()}";
        var producer = $"network sha256:{network.CheckpointSha256}{input}";
        var header = new FeatureRowsFile.Header
        {
            Rows = rows.RowCount, FeatureNames = names, Producer = producer, DataFingerprint = rows.DataFingerprint,
            ExamIdsSha256 = FeatureRowsFile.ExamIdsSha256(rows.ExamIds),
        };
        var inRunFolder = run.Folder.FileIn(RunFolder.EmbeddingsFile);
        MappedFeatureValues values;
        string use;
        if (options.FeatureCacheDirectory is not { } cacheDirectory)
            (values, use) = ReadOrInfer(run, inRunFolder, header, "off, read back from", "off, written to");
        else
        {
            // Earlier versions cached these rows as an Arrow table, <key>.arrow, read into memory whole: such a file is
            // left unread, and the rows are computed again.
            var cached = new FeatureCache(cacheDirectory).RowsPathOf(FeatureCache.Key(source, producer, names, definition.Dataset.SkipBadRecords, definition.Dataset.Path));
            try
            {
                (values, use) = ReadOrInfer(run, cached, header, "hit", "miss, written to");
            }
            catch (FeatureRowsWriteException e)
            {
                // A full or read-only cache: the rows go to the run folder, which the run writes anyway.
                run.Options.Progress?.Report(StageProgress.Warning($"{e.Message}; the learned features go to the run folder instead"));
                (values, use) = ReadOrInfer(run, inRunFolder, header, "read back from", "written to");
                use = $"miss, not cached ({e.Message}); {use}";
            }
        }
        var both = rows.WithFeatures(names, values);
        run.Tables[LearnedFeatures.SetName] = both.Columns(0, width);
        run.NetworkOutputs = both.Columns(width, network.Classes.Count);
        run.Manifest = run.Manifest with { FeatureCache = $"{run.Manifest.FeatureCache}; learned: {use}" };
        PretrainStage.NoteUnwritableInputCache(run);
    }

    /// <summary>The rows from <paramref name="path"/> when it holds them, else inferred into it (through a temporary file
    /// and a rename) and mapped; with how they were had, for the manifest.</summary>
    static (MappedFeatureValues Values, string Use) ReadOrInfer(RunContext run, string path, FeatureRowsFile.Header header, string read, string written)
    {
        var rows = run.Rows;
        if (FeatureRowsFile.TryOpen(path, header) is { } existing)
        {
            run.Report("embeddings", rows.RowCount, rows.RowCount);
            return (existing, $"{read} {Path.GetFullPath(path)}");
        }
        var network = run.Network!;
        var (width, classes) = (network.Model.Shape.EmbeddingSize, network.Classes.Count);
        FeatureRowsFile.Write(path, header, sink =>
        {
            // Each exam's row is its embedding followed by its outputs, one batch of rows at a time.
            var batch = new float[NetworkPretraining.InferenceBatch * (width + classes)];
            NetworkPretraining.Infer(network.Model, network.Loader, rows.SourceIndex, NetworkPretraining.InferenceBatch, (_, embeddings, probabilities) =>
            {
                var count = embeddings.Length / width;
                for (var r = 0; r < count; r++)
                {
                    embeddings.Slice(r * width, width).CopyTo(batch.AsSpan(r * (width + classes), width));
                    probabilities.Slice(r * classes, classes).CopyTo(batch.AsSpan(r * (width + classes) + width, classes));
                }
                sink.Write(batch.AsSpan(0, count * (width + classes)));
            }, run.Options.Progress, run.Cancellation);
        });
        // Runs sharing a cache may have replaced the file a moment ago: with the same rows, as the key is the same.
        var values = FeatureRowsFile.TryOpen(path, header) ?? throw new InvalidDataException($"{path}: the rows written a moment ago cannot be read back");
        return (values, $"{written} {Path.GetFullPath(path)}");
    }
}
