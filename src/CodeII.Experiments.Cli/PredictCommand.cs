using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Models;
using Spectre.Console;

namespace CodeII.Experiments.Cli;

/// <summary><c>codeii predict &lt;run folder or bundle&gt; &lt;dataset or record&gt;</c>: scores ECGs with a run's saved models.</summary>
static class PredictCommand
{
    public static Command Create()
    {
        var models = new Argument<DirectoryInfo>("models") { Description = "A run folder (every model it saved) or one model bundle (a folder with bundle.json)" }.AcceptExistingOnly();
        var data = new Argument<string>("data") { Description = "A dataset folder (CODE, PTB-XL, Challenge, WFDB) or one WFDB record" }.AcceptExistingDatasetOnly();
        var model = new Option<string[]>("--model") { Description = "Only these models, by their report names (e.g. handcrafted/lightgbm, resnet)", AllowMultipleArgumentsPerToken = true };
        var labels = new Option<string[]>("--labels") { Description = "Only these labels", AllowMultipleArgumentsPerToken = true };
        var output = new Option<FileInfo?>("--out") { Description = "Output file, .csv (long format: exam_id,label,model,score,decision) or .json; default: CSV on standard output" };
        var threads = new Option<int>("--max-threads") { Description = "Threads for decoding and features (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var command = new Command("predict", "Score ECGs with the models a run saved, as the run scored its test exams") { models, data, model, labels, output, threads };
        command.SetAction((parse, cancellationToken) => Task.FromResult(Execute(parse.GetValue(models)!, parse.GetValue(data)!, parse.GetValue(model) ?? [],
            parse.GetValue(labels) ?? [], parse.GetValue(output), parse.GetValue(threads), cancellationToken)));
        return command;
    }

    static int Execute(DirectoryInfo modelsPath, string dataPath, string[] modelNames, string[] labels, FileInfo? output, int maxThreads, CancellationToken cancellationToken)
    {
        // Progress goes to standard error, so standard output holds only the predictions when no file is given.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ConsoleWidth.WidenWhenRedirected(console);
        return CliErrors.Run(console, () => Predict(console, modelsPath, dataPath, modelNames, labels, output, maxThreads, cancellationToken));
    }

    static int Predict(IAnsiConsole console, DirectoryInfo modelsPath, string dataPath, string[] modelNames, string[] labels, FileInfo? output, int maxThreads,
        CancellationToken cancellationToken)
    {
        if (maxThreads < 1) throw new UsageException("--max-threads must be at least 1");
        if (output is not null && output.Extension is not (".csv" or ".json")) throw new UsageException($"--out {output}: give a .csv or a .json file");
        var bundles = new List<ModelBundle>();
        // Predictions are written beside the output and renamed onto it at the end: a failed or cancelled run leaves no half file.
        var partial = output is null ? null : output.FullName + ".tmp";
        try
        {
            foreach (var folder in BundleFolders(modelsPath.FullName))
            {
                var bundle = ModelBundle.Load(folder);
                if ((modelNames.Length == 0 || modelNames.Contains(bundle.Description.Model) || modelNames.Contains(BatchPredictor.ModelName(bundle.Description)))
                    && (labels.Length == 0 || labels.Contains(bundle.Description.Label)))
                    bundles.Add(bundle);
                else bundle.Dispose();
            }
            if (bundles.Count == 0) throw new UsageException($"{modelsPath}: no saved model matches {Describe(modelNames, labels)}");
            var source = EcgSources.Open(dataPath);
            using var _ = source as IDisposable;
            console.MarkupLineInterpolated($"{bundles.Count} models × {source.Count:N0} records from {dataPath}");
            StreamWriter writer = null!;
            CliErrors.Writing(output?.FullName ?? "standard output", () => writer = partial is null
                ? new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) : new StreamWriter(partial, false, new UTF8Encoding(false)));
            using var __ = writer;
            var json = output?.Extension == ".json";
            var first = true;
            writer.Write(json ? "[\n" : "exam_id,label,model,score,decision\n");
            IReadOnlyList<Features.SkippedRecord> skipped = [];
            var predictor = new BatchPredictor(bundles, maxThreads);
            console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(context =>
                {
                    var task = context.AddTask("Scoring records", maxValue: Math.Max(1, source.Count));
                    skipped = predictor.Run(source, rows =>
                    {
                        foreach (var row in rows)
                        {
                            if (json)
                            {
                                writer.Write(first ? "  " : ",\n  ");
                                writer.Write(JsonSerializer.Serialize(new { exam_id = row.ExamId, label = row.Label, model = row.Model, score = (double)row.Score, decision = row.Decision }));
                            }
                            else
                                writer.Write($"{CsvTable.Field(row.ExamId)},{CsvTable.Field(row.Label)},{CsvTable.Field(row.Model)},{PredictionsFile.Score(row.Score)},{(row.Decision ? 1 : 0)}\n");
                            first = false;
                        }
                    }, new ProgressCallback(p => task.Value = p.Done), cancellationToken);
                });
            writer.Write(json ? "\n]\n" : "");
            writer.Flush();
            writer.Close();
            if (output is not null) CliErrors.Writing(output.FullName, () => File.Move(partial!, output.FullName, overwrite: true));
            foreach (var (leads, (records, example)) in predictor.MissingLeads)
                console.MarkupLineInterpolated($"[yellow]warning:[/] {records} record(s) lack lead(s) {leads} (e.g. {example}); the models were trained on them and read them as flat or unmeasured, so these scores are less reliable");
            foreach (var s in skipped) console.MarkupLineInterpolated($"[yellow]not scored[/] {s.ExamId}: {s.Reason}");
            if (skipped.Count > 0) console.MarkupLineInterpolated($"[yellow]{skipped.Count} records could not be read and were not scored[/]");
            if (output is not null) Console.WriteLine(output.FullName);
            return CliErrors.Success;
        }
        finally
        {
            foreach (var b in bundles) b.Dispose();
            if (partial is not null && File.Exists(partial)) File.Delete(partial);
        }
    }

    static string Describe(string[] models, string[] labels) =>
        (models.Length, labels.Length) switch
        {
            (0, 0) => "(the folder holds none)",
            _ => string.Join(" and ", new[] { models.Length > 0 ? $"--model {string.Join(" ", models)}" : null, labels.Length > 0 ? $"--labels {string.Join(" ", labels)}" : null }.OfType<string>()),
        };

    /// <summary>The bundle itself, or every bundle under a run folder's <c>models/</c>, in a fixed order.</summary>
    static IEnumerable<string> BundleFolders(string path)
    {
        if (File.Exists(Path.Combine(path, ModelBundle.DescriptionFile))) return [path];
        var models = Path.Combine(path, RunFolder.ModelsFolder);
        if (!Directory.Exists(models))
            throw new ModelBundleException(path, $"neither a model bundle (no {ModelBundle.DescriptionFile}) nor a run folder with saved models (no {RunFolder.ModelsFolder}/); runs made before models were saved have none");
        // The index lists the run's models, written once all are saved: a folder without it holds a partial set.
        if (!File.Exists(Path.Combine(models, ModelsStage.IndexFile)))
            throw new ModelBundleException(path, $"the run has not finished saving its models (no {RunFolder.ModelsFolder}/{ModelsStage.IndexFile}); resume it with codeii run --resume {path}");
        return ModelsStage.Bundles(RunFolder.Open(path)).Select(b => Path.Combine(path, b));
    }
}
