using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Models;
using CodeII.Experiments.Reports;
using CodeII.Experiments.Sweep;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// The sweep, on the training and validation exams only. Its artefact is the append-only trial log; a later session
/// replays the log into the tuners, so only unfinished trials train again. Its result, the selected models, is
/// complete once they are saved (<see cref="ModelsStage"/>).
/// </summary>
public sealed class SweepStage : IRunStage
{
    public string Name => "sweep";

    public bool IsComplete(RunContext run) => ModelsStage.Saved(run);

    public void Run(RunContext run) => run.Swept = Sweep(run, onlyStreams: null, RunFolder.TrialsFile);

    /// <summary>Sweeps the given streams (every stream when null), replaying the trial log <paramref name="trialLog"/>
    /// (a path in the run folder) and appending each new trial to it: a cluster task sweeps one stream into a log of its own.</summary>
    internal static SweepResult Sweep(RunContext run, IReadOnlySet<string>? onlyStreams, string trialLog)
    {
        var definition = run.Definition;
        var (development, developmentSplit) = run.Split!.WithoutTest();
        var logPath = run.Folder.FileIn(trialLog);
        if (Path.GetDirectoryName(logPath) is { } logFolder) Directory.CreateDirectory(logFolder);
        var engine = new SweepEngine
        {
            FeatureSets = [.. definition.Features.Select(set => (set, run.FeatureSet(set).Take(development)))],
            Split = developmentSplit,
            Subsets = definition.LabelSubsets,
            Learners = definition.Learners,
            Seed = definition.Seed,
            Settings = definition.Sweep,
            MaxThreads = run.Options.MaxThreads,
            Replay = TrialLog.Read(logPath, repairTornTail: true),
            OnlyStreams = onlyStreams,
        };
        run.Options.SweepStarting?.Invoke(engine);
        return engine.Run(trial => run.Folder.AppendJsonLine(trialLog, trial), run.Options.Progress, run.Options.SweepStatus, run.Cancellation);
    }

    /// <summary>The streams this definition's sweep runs, in order, before any data are read.</summary>
    public static IReadOnlyList<SweepStream> Streams(ExperimentDefinition definition) =>
        SweepEngine.PlanStreams(definition.Features, definition.LabelSubsets, definition.Learners, definition.Sweep);
}

/// <summary>
/// Every selected model as a bundle under <c>models/</c>, and the network's own outputs as the model <c>resnet</c>
/// where it learned every label. <c>models/index.json</c>, written last, lists the bundles in report order: a run
/// folder that has it has every model.
/// </summary>
public sealed class ModelsStage : IRunStage
{
    public const string IndexFile = "index.json";

    public sealed record Index(IReadOnlyList<string> Bundles);

    public string Name => "models";

    public static bool Saved(RunContext run) => File.Exists(run.Folder.FileIn(Path.Combine(RunFolder.ModelsFolder, IndexFile)));

    /// <summary>The bundles' folders, relative to the run folder, in report order.</summary>
    public static IReadOnlyList<string> Bundles(RunFolder folder)
    {
        var path = folder.FileIn(Path.Combine(RunFolder.ModelsFolder, IndexFile));
        return JsonConventions.ReadFile<Index>(path).Bundles;
    }

    public bool IsComplete(RunContext run) => Saved(run);

