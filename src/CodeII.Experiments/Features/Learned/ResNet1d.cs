using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>One residual unit: its filters and by how much it shortens the signal.</summary>
public sealed record ResidualUnit(int Filters, int Downsample);

/// <summary>The two published forms of the network, which differ in padding and in the first block's activation.</summary>
public enum ResNetVariant
{
    /// <summary>Ribeiro et al.'s Keras model: TensorFlow "same" padding (⌈L / stride⌉ samples out, the odd extra
    /// sample of padding on the right) and a ReLU after the first batch norm. Any input length.</summary>
    Keras,
    /// <summary>The authors' PyTorch port (their ecg-age-prediction code and the PyTorch CODE models): ⌊(kernel − stride
    /// + 1) / 2⌋ samples of padding on both sides and no ReLU after the first batch norm; every unit's input length must
    /// be a multiple of its downsample, as the port requires.</summary>
    PyTorch,
}

/// <summary>
/// Shape of the 1-D ResNet of Ribeiro et al. (2020, Nature Communications 11:1760), which CODE was trained with.
/// Plain data, so an experiment definition can name or change it.
/// </summary>
public sealed record ResNetShape
{
    public int Leads { get; init; } = 12;
    public int InputSamples { get; init; } = 4096;
    public int FirstFilters { get; init; } = 64;
    public IReadOnlyList<ResidualUnit> Units { get; init; } = [new(128, 4), new(196, 4), new(256, 4), new(320, 4)];
    public int KernelSize { get; init; } = 17;
    public double Dropout { get; init; } = 0.2;
    public int Classes { get; init; } = 6;
    public ResNetVariant Variant { get; init; } = ResNetVariant.Keras;

    /// <summary>The published network: 12 × 4096 at 400 Hz, units of (1024, 128), (256, 196), (64, 256), (16, 320).</summary>
    public static ResNetShape Ribeiro2020 { get; } = new();

    /// <summary>For CPU work and tests: 100 Hz × 10 s and a tenth of the filters (71,367 parameters with six classes).</summary>
    public static ResNetShape Small { get; } = new()
    {
        InputSamples = 1000, FirstFilters = 6, Units = [new(13, 4), new(20, 4), new(26, 4), new(32, 4)],
    };

    /// <summary>Samples after the first <paramref name="units"/> units: ⌈L / downsample⌉ per unit for the Keras variant,
    /// ⌊(L + 2p − kernel) / downsample⌋ + 1 with p = <see cref="SymmetricPadding"/> for the PyTorch one.</summary>
    public int SamplesAfter(int units)
    {
        var length = InputSamples;
        for (var u = 0; u < units; u++) length = After(length, Units[u].Downsample);
        return length;
    }

    int After(int length, int downsample) => Variant == ResNetVariant.Keras
        ? (length + downsample - 1) / downsample
        : (length + 2 * SymmetricPadding(KernelSize, downsample) - KernelSize) / downsample + 1;

    /// <summary>The PyTorch port's padding on each side of a convolution of this kernel and stride.</summary>
    public static int SymmetricPadding(int kernel, int stride) => Math.Max(0, (kernel - stride + 1) / 2);

    /// <summary>The penultimate layer's width: the flattened output of the last unit, which the head reads.</summary>
    public int EmbeddingSize => Units[^1].Filters * SamplesAfter(Units.Count);

    public void Validate()
    {
        if (Leads < 1 || InputSamples < 1 || FirstFilters < 1 || KernelSize < 1 || Classes < 1 || Units.Count == 0)
            throw new ArgumentException($"network shape: leads, input samples, filters, kernel, classes and units must be positive ({this})");
        if (Dropout is < 0 or >= 1) throw new ArgumentException($"network shape: dropout {Dropout} must lie in [0, 1)");
        if (Units.Any(u => u.Filters < 1 || u.Downsample < 1)) throw new ArgumentException("network shape: every unit needs filters ≥ 1 and downsample ≥ 1");
        if (Variant == ResNetVariant.PyTorch)
        {
            if (KernelSize % 2 == 0) throw new ArgumentException($"network shape: the PyTorch variant needs an odd kernel, not {KernelSize}");
            for (var u = 0; u < Units.Count; u++)
                if (SamplesAfter(u) % Units[u].Downsample != 0 || After(SamplesAfter(u), Units[u].Downsample) != SamplesAfter(u) / Units[u].Downsample)
                    throw new ArgumentException($"network shape: in the PyTorch variant unit {u + 1}'s input of {SamplesAfter(u)} samples must be a multiple of its downsample {Units[u].Downsample} (input samples {InputSamples})");
        }
    }
}

