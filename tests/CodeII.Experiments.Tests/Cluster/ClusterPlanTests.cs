using CodeII.Experiments.Cluster;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Cluster;

public class ClusterPlanTests
{
    [Theory]
    [InlineData(new[] { 0, 1, 2, 3 }, "0-3")]
    [InlineData(new[] { 4 }, "4")]
    [InlineData(new[] { 0, 2, 3, 4, 7, 9, 10 }, "0,2-4,7,9-10")]
    public void Array_indices_are_written_in_slurms_range_syntax(int[] indices, string expected) =>
        Assert.Equal(expected, SlurmExecutor.ArraySpec(indices));

    [Fact]
    public void Shards_extracted_apart_combine_into_the_table_one_pass_gives()
    {
        var source = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 70, Seed = 3 });
        var extractor = FeatureSetCatalog.Create("basic");
        var whole = FeatureTableBuilder.Extract(source, extractor, 2);
        var shards = new[] { (0, 25), (25, 25), (50, 20) }.Select(r => FeatureTableBuilder.ExtractShard(source, r.Item1, r.Item2, extractor, 2)).ToArray();
        var combined = FeatureTableBuilder.Combine(shards);
        Assert.Equal(whole.DataFingerprint, combined.DataFingerprint);
        Assert.Equal(whole.ExamIds, combined.ExamIds);
        Assert.Equal(whole.SourceIndex, combined.SourceIndex);
        Assert.Equal(whole.Values.Slice(0, (int)whole.Values.Length).ToArray(), combined.Values.Slice(0, (int)combined.Values.Length).ToArray());
        Assert.Equal(Enumerable.Range(0, 70), combined.SourceIndex);
        // A shard's rows carry their place in the whole source, not in the shard.
        Assert.Equal(Enumerable.Range(50, 20), shards[2].Table.SourceIndex);
        // Shards given out of order make another fingerprint: the order is the source's.
        Assert.NotEqual(whole.DataFingerprint, FeatureTableBuilder.Combine([shards[1], shards[0], shards[2]]).DataFingerprint);
    }
}