    public void Run(RunContext run)
    {
        var (definition, folder, swept) = (run.Definition, run.Folder, run.Swept!);
        var saved = new List<(string Relative, string Label, string Model, string? Subset)>();
        var firstSet = definition.Features[0];
        var total = swept.Selected.Count + (EndToEnd(run) ? definition.AllLabels.Count : 0);
        foreach (var model in swept.Selected)
        {
            var set = model.Trial.FeatureSet ?? firstSet;
            var relative = ModelBundle.RelativeFolder(set, model.Learner, model.Label, model.Subset);
            var table = run.FeatureSet(set);
            var parts = FeatureSetCatalog.Parts(set);
            var description = Describe(run, model.Learner, model.Label, model.Subset, model.Threshold, model.Trial.Learner,
                model.Trial.Parameters, model.Trial.Trial, model.Trial.For(model.Label).ValidationAuroc) with
            {
                FeatureSet = model.Trial.FeatureSet,
                FeatureParts = model.Trial.FeatureSet is null ? [] : [.. parts.Select(part => new FeaturePartVersion(part, run.Manifest.FeatureVersions[part]))],
                FeatureNames = model.Trial.FeatureSet is null ? [] : table.FeatureNames,
                Network = model.Trial.FeatureSet is not null && parts.Contains(LearnedFeatures.SetName)
                    ? RunNetwork.Reference(folder, relative, run.Network!, definition.Pretrain!) : null,
            };
            ModelBundle.Save(folder.FileIn(relative), description, model.Fitted, table.FeatureNames.Count);
            saved.Add((relative, model.Label, model.Learner, model.Subset));
            run.Report(Name, saved.Count, total);
        }
        if (EndToEnd(run))
            foreach (var label in definition.AllLabels)
            {
                var relative = ModelBundle.RelativeFolder(firstSet, LearnedFeatures.EndToEndModel, label, null);
                ModelBundle.Save(folder.FileIn(relative), EndToEndDescription(run, label, relative), null, 0);
                saved.Add((relative, label, LearnedFeatures.EndToEndModel, null));
                run.Report(Name, saved.Count, total);
            }
        if (run.Definition.ZeroShot && run.Network is { } source && run.NetworkOutputs is not null)
        {
            var coverage = ZeroShotCoverage(run.Definition, source.Classes);
            folder.WriteJson(CoverageFile, coverage);
            foreach (var row in coverage.Rows.Where(r => r.Kind != Labels.CoverageKind.Uncovered))
            {
                var relative = ModelBundle.RelativeFolder(firstSet, ZeroShotModel, row.Label, null);
                ModelBundle.Save(folder.FileIn(relative), ZeroShotDescription(run, row, relative), null, 0);
                saved.Add((relative, row.Label, ZeroShotModel, null));
            }
        }
        if (definition.Sweep.Ensemble) saved.AddRange(SaveEnsembles(run, saved));
        // Labels in definition order, then models in the order they were swept, as the report lays them out.
        var models = saved.Select(s => s.Model).Distinct().ToList();
        var labels = definition.AllLabels.ToList();
        var ordered = saved.OrderBy(s => labels.IndexOf(s.Label)).ThenBy(s => models.IndexOf(s.Model)).Select(s => s.Relative.Replace('\\', '/')).ToArray();
        folder.WriteJson(Path.Combine(RunFolder.ModelsFolder, IndexFile), new Index(ordered));
        // From here on the saved bundles are the models (every later stage loads them, as a resumed run does): the
        // fitted ones, with LightGBM's boosters and binned training rows in native memory, are let go now.
        LightGbmBinaryModel.DisposeWithTrainingData([.. swept.Selected.Select(m => m.Fitted.Booster).OfType<LightGbmBinaryModel>()]);
        run.Swept = null;
    }

