using System.Text.Json.Serialization;

namespace CodeII.Experiments.Evaluation;

/// <summary>
/// What <c>importance.json</c> holds: for every model that reads features, how much its validation AUROC drops when
/// each feature's column is shuffled, and for LightGBM its gain importance and mean |TreeSHAP| per feature. All of it
/// on validation exams: the test exams stay untouched by anything that could steer a choice.
/// </summary>
public sealed record FeatureImportance
{
    /// <summary>Shuffles per feature; each gives one AUROC drop.</summary>
    public required int Repeats { get; init; }
    /// <summary>The run's seed, from which every shuffle is derived.</summary>
    public required int Seed { get; init; }
    /// <summary>The validation exams the values are computed on, and how many the split holds (more than the cap are
    /// sampled).</summary>
    public required int ValidationExams { get; init; }
    public required int ValidationExamsInSplit { get; init; }
    /// <summary>Features whose |Spearman ρ| on these exams reaches this are grouped (<see cref="CorrelatedFeatures"/>).</summary>
    public required double CorrelationThreshold { get; init; }
    public required IReadOnlyList<ModelImportance> Models { get; init; }
}

/// <summary>One model's importances for one label, a value per feature of its feature set, in the set's order.</summary>
public sealed record ModelImportance
{
    public required string Model { get; init; }
    public required string Label { get; init; }
    /// <summary>The label subset that shared the configuration; null when the label had its own.</summary>
    public string? Subset { get; init; }
    public required string Learner { get; init; }
    public required string FeatureSet { get; init; }
    /// <summary>The model's AUROC on the same validation exams, unshuffled: what the drops are measured from.</summary>
    public required double ValidationAuroc { get; init; }
    /// <summary>Features and groups the model could read that were left unshuffled to keep within the run's budget of
    /// scored rows; their drops are NaN.</summary>
    public int Unshuffled { get; init; }
    public required IReadOnlyList<FeatureScore> Features { get; init; }
    /// <summary>The feature set's groups of near-duplicate features, each shuffled as one.</summary>
    public required IReadOnlyList<GroupScore> Groups { get; init; }
}

/// <summary>A group of correlated features shuffled together: the validation AUROC they carry between them.</summary>
public sealed record GroupScore
{
    public required IReadOnlyList<string> Features { get; init; }
    public required double AurocDropMean { get; init; }
    public required double AurocDropSd { get; init; }
}

/// <summary>One feature's importance to one model.</summary>
public sealed record FeatureScore
{
    public required string Name { get; init; }
    /// <summary>Mean over the repeats of the validation AUROC minus the AUROC with this feature shuffled; NaN when it was
    /// not shuffled (<see cref="ModelImportance.Unshuffled"/>).</summary>
    public required double AurocDropMean { get; init; }
    /// <summary>The sample standard deviation of the drops over the repeats.</summary>
    public required double AurocDropSd { get; init; }
    /// <summary>LightGBM: how many splits test the feature. At 0 no prediction can depend on it, so it is not shuffled
    /// and its drop is exactly 0.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Splits { get; init; }
    /// <summary>LightGBM: the total gain of the splits on the feature (its importance type 1).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? Gain { get; init; }
    /// <summary>LightGBM: the mean absolute TreeSHAP contribution over the validation exams, in log-odds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MeanAbsShap { get; init; }
}

/// <summary>One feature's AUROC drops over the repeats, summarised.</summary>
public readonly record struct AurocDrop(double Mean, double Sd);

/// <summary>
/// Permutation importance (Breiman 2001; Fisher, Rudin and Dominici 2019, "model reliance"): a feature matters to a
/// fitted model as much as its score gets worse when that feature's values are shuffled among the exams, which keeps
/// the feature's distribution and breaks its link to the label and to the other features. Works for any model that
/// scores rows; nothing is refitted.
/// </summary>
public static class PermutationImportance
{
    public const int DefaultRepeats = 5;

