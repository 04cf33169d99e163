namespace CodeII.Experiments.Evaluation;

/// <summary>A point estimate with its bootstrap confidence interval.</summary>
public sealed record Estimate(double Value, double Lower, double Upper)
{
    public static readonly Estimate Missing = new(double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// Percentile bootstrap that resamples patients, not exams, because a patient's exams are correlated; every model
/// and label is scored on the same resamples (a paired bootstrap), so their intervals are comparable.
/// </summary>
public sealed class PatientBootstrap
{
    readonly int[][] _resamples;

    public PatientBootstrap(IReadOnlyList<string> patientOfExam, int replicates, int seed, double confidence = 0.95)
    {
        if (replicates < 1) throw new ArgumentOutOfRangeException(nameof(replicates));
        if (confidence is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(confidence));
        Confidence = confidence;
        var examsOfPatient = patientOfExam.Select((p, i) => (p, i)).GroupBy(x => x.p, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Select(x => x.i).ToArray()).ToArray();
        var rng = new Random(seed);
        _resamples = new int[replicates][];
        var buffer = new List<int>(patientOfExam.Count * 2);
        for (var b = 0; b < replicates; b++)
        {
            buffer.Clear();
            for (var k = 0; k < examsOfPatient.Length; k++) buffer.AddRange(examsOfPatient[rng.Next(examsOfPatient.Length)]);
            _resamples[b] = buffer.ToArray();
        }
    }

    public double Confidence { get; }
    public int Replicates => _resamples.Length;

    /// <summary>Applies <paramref name="metric"/> (which receives exam indices) to the full set and to each resample.
    /// Resamples where the metric is undefined (e.g. no positives) are left out of the interval.</summary>
    public Estimate Estimate(int examCount, Func<int[], double> metric)
    {
        var all = Enumerable.Range(0, examCount).ToArray();
        return Interval(metric(all), _resamples.Select(metric));
    }

    /// <summary>
    /// The difference of a metric between two sets of test exams with no patient in common (runs split differently):
    /// each replicate resamples both independently, so the interval is that of an unpaired difference, wider than a
    /// paired one on the same patients would be.
    /// </summary>
    public Estimate UnpairedDifference(int examCount, Func<int[], double> metric, PatientBootstrap other, int otherExamCount, Func<int[], double> otherMetric)
    {
        if (other.Replicates != Replicates) throw new ArgumentException("both bootstraps need the same number of replicates");
        var point = metric([.. Enumerable.Range(0, examCount)]) - otherMetric([.. Enumerable.Range(0, otherExamCount)]);
        return Interval(point, _resamples.Select((resample, b) => metric(resample) - otherMetric(other._resamples[b])));
    }

    /// <summary>The point estimate with the percentile interval of the replicates where the metric is defined.</summary>
    Estimate Interval(double point, IEnumerable<double> replicates)
    {
        var values = replicates.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (values.Length == 0 || double.IsNaN(point)) return new Estimate(point, double.NaN, double.NaN);
        var tail = (1 - Confidence) / 2;
        return new Estimate(point, Quantile(values, tail), Quantile(values, 1 - tail));
    }

    /// <summary>Linear interpolation between order statistics (the default of numpy.quantile).</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(sorted.Length - 1, lower + 1);
        return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
    }
}