    /// <summary>
    /// Per label (and per subset, where a subset shared a configuration), the rank average of the saved models of every
    /// feature set and learner, the network's own outputs included and the prior and zero-shot models aside, when there
    /// are at least two: <c>models/ensemble/&lt;label&gt;</c>. Each member is loaded back from its bundle and scores the
    /// validation exams, its reference for ranking; the ensemble's threshold maximises its validation F1, like every
    /// model's. No weight is fitted, so nothing is tuned on validation beyond that threshold, and no test exam is read.
    /// </summary>
    static IEnumerable<(string Relative, string Label, string Model, string? Subset)> SaveEnsembles(RunContext run,
        IReadOnlyList<(string Relative, string Label, string Model, string? Subset)> saved)
    {
        var (rows, split) = (run.Rows, run.Split!);
        var validation = split.Indices(SplitPart.Validation);
        var train = split.Indices(SplitPart.Train);
        var candidates = saved.Where(s => s.Model is not (BinaryLearnerCatalog.Prior or ZeroShotModel)).ToArray();
        var references = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var ensembles = new List<(string, string, string, string?)>();
        foreach (var label in run.Definition.AllLabels)
        {
            var ofLabel = candidates.Where(c => c.Label == label).ToArray();
            // A model with a subset's own configuration serves that subset; one without serves every subset.
            string?[] subsets = ofLabel.Any(c => c.Subset is not null) ? [.. ofLabel.Select(c => c.Subset).OfType<string>().Distinct()] : [null];
            foreach (var subset in subsets)
            {
                var members = ofLabel.GroupBy(c => c.Model).Select(g => g.FirstOrDefault(c => c.Subset == subset) is { Relative: not null } own ? own
                    : g.FirstOrDefault(c => c.Subset is null)).Where(c => c.Relative is not null).ToArray();
                if (members.Length < 2) continue;
                var relative = ModelBundle.RelativeFolder("", ExperimentEvaluator.EnsembleModel, label, subset);
                var ensembleFolder = run.Folder.FileIn(relative);
                var parts = members.Select(m =>
                {
                    if (!references.TryGetValue(m.Relative, out var reference))
                    {
                        using var bundle = ModelBundle.Load(run.Folder.FileIn(m.Relative));
                        references[m.Relative] = reference = PredictionsStage.Score(run, bundle, validation);
                    }
                    return (Member: m, Scores: reference);
                }).ToArray();
                var ensemble = new EnsembleDescription
                {
                    Members = [.. parts.Select(p => new EnsembleMember
                    {
                        Bundle = Path.GetRelativePath(ensembleFolder, run.Folder.FileIn(p.Member.Relative)).Replace('\\', '/'),
                        Model = p.Member.Model,
                        ValidationScores = [.. p.Scores.Order()],
                    })],
                };
                var scores = RankAverage.Scores([.. ensemble.Members.Select(m => m.ValidationScores)], [.. parts.Select(p => p.Scores)]);
                var (result, threshold) = LabelResult.FromValidation(label, scores, [.. validation.Select(i => rows.Labels[i].Contains(label))], train.Count(i => rows.Labels[i].Contains(label)));
                var description = Describe(run, ExperimentEvaluator.EnsembleModel, label, subset, threshold, EnsembleDescription.RankAverageMethod,
                    new Dictionary<string, double> { ["members"] = members.Length }, 0, result.ValidationAuroc) with { Ensemble = ensemble };
                ModelBundle.Save(ensembleFolder, description, null, 0);
                ensembles.Add((relative, label, ExperimentEvaluator.EnsembleModel, subset));
                run.Report("models", saved.Count + ensembles.Count, saved.Count + ensembles.Count);
            }
        }
        return ensembles;
    }

    /// <summary>The pre-trained network's outputs read as the target's labels through SNOMED-CT, with no target training.</summary>
    public const string ZeroShotModel = "zero_shot";

    /// <summary>Which target labels the source network's classes stand for: <c>coverage.json</c>.</summary>
    public const string CoverageFile = "coverage.json";

    public static Labels.LabelCoverage ZeroShotCoverage(ExperimentDefinition definition, IReadOnlyList<string> sourceClasses) =>
        Labels.LabelCoverage.Of(definition.PretrainWeights is { } imported ? Labels.Taxonomy.Named(imported.Taxonomy) : Datasets.TaxonomyOf(definition.PretrainDataset ?? definition.Dataset), sourceClasses,
            Datasets.TaxonomyOf(definition.Dataset), definition.AllLabels);

    /// <summary>A covered label's zero-shot model: the largest output of the source classes that stand for it,
    /// thresholded on the validation patients like every other model.</summary>
    static BundleDescription ZeroShotDescription(RunContext run, Labels.CoverageRow row, string relative)
    {
        var indices = row.SourceClasses.Select(c => run.Network!.Classes.ToList().IndexOf(c)).ToArray();
        return NetworkOutputDescription(run, ZeroShotModel, row.Label, relative, new Dictionary<string, double> { ["source_classes"] = indices.Length },
            reads: d => d with { NetworkOutputs = indices });
    }

