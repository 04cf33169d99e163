using System.Globalization;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;

namespace CodeII.Experiments.Features;

/// <summary>Feature tables as files: Arrow IPC (columnar, exact floats) or CSV (for spreadsheets; floats round-trip).</summary>
public static class FeatureTableFiles
{
    const string SourceRateColumn = "source_rate_hz";
    const string SourceSecondsColumn = "source_seconds";

    /// <summary>Writes by extension: <c>.arrow</c> or <c>.csv</c>, through a temporary file and a rename.</summary>
    public static void Write(FeatureTable table, string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".arrow": WriteArrow(table, path); break;
            case ".csv": WriteCsv(table, path); break;
            default: throw new ArgumentException($"'{path}': write features to a .arrow or .csv file");
        }
    }

    /// <summary>Columns exam_id, patient_id, classes, source_index, source_rate_hz and source_seconds (when the table
    /// has them), then one float column per feature; the data fingerprint and skipped records ride in the schema metadata.</summary>
    public static void WriteArrow(FeatureTable table, string path)
    {
        var width = table.FeatureNames.Count;
        var fields = new List<Field>
        {
            new("exam_id", StringType.Default, false),
            new("patient_id", StringType.Default, false),
            new("classes", StringType.Default, false),
            new("source_index", Int32Type.Default, false),
        };
        var hasFacts = table.SourceRatesHz is not null && table.SourceSeconds is not null;
        if (hasFacts) fields.AddRange([new(SourceRateColumn, FloatType.Default, false), new(SourceSecondsColumn, FloatType.Default, false)]);
        fields.AddRange(table.FeatureNames.Select(n => new Field(n, FloatType.Default, false)));
        var schema = new Schema(fields, new Dictionary<string, string>
        {
            ["data_fingerprint"] = table.DataFingerprint,
            ["skipped"] = JsonSerializer.Serialize(table.Skipped),
            ["warnings"] = JsonSerializer.Serialize(table.Warnings),
        });
        AtomicFile.WriteStream(path, stream =>
        {
            using var writer = new ArrowFileWriter(stream, schema);
            // Record batches of a bounded size, each built from rows as they are read: a table whose values are mapped
            // from a file (the learned features) is written without its matrix ever being in memory.
            var batchRows = Math.Max(1, BatchValues / Math.Max(1, width));
            for (var start = 0; start == 0 || start < table.RowCount; start += batchRows)
            {
                var rows = Enumerable.Range(start, Math.Min(batchRows, table.RowCount - start)).ToArray();
                writer.WriteRecordBatch(new RecordBatch(schema, Batch(table, rows, hasFacts), rows.Length));
            }
            writer.WriteEnd();
        });
    }

    /// <summary>Floats per record batch: 16 MB of them.</summary>
    const int BatchValues = 1 << 22;

    static List<IArrowArray> Batch(FeatureTable table, int[] rows, bool hasFacts)
    {
        var arrays = new List<IArrowArray>
        {
            new StringArray.Builder().AppendRange(rows.Select(r => table.ExamIds[r])).Build(),
            new StringArray.Builder().AppendRange(rows.Select(r => table.PatientIds[r])).Build(),
            new StringArray.Builder().AppendRange(rows.Select(r => string.Join(",", table.Labels[r].Order(StringComparer.Ordinal)))).Build(),
            new Int32Array.Builder().AppendRange(rows.Select(r => table.SourceIndex[r])).Build(),
        };
        if (hasFacts)
        {
            arrays.Add(new FloatArray.Builder().AppendRange(rows.Select(r => table.SourceRatesHz![r])).Build());
            arrays.Add(new FloatArray.Builder().AppendRange(rows.Select(r => table.SourceSeconds![r])).Build());
        }
        var width = table.FeatureNames.Count;
        var columns = new float[width][];
        for (var c = 0; c < width; c++) columns[c] = new float[rows.Length];
        for (var k = 0; k < rows.Length; k++)
        {
            var row = table.Row(rows[k]);
            for (var c = 0; c < width; c++) columns[c][k] = row[c];
        }
        arrays.AddRange(columns.Select(column => new FloatArray.Builder().AppendRange(column).Build()));
        return arrays;
    }

    /// <summary>Reads a file written by <see cref="WriteArrow"/>; throws on anything else.</summary>
    public static FeatureTable ReadArrow(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new ArrowFileReader(stream);
        // Files written before the recording facts were kept have four leading columns, not six.
        var hasFacts = reader.Schema.FieldsList.Count > 5 && reader.Schema.FieldsList[4].Name == SourceRateColumn && reader.Schema.FieldsList[5].Name == SourceSecondsColumn;
        var lead = hasFacts ? 6 : 4;
        var names = reader.Schema.FieldsList.Skip(lead).Select(f => f.Name).ToArray();
        var rates = new List<float>();
        var seconds = new List<float>();
        var examIds = new List<string>();
        var patients = new List<string>();
        var classes = new List<IReadOnlySet<string>>();
        var sourceIndex = new List<int>();
        var columns = names.Select(_ => new List<float>()).ToArray();
        while (reader.ReadNextRecordBatch() is { } batch)
        {
            var ids = (StringArray)batch.Column(0);
            var pids = (StringArray)batch.Column(1);
            var cls = (StringArray)batch.Column(2);
            var idx = (Int32Array)batch.Column(3);
            for (var r = 0; r < batch.Length; r++)
            {
                examIds.Add(ids.GetString(r));
                patients.Add(pids.GetString(r));
                classes.Add(cls.GetString(r).Split(',', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal));
                sourceIndex.Add(idx.GetValue(r)!.Value);
            }
            if (hasFacts)
            {
                rates.AddRange(((FloatArray)batch.Column(4)).Values.ToArray());
                seconds.AddRange(((FloatArray)batch.Column(5)).Values.ToArray());
            }
            for (var c = 0; c < names.Length; c++) columns[c].AddRange(((FloatArray)batch.Column(lead + c)).Values.ToArray());
        }
        var width = names.Length;
        var values = new float[examIds.Count * width];
        for (var c = 0; c < width; c++)
            for (var r = 0; r < examIds.Count; r++) values[r * width + c] = columns[c][r];
        var metadata = reader.Schema.Metadata;
        return new FeatureTable
        {
            FeatureNames = names,
            ExamIds = examIds.ToArray(),
            PatientIds = patients.ToArray(),
            Labels = classes.ToArray(),
            Values = values,
            SourceIndex = sourceIndex.ToArray(),
            SourceRatesHz = hasFacts ? rates.ToArray() : null,
            SourceSeconds = hasFacts ? seconds.ToArray() : null,
            DataFingerprint = metadata["data_fingerprint"],
            Skipped = JsonSerializer.Deserialize<SkippedRecord[]>(metadata["skipped"]) ?? [],
            // Tables cached before warnings were kept have none to give.
            Warnings = metadata.TryGetValue("warnings", out var warnings) ? JsonSerializer.Deserialize<RecordWarning[]>(warnings) ?? [] : [],
        };
    }

    public static void WriteCsv(FeatureTable table, string path)
    {
        var csv = new StringBuilder("exam_id,patient_id,classes,").Append(string.Join(",", table.FeatureNames)).Append('\n');
        for (var r = 0; r < table.RowCount; r++)
        {
            csv.Append(table.ExamIds[r]).Append(',').Append(table.PatientIds[r]).Append(",\"")
               .Append(string.Join(",", table.Labels[r].Order(StringComparer.Ordinal))).Append('"');
            foreach (var v in table.Row(r)) csv.Append(',').Append(float.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture));
            csv.Append('\n');
        }
        AtomicFile.WriteText(path, csv.ToString());
    }
}
