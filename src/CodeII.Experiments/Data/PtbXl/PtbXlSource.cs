using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Data.PtbXl;

/// <summary>Which PTB-XL labels a source attaches to each record.</summary>
public enum PtbXlLabelLevel { Superclass, Subclass, Statement }

public sealed record PtbXlOptions
{
    /// <summary>100 (records100, <c>_lr</c>) or 500 Hz (records500, <c>_hr</c>).</summary>
    public int SamplingRateHz { get; init; } = 100;
    public PtbXlLabelLevel Labels { get; init; } = PtbXlLabelLevel.Superclass;
    public LikelihoodRule Rule { get; init; } = LikelihoodRule.Any;
    /// <summary>Keep only these ecg_ids (all rows when null).</summary>
    public Func<int, bool>? IncludeEcgId { get; init; }
}

/// <summary>PTB-XL records decoded from WFDB and labelled from <c>ptbxl_database.csv</c>.</summary>
public sealed class PtbXlSource : IEcgSource
{
    readonly PtbXlOptions _options;
    readonly PtbXlExam[] _exams;

    public PtbXlSource(string directory, PtbXlOptions? options = null)
    {
        _options = options ?? new PtbXlOptions();
        if (_options.SamplingRateHz is not (100 or 500))
            throw new ArgumentException($"PTB-XL is stored at 100 or 500 Hz, not {_options.SamplingRateHz}");
        Database = PtbXlDatabase.Load(directory);
        _exams = Database.Exams.Where(e => _options.IncludeEcgId?.Invoke(e.EcgId) ?? true).ToArray();
        ClassNames = _options.Labels switch
        {
            PtbXlLabelLevel.Superclass => PtbXlDatabase.Superclasses,
            PtbXlLabelLevel.Subclass => Database.Statements.Values.Where(s => s.Diagnostic && s.DiagnosticSubclass is not null).Select(s => s.DiagnosticSubclass!).Distinct().Order(StringComparer.Ordinal).ToArray(),
            _ => Database.Statements.Keys.Order(StringComparer.Ordinal).ToArray(),
        };
    }

    public PtbXlDatabase Database { get; }
    public string Name => "ptb-xl";
    public int Count => _exams.Length;
    public IReadOnlyList<string> ClassNames { get; }
    public bool HasPatientIds => true;
    public PtbXlExam ExamAt(int index) => _exams[index];
    public string ExamIdAt(int index) => _exams[index].EcgId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public string Describe() => $"ptb-xl {Database.Directory} fs={_options.SamplingRateHz} labels={_options.Labels} rule={_options.Rule} exams={Count}";

    public IReadOnlySet<string> LabelsOf(PtbXlExam exam) => _options.Labels switch
    {
        PtbXlLabelLevel.Superclass => Database.SuperclassesOf(exam, _options.Rule),
        PtbXlLabelLevel.Subclass => Database.SubclassesOf(exam, _options.Rule),
        _ => Database.StatementsOf(exam, _options.Rule),
    };

    /// <summary>The record's header, refused unless <c>filename_lr</c>/<c>filename_hr</c> names a file inside the dataset.</summary>
    public string RecordPath(PtbXlExam exam) =>
        DatasetPaths.Contained(Database.Directory, Database.Directory, RecordName(exam) + ".hea", Path.Combine(Database.Directory, PtbXlDatabase.DatabaseFile),
            $"ecg_id {exam.EcgId}", _options.SamplingRateHz == 100 ? "filename_lr" : "filename_hr");

    /// <summary>The record as the label file names it (<c>filename_lr</c> or <c>filename_hr</c>), relative to the dataset.</summary>
    public string RecordName(PtbXlExam exam) => _options.SamplingRateHz == 100 ? exam.FilenameLr : exam.FilenameHr;

    public string FileOf(int index) => Path.Combine(Database.Directory, RecordName(_exams[index])) + ".hea";

    public EcgRecord Read(int index)
    {
        var exam = _exams[index];
        // A fresh exception per read: records are read on several threads, and a thrown exception carries its thrower's trace.
        if (exam.LabelProblem is { } p) throw new EcgDataException(p.File, p.Record, p.Field, p.Problem);
        var wfdb = WfdbRecordReader.Read(RecordPath(exam), Database.Directory);
        return new EcgRecord
        {
            ExamId = ExamIdAt(index),
            PatientId = exam.PatientId,
            Age = exam.Age,
            Sex = exam.Sex,
            SamplingRateHz = wfdb.Header.SamplingRateHz,
            Leads = wfdb.Header.Signals.Select(s => StandardLeads.Normalise(s.Description)).ToArray(),
            Signals = wfdb.ToMillivolts(),
            RecordedSamples = new Range(0, wfdb.SampleCount),
            Labels = LabelsOf(exam),
            Warnings = wfdb.Header.Warnings,
        };
    }
}