    /// <summary>
    /// A model that reads the network's outputs (<c>resnet</c>, <c>zero_shot</c>): <paramref name="reads"/> says which,
    /// and the bundle's own score of the validation exams chooses its threshold, as for every other model.
    /// </summary>
    static BundleDescription NetworkOutputDescription(RunContext run, string model, string label, string relative,
        IReadOnlyDictionary<string, double> parameters, Func<BundleDescription, BundleDescription> reads)
    {
        var (network, outputs, split) = (run.Network!, run.NetworkOutputs!, run.Split!);
        var (train, validation) = (split.Indices(SplitPart.Train), split.Indices(SplitPart.Validation));
        var description = reads(Describe(run, model, label, null, double.NaN, model, parameters, 0, double.NaN) with
        {
            FeatureNames = outputs.FeatureNames,
            Network = RunNetwork.Reference(run.Folder, relative, network, run.Definition.Pretrain!),
        });
        var validationScores = validation.Select(i => description.OutputScore(outputs.Row(i).ToArray())).ToArray();
        var validationTruth = validation.Select(i => outputs.Labels[i].Contains(label)).ToArray();
        var (result, threshold) = LabelResult.FromValidation(label, validationScores, validationTruth, train.Count(i => outputs.Labels[i].Contains(label)));
        return description with { Threshold = threshold, ValidationAuroc = result.ValidationAuroc };
    }

    /// <summary>The network's outputs compare only where it learned the experiment's labels (its own data, or fine-tuned).</summary>
    static bool EndToEnd(RunContext run) => run.Network is { } network && run.NetworkOutputs is not null && run.Definition.Pretrain!.EndToEnd
        && run.Definition.AllLabels.All(network.Classes.Contains);

    /// <summary>What every bundle of this run shares, and the model's own choices.</summary>
    static BundleDescription Describe(RunContext run, string model, string label, string? subset,
        double threshold, string learner, IReadOnlyDictionary<string, double> parameters, int trial, double validationAuroc)
    {
        var kind = run.Definition.Dataset.Kind;
        var taxonomy = kind is DatasetDefinition.SyntheticKind or DatasetDefinition.CodeKind ? Labels.Taxonomy.Code6
            : kind == DatasetDefinition.PtbXlKind ? Labels.Taxonomy.PtbXlSnomed : null;
        var known = taxonomy?.Find(label);
        return new BundleDescription
        {
            FormatVersion = BundleDescription.CurrentFormatVersion,
            Model = model,
            Label = label,
            Taxonomy = known is null ? null : taxonomy!.Name,
            SnomedCt = known?.Snomed,
            Subset = subset,
            Threshold = threshold,
            Learner = learner,
            Parameters = new SortedDictionary<string, double>(parameters.ToDictionary(), StringComparer.Ordinal),
            Trial = trial,
            ValidationAuroc = validationAuroc,
            Preprocessing = run.Definition.Preprocessing,
            TrainingDataFingerprint = run.Rows.DataFingerprint,
            Packages = run.Manifest.Packages,
        };
    }

    /// <summary>The network's own sigmoid output for a label as one more model, thresholded on validation like the others.</summary>
    static BundleDescription EndToEndDescription(RunContext run, string label, string relative)
    {
        var network = run.Network!;
        var parameters = new Dictionary<string, double> { ["epochs"] = network.State.CompletedEpochs, ["best_epoch"] = network.State.BestEpoch, ["parameters"] = network.Parameters };
        return NetworkOutputDescription(run, LearnedFeatures.EndToEndModel, label, relative, parameters,
            reads: d => d with { NetworkOutput = network.Classes.ToList().IndexOf(label) });
    }
}

/// <summary>
/// Every saved model, loaded back from its bundle, scores the validation and test exams: <c>predictions.csv</c>.
/// The threshold each bundle records was chosen on the sweep's own validation scores; the loaded model must give
/// the same, which checks that saving lost nothing.
/// </summary>
public sealed class PredictionsStage : IRunStage
{
    public string Name => "predictions";

    /// <summary>Rows a model scores at a time: a model scores each row on its own, so the chunks change nothing but memory.</summary>
    const int ScoredRowsPerChunk = 4096;

    public bool IsComplete(RunContext run) => File.Exists(run.Folder.FileIn(RunFolder.PredictionsFile));

