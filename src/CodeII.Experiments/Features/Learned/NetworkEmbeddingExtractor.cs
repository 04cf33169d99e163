using CodeII.Experiments.Data;
using CodeII.Experiments.Preprocessing;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// A trained network's penultimate layer as a feature extractor, so the learned features plug into everything that
/// takes one: <c>ml.Transforms.ExtractEcgFeatures(new NetworkEmbeddingExtractor(...))</c> in a notebook, or
/// <c>FeatureTableBuilder</c>. Each record is resampled and centred-padded or cropped to the network's input, as in
/// training. The version names the checkpoint, so cached tables follow the weights.
/// </summary>
public sealed class NetworkEmbeddingExtractor : IEcgFeatureExtractor
{
    readonly ResNet1d _model;
    readonly EcgPreprocessor _input;
    readonly int _samples;

    public NetworkEmbeddingExtractor(ResNet1d model, int inputRateHz)
    {
        _model = model;
        // Set once here: switching modes per call would not be safe from the parallel callers extraction uses.
        _model.eval();
        _samples = model.Shape.InputSamples;
        _input = new EcgPreprocessor(new PreprocessingOptions { ResampleHz = inputRateHz, Length = _samples });
        FeatureNames = NetworkPretraining.FeatureNames(model.Shape.EmbeddingSize);
    }

    /// <summary>Loads weights saved by the trainer (a run's <c>best.bin</c> under <c>cache/networks/</c>).</summary>
    public static NetworkEmbeddingExtractor Load(string checkpoint, ResNetShape shape, int inputRateHz)
    {
        if (!File.Exists(checkpoint)) throw new FileNotFoundException($"network checkpoint not found: {checkpoint}", checkpoint);
        var model = new ResNet1d(shape);
        model.load(checkpoint);
        return new NetworkEmbeddingExtractor(model, inputRateHz);
    }

    public string Name => LearnedFeatures.SetName;
    public int Version => 1;
    public IReadOnlyList<string> FeatureNames { get; }

    public void Extract(EcgRecord record, Span<float> destination)
    {
        if (destination.Length != FeatureNames.Count)
            throw new ArgumentException($"destination has {destination.Length} slots; {Name} writes {FeatureNames.Count}");
        var exam = new float[EcgBatchLoader.Leads * _samples];
        EcgBatchLoader.Place(_input.Apply(record), exam, _samples, "network input");
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        _model.Embed(EcgBatch.ToTensor(exam, 1, _samples)).data<float>().CopyTo(destination);
    }
}
