using CodeII.Experiments.Features.Learned;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

/// <summary>
/// The network against PyTorch itself: tests/fixtures/pytorch-resnet/make_fixture.py (run once with Debian's
/// python3-torch; its outputs are committed) wrote the weights of Ribeiro et al.'s ResNet in both published forms, an
/// input batch, and the logits and penultimate layer PyTorch computed. Ours must give the same numbers.
/// </summary>
public class PyTorchEquivalenceTests
{
    static string Fixture(string name) => Path.Combine(RepoPaths.Root, "tests", "fixtures", "pytorch-resnet", name);

    /// <summary>The port's layout: a first unit that keeps width and length, and 1,024 samples, which its units divide.</summary>
    static readonly ResNetShape Port = ResNetShape.Small with
    {
        Variant = ResNetVariant.PyTorch, InputSamples = 1024, Units = [new(6, 1), new(13, 4), new(20, 4), new(26, 4), new(32, 4)],
    };

    static readonly ResNetShape Keras = ResNetShape.Small;

    static double LargestDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Theory]
    [InlineData("small-pytorch.pt", "pytorch")]
    [InlineData("small-keras.pt", "keras")]
    [InlineData("small-keras.safetensors", "keras")]
    public void Our_network_gives_PyTorchs_logits_and_embeddings_to_within_1e_5(string weights, string variant)
    {
        using var model = PyTorchWeights.Load(Fixture(weights), variant == "pytorch" ? Port : Keras);
        var expected = Safetensors.LoadStateDict(Fixture($"expected-{variant}.safetensors"));
        using var noGrad = no_grad();
        using var logits = model.forward(expected["input"]);
        using var embedding = model.Embed(expected["input"]);
        Assert.Equal(expected["logits"].shape, logits.shape);
        Assert.Equal(expected["embedding"].shape, embedding.shape);
        Assert.InRange(LargestDifference(logits, expected["logits"]), 0, 1e-5);
        Assert.InRange(LargestDifference(embedding, expected["embedding"]), 0, 1e-5);
        // Not a vacuous match: the outputs differ between the two exams of the batch.
        Assert.True(LargestDifference(logits[0], logits[1]) > 1e-3);
    }

    [Fact]
    public void The_variant_matters_the_ports_weights_in_the_Keras_form_give_other_outputs()
    {
        using var model = PyTorchWeights.Load(Fixture("small-pytorch.pt"), Port with { Variant = ResNetVariant.Keras });
        var expected = Safetensors.LoadStateDict(Fixture("expected-pytorch.safetensors"));
        using var noGrad = no_grad();
        using var logits = model.forward(expected["input"]);
        Assert.True(LargestDifference(logits, expected["logits"]) > 1e-3);
    }

    [Fact]
    public void Weights_that_do_not_fit_are_refused_with_the_keys_named()
    {
        // The port's five units into a four-unit network: its fifth unit is unexpected, and every unit's shapes shift.
        var e = Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(Fixture("small-pytorch.pt"), Keras));
        Assert.Contains("small-pytorch.pt", e.Message);
        Assert.Contains("unexpected keys: blocks.4.bn1.bias, ", e.Message);
        Assert.Contains("blocks.4.conv1.conv.weight", e.Message);
        Assert.Contains("wrong shapes: ", e.Message);

        // Five classes where the file has six.
        e = Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(Fixture("small-keras.pt"), Keras with { Classes = 5 }));
        Assert.Contains("head.weight is [6, 128] in the file, [5, 128] in the network", e.Message);
        Assert.DoesNotContain("missing keys", e.Message);

        // A key left out of the file.
        var partial = Path.Combine(RepoPaths.NewTemporaryDirectory(), "partial.safetensors");
        var weights = Safetensors.LoadStateDict(Fixture("small-keras.safetensors"));
        weights.Remove("resblock1d_2.bn1.running_var");
        Safetensors.SaveStateDict(partial, weights);
        e = Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(partial, Keras));
        Assert.Contains("missing keys: blocks.2.bn1.running_var", e.Message);

        // Not weights at all.
        var text = Path.Combine(RepoPaths.NewTemporaryDirectory(), "notes.pt");
        File.WriteAllText(text, "not a state dict");
        e = Assert.Throws<InvalidDataException>(() => PyTorchWeights.Load(text, Keras));
        Assert.Contains("notes.pt: not a PyTorch state dict", e.Message);
    }
}
