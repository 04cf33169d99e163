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

    public ResNetShape Shape(int classes) => (Model == Ribeiro2020Model ? ResNetShape.Ribeiro2020 : ResNetShape.Small) with { Classes = classes };
    public int InputRateHz => SamplingRateHz ?? (Model == Ribeiro2020Model ? 400 : 100);
}

/// <summary>A trained network with what identifies it.</summary>
public sealed record PretrainedNetwork(ResNet1d Model, TrainingState State, IReadOnlyList<string> Classes, string CheckpointSha256,
    string CheckpointFolder, EcgBatchLoader Loader, long Parameters, NetworkInputCache Inputs) : IDisposable
{
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
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var shape = definition.Shape(classes.Count);
        var options = definition.Training with { Threads = threads, DecodeThreads = Math.Max(1, threads) };
        var preprocessing = new PreprocessingOptions { ResampleHz = definition.InputRateHz, Length = shape.InputSamples };
        var input = new PreprocessedSource(source, new EcgPreprocessor(preprocessing));
        var inputKey = Hash($"source={source.Describe()}\ndata={dataFingerprint}\ninput={preprocessing.Describe()}\nleads={EcgBatchLoader.Leads}");
        var inputs = new NetworkInputCache(Path.Combine(cacheRoot, "inputs-" + inputKey), source.Count, EcgBatchLoader.Leads * shape.InputSamples);
        var loader = new EcgBatchLoader(input, classes, shape.InputSamples, options.DecodeThreads, inputCache: inputs) { Labels = labelsOfSource };
        var folder = Path.Combine(cacheRoot, Key(source, dataFingerprint, classes, trainSourceIndices, validationSourceIndices, shape, definition));
        var model = new ResNet1d(shape, options.Seed);
        try
        {
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

    static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..32];

    static string Key(IEcgSource source, string dataFingerprint, IReadOnlyList<string> classes, IReadOnlyList<int> train,
        IReadOnlyList<int> validation, ResNetShape shape, PretrainDefinition definition)
    {
        var text = new StringBuilder()
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

    /// <summary>
    /// Embeddings (row-major, <see cref="ResNetShape.EmbeddingSize"/> per exam) and sigmoid outputs (one per class) for the
    /// given source indices, in batches, in evaluation mode.
    /// </summary>
    public static (float[] Embeddings, float[] Probabilities) Infer(PretrainedNetwork network, IReadOnlyList<int> sourceIndices,
        int batchSize, IProgress<StageProgress>? progress = null, CancellationToken cancellation = default)
    {
        var model = network.Model;
        model.eval();
        var width = model.Shape.EmbeddingSize;
        var classes = model.Shape.Classes;
        var embeddings = new float[(long)sourceIndices.Count * width];
        var probabilities = new float[(long)sourceIndices.Count * classes];
        using var noGrad = no_grad();
        for (var start = 0; start < sourceIndices.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var indices = sourceIndices.Skip(start).Take(batchSize).ToArray();
            using var batch = network.Loader.Decode(indices);
            using var scope = NewDisposeScope();
            var (embedding, probability) = model.EmbedAndClassify(batch.SignalTensor(network.Loader.Samples));
            embedding.data<float>().CopyTo(embeddings, checked(start * width));
            probability.data<float>().CopyTo(probabilities, checked(start * classes));
            progress?.Report(new StageProgress("embeddings", Math.Min(sourceIndices.Count, start + batchSize), sourceIndices.Count));
        }
        return (embeddings, probabilities);
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