    public void Run(RunContext run)
    {
        var (rows, split) = (run.Rows, run.Split!);
        var (validation, test) = (split.Indices(SplitPart.Validation), split.Indices(SplitPart.Test));
        var bundles = ModelsStage.Bundles(run.Folder);
        var scored = new List<ScoredModel>();
        var memberScores = new Dictionary<(string Folder, bool Validation), float[]>();
        foreach (var relative in bundles)
        {
            using var bundle = ModelBundle.Load(run.Folder.FileIn(relative));
            var d = bundle.Description;
            // An ensemble ranks its members' scores, which were scored before it (it is listed after them).
            float[] Score(int[] indices) => bundle.IsEnsemble
                ? bundle.CombineMembers([.. bundle.Members.Select(m => memberScores[(Path.GetFullPath(m.Folder), indices == validation)])])
                : PredictionsStage.Score(run, bundle, indices);
            var validationScores = Score(validation);
            var threshold = BinaryMetrics.BestF1Threshold(validationScores, [.. validation.Select(i => rows.Labels[i].Contains(d.Label))]);
            if (!threshold.Equals(d.Threshold))
                throw new InvalidOperationException($"{bundle.Folder}: the saved model scores the validation exams differently from the model the sweep selected (threshold {threshold:R}, not {d.Threshold:R})");
            var testScores = Score(test);
            memberScores[(Path.GetFullPath(bundle.Folder), true)] = validationScores;
            memberScores[(Path.GetFullPath(bundle.Folder), false)] = testScores;
            scored.Add(new ScoredModel(d.Model, d.Label, d.Subset, d.Threshold, validationScores, testScores));
            run.Report(Name, scored.Count, bundles.Count);
        }
        run.Folder.WriteText(RunFolder.PredictionsFile, PredictionsFile.Write(scored, rows.ExamIds, rows.PatientIds, rows.Labels, validation, test));
    }

    /// <summary>A bundle's scores of some exams of the run, from the table it reads (the network's outputs, a feature
    /// set, or none for the prior); not for an ensemble, which combines its members' scores.</summary>
    internal static float[] Score(RunContext run, ModelBundle bundle, int[] indices)
    {
        var d = bundle.Description;
        var table = d.ReadsNetworkOutputs ? run.NetworkOutputs! : d.FeatureSet is { } set ? run.FeatureSet(set) : null;
        // In chunks: the rows of every validation or test exam at once would be a copy of most of a large table.
        return [.. indices.Chunk(ScoredRowsPerChunk).SelectMany(chunk => bundle.ScoreFeatures([.. chunk.Select(i => table is null ? [] : table.Row(i).ToArray())]))];
    }
}

/// <summary>
/// Test metrics with patient-bootstrap intervals, computed from the test rows of <c>predictions.csv</c> as written (so
/// the file reproduces them exactly) and the selection facts in the bundles: <c>metrics.json</c>.
/// </summary>
public sealed class EvaluationStage : IRunStage
{
    public string Name => "evaluation";

    public bool IsComplete(RunContext run) => File.Exists(run.Folder.FileIn(RunFolder.MetricsFile));

    public void Run(RunContext run)
    {
        var definition = run.Definition;
        var test = PredictionsFile.ReadTest(run.Folder.FileIn(RunFolder.PredictionsFile));
        var facts = ModelsStage.Bundles(run.Folder).Select(b => ModelBundle.ReadDescription(run.Folder.FileIn(b)))
            .ToDictionary(d => (d.Model, d.Label, d.Subset));
        var predictions = test.Models.Select(m =>
        {
            var d = facts[(m.Model, m.Label, m.Subset)];
            return new ModelPredictions
            {
                Label = m.Label, Model = m.Model, Subset = m.Subset, Threshold = m.Threshold, TestScores = m.TestScores,
                ValidationAuroc = d.ValidationAuroc, Trial = d.Trial, Parameters = d.Parameters,
            };
        }).ToArray();
        // Models that score only some labels (zero-shot, where the source covers only some) stay in predictions.csv
        // for the transfer matrix; the run's tables compare the models that score every label.
        var complete = predictions.GroupBy(p => p.Model).Where(g => definition.AllLabels.All(l => g.Any(p => p.Label == l))).Select(g => g.Key);
        var metrics = ExperimentEvaluator.Evaluate(predictions, definition.LabelSubsets, [.. predictions.Select(p => p.Model).Distinct().Where(complete.Contains)],
            test.TestPatients, label => [.. test.TestLabels.Select(l => l.Contains(label))],
            definition.Evaluation.BootstrapReplicates, definition.Evaluation.Confidence, definition.Seed, run.Options.Progress);
        metrics = metrics with { Benchmarks = BenchmarksOf(run, metrics, predictions, test) };
        run.Folder.WriteJson(RunFolder.MetricsFile, metrics);
        run.Metrics = metrics;
    }

