namespace CodeII.Experiments;

/// <summary>How far a stage is; <paramref name="Detail"/> carries live figures such as a training loss.</summary>
public readonly record struct StageProgress(string Stage, int Done, int Total, string? Detail = null)
{
    /// <summary>The stage name of a warning: something failed that the run does without (its <see cref="Detail"/> says what).</summary>
    public const string WarningStage = "warning";

    public static StageProgress Warning(string detail) => new(WarningStage, 0, 0, detail);
}
