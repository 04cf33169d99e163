using System.Buffers.Binary;
using System.Globalization;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Data.Challenge;

/// <summary>
/// PhysioNet/CinC Challenge 2020–2021 records (CPSC 2018, Georgia, Chapman, Ningbo, PTB-XL in Challenge form):
/// a WFDB header whose signals live in a MATLAB v4 <c>.mat</c> file after its 24-byte header (<c>16x1+24</c>), and
/// <c># Age</c>, <c># Sex</c> and <c># Dx</c> comment lines, Dx being comma-separated SNOMED-CT codes.
/// Labels are those SNOMED-CT codes.
/// </summary>
public sealed class ChallengeSource : IEcgSource
{
    readonly string[] _headers;

    readonly Labels.Taxonomy? _taxonomy;

    /// <param name="include">Keeps only records whose name passes (e.g. to leave out a reserved subset).</param>
    /// <param name="taxonomy">The classes the labels are written in (e.g. CPSC 2018's nine, or the Challenge's scored
    /// classes), matched through SNOMED-CT with the pairs the Challenge scores as one joined; codes outside it are not
    /// classes of this dataset. Null: the raw SNOMED-CT codes.</param>
    public ChallengeSource(string directory, Func<string, bool>? include = null, Labels.Taxonomy? taxonomy = null)
    {
        _taxonomy = taxonomy;
        if (!System.IO.Directory.Exists(directory)) throw new EcgDataException(directory, "(folder)", "folder", "not found");
        Directory = directory;
        _headers = System.IO.Directory.GetFiles(directory, "*.hea")
            .Where(h => include?.Invoke(Path.GetFileNameWithoutExtension(h)) ?? true)
            .Order(StringComparer.Ordinal).ToArray();
    }

    public string Directory { get; }
    public string Name => "physionet-challenge";
    public int Count => _headers.Length;
    public IReadOnlyList<string> ClassNames => _taxonomy is null ? [] : [.. _taxonomy.Classes.Select(c => c.Code)];
    public bool HasPatientIds => false;
    public Labels.Taxonomy? Taxonomy => _taxonomy;
    public string Describe() => $"physionet-challenge {Directory} records={Count}" + (_taxonomy is null ? "" : $" taxonomy={_taxonomy.Name}");
    public string HeaderPath(int index) => _headers[index];
    public string ExamIdAt(int index) => Path.GetFileNameWithoutExtension(_headers[index]);
    public string FileOf(int index) => _headers[index];

    public EcgRecord Read(int index)
    {
        var header = WfdbHeader.Read(_headers[index]);
        foreach (var (file, signal) in header.Signals.Select((s, i) => (s.FileName, i)).DistinctBy(f => f.FileName))
            if (file.EndsWith(".mat", StringComparison.OrdinalIgnoreCase))
                CheckMatV4(WfdbRecordReader.SignalFile(header, signal, Directory), header);
        var wfdb = WfdbRecordReader.Read(header, Directory);
        var (age, sex, dx) = Demographics(header);
        return new EcgRecord
        {
            ExamId = header.RecordName,
            // The Challenge publishes no patient ids; each record stands for its own patient.
            PatientId = header.RecordName,
            Age = age,
            Sex = sex,
            SamplingRateHz = header.SamplingRateHz,
            Leads = header.Signals.Select(s => StandardLeads.Normalise(s.Description)).ToArray(),
            Signals = wfdb.ToMillivolts(),
            RecordedSamples = new Range(0, wfdb.SampleCount),
            Labels = _taxonomy is null ? dx : _taxonomy.ClassesOf(dx),
            Warnings = header.Warnings,
        };
    }

    public static (int? Age, Sex Sex, IReadOnlySet<string> Dx) Demographics(WfdbHeader header)
    {
        int? age = null;
        var sex = Sex.Unknown;
        var dx = new HashSet<string>(StringComparer.Ordinal);
        foreach (var comment in header.Comments)
        {
            var colon = comment.IndexOf(':');
            if (colon < 0) continue;
            var key = comment[..colon].Trim();
            var value = comment[(colon + 1)..].Trim();
            switch (key.ToLowerInvariant())
            {
                case "age":
                    age = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var a) ? a : null; // "NaN" in some sets
                    break;
                case "sex":
                    sex = value.ToLowerInvariant() switch { "male" or "m" => Sex.Male, "female" or "f" => Sex.Female, _ => Sex.Unknown };
                    break;
                case "dx":
                    foreach (var code in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!code.All(char.IsAsciiDigit))
                            throw new EcgDataException(header.Path, header.RecordName, "# Dx", $"'{code}' is not a SNOMED-CT code");
                        dx.Add(code);
                    }
                    break;
            }
        }
        return (age, sex, dx);
    }

    /// <summary>MATLAB v4 header: type, rows, columns, imaginary flag, name length; int16 data is type 30 (little-endian, P = 3).</summary>
    static void CheckMatV4(string path, WfdbHeader header)
    {
        if (!File.Exists(path)) throw new EcgDataException(path, header.RecordName, "signal file", "file not found");
        Span<byte> head = stackalloc byte[20];
        using (var stream = File.OpenRead(path))
            if (stream.Read(head) < 20) throw new EcgDataException(path, header.RecordName, "MAT header", "shorter than a MATLAB v4 header");
        var type = BinaryPrimitives.ReadInt32LittleEndian(head);
        var rows = BinaryPrimitives.ReadInt32LittleEndian(head[4..]);
        var columns = BinaryPrimitives.ReadInt32LittleEndian(head[8..]);
        if (type != 30)
            throw new EcgDataException(path, header.RecordName, "MAT header",
                $"type {type} is not a little-endian int16 MATLAB v4 matrix (type 30); MATLAB v5 files such as the original CPSC 2018 release need converting to the Challenge layout");
        if (rows != header.Signals.Count || (header.SampleCount is { } n && columns != n))
            throw new EcgDataException(path, header.RecordName, "MAT header", $"holds a {rows}×{columns} matrix; the header describes {header.Signals.Count}×{header.SampleCount}");
    }
}

