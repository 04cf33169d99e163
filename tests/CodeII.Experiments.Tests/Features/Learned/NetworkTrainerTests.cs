using System.Diagnostics;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features.Learned;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

/// <summary>Tiny inputs and filters: CI has no GPU. 100 Hz × 2.56 s, a handful of filters.</summary>
[Collection(nameof(LibtorchCollection))]
public class NetworkTrainerTests
{
    static readonly string[] Classes = ["SB", "ST", "AF"];
    const int Samples = 256;
    internal static readonly ResNetShape Tiny = new()
    {
        InputSamples = Samples, FirstFilters = 4, Units = [new(6, 4), new(8, 4)], KernelSize = 9, Classes = 3,
    };

    internal static (EcgBatchLoader Loader, int[] Train, int[] Validation) Data(int exams)
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = exams, Seed = 11, SamplingRateHz = 100, DurationSeconds = 2.56, PaddedLength = 0 });
        var all = Enumerable.Range(0, exams).ToArray();
        return (new EcgBatchLoader(generator, Classes, Samples, decodeThreads: 2), all.Where(i => i % 4 != 0).ToArray(), all.Where(i => i % 4 == 0).ToArray());
    }

    internal static TrainingOptions Options(int epochs) => new() { Epochs = epochs, BatchSize = 16, Seed = 5, Threads = 1, EarlyStoppingPatience = 100 };

    /// <summary>Reports on the training thread, in order (Progress&lt;T&gt; would post to the thread pool).</summary>
    internal sealed class Inline(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    [Fact]
    public void The_same_seed_gives_the_same_losses_and_validation_AUROC()
    {
        var (loader, train, validation) = Data(96);
        TrainingState Run()
        {
            using var model = new ResNet1d(Tiny);
            return new NetworkTrainer(Options(2)).Train(model, loader, train, validation);
        }
        var first = Run();
        var second = Run();
        Assert.Equal(2, first.History.Count);
        Assert.Equal(first.History.Select(e => e.TrainingLoss), second.History.Select(e => e.TrainingLoss));
        Assert.Equal(first.History.Select(e => e.ValidationMacroAuroc), second.History.Select(e => e.ValidationMacroAuroc));
    }

    [Fact]
    public void A_run_interrupted_mid_epoch_and_resumed_ends_like_an_uninterrupted_one()
    {
        var (loader, train, validation) = Data(96);
        var folder = Directory.CreateTempSubdirectory("codeii-resume-").FullName;
        try
        {
            using var uninterrupted = new ResNet1d(Tiny);
            var expected = new NetworkTrainer(Options(3)).Train(uninterrupted, loader, train, validation);

            using var cancellation = new CancellationTokenSource();
            using (var interrupted = new ResNet1d(Tiny))
                Assert.ThrowsAny<OperationCanceledException>(() => new NetworkTrainer(Options(3)).Train(interrupted, loader, train, validation, folder,
                    new Inline(p => { if (p.Epoch == 2 && p.Batch == 2) cancellation.Cancel(); }), cancellation.Token));
            Assert.True(File.Exists(Path.Combine(folder, "state.json")), "epoch 1's checkpoint is on disk");

            using var resumed = new ResNet1d(Tiny);
            var actual = new NetworkTrainer(Options(3)).Train(resumed, loader, train, validation, folder);
            Assert.Equal(expected.History.Select(e => e.TrainingLoss), actual.History.Select(e => e.TrainingLoss));
            Assert.Equal(expected.BestValidationMacroAuroc, actual.BestValidationMacroAuroc);
            Assert.Equal(expected.BestEpoch, actual.BestEpoch);
            using var scope = NewDisposeScope();
            var x = randn(4, 12, Samples, generator: new TorchSharp.torch.Generator(3));
            Assert.Equal(uninterrupted.Probabilities(x).data<float>().ToArray(), resumed.Probabilities(x).data<float>().ToArray());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Positive_weights_are_negatives_over_positives_in_the_training_exams()
    {
        // By hand: of five training exams SB is in three (2/3), ST in two (3/2), AF in none (5, as if one positive).
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 96, Seed = 11, SamplingRateHz = 100, DurationSeconds = 2.56, PaddedLength = 0 });
        HashSet<string>[] handLabels = [["SB"], ["SB", "ST"], [], ["ST"], ["SB"], ["AF"]];
        using var hand = NetworkTrainer.PositiveWeights(new EcgBatchLoader(generator, Classes, Samples, 1) { Labels = i => handLabels[i] }, [0, 1, 2, 3, 4]);
        Assert.Equal([2f / 3, 1.5f, 5f], hand.data<float>().ToArray());

        // Counted from decoded batches' targets and from the caller's labels (no decoding): the same weights.
        var (loader, train, _) = Data(96);
        using var decoded = NetworkTrainer.PositiveWeights(loader, train);
        using var fromLabels = NetworkTrainer.PositiveWeights(new EcgBatchLoader(generator, Classes, Samples, 1) { Labels = i => generator.Read(i).Labels }, train);
        Assert.Equal(fromLabels.data<float>().ToArray(), decoded.data<float>().ToArray());
        Assert.All(decoded.data<float>().ToArray(), w => Assert.True(w > 1, "every class is in fewer than half the synthetic exams"));
    }

    [Fact]
    public void Exams_of_the_wrong_length_are_refused_with_the_record_named()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 4, Seed = 1, SamplingRateHz = 100, PaddedLength = 0 });
        var loader = new EcgBatchLoader(generator, Classes, Samples, decodeThreads: 1);
        var error = Assert.Throws<CodeII.Experiments.Data.EcgDataException>(() => loader.Decode([0]));
        Assert.Contains("1000 samples", error.Message);
        Assert.Contains(generator.ExamIdAt(0), error.Message);
    }
}