    /// <summary>
    /// The AUROC drop of every feature, over <paramref name="repeats"/> shuffles each. Feature j's shuffles depend only
    /// on the seed and j, so every model of a run sees the same ones (their drops are paired) and the values do not
    /// depend on which other features were shuffled or in what order.
    /// </summary>
    /// <remarks>
    /// The first shuffle of a feature is scored alone: when it leaves every score bit for bit as it was, the model is
    /// taken not to read the feature, and its drop is 0 ± 0 without scoring the rest. For a zero weight of an
    /// L1-regularised linear model or a constant column that is exact (every shuffle does the same); a model that reads
    /// the feature would have to give hundreds of exams the same score under a shuffle. Otherwise the other repeats
    /// are scored in one call.
    /// </remarks>
    /// <param name="score">Probabilities for rows of features (a bundle's scorer).</param>
    /// <param name="rows">The exams' feature rows; not modified.</param>
    /// <param name="shuffle">Which features to shuffle; the others get a drop of exactly 0 (a model that cannot read
    /// them, such as trees that never split on them).</param>
    public static (double Auroc, AurocDrop[] Drops) Compute(Func<IReadOnlyList<float[]>, float[]> score, IReadOnlyList<float[]> rows,
        IReadOnlyList<bool> truth, int repeats, int seed, Func<int, bool>? shuffle = null, CancellationToken cancellationToken = default)
    {
        var width = rows.Count == 0 ? 0 : rows[0].Length;
        return Compute(score, rows, truth, repeats, seed, [.. Enumerable.Range(0, width).Select(j => new[] { j })],
            shuffle is null ? null : columns => shuffle(columns[0]), cancellationToken);
    }

    /// <summary>
    /// The same for sets of columns, each set's columns shuffled together (one order for all of them), which keeps
    /// their relations to each other: near-duplicate features (<c>hr_bpm</c> and <c>rr_mean_ms</c>) stand in for each
    /// other when shuffled one at a time, and show what they carry only when shuffled as a group. A set's shuffles
    /// depend on the seed and its columns; a set of one column j is shuffled as feature j alone is.
    /// </summary>
    public static (double Auroc, AurocDrop[] Drops) Compute(Func<IReadOnlyList<float[]>, float[]> score, IReadOnlyList<float[]> rows,
        IReadOnlyList<bool> truth, int repeats, int seed, IReadOnlyList<int[]> columnSets, Func<int[], bool>? shuffle = null,
        CancellationToken cancellationToken = default) =>
        Compute(score, rows, truth, repeats, seed, columnSets, shuffle, MaxBufferedValues, cancellationToken);

    /// <param name="maxBufferedValues">How many values the shuffled copies may hold at once; the results do not
    /// depend on it, only how many rows each call of <paramref name="score"/> gets.</param>
    internal static (double Auroc, AurocDrop[] Drops) Compute(Func<IReadOnlyList<float[]>, float[]> score, IReadOnlyList<float[]> rows,
        IReadOnlyList<bool> truth, int repeats, int seed, IReadOnlyList<int[]> columnSets, Func<int[], bool>? shuffle, int maxBufferedValues,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        if (rows.Count != truth.Count) throw new ArgumentException($"{rows.Count} rows but {truth.Count} labels");
        var n = rows.Count;
        var labels = truth.ToArray();
        var unshuffled = score(rows);
        var auroc = BinaryMetrics.Auroc(unshuffled, labels);
        var repeatedTruth = new bool[n * repeats];
        for (var r = 0; r < repeats; r++) labels.CopyTo(repeatedTruth, r * n);

        var shuffledRows = new ShuffledRows(rows, repeats, maxBufferedValues);
        var drops = new AurocDrop[columnSets.Count];
        var orders = Enumerable.Range(0, repeats).Select(_ => new int[n]).ToArray();
        var aurocs = new double[repeats];
        for (var s = 0; s < columnSets.Count; s++)
        {
            var columns = columnSets[s];
            if (shuffle is not null && !shuffle(columns)) continue;
            cancellationToken.ThrowIfCancellationRequested();
            var random = new Random(columns.Aggregate(seed, FeatureSeed));
            foreach (var order in orders)
            {
                for (var i = 0; i < n; i++) order[i] = i;
                random.Shuffle(order);
            }
            var first = shuffledRows.Score(score, columns, orders, 0, 1);
            if (first.AsSpan().SequenceEqual(unshuffled)) drops[s] = new AurocDrop(0, 0);
            else
            {
                aurocs[0] = BinaryMetrics.Auroc(first, labels);
                var rest = shuffledRows.Score(score, columns, orders, 1, repeats);
                for (var r = 1; r < repeats; r++)
                    aurocs[r] = BinaryMetrics.Auroc(rest.AsSpan((r - 1) * n, n), repeatedTruth.AsSpan(r * n, n));
                drops[s] = Summarise(auroc, aurocs);
            }
        }
        return (auroc, drops);
    }

