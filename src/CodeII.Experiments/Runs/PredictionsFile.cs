using System.Globalization;
using System.Text;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Runs;

/// <summary>The test rows of a run's predictions: each model's scores, and each test exam's patient and labels.</summary>
public sealed record TestPredictions(IReadOnlyList<ScoredModel> Models, IReadOnlyList<string> TestExams, IReadOnlyList<string> TestPatients, IReadOnlySet<string>[] TestLabels);

/// <summary>One model's scores for one label on the validation and test exams of a run.</summary>
public sealed record ScoredModel(string Model, string Label, string? Subset, double Threshold, float[] ValidationScores, float[] TestScores);

/// <summary>
/// <c>predictions.csv</c>: every validation and test exam × label × model, long format, with
/// <c>exam_id,patient_id,split,label,model,subset,score,threshold,decision,truth</c>. Scores are float32 values written
/// as the shortest text that parses back (as a double) to exactly that value, thresholds likewise, and the decision is
/// <c>score ≥ threshold</c> as evaluation applied it, so any tool recomputes every metric of <c>metrics.json</c> from this
/// file exactly, ties at the threshold included.
/// </summary>
public static class PredictionsFile
{
    public const string Header = "exam_id,patient_id,split,label,model,subset,score,threshold,decision,truth";

    /// <summary>A float's exact value as decimal text: the double nearest it is the float itself.</summary>
    public static string Score(float value) => ((double)value).ToString("R", CultureInfo.InvariantCulture);

    public static string Threshold(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static string Write(IReadOnlyList<ScoredModel> models, IReadOnlyList<string> examIds, IReadOnlyList<string> patientIds,
        IReadOnlyList<IReadOnlySet<string>> labels, int[] validation, int[] test)
    {
        var csv = new StringBuilder(Header).Append('\n');
        foreach (var model in models)
            foreach (var (part, rows, scores) in new[] { ("validation", validation, model.ValidationScores), ("test", test, model.TestScores) })
                for (var k = 0; k < rows.Length; k++)
                {
                    var exam = rows[k];
                    csv.Append(CsvTable.Field(examIds[exam])).Append(',').Append(CsvTable.Field(patientIds[exam])).Append(',').Append(part).Append(',')
                        .Append(CsvTable.Field(model.Label)).Append(',').Append(CsvTable.Field(model.Model)).Append(',').Append(CsvTable.Field(model.Subset ?? "")).Append(',')
                        .Append(Score(scores[k])).Append(',').Append(Threshold(model.Threshold)).Append(',')
                        .Append(scores[k] >= model.Threshold ? '1' : '0').Append(',')
                        .Append(labels[exam].Contains(model.Label) ? '1' : '0').Append('\n');
                }
        return csv.ToString();
    }

    /// <summary>The test rows of a run's predictions, per model and label in file order, with each test exam's labels
    /// (among the labels the file holds) in the order of the first model's rows.</summary>
    public static TestPredictions ReadTest(string path)
    {
        var table = CsvTable.Read(path);
        int[] columns = [.. new[] { "split", "model", "label", "subset", "threshold", "score", "exam_id", "truth", "patient_id" }.Select(table.Column)];
        var (split, model, label, subset, threshold, score, examId, truth) = (columns[0], columns[1], columns[2], columns[3], columns[4], columns[5], columns[6], columns[7]);
        var patients = new List<string>();
        var models = new List<(string Model, string Label, string? Subset, double Threshold, List<float> Scores)>();
        var exams = new List<string>();
        var labels = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        (string, string, string) current = default;
        foreach (var row in table.Rows)
        {
            if (row[split] != "test") continue;
            var key = (row[model], row[label], row[subset]);
            if (models.Count == 0 || key != current)
            {
                current = key;
                models.Add((key.Item1, key.Item2, key.Item3.Length == 0 ? null : key.Item3, double.Parse(row[threshold], CultureInfo.InvariantCulture), []));
            }
            models[^1].Scores.Add((float)double.Parse(row[score], CultureInfo.InvariantCulture));
            var exam = row[examId];
            if (!labels.TryGetValue(exam, out var set))
            {
                labels[exam] = set = new HashSet<string>(StringComparer.Ordinal);
                exams.Add(exam);
                patients.Add(row[columns[8]]);
            }
            if (row[truth] == "1") set.Add(row[label]);
        }
        return new TestPredictions([.. models.Select(m => new ScoredModel(m.Model, m.Label, m.Subset, m.Threshold, [], [.. m.Scores]))], exams, patients,
            [.. exams.Select(e => (IReadOnlySet<string>)labels[e])]);
    }
}
