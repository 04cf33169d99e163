using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Preprocessing;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>Which network to train and how long: the definition's <c>pretrain</c> section, as plain data.</summary>
public sealed record PretrainDefinition
{
    public const string SmallModel = "small";
    public const string Ribeiro2020Model = "ribeiro2020";
    public static readonly IReadOnlyList<string> Models = [SmallModel, Ribeiro2020Model];

    public string Model { get; init; } = SmallModel;
    /// <summary>The network's input rate; null takes the model's own (100 Hz small, 400 Hz Ribeiro et al.).</summary>
    public int? SamplingRateHz { get; init; }
    public TrainingOptions Training { get; init; } = new();
    /// <summary>Add the network's own sigmoid outputs to the comparison as the model "resnet".</summary>
    public bool EndToEnd { get; init; } = true;
    /// <summary>With a source dataset other than the experiment's: use its encoder as it is, or fine-tune it on the experiment's data.</summary>
    public TransferMode Transfer { get; init; } = TransferMode.Frozen;
    /// <summary>Records longer or shorter than the input: centred crop, or sliding windows aggregated.</summary>
    public NetworkInput Input { get; init; } = new();
    /// <summary>Epoch budget of fine-tuning; null takes <see cref="TrainingOptions.Epochs"/>.</summary>
    public int? FineTuneEpochs { get; init; }

    /// <summary>Which published form of the network (padding, first activation); an imported network's must match its weights.</summary>
    public ResNetVariant Variant { get; init; } = ResNetVariant.Keras;
    /// <summary>The network's input length in samples; null takes the model's (4,096 or 1,000).</summary>
    public int? InputSamples { get; init; }
    /// <summary>The residual units (filters, downsample); null takes the model's. The authors' PyTorch port adds a
    /// first unit that keeps the width, e.g. (64, 1).</summary>
    public IReadOnlyList<ResidualUnit>? Units { get; init; }

    public ResNetShape Shape(int classes)
    {
        var model = Model == Ribeiro2020Model ? ResNetShape.Ribeiro2020 : ResNetShape.Small;
        return model with { Classes = classes, Variant = Variant, InputSamples = InputSamples ?? model.InputSamples, Units = Units ?? model.Units };
    }
    public int InputRateHz => SamplingRateHz ?? (Model == Ribeiro2020Model ? 400 : 100);
}

/// <summary>How a network pre-trained on a source dataset serves a target dataset.</summary>
public enum TransferMode
{
    /// <summary>The encoder as trained on the source; its embeddings of the target's exams feed ML.NET heads (a linear probe or a GBM).</summary>
    Frozen,
    /// <summary>The encoder's weights start a network with the target's classes, trained on the target's training patients.</summary>
    FineTune,
}

/// <summary>A trained network with what identifies it.</summary>
public sealed record PretrainedNetwork(ResNet1d Model, TrainingState State, IReadOnlyList<string> Classes, string CheckpointSha256,
    string CheckpointFolder, EcgBatchLoader Loader, long Parameters, NetworkInputCache Inputs) : IDisposable
{
    /// <summary>Where the weights come from, in words, for the manifest and the report.</summary>
    public string TrainedOn { get; init; } = "the experiment's training patients";

    public void Dispose()
    {
        Model.Dispose();
        Inputs.Dispose();
    }
}

