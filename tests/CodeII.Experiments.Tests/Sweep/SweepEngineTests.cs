using System.Diagnostics;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Sweep;
using CodeII.Experiments.Sweep.Tuning;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Tests.Sweep;

public class SweepEngineTests
{
    static readonly Lazy<FeatureTable> Table = new(() =>
        FeatureTableBuilder.Extract(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 500, Seed = 33 }), new HandcraftedFeatureExtractor(), 2));

    static SweepEngine Engine(SweepSettings? settings = null, IReadOnlyList<LabelSubset>? subsets = null, int threads = 2,
        IReadOnlyList<LearnerBudget>? learners = null)
    {
        var table = Table.Value;
        var (rows, split) = PatientSplit.IterativeStratified(table.PatientIds, table.Labels, 0.6, 0.2, seed: 3).WithoutTest();
        return new SweepEngine
        {
            FeatureSets = [("handcrafted", table.Take(rows))],
            Split = split,
            Subsets = subsets ?? [new LabelSubset("code", ["1dAVb", "SB", "AF"])],
            Learners = learners ?? [new LearnerBudget(BinaryLearnerCatalog.LightGbm), new LearnerBudget(BinaryLearnerCatalog.LogisticRegression, 2)],
            Seed = 11,
            Settings = settings ?? new SweepSettings { Budget = new SweepBudget { Trials = 6 } },
            MaxThreads = threads,
        };
    }

    /// <summary>What must repeat: everything but the clock and memory readings.</summary>
    static object Fingerprint(TrialRecord t) =>
        (t.Stream, t.Trial, t.Learner, string.Join(";", t.Parameters.Select(p => $"{p.Key}={p.Value:R}")), t.ValidationScore, t.Work, t.Status);

    static void AssertSameResult(SweepResult expected, SweepResult actual)
    {
        Assert.Equal(expected.Trials.Select(Fingerprint), actual.Trials.Select(Fingerprint));
        Assert.Equal(expected.Selected.Count, actual.Selected.Count);
        foreach (var (e, a) in expected.Selected.Zip(actual.Selected))
        {
            Assert.Equal((e.Label, e.Learner, e.Trial.Trial, e.Threshold), (a.Label, a.Learner, a.Trial.Trial, a.Threshold));
            Assert.Equal(Scores(e), Scores(a));
        }
    }

    /// <summary>A selected model's probabilities for the first 100 exams of the table.</summary>
    static float[] Scores(SelectedModel model)
    {
        var table = Table.Value;
        var rows = Enumerable.Range(0, 100).Select(i => table.Row(i).ToArray()).ToArray();
        if (model.Fitted.ScoreRows is { } direct) return direct(rows);
        var ml = new MLContext(seed: 1);
        var view = LabelledViews.Create(ml, rows.Select(r => (r, false)), table.FeatureNames.Count);
        return [.. model.Fitted.Model.Transform(view).GetColumn<float>("Probability")];
    }

    [Fact]
    public void The_engine_refuses_test_rows_so_test_exams_never_reach_a_sweep()
    {
        var table = Table.Value;
        var withTest = Engine() with { FeatureSets = [("handcrafted", table)], Split = PatientSplit.IterativeStratified(table.PatientIds, table.Labels, 0.6, 0.2, seed: 3) };
        var error = Assert.Throws<ArgumentException>(() => withTest.Run());
        Assert.Contains("training and validation rows only", error.Message);
    }

    [Fact]
    public void The_same_seed_gives_identical_trials_and_models_with_one_worker_or_two()
    {
        var twoWorkers = Engine(threads: 2).Run();
        var oneWorker = Engine(threads: 1).Run();
        AssertSameResult(twoWorkers, oneWorker);
        // 3 labels × 6 tuned trials + 3 priors; every stream starts LightGBM at its cheapest corner, 4 trees of 4 leaves.
        Assert.Equal(3 * 6 + 3, twoWorkers.Trials.Count);
        var firstLightGbm = twoWorkers.Trials.Where(t => t.Trial == 0 && t.Learner == "lightgbm").ToArray();
        Assert.Equal(3, firstLightGbm.Length);
        Assert.All(firstLightGbm, t => Assert.Equal((4.0, 4.0), (t.Parameters["iterations"], t.Parameters["leaves"])));
        var logisticByStream = twoWorkers.Trials.Where(t => t.Learner == "logistic_regression").GroupBy(t => t.Stream).ToArray();
        Assert.Equal(3, logisticByStream.Length);
        Assert.All(logisticByStream, g => Assert.InRange(g.Count(), 1, 2));
        // Each label has a model per learner, chosen as its best validation trial.
        foreach (var model in twoWorkers.Selected.Where(m => m.Learner != "prior"))
            Assert.Equal(twoWorkers.Trials.Where(t => t.Stream == model.Trial.Stream && t.Learner == model.Learner).Max(t => t.ValidationScore), model.Trial.ValidationScore);
        Assert.True(twoWorkers.Selected.Where(m => m.Learner == "lightgbm").All(m => m.Trial.ValidationAuroc > 0.9));
    }

    [Fact]
    public void A_sweep_interrupted_and_resumed_from_its_log_equals_an_uninterrupted_one()
    {
        var uninterrupted = Engine().Run();

        var logged = new List<TrialRecord>();
        using var cancellation = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => Engine().Run(trial =>
        {
            logged.Add(trial);
            if (logged.Count == 8) cancellation.Cancel();
        }, cancellationToken: cancellation.Token));
        Assert.InRange(logged.Count, 8, 10); // the other worker may finish the trial it had started
        Assert.True(Cancellable.WaitForAbandonedFits(TimeSpan.FromSeconds(60)));

        var appended = new List<TrialRecord>();
        var resumed = (Engine() with { Replay = logged }).Run(appended.Add);
        AssertSameResult(uninterrupted, resumed);
        // Only the missing trials were trained and logged again.
        Assert.Equal(uninterrupted.Trials.Count - logged.Count, appended.Count);
        Assert.Empty(appended.Select(Fingerprint).Intersect(logged.Select(Fingerprint)));
    }

    /// <summary>Keeps reports in the order they were made (the engine makes them one at a time).</summary>
    sealed class Recorder<T> : IProgress<T>
    {
        public List<T> Reports { get; } = [];
        public void Report(T value) { lock (Reports) Reports.Add(value); }
    }

    [Fact]
    public void The_sweep_stage_s_progress_and_the_live_status_count_the_same_trials_when_a_budget_ends_streams_early()
    {
        var progress = new Recorder<StageProgress>();
        var statuses = new Recorder<SweepStatus>();
        var result = Engine(new SweepSettings { Budget = new SweepBudget { Trials = 50, Work = 60 } }).Run(progress: progress, status: statuses);
        var planned = Engine().Streams().Count;
        Assert.NotEmpty(statuses.Reports);
        Assert.Equal(statuses.Reports.Count, progress.Reports.Count);
        // Each progress report is its status's counts, and the counts of each stream never run past its plan.
        Assert.All(statuses.Reports.Zip(progress.Reports), pair =>
        {
            Assert.Equal((pair.First.Done, pair.First.Planned), (pair.Second.Done, pair.Second.Total));
            Assert.All(pair.First.Streams, s => Assert.InRange(s.Done, 0, s.Planned));
        });
        // The work budget stopped streams well before their 50 trials, and the plan shrank to what ran.
        Assert.True(statuses.Reports[0].Planned > statuses.Reports[^1].Planned);
        Assert.True(statuses.Reports[^1].Ended);
        Assert.Equal((result.Trials.Count, result.Trials.Count), (statuses.Reports[^1].Done, statuses.Reports[^1].Planned));
        Assert.Equal(planned, statuses.Reports[^1].Streams.Count);
    }

    [Fact]
    public void A_log_that_does_not_match_the_definition_is_refused_with_the_stream_and_trial()
    {
        var logged = Engine().Run().Trials;
        var tampered = logged.Select(t => t.Stream == "handcrafted|SB" && t.Trial == 1
            ? t with { Parameters = new TrialParameters(t.Parameters) { [t.Parameters.Keys.First()] = t.Parameters.Values.First() * 1.0001 } }
            : t).ToArray();
        var error = Assert.Throws<InvalidOperationException>(() => (Engine() with { Replay = tampered }).Run());
        Assert.Contains("stream 'handcrafted|SB', trial 1", error.Message);
    }

    [Fact]
    public void A_work_budget_stops_every_stream_at_the_same_trial_on_every_run()
    {
        var settings = new SweepSettings { Budget = new SweepBudget { Trials = 50, Work = 60 } };
        var first = Engine(settings).Run();
        var second = Engine(settings, threads: 1).Run();
        AssertSameResult(first, second);
        foreach (var stream in first.Trials.Where(t => t.Learner != "prior").GroupBy(t => t.Stream))
        {
            var work = stream.OrderBy(t => t.Trial).Select(t => t.Work).ToArray();
            // The budget is checked before each trial: everything but the last trial fits under it.
            Assert.True(work.SkipLast(1).Sum() < 60, $"{stream.Key}: {work.SkipLast(1).Sum()}");
            Assert.True(work.Sum() >= 60 || stream.Count() == 50, $"{stream.Key} stopped early at {work.Sum()}");
        }
    }

    [Fact]
    public void Labels_shared_by_subsets_are_trained_once_per_configuration()
    {
        // The grid proposes the same configurations in every stream, so both subsets' streams propose SB's alike.
        var subsets = new[] { new LabelSubset("a", ["SB", "ST"]), new LabelSubset("b", ["SB", "AF"]) };
        var settings = new SweepSettings { Tuner = "grid", Sharing = ConfigurationSharing.PerSubset, Budget = new SweepBudget { Trials = 3 } };
        var result = Engine(settings, subsets, learners: [new LearnerBudget(BinaryLearnerCatalog.LightGbm)]).Run();
        var tuned = result.Trials.Where(t => t.Learner == "lightgbm").ToArray();
        Assert.Equal(2 * 3, tuned.Length);
        Assert.Equal(2 * 3 * 2, tuned.Sum(t => t.Labels.Count));
        // SB, ST and AF once for each of the 3 configurations, and the prior once per label.
        Assert.Equal(3 * 3 + 3, result.LabelFits);
        // Both subsets saw the same SB results; each subset has its own model per label.
        Assert.Equal(tuned.Where(t => t.Subset == "a").Select(t => t.For("SB").ValidationAuroc), tuned.Where(t => t.Subset == "b").Select(t => t.For("SB").ValidationAuroc));
        Assert.Equal(2, result.Selected.Count(m => m.Label == "SB" && m.Learner == "lightgbm"));
        Assert.Equal(["a", "b"], result.Selected.Where(m => m.Label == "SB" && m.Learner == "lightgbm").Select(m => m.Subset!).Order());
    }

    [Theory]
    [InlineData(SweepObjective.Auprc)]
    [InlineData(SweepObjective.F1)]
    [InlineData(SweepObjective.Challenge)]
    public void Each_objective_scores_a_trial_from_its_validation_results(SweepObjective objective)
    {
        var settings = new SweepSettings { Objective = objective, Sharing = ConfigurationSharing.PerSubset, Budget = new SweepBudget { Trials = 3 } };
        var trials = Engine(settings).Run().Trials.Where(t => t.Learner != "prior").ToArray();
        Assert.NotEmpty(trials);
        // The Challenge score is normalised so that the true classes score 1 and "sinus rhythm only" scores 0; a model
        // that flags many exams wrongly scores below 0 (a heavily regularised trial whose 1dAVb scores are all tied
        // flags every exam), so only its upper bound holds for every trial.
        Assert.All(trials, t => Assert.InRange(t.ValidationScore, objective == SweepObjective.Challenge ? double.NegativeInfinity : 0, 1));
        if (objective == SweepObjective.Auprc) Assert.All(trials, t => Assert.Equal(t.PerLabel.Average(l => l.ValidationAuprc), t.ValidationScore, 12));
        if (objective == SweepObjective.F1) Assert.All(trials, t => Assert.Equal(t.PerLabel.Average(l => l.ValidationF1), t.ValidationScore, 12));
        Assert.All(trials, t => Assert.Equal(objective.ToString().ToLowerInvariant(), t.Objective));
    }

    [Fact]
    public void The_memory_guard_skips_trials_it_estimates_too_large_and_says_which_setting_to_raise()
    {
        var settings = new SweepSettings { MemoryLimitMb = 0.001, Budget = new SweepBudget { Trials = 3 } };
        var error = Assert.Throws<SweepException>(() => Engine(settings, threads: 1).Run());
        Assert.Contains("memory limit", error.Message);
        Assert.Contains("sweep.memory_limit_mb", error.Message);

        var logged = new List<TrialRecord>();
        // 20 MB holds the low-cost corner's histograms (4 leaves × 159 features × 255 bins), not those of hundreds of leaves.
        var roomy = new SweepSettings { Tuner = "random", MemoryLimitMb = 20, Budget = new SweepBudget { Trials = 8 } };
        Engine(roomy, learners: [new LearnerBudget(BinaryLearnerCatalog.LightGbm) { Ranges = new Dictionary<string, OptionRange> { ["leaves"] = new(4, 4096) } }]).Run(logged.Add);
        var skipped = logged.Where(t => t.Status == TrialStatus.OverMemoryLimit).ToArray();
        Assert.NotEmpty(skipped);
        Assert.All(skipped, t => Assert.True(double.IsNaN(t.ValidationScore) && t.Work == 0 && t.Parameters["leaves"] > 20));
        var fitted = logged.Where(t => t.Status == TrialStatus.Ok && t.Learner == "lightgbm").ToArray();
        Assert.NotEmpty(fitted);
        Assert.All(fitted, t => Assert.True(t.Parameters["leaves"] <= 21));
        Assert.All(logged, t => Assert.True(t.PeakRssMb > 0));
    }

    [Fact]
    public void Successive_halving_prunes_weak_trials_after_a_quarter_of_the_rows_and_repeats_exactly()
    {
        var settings = new SweepSettings { Halving = true, Tuner = "random", Budget = new SweepBudget { Trials = 10 } };
        var learners = new[] { new LearnerBudget(BinaryLearnerCatalog.LightGbm) };
        var first = Engine(settings, learners: learners).Run();
        AssertSameResult(first, Engine(settings, learners: learners, threads: 1).Run());
        var pruned = first.Trials.Where(t => t.Status == TrialStatus.Pruned).ToArray();
        Assert.NotEmpty(pruned);
        var full = first.Trials.First(t => t.Learner == "lightgbm").TrainRows;
        Assert.All(pruned, t => Assert.Equal((full + 3) / 4, t.TrainRows));
        // A pruned trial is never a selected model.
        Assert.DoesNotContain(first.Selected, m => m.Trial.Status == TrialStatus.Pruned);
    }

    [Fact]
    public void Cancelling_returns_within_seconds_even_inside_a_long_LightGBM_fit()
    {
        var table = Table.Value;
        // Eight copies of the exams with random labels and no validation watched: boosting cannot stop early, and
        // 100,000 rounds of 64 leaves would take many minutes.
        var rows = Enumerable.Range(0, 8 * table.RowCount).Select(i => i % table.RowCount).ToArray();
        var ml = new MLContext(1);
        var random = new Random(1);
        var data = LabelledViews.Create(ml, rows.Select(i => (table.Row(i).ToArray(), random.Next(2) == 0)), table.FeatureNames.Count);
        var learner = BinaryLearnerCatalog.Create("lightgbm");
        var configuration = new TrialParameters(learner.Default) { ["iterations"] = 100_000, ["leaves"] = 64, ["min_examples_per_leaf"] = 2 };
        using var cancellation = new CancellationTokenSource();
        // Cancelled from a thread of its own, as Ctrl-C is, rather than by a timer: a timer's callback waits for the
        // thread pool, which other tests running in parallel can keep busy for seconds.
        var cancelledAt = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var canceller = new Thread(() => { Thread.Sleep(500); cancelledAt = clock.Elapsed; cancellation.Cancel(); });
        canceller.Start();
        Assert.ThrowsAny<OperationCanceledException>(() => Cancellable.Run(ml,
            () => learner.Fit(ml, configuration, new TrainingSettings { Seed = 1, Cancellation = cancellation.Token }, data, data, rows.Length,
                table.FeatureNames.Count), cancellation.Token));
        var returnedAt = clock.Elapsed;
        canceller.Join();
        // Uncancelled, the fit runs for many minutes; the limits are far above a tree's time on a loaded machine and far
        // below the fit's, so they test that cancellation works, not how fast.
        Assert.InRange((returnedAt - cancelledAt).TotalSeconds, 0, 30);
        // LightGBM checks the token after every tree, so the fit itself ends too, not only the wait for it.
        Assert.True(Cancellable.WaitForAbandonedFits(TimeSpan.FromSeconds(30)), "the cancelled LightGBM fit was still running 30 s after the call returned");
    }

}

