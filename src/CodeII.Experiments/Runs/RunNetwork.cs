using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Models;

namespace CodeII.Experiments.Runs;

/// <summary>
/// The run folder's <c>network/</c>: a copy of the checkpoint the run used (<c>best.bin</c>) and <c>network.json</c>
/// with its shape, classes, input, training history and SHA-256, so the run's models need no cache to be scored.
/// </summary>
public static class RunNetwork
{
    public const string Folder = "network";
    public const string Checkpoint = "best.bin";
    public const string DescriptionFile = "network.json";

    public sealed record Description
    {
        public required string Model { get; init; }
        public required ResNetShape Shape { get; init; }
        public required IReadOnlyList<string> Classes { get; init; }
        public required int InputRateHz { get; init; }
        public required string Sha256 { get; init; }
        public required string TrainedOn { get; init; }
        public required long Parameters { get; init; }
        public required TrainingState Training { get; init; }
    }

    public static void Write(RunFolder run, PretrainedNetwork network, PretrainDefinition pretrain)
    {
        var folder = run.FileIn(Folder);
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, Checkpoint);
        AtomicFile.Write(target, temporary => File.Copy(Path.Combine(network.CheckpointFolder, Checkpoint), temporary, overwrite: true));
        AtomicFile.WriteText(Path.Combine(folder, DescriptionFile), JsonConventions.Serialize(new Description
        {
            Model = pretrain.Model,
            Shape = network.Model.Shape,
            Classes = network.Classes,
            InputRateHz = pretrain.InputRateHz,
            Sha256 = network.CheckpointSha256,
            TrainedOn = network.TrainedOn,
            Parameters = network.Parameters,
            Training = network.State,
        }));
    }

    /// <summary>How a bundle at <paramref name="bundleRelative"/> inside the run folder points to the run's network.</summary>
    public static BundleNetwork Reference(RunFolder run, string bundleRelative, PretrainedNetwork network, PretrainDefinition pretrain) => new()
    {
        Checkpoint = Path.GetRelativePath(run.FileIn(bundleRelative), run.FileIn(Path.Combine(Folder, Checkpoint))),
        Sha256 = network.CheckpointSha256,
        Shape = network.Model.Shape,
        Classes = network.Classes,
        InputRateHz = pretrain.InputRateHz,
        Input = pretrain.Input,
    };
}
