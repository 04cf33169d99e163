using CodeII.Experiments.Labels;
using System.Globalization;
using System.Text.RegularExpressions;

namespace CodeII.Experiments.Data.PtbXl;

/// <summary>One SCP-ECG statement of <c>scp_statements.csv</c>.</summary>
public sealed record ScpStatement(string Code, string Description, bool Diagnostic, bool Form, bool Rhythm, string? DiagnosticClass, string? DiagnosticSubclass);

/// <summary>How a statement's likelihood decides whether it counts as a label.</summary>
public enum LikelihoodRule
{
    /// <summary>Any listed statement counts, likelihood 0 included: the PTB-XL benchmark's rule (Strodthoff et al. 2021).</summary>
    Any,
    /// <summary>Only statements with likelihood above 0 count.</summary>
    AboveZero,
}

/// <summary>One row of <c>ptbxl_database.csv</c>.</summary>
public sealed record PtbXlExam(int EcgId, string PatientId, int? Age, Sex Sex, IReadOnlyDictionary<string, double> ScpCodes,
    int StratFold, string FilenameLr, string FilenameHr)
{
    /// <summary>Why the row's <c>scp_codes</c> cannot be read, when they cannot: that exam's own failure, raised when it is
    /// read (so <c>skip_bad_records</c> can leave it out), not the whole label file's.</summary>
    public EcgDataException? LabelProblem { get; init; }
}

/// <summary>
/// PTB-XL's label files: the exam table and the SCP statement table, with the benchmark's aggregation of statements
/// into diagnostic superclasses (NORM, MI, STTC, CD, HYP) and subclasses.
/// </summary>
public sealed partial class PtbXlDatabase
{
    public const string DatabaseFile = "ptbxl_database.csv";
    public const string StatementsFile = "scp_statements.csv";
    public static readonly IReadOnlyList<string> Superclasses = ["NORM", "MI", "STTC", "CD", "HYP"];

    /// <summary>PTB-XL's recommended split (Wagner et al. 2020): folds 1–8 train, 9 validation, 10 test.</summary>
    public static SplitPart PartOfFold(int fold) => fold switch { 9 => SplitPart.Validation, 10 => SplitPart.Test, _ => SplitPart.Train };

    public required string Directory { get; init; }
    public required IReadOnlyList<PtbXlExam> Exams { get; init; }
    public required IReadOnlyDictionary<string, ScpStatement> Statements { get; init; }

    [GeneratedRegex(@"'(?<code>[^']+)'\s*:\s*(?<likelihood>[-+0-9.eE]+)")]
    private static partial Regex ScpEntry();

    public static PtbXlDatabase Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new EcgDataException(directory, "(folder)", "dataset folder", $"not found (looked in {Path.GetFullPath(directory)})");
        var statements = LoadStatements(DatasetPaths.Held(directory, Path.Combine(directory, StatementsFile), "(file)", "label file"));
        var table = CsvTable.Read(DatasetPaths.Held(directory, Path.Combine(directory, DatabaseFile), "(file)", "label file"));
        int C(string name) => table.Column(name);
        var (id, patient, age, sex, scp, fold, lr, hr) = (C("ecg_id"), C("patient_id"), C("age"), C("sex"), C("scp_codes"), C("strat_fold"), C("filename_lr"), C("filename_hr"));
        var exams = new List<PtbXlExam>(table.Rows.Count);
        var rowOfEcgId = new Dictionary<int, int>();
        for (var r = 0; r < table.Rows.Count; r++)
        {
            var row = table.Rows[r];
            var record = row[id];
            EcgDataException Error(string field, string problem) => new(table.Path, $"ecg_id {record}", field, problem);
            if (!int.TryParse(record, CultureInfo.InvariantCulture, out var ecgId)) throw Error("ecg_id", $"'{record}' is not a whole number");
            if (!rowOfEcgId.TryAdd(ecgId, r))
                throw Error("ecg_id", $"appears twice, in {CsvTable.RowsNamed(rowOfEcgId[ecgId], r)}");
            var codes = new Dictionary<string, double>(StringComparer.Ordinal);
            EcgDataException? labelProblem = null;
            foreach (Match m in ScpEntry().Matches(row[scp]))
                if (double.TryParse(m.Groups["likelihood"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var likelihood) && double.IsFinite(likelihood))
                    codes[m.Groups["code"].Value] = likelihood;
                else
                    labelProblem ??= Error("scp_codes", $"the likelihood '{m.Groups["likelihood"].Value}' of '{m.Groups["code"].Value}' is not a number");
            if (codes.Count == 0 && labelProblem is null && row[scp].Trim() is not ("{}" or "")) labelProblem = Error("scp_codes", $"cannot read '{row[scp]}' as {{code: likelihood}}");
            foreach (var code in codes.Keys)
                if (!statements.ContainsKey(code)) labelProblem ??= Error("scp_codes", $"'{code}' is not in {StatementsFile}");
            if (labelProblem is not null) codes.Clear();
            if (!int.TryParse(row[fold], CultureInfo.InvariantCulture, out var stratFold) || stratFold is < 1 or > 10)
                throw Error("strat_fold", $"'{row[fold]}' is not a fold from 1 to 10");
            exams.Add(new PtbXlExam(
                ecgId,
                PatientIds.Read(row[patient], table.Path, $"ecg_id {record}", numeric: true),
                double.TryParse(row[age], NumberStyles.Float, CultureInfo.InvariantCulture, out var a) ? (int)a : null,
                // PTB-XL codes sex as 0 = male, 1 = female.
                row[sex] switch { "0" or "0.0" => Sex.Male, "1" or "1.0" => Sex.Female, _ => Sex.Unknown },
                codes, stratFold, row[lr], row[hr]) { LabelProblem = labelProblem });
        }
        return new PtbXlDatabase { Directory = directory, Exams = exams, Statements = statements };
    }

