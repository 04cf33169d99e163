using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

/// <summary>An experiment as plain data. Every field has a default here, so a definition file states only what differs.</summary>
public sealed record ExperimentDefinition
{
    public string Name { get; init; } = "experiment";
    public int Seed { get; init; } = 42;
    public DatasetDefinition Dataset { get; init; } = new();
    public SplitDefinition Splits { get; init; } = new();
    public Preprocessing.PreprocessingOptions Preprocessing { get; init; } = new();
    public IReadOnlyList<LabelSubset> LabelSubsets { get; init; } =
        [new LabelSubset("code6", SyntheticClasses.All)];
    /// <summary>Feature sets to compare; each is one set or several fused with '+', e.g. <c>handcrafted+learned</c>.</summary>
    public IReadOnlyList<string> Features { get; init; } = [CodeII.Experiments.Features.BasicFeatureExtractor.SetName];
    /// <summary>The network behind the <c>learned</c> features and the end-to-end "resnet" model; null when none is trained.</summary>
    public CodeII.Experiments.Features.Learned.PretrainDefinition? Pretrain { get; init; }
    /// <summary>The dataset the network is pre-trained on, when not the experiment's own (transfer); its exams are
    /// split by patient into training and validation parts with the experiment's seed.</summary>
    public DatasetDefinition? PretrainDataset { get; init; }
    /// <summary>The classes the network learns on its pre-training dataset; null: the experiment's labels.</summary>
    public IReadOnlyList<string>? PretrainLabels { get; init; }
    /// <summary>A network imported from PyTorch weights instead of one pre-trained here (a transfer source).</summary>
    public ImportedNetwork? PretrainWeights { get; init; }
    /// <summary>Also score the labels with the pre-trained network's own outputs through the label map between the
    /// pre-training dataset's taxonomy and the experiment's (the model <c>zero_shot</c>; a transfer cell sets it).</summary>
    public bool ZeroShot { get; init; }
    /// <summary>The learners the sweep tunes; the sweep engine always adds the prior baseline, once per label, whatever the definition lists.</summary>
    public IReadOnlyList<LearnerBudget> Learners { get; init; } =
        [new LearnerBudget(BinaryLearnerCatalog.LightGbm), new LearnerBudget(BinaryLearnerCatalog.LogisticRegression)];
    /// <summary>Tuner, objective, sharing and budgets of the sweep.</summary>
    public SweepSettings Sweep { get; init; } = new();
    public EvaluationDefinition Evaluation { get; init; } = new();
    /// <summary>Pre-train on sources and evaluate on targets (<see cref="TransferDefinition"/>); null for a one-dataset experiment.</summary>
    public TransferDefinition? Transfer { get; init; }

    /// <summary>The single feature sets the listed ones are made of, each once: what must be extracted or learned.</summary>
    public IReadOnlyList<string> FeatureParts => Features.SelectMany(FeatureSetParts).Distinct(StringComparer.Ordinal).ToArray();

    public static IReadOnlyList<string> FeatureSetParts(string featureSet) => featureSet.Split('+');

    /// <summary>Every label of every subset, each once, in first-seen order.</summary>
    public IReadOnlyList<string> AllLabels => LabelSubsets.SelectMany(s => s.Labels).Distinct(StringComparer.Ordinal).ToArray();
}

/// <summary>A pre-trained network from a file: a PyTorch <c>state_dict</c> (<c>torch.save</c>) or safetensors of the
/// Ribeiro et al. ResNet, the classes of its outputs in order, and the taxonomy they belong to (for zero-shot).</summary>
public sealed record ImportedNetwork(string Path, IReadOnlyList<string> Classes, string Taxonomy);

public sealed record DatasetDefinition
{
    public const string SyntheticKind = "synthetic";
    public const string PtbXlKind = "ptb-xl";
    public const string CodeKind = "code";
    /// <summary>PhysioNet/CinC Challenge 2020/21 folders (<c>.hea</c> + MATLAB v4 <c>.mat</c>): CPSC 2018, CPSC-Extra,
    /// Georgia, Chapman, Ningbo, PTB-XL in Challenge form.</summary>
    public const string ChallengeKind = "challenge";
    public static readonly IReadOnlyList<string> Kinds = [SyntheticKind, PtbXlKind, CodeKind, ChallengeKind];

    public string Kind { get; init; } = SyntheticKind;
    /// <summary>The dataset folder for every kind but synthetic; relative paths resolve against the working directory.</summary>
    public string? Path { get; init; }
    public SyntheticEcgOptions Synthetic { get; init; } = new();
    public Data.PtbXl.PtbXlOptions PtbXl { get; init; } = new();
    /// <summary>Inclusive ecg_id range for PTB-XL, e.g. to leave out records reserved for a final check.</summary>
    public (int First, int Last)? EcgIds { get; init; }
    /// <summary>The classes a Challenge folder's SNOMED-CT codes are read as: <c>cpsc9</c> or <c>challenge-scored</c>
    /// (the Challenge's scored classes from <see cref="TaxonomyFile"/>).</summary>
    public string Taxonomy { get; init; } = Data.Challenge.SnomedMapping.ScoredTaxonomyName;
    /// <summary>The Challenge's <c>dx_mapping_scored.csv</c>; null looks in the folder's <c>_label_maps/</c>, the folder, and its parent.</summary>
    public string? TaxonomyFile { get; init; }
    /// <summary>For a Challenge folder: only records whose names start with one of these (e.g. <c>[E, HR]</c>).</summary>
    public IReadOnlyList<string>? RecordPrefixes { get; init; }
    /// <summary>Skip records that fail to decode instead of stopping; skipped ids are written to the run folder and report.</summary>
    public bool SkipBadRecords { get; init; }
}

public enum SplitKind
{
    /// <summary>Patient-level iterative stratification over all labels (Sechidis et al. 2011), drawn with the seed.</summary>
    Stratified,
    /// <summary>The dataset's own split: PTB-XL strat_fold 1–8 train, 9 validation, 10 test.</summary>
    Predefined,
}

public sealed record SplitDefinition
{
    public SplitKind Kind { get; init; } = SplitKind.Stratified;
    public double Train { get; init; } = 0.6;
    public double Validation { get; init; } = 0.2;
    public double Test => 1 - Train - Validation;
    /// <summary>The share of the training patients trained on (nested across shares with the seed); the rest are
    /// left unused. Validation and test keep every patient, so runs at different shares are compared on the same ones.</summary>
    public double TrainShare { get; init; } = 1;
}

public sealed record EvaluationDefinition
{
    public int BootstrapReplicates { get; init; } = 1000;
    public double Confidence { get; init; } = 0.95;
    /// <summary>Whether the run computes feature importance on validation (<c>importance.json</c>).</summary>
    public bool Importance { get; init; } = true;
}
