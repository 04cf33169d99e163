using CodeII.Experiments.Data;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Models;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Sweep;
using Microsoft.ML;

namespace CodeII.Experiments.Experiments;

/// <summary>
/// Feature importance of every saved model that reads features, on the validation exams only:
/// <c>importance.json</c> (<see cref="FeatureImportance"/>). Each model is loaded back from its bundle and scores
/// the exams with one feature shuffled at a time, and with each group of near-duplicate features shuffled as one
/// (<see cref="PermutationImportance"/>, <see cref="CorrelatedFeatures"/>); LightGBM bundles also give their gain
/// importance and mean |TreeSHAP| per feature. Models that read no features (<c>prior</c>, <c>resnet</c>,
/// <c>zero_shot</c>) have none.
/// </summary>
/// <remarks>
/// The cost is a score of every exam per shuffled column and repeat, and it is bounded. At most <see cref="MaxExams"/>
/// validation exams are used (a seeded sample beyond that). Features no LightGBM split tests are not shuffled: no
/// prediction can depend on them. A feature whose first shuffle changes no score is not shuffled again. And a model
/// may spend at most <see cref="MaxWork"/>: on a set too wide for that (the full network's 5,120 learned features
/// on thousands of validation exams), only the features with the strongest validation AUROC on their own are
/// shuffled, and the rest have no value (NaN) and are counted in <see cref="ModelImportance.Unshuffled"/>. The
/// quickstart's sets (up to 287 features, 480 exams) are shuffled in full, about 20 s on two cores, nearly all of it
/// in the logistic regressions' ML.NET scoring. Models are spread over the run's threads, one model per thread, so
/// each booster or ML.NET model is used by one thread at a time; the values do not depend on the number of threads.
/// </remarks>
public sealed class ImportanceStage : IRunStage
{
    /// <summary>Enough exams for a validation AUROC to within about ±0.01, however large the split.</summary>
    public const int MaxExams = 10_000;

    /// <summary>
    /// The work a model may spend scoring shuffled exams (exams × repeats × shuffled columns × the cost of a row), in
    /// deterministic units, so the same columns are shuffled on any machine: a row costs an ML.NET pipeline one visit per
    /// feature (imputation, standardisation and the learner each touch every feature) and LightGBM one per tree. About
    /// 40 s of a linear model's scoring on one core.
    /// </summary>
    public const double MaxWork = 2e9;

    public string Name => "importance";

    public bool IsComplete(RunContext run) => File.Exists(run.Folder.FileIn(RunFolder.ImportanceFile));

    public void Run(RunContext run)
    {
        var validation = run.Split!.Indices(SplitPart.Validation);
        var exams = Sample(validation, MaxExams, run.Definition.Seed);
        var bundles = ModelsStage.Bundles(run.Folder)
            .Select(relative => (Relative: relative, Description: ModelBundle.ReadDescription(run.Folder.FileIn(relative))))
            .Where(b => b.Description.FeatureSet is not null).ToArray();
        // Each feature set's rows and correlated groups once, read (never written) by every model of the set.
        var rowsOf = bundles.Select(b => b.Description.FeatureSet!).Distinct()
            .ToDictionary(set => set, set => exams.Select(i => run.FeatureSet(set).Row(i).ToArray()).ToArray());
        var groupsOf = rowsOf.ToDictionary(p => p.Key, p => CorrelatedFeatures.Groups(p.Value, CorrelatedFeatures.DefaultThreshold));
        var results = new ModelImportance[bundles.Length];
        var done = 0;
        var counting = new Lock();
        run.Report(Name, 0, bundles.Length);
        ParallelLoop.For(bundles.Length, run.Options.MaxThreads, run.Cancellation, k =>
        {
            var d = bundles[k].Description;
            var truth = exams.Select(i => run.Rows.Labels[i].Contains(d.Label)).ToArray();
            results[k] = OfModel(run.Folder.FileIn(bundles[k].Relative), rowsOf[d.FeatureSet!], groupsOf[d.FeatureSet!], truth, run.Definition.Seed,
                MaxWork, run.Cancellation);
            lock (counting) run.Report(Name, ++done, bundles.Length);
        });
        run.Folder.WriteJson(RunFolder.ImportanceFile, new FeatureImportance
        {
            Repeats = PermutationImportance.DefaultRepeats,
            Seed = run.Definition.Seed,
            ValidationExams = exams.Length,
            ValidationExamsInSplit = validation.Length,
            CorrelationThreshold = CorrelatedFeatures.DefaultThreshold,
            Models = results,
        });
    }

