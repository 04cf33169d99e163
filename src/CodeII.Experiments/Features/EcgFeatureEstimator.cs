using CodeII.Experiments.Data;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Features;

/// <summary>
/// One ECG as an IDataView row: signals flattened lead-major (all of lead 0, then lead 1, …), with what is needed
/// to rebuild the record. Lead names are comma-separated.
/// </summary>
public sealed class EcgSignalRow
{
    public string ExamId { get; set; } = "";
    public string PatientId { get; set; } = "";
    public string Leads { get; set; } = "";
    public float SamplingRateHz { get; set; }
    public int RecordedStart { get; set; }
    public int RecordedLength { get; set; }
    public float Age { get; set; } = float.NaN;
    public string Sex { get; set; } = "";
    /// <summary>Comma-separated classes of the exam.</summary>
    public string Classes { get; set; } = "";
    /// <summary>Whether the exam carries the class chosen when the view was loaded (false when none was chosen).</summary>
    public bool Label { get; set; }
    public float[] Signal { get; set; } = [];

    public static EcgSignalRow From(EcgRecord record, string? labelClass = null) => new()
    {
        ExamId = record.ExamId,
        PatientId = record.PatientId,
        Leads = string.Join(",", record.Leads),
        SamplingRateHz = (float)record.SamplingRateHz,
        RecordedStart = record.RecordedSamples.GetOffsetAndLength(record.SampleCount).Offset,
        RecordedLength = record.RecordedSamples.GetOffsetAndLength(record.SampleCount).Length,
        Age = record.Age ?? float.NaN,
        Sex = record.Sex switch { Data.Sex.Male => "male", Data.Sex.Female => "female", _ => "" },
        Classes = string.Join(",", record.Labels.Order(StringComparer.Ordinal)),
        Label = labelClass is not null && record.Labels.Contains(labelClass),
        Signal = record.Signals.SelectMany(s => s).ToArray(),
    };

    public EcgRecord ToRecord()
    {
        var leads = Leads.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var samples = leads.Length == 0 ? 0 : Signal.Length / leads.Length;
        return new EcgRecord
        {
            ExamId = ExamId,
            PatientId = PatientId,
            Age = float.IsNaN(Age) ? null : (int)Age,
            Sex = Sex switch { "male" => Data.Sex.Male, "female" => Data.Sex.Female, _ => Data.Sex.Unknown },
            SamplingRateHz = SamplingRateHz,
            Leads = leads,
            Signals = Enumerable.Range(0, leads.Length).Select(l => Signal.AsSpan(l * samples, samples).ToArray()).ToArray(),
            RecordedSamples = new Range(RecordedStart, RecordedStart + RecordedLength),
            Labels = Classes.Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal),
        };
    }
}

public static class EcgDataView
{
    /// <summary>A lazily read view of a source: each row is decoded when a cursor reaches it, so nothing is held in memory.</summary>
    public static IDataView Load(MLContext ml, IEcgSource source, string? labelClass = null) =>
        ml.Data.LoadFromEnumerable(Enumerable.Range(0, source.Count).Select(i => EcgSignalRow.From(RecordBoundary.Read(source, i), labelClass)));
}

/// <summary>
/// Feature extraction as an ML.NET estimator: maps the <see cref="EcgSignalRow"/> columns to a fixed-size "Features"
/// vector with slot names (one per feature, for importance and inspection). Extraction holds no learned state, so
/// Fit only checks the schema. Built on CustomMapping; saving a pipeline that contains it is not supported yet.
/// </summary>
public sealed class EcgFeatureEstimator : IEstimator<ITransformer>
{
    sealed class FeatureRow
    {
        public float[] Features { get; set; } = [];
    }

    readonly IEstimator<ITransformer> _mapping;

    public EcgFeatureEstimator(TransformsCatalog catalog, IEcgFeatureExtractor extractor, string outputColumnName = "Features")
    {
        Extractor = extractor;
        var output = SchemaDefinition.Create(typeof(FeatureRow));
        var features = output[nameof(FeatureRow.Features)];
        features.ColumnName = outputColumnName;
        features.ColumnType = new VectorDataViewType(NumberDataViewType.Single, extractor.FeatureNames.Count);
        var slotNames = new VBuffer<ReadOnlyMemory<char>>(extractor.FeatureNames.Count, extractor.FeatureNames.Select(n => n.AsMemory()).ToArray());
        // "SlotNames" is the annotation kind ML.NET reads slot names from (AnnotationUtils.Kinds.SlotNames, which is internal).
        features.AddAnnotation("SlotNames", slotNames, new VectorDataViewType(TextDataViewType.Instance, extractor.FeatureNames.Count));
        var width = extractor.FeatureNames.Count;
        _mapping = catalog.CustomMapping<EcgSignalRow, FeatureRow>((row, result) =>
        {
            var values = new float[width];
            extractor.Extract(row.ToRecord(), values);
            result.Features = values;
        }, contractName: null, inputSchemaDefinition: null, outputSchemaDefinition: output);
    }

    public IEcgFeatureExtractor Extractor { get; }

    public ITransformer Fit(IDataView input) => _mapping.Fit(input);

    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => _mapping.GetOutputSchema(inputSchema);
}

public static class EcgFeatureCatalog
{
    /// <summary><c>ml.Transforms.ExtractEcgFeatures(new HandcraftedFeatureExtractor())</c>: the same extraction the runner uses.</summary>
    public static EcgFeatureEstimator ExtractEcgFeatures(this TransformsCatalog catalog, IEcgFeatureExtractor extractor, string outputColumnName = "Features") =>
        new(catalog, extractor, outputColumnName);
}
