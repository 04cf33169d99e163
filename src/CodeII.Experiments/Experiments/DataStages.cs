using System.Text;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// Reads every exam once and extracts each record-based feature set. Its artefacts are the feature cache's Arrow files
/// (named in the manifest) and <c>skipped_records.csv</c>; with the cache, a later session reads the tables back at
/// no cost, so the stage always runs and is a cache hit when its work was done before.
/// </summary>
public sealed class FeaturesStage : IRunStage
{
    public string Name => "features";

    public const string RecordIsPatient = "each exam is its own patient: the dataset publishes no patient ids, so the split is by exam, and one patient's exams could fall in more than one part";

    /// <summary>What a patient is in the data: null when the source has patient ids, else <see cref="RecordIsPatient"/>.</summary>
    public static string? PatientsNote(IEcgSource source) => source.HasPatientIds ? null : RecordIsPatient;

    public bool IsComplete(RunContext run) => false;

    /// <summary>The extractors that read records, one per record-based feature set; a run whose every set is learned
    /// still reads each record's ids, patient and labels, through the metadata-only extractor.</summary>
    public static IReadOnlyList<IEcgFeatureExtractor> RecordExtractors(ExperimentDefinition definition) =>
        [.. definition.FeatureParts.Where(p => p != LearnedFeatures.SetName).Select(FeatureSetCatalog.Create).DefaultIfEmpty<IEcgFeatureExtractor>(new MetadataOnlyExtractor())];

    public void Run(RunContext run)
    {
        var extractors = run.Definition.FeatureParts.Where(p => p != LearnedFeatures.SetName).Select(FeatureSetCatalog.Create).ToArray();
        var uses = new List<string>();
        foreach (var extractor in RecordExtractors(run.Definition))
        {
            var (table, use) = ExtractOrLoad(run.Definition.Dataset, run.Options, run.Source, extractor, run.Cancellation);
            run.Tables[extractor.Name] = table;
            uses.Add(extractors.Length > 1 ? $"{extractor.Name}: {use}" : use);
        }
        var rows = run.Rows;
        // Every later stage of a resumed run builds on what the first session read: the data and the extractors must be the same.
        var versions = extractors.ToDictionary(e => e.Name, e => $"v{e.Version}");
        var read = $"data {rows.DataFingerprint}; features {string.Join(", ", versions.Select(v => $"{v.Key} {v.Value}"))}";
        if (run.Events.Read().LastOrDefault(e => e.Event == RunEvent.StageDone && e.Stage == Name)?.Detail is { } before && before != read)
            throw new InvalidDataException($"{run.Folder.Path}: the data or the feature extractors changed since this run started ({before}; now {read}): its split, network and models no longer fit them; start a new run");
        run.StageDetail = read;
        run.Manifest = run.Manifest with
        {
            DataFingerprint = rows.DataFingerprint, SkippedRecords = rows.Skipped.Count, RecordWarnings = rows.Warnings.Count, FeatureCache = string.Join("; ", uses),
            Patients = PatientsNote(run.Source),
            FeatureVersions = new Dictionary<string, string>(run.Manifest.FeatureVersions.Concat(versions).GroupBy(v => v.Key).Select(g => g.Last())),
        };
        if (rows.Skipped.Count > 0)
            run.Folder.WriteText(RunFolder.SkippedRecordsFile, "exam_id,file,field,reason\n" + string.Concat(rows.Skipped.Select(r =>
                $"{CsvTable.Field(r.ExamId)},{CsvTable.Field(r.File)},{CsvTable.Field(r.Field)},{CsvTable.Field(r.Reason)}\n")));
        if (rows.Warnings.Count > 0)
            run.Folder.WriteText(RunFolder.RecordWarningsFile, "exam_id,warning\n" + string.Concat(rows.Warnings.Select(w => $"{CsvTable.Field(w.ExamId)},{CsvTable.Field(w.Warning)}\n")));
    }

    /// <summary>A feature table from the cache, or extracted (and cached) when the cache does not hold it.</summary>
    public static (FeatureTable Table, string CacheUse) ExtractOrLoad(DatasetDefinition dataset, RunOptions options, IEcgSource source,
        IEcgFeatureExtractor extractor, CancellationToken cancellationToken)
    {
        FeatureTable Extract() => FeatureTableBuilder.Extract(source, extractor, options.MaxThreads, options.Progress, cancellationToken, dataset.SkipBadRecords);
        if (options.FeatureCacheDirectory is null) return (Extract(), "off");
        var cache = new FeatureCache(options.FeatureCacheDirectory);
        var key = FeatureCache.Key(source, extractor, dataset.SkipBadRecords, dataset.Path);
        var (table, hit, unsaved) = cache.LoadOrExtract(key, extractor, Extract);
        if (unsaved is not null) return (table, $"miss, {unsaved}");
        if (!hit) return (table, $"miss, written to {Path.GetFullPath(cache.PathOf(key))}");
        options.Progress?.Report(new StageProgress("features", table.RowCount, table.RowCount));
        return (table, $"hit {Path.GetFullPath(cache.PathOf(key))}");
    }
}

