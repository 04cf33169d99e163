using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// Inverted dropout, as <c>nn.Dropout</c>: in training each element is kept with probability 1 − p and scaled by
/// 1 / (1 − p), otherwise zeroed; in evaluation the input passes through.
/// <para>
/// The mask is drawn here rather than by libtorch's CPU Bernoulli kernel, which draws a Mersenne-Twister double per
/// element on one thread and then needs a second pass to scale the mask: about 9 % of a small-model training step, run
/// serially while the convolutions use every core (docs/benchmarks.md). Here one pass writes the scaled mask into the
/// tensor's memory, two elements per SplitMix64 output (its high and low 32 bits, each kept when below
/// (1 − p)·2³²), from a stream keyed by a 63-bit draw from libtorch's global generator: <c>torch.manual_seed</c>
/// fixes the masks just as it fixed <c>nn.Dropout</c>'s, which the trainer's per-epoch reseeding relies on.
/// </para>
/// </summary>
public sealed class SplitMixDropout : nn.Module<Tensor, Tensor>
{
    const ulong Gamma = 0x9E3779B97F4A7C15;

    /// <summary>The probability of zeroing an element.</summary>
    public double Probability { get; }

    readonly ulong _keepBelow;
    readonly float _scale;

    public SplitMixDropout(double probability) : base(nameof(SplitMixDropout))
    {
        if (probability is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(probability), probability, "dropout must lie in [0, 1)");
        Probability = probability;
        _keepBelow = (ulong)Math.Round((1 - probability) * 4294967296.0);
        _scale = (float)(1 / (1 - probability));
    }

    public override Tensor forward(Tensor input)
    {
        if (!training || Probability == 0) return input;
        if (input.dtype != ScalarType.Float32 || input.device_type != DeviceType.CPU)
            return nn.functional.dropout(input, Probability, training: true);
        using var mask = empty(input.shape, ScalarType.Float32);
        FillMask(MemoryMarshal.Cast<byte, float>(mask.bytes), NextKey());
        // Autograd keeps the mask for the backward pass (gradient × mask), as libtorch's own dropout does.
        return input * mask;
    }

    /// <summary>A stream key from libtorch's global generator, which <c>torch.manual_seed</c> resets.</summary>
    static ulong NextKey()
    {
        using var draw = randint(0, long.MaxValue, [1], ScalarType.Int64);
        return (ulong)draw.item<long>();
    }

    /// <summary>Writes 1 / (1 − p) or 0 to every element, from the SplitMix64 stream that starts at <paramref name="key"/>.</summary>
    void FillMask(Span<float> mask, ulong key)
    {
        var state = key;
        var i = 0;
        for (; i + 1 < mask.Length; i += 2)
        {
            var bits = Mix(state += Gamma);
            mask[i] = bits >> 32 < _keepBelow ? _scale : 0f;
            mask[i + 1] = (bits & 0xFFFF_FFFF) < _keepBelow ? _scale : 0f;
        }
        if (i < mask.Length) mask[i] = Mix(state + Gamma) >> 32 < _keepBelow ? _scale : 0f;
    }

    /// <summary>SplitMix64's output function (Steele, Lea and Flood 2014).</summary>
    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
