using System.Globalization;
using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// One cell of a transfer run: a one-dataset experiment on a target at a share of its training patients, in one arm.
/// Arms: <c>scratch</c> (the network trained on the target alone, beside the handcrafted reference and prior),
/// <c>frozen-&lt;source&gt;</c> (the source's encoder frozen: zero-shot, linear probe, GBM head) and
/// <c>fine_tune-&lt;source&gt;</c>. Every cell of a target has the same seed and split, so they share test patients.
/// </summary>
public sealed record TransferCell(TransferTarget Target, double Share, string Arm, TransferSource? Source, ExperimentDefinition Definition)
{
    public const string ScratchArm = "scratch";
    public const string CellsFolder = "cells";

    /// <summary>The share at full precision, so two shares never share a folder.</summary>
    public string RelativeFolder => Path.Combine(CellsFolder, Target.Name, $"share-{Share.ToString("R", CultureInfo.InvariantCulture)}", Arm);

    public string Describe() => $"{Target.Name} · {Share:P0} of training patients · {Arm}";
}

/// <summary>The cells a transfer definition runs, in order: per target and share, scratch first, then each source's arms.</summary>
public static class TransferPlan
{
    public static IReadOnlyList<TransferCell> Cells(ExperimentDefinition definition)
    {
        var transfer = definition.Transfer ?? throw new ArgumentException("not a transfer definition");
        var modes = transfer.Modes;
        bool Any(params TransferArm[] arms) => arms.Any(modes.Contains);
        var cells = new List<TransferCell>();
        foreach (var target in transfer.Targets)
            foreach (var share in transfer.TargetFractions)
            {
                var onTarget = definition with
                {
                    Transfer = null,
                    Name = $"{definition.Name}.{target.Name}",
                    Dataset = target.Dataset,
                    LabelSubsets = target.LabelSubsets,
                    Splits = target.Splits with { TrainShare = share },
                    PretrainDataset = null,
                    PretrainLabels = null,
                    // The transfer report compares cells by their metrics; importance would be computed for no reader.
                    Evaluation = definition.Evaluation with { Importance = false },
                };
                cells.Add(new TransferCell(target, share, TransferCell.ScratchArm, null, onTarget with
                {
                    Pretrain = definition.Pretrain! with { EndToEnd = true, Transfer = TransferMode.Frozen },
                }));
                foreach (var source in transfer.Sources)
                {
                    var fromSource = onTarget with
                    {
                        PretrainDataset = source.Dataset, PretrainWeights = source.Weights,
                        PretrainLabels = source.Classes ?? SourceClasses(source.Dataset!), Features = [LearnedFeatures.SetName],
                    };
                    if (Any(TransferArm.ZeroShot, TransferArm.LinearProbe, TransferArm.GbmHead))
                        cells.Add(new TransferCell(target, share, $"frozen-{source.Name}", source, fromSource with
                        {
                            Pretrain = definition.Pretrain! with { EndToEnd = false, Transfer = TransferMode.Frozen },
                            ZeroShot = modes.Contains(TransferArm.ZeroShot),
                            Learners = FrozenHeads(definition, modes),
                        }));
                    if (Any(TransferArm.FineTune))
                        cells.Add(new TransferCell(target, share, $"fine_tune-{source.Name}", source, fromSource with
                        {
                            Pretrain = definition.Pretrain! with { EndToEnd = true, Transfer = TransferMode.FineTune },
                            // The fine-tuned network's own outputs are the mode; one cheap head keeps the sweep honest.
                            Learners = [new LearnerBudget(BinaryLearnerCatalog.LogisticRegression, 1)],
                        }));
                }
            }
        return cells;
    }

    /// <summary>Logistic regression for the linear probe; the definition's other learners for the GBM head.</summary>
    static IReadOnlyList<LearnerBudget> FrozenHeads(ExperimentDefinition definition, IReadOnlyList<TransferArm> modes)
    {
        var probe = definition.Learners.FirstOrDefault(l => l.Learner == BinaryLearnerCatalog.LogisticRegression) ?? new LearnerBudget(BinaryLearnerCatalog.LogisticRegression, 3);
        var heads = new List<LearnerBudget> { probe };
        if (modes.Contains(TransferArm.GbmHead))
            heads.AddRange(definition.Learners.Where(l => l.Learner is not BinaryLearnerCatalog.LogisticRegression and not BinaryLearnerCatalog.Prior));
        return heads;
    }

    /// <summary>Every class of the source dataset, when the definition lists none.</summary>
    static IReadOnlyList<string> SourceClasses(DatasetDefinition dataset) =>
        dataset.Kind == DatasetDefinition.SyntheticKind
            ? [.. Labels.Taxonomy.Named(dataset.Synthetic.Taxonomy).Classes.Select(c => c.Code)]
            : Datasets.Open(dataset, new Preprocessing.PreprocessingOptions()).ClassNames;