    /// <summary>Values held in shuffled copies of the rows at once: 64 MB, so a wide feature set on many exams is
    /// scored in parts rather than copied whole once per repeat.</summary>
    internal const int MaxBufferedValues = 1 << 24;

    /// <summary>
    /// Copies of the rows with some columns taken from other exams, scored in batches of as many as the buffer holds
    /// (all repeats at once for the quickstart's sets). A slot keeps the exam it was copied from, so while it holds the
    /// same exam only the shuffled columns are written, and restored after scoring.
    /// </summary>
    sealed class ShuffledRows
    {
        readonly IReadOnlyList<float[]> _rows;
        readonly float[]?[] _slots;
        readonly int[] _holds;

        public ShuffledRows(IReadOnlyList<float[]> rows, int repeats, int maxBufferedValues)
        {
            _rows = rows;
            var width = rows.Count == 0 ? 1 : Math.Max(1, rows[0].Length);
            var capacity = Math.Clamp(maxBufferedValues / width, 1, Math.Max(1, rows.Count * repeats));
            _slots = new float[capacity][];
            _holds = [.. Enumerable.Repeat(-1, capacity)];
        }

        /// <summary>The scores of repeats [from, to): each exam i with <paramref name="columns"/> taken from exam
        /// orders[r][i], exam by exam and repeat after repeat.</summary>
        public float[] Score(Func<IReadOnlyList<float[]>, float[]> score, int[] columns, int[][] orders, int from, int to)
        {
            var n = _rows.Count;
            var scores = new float[(to - from) * n];
            for (var start = 0; start < scores.Length; start += _slots.Length)
            {
                var count = Math.Min(_slots.Length, scores.Length - start);
                for (var b = 0; b < count; b++)
                {
                    var (r, i) = (from + (start + b) / n, (start + b) % n);
                    if (_holds[b] != i)
                    {
                        _rows[i].CopyTo(_slots[b] ??= new float[_rows[i].Length], 0);
                        _holds[b] = i;
                    }
                    foreach (var j in columns) _slots[b]![j] = _rows[orders[r][i]][j];
                }
                score(new ArraySegment<float[]>(_slots!, 0, count)).CopyTo(scores, start);
                for (var b = 0; b < count; b++)
                    foreach (var j in columns) _slots[b]![j] = _rows[_holds[b]][j];
            }
            return scores;
        }
    }

    static AurocDrop Summarise(double auroc, double[] shuffledAurocs)
    {
        var drops = shuffledAurocs.Select(a => auroc - a).ToArray();
        var mean = drops.Average();
        // The sample SD (n − 1): the repeats are a sample of the shuffles; one repeat has no spread to estimate.
        var sd = drops.Length < 2 ? double.NaN : Math.Sqrt(drops.Sum(d => (d - mean) * (d - mean)) / (drops.Length - 1));
        return new AurocDrop(mean, sd);
    }

