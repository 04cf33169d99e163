using CodeII.Experiments.Models;

namespace CodeII.Experiments.Tests.Models;

public class RankAverageTests
{
    // Two members' validation scores, ascending: one with a tie, one on another scale.
    static readonly float[] A = [0.1f, 0.2f, 0.2f, 0.9f];
    static readonly float[] B = [1f, 2f, 3f, 4f];

    [Theory]
    // A: 0.2 is above one of four and ties two → (1 + 2/2)/4 = 0.5; B: 3.5 is above three → 3/4. Mean 0.625.
    [InlineData(0.2f, 3.5f, 0.625)]
    // Below all of A's → 0; B: 4 is above three and ties one → 3.5/4 = 0.875. Mean 0.4375.
    [InlineData(0.05f, 4f, 0.4375)]
    // Above all of A's → 1; below all of B's → 0. Mean 0.5.
    [InlineData(1f, 0.5f, 0.5)]
    // A: 0.1 ties the lowest → 0.5/4; B: 2 is above one and ties one → 1.5/4. Mean (0.125 + 0.375)/2 = 0.25.
    [InlineData(0.1f, 2f, 0.25)]
    public void An_exam_s_score_is_the_mean_of_its_members_mid_rank_shares_among_their_validation_scores(float a, float b, double expected)
    {
        Assert.Equal((float)expected, RankAverage.Score([A, B], [a, b]));
    }

    [Fact]
    public void Many_exams_are_scored_each_on_its_own_as_one_at_a_time()
    {
        float[] a = [0.2f, 0.05f, 1f, 0.1f], b = [3.5f, 4f, 0.5f, 2f];
        Assert.Equal([0.625f, 0.4375f, 0.5f, 0.25f], RankAverage.Scores([A, B], [a, b]));
        // Reversed order of exams, reversed scores: no exam's score depends on the others scored with it.
        Assert.Equal([0.25f, 0.5f, 0.4375f, 0.625f], RankAverage.Scores([A, B], [[.. a.Reverse()], [.. b.Reverse()]]));
    }

    [Fact]
    public void A_monotone_change_of_a_member_s_scale_changes_nothing()
    {
        // A member's scores squared (a different scale, the same order) rank the same against its squared reference.
        float[] squared = [.. A.Select(v => v * v)];
        foreach (var (a, b) in new[] { (0.2f, 3.5f), (0.05f, 4f), (0.5f, 1f) })
            Assert.Equal(RankAverage.Score([A, B], [a, b]), RankAverage.Score([squared, B], [a * a, b]));
    }
}
