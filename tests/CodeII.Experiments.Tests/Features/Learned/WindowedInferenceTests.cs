using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features.Learned;
using static TorchSharp.torch;

namespace CodeII.Experiments.Tests.Features.Learned;

[Collection(nameof(LibtorchCollection))]
public class WindowedInferenceTests
{
    [Theory]
    [InlineData(3000, 1000, 0.5, new[] { 0, 500, 1000, 1500, 2000 })]
    [InlineData(1200, 1000, 0.5, new[] { 0, 200 })]
    [InlineData(2500, 1000, 1.0, new[] { 0, 1000, 1500 })]
    [InlineData(1000, 1000, 0.5, new int[0])]
    [InlineData(600, 1000, 0.5, new int[0])]
    public void Windows_cover_the_whole_record_at_the_stride_and_end_on_its_last_sample(int length, int window, double stride, int[] expected) =>
        Assert.Equal(expected, new NetworkInput { Windowing = InputWindowing.Windows, Stride = stride }.WindowStarts(length, window));

    [Fact]
    public void A_long_records_outputs_are_the_mean_or_max_over_its_windows_and_a_short_record_reads_as_with_a_crop()
    {
        TorchRuntime.EnsureLoaded(threads: 1);
        var shape = NetworkTrainerTests.Tiny;
        // Records of 2.56 s (one window, as the input) and of 9 s at the network's rate.
        var shortRecords = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 2, Seed = 3, SamplingRateHz = 100, DurationSeconds = 2.56, PaddedLength = 0 });
        var longRecords = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 2, Seed = 3, SamplingRateHz = 100, DurationSeconds = 9, PaddedLength = 0 });
        using var model = new ResNet1d(shape, seed: 5);
        foreach (var aggregate in new[] { WindowAggregate.Mean, WindowAggregate.Max })
        {
            var input = new NetworkInput { Windowing = InputWindowing.Windows, Aggregate = aggregate, Stride = 0.5 };
            var (_, outputs) = NetworkPretraining.Infer(model, NetworkPretraining.InputLoader(longRecords, shape, 100, 1, input), [0, 1], batchSize: 64);
            // The oracle: the network on each window cut by hand, one at a time, aggregated here.
            var samples = shape.InputSamples;
            for (var r = 0; r < 2; r++)
            {
                var record = longRecords.Read(r);
                var starts = input.WindowStarts(record.SampleCount, samples);
                Assert.Equal([0, 128, 256, 384, 512, 640, 644], starts); // 900 samples, windows of 256 every 128, and one ending at the last sample
                var perWindow = starts.Select(start =>
                {
                    var exam = new float[12 * samples];
                    for (var l = 0; l < 12; l++) record.Signals[l].AsSpan(start, samples).CopyTo(exam.AsSpan(l * samples, samples));
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    return model.Probabilities(tensor(exam, [1, 12, samples])).data<float>().ToArray();
                }).ToArray();
                for (var c = 0; c < shape.Classes; c++)
                {
                    var expected = aggregate == WindowAggregate.Mean ? perWindow.Average(w => w[c]) : perWindow.Max(w => w[c]);
                    Assert.Equal(expected, outputs[r * shape.Classes + c], 5);
                }
            }
        }
        // A record no longer than the input: windows and crop give the same numbers.
        var windows = NetworkPretraining.Infer(model, NetworkPretraining.InputLoader(shortRecords, shape, 100, 1, new NetworkInput { Windowing = InputWindowing.Windows }), [0, 1], 64);
        var crop = NetworkPretraining.Infer(model, NetworkPretraining.InputLoader(shortRecords, shape, 100, 1), [0, 1], 64);
        Assert.Equal(crop.Probabilities, windows.Probabilities);
        Assert.Equal(crop.Embeddings, windows.Embeddings);
    }
}