    static Dictionary<string, ScpStatement> LoadStatements(string path)
    {
        var table = CsvTable.Read(path);
        // The first column is the unnamed index holding the SCP code.
        int C(string name) => table.Column(name);
        var (description, diagnostic, form, rhythm, dclass, dsub) = (C("description"), C("diagnostic"), C("form"), C("rhythm"), C("diagnostic_class"), C("diagnostic_subclass"));
        static bool Flag(string v) => v is "1" or "1.0";
        static string? Text(string v) => v.Length == 0 ? null : v;
        return table.Rows.ToDictionary(r => r[0],
            r => new ScpStatement(r[0], r[description], Flag(r[diagnostic]), Flag(r[form]), Flag(r[rhythm]), Text(r[dclass]), Text(r[dsub])),
            StringComparer.Ordinal);
    }

    IEnumerable<string> CountedCodes(PtbXlExam exam, LikelihoodRule rule) =>
        exam.ScpCodes.Where(c => rule == LikelihoodRule.Any || c.Value > 0).Select(c => c.Key);

    /// <summary>Diagnostic superclasses of an exam: each diagnostic statement maps to its diagnostic_class.</summary>
    public IReadOnlySet<string> SuperclassesOf(PtbXlExam exam, LikelihoodRule rule = LikelihoodRule.Any) =>
        CountedCodes(exam, rule).Select(c => Statements[c]).Where(s => s.Diagnostic && s.DiagnosticClass is not null)
            .Select(s => s.DiagnosticClass!).ToHashSet(StringComparer.Ordinal);

    /// <summary>Diagnostic subclasses of an exam: each diagnostic statement maps to its diagnostic_subclass.</summary>
    public IReadOnlySet<string> SubclassesOf(PtbXlExam exam, LikelihoodRule rule = LikelihoodRule.Any) =>
        CountedCodes(exam, rule).Select(c => Statements[c]).Where(s => s.Diagnostic && s.DiagnosticSubclass is not null)
            .Select(s => s.DiagnosticSubclass!).ToHashSet(StringComparer.Ordinal);

    /// <summary>The SCP statements themselves (all 71 kinds: diagnostic, form and rhythm).</summary>
    public IReadOnlySet<string> StatementsOf(PtbXlExam exam, LikelihoodRule rule = LikelihoodRule.Any) =>
        CountedCodes(exam, rule).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// PTB-XL's vocabulary from the dataset's own scp_statements.csv: the 71 statements (grouped diagnostic, form or
    /// rhythm), the 5 diagnostic superclasses and their subclasses; SNOMED-CT codes come from ptbxl-snomed.csv.
    /// </summary>
    public (Taxonomy Statements, Taxonomy Superclasses, Taxonomy Subclasses) Taxonomies()
    {
        string? SnomedOf(string code) => Taxonomy.PtbXlSnomed.Find(code)?.Snomed;
        var statements = Statements.Values.OrderBy(s => s.Code, StringComparer.Ordinal)
            .Select(s => new LabelClass(s.Code, s.Description, s.Diagnostic ? "diagnostic" : s.Rhythm ? "rhythm" : "form", SnomedOf(s.Code))).ToArray();
        var superclasses = Superclasses.Select(c => new LabelClass(c, c, "superclass", null)).ToArray();
        var subclasses = Statements.Values.Where(s => s.Diagnostic && s.DiagnosticSubclass is not null)
            .GroupBy(s => s.DiagnosticSubclass!).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new LabelClass(g.Key, g.Key, g.First().DiagnosticClass ?? "", null)).ToArray();
        return (new Taxonomy { Name = "ptb-xl statements", Classes = statements },
                new Taxonomy { Name = "ptb-xl superclasses", Classes = superclasses },
                new Taxonomy { Name = "ptb-xl subclasses", Classes = subclasses });
    }
}
