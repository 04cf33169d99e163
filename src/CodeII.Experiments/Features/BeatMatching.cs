namespace CodeII.Experiments.Features;

/// <summary>Detected beats scored against reference annotations.</summary>
public sealed record BeatComparison(int TruePositives, int FalseNegatives, int FalsePositives)
{
    /// <summary>Se = TP / (TP + FN).</summary>
    public double Sensitivity => TruePositives + FalseNegatives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalseNegatives);
    /// <summary>+P = TP / (TP + FP).</summary>
    public double PositivePredictivity => TruePositives + FalsePositives == 0 ? double.NaN : (double)TruePositives / (TruePositives + FalsePositives);
}

public static class BeatMatching
{
    /// <summary>ANSI/AAMI EC57: a detection matches a reference beat within ±75 ms (a 150 ms window).</summary>
    public const double DefaultWindowSeconds = 0.150;

    /// <summary>
    /// Pairs each reference beat with the nearest unused detection inside the window, walking both sorted lists once.
    /// Detections outside [first reference − window, last reference + window] are not counted, so a reference that
    /// covers only part of a record does not turn the rest into false positives.
    /// </summary>
    public static BeatComparison Compare(IReadOnlyList<long> detected, IReadOnlyList<long> reference, double samplingRateHz,
        double windowSeconds = DefaultWindowSeconds)
    {
        var half = (long)Math.Round(windowSeconds / 2 * samplingRateHz);
        var used = new bool[detected.Count];
        int tp = 0, j = 0;
        foreach (var beat in reference)
        {
            while (j < detected.Count && detected[j] < beat - half) j++;
            // The nearest of the candidates inside the window.
            var best = -1;
            for (var k = j; k < detected.Count && detected[k] <= beat + half; k++)
                if (!used[k] && (best < 0 || Math.Abs(detected[k] - beat) < Math.Abs(detected[best] - beat))) best = k;
            if (best >= 0) { used[best] = true; tp++; }
        }
        var fn = reference.Count - tp;
        var fp = 0;
        if (reference.Count > 0)
            for (var k = 0; k < detected.Count; k++)
                if (!used[k] && detected[k] >= reference[0] - half && detected[k] <= reference[^1] + half) fp++;
        return new BeatComparison(tp, fn, fp);
    }
}
