using CodeII.Experiments.Labels;

namespace CodeII.Experiments.Evaluation;

/// <summary>One cell of the transfer matrix: a source and mode on a target's label subset at a share of its training patients.</summary>
public sealed record TransferCellMetrics
{
    /// <summary>The source's name; empty for rows that use no source (scratch, the handcrafted reference, prior).</summary>
    public required string Source { get; init; }
    /// <summary><c>zero_shot</c>, <c>linear_probe</c>, <c>gbm_head</c>, <c>fine_tune</c>, <c>scratch</c>, <c>handcrafted</c> or <c>prior</c>.</summary>
    public required string Mode { get; init; }
    public required string Target { get; init; }
    public required string Subset { get; init; }
    public required double Share { get; init; }
    /// <summary>Test macro-AUROC over <see cref="Labels"/>, with its patient-bootstrap interval.</summary>
    public required Estimate MacroAuroc { get; init; }
    /// <summary>Paired patient-bootstrap difference to <c>scratch</c> at the same share, over the same labels and test patients.</summary>
    public Estimate? VersusScratch { get; init; }
    /// <summary>The labels the macro average is over: all of the subset's with test positives, or the covered ones for zero-shot.</summary>
    public required IReadOnlyList<string> Labels { get; init; }
    /// <summary>Labels of the subset the row cannot score (zero-shot: no source class stands for them).</summary>
    public IReadOnlyList<string> Unscored { get; init; } = [];
    public required IReadOnlyDictionary<string, Estimate> PerLabel { get; init; }
    /// <summary>The cell's run folder, relative to the transfer run's, which holds its predictions and models.</summary>
    public required string Folder { get; init; }
}

/// <summary>A target's test part, as every cell on it shares it.</summary>
public sealed record TransferTargetSummary(string Target, string Dataset, int TestExams, int TestPatients, bool RecordIsPatient, IReadOnlyDictionary<string, int> TestPositives);

/// <summary>Which target labels each source's classes stand for.</summary>
public sealed record TransferCoverage(string Source, string Target, LabelCoverage Coverage);

/// <summary>The transfer run's <c>metrics.json</c>: every cell, the targets' test parts and the label coverage.</summary>
public sealed record TransferMetrics
{
    public required IReadOnlyList<string> Sources { get; init; }
    public required IReadOnlyList<string> Modes { get; init; }
    public required IReadOnlyList<double> Shares { get; init; }
    public required IReadOnlyList<TransferTargetSummary> Targets { get; init; }
    public required IReadOnlyList<TransferCoverage> Coverage { get; init; }
    public required IReadOnlyList<TransferCellMetrics> Cells { get; init; }
    public required int BootstrapReplicates { get; init; }
    public required double Confidence { get; init; }
}

/// <summary>Test scores of one row of the matrix on one target and share: per label, one score per test exam; per
/// subset and label where the sweep shared one configuration across a subset's labels.</summary>
public sealed record TransferRowScores(string Source, string Mode, string Folder, IReadOnlyDictionary<(string? Subset, string Label), float[]> Scores)
{
    /// <summary>The subset's own model of a label where there is one, else the label's.</summary>
    public float[]? For(string subset, string label) =>
        Scores.TryGetValue((subset, label), out var shared) ? shared : Scores.TryGetValue((null, label), out var own) ? own : null;
}

/// <summary>
/// Macro-AUROC with patient-bootstrap intervals for every row on one target and share, and each row's paired
/// difference to scratch: every row is scored on the same bootstrap resamples of the same test patients.
/// </summary>
public static class TransferEvaluator
{
    public const string ScratchMode = "scratch";

    public static IReadOnlyList<TransferCellMetrics> Evaluate(string target, double share, IReadOnlyList<LabelSubset> subsets,
        IReadOnlyList<string> testPatients, IReadOnlySet<string>[] testLabels, IReadOnlyList<TransferRowScores> rows,
        int replicates, double confidence, int seed)
    {
        var bootstrap = new PatientBootstrap(testPatients, replicates, seed, confidence);
        var n = testPatients.Count;
        var truth = subsets.SelectMany(s => s.Labels).Distinct().ToDictionary(l => l, l => testLabels.Select(t => t.Contains(l)).ToArray());
        double Auroc(float[] scores, bool[] y, int[] indices) =>
            BinaryMetrics.Auroc(indices.Select(i => scores[i]).ToArray(), indices.Select(i => y[i]).ToArray());
        double Macro(TransferRowScores row, string subset, IReadOnlyList<string> labels, int[] indices)
        {
            var values = labels.Select(l => Auroc(row.For(subset, l)!, truth[l], indices)).Where(v => !double.IsNaN(v)).ToArray();
            return values.Length == 0 ? double.NaN : values.Average();
        }
        var cells = new List<TransferCellMetrics>();
        foreach (var subset in subsets)
        {
            // A label without test positives (or negatives) has no AUROC: it is left out of every row alike.
            var evaluable = subset.Labels.Where(l => truth[l].Any(v => v) && truth[l].Any(v => !v)).ToArray();
            var scratch = rows.FirstOrDefault(r => r.Mode == ScratchMode);
            foreach (var row in rows)
            {
                var labels = evaluable.Where(l => row.For(subset.Name, l) is not null).ToArray();
                Estimate? versus = null;
                if (scratch is not null && row != scratch && labels.Length > 0)
                    versus = bootstrap.Estimate(n, idx => Macro(row, subset.Name, labels, idx) - Macro(scratch, subset.Name, labels, idx));
                cells.Add(new TransferCellMetrics
                {
                    Source = row.Source, Mode = row.Mode, Target = target, Subset = subset.Name, Share = share, Folder = row.Folder,
                    MacroAuroc = labels.Length == 0 ? Estimate.Missing : bootstrap.Estimate(n, idx => Macro(row, subset.Name, labels, idx)),
                    VersusScratch = versus,
                    Labels = labels,
                    Unscored = [.. subset.Labels.Where(l => row.For(subset.Name, l) is null)],
                    PerLabel = labels.ToDictionary(l => l, l => bootstrap.Estimate(n, idx => Auroc(row.For(subset.Name, l)!, truth[l], idx))),
                });
            }
        }
        return cells;
    }
}
