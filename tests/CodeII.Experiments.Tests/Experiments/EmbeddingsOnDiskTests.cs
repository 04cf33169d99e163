using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Runs;
using CodeII.Experiments.Tests.Features.Learned;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>
/// The embeddings stage streams the network's embeddings and outputs to a file as it computes them and reads them back
/// through a memory map: the managed heap holds a batch of them, not every exam's (CODE-II's 2.7 M exams at 5,120
/// floats each would be 55 GB). A network wide enough that every exam's embeddings in memory would be hundreds of MB.
/// </summary>
[Collection(nameof(LibtorchCollection))]
public class EmbeddingsOnDiskTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>A one-unit network that keeps its input's 1,024 samples: 16 filters × 1,024 = 16,384 floats per exam.</summary>
    const string Yaml = """
        name: embeddings
        dataset: { exams: 50 }
        label_subsets: { rhythm: [SB, ST, AF] }
        features: [learned]
        pretrain:
          model: small
          input_samples: 1024
          units: [[16, 1]]
        learners: { logistic_regression: { trials: 1 } }
        """;

    const int Width = 16 * 1024;

    readonly string _root = RepoPaths.NewTemporaryDirectory();
    readonly List<RunContext> _runs = [];

    public void Dispose()
    {
        foreach (var run in _runs) run.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Notes the live managed heap (after a full collection) at every report of the embeddings stage, that is
    /// after every batch: the old stage held every exam's embeddings in one array from its first batch on.</summary>
    sealed class HeapWatch : IProgress<StageProgress>
    {
        public long Peak { get; private set; }
        public void Report(StageProgress value)
        {
            if (value.Stage == "embeddings") Peak = Math.Max(Peak, GC.GetTotalMemory(forceFullCollection: true));
        }
    }

    /// <summary>A run of <paramref name="exams"/> synthetic exams up to its embeddings stage: the exams' ids and labels read,
    /// and an untrained network of the definition's shape (the weights do not change what is held, only the values).</summary>
    RunContext Context(int exams, string? cache, IProgress<StageProgress>? progress = null, string? folderPath = null)
    {
        TorchRuntime.EnsureLoaded(threads: 1);
        var definition = ExperimentDefinitionLoader.Parse(Yaml, "embeddings.yaml");
        var options = new RunOptions { RunsRoot = Path.Combine(_root, "runs"), FeatureCacheDirectory = cache, MaxThreads = 1, Progress = progress };
        var source = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = 5, SamplingRateHz = 100, DurationSeconds = 10.24, PaddedLength = 0 });
        var folder = folderPath is null ? RunFolder.Create(options.RunsRoot, definition.Name, DateTime.UtcNow) : RunFolder.At(folderPath);
        var run = new RunContext
        {
            Definition = definition, Options = options, Folder = folder, Source = source, Events = new RunEvents(folder),
            Manifest = ExperimentRunner.NewManifest(definition, Yaml, "embeddings.yaml", options, DateTime.UtcNow),
        };
        _runs.Add(run);
        run.Tables["metadata"] = FeatureTableBuilder.Extract(source, new MetadataOnlyExtractor(), 2);
        var shape = definition.Pretrain!.Shape(definition.AllLabels.Count);
        Assert.Equal(Width, shape.EmbeddingSize);
        var model = new ResNet1d(shape, seed: 7);
        // No input cache: the exams are decoded as they are read, so nothing but the stage's own work is measured.
        var loader = NetworkPretraining.InputLoader(source, shape, definition.Pretrain.InputRateHz, decodeThreads: 1);
        run.Network = new PretrainedNetwork(model, new TrainingState(), definition.AllLabels, new string('0', 64), folder.Path, loader,
            model.ParameterCount(), new NetworkInputCache(Path.Combine(_root, "no-inputs"), 0, 1));
        return run;
    }

    /// <summary>The embeddings stage over <paramref name="exams"/> exams, and the most the live managed heap held above
    /// its level before the stage: at any batch, or after the stage with the tables it made in hand.</summary>
    (RunContext Run, long Growth) Embed(int exams, string? cache)
    {
        var watch = new HeapWatch();
        var run = Context(exams, cache, watch);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        new EmbeddingsStage().Run(run);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(run.Tables);
        GC.KeepAlive(run.NetworkOutputs);
        return (run, Math.Max(watch.Peak, after) - before);
    }

    /// <summary>Every row of the learned features followed by the network's outputs, as bits.</summary>
    static int[] Bits(RunContext run) =>
    [
        .. Enumerable.Range(0, run.Rows.RowCount).SelectMany(i => run.Tables[LearnedFeatures.SetName].Row(i).ToArray().Concat(run.NetworkOutputs!.Row(i).ToArray()))
            .Select(BitConverter.SingleToInt32Bits),
    ];

    /// <summary>The oracle: the network's in-memory inference of the same exams (the stage's path before issue 18),
    /// each exam's embedding then its outputs.</summary>
    static int[] InMemoryBits(RunContext run)
    {
        var (embeddings, outputs) = NetworkPretraining.Infer(run.Network!, run.Rows.SourceIndex, NetworkPretraining.InferenceBatch);
        var classes = run.Network!.Classes.Count;
        return [.. Enumerable.Range(0, run.Rows.RowCount).SelectMany(i => embeddings.AsSpan(i * Width, Width).ToArray().Concat(outputs.AsSpan(i * classes, classes).ToArray()))
            .Select(BitConverter.SingleToInt32Bits)];
    }

    [Fact]
    public void The_heap_does_not_grow_with_the_number_of_exams_and_the_rows_read_back_are_the_networks_bit_for_bit()
    {
        const int exams = 1_000;
        var cache = Path.Combine(_root, "cache", "features");
        Embed(NetworkPretraining.InferenceBatch, cache); // what is made once per process (libtorch's and the JIT's) is not counted
        var (small, smallGrowth) = Embed(exams, cache);
        var (_, largeGrowth) = Embed(4 * exams, cache);
        var threeMore = 3L * exams * Width * sizeof(float);
        output.WriteLine($"heap growth: {smallGrowth / 1e6:0.0} MB at {exams} exams, {largeGrowth / 1e6:0.0} MB at {4 * exams}; "
            + $"the embeddings of the {3 * exams} more exams are {threeMore / 1e6:0.0} MB");
        // Held in memory, the 3,000 more exams' embeddings alone would add 197 MB; streamed, the growth is a batch's.
        Assert.True(largeGrowth - smallGrowth < threeMore / 20, $"the heap grew by {smallGrowth / 1e6:0.0} MB at {exams} exams and by {largeGrowth / 1e6:0.0} MB at {4 * exams}");
        Assert.True(largeGrowth < exams * (long)Width * sizeof(float) / 4,
            $"the heap grew by {largeGrowth / 1e6:0.0} MB, more than a sixteenth of the {4 * exams} exams' embeddings");

        Assert.Equal(InMemoryBits(small), Bits(small));
        Assert.Contains("learned: miss, written to " + Path.GetFullPath(cache), small.Manifest.FeatureCache);
        Assert.Equal(exams, small.Tables[LearnedFeatures.SetName].RowCount);
        Assert.Equal(Width, small.Tables[LearnedFeatures.SetName].FeatureNames.Count);
        Assert.Equal(["resnet_SB", "resnet_ST", "resnet_AF"], small.NetworkOutputs!.FeatureNames);
    }

    [Fact]
    public void With_the_cache_off_the_rows_are_in_the_run_folder_and_a_resumed_session_reads_them_back()
    {
        var first = Context(100, cache: null);
        new EmbeddingsStage().Run(first);
        var inFolder = first.Folder.FileIn(RunFolder.EmbeddingsFile);
        Assert.EndsWith($"learned: off, written to {inFolder}", first.Manifest.FeatureCache);
        Assert.Equal(InMemoryBits(first), Bits(first));

        var resumed = Context(100, cache: null, folderPath: first.Folder.Path);
        new EmbeddingsStage().Run(resumed);
        Assert.EndsWith($"learned: off, read back from {inFolder}", resumed.Manifest.FeatureCache);
        Assert.Equal(Bits(first), Bits(resumed));
    }

    [Fact]
    public void A_cache_file_of_the_old_format_or_a_damaged_one_is_computed_again_and_an_unwritable_cache_sends_the_rows_to_the_run_folder()
    {
        var cache = Path.Combine(_root, "cache", "features");
        var run = Context(100, cache);
        var expected = InMemoryBits(run);
        // The key the stage uses for this network (an untrained one, checkpoint hash all zeros) over these exams.
        IReadOnlyList<string> names = [.. NetworkPretraining.FeatureNames(Width), "resnet_SB", "resnet_ST", "resnet_AF"];
        var key = FeatureCache.Key(run.Source, $"network sha256:{new string('0', 64)}", names, false, null);
        var features = new FeatureCache(cache);
        // Before issue 18 the rows were an Arrow table, <key>.arrow, read into memory whole.
        var (embeddings, outputs) = NetworkPretraining.Infer(run.Network!, run.Rows.SourceIndex, NetworkPretraining.InferenceBatch);
        features.Save(key, run.Rows.WithFeatures(names.Take(Width).ToArray(), embeddings).Concatenate(run.Rows.WithFeatures(names.Skip(Width).ToArray(), outputs)));
        Assert.True(File.Exists(features.PathOf(key)));
        new EmbeddingsStage().Run(run);
        Assert.EndsWith($"learned: miss, written to {features.RowsPathOf(key)}", run.Manifest.FeatureCache);
        Assert.Equal(expected, Bits(run));

        // Cut short, as by a disk that filled outside this workbench's atomic writes: computed again, and replaced.
        run.Dispose();
        using (var file = File.OpenWrite(features.RowsPathOf(key))) file.SetLength(file.Length - 100);
        var again = Context(100, cache);
        new EmbeddingsStage().Run(again);
        Assert.EndsWith($"learned: miss, written to {features.RowsPathOf(key)}", again.Manifest.FeatureCache);
        Assert.Equal(expected, Bits(again));
        var hit = Context(100, cache);
        new EmbeddingsStage().Run(hit);
        Assert.EndsWith($"learned: hit {features.RowsPathOf(key)}", hit.Manifest.FeatureCache);
        Assert.Equal(expected, Bits(hit));

        // A cache folder below a file cannot be created, whoever runs the test.
        var blocked = Path.Combine(_root, "a-file");
        File.WriteAllText(blocked, "");
        var unwritable = Context(100, Path.Combine(blocked, "features"));
        new EmbeddingsStage().Run(unwritable);
        Assert.Matches($"learned: miss, not cached \\({Regex.Escape(Path.Combine(blocked, "features"))}/[0-9a-f]{{32}}\\.f32: cannot be written: .*\\); written to {Regex.Escape(unwritable.Folder.FileIn(RunFolder.EmbeddingsFile))}$",
            unwritable.Manifest.FeatureCache);
        Assert.Equal(expected, Bits(unwritable));
    }

    /// <summary>Temporary files of feature rows files, <c>&lt;key&gt;.f32.&lt;pid&gt;.&lt;guid&gt;.tmp</c>.</summary>
    static IEnumerable<string> Temporaries(string folder) =>
        Directory.GetFiles(folder).Where(f => Path.GetFileName(f).Contains(FeatureRowsFile.Extension + ".", StringComparison.Ordinal) && f.EndsWith(".tmp", StringComparison.Ordinal));

    [Fact]
    public async Task A_run_killed_while_it_writes_the_embeddings_leaves_no_file_under_their_name_and_its_resume_writes_them_whole()
    {
        // Long enough an embeddings stage to be caught writing: 1,200 exams, a one-filter unit (1,024 floats per exam).
        File.WriteAllText(Path.Combine(_root, "killed.yaml"), """
            name: killed-embeddings
            dataset: { exams: 1200 }
            label_subsets: { rhythm: [SB, ST, AF] }
            features: [learned]
            pretrain: { model: small, epochs: 1, input_samples: 1024, units: [[1, 1]] }
            learners: { logistic_regression: { trials: 1 } }
            evaluation: { bootstrap_replicates: 20, importance: false }
            """);
        var cache = Path.Combine(_root, "cache", "features");
        var (process, stdout, stderr) = CliTests.StartCodeii(_root, "run", "killed.yaml", "--runs", "runs", "--cache", "cache/features");
        using (process)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // Killed once the stage has written a fifth of its rows to the temporary file.
            while (!process.HasExited && clock.Elapsed < TimeSpan.FromMinutes(3)
                && !(Directory.Exists(cache) && Temporaries(cache).Any(f => new FileInfo(f).Length > 1_000_000)))
                await Task.Delay(10);
            // Its output is awaited only once it has ended: awaited in a message built before the check, it would wait for the run.
            if (process.HasExited) Assert.Fail("the run ended before it could be killed: " + await stdout + await stderr);
            process.Kill();
            process.WaitForExit();
        }
        Assert.Empty(Directory.GetFiles(cache, $"*{FeatureRowsFile.Extension}"));
        var abandoned = Assert.Single(Temporaries(cache));
        // As if killed an hour ago: the resumed run's writer deletes it (its process is gone, and it is not written to).
        File.SetLastWriteTimeUtc(abandoned, DateTime.UtcNow.AddHours(-1));

        var folder = Directory.GetDirectories(Path.Combine(_root, "runs", "killed-embeddings")).Single();
        var (exit, printed, errors) = CliTests.Codeii(_root, "run", "--resume", folder, "--cache", "cache/features");
        Assert.True(exit == 0, errors + printed);
        var rows = Assert.Single(Directory.GetFiles(cache, $"*{FeatureRowsFile.Extension}"));
        Assert.False(File.Exists(abandoned));
        Assert.Empty(Temporaries(cache));
        Assert.Equal(1200, FeatureRowsFile.ReadHeader(rows).Header.Rows);
        Assert.Contains($"learned: miss, written to {rows}", RunFolder.Open(folder).ReadManifest().FeatureCache);
    }
}