public class LearnerSelectorTests
{
    [Fact]
    public void Every_learner_is_tried_once_then_cheap_improvement_is_chosen_far_more_often_than_costly_stagnation()
    {
        var selector = new LearnerSelector(["cheap", "costly"], seed: 4);
        var chosen = new List<string>();
        var cheapLoss = 0.5;
        for (var i = 0; i < 60; i++)
        {
            var learner = selector.Choose(_ => true)!;
            chosen.Add(learner);
            // "cheap" keeps improving at 1 unit per trial; "costly" costs 50 units and never beats its first result.
            if (learner == "cheap") selector.Update("cheap", cheapLoss *= 0.97, 1);
            else selector.Update("costly", 0.45, 50);
        }
        Assert.Equal(["cheap", "costly"], chosen.Take(2).Order());
        Assert.True(chosen.Count(c => c == "costly") <= 6, $"costly chosen {chosen.Count(c => c == "costly")} times");
        Assert.True(selector.EstimatedCostForImprovement("costly") > 10 * selector.EstimatedCostForImprovement("cheap"));
        Assert.Null(selector.Choose(_ => false));
    }

    [Fact]
    public void The_same_seed_and_results_give_the_same_choices()
    {
        IEnumerable<string> Run()
        {
            var selector = new LearnerSelector(["a", "b", "c"], seed: 9);
            for (var i = 0; i < 30; i++)
            {
                var l = selector.Choose(_ => true)!;
                selector.Update(l, 1.0 / (i + 2) + l[0] * 0.001, l[0] - 'a' + 1);
                yield return l;
            }
        }
        Assert.Equal(Run().ToArray(), Run().ToArray());
    }
}

public class ChallengeScoreTests
{
    [Fact]
    public void Perfect_predictions_score_one_predicting_nothing_scores_zero_and_a_partial_answer_scores_by_hand()
    {
        bool[][] truth = [[true, false], [true, true], [false, false], [false, true]];
        Assert.Equal(1, ChallengeScore.Normalised(truth, truth), 12);
        bool[][] nothing = [[false, false], [false, false], [false, false], [false, false]];
        Assert.Equal(0, ChallengeScore.Normalised(truth, nothing), 12);
        // By hand, identity weights: correct = 1 per exam = 4; inactive = 0 + 0 + 1 (the "none" exam) + 0 = 1.
        // Predicting {A} for every exam: exam 1 earns 1; exam 2 (truth {A,B}, union {A,B}) earns 1/2; exam 3 (truth none,
        // union {none, A}) earns 0; exam 4 (truth {B}, union {A,B}) earns 0: observed 1.5 → (1.5 − 1) / (4 − 1) = 1/6.
        bool[][] alwaysA = [[true, false], [true, false], [true, false], [true, false]];
        Assert.Equal(1.0 / 6, ChallengeScore.Normalised(truth, alwaysA), 12);
    }
}
