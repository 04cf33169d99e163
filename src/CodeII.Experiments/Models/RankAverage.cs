namespace CodeII.Experiments.Models;

/// <summary>One model of an ensemble: its bundle, and its scores of the validation exams, sorted, against which a new
/// exam's score is ranked.</summary>
public sealed record EnsembleMember
{
    /// <summary>The member's bundle folder relative to the ensemble's (e.g. <c>../../handcrafted/lightgbm/AF</c>).</summary>
    public required string Bundle { get; init; }
    /// <summary>The member's name in reports, e.g. <c>handcrafted/lightgbm</c>.</summary>
    public required string Model { get; init; }
    /// <summary>The member's scores of the run's validation exams, ascending.</summary>
    public required float[] ValidationScores { get; init; }
}

/// <summary>What an ensemble bundle combines, and how.</summary>
public sealed record EnsembleDescription
{
    public const string RankAverageMethod = "rank_average";

    public string Method { get; init; } = RankAverageMethod;
    public required IReadOnlyList<EnsembleMember> Members { get; init; }
}

/// <summary>
/// The rank average of several models' scores: each member's score becomes its mid-rank share among that member's own
/// validation scores (the share of validation exams it scores lower, ties counting half), and the ensemble's score is
/// the mean of these shares over the members. Ranks make members with different scales (a boosted model's
/// probabilities, a logistic regression's, a network's sigmoid) count alike, and they need no weight to be fitted: the
/// only fitted thing is each member's own validation distribution, which the member's own selection already saw. Ranked
/// against a fixed reference, one exam's score does not depend on which other exams are scored with it, so a bundle
/// scores a single new ECG as the run scored its test exams.
/// </summary>
public static class RankAverage
{
    /// <summary>The mid-rank share of <paramref name="score"/> among <paramref name="sortedReference"/> (ascending):
    /// (number below + half the number equal) / count, in [0, 1].</summary>
    public static double Share(float[] sortedReference, float score)
    {
        if (sortedReference.Length == 0) throw new ArgumentException("a member needs validation scores to rank against");
        var below = LowerBound(sortedReference, score);
        var notAbove = UpperBound(sortedReference, score);
        return (below + 0.5 * (notAbove - below)) / sortedReference.Length;
    }

    /// <summary>The ensemble's score of one exam from each member's score of it (in the members' order).</summary>
    public static float Score(IReadOnlyList<float[]> sortedReferences, ReadOnlySpan<float> memberScores)
    {
        if (memberScores.Length != sortedReferences.Count) throw new ArgumentException($"{memberScores.Length} member scores for {sortedReferences.Count} members");
        var sum = 0.0;
        for (var m = 0; m < memberScores.Length; m++) sum += Share(sortedReferences[m], memberScores[m]);
        return (float)(sum / memberScores.Length);
    }

    /// <summary>The ensemble's scores of many exams: <paramref name="memberScores"/>[m][i] is member m's score of exam i.</summary>
    public static float[] Scores(IReadOnlyList<float[]> sortedReferences, IReadOnlyList<float[]> memberScores)
    {
        if (memberScores.Count != sortedReferences.Count) throw new ArgumentException($"scores of {memberScores.Count} members for {sortedReferences.Count} members");
        var exams = memberScores.Count == 0 ? 0 : memberScores[0].Length;
        var scores = new float[exams];
        var one = new float[memberScores.Count];
        for (var i = 0; i < exams; i++)
        {
            for (var m = 0; m < one.Length; m++) one[m] = memberScores[m][i];
            scores[i] = Score(sortedReferences, one);
        }
        return scores;
    }

    /// <summary>The first position whose value is not below <paramref name="value"/>.</summary>
    static int LowerBound(float[] sorted, float value)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] < value) low = middle + 1; else high = middle;
        }
        return low;
    }

    /// <summary>The first position whose value is above <paramref name="value"/>.</summary>
    static int UpperBound(float[] sorted, float value)
    {
        int low = 0, high = sorted.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (sorted[middle] <= value) low = middle + 1; else high = middle;
        }
        return low;
    }
}
