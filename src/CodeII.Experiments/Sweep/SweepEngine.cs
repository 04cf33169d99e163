using System.Collections.Concurrent;
using System.Diagnostics;
using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Sweep.Tuning;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Sweep;

/// <summary>A learner in a sweep: at most this many trials per stream, and its search space narrowed or widened.</summary>
public sealed record LearnerBudget(string Learner, int Trials = int.MaxValue)
{
    /// <summary>New [min, max] ranges for numeric options of the learner's space, by option name.</summary>
    public IReadOnlyDictionary<string, OptionRange> Ranges { get; init; } = new Dictionary<string, OptionRange>();

    public SearchSpace SpaceOf(IBinaryLearner learner) => Ranges.Aggregate(learner.Space, (space, r) => space.WithRange(r.Key, r.Value.Min, r.Value.Max));
}

/// <summary>The bounds a definition gives a numeric option.</summary>
public sealed record OptionRange(double Min, double Max);

/// <summary>One label's validation results in a trial.</summary>
public sealed record LabelResult
{
    public required string Label { get; init; }
    public required double ValidationAuroc { get; init; }
    public required double ValidationAuprc { get; init; }
    /// <summary>F1 at the threshold that maximises it on validation.</summary>
    public required double ValidationF1 { get; init; }
    public required int TrainPositives { get; init; }

    /// <summary>A label's validation results from its scores, and the threshold that maximises its validation F1.</summary>
    public static (LabelResult Result, double Threshold) FromValidation(string label, float[] scores, bool[] truth, int trainPositives)
    {
        var threshold = BinaryMetrics.BestF1Threshold(scores, truth);
        return (new LabelResult
        {
            Label = label,
            ValidationAuroc = BinaryMetrics.Auroc(scores, truth),
            ValidationAuprc = BinaryMetrics.AveragePrecision(scores, truth),
            ValidationF1 = BinaryMetrics.F1(scores, truth, threshold),
            TrainPositives = trainPositives,
        }, threshold);
    }
}

