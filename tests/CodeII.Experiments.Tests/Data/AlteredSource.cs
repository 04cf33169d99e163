using CodeII.Experiments.Data;

namespace CodeII.Experiments.Tests.Data;

/// <summary>A source whose records are another's, passed through <paramref name="alter"/> (which may change a
/// record, or throw in its place): a fault put into one record of otherwise good data.</summary>
sealed class AlteredSource(IEcgSource inner, Func<int, EcgRecord, EcgRecord> alter, Func<int, string>? fileOf = null) : IEcgSource
{
    public string Name => inner.Name;
    public int Count => inner.Count;
    public IReadOnlyList<string> ClassNames => inner.ClassNames;
    public bool HasPatientIds => inner.HasPatientIds;
    public string Describe() => inner.Describe();
    public string ExamIdAt(int index) => inner.ExamIdAt(index);
    public string FileOf(int index) => fileOf?.Invoke(index) ?? inner.FileOf(index);
    public EcgRecord Read(int index) => alter(index, inner.Read(index));
}
