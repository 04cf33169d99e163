using System.Collections;
using System.Text.RegularExpressions;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace CodeII.Experiments.Features.Learned;

/// <summary>
/// Reads weights of the 1-D ResNet saved by PyTorch: a <c>state_dict</c> saved by <c>torch.save</c> (<c>.pt</c>,
/// <c>.pth</c>; also a checkpoint that holds it under <c>model</c> or <c>state_dict</c>), or a safetensors file.
/// Names follow either this library's network or the authors' PyTorch port (<c>conv1</c>, <c>bn1</c>,
/// <c>resblock1d_&lt;i&gt;</c> with <c>skip_connection</c>, <c>lin</c>), with or without DataParallel's <c>module.</c>
/// prefix. Every tensor must be there with its exact shape: anything else is refused with the keys named.
/// </summary>
public static partial class PyTorchWeights
{
    /// <summary>A new network of <paramref name="shape"/> holding the file's weights, in evaluation mode.</summary>
    public static ResNet1d Load(string path, ResNetShape shape)
    {
        var weights = Read(path);
        var model = new ResNet1d(shape);
        try
        {
            Assign(model, weights, path);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
    }

    /// <summary>The file's tensors under this library's names.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: network weights not found");
        Dictionary<string, Tensor> raw;
        try
        {
            raw = path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
                ? Safetensors.LoadStateDict(path)
                : FromPickle(PyTorchUnpickler.UnpickleStateDict(path), path);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"{path}: not a PyTorch state dict (torch.save in the zip format, or safetensors): {e.Message}", e);
        }
        var named = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in raw)
            if (!named.TryAdd(OurName(key), tensor))
                throw new InvalidDataException($"{path}: '{key}' and another key both name {OurName(key)}");
        return named;
    }

    static Dictionary<string, Tensor> FromPickle(Hashtable table, string path)
    {
        // A training checkpoint keeps the weights beside the epoch and the optimiser.
        foreach (var wrapper in (string[])["model", "state_dict", "model_state_dict"])
            if (table[wrapper] is Hashtable inner) return FromPickle(inner, path);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in table)
            if (entry.Value is Tensor tensor) tensors[(string)entry.Key] = tensor;
        if (tensors.Count == 0) throw new InvalidDataException($"{path}: holds no tensors (keys: {string.Join(", ", table.Keys.Cast<object>())})");
        return tensors;
    }

    /// <summary>This library's name for a key of the PyTorch port (or the key itself).</summary>
    public static string OurName(string key)
    {
        if (key.StartsWith("module.", StringComparison.Ordinal)) key = key["module.".Length..];
        if (key.StartsWith("lin.", StringComparison.Ordinal)) return "head." + key["lin.".Length..];
        if (key == "conv1.weight") return "conv1.conv.weight";
        var block = PortBlock().Match(key);
        if (!block.Success) return key;
        var (index, rest) = (block.Groups[1].Value, block.Groups[2].Value);
        return rest switch
        {
            "conv1.weight" or "conv2.weight" => $"blocks.{index}.{rest[..5]}.conv.weight",
            _ when rest.StartsWith("skip_connection.", StringComparison.Ordinal) && rest.EndsWith(".weight", StringComparison.Ordinal) => $"blocks.{index}.widen.weight",
            _ => $"blocks.{index}.{rest}",
        };
    }

    [GeneratedRegex(@"^resblock1d_(\d+)\.(.+)$")]
    private static partial Regex PortBlock();

    /// <summary>Copies every tensor into the network, after checking that the keys and shapes match exactly.</summary>
    public static void Assign(ResNet1d model, IReadOnlyDictionary<string, Tensor> weights, string path)
    {
        var state = model.state_dict();
        var missing = state.Keys.Where(k => !weights.ContainsKey(k)).Order(StringComparer.Ordinal).ToArray();
        var unexpected = weights.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToArray();
        var wrongShape = state.Keys.Where(weights.ContainsKey)
            .Where(k => !state[k].shape.SequenceEqual(weights[k].shape))
            .Select(k => $"{k} is [{string.Join(", ", weights[k].shape)}] in the file, [{string.Join(", ", state[k].shape)}] in the network").ToArray();
        if (missing.Length + unexpected.Length + wrongShape.Length > 0)
        {
            var problems = new List<string>();
            if (missing.Length > 0) problems.Add($"missing keys: {string.Join(", ", missing)}");
            if (unexpected.Length > 0) problems.Add($"unexpected keys: {string.Join(", ", unexpected)}");
            if (wrongShape.Length > 0) problems.Add($"wrong shapes: {string.Join("; ", wrongShape)}");
            throw new InvalidDataException($"{path}: the weights do not fit the network {Describe(model.Shape)}: {string.Join("; ", problems)}");
        }
        using var noGrad = no_grad();
        foreach (var (key, target) in state) target.copy_(weights[key].to(target.dtype));
    }

    static string Describe(ResNetShape shape) =>
        $"({shape.Variant}, {shape.Leads} leads × {shape.InputSamples} samples, first {shape.FirstFilters} filters, units {string.Join(" ", shape.Units.Select(u => $"{u.Filters}/{u.Downsample}"))}, kernel {shape.KernelSize}, {shape.Classes} classes)";
}
