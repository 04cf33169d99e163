using CodeII.Experiments.Data.Challenge;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Data.Formats;

/// <summary>What <c>codeii data inspect</c> reports about a dataset.</summary>
public sealed record DatasetSummary
{
    public required string Format { get; init; }
    public required string Path { get; init; }
    public required int Records { get; init; }
    public required int Patients { get; init; }
    /// <summary>Sampling rate (Hz) → number of records.</summary>
    public required IReadOnlyDictionary<string, int> SamplingRatesHz { get; init; }
    public required IReadOnlyList<string> Leads { get; init; }
    public required double MinDurationSeconds { get; init; }
    public required double MaxDurationSeconds { get; init; }
    /// <summary>The taxonomy the label counts are given in.</summary>
    public required string Taxonomy { get; init; }
    /// <summary>Class → number of records carrying it.</summary>
    public required IReadOnlyDictionary<string, int> Labels { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];
}

/// <summary>Recognises a dataset's format from its files and summarises it from headers and label files.</summary>
public static class DatasetInspector
{
    public static DatasetSummary Inspect(string path)
    {
        var (format, headers) = EcgSources.Detect(path);
        return format switch
        {
            DatasetFormat.PtbXl => InspectPtbXl(path),
            DatasetFormat.Code => InspectCode(path),
            _ => InspectWfdbFolder(Directory.Exists(path) ? path : System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(headers[0]))!, headers),
        };
    }

    /// <summary>
    /// Labels come from <c>ptbxl_database.csv</c> (superclasses, the benchmark's "any likelihood" rule); rates, leads and
    /// duration from the first record's header at each resolution, since PTB-XL's records are uniform by design.
    /// </summary>
    static DatasetSummary InspectPtbXl(string path)
    {
        var db = PtbXlDatabase.Load(path);
        var rates = new Dictionary<string, int>();
        IReadOnlyList<string> leads = [];
        double duration = double.NaN;
        var notes = new List<string> { "labels: diagnostic superclasses, any likelihood (PTB-XL benchmark rule)" };
        foreach (var (rate, file) in new[] { (100, (Func<PtbXlExam, string>)(e => e.FilenameLr)), (500, e => e.FilenameHr) })
        {
            // A file name that leads outside the dataset is never opened, not even for its header.
            var first = db.Exams.Select(e => System.IO.Path.Combine(path, file(e) + ".hea")).FirstOrDefault(h => DatasetPaths.Holds(path, h) && File.Exists(h));
            if (first is null) continue;
            var header = WfdbHeader.Read(first);
            rates[rate.ToString(System.Globalization.CultureInfo.InvariantCulture)] = db.Exams.Count;
            leads = header.Signals.Select(s => StandardLeads.Normalise(s.Description)).ToArray();
            duration = (header.SampleCount ?? 0) / header.SamplingRateHz;
            notes.Add($"records{rate}: rate, leads and duration read from {System.IO.Path.GetFileName(first)}");
        }
        if (rates.Count == 0) notes.Add("no signal files found beside the label files");
        if (db.Exams.Where(e => e.LabelProblem is not null).ToArray() is { Length: > 0 } unreadable)
            notes.Add($"{unreadable.Length} exams whose scp_codes cannot be read (a run stops at them, or skips them with skip_bad_records); the first: {unreadable[0].LabelProblem!.Message}");
        var counts = PtbXlDatabase.Superclasses.ToDictionary(c => c, _ => 0);
        foreach (var exam in db.Exams)
            foreach (var c in db.SuperclassesOf(exam)) counts[c]++;
        return new DatasetSummary
        {
            Format = "ptb-xl", Path = path, Records = db.Exams.Count, Patients = db.Exams.Select(e => e.PatientId).Distinct().Count(),
            SamplingRatesHz = rates, Leads = leads, MinDurationSeconds = duration, MaxDurationSeconds = duration,
            Taxonomy = "ptb-xl superclass", Labels = counts, Notes = notes,
        };
    }

    /// <summary>Ids and labels of every exam; the stored length is CODE's fixed 4096 samples, the recordings inside it 7–10 s.</summary>
    static DatasetSummary InspectCode(string path)
    {
        using var source = new Code.CodeHdf5Source(path);
        var labels = source.ClassNames.ToDictionary(c => c, _ => 0);
        var patients = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (patient, classes) in source.PatientsAndLabels())
        {
            patients.Add(patient);
            foreach (var c in classes) labels[c]++;
        }
        var stored = source.SamplesPerExam / Code.CodeLayout.SamplingRateHz;
        return new DatasetSummary
        {
            Format = "code-hdf5", Path = path, Records = source.Count, Patients = patients.Count,
            SamplingRatesHz = new Dictionary<string, int> { ["400"] = source.Count }, Leads = StandardLeads.Twelve,
            MinDurationSeconds = stored, MaxDurationSeconds = stored, Taxonomy = $"{Code.CodeLayout.MetadataFile} class columns", Labels = labels,
            Notes = [$"duration: the stored length ({source.SamplesPerExam} samples); recordings are zero-padded, centred, inside it",
                $"reading: {source.ReadPath}",
                .. source.HasPatientIds ? Array.Empty<string>() : [$"patients: {Code.CodeLayout.MetadataFile} has no patient_id column, so each exam counts as one patient"]],
        };
    }

    /// <summary>Every header is read (not the signals); Challenge records are labelled by their # Dx SNOMED-CT codes.</summary>
    static DatasetSummary InspectWfdbFolder(string path, IReadOnlyList<string> headerPaths)
    {
        var headers = headerPaths.Order(StringComparer.Ordinal).Select(WfdbHeader.Read).ToArray();
        var isChallenge = headers.Any(h => h.Comments.Any(c => c.StartsWith("Dx:", StringComparison.OrdinalIgnoreCase)));
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        var notes = new List<string>();
        if (isChallenge)
        {
            var maps = System.IO.Path.Combine(path, "_label_maps");
            var mapping = Directory.Exists(maps) ? SnomedMapping.Load(maps) : null;
            notes.Add(mapping is null ? "labels: SNOMED-CT codes (no _label_maps folder to name them)" : "labels: SNOMED-CT codes named by the Challenge tables");
            foreach (var h in headers)
                foreach (var code in ChallengeSource.Demographics(h).Dx)
                {
                    var name = mapping is null ? code : $"{mapping.AbbreviationOf(code, h.Path, h.RecordName)} ({code})";
                    labels[name] = labels.GetValueOrDefault(name) + 1;
                }
        }
        var durations = headers.Select(h => (h.SampleCount ?? 0) / h.SamplingRateHz).ToArray();
        return new DatasetSummary
        {
            Format = isChallenge ? "physionet-challenge" : "wfdb",
            Path = path,
            Records = headers.Length,
            Patients = headers.Length,
            SamplingRatesHz = headers.GroupBy(h => h.SamplingRateHz.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToDictionary(g => g.Key, g => g.Count()),
            Leads = headers.SelectMany(h => h.Signals.Select(s => StandardLeads.Normalise(s.Description))).Distinct().ToArray(),
            MinDurationSeconds = durations.Min(),
            MaxDurationSeconds = durations.Max(),
            Taxonomy = isChallenge ? "snomed-ct" : "none",
            Labels = labels.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToDictionary(),
            Notes = [.. notes, "patients: these formats carry no patient ids, so each record counts as one patient"],
        };
    }
}