    public void Load(RunContext run) =>
        run.Metrics = JsonConventions.ReadFile<ExperimentMetrics>(run.Folder.FileIn(RunFolder.MetricsFile));

    /// <summary>The published benchmarks' metrics that apply to the run's data: PTB-XL's macro-AUROC per task, the
    /// Challenge score on Challenge folders, CODE's per-class F1 on the CODE classes.</summary>
    static IReadOnlyList<BenchmarkMetric> BenchmarksOf(RunContext run, ExperimentMetrics metrics, IReadOnlyList<ModelPredictions> predictions, TestPredictions test)
    {
        var dataset = run.Definition.Dataset;
        var evaluation = run.Definition.Evaluation;
        var taxonomy = Datasets.TaxonomyOf(dataset);
        var benchmarks = new List<BenchmarkMetric>();
        foreach (var subset in metrics.Subsets)
        {
            if (dataset.Kind == DatasetDefinition.PtbXlKind)
            {
                var task = dataset.PtbXl.Labels switch
                {
                    Data.PtbXl.PtbXlLabelLevel.Superclass => "superdiagnostic",
                    Data.PtbXl.PtbXlLabelLevel.Subclass => "subdiagnostic",
                    _ => "all statements",
                };
                benchmarks.Add(Benchmarks.PtbXlMacroAuroc(subset, task, run.Source.ClassNames.Count, run.Definition.Splits.Kind == SplitKind.Predefined));
            }
            if (taxonomy.Name == "code6" && subset.Labels.All(l => taxonomy.Find(l) is not null))
                benchmarks.Add(Benchmarks.CodeF1(subset));
            if (dataset.Kind == DatasetDefinition.ChallengeKind)
            {
                var models = subset.MacroAuroc.Keys.ToArray();
                var truth = test.TestLabels.Select(t => subset.Labels.Select(t.Contains).ToArray()).ToArray();
                var decisions = models.ToDictionary(m => m, m =>
                {
                    var perLabel = subset.Labels.Select(l => ExperimentEvaluator.ModelFor(predictions, subset.Name, l, m)).ToArray();
                    return truth.Select((_, i) => perLabel.Select(p => p.TestScores[i] >= p.Threshold).ToArray()).ToArray();
                });
                var snomed = subset.Labels.Select(l => taxonomy.Find(l)?.Snomed).ToArray();
                var weights = Datasets.ChallengeWeightsOf(dataset) is { } file ? OfficialChallengeScore.WeightsFor(snomed, file) : null;
                var sinus = Array.FindIndex(snomed, s => s == OfficialChallengeScore.SinusRhythm);
                benchmarks.Add(Benchmarks.ChallengeScore(new LabelSubsetScores(subset.Name, subset.Labels, truth, decisions), test.TestPatients,
                    weights, sinus >= 0 ? sinus : null, evaluation.BootstrapReplicates, evaluation.Confidence, run.Definition.Seed));
            }
        }
        return benchmarks;
    }
}

/// <summary>
/// The report, rendered from the folder's files as <c>codeii report</c> renders it, then the manifest: the run's
/// summary, written once, last. It always runs; it is quick and reads only what the folder holds.
/// </summary>
public sealed class ReportStage : IRunStage
{
    public string Name => "report";

    public bool IsComplete(RunContext run) => false;

    public void Run(RunContext run)
    {
        var now = DateTime.UtcNow;
        run.Manifest = run.Events.Completed(run.Manifest, now);
        var report = HtmlReport.Render(RunReport.Read(run.Folder, run.Manifest));
        ReportTables.Write(report.Tables, run.Folder.FileIn(ReportTables.Folder));
        run.Folder.WriteText(RunFolder.ReportFile, report.Html);
        run.ReportPath = run.Folder.FileIn(RunFolder.ReportFile);
        run.Report(Name, 1, 1);
    }
}