/// <summary>One trial as written to the append-only trial log: parameters at full precision, so a resumed run replays
/// exactly what was proposed.</summary>
public sealed record TrialRecord
{
    /// <summary>The sequence this trial belongs to: a feature set and a label (or a subset sharing one configuration).</summary>
    public required string Stream { get; init; }
    /// <summary>The trial's position in its stream, from 0.</summary>
    public required int Trial { get; init; }
    public required string Learner { get; init; }
    /// <summary>The name the model has in reports: the learner, prefixed by its feature set when several are compared.</summary>
    public required string Model { get; init; }
    /// <summary>The feature set the trial was trained on (null for the prior, which reads none).</summary>
    public string? FeatureSet { get; init; }
    /// <summary>The label subset whose labels share this configuration; null when each label has its own.</summary>
    public string? Subset { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public required TrialParameters Parameters { get; init; }
    public required int Seed { get; init; }
    public required string Objective { get; init; }
    /// <summary>The objective on validation data (higher is better); NaN when the trial was not trained.</summary>
    public required double ValidationScore { get; init; }
    /// <summary>Macro average over the trial's labels.</summary>
    public required double ValidationAuroc { get; init; }
    public required double ValidationAuprc { get; init; }
    public required IReadOnlyList<LabelResult> PerLabel { get; init; }
    public required double DurationSeconds { get; init; }
    /// <summary>Millions of row × feature visits: the deterministic cost budgets count.</summary>
    public required double Work { get; init; }
    public required int TrainRows { get; init; }
    /// <summary>Managed memory the trial allocated on its thread, and the process's peak resident set when it ended.</summary>
    public double AllocatedMb { get; init; }
    public double PeakRssMb { get; init; }
    /// <summary>ok; reused (an identical configuration's results); pruned (stopped after a quarter of the rows);
    /// over_memory_limit (not run).</summary>
    public string Status { get; init; } = TrialStatus.Ok;

    public LabelResult For(string label) => PerLabel.First(l => l.Label == label);
}

public static class TrialStatus
{
    public const string Ok = "ok";
    public const string Reused = "reused";
    public const string Pruned = "pruned";
    public const string OverMemoryLimit = "over_memory_limit";
    public static bool Complete(string status) => status is Ok or Reused;
}

/// <summary>A learner's best configuration for one label (in one subset when configurations are shared), chosen and
/// thresholded on validation data only, with the model fitted on the training rows. <paramref name="Learner"/> is the
/// model's name in reports (e.g. <c>handcrafted/lightgbm</c>); the catalogue's learner is <c>Trial.Learner</c>.</summary>
public sealed record SelectedModel(string Label, string Learner, TrialRecord Trial, double Threshold, FittedModel Fitted)
{
    /// <summary>Set when the configuration was shared across this subset's labels; the model then applies to it alone.</summary>
    public string? Subset { get; init; }
}

public sealed record SweepResult(IReadOnlyList<TrialRecord> Trials, IReadOnlyList<SelectedModel> Selected)
{
    /// <summary>Label models trained for trials on all training rows (not counting reuse, quarter-data rungs or refits).</summary>
    public int LabelFits { get; init; }
}

/// <summary>A sweep that cannot give every learner a model, with the reason and the setting to change.</summary>
public sealed class SweepException(string message) : Exception(message);

/// <summary>A sequence of trials tuned together: trials within it run one after another, streams run in parallel.</summary>
public sealed record SweepStream(string Name, string FeatureSet, string? Subset, IReadOnlyList<string> Labels, IReadOnlyList<LearnerBudget> Learners, int Trials);

/// <param name="Ended">The stream has stopped: all its trials run, or a budget or the learners' caps ended it early.</param>
public sealed record StreamStatus(SweepStream Stream, int Done, string? LastModel, double LastScore, double BestScore, string? BestModel, bool Ended = false)
{
    /// <summary>The trials this stream will have run: its plan while it runs, what it ran once it has ended.</summary>
    public int Planned => Ended ? Done : Stream.Trials;
}

/// <summary>A snapshot for live progress: every stream's trials so far and its best validation score. Its
/// <see cref="Done"/> and <see cref="Planned"/> are the sweep stage's progress, so a live table and a progress bar agree.</summary>
public sealed record SweepStatus(IReadOnlyList<StreamStatus> Streams, TimeSpan Elapsed)
{
    public int Done => Streams.Sum(s => s.Done);
    public int Planned => Streams.Sum(s => s.Planned);
    public bool Ended => Streams.All(s => s.Ended);
}

/// <summary>
/// The sweep: for every feature set and label (or label subset, when configurations are shared), a stream of trials
/// in which a learner selector (FLAML's estimated cost for improvement) picks a learner and that learner's tuner
/// proposes its next configuration. Each label gets one-vs-rest models. Everything a stream does follows from the
/// run's seed and the results before it, so the same definition gives the same trials, and a trial log replayed into
/// the tuners resumes a run exactly where it stopped. Streams run in parallel with one thread per trial.
/// The engine is given training and validation rows only: it selects, fits and thresholds models, and test rows are
/// scored later from the saved models, so no choice made here can depend on them.
/// </summary>
public sealed record SweepEngine
{
    public required IReadOnlyList<(string Name, FeatureTable Table)> FeatureSets { get; init; }
    public required PatientSplit Split { get; init; }
    public required IReadOnlyList<LabelSubset> Subsets { get; init; }
    /// <summary>The learners to tune; the prior baseline is added by the engine, once per label.</summary>
    public required IReadOnlyList<LearnerBudget> Learners { get; init; }
    public required int Seed { get; init; }
    public SweepSettings Settings { get; init; } = new();
    public int MaxThreads { get; init; } = Environment.ProcessorCount;
    /// <summary>Trials already logged by an interrupted run of the same definition; they are replayed, not retrained.</summary>
    public IReadOnlyList<TrialRecord> Replay { get; init; } = [];
    /// <summary>Run these streams only (by name), as one cluster task does; null runs them all.</summary>
    public IReadOnlySet<string>? OnlyStreams { get; init; }

