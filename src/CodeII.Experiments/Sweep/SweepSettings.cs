namespace CodeII.Experiments.Sweep;

/// <summary>What a trial is judged by on validation data; every objective is turned into a loss, 1 − score.</summary>
public enum SweepObjective
{
    /// <summary>Macro-averaged AUROC over the stream's labels (the default).</summary>
    Auroc,
    /// <summary>Macro-averaged average precision.</summary>
    Auprc,
    /// <summary>Macro-averaged F1, each label at the threshold that maximises its validation F1.</summary>
    F1,
    /// <summary>The Challenge 2020–21 normalised score over the stream's labels, each at its validation-F1 threshold.</summary>
    Challenge,
}

public static class SweepObjectives
{
    /// <summary>The objective's name as reports and tables print it.</summary>
    public static string DisplayName(this SweepObjective objective) => objective switch
    {
        SweepObjective.Auroc => "AUROC",
        SweepObjective.Auprc => "AUPRC",
        SweepObjective.F1 => "F1",
        _ => "Challenge score",
    };
}

/// <summary>Whether each label gets its own configuration, or every label of a subset shares one.</summary>
public enum ConfigurationSharing
{
    PerLabel,
    PerSubset,
}

/// <summary>
/// When a stream (one label, or one subset when configurations are shared, on one feature set) stops. Trials and
/// work are per stream and deterministic: the same definition stops at the same trial on any machine. Seconds is a
/// wall-clock cap on the whole sweep, and like any time budget it does not repeat exactly.
/// </summary>
public sealed record SweepBudget
{
    public int Trials { get; init; } = 12;
    /// <summary>Millions of row × feature visits (see <see cref="IBinaryLearner"/>); null: no work cap.</summary>
    public double? Work { get; init; }
    public double? Seconds { get; init; }
}

public sealed record SweepSettings
{
    public string Tuner { get; init; } = Tuning.TunerCatalog.Blend;
    public SweepObjective Objective { get; init; } = SweepObjective.Auroc;
    public ConfigurationSharing Sharing { get; init; } = ConfigurationSharing.PerLabel;
    public SweepBudget Budget { get; init; } = new();
    /// <summary>Boosting stops after this many rounds without a lower validation log loss; 0 turns it off.</summary>
    public int EarlyStoppingRounds { get; init; } = 20;
    /// <summary>Threads inside one trial; more than 1 lets LightGBM's sums vary in their last digits.</summary>
    public int ThreadsPerTrial { get; init; } = 1;
    /// <summary>Trials whose estimated memory exceeds this are not run (logged as over the limit); null: no guard.</summary>
    public double? MemoryLimitMb { get; init; }
    /// <summary>Successive halving: a costly trial first trains on a quarter of the training rows and stops there
    /// unless it ranks in the best third of the learner's quarter-data trials in its stream.</summary>
    public bool Halving { get; init; }
    /// <summary>Per label, the rank average of the selected models of every feature set and learner (the prior aside),
    /// saved and evaluated as the model <c>ensemble</c>; needs at least two such models.</summary>
    public bool Ensemble { get; init; } = true;
}