/// <summary>The Challenge's SNOMED-CT tables (<c>dx_mapping_scored.csv</c>, <c>dx_mapping_unscored.csv</c>).</summary>
public sealed class SnomedMapping
{
    /// <summary>Pairs the Challenge scores as one class: see <see cref="Labels.SnomedCt.ScoredAsOne"/>.</summary>
    public static IReadOnlyDictionary<string, string> ScoredAsOne => Labels.SnomedCt.ScoredAsOne;

    /// <summary>The Challenge classes as a taxonomy: SNOMED-CT code as the code, abbreviation as the name, scored or not as the group.</summary>
    public Labels.Taxonomy ToTaxonomy() => new()
    {
        Name = "physionet-challenge",
        Classes = Classes.Select(c => new Labels.LabelClass(c.Key, c.Value.Abbreviation, c.Value.Scored ? "scored" : "unscored", c.Key)).ToArray(),
    };

    public required IReadOnlyDictionary<string, (string Abbreviation, string Name, bool Scored)> Classes { get; init; }

    public const string ScoredTaxonomyName = "challenge-scored";

    /// <summary>The classes the Challenge scores, each pair it scores as one joined under the code it scores (so RBBB
    /// stands for CRBBB too, SVPB for PAC, VPB for PVC, LBBB for CLBBB): 26 classes from the 2021 table, code = abbreviation.</summary>
    public Labels.Taxonomy ScoredTaxonomy() => new()
    {
        Name = ScoredTaxonomyName,
        Classes = Classes.Where(c => c.Value.Scored && !Labels.SnomedCt.ScoredAsOne.ContainsKey(c.Key)).OrderBy(c => c.Value.Abbreviation, StringComparer.Ordinal)
            .Select(c => new Labels.LabelClass(c.Value.Abbreviation, c.Value.Name, "scored", c.Key)).ToArray(),
    };

    /// <summary>The scored table alone (<c>dx_mapping_scored.csv</c>), for the scored taxonomy.</summary>
    public static SnomedMapping LoadScored(string file)
    {
        if (!File.Exists(file)) throw new EcgDataException(file, "(taxonomy)", "taxonomy_file", "the Challenge's dx_mapping_scored.csv is not there");
        var table = CsvTable.Read(file);
        int code = table.Column("SNOMEDCTCode"), abbreviation = table.Column("Abbreviation"), name = table.Column("Dx");
        return new SnomedMapping { Classes = table.Rows.ToDictionary(r => r[code], r => (r[abbreviation], r[name], true), StringComparer.Ordinal) };
    }

    public static SnomedMapping Load(string directory)
    {
        var classes = new Dictionary<string, (string, string, bool)>(StringComparer.Ordinal);
        foreach (var (file, scored) in new[] { ("dx_mapping_scored.csv", true), ("dx_mapping_unscored.csv", false) })
        {
            var table = CsvTable.Read(Path.Combine(directory, file));
            int code = table.Column("SNOMEDCTCode"), abbreviation = table.Column("Abbreviation"), name = table.Column("Dx");
            foreach (var row in table.Rows) classes[row[code]] = (row[abbreviation], row[name], scored);
        }
        return new SnomedMapping { Classes = classes };
    }

    /// <summary>The code the Challenge scores in place of <paramref name="snomed"/> (itself unless it is one of a pair).</summary>
    public static string Canonical(string snomed) => Labels.SnomedCt.Canonical(snomed);

    public string AbbreviationOf(string snomed, string file, string record) =>
        Classes.TryGetValue(snomed, out var c) ? c.Abbreviation
            : throw new EcgDataException(file, record, "# Dx", $"SNOMED-CT code {snomed} is in neither Challenge mapping table");
}