/// <summary>
/// Convolution padded as the variant's: TensorFlow-style "same" for the Keras model (⌈L / stride⌉ long for any kernel,
/// the extra sample of an odd total padded on the right), or the PyTorch port's equal padding on both sides.
/// Equal padding is left to the convolution itself, which reads zeros at the edges without a padded copy of its input
/// (and, in training, without the copy's backward pass); only an unequal split pads first.
/// </summary>
sealed class PaddedConv1d : nn.Module<Tensor, Tensor>
{
    readonly Conv1d conv;
    /// <summary>The explicit padding before the convolution; null when the convolution pads by itself.</summary>
    readonly long[]? _padding;
    readonly long _stride, _ownPadding;

    public PaddedConv1d(long inChannels, long outChannels, int kernel, int stride, int inputLength, ResNetVariant variant) : base(nameof(PaddedConv1d))
    {
        long left, right;
        if (variant == ResNetVariant.PyTorch)
            left = right = ResNetShape.SymmetricPadding(kernel, stride);
        else
        {
            var output = (inputLength + stride - 1) / stride;
            var total = Math.Max(0, (output - 1) * stride + kernel - inputLength);
            (left, right) = (total / 2, total - total / 2);
        }
        if (left != right) _padding = [left, right];
        (_stride, _ownPadding) = (stride, left == right ? left : 0);
        conv = nn.Conv1d(inChannels, outChannels, kernel, stride: stride, padding: _ownPadding, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => conv.forward(Padded(x));

    Tensor Padded(Tensor x) => _padding is null ? x : nn.functional.pad(x, _padding);

    /// <summary>
    /// This convolution followed by <paramref name="norm"/>. In evaluation the norm is a fixed affine map per channel,
    /// (y − mean) · γ / √(var + ε) + β, so it is folded into the filters and a bias: one convolution and no pass of the
    /// norm over the activations, and the same numbers up to float rounding. In training the norm uses the batch's
    /// statistics and runs as itself. The fold is redone on every pass (a few operations on the filters, not the
    /// activations), so weights loaded or trained between passes are always the ones used.
    /// </summary>
    public Tensor ForwardThroughNorm(Tensor x, BatchNorm1d norm)
    {
        if (norm.training) return norm.forward(forward(x));
        // The network's norms are all affine and track running statistics (nn.BatchNorm1d's defaults).
        var scale = norm.weight! * (norm.running_var! + norm.eps).rsqrt();
        var filters = conv.weight! * scale.unsqueeze(-1).unsqueeze(-1);
        var bias = norm.bias! - norm.running_mean! * scale;
        return nn.functional.conv1d(Padded(x), filters, bias, _stride, _ownPadding);
    }
}

/// <summary>
/// Pre-activation residual unit (He et al. 2016, as Ribeiro et al. use it): conv → BN → ReLU → dropout → strided conv,
/// added to the skip path (max-pool by the downsample, then a 1×1 conv when the width changes); the sum is passed
/// on as the next skip and, after BN → ReLU → dropout, as the next input.
/// </summary>
sealed class ResidualBlock : nn.Module<(Tensor X, Tensor Skip), (Tensor X, Tensor Skip)>
{
    readonly PaddedConv1d conv1, conv2;
    readonly BatchNorm1d bn1, bn2;
    readonly SplitMixDropout dropout1, dropout2;
    readonly MaxPool1d? pool;
    readonly Conv1d? widen;

    public ResidualBlock(int inFilters, int outFilters, int downsample, int kernel, double dropout, int inputLength, ResNetVariant variant) : base(nameof(ResidualBlock))
    {
        conv1 = new PaddedConv1d(inFilters, outFilters, kernel, 1, inputLength, variant);
        bn1 = nn.BatchNorm1d(outFilters);
        dropout1 = new SplitMixDropout(dropout);
        conv2 = new PaddedConv1d(outFilters, outFilters, kernel, downsample, inputLength, variant);
        bn2 = nn.BatchNorm1d(outFilters);
        dropout2 = new SplitMixDropout(dropout);
        // Ceiling for "same" padding's ⌈L / d⌉; the PyTorch port's lengths divide evenly.
        if (downsample > 1) pool = nn.MaxPool1d(downsample, downsample, ceil_mode: variant == ResNetVariant.Keras);
        if (inFilters != outFilters) widen = nn.Conv1d(inFilters, outFilters, 1, bias: false);
        RegisterComponents();
    }

    public override (Tensor X, Tensor Skip) forward((Tensor X, Tensor Skip) input)
    {
        var skip = input.Skip;
        if (pool is not null) skip = pool.forward(skip);
        // A 1×1 convolution is a product of its (out × in) filters with every sample's channels: as a batched matrix
        // product it skips oneDNN's convolution machinery (blocked layouts and reorders): four to six times faster for the
        // small model's skips, with the same numbers (docs/benchmarks.md).
        if (widen is not null) skip = torch.matmul(widen.weight!.squeeze(-1), skip);
        // ReLU in place on the batch norm's fresh output: nothing else holds it, and the norm's backward pass needs only
        // its input, so this saves an activation-sized allocation per ReLU.
        var x = dropout1.forward(conv1.ForwardThroughNorm(input.X, bn1).relu_());
        var sum = conv2.forward(x) + skip;
        return (dropout2.forward(bn2.forward(sum).relu_()), sum);
    }
}

/// <summary>
/// The 1-D ResNet: a first convolution, residual units, and a linear head over the flattened last unit, giving one
/// logit per class (the sigmoid is applied by the loss and by <see cref="Probabilities"/>). <see cref="Embed"/>
/// returns the penultimate layer, the learned features.
/// </summary>
public sealed class ResNet1d : nn.Module<Tensor, Tensor>
{
    readonly PaddedConv1d conv1;
    readonly BatchNorm1d bn1;
    readonly ModuleList<ResidualBlock> blocks;
    readonly Linear head;

    public ResNetShape Shape { get; }

    // Taken once: loading weights copies into these same tensors, as the optimizer, which holds them too, relies on.
    readonly Parameter[] _trainable;

    // The base constructor is the first native call: libtorch is loaded (with its allocator setting) before it.
    /// <summary>Initial weights are drawn after seeding libtorch's global generator with <paramref name="seed"/>.</summary>
    public ResNet1d(ResNetShape shape, int seed = 0) : base(Loaded(nameof(ResNet1d)))
    {
        shape.Validate();
        torch.manual_seed(seed);
        blocks = new ModuleList<ResidualBlock>();
        Shape = shape;
        conv1 = new PaddedConv1d(shape.Leads, shape.FirstFilters, shape.KernelSize, 1, shape.InputSamples, shape.Variant);
        bn1 = nn.BatchNorm1d(shape.FirstFilters);
        var filters = shape.FirstFilters;
        for (var u = 0; u < shape.Units.Count; u++)
        {
            var unit = shape.Units[u];
            blocks.Add(new ResidualBlock(filters, unit.Filters, unit.Downsample, shape.KernelSize, shape.Dropout, shape.SamplesAfter(u), shape.Variant));
            filters = unit.Filters;
        }
        head = nn.Linear(shape.EmbeddingSize, shape.Classes);
        RegisterComponents();
        _trainable = parameters().ToArray();
    }

    static string Loaded(string name)
    {
        TorchRuntime.EnsureLoaded();
        return name;
    }

    /// <summary>Input (batch, leads, samples) → penultimate features (batch, <see cref="ResNetShape.EmbeddingSize"/>).</summary>
    public Tensor Embed(Tensor x)
    {
        x = conv1.ForwardThroughNorm(x, bn1);
        if (Shape.Variant == ResNetVariant.Keras) x = x.relu_();
        var state = (x, x);
        foreach (var block in blocks) state = block.forward(state);
        return state.Item1.flatten(1);
    }

    public override Tensor forward(Tensor x) => head.forward(Embed(x));

    /// <summary>The embedding and the sigmoid outputs from one pass.</summary>
    public (Tensor Embedding, Tensor Probabilities) EmbedAndClassify(Tensor x)
    {
        var embedding = Embed(x);
        return (embedding, head.forward(embedding).sigmoid());
    }

    public Tensor Probabilities(Tensor x) => forward(x).sigmoid();

    public long ParameterCount() => _trainable.Sum(p => p.numel());

    /// <summary>
    /// Drops the gradients before a training step, so that backward writes fresh ones instead of adding to zeroed
    /// tensors (PyTorch's zero_grad(set_to_none=True)): no fill of every gradient per step and no accumulation, and one
    /// native call per parameter, where TorchSharp's zero_grad fetches and zeroes each gradient (and the module's
    /// walks the module tree by name).
    /// </summary>
    public void ClearGradients()
    {
        foreach (var p in _trainable) p.grad = null;
    }
}
