namespace CodeII.Experiments;

/// <summary>How far a stage is; <paramref name="Detail"/> carries live figures such as a training loss.</summary>
public readonly record struct StageProgress(string Stage, int Done, int Total, string? Detail = null);