    sealed record SetData(FeatureTable Table, float[][] Rows);

    /// <summary>One label's fit: its metrics, decisions at the validation-F1 threshold, and (when kept) the fitted model.</summary>
    sealed record LabelFit(LabelResult Result, double Threshold, bool[] ValidationDecisions, double Work, FittedModel? Model);

    bool NameBySet => FeatureSets.Count > 1;
    int _labelFits;

    string ModelName(string featureSet, string learner) => NameBySet && learner != BinaryLearnerCatalog.Prior ? $"{featureSet}/{learner}" : learner;

    /// <summary>Every stream, in the order they start: each feature set's labels (or subsets), then the prior per label.</summary>
    public IReadOnlyList<SweepStream> Streams() => PlanStreams([.. FeatureSets.Select(s => s.Name)], Subsets, Learners, Settings);

    /// <summary>The streams a sweep of these feature sets, subsets and learners runs, known before any feature is read
    /// (a cluster executor makes one task of each).</summary>
    public static IReadOnlyList<SweepStream> PlanStreams(IReadOnlyList<string> featureSets, IReadOnlyList<LabelSubset> subsets,
        IReadOnlyList<LearnerBudget> learners, SweepSettings settings)
    {
        var perSubset = settings.Sharing == ConfigurationSharing.PerSubset;
        var groups = perSubset ? subsets : [.. subsets.SelectMany(s => s.Labels).Distinct(StringComparer.Ordinal).Select(l => new LabelSubset(l, [l]))];
        var tuned = learners.Where(l => l.Learner != BinaryLearnerCatalog.Prior).ToArray();
        var streams = new List<SweepStream>();
        // Learner caps can make the budget unreachable; the plan counts what can actually run.
        var trialsPerStream = (int)Math.Min(settings.Budget.Trials, tuned.Sum(l => (long)l.Trials));
        if (tuned.Length > 0)
            foreach (var set in featureSets)
                foreach (var group in groups)
                    streams.Add(new SweepStream($"{set}|{group.Name}", set, perSubset ? group.Name : null, group.Labels, tuned, trialsPerStream));
        foreach (var label in subsets.SelectMany(s => s.Labels).Distinct(StringComparer.Ordinal))
            streams.Add(new SweepStream($"{BinaryLearnerCatalog.Prior}|{label}", featureSets[0], null, [label], [new LearnerBudget(BinaryLearnerCatalog.Prior, 1)], 1));
        return streams;
    }

