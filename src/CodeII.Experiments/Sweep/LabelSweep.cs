using System.Diagnostics;
using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Sweep;

/// <summary>How many configurations of a learner to try for each label.</summary>
public sealed record LearnerBudget(string Learner, int Trials);

/// <summary>One trained-and-validated configuration, as written to the append-only trial log.</summary>
public sealed record TrialRecord
{
    public required int Trial { get; init; }
    public required string Label { get; init; }
    public required string Learner { get; init; }
    public required TrialParameters Parameters { get; init; }
    public required int Seed { get; init; }
    public required double ValidationAuroc { get; init; }
    public required double ValidationAuprc { get; init; }
    public required double DurationSeconds { get; init; }
    public required int TrainRows { get; init; }
    public required int TrainPositives { get; init; }
    /// <summary>The feature set the trial was trained on (null for the prior, which reads none).</summary>
    public string? FeatureSet { get; init; }
}

/// <summary>A learner's best configuration for one label, chosen and thresholded on validation data only.</summary>
public sealed record SelectedModel(string Label, string Learner, TrialRecord Trial, double Threshold, float[] TestScores);

public sealed record SweepResult(IReadOnlyList<TrialRecord> Trials, IReadOnlyList<SelectedModel> Selected);

/// <summary>
/// Trains one-vs-rest models for each label with each learner's configurations, in parallel, one thread per trial.
/// Each label is swept once even when several label subsets contain it.
/// </summary>
public sealed record LabelSweep
{
    public required FeatureTable Features { get; init; }
    public required PatientSplit Split { get; init; }
    public required IReadOnlyList<string> Labels { get; init; }
    public required IReadOnlyList<LearnerBudget> Learners { get; init; }
    public required int Seed { get; init; }
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    sealed class ExampleRow
    {
        public bool Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    /// <summary>Number given to this sweep's first trial (and added to its seeds), so several sweeps in one run log
    /// distinct trials.</summary>
    public int FirstTrial { get; init; }

    /// <summary>Every trial this sweep will run, in order: the same for the same seed.</summary>
    public IReadOnlyList<(string Label, IBinaryLearner Learner, TrialParameters Parameters)> Plan()
    {
        var proposalRng = new Random(Seed);
        var plan = new List<(string Label, IBinaryLearner Learner, TrialParameters Parameters)>();
        foreach (var budget in Learners)
        {
            var learner = BinaryLearnerCatalog.Create(budget.Learner);
            // The same configurations for every label, so per-label results differ only by the data.
            var configurations = learner.ProposeConfigurations(budget.Trials, proposalRng);
            foreach (var label in Labels)
                foreach (var configuration in configurations) plan.Add((label, learner, configuration));
        }
        return plan;
    }

    public SweepResult Run(Action<TrialRecord>? onTrialFinished = null, IProgress<StageProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var train = Split.Indices(SplitPart.Train);
        var validation = Split.Indices(SplitPart.Validation);
        var test = Split.Indices(SplitPart.Test);
        var rows = Enumerable.Range(0, Features.RowCount).Select(i => Features.Row(i).ToArray()).ToArray();
        var schema = SchemaDefinition.Create(typeof(ExampleRow));
        schema[nameof(ExampleRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Features.FeatureNames.Count);

        var plan = Plan();
        var validationTruth = Labels.ToDictionary(l => l, l => validation.Select(i => Features.Labels[i].Contains(l)).ToArray());
        var results = new (TrialRecord Record, float[] ValidationScores, float[] TestScores)[plan.Count];
        var done = 0;
        var logLock = new object();
        ParallelLoop.For(plan.Count, MaxDegreeOfParallelism, cancellationToken, t =>
            {
                var (label, learner, parameters) = plan[t];
                var trialSeed = Seed + FirstTrial + t;
                var ml = new MLContext(trialSeed);
                IDataView View(int[] indices) => ml.Data.LoadFromEnumerable(
                    indices.Select(i => new ExampleRow { Label = Features.Labels[i].Contains(label), Features = rows[i] }), schema);
                var truthValidation = validationTruth[label];

                var clock = Stopwatch.StartNew();
                var model = learner.BuildPipeline(ml, parameters, trialSeed).Fit(View(train));
                float[] Score(int[] indices) => model.Transform(View(indices)).GetColumn<float>("Probability").ToArray();
                var validationScores = Score(validation);
                var testScores = Score(test);
                var record = new TrialRecord
                {
                    Trial = FirstTrial + t,
                    Label = label,
                    Learner = learner.Name,
                    Parameters = parameters,
                    Seed = trialSeed,
                    ValidationAuroc = BinaryMetrics.Auroc(validationScores, truthValidation),
                    ValidationAuprc = BinaryMetrics.AveragePrecision(validationScores, truthValidation),
                    DurationSeconds = clock.Elapsed.TotalSeconds,
                    TrainRows = train.Length,
                    TrainPositives = train.Count(i => Features.Labels[i].Contains(label)),
                };
                results[t] = (record, validationScores, testScores);
                lock (logLock) onTrialFinished?.Invoke(record);
                progress?.Report(new StageProgress("sweep", Interlocked.Increment(ref done), plan.Count));
            });

        var selected = new List<SelectedModel>();
        foreach (var label in Labels)
        {
            var truthValidation = validationTruth[label];
            foreach (var budget in Learners)
            {
                var best = results.Where(r => r.Record.Label == label && r.Record.Learner == budget.Learner)
                    .OrderByDescending(r => double.IsNaN(r.Record.ValidationAuroc) ? double.NegativeInfinity : r.Record.ValidationAuroc)
                    .ThenBy(r => r.Record.Trial).First();
                var threshold = BinaryMetrics.BestF1Threshold(best.ValidationScores, truthValidation);
                selected.Add(new SelectedModel(label, budget.Learner, best.Record, threshold, best.TestScores));
            }
        }
        return new SweepResult(results.Select(r => r.Record).ToArray(), selected);
    }
}
