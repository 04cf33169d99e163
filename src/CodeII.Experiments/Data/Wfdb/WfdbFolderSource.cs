namespace CodeII.Experiments.Data.Wfdb;

/// <summary>Plain WFDB records (one <c>.hea</c> each) with no label files: every record is its own patient and unlabelled.</summary>
public sealed class WfdbFolderSource(IReadOnlyList<string> headerPaths) : IEcgSource
{
    readonly string[] _headers = headerPaths.Order(StringComparer.Ordinal).ToArray();

    public string Name => "wfdb";
    public int Count => _headers.Length;
    public IReadOnlyList<string> ClassNames => [];
    public bool HasPatientIds => false;
    public string Describe() => $"wfdb records={Count} first={(Count > 0 ? _headers[0] : "")}";
    public string ExamIdAt(int index) => Path.GetFileNameWithoutExtension(_headers[index]);
    public string FileOf(int index) => _headers[index];

    public EcgRecord Read(int index)
    {
        var record = WfdbRecordReader.Read(WfdbHeader.Read(_headers[index]));
        return new EcgRecord
        {
            ExamId = record.Header.RecordName,
            PatientId = record.Header.RecordName,
            SamplingRateHz = record.Header.SamplingRateHz,
            Leads = record.Header.Signals.Select(s => StandardLeads.Normalise(s.Description)).ToArray(),
            Signals = record.ToMillivolts(),
            RecordedSamples = new Range(0, record.SampleCount),
            Labels = new HashSet<string>(),
            Warnings = record.Header.Warnings,
        };
    }
}