    /// <summary>One bundle's importances on the given exams: each feature shuffled alone, and each group of correlated
    /// features shuffled as one, within <paramref name="maxWork"/> (<see cref="MaxWork"/>).</summary>
    public static ModelImportance OfModel(string bundleFolder, IReadOnlyList<float[]> rows, IReadOnlyList<int[]> groups, bool[] truth, int seed,
        double maxWork = MaxWork, CancellationToken cancellationToken = default)
    {
        using var bundle = ModelBundle.Load(bundleFolder);
        var d = bundle.Description;
        var names = d.FeatureNames;
        double[]? splits = null, gain = null, meanAbsShap = null;
        double rowCost = names.Count;
        if (d.ModelFile == ModelBundle.LightGbmModelFile)
        {
            using var booster = LightGbmBinaryModel.Load(new MLContext(seed: 0), File.ReadAllText(Path.Combine(bundleFolder, ModelBundle.LightGbmModelFile)), names.Count);
            splits = booster.SplitCounts();
            gain = booster.GainImportance();
            meanAbsShap = MeanAbsoluteContributions(booster, rows);
            rowCost = Math.Max(1, booster.TreesUsed);
        }
        int[][] columnSets = [.. Enumerable.Range(0, names.Count).Select(j => new[] { j }), .. groups];
        var readable = columnSets.Select(columns => splits is null || columns.Any(j => splits[j] > 0)).ToArray();
        var affordable = (int)Math.Min(int.MaxValue, Math.Floor(maxWork / (PermutationImportance.DefaultRepeats * Math.Max(1, rows.Count) * Math.Max(1, rowCost))));
        var shuffled = WithinBudget(rows, truth, columnSets, readable, affordable);
        var (auroc, drops) = PermutationImportance.Compute(bundle.ScoreFeatures, rows, truth, PermutationImportance.DefaultRepeats, seed, columnSets,
            columns => shuffled.Contains(columns), cancellationToken);
        // Columns left out for the budget have no value; those the trees cannot read have exactly 0.
        AurocDrop Drop(int s) => readable[s] && !shuffled.Contains(columnSets[s]) ? new AurocDrop(double.NaN, double.NaN) : drops[s];
        return new ModelImportance
        {
            Model = d.Model, Label = d.Label, Subset = d.Subset, Learner = d.Learner, FeatureSet = d.FeatureSet!, ValidationAuroc = auroc,
            Unshuffled = readable.Count(r => r) - shuffled.Count,
            Features = [.. names.Select((name, j) => new FeatureScore
            {
                Name = name, AurocDropMean = Drop(j).Mean, AurocDropSd = Drop(j).Sd,
                Splits = splits is null ? null : (int)splits[j], Gain = gain?[j], MeanAbsShap = meanAbsShap?[j],
            })],
            Groups = [.. groups.Select((columns, g) => new GroupScore
            {
                Features = [.. columns.Select(j => names[j])], AurocDropMean = Drop(names.Count + g).Mean, AurocDropSd = Drop(names.Count + g).Sd,
            })],
        };
    }

    /// <summary>The column sets to shuffle: every readable one when they fit the budget, otherwise those whose
    /// features separate the label best on their own (|AUROC − 0.5| of the strongest member), which is a cheap guess at
    /// the ones a model leans on.</summary>
    static HashSet<int[]> WithinBudget(IReadOnlyList<float[]> rows, bool[] truth, int[][] columnSets, bool[] readable, int affordable)
    {
        var candidates = columnSets.Where((_, s) => readable[s]).ToArray();
        if (candidates.Length <= affordable) return [.. candidates];
        var width = rows.Count == 0 ? 0 : rows[0].Length;
        // A missing value ranks below every measured one, as "not measured" is itself a finding.
        var signal = Enumerable.Range(0, width).Select(j =>
            Math.Abs(BinaryMetrics.Auroc([.. rows.Select(r => float.IsNaN(r[j]) ? float.NegativeInfinity : r[j])], truth) - 0.5)).ToArray();
        return [.. candidates.OrderByDescending(columns => columns.Max(j => double.IsNaN(signal[j]) ? -1 : signal[j])).ThenBy(c => c[0]).Take(affordable)];
    }

    /// <summary>The mean over the rows of each feature's |TreeSHAP contribution| (the expected-value column dropped),
    /// from parts of at most 32 MB of contributions: a row has one per feature.</summary>
    static double[] MeanAbsoluteContributions(LightGbmBinaryModel booster, IReadOnlyList<float[]> rows)
    {
        var width = booster.Columns;
        var sums = new double[width];
        if (rows.Count == 0) return sums;
        var part = Math.Max(1, (1 << 22) / (width + 1));
        for (var start = 0; start < rows.Count; start += part)
        {
            var count = Math.Min(part, rows.Count - start);
            var contributions = booster.Contributions(rows.Skip(start).Take(count).ToArray());
            for (var r = 0; r < count; r++)
                for (var j = 0; j < width; j++) sums[j] += Math.Abs(contributions[r * (width + 1) + j]);
        }
        return [.. sums.Select(s => s / rows.Count)];
    }

    /// <summary>The exams themselves when there are few enough, otherwise a seeded sample of them in their order.</summary>
    static int[] Sample(int[] exams, int max, int seed)
    {
        if (exams.Length <= max) return exams;
        var shuffled = (int[])exams.Clone();
        new Random(seed).Shuffle(shuffled);
        return [.. shuffled.Take(max).Order()];
    }
}
