using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

[Collection(nameof(LibtorchCollection))]
public class NetworkEmbeddingExtractorTests
{
    [Fact]
    public void Per_record_embeddings_equal_the_batched_ones_and_work_as_an_ML_NET_estimator()
    {
        TorchRuntime.EnsureLoaded(threads: 1);
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 6, Seed = 2, SamplingRateHz = 100, DurationSeconds = 2.56, PaddedLength = 0 });
        using var model = new ResNet1d(NetworkTrainerTests.Tiny, seed: 4);
        var extractor = new NetworkEmbeddingExtractor(model, inputRateHz: 100);
        Assert.Equal(NetworkTrainerTests.Tiny.EmbeddingSize, extractor.FeatureNames.Count);
        Assert.Equal("learned_0000", extractor.FeatureNames[0]);

        // The same exams through the training loader, in one batch.
        var loader = new EcgBatchLoader(generator, ["SB"], NetworkTrainerTests.Tiny.InputSamples, decodeThreads: 1);
        using var batch = loader.Decode([0, 1, 2, 3, 4, 5]);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var batched = model.Embed(batch.SignalTensor(loader.Samples)).data<float>().ToArray();
        var width = extractor.FeatureNames.Count;
        for (var i = 0; i < 6; i++)
        {
            var single = new float[width];
            extractor.Extract(generator.Read(i), single);
            for (var k = 0; k < width; k++) Assert.Equal(batched[i * width + k], single[k], 4);
        }

        var ml = new MLContext(seed: 1);
        var view = ml.Transforms.ExtractEcgFeatures(extractor).Fit(EcgDataView.Load(ml, generator)).Transform(EcgDataView.Load(ml, generator));
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        view.Schema["Features"].GetSlotNames(ref slotNames);
        Assert.Equal(extractor.FeatureNames, slotNames.DenseValues().Select(n => n.ToString()));
        var first = view.GetColumn<float[]>("Features").First();
        Assert.Equal(batched.AsSpan(0, width).ToArray(), first, new FloatTolerance(1e-4f));
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
        public int GetHashCode(float value) => 0;
    }
}
