using CodeII.Experiments.Experiments;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

public class FeatureCacheTests
{
    const string Yaml = """
        name: cached
        dataset: { exams: 150 }
        label_subsets: { rhythm: [SB, ST, AF] }
        learners: { lightgbm: { trials: 1 } }
        evaluation: { bootstrap_replicates: 20 }
        """;

    static RunResult Run(string yaml, string cache) =>
        ExperimentRunner.Run(ExperimentDefinitionLoader.Parse(yaml, "c.yaml"), yaml, "c.yaml",
            new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory(), FeatureCacheDirectory = cache });

    [Fact]
    public void A_second_run_reads_the_cache_and_gets_identical_metrics()
    {
        var cache = RepoPaths.NewTemporaryDirectory();
        var first = Run(Yaml, cache);
        var second = Run(Yaml, cache);
        Assert.StartsWith("miss", first.Manifest.FeatureCache);
        Assert.StartsWith("hit", second.Manifest.FeatureCache);
        Assert.Equal(first.Manifest.DataFingerprint, second.Manifest.DataFingerprint);
        Assert.Equal(File.ReadAllText(first.Folder.FileIn(RunFolder.MetricsFile)), File.ReadAllText(second.Folder.FileIn(RunFolder.MetricsFile)));
    }

    [Fact]
    public void Cached_tables_equal_extracted_ones_bit_for_bit_NaN_included()
    {
        var definition = ExperimentDefinitionLoader.Parse(Yaml, "c.yaml");
        var source = Datasets.CreateSource(definition);
        var extractor = new HandcraftedFeatureExtractor();
        var table = FeatureTableBuilder.Extract(source, extractor, 2);
        var cache = new FeatureCache(RepoPaths.NewTemporaryDirectory());
        var key = FeatureCache.Key(source, extractor, false, null);
        cache.Save(key, table);
        var loaded = cache.TryLoad(key, extractor)!;
        Assert.Equal(table.ExamIds, loaded.ExamIds);
        Assert.Equal(table.PatientIds, loaded.PatientIds);
        Assert.Equal(table.SourceIndex, loaded.SourceIndex);
        Assert.Equal(table.DataFingerprint, loaded.DataFingerprint);
        Assert.Equal(table.Labels.Select(l => string.Join(",", l.Order())), loaded.Labels.Select(l => string.Join(",", l.Order())));
        Assert.Equal(FeatureTableTests.Bits(table), FeatureTableTests.Bits(loaded));
        Assert.Contains(FeatureTableTests.AllValues(table), float.IsNaN); // no P-wave features in atrial fibrillation
    }

    [Fact]
    public void Other_preprocessing_another_extractor_or_a_damaged_file_means_a_miss()
    {
        var cache = RepoPaths.NewTemporaryDirectory();
        Assert.StartsWith("miss", Run(Yaml, cache).Manifest.FeatureCache);
        Assert.StartsWith("miss", Run(Yaml + "\npreprocessing: { highpass_hz: 0.8 }\n", cache).Manifest.FeatureCache);
        Assert.StartsWith("miss", Run(Yaml + "\nfeatures: handcrafted\n", cache).Manifest.FeatureCache);
        foreach (var file in Directory.GetFiles(cache, "*.arrow")) File.WriteAllText(file, "not arrow");
        var rerun = Run(Yaml, cache);
        Assert.StartsWith("miss", rerun.Manifest.FeatureCache);
        Assert.StartsWith("hit", Run(Yaml, cache).Manifest.FeatureCache);
    }
}