    public SweepResult Run(Action<TrialRecord>? onTrialFinished = null, IProgress<StageProgress>? progress = null,
        IProgress<SweepStatus>? status = null, CancellationToken cancellationToken = default)
    {
        _labelFits = 0;
        if (Split.PartOfExam.Contains(SplitPart.Test))
            throw new ArgumentException("the sweep takes training and validation rows only; test rows are scored from the saved models after it");
        foreach (var (name, table) in FeatureSets)
            if (table.RowCount != Split.PartOfExam.Length)
                throw new ArgumentException($"feature set '{name}' has {table.RowCount} rows; the split has {Split.PartOfExam.Length}");
        var sets = FeatureSets.ToDictionary(s => s.Name, s => new SetData(s.Table, [.. Enumerable.Range(0, s.Table.RowCount).Select(i => s.Table.Row(i).ToArray())]));
        var streams = Streams().Where(s => OnlyStreams is null || OnlyStreams.Contains(s.Name)).ToArray();
        var replay = Replay.GroupBy(t => t.Stream).ToDictionary(g => g.Key, g => g.OrderBy(t => t.Trial).ToList());
        var clock = Stopwatch.StartNew();
        var workers = Math.Max(1, MaxThreads / Math.Max(1, Settings.ThreadsPerTrial));
        // A wall-clock budget counts the time already spent by the trials being replayed, spread over the workers.
        var deadline = Settings.Budget.Seconds is { } seconds ? seconds - Replay.Sum(t => t.DurationSeconds) / workers : double.PositiveInfinity;
        var statuses = streams.Select(s => new StreamStatus(s, 0, null, double.NaN, double.NaN, null)).ToArray();
        var gate = new Lock();
        var shared = new ConcurrentDictionary<string, Lazy<LabelFit>>(StringComparer.Ordinal);
        var trials = new List<TrialRecord>();
        var selected = new IReadOnlyList<SelectedModel>[streams.Length];

        void Finished(int streamIndex, TrialRecord record, bool replayed)
        {
            lock (gate)
            {
                if (!replayed) onTrialFinished?.Invoke(record);
                trials.Add(record);
                var previous = statuses[streamIndex];
                var better = TrialStatus.Complete(record.Status) && !(record.ValidationScore <= previous.BestScore);
                statuses[streamIndex] = previous with
                {
                    Done = previous.Done + 1,
                    LastModel = record.Model,
                    LastScore = record.ValidationScore,
                    BestScore = better ? record.ValidationScore : previous.BestScore,
                    BestModel = better ? record.Model : previous.BestModel,
                };
                Report();
            }
        }

        // The stage's progress and the live status come from the same snapshot, so they never disagree.
        void Report()
        {
            var snapshot = new SweepStatus([.. statuses], clock.Elapsed);
            status?.Report(snapshot);
            progress?.Report(new StageProgress("sweep", snapshot.Done, snapshot.Planned));
        }

        ParallelLoop.For(streams.Length, workers, cancellationToken, s =>
        {
            var stream = streams[s];
            var context = new StreamContext(this, sets[stream.FeatureSet], stream, shared, cancellationToken);
            var log = replay.GetValueOrDefault(stream.Name) ?? [];
            selected[s] = context.Run(log, () => clock.Elapsed.TotalSeconds >= deadline, (record, replayed) => Finished(s, record, replayed));
            // A stream that stops early (work or time budget, learner caps) gives back its unused trials.
            lock (gate)
            {
                statuses[s] = statuses[s] with { Ended = true };
                Report();
            }
        });
        var order = streams.Select(x => x.Name).ToList();
        return new SweepResult([.. trials.OrderBy(t => order.IndexOf(t.Stream)).ThenBy(t => t.Trial)], [.. selected.SelectMany(x => x)]) { LabelFits = _labelFits };
    }

