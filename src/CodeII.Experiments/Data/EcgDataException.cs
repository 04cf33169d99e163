namespace CodeII.Experiments.Data;

/// <summary>Bad input, located: which file, which record and which field, so a user can find and fix it.</summary>
public sealed class EcgDataException(string file, string record, string field, string problem, Exception? cause = null)
    : Exception($"{file}: record {record}, {field}: {problem}", cause)
{
    public string File { get; } = file;
    public string Record { get; } = record;
    public string Field { get; } = field;
    public string Problem { get; } = problem;
}
