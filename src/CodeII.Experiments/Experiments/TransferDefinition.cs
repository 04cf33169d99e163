using CodeII.Experiments.Labels;

namespace CodeII.Experiments.Experiments;

/// <summary>How a source network serves a target dataset: the rows of the transfer matrix.</summary>
public enum TransferArm
{
    /// <summary>The source network's outputs read as the target's labels through SNOMED-CT, with no target training.</summary>
    ZeroShot,
    /// <summary>The frozen encoder's embeddings, then logistic regression.</summary>
    LinearProbe,
    /// <summary>The frozen encoder's embeddings, then the sweep over the definition's learners.</summary>
    GbmHead,
    /// <summary>Every layer trained on the target, starting from the source's weights.</summary>
    FineTune,
    /// <summary>The same architecture from random weights on the target only: the control every other mode is compared with.</summary>
    Scratch,
}

/// <summary>A pre-training source: a dataset the network learns first (with its classes), or a network imported from
/// PyTorch weights.</summary>
public sealed record TransferSource
{
    public required string Name { get; init; }
    public DatasetDefinition? Dataset { get; init; }
    /// <summary>The classes the network learns there; null: every class of the dataset. For an imported network: its outputs' classes.</summary>
    public IReadOnlyList<string>? Classes { get; init; }
    public ImportedNetwork? Weights { get; init; }
}

/// <summary>A dataset the sources are transferred to, with its own labels and split.</summary>
public sealed record TransferTarget
{
    public required string Name { get; init; }
    public required DatasetDefinition Dataset { get; init; }
    public required IReadOnlyList<LabelSubset> LabelSubsets { get; init; }
    public SplitDefinition Splits { get; init; } = new();
}

/// <summary>
/// The <c>transfer</c> section: every source is pre-trained once, then serves every target in every mode, at every
/// share of the target's training patients. The top-level <c>pretrain</c> section gives the network and its training
/// (for sources, fine-tuning and scratch alike), <c>learners</c> and <c>sweep</c> the heads, and <c>features</c> the
/// handcrafted reference on each target.
/// </summary>
public sealed record TransferDefinition
{
    public required IReadOnlyList<TransferSource> Sources { get; init; }
    public required IReadOnlyList<TransferTarget> Targets { get; init; }
    public IReadOnlyList<TransferArm> Modes { get; init; } = Enum.GetValues<TransferArm>();
    /// <summary>Shares of each target's training patients, nested with the seed, so the data-efficiency curve is paired.</summary>
    public IReadOnlyList<double> TargetFractions { get; init; } = [1.0];
}
