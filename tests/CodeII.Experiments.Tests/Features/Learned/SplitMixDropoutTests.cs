using CodeII.Experiments.Features.Learned;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

/// <summary>
/// The oracle is the definition of inverted dropout: every element independently kept with probability 1 − p and then
/// scaled by 1 / (1 − p), zero otherwise, the gradient being that same mask. Counts are checked against the binomial
/// distribution's mean and standard deviation, correlations against the 1 / √n of independent draws.
/// </summary>
[Collection(nameof(LibtorchCollection))]
public class SplitMixDropoutTests
{
    // Odd, so that the last element, which takes a draw of its own, is exercised too.
    const int N = 1_000_001;

    public SplitMixDropoutTests() => TorchRuntime.EnsureLoaded(threads: 1);

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Each_element_is_kept_with_probability_one_minus_p_and_then_scaled_by_its_inverse(double p)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var dropout = Training(p);
        var x = arange(1, N + 1, ScalarType.Float32);
        var input = x.data<float>().ToArray();
        var output = dropout.forward(x).data<float>().ToArray();

        var scale = (float)(1 / (1 - p));
        var kept = 0;
        for (var i = 0; i < N; i++)
        {
            if (output[i] == 0) continue;
            Assert.Equal(input[i] * scale, output[i]);
            kept++;
        }
        // Binomial(N, 1 − p): mean N(1 − p), SD √(N p (1 − p)) (400 at p = 0.2, 500 at 0.5); 5 SD either way.
        var sd = Math.Sqrt(N * p * (1 - p));
        Assert.InRange(kept, N * (1 - p) - 5 * sd, N * (1 - p) + 5 * sd);
    }

    [Fact]
    public void Neighbouring_elements_and_successive_calls_are_uncorrelated()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var dropout = Training(0.5);
        var x = ones(N);
        var first = Kept(dropout.forward(x));
        var second = Kept(dropout.forward(x));

        // Elements 2k and 2k + 1 share one SplitMix64 output (its two halves); a call and the next use two keys.
        var bound = 5 / Math.Sqrt(N / 2.0);
        Assert.InRange(Correlation(first, 0, first, 1, step: 2), -bound, bound);
        Assert.InRange(Correlation(first, 1, first, 2, step: 2), -bound, bound);
        Assert.InRange(Correlation(first, 0, second, 0, step: 1), -bound, bound);
        Assert.InRange(Correlation(first, 0, second, 1, step: 1), -bound, bound);
    }

    [Fact]
    public void The_same_libtorch_seed_gives_the_same_masks_and_evaluation_passes_the_input_through()
    {
        using var scope = NewDisposeScope();
        using var dropout = Training(0.2);
        var x = ones(10_000);
        manual_seed(5);
        var a = Kept(dropout.forward(x));
        var b = Kept(dropout.forward(x));
        manual_seed(5);
        Assert.Equal(a, Kept(dropout.forward(x)));
        Assert.Equal(b, Kept(dropout.forward(x)));
        Assert.NotEqual(a, b);

        dropout.eval();
        var y = randn(3, 4, 5);
        Assert.Equal(y.data<float>().ToArray(), dropout.forward(y).data<float>().ToArray());
    }

    [Fact]
    public void The_gradient_is_the_scaled_mask()
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        using var dropout = Training(0.3);
        // Inputs kept away from zero, so a zero output means a dropped element.
        var x = (rand(4, 6, 250) + 1).requires_grad_();
        var weights = randn(4, 6, 250);
        var y = dropout.forward(x);
        (y * weights).sum().backward();

        var output = y.detach().data<float>().ToArray();
        var w = weights.data<float>().ToArray();
        var gradient = x.grad!.data<float>().ToArray();
        var scale = (float)(1 / 0.7);
        for (var i = 0; i < output.Length; i++)
            Assert.Equal(output[i] == 0 ? 0f : w[i] * scale, gradient[i]);
    }

    [Fact]
    public void A_probability_outside_zero_to_one_is_refused_and_zero_passes_the_input_through()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplitMixDropout(1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SplitMixDropout(-0.1));
        using var scope = NewDisposeScope();
        using var none = Training(0);
        var y = randn(1000);
        Assert.Equal(y.data<float>().ToArray(), none.forward(y).data<float>().ToArray());
    }

    static SplitMixDropout Training(double probability)
    {
        var dropout = new SplitMixDropout(probability);
        dropout.train();
        return dropout;
    }

    static bool[] Kept(Tensor output) => output.data<float>().ToArray().Select(v => v != 0).ToArray();

    /// <summary>Pearson correlation of a[start_a + k·step] and b[start_b + k·step] over every k both reach.</summary>
    static double Correlation(bool[] a, int startA, bool[] b, int startB, int step)
    {
        var pairs = new List<(double X, double Y)>();
        for (int i = startA, j = startB; i < a.Length && j < b.Length; i += step, j += step)
            pairs.Add((a[i] ? 1 : 0, b[j] ? 1 : 0));
        var meanX = pairs.Average(q => q.X);
        var meanY = pairs.Average(q => q.Y);
        var cov = pairs.Sum(q => (q.X - meanX) * (q.Y - meanY));
        var varX = pairs.Sum(q => (q.X - meanX) * (q.X - meanX));
        var varY = pairs.Sum(q => (q.Y - meanY) * (q.Y - meanY));
        return cov / Math.Sqrt(varX * varY);
    }
}
