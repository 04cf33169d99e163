namespace CodeII.Experiments.Features.Learned;

/// <summary>How a record longer or shorter than the network's input becomes its input.</summary>
public enum InputWindowing
{
    /// <summary>The record centred in the input: cropped when longer, zero-padded when shorter.</summary>
    Crop,
    /// <summary>Sliding windows of the input's length over the whole record, their outputs and embeddings
    /// aggregated (the PTB-XL benchmark's approach); a record no longer than the input is one centred window.</summary>
    Windows,
}

public enum WindowAggregate { Mean, Max }

/// <summary>
/// The network's input for records of any length: the definition's <c>pretrain.input</c>. Training and the validation
/// score that early-stops it read centred crops; with windows, the embeddings and outputs every model is given (in the
/// run and in <c>codeii predict</c> alike) aggregate sliding windows over the whole record.
/// </summary>
public sealed record NetworkInput
{
    public InputWindowing Windowing { get; init; } = InputWindowing.Crop;
    public WindowAggregate Aggregate { get; init; } = WindowAggregate.Mean;
    /// <summary>Between window starts, as a share of the window: 0.5 overlaps each window half with the next.</summary>
    public double Stride { get; init; } = 0.5;

    /// <summary>
    /// Where the windows of a record of <paramref name="length"/> samples start: every <see cref="Stride"/> of the
    /// window from the first sample, and one more ending at the last sample, so the whole record is covered; a record
    /// no longer than the window gets none here (it is read centred, as <see cref="InputWindowing.Crop"/> reads it).
    /// </summary>
    public IReadOnlyList<int> WindowStarts(int length, int window)
    {
        if (length <= window) return [];
        var step = Math.Max(1, (int)Math.Round(window * Stride));
        var starts = new List<int>();
        for (var start = 0; start + window < length; start += step) starts.Add(start);
        if (starts[^1] != length - window) starts.Add(length - window);
        return starts;
    }

    public string Describe() => Windowing == InputWindowing.Crop ? "crop"
        : $"windows stride {Stride:0.###} {Aggregate.ToString().ToLowerInvariant()}";
}