/// <summary>The patient-level split, written to <c>split.csv</c> (<c>exam_id,patient_id,split</c>) and read back from it.</summary>
public sealed class SplitStage : IRunStage
{
    public string Name => "split";

    public bool IsComplete(RunContext run) => File.Exists(run.Folder.FileIn(RunFolder.SplitFile));

    public void Run(RunContext run)
    {
        var rows = run.Rows;
        var definition = run.Definition;
        var split = definition.Splits.Kind == SplitKind.Predefined
            ? PredefinedSplit(run.Source, rows)
            : PatientSplit.IterativeStratified(rows.PatientIds, rows.Labels, definition.Splits.Train, definition.Splits.Validation, definition.Seed);
        // A smaller training set (a point of a data-efficiency curve): the same validation and test patients.
        split = split.KeepTrainingShare(definition.Splits.TrainShare, rows.PatientIds, rows.Labels, definition.Seed);
        var csv = new StringBuilder("exam_id,patient_id,split\n");
        for (var i = 0; i < rows.RowCount; i++)
            csv.Append(rows.ExamIds[i]).Append(',').Append(rows.PatientIds[i]).Append(',').Append(split.PartOfExam[i].ToString().ToLowerInvariant()).Append('\n');
        run.Folder.WriteText(RunFolder.SplitFile, csv.ToString());
        run.Split = split;
        WriteDataSummary(run);
        run.Report(Name, 1, 1);
    }

    /// <summary><c>data.json</c>: what the data were and how they were split, for the report (<see cref="DataSummary"/>).</summary>
    static void WriteDataSummary(RunContext run) =>
        run.Folder.WriteJson(RunFolder.DataSummaryFile, DataSummary.Of(run.Rows, run.Split!, run.Definition.AllLabels, run.Source.Describe(), SplitMethod(run)));

    static string SplitMethod(RunContext run)
    {
        var s = run.Definition.Splits;
        static string Percent(double share) => share.ToString("P0", System.Globalization.CultureInfo.InvariantCulture);
        var method = s.Kind == SplitKind.Predefined
            ? "PTB-XL's recommended folds (Wagner et al. 2020): strat_fold 1–8 train, 9 validation, 10 test; a patient's exams share a fold"
            : $"patients assigned by iterative stratification over the labels (Sechidis et al. 2011), {Percent(s.Train)} train, {Percent(s.Validation)} validation, {Percent(s.Test)} test, seed {run.Definition.Seed}; a patient's exams stay in one part";
        if (s.TrainShare < 1) method += $"; {Percent(s.TrainShare)} of the training patients trained on (the rest unused), every label keeping a patient";
        if (FeaturesStage.PatientsNote(run.Source) is { } patients) method += $"; {patients}";
        return method;
    }

    public void Load(RunContext run)
    {
        var path = run.Folder.FileIn(RunFolder.SplitFile);
        var table = CsvTable.Read(path);
        var rows = run.Rows;
        if (table.Rows.Count != rows.RowCount || !table.Rows.Select(r => r[table.Column("exam_id")]).SequenceEqual(rows.ExamIds)
            || !table.Rows.Select(r => r[table.Column("patient_id")]).SequenceEqual(rows.PatientIds))
            throw new InvalidDataException($"{path}: the split lists other exams or patients than the data now gives; the data changed since the run started");
        var column = table.Column("split");
        run.Split = new PatientSplit
        {
            PartOfExam = [.. table.Rows.Select((r, i) => r[column] switch
            {
                "train" => SplitPart.Train,
                "validation" => SplitPart.Validation,
                "test" => SplitPart.Test,
                "unused" => SplitPart.Unused,
                var other => throw new InvalidDataException($"{path}, row {i + 2}, split: '{other}' is not train, validation, test or unused"),
            })],
        };
        // Run folders from before the data summary get theirs from the same split.
        if (!File.Exists(run.Folder.FileIn(RunFolder.DataSummaryFile))) WriteDataSummary(run);
    }

    /// <summary>PTB-XL's recommended folds (Wagner et al. 2020): strat_fold 1–8 train, 9 validation, 10 test, by patient.</summary>
    static PatientSplit PredefinedSplit(IEcgSource source, FeatureTable features) =>
        (source is Preprocessing.PreprocessedSource p ? p.Inner : source) is Data.PtbXl.PtbXlSource ptbXl
        ? new PatientSplit { PartOfExam = features.SourceIndex.Select(i => Data.PtbXl.PtbXlDatabase.PartOfFold(ptbXl.ExamAt(i).StratFold)).ToArray() }
        : throw new ArgumentException($"dataset '{source.Name}' has no predefined split");
}