    /// <summary>A stable 32-bit mix of the seed and the feature's index (the SplitMix64 finaliser): string and
    /// HashCode hashes differ between processes, and seed + j would give neighbouring features related streams.</summary>
    internal static int FeatureSeed(int seed, int feature)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)feature) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }
}

/// <summary>
/// Groups of features that carry nearly the same information on a set of exams: the connected components of the graph
/// that joins two features when their |Spearman ρ| reaches a threshold. Shuffled one at a time, the members of such a
/// group stand in for each other and each looks unimportant (Strobl et al. 2008; Hooker, Mentch and Zhou 2021), so
/// permutation importance shuffles each group as a whole too.
/// </summary>
public static class CorrelatedFeatures
{
    /// <summary>High enough that a group's members are near-duplicates (heart rate and RR: ρ = −1), not relatives.</summary>
    public const double DefaultThreshold = 0.9;

    /// <summary>Exams measured in both features below which a correlation is not trusted.</summary>
    const int MinimumPairs = 10;

    /// <summary>The groups of two or more columns, each in column order, ordered by their first column.</summary>
    /// <remarks>ρ is Pearson's r of the ranks (ties averaged) each feature's measured values take among themselves, over
    /// the exams measured in both: a missing value (NaN) joins no pair.</remarks>
    public static IReadOnlyList<int[]> Groups(IReadOnlyList<float[]> rows, double threshold = DefaultThreshold)
    {
        var n = rows.Count;
        var width = n == 0 ? 0 : rows[0].Length;
        var ranks = Enumerable.Range(0, width).Select(j => Ranks(rows, j)).ToArray();
        var parent = Enumerable.Range(0, width).ToArray();
        int Root(int j) { while (parent[j] != j) j = parent[j] = parent[parent[j]]; return j; }
        for (var a = 0; a < width; a++)
            for (var b = a + 1; b < width; b++)
            {
                if (Root(a) == Root(b)) continue;
                if (Math.Abs(Correlation(ranks[a], ranks[b])) >= threshold) parent[Root(b)] = Root(a);
            }
        return [.. Enumerable.Range(0, width).GroupBy(Root).Where(g => g.Count() > 1).Select(g => g.Order().ToArray()).OrderBy(g => g[0])];
    }

    static double[] Ranks(IReadOnlyList<float[]> rows, int column)
    {
        var ranks = new double[rows.Count];
        var measured = Enumerable.Range(0, rows.Count).Where(i => !float.IsNaN(rows[i][column])).OrderBy(i => rows[i][column]).ToArray();
        for (var i = 0; i < rows.Count; i++) ranks[i] = double.NaN;
        for (var start = 0; start < measured.Length;)
        {
            var end = start;
            while (end + 1 < measured.Length && rows[measured[end + 1]][column] == rows[measured[start]][column]) end++;
            for (var k = start; k <= end; k++) ranks[measured[k]] = (start + end) / 2.0 + 1;
            start = end + 1;
        }
        return ranks;
    }

    /// <summary>Pearson's r over the rows where both are numbers; NaN when too few or either is constant.</summary>
    static double Correlation(double[] x, double[] y)
    {
        double count = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            if (double.IsNaN(x[i]) || double.IsNaN(y[i])) continue;
            count++;
            sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; syy += y[i] * y[i]; sxy += x[i] * y[i];
        }
        if (count < MinimumPairs) return double.NaN;
        var covariance = sxy - sx * sy / count;
        var varianceX = sxx - sx * sx / count;
        var varianceY = syy - sy * sy / count;
        // Relative to the sums, so a constant feature's rounding residue does not pass for spread.
        return varianceX <= 1e-12 * sxx || varianceY <= 1e-12 * syy ? double.NaN : covariance / Math.Sqrt(varianceX * varianceY);
    }
}