    /// <summary>Which row of the matrix a cell's model is: (source, mode), or null for a model the matrix does not show.</summary>
    public static (string Source, string Mode)? RowOf(TransferCell cell, string model, IReadOnlyList<TransferArm> modes)
    {
        // A model is "<feature set>/<learner>" when the cell compares several feature sets, else the learner alone.
        var slash = model.IndexOf('/');
        var (featureSet, learner) = slash < 0 ? (cell.Definition.Features[0], model) : (model[..slash], model[(slash + 1)..]);
        var source = cell.Source?.Name ?? "";
        // The ensemble is in each cell's own report; the matrix compares the ways of transferring, one model each.
        if (model == ExperimentEvaluator.EnsembleModel) return null;
        if (cell.Arm == TransferCell.ScratchArm)
            return learner == LearnedFeatures.EndToEndModel ? ("", TransferEvaluator.ScratchMode)
                : learner == BinaryLearnerCatalog.Prior ? ("", BinaryLearnerCatalog.Prior)
                : ("", $"{featureSet} · {learner}");
        if (cell.Arm.StartsWith("fine_tune-", StringComparison.Ordinal))
            return learner == LearnedFeatures.EndToEndModel ? (source, "fine_tune") : null;
        return learner switch
        {
            ModelsStage.ZeroShotModel => (source, "zero_shot"),
            // The frozen cell always fits the probe (a sweep needs a learner); it is a row only when asked for.
            BinaryLearnerCatalog.LogisticRegression => modes.Contains(TransferArm.LinearProbe) ? (source, "linear_probe") : null,
            BinaryLearnerCatalog.Prior => null,
            _ => (source, $"gbm_head · {learner}"),
        };
    }
}

/// <summary>
/// Runs a transfer definition: every cell of <see cref="TransferPlan"/> as a run folder of its own under
/// <c>cells/</c> (so each cell resumes, keeps its models and has its own report), then the transfer matrix from the
/// cells' predictions (<c>metrics.json</c>) and the transfer report. Sources are pre-trained once: their checkpoints
/// are cached by data, classes and training, so every cell that uses a source loads the same network.
/// </summary>
public static class TransferRunner
{
    public static RunResult Run(ExperimentDefinition definition, string definitionText, string definitionPath, RunOptions options, CancellationToken cancellation)
    {
        var started = DateTime.UtcNow;
        var folder = RunFolder.Create(options.RunsRoot, definition.Name, started);
        // One lock for the whole transfer run: its cells are resumed only through it.
        using var folderLock = RunLock.AcquireNew(folder);
        options.RunFolderReady?.Invoke(folder);
        var manifest = ExperimentRunner.NewManifest(definition, definitionText, definitionPath, options, started) with { Dataset = Describe(definition.Transfer!) };
        folder.WriteText(RunFolder.DefinitionFile, definitionText);
        folder.WriteJson(RunFolder.ResolvedDefinitionFile, definition);
        var events = new RunEvents(folder);
        events.Append(new RunEvent { TimeUtc = started, Event = RunEvent.Started, Manifest = manifest });
        return Execute(folder, definition, definitionText, definitionPath, events, manifest, options, cancellation);
    }

    public static RunResult Resume(RunFolder folder, ExperimentDefinition definition, string definitionText, RunEvents events, RunManifest manifest,
        RunOptions options, RunWriter? lastWriter, CancellationToken cancellation)
    {
        events.Append(ExperimentRunner.Resumed(events, lastWriter));
        return Execute(folder, definition, definitionText, folder.FileIn(RunFolder.DefinitionFile), events, manifest, options, cancellation);
    }

    static string Describe(TransferDefinition transfer) =>
        $"transfer: sources {string.Join(", ", transfer.Sources.Select(s => s.Name))}; targets {string.Join(", ", transfer.Targets.Select(t => t.Name))}";

    static RunResult Execute(RunFolder folder, ExperimentDefinition definition, string definitionText, string definitionPath, RunEvents events,
        RunManifest manifest, RunOptions options, CancellationToken cancellation)
    {
        try
        {
            var cells = TransferPlan.Cells(definition);
            Check(definition, cells);
            var results = new List<(TransferCell Cell, RunResult Result)>();
            for (var k = 0; k < cells.Count; k++)
            {
                cancellation.ThrowIfCancellationRequested();
                var cell = cells[k];
                options.Progress?.Report(new StageProgress("transfer", k, cells.Count, cell.Describe()));
                if (!File.Exists(folder.FileIn(Path.Combine(cell.RelativeFolder, RunFolder.ManifestFile)))) events.Append(RunEvent.StageStarted, $"cell {cell.RelativeFolder}");
                var cellFolder = folder.FileIn(cell.RelativeFolder);
                Directory.CreateDirectory(cellFolder);
                AtomicFile.WriteText(Path.Combine(cellFolder, RunFolder.TransferCellFile), JsonConventions.Serialize(new { cell.Target.Name, cell.Share, cell.Arm, TransferRun = "../../../.." }));
                results.Add((cell, ExperimentRunner.RunIn(cellFolder, cell.Definition, definitionText, definitionPath, options, cancellation)));
                options.Progress?.Report(new StageProgress("transfer", k + 1, cells.Count, cell.Describe()));
            }
            events.Append(RunEvent.StageStarted, "evaluation");
            var metrics = Evaluate(folder, definition, results);
            folder.WriteJson(RunFolder.MetricsFile, metrics);
            events.Append(RunEvent.StageDone, "evaluation");
            manifest = events.Completed(manifest, DateTime.UtcNow);
            var report = TransferReport.Render(definition.Name, manifest, metrics);
            ReportTables.Write(report.Tables, folder.FileIn(ReportTables.Folder));
            folder.WriteText(RunFolder.ReportFile, report.Html);
            folder.WriteJson(RunFolder.ManifestFile, manifest);
            events.Append(RunEvent.Finished);
            return new RunResult(folder, folder.FileIn(RunFolder.ReportFile), results[0].Result.Metrics, manifest) { Transfer = metrics };
        }
        catch (Exception e)
        {
            events.AppendEnding(e);
            throw;
        }
    }