/// <summary>
/// Trains the definition's network on a source's training exams (early stopping on its validation exams), or resumes
/// or reuses an earlier training of the same network on the same data: checkpoints live in a cache folder keyed by
/// everything that decides the weights (data, classes, split, shape, training options, seed).
/// </summary>
public static class NetworkPretraining
{
    /// <param name="labelsOfSource">Each exam's labels by source index (from the feature table), so exams whose input is
    /// already in the input cache are never decoded again.</param>
    public static PretrainedNetwork TrainOrResume(IEcgSource source, string dataFingerprint, IReadOnlyList<string> classes,
        IReadOnlyList<int> trainSourceIndices, IReadOnlyList<int> validationSourceIndices, PretrainDefinition definition,
        string cacheRoot, int threads, Func<int, IReadOnlySet<string>> labelsOfSource,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, PretrainedNetwork? startFrom = null)
    {
        var shape = definition.Shape(classes.Count);
        var options = definition.Training with { Threads = threads, DecodeThreads = Math.Max(1, threads) };
        if (startFrom is not null && definition.FineTuneEpochs is { } epochs) options = options with { Epochs = epochs };
        var (loader, inputs) = Loader(source, dataFingerprint, classes, definition, cacheRoot, options.DecodeThreads, labelsOfSource);
        // The key holds the epochs actually trained: a fine-tuning budget that differs is another network.
        var keyed = definition with { Training = definition.Training with { Epochs = options.Epochs } };
        var folder = Path.Combine(cacheRoot, Key(source, dataFingerprint, classes, trainSourceIndices, validationSourceIndices, shape, keyed)
            + (startFrom is null ? "" : "-from-" + startFrom.CheckpointSha256[..16]));
        var model = new ResNet1d(shape, options.Seed);
        try
        {
            if (startFrom is not null) CopyEncoder(startFrom.Model, model);
            var state = new NetworkTrainer(options).Train(model, loader, trainSourceIndices, validationSourceIndices, folder, progress, cancellation);
            var best = Path.Combine(folder, "best.bin");
            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(best)));
            return new PretrainedNetwork(model, state, classes, hash, folder, loader, model.ParameterCount(), inputs);
        }
        catch
        {
            model.Dispose();
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A network imported from PyTorch weights (<see cref="PyTorchWeights"/>) as a pre-trained one: its checkpoint is
    /// written once under the network cache, named by the weights file's SHA-256, so the run folder and bundles keep it
    /// as they keep a trained network.
    /// </summary>
    public static PretrainedNetwork Import(string weightsPath, IReadOnlyList<string> classes, PretrainDefinition definition, string cacheRoot,
        EcgBatchLoader loader, NetworkInputCache inputs)
    {
        var fileHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(weightsPath)));
        var folder = Path.Combine(cacheRoot, "imported-" + Hash($"weights={fileHash}\nshape={JsonSerializer.Serialize(definition.Shape(classes.Count))}"));
        var model = PyTorchWeights.Load(weightsPath, definition.Shape(classes.Count));
        try
        {
            var best = Path.Combine(folder, "best.bin");
            if (!File.Exists(best))
            {
                Directory.CreateDirectory(folder);
                AtomicFile.Write(best, temporary => model.save(temporary));
            }
            var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(best)));
            return new PretrainedNetwork(model, new TrainingState { StopReason = "imported, not trained here" }, classes, hash, folder, loader, model.ParameterCount(), inputs)
            {
                TrainedOn = $"imported from {Path.GetFullPath(weightsPath)} (sha256 {fileHash[..16]}…)",
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A loader of a source's exams shaped for the definition's network, with the source's input cache.</summary>
    public static (EcgBatchLoader Loader, NetworkInputCache Inputs) Loader(IEcgSource source, string dataFingerprint, IReadOnlyList<string> classes,
        PretrainDefinition definition, string cacheRoot, int decodeThreads, Func<int, IReadOnlySet<string>> labelsOfSource)
    {
        var samples = definition.Shape(classes.Count).InputSamples;
        var preprocessing = new PreprocessingOptions { ResampleHz = definition.InputRateHz, Length = samples };
        var input = new PreprocessedSource(source, new EcgPreprocessor(preprocessing));
        var inputKey = Hash($"source={source.Describe()}\ndata={dataFingerprint}\ninput={preprocessing.Describe()}\nleads={EcgBatchLoader.Leads}");
        var inputs = new NetworkInputCache(Path.Combine(cacheRoot, "inputs-" + inputKey), source.Count, EcgBatchLoader.Leads * samples);
        return (new EcgBatchLoader(input, classes, samples, decodeThreads, inputCache: inputs)
        {
            Labels = labelsOfSource, Input = definition.Input, WholeRecords = WholeRecords(source, definition.InputRateHz, definition.Input),
        }, inputs);
    }

    /// <summary>With windows, the records at the network's rate and uncropped, for the windows to be cut from.</summary>
    static IEcgSource? WholeRecords(IEcgSource source, int rateHz, NetworkInput input) => input.Windowing == InputWindowing.Crop ? null
        : new PreprocessedSource(source, new EcgPreprocessor(new PreprocessingOptions { ResampleHz = rateHz }));

    /// <summary>A loader of any source's exams shaped for a network (resampled to its rate, centred-padded or cropped to its
    /// input), without an input cache: what scoring new records uses, the same steps as <see cref="Loader"/>.</summary>
    public static EcgBatchLoader InputLoader(IEcgSource source, ResNetShape shape, int inputRateHz, int decodeThreads, NetworkInput? input = null)
    {
        input ??= new NetworkInput();
        return new(new PreprocessedSource(source, new EcgPreprocessor(new PreprocessingOptions { ResampleHz = inputRateHz, Length = shape.InputSamples })),
            [], shape.InputSamples, decodeThreads) { Input = input, WholeRecords = WholeRecords(source, inputRateHz, input) };
    }

    /// <summary>Every weight but the classification head's: what fine-tuning starts from.</summary>
    static void CopyEncoder(ResNet1d from, ResNet1d to)
    {
        var encoder = from.state_dict().Where(p => !p.Key.StartsWith("head.", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value);
        var (missing, unexpected) = to.load_state_dict(encoder, strict: false);
        if (unexpected.Count > 0 || missing.Any(k => !k.StartsWith("head.", StringComparison.Ordinal)))
            throw new InvalidOperationException($"the pre-trained network's shape differs: missing {string.Join(", ", missing)}; unexpected {string.Join(", ", unexpected)}");
    }

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    static string Key(IEcgSource source, string dataFingerprint, IReadOnlyList<string> classes, IReadOnlyList<int> train,
        IReadOnlyList<int> validation, ResNetShape shape, PretrainDefinition definition)
    {
        var text = new StringBuilder()
            // Bumped when the checkpoint folder's layout changes, so older folders are left alone rather than misread.
            .Append("layout=2\n")
            .Append("source=").Append(source.Describe()).Append('\n')
            .Append("data=").Append(dataFingerprint).Append('\n')
            .Append("classes=").Append(string.Join(",", classes)).Append('\n')
            .Append("train=").Append(string.Join(",", train)).Append('\n')
            .Append("validation=").Append(string.Join(",", validation)).Append('\n')
            .Append("shape=").Append(JsonSerializer.Serialize(shape)).Append('\n')
            .Append("rate=").Append(definition.InputRateHz).Append('\n')
            // Threads are left out: they change how fast, not what is learned.
            .Append("training=").Append(JsonSerializer.Serialize(definition.Training with { Threads = null, DecodeThreads = 1 }));
        return Hash(text.ToString());
    }

    /// <summary>Exams per inference batch, in runs and in <c>codeii predict</c> alike: libtorch's results for an exam can
    /// differ in the last bit with the batch it is in, so both score the same exams in the same batches.</summary>
    public const int InferenceBatch = 64;

    /// <summary>
    /// Embeddings (row-major, <see cref="ResNetShape.EmbeddingSize"/> per exam) and sigmoid outputs (one per class) for the
    /// given source indices, in batches, in evaluation mode, in memory: for a bounded number of exams (a chunk of
    /// <c>codeii predict</c>, one record). A run's exams go through <see cref="Infer(ResNet1d, EcgBatchLoader, IReadOnlyList{int}, int, InferredRows, IProgress{StageProgress}?, CancellationToken)"/>,
    /// which hands each batch on instead of holding them all.
    /// </summary>
    public static (float[] Embeddings, float[] Probabilities) Infer(PretrainedNetwork network, IReadOnlyList<int> sourceIndices,
        int batchSize, IProgress<StageProgress>? progress = null, CancellationToken cancellation = default) =>
        Infer(network.Model, network.Loader, sourceIndices, batchSize, progress, cancellation);

    /// <summary>As above, for exams of any source the loader reads (a frozen encoder on a target dataset).</summary>
    public static (float[] Embeddings, float[] Probabilities) Infer(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> sourceIndices,
        int batchSize, IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        var (width, classes) = (model.Shape.EmbeddingSize, model.Shape.Classes);
        var embeddings = new float[(long)sourceIndices.Count * width];
        var probabilities = new float[(long)sourceIndices.Count * classes];
        Infer(model, loader, sourceIndices, batchSize, (first, e, p) =>
        {
            e.CopyTo(embeddings.AsSpan(checked(first * width)));
            p.CopyTo(probabilities.AsSpan(checked(first * classes)));
        }, progress, cancellation);
        return (embeddings, probabilities);
    }

    /// <summary>Rows of exams as inference computes them: the position of the first among the exams asked for, then the
    /// rows' embeddings and sigmoid outputs, row-major. The spans are reused for the next rows once this returns.</summary>
    public delegate void InferredRows(int first, ReadOnlySpan<float> embeddings, ReadOnlySpan<float> probabilities);

    /// <summary>
    /// Embeddings and sigmoid outputs of the given exams in batches, in evaluation mode, handed to <paramref name="write"/>
    /// batch by batch in order: memory holds one batch whatever the number of exams, and the caller streams the rows
    /// where it keeps them (a feature rows file).
    /// </summary>
    public static void Infer(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> sourceIndices, int batchSize, InferredRows write,
        IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        model.eval();
        var (width, classes) = (model.Shape.EmbeddingSize, model.Shape.Classes);
        // Inference mode rather than no_grad: its tensors carry no version counters or autograd metadata.
        using var inference = inference_mode();
        if (loader.Input.Windowing == InputWindowing.Windows)
        {
            InferWindows(model, loader, sourceIndices, batchSize, write, progress, cancellation);
            return;
        }
        var embeddings = new float[checked(batchSize * width)];
        var probabilities = new float[checked(batchSize * classes)];
        for (var start = 0; start < sourceIndices.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var indices = sourceIndices.Skip(start).Take(batchSize).ToArray();
            using var batch = loader.Decode(indices);
            using var scope = NewDisposeScope();
            var (embedding, probability) = model.EmbedAndClassify(batch.SignalTensor(loader.Samples));
            embedding.data<float>().CopyTo(embeddings);
            probability.data<float>().CopyTo(probabilities);
            write(start, embeddings.AsSpan(0, indices.Length * width), probabilities.AsSpan(0, indices.Length * classes));
            progress?.Report(new StageProgress("embeddings", Math.Min(sourceIndices.Count, start + batchSize), sourceIndices.Count));
        }
    }

    /// <summary>Each record's windows through the network in batches of <paramref name="batchSize"/> windows, and their
    /// embeddings and outputs aggregated per record by the input's mean or max.</summary>
    static void InferWindows(ResNet1d model, EcgBatchLoader loader, IReadOnlyList<int> sourceIndices, int batchSize,
        InferredRows write, IProgress<StageProgress>? progress, CancellationToken cancellation)
    {
        var (width, classes, samples) = (model.Shape.EmbeddingSize, model.Shape.Classes, loader.Samples);
        var perExam = EcgBatchLoader.Leads * samples;
        var max = loader.Input.Aggregate == WindowAggregate.Max;
        var embeddings = new float[checked(batchSize * width)];
        var probabilities = new float[checked(batchSize * classes)];
        for (var start = 0; start < sourceIndices.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var indices = sourceIndices.Skip(start).Take(batchSize).ToArray();
            var (windows, counts) = loader.DecodeWindows(indices);
            var total = counts.Sum();
            var windowEmbeddings = new float[(long)total * width];
            var windowOutputs = new float[(long)total * classes];
            for (var first = 0; first < total; first += batchSize)
            {
                var n = Math.Min(batchSize, total - first);
                using var scope = NewDisposeScope();
                var (embedding, probability) = model.EmbedAndClassify(EcgBatch.ToTensor(windows.AsSpan(first * perExam, n * perExam), n, samples));
                embedding.data<float>().CopyTo(windowEmbeddings, checked(first * width));
                probability.data<float>().CopyTo(windowOutputs, checked(first * classes));
            }
            var window = 0;
            for (var r = 0; r < indices.Length; r++)
            {
                Aggregate(windowEmbeddings, window, counts[r], width, embeddings.AsSpan(r * width, width), max);
                Aggregate(windowOutputs, window, counts[r], classes, probabilities.AsSpan(r * classes, classes), max);
                window += counts[r];
            }
            write(start, embeddings.AsSpan(0, indices.Length * width), probabilities.AsSpan(0, indices.Length * classes));
            progress?.Report(new StageProgress("embeddings", Math.Min(sourceIndices.Count, start + batchSize), sourceIndices.Count));
        }
    }

    static void Aggregate(float[] rows, int first, int count, int width, Span<float> into, bool max)
    {
        for (var j = 0; j < width; j++)
        {
            var value = rows[(long)first * width + j];
            for (var w = 1; w < count; w++)
            {
                var v = rows[(long)(first + w) * width + j];
                value = max ? Math.Max(value, v) : value + v;
            }
            into[j] = max ? value : value / count;
        }
    }

    /// <summary>Slot names of the learned features: <c>learned_0000</c> … in the network's flattened (filter, time) order.</summary>
    public static IReadOnlyList<string> FeatureNames(int width) => [.. Enumerable.Range(0, width).Select(i => $"learned_{i:D4}")];
}

/// <summary>Names of the learned feature set and the end-to-end model in definitions, tables and reports.</summary>
public static class LearnedFeatures
{
    public const string SetName = "learned";
    /// <summary>The network's own outputs, compared as if it were one more learner.</summary>
    public const string EndToEndModel = "resnet";
}