    /// <summary>One stream's sequential search; its tuners and selector are seeded from the run seed and its name.</summary>
    sealed class StreamContext(SweepEngine engine, SetData data, SweepStream stream, ConcurrentDictionary<string, Lazy<LabelFit>> shared,
        CancellationToken cancellationToken)
    {
        readonly int[] _train = engine.Split.Indices(SplitPart.Train);
        readonly int[] _validation = engine.Split.Indices(SplitPart.Validation);
        int[]? _quarter;
        readonly ConcurrentDictionary<(string Label, int[] Rows), IDataView> _views = new();
        SweepSettings Settings => engine.Settings;

        public IReadOnlyList<SelectedModel> Run(List<TrialRecord> log, Func<bool> outOfTime, Action<TrialRecord, bool> finished)
        {
            var learners = stream.Learners.ToDictionary(l => l.Learner, l => BinaryLearnerCatalog.Create(l.Learner));
            var tuners = stream.Learners.ToDictionary(l => l.Learner,
                l => TunerCatalog.Create(Settings.Tuner, l.SpaceOf(learners[l.Learner]), engine.Seed + TunerCatalog.StableHash($"{stream.Name}/{l.Learner}")));
            var selector = new LearnerSelector([.. stream.Learners.Select(l => l.Learner)], engine.Seed + TunerCatalog.StableHash(stream.Name));
            var counts = stream.Learners.ToDictionary(l => l.Learner, _ => 0);
            var caps = stream.Learners.ToDictionary(l => l.Learner, l => l.Trials);
            var seen = new Dictionary<string, TrialRecord>(StringComparer.Ordinal);
            var quarterScores = stream.Learners.ToDictionary(l => l.Learner, _ => new List<double>());
            var best = new Dictionary<string, (TrialRecord Record, LabelFit[]? Fits)>(StringComparer.Ordinal);
            var work = 0.0;

            for (var index = 0; index < stream.Trials; index++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var replaying = index < log.Count;
                // Budgets apply once every learner has had its first (cheapest) trial, so each has a model to report.
                if (!replaying && counts.Values.All(c => c > 0) && (work >= (Settings.Budget.Work ?? double.PositiveInfinity) || outOfTime())) break;
                var name = selector.Choose(l => counts[l] < caps[l]);
                if (name is null) break;
                var configuration = tuners[name].Propose();
                TrialRecord record;
                LabelFit[]? fits = null;
                if (replaying)
                {
                    record = log[index];
                    if (record.Learner != name || !record.Parameters.SequenceEqual(configuration))
                        throw new InvalidOperationException(
                            $"the trial log does not match the definition at stream '{stream.Name}', trial {index}: the log has {record.Learner} ({record.Parameters}), " +
                            $"the sweep now proposes {name} ({configuration}); resume only with the definition and program version that started the run");
                }
                else
                {
                    var key = $"{name}|{configuration.Identity}";
                    (record, fits) = seen.TryGetValue(key, out var earlier)
                        ? (earlier with { Trial = index, DurationSeconds = 0, AllocatedMb = 0, Work = 0, Status = TrialStatus.Reused }, null)
                        : Trial(index, learners[name], configuration, quarterScores[name], selectedBefore: counts[name]);
                    seen.TryAdd(key, record);
                }
                finished(record, replaying);
                var loss = 1 - record.ValidationScore;
                tuners[name].Update(configuration, loss, record.Work);
                selector.Update(name, loss, record.Work);
                counts[name]++;
                work += record.Work;
                // The first complete trial is kept even when its score is undefined (a label without validation
                // positives), so every learner still has a model to report; a defined score beats an undefined one.
                if (TrialStatus.Complete(record.Status) && (!best.TryGetValue(name, out var incumbent)
                    || record.ValidationScore > incumbent.Record.ValidationScore
                    || double.IsNaN(incumbent.Record.ValidationScore) && !double.IsNaN(record.ValidationScore)))
                {
                    if (best.TryGetValue(name, out var replaced)) Release(replaced.Fits);
                    best[name] = (record, fits);
                }
                else Release(fits);
            }

            // Every learner's best, per label, with its scores: kept from its trial, or refitted (deterministically,
            // the same seed) when it was replayed from the log or reused from another stream.
            var models = new List<SelectedModel>();
            foreach (var learner in stream.Learners.Select(l => l.Learner).Where(l => !best.ContainsKey(l)))
                throw new SweepException($"stream '{stream.Name}': no trial of {learner} completed ({counts[learner]} tried, " +
                    $"{Settings.Budget.Trials} trials allowed{(Settings.MemoryLimitMb is { } mb ? $", memory limit {mb} MB" : "")}): raise sweep.trials, sweep.work, sweep.seconds or sweep.memory_limit_mb");
            foreach (var learner in stream.Learners.Select(l => l.Learner).Where(best.ContainsKey))
            {
                var (record, fits) = best[learner];
                foreach (var label in stream.Labels)
                {
                    var fit = fits?.FirstOrDefault(f => f.Result.Label == label) is { Model: not null } kept
                        ? kept
                        : FitLabel(learners[learner], record.Parameters, label, _train, keepModel: true);
                    models.Add(new SelectedModel(label, record.Model, record, fit.Threshold, fit.Model!) { Subset = stream.Subset });
                }
            }
            return models;
        }

        /// <summary>
        /// Frees the native boosters of fits that will not be selected, as soon as they are out of the running: the
        /// garbage collector, which sees only their small managed handles, would leave them (their trees, scores
        /// and histograms in native memory) until it next collected the oldest generation. Fits shared between
        /// streams (per-subset configurations) may be another stream's best, so they are left to the collector.
        /// </summary>
        void Release(LabelFit[]? fits)
        {
            if (fits is null || Settings.Sharing != ConfigurationSharing.PerLabel) return;
            foreach (var fit in fits) fit.Model?.Booster?.Dispose();
        }

        (TrialRecord, LabelFit[]?) Trial(int index, IBinaryLearner learner, TrialParameters configuration, List<double> quarterScores, int selectedBefore)
        {
            var clock = Stopwatch.StartNew();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var features = data.Table.FeatureNames.Count;
            TrialRecord Record(LabelFit[] fits, string status, int trainRows) => new()
            {
                Stream = stream.Name,
                Trial = index,
                Learner = learner.Name,
                Model = engine.ModelName(stream.FeatureSet, learner.Name),
                FeatureSet = learner.Name == BinaryLearnerCatalog.Prior ? null : stream.FeatureSet,
                Subset = stream.Subset,
                Labels = stream.Labels,
                Parameters = configuration,
                Seed = engine.Seed,
                Objective = Settings.Objective.ToString().ToLowerInvariant(),
                ValidationScore = fits.Length == 0 ? double.NaN : Score(fits),
                ValidationAuroc = Mean(fits.Select(f => f.Result.ValidationAuroc)),
                ValidationAuprc = Mean(fits.Select(f => f.Result.ValidationAuprc)),
                PerLabel = [.. fits.Select(f => f.Result)],
                DurationSeconds = clock.Elapsed.TotalSeconds,
                Work = fits.Sum(f => f.Work),
                TrainRows = trainRows,
                AllocatedMb = (GC.GetAllocatedBytesForCurrentThread() - allocated) / 1e6,
                PeakRssMb = ProcessMemory.PeakResidentMb(),
                Status = status,
            };

            if (Settings.MemoryLimitMb is { } limit && learner.EstimatedBytes(configuration, _train.Length, features) / 1e6 > limit)
                return (Record([], TrialStatus.OverMemoryLimit, 0), null);

            // Successive halving with one rung: a quarter of the rows first. The learner's first trial (its low-cost
            // corner) always runs in full, so the rung has a reference.
            if (Settings.Halving && learner.Space.Dimensions > 0 && selectedBefore > 0)
            {
                // One array for the stream, so its data view (and LightGBM's binned copy) is made once.
                var quarter = _quarter ??= _train.Where((_, i) => i % 4 == 0).ToArray();
                var partial = stream.Labels.Select(label => FitLabel(learner, configuration, label, quarter, keepModel: false)).ToArray();
                var partialScore = Score(partial);
                var ranked = quarterScores.Append(partialScore).OrderByDescending(v => v).ToList();
                quarterScores.Add(partialScore);
                if (quarterScores.Count >= 3 && ranked.IndexOf(partialScore) >= Math.Ceiling(ranked.Count / 3.0))
                    return (Record(partial, TrialStatus.Pruned, quarter.Length), null);
            }

            var fits = stream.Labels.Select(label => Shared(learner, configuration, label)).ToArray();
            return (Record(fits, TrialStatus.Ok, _train.Length), fits);
        }

        /// <summary>A label's fit on the full training rows. When subsets share configurations, a label in several
        /// subsets is trained once per configuration: the first stream to need it trains it, the others wait for it.</summary>
        LabelFit Shared(IBinaryLearner learner, TrialParameters configuration, string label)
        {
            LabelFit Train()
            {
                Interlocked.Increment(ref engine._labelFits);
                return FitLabel(learner, configuration, label, _train, keepModel: true);
            }
            if (Settings.Sharing != ConfigurationSharing.PerSubset) return Train();
            var key = $"{stream.FeatureSet}|{label}|{learner.Name}|{configuration.Identity}";
            var mine = new Lazy<LabelFit>(Train);
            var fit = shared.GetOrAdd(key, mine).Value;
            // Whichever stream trains it, every stream counts the same work, so budgets and choices stay deterministic;
            // the cache then keeps the metrics only, and a stream whose best was trained elsewhere refits it at the end.
            if (ReferenceEquals(shared[key], mine)) shared[key] = new Lazy<LabelFit>(fit with { Model = null });
            return fit;
        }

        /// <summary>One data view per label and row set for the whole stream, not per trial: learners that prepare
        /// data per view (LightGBM's binned dataset) then prepare it once.</summary>
        IDataView View(string label, int[] indices) => _views.GetOrAdd((label, indices), key => LabelledFeatureRows.Load(new MLContext(engine.Seed),
            key.Rows.Select(i => (data.Rows[i], data.Table.Labels[i].Contains(key.Label))), data.Table.FeatureNames.Count));

        LabelFit FitLabel(IBinaryLearner learner, TrialParameters configuration, string label, int[] trainRows, bool keepModel)
        {
            var ml = new MLContext(engine.Seed);
            var settings = new TrainingSettings
            {
                Seed = engine.Seed, Threads = Settings.ThreadsPerTrial, EarlyStoppingRounds = Settings.EarlyStoppingRounds, Cancellation = cancellationToken,
            };
            var fitted = Cancellable.Run(ml, () => learner.Fit(ml, configuration, settings, View(label, trainRows), View(label, _validation), trainRows.Length,
                data.Table.FeatureNames.Count), cancellationToken);
            float[] Score(int[] indices) => fitted.ScoreRows is { } direct
                ? direct([.. indices.Select(i => data.Rows[i])])
                : fitted.Model.Transform(View(label, indices)).GetColumn<float>("Probability").ToArray();
            var validationScores = Score(_validation);
            // A model not kept (a quarter-data rung) is scored and done with.
            if (!keepModel) fitted.Booster?.Dispose();
            var truth = _validation.Select(i => data.Table.Labels[i].Contains(label)).ToArray();
            var (result, threshold) = LabelResult.FromValidation(label, validationScores, truth, trainRows.Count(i => data.Table.Labels[i].Contains(label)));
            return new LabelFit(result, threshold, [.. validationScores.Select(s => s >= threshold)], fitted.WorkUnits, keepModel ? fitted : null);
        }

        double Score(IReadOnlyList<LabelFit> fits) => Settings.Objective switch
        {
            SweepObjective.Auroc => Mean(fits.Select(f => f.Result.ValidationAuroc)),
            SweepObjective.Auprc => Mean(fits.Select(f => f.Result.ValidationAuprc)),
            SweepObjective.F1 => Mean(fits.Select(f => f.Result.ValidationF1)),
            SweepObjective.Challenge => ChallengeScore.Normalised(
                [.. _validation.Select(i => stream.Labels.Select(l => data.Table.Labels[i].Contains(l)).ToArray())],
                [.. Enumerable.Range(0, _validation.Length).Select(r => fits.Select(f => f.ValidationDecisions[r]).ToArray())]),
            _ => throw new ArgumentOutOfRangeException(nameof(Settings.Objective)),
        };
    }

    /// <summary>The mean over labels whose metric is defined (a label without validation positives has no AUROC).</summary>
    static double Mean(IEnumerable<double> values)
    {
        var defined = values.Where(v => !double.IsNaN(v)).ToArray();
        return defined.Length == 0 ? double.NaN : defined.Average();
    }
}
