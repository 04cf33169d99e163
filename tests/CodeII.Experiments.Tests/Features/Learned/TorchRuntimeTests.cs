using CodeII.Experiments.Features.Learned;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

[Collection(nameof(LibtorchCollection))]
public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharp_loads_and_a_convolution_learns_a_known_gradient()
    {
        TorchRuntime.EnsureLoaded(threads: 1);
        using var scope = NewDisposeScope();
        // y = sum(conv1d(x, w)) with x = 1..6 and a two-tap kernel: dy/dw[k] = sum of the inputs under tap k.
        var x = arange(1, 7, dtype: float32).reshape(1, 1, 6);
        var w = zeros(1, 1, 2, dtype: float32).requires_grad_();
        var y = nn.functional.conv1d(x, w).sum();
        y.backward();
        Assert.Equal(new[] { 15f, 20f }, w.grad!.data<float>().ToArray());
    }
}

/// <summary>
/// libtorch's random generator and thread count are process-wide, so tests that seed or train run one at a time and
/// alone: nothing else in parallel moves the working set that the memory test measures.
/// </summary>
[CollectionDefinition(nameof(LibtorchCollection), DisableParallelization = true)]
public class LibtorchCollection;
