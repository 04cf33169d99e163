using CodeII.Experiments.Features.Learned;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

[Collection(nameof(LibtorchCollection))]
public class ResNet1dTests
{
    public ResNet1dTests() => TorchRuntime.EnsureLoaded(threads: 1);

    // Hand count for kernel k: first conv 12·64·k + BN 2·64; per unit (in → out filters) conv in·out·k + out·out·k,
    // two BNs 4·out, 1×1 skip in·out; head 320·16·6 + 6. With k = 17 that is 6,810,790 (PyTorch-style layers, the
    // issue's "about 6.8M"); with k = 16, Ribeiro et al.'s Keras kernel, 6,421,910 ("about 6.4M").
    [Theory]
    [InlineData(17, 6_810_790)]
    [InlineData(16, 6_421_910)]
    public void The_full_model_has_the_reference_architectures_parameter_count(int kernel, long expected)
    {
        using var model = new ResNet1d(ResNetShape.Ribeiro2020 with { KernelSize = kernel });
        Assert.Equal(expected, model.ParameterCount());
        Assert.Equal(320 * 16, model.Shape.EmbeddingSize);
    }

    [Fact]
    public void The_small_model_maps_a_batch_to_logits_and_embeddings_of_the_documented_sizes()
    {
        using var scope = NewDisposeScope();
        using var model = new ResNet1d(ResNetShape.Small with { Classes = 3 });
        model.eval();
        var x = randn(2, 12, 1000);
        // 1000 → 250 → 63 → 16 → 4 samples: "same" padding rounds up at every stage.
        Assert.Equal(new long[] { 2, 32 * 4 }, model.Embed(x).shape);
        Assert.Equal(new long[] { 2, 3 }, model.forward(x).shape);
        var p = model.Probabilities(x).data<float>().ToArray();
        Assert.All(p, v => Assert.InRange(v, 0f, 1f));
    }

    [Theory]
    [InlineData(16, 4)]
    [InlineData(17, 4)]
    [InlineData(16, 1)]
    [InlineData(17, 3)]
    public void Even_and_odd_kernels_give_ceil_length_outputs(int kernel, int downsample)
    {
        using var scope = NewDisposeScope();
        var shape = new ResNetShape { InputSamples = 50, FirstFilters = 2, Units = [new(3, downsample)], KernelSize = kernel, Classes = 1 };
        using var model = new ResNet1d(shape);
        Assert.Equal(new long[] { 1, 3 * ((50 + downsample - 1) / downsample) }, model.Embed(randn(1, 12, 50)).shape);
    }
}