[Collection(nameof(LibtorchCollection))]
public class NetworkTrainerMemoryTests
{
    [Fact]
    public void Native_memory_stays_flat_over_a_hundred_and_twenty_batches()
    {
        // 120 batches of 16 exams: a leaked input tensor alone would add 16 × 12 × 256 × 4 bytes ≈ 200 kB per batch,
        // plus its activations and gradients; the working set after batch 120 must be within 20 MB of batch 20's (measured: +9 MB; +37 MB without the scope).
        var (loader, train, validation) = NetworkTrainerTests.Data(200);
        var epochTrain = train.Take(160).ToArray();
        long at20 = 0, atEnd = 0;
        // No forced collection: finalizers would free leaked tensors and hide exactly what this test looks for.
        long WorkingSet()
        {
            using var process = Process.GetCurrentProcess();
            return process.WorkingSet64;
        }
        using var model = new ResNet1d(NetworkTrainerTests.Tiny);
        var batches = 0;
        new NetworkTrainer(NetworkTrainerTests.Options(12) with { BatchSize = 16 }).Train(model, loader, epochTrain, validation, null, new NetworkTrainerTests.Inline(p =>
        {
            batches++;
            if (batches == 20) at20 = WorkingSet();
            if (batches == 120) atEnd = WorkingSet();
        }));
        Assert.True(batches >= 120, $"{batches} batches");
        Assert.True(atEnd - at20 < 20L << 20, $"working set grew by {(atEnd - at20) / 1e6:F1} MB between batch 20 and 120");
    }
}

public class TrainingScheduleTests
{
    [Fact]
    public void The_rate_is_cut_on_a_plateau_and_training_stops_after_the_patience_with_the_best_epoch_kept()
    {
        var options = new TrainingOptions { LearningRate = 1e-3, PlateauPatience = 2, PlateauFactor = 0.1, EarlyStoppingPatience = 3, MinimumLearningRate = 1e-5 };
        var state = new TrainingState { LearningRate = options.LearningRate };
        var rates = new List<double>();
        // Validation macro-AUROC per epoch: better, better, then three epochs without beating 0.90.
        foreach (var (epoch, auroc) in new[] { (1, 0.80), (2, 0.90), (3, 0.89), (4, 0.90), (5, 0.85) })
        {
            state = NetworkTrainer.Advance(state, new EpochSummary(epoch, 0.1, auroc, [auroc], state.LearningRate, 100, 1), options);
            rates.Add(state.LearningRate);
            if (state.Stopped) break;
        }
        // Epochs 3 and 4 make a plateau of 2: the rate drops to 1e-4 for epoch 5; epoch 5 is the third without a
        // better AUROC (a tie is not better), so training stops there and epoch 2 stays the best.
        Assert.Equal([1e-3, 1e-3, 1e-3, 1e-4, 1e-4], rates, new RelativeTolerance());
        Assert.True(state.Stopped);
        Assert.Equal(5, state.CompletedEpochs);
        Assert.Equal(2, state.BestEpoch);
        Assert.Equal(0.90, state.BestValidationMacroAuroc);
        Assert.Contains("no better validation macro-AUROC for 3 epochs", state.StopReason);
    }

    sealed class RelativeTolerance : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= 1e-12 * Math.Max(Math.Abs(a), Math.Abs(b));
        public int GetHashCode(double value) => 0;
    }
}