    /// <summary>
    /// Opens every target and source once before any cell runs, so a label a target lacks or a class a source lacks is
    /// named (with its key in the transfer section) at once, not after hours of other cells.
    /// </summary>
    static void Check(ExperimentDefinition definition, IReadOnlyList<TransferCell> cells)
    {
        foreach (var cell in cells.Where(c => c.Arm == TransferCell.ScratchArm).DistinctBy(c => c.Target.Name))
            (Datasets.CreateSource(cell.Definition, $"transfer.targets.{cell.Target.Name}.") as IDisposable)?.Dispose();
        foreach (var s in definition.Transfer!.Sources.Where(s => s.Dataset is not null && s.Classes is not null))
        {
            var source = Datasets.Open(s.Dataset!, definition.Preprocessing);
            try { Datasets.RequireClasses(source, s.Dataset!, s.Classes!, $"transfer.sources.{s.Name}.classes"); }
            finally { (source as IDisposable)?.Dispose(); }
        }
    }

    /// <summary>The matrix, from each cell's <c>predictions.csv</c>: rows scored on the same test patients per target and share.</summary>
    public static TransferMetrics Evaluate(RunFolder folder, ExperimentDefinition definition, IReadOnlyList<(TransferCell Cell, RunResult Result)> results)
    {
        var transfer = definition.Transfer!;
        var cells = new List<TransferCellMetrics>();
        var targets = new List<TransferTargetSummary>();
        var coverage = new List<TransferCoverage>();
        foreach (var target in transfer.Targets)
        {
            foreach (var share in transfer.TargetFractions)
            {
                var group = results.Where(r => r.Cell.Target == target && r.Cell.Share == share).ToArray();
                TestPredictions? first = null;
                var rows = new List<TransferRowScores>();
                foreach (var (cell, result) in group)
                {
                    var test = PredictionsFile.ReadTest(result.Folder.FileIn(RunFolder.PredictionsFile));
                    first ??= test;
                    if (!test.TestExams.SequenceEqual(first.TestExams))
                        throw new InvalidDataException($"{result.Folder.Path}: its test exams differ from the other cells on {target.Name}; the cells must share one split");
                    foreach (var model in test.Models.GroupBy(m => m.Model))
                        if (TransferPlan.RowOf(cell, model.Key, transfer.Modes) is { } row)
                            rows.Add(new TransferRowScores(row.Source, row.Mode, cell.RelativeFolder.Replace('\\', '/'),
                                model.ToDictionary(m => (m.Subset, m.Label), m => m.TestScores)));
                }
                cells.AddRange(TransferEvaluator.Evaluate(target.Name, share, target.LabelSubsets, first!.TestPatients, first.TestLabels, rows,
                    definition.Evaluation.BootstrapReplicates, definition.Evaluation.Confidence, definition.Seed));
                if (share == transfer.TargetFractions[^1])
                    targets.Add(new TransferTargetSummary(target.Name, group[0].Result.Manifest.Dataset, first.TestExams.Count, first.TestPatients.Distinct().Count(),
                        group[0].Result.Manifest.Patients is not null,
                        target.LabelSubsets.SelectMany(s => s.Labels).Distinct().ToDictionary(l => l, l => first.TestLabels.Count(t => t.Contains(l)))));
            }
            foreach (var source in transfer.Sources)
                if (results.FirstOrDefault(r => r.Cell.Target == target && r.Cell.Source == source).Cell?.Definition is { } sourceCell)
                    coverage.Add(new TransferCoverage(source.Name, target.Name, ModelsStage.ZeroShotCoverage(sourceCell, sourceCell.PretrainLabels!)));
        }
        return new TransferMetrics
        {
            Sources = [.. transfer.Sources.Select(s => s.Name)],
            Modes = [.. transfer.Modes.Select(JsonConventions.SnakeCase)],
            Shares = transfer.TargetFractions,
            Targets = targets,
            Coverage = coverage,
            Cells = cells,
            BootstrapReplicates = definition.Evaluation.BootstrapReplicates,
            Confidence = definition.Evaluation.Confidence,
        };
    }
}
