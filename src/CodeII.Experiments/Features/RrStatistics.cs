namespace CodeII.Experiments.Features;

/// <summary>Time-domain RR statistics of one recording, in milliseconds; NaN where too few beats.</summary>
public sealed record RrStatistics(double MeanMs, double SdnnMs, double RmssdMs, double Pnn50, double Cv, double MinMs, double MaxMs, double Irregularity)
{
    public double HeartRateBpm => 60_000 / MeanMs;

    /// <summary>From R-peak sample indices: one interval needs two beats, variability needs three.</summary>
    public static RrStatistics? FromPeaks(IReadOnlyList<int> peaks, double samplingRateHz)
    {
        if (peaks.Count < 2) return null;
        var rr = new double[peaks.Count - 1];
        for (var i = 0; i < rr.Length; i++) rr[i] = (peaks[i + 1] - peaks[i]) * 1000 / samplingRateHz;
        return FromIntervals(rr);
    }

    public static RrStatistics FromIntervals(double[] rrMs)
    {
        var mean = rrMs.Average();
        if (rrMs.Length < 2) return new RrStatistics(mean, double.NaN, double.NaN, double.NaN, double.NaN, rrMs[0], rrMs[0], double.NaN);
        var sd = Math.Sqrt(rrMs.Sum(x => (x - mean) * (x - mean)) / (rrMs.Length - 1));
        var successive = new double[rrMs.Length - 1];
        for (var i = 0; i < successive.Length; i++) successive[i] = rrMs[i + 1] - rrMs[i];
        return new RrStatistics(
            mean, sd,
            Math.Sqrt(successive.Average(x => x * x)),
            successive.Count(x => Math.Abs(x) > 50) / (double)successive.Length,
            sd / mean, rrMs.Min(), rrMs.Max(),
            // Median absolute successive difference over the median RR: near 0 in sinus rhythm, large in AF.
            BeatDelineator.Median(successive.Select(Math.Abs).ToArray()) / BeatDelineator.Median(rrMs));
    }
}
