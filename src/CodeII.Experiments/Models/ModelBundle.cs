using System.Security.Cryptography;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Preprocessing;
using CodeII.Experiments.Sweep;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Models;

/// <summary>A feature set's part and the version of its extractor (for <c>learned</c>, the checkpoint's hash).</summary>
public sealed record FeaturePartVersion(string Name, string Version);

/// <summary>The network a bundle needs: its learned features or its own outputs come from this checkpoint.</summary>
public sealed record BundleNetwork
{
    /// <summary>The checkpoint's path relative to the bundle's folder (the run folder's <c>network/best.bin</c>).</summary>
    public required string Checkpoint { get; init; }
    public required string Sha256 { get; init; }
    public required ResNetShape Shape { get; init; }
    /// <summary>The classes of the network's outputs, in order.</summary>
    public required IReadOnlyList<string> Classes { get; init; }
    public required int InputRateHz { get; init; }
    /// <summary>How records of other lengths than the input are read: centred crop (older bundles) or windows.</summary>
    public NetworkInput Input { get; init; } = new();
}

/// <summary>What <c>bundle.json</c> holds: everything needed to score a new ECG exactly as the run scored its test exams.</summary>
public sealed record BundleDescription
{
    /// <summary>Bumped when the layout changes; a library reads only the versions it knows.</summary>
    public const int CurrentFormatVersion = 1;

    public required int FormatVersion { get; init; }
    /// <summary>The model's name in reports and predictions, e.g. <c>handcrafted/lightgbm</c>, <c>prior</c>, <c>resnet</c>.</summary>
    public required string Model { get; init; }
    public required string Label { get; init; }
    /// <summary>The taxonomy the label is a code of, and its SNOMED-CT concept where one is known.</summary>
    public string? Taxonomy { get; init; }
    public string? SnomedCt { get; init; }
    /// <summary>The label subset whose labels shared this configuration; null when the label had its own.</summary>
    public string? Subset { get; init; }
    /// <summary>Scores at or above this are positive: the threshold that maximised F1 on the validation patients.</summary>
    public required double Threshold { get; init; }
    /// <summary>The catalogue's learner (<c>lightgbm</c>, <c>logistic_regression</c>, …, <c>prior</c>, <c>resnet</c>).</summary>
    public required string Learner { get; init; }
    public required IReadOnlyDictionary<string, double> Parameters { get; init; }
    /// <summary>The trial that chose the configuration, and its validation AUROC for this label.</summary>
    public required int Trial { get; init; }
    public required double ValidationAuroc { get; init; }
    /// <summary>The feature set the learner reads; null for models that read no features (<c>prior</c>, <c>resnet</c>).</summary>
    public string? FeatureSet { get; init; }
    public IReadOnlyList<FeaturePartVersion> FeatureParts { get; init; } = [];
    public IReadOnlyList<string> FeatureNames { get; init; } = [];
    /// <summary>Applied to every record before its features are extracted, as in the run.</summary>
    public PreprocessingOptions Preprocessing { get; init; } = new();
    public BundleNetwork? Network { get; init; }
    /// <summary>For <c>resnet</c>: which of the network's outputs is this label's score.</summary>
    public int? NetworkOutput { get; init; }
    /// <summary>For <c>zero_shot</c>: the outputs of the source classes that stand for this label in the target's
    /// taxonomy (through SNOMED-CT); the score is the largest of them.</summary>
    public IReadOnlyList<int>? NetworkOutputs { get; init; }

    /// <summary>The score a network-output model gives one exam's row of outputs.</summary>
    public float OutputScore(float[] outputs) => NetworkOutput is { } single ? outputs[single] : NetworkOutputs!.Max(i => outputs[i]);

    [System.Text.Json.Serialization.JsonIgnore]
    public bool ReadsNetworkOutputs => NetworkOutput is not null || NetworkOutputs is not null;
    /// <summary>For <c>prior</c>: the score every exam gets (the training prevalence as ML.NET's prior computes it).</summary>
    public double? ConstantScore { get; init; }
    /// <summary>For <c>ensemble</c>: the member bundles and the validation scores their scores are ranked against
    /// (<see cref="RankAverage"/>).</summary>
    public EnsembleDescription? Ensemble { get; init; }
    /// <summary>The file holding the fitted learner: <c>model.zip</c> (ML.NET, <c>ml.Model.Save</c>) or <c>booster.txt</c>
    /// (LightGBM's own model format); null when the score needs no learner file.</summary>
    public string? ModelFile { get; init; }
    public required string TrainingDataFingerprint { get; init; }
    public required IReadOnlyDictionary<string, string> Packages { get; init; }
}

/// <summary>A bundle that cannot be loaded: the message names the folder and what is wrong.</summary>
public sealed class ModelBundleException(string folder, string message) : Exception($"{folder}: {message}")
{
    public string Folder { get; } = folder;
}

/// <summary>
/// A fitted model as a folder a fresh process can load: <c>bundle.json</c> (<see cref="BundleDescription"/>) and the
/// learner's own file. Features are not stored: the bundle names its feature set and extractor versions, and loading
/// refuses a library whose extractors differ. Learned features and the network's outputs come from the checkpoint the
/// bundle points to, checked against its SHA-256.
/// </summary>
public sealed class ModelBundle : IDisposable
{
    public const string DescriptionFile = "bundle.json";
    public const string MlNetModelFile = "model.zip";
    public const string LightGbmModelFile = "booster.txt";

    readonly MLContext _ml = new(seed: 0);
    readonly Func<IReadOnlyList<float[]>, float[]>? _score;
    readonly LightGbmBinaryModel? _booster;
    readonly ITransformer? _learner;
    readonly float[][] _memberReferences = [];
    ResNet1d? _network;
    IEcgFeatureExtractor? _extractor;
    EcgPreprocessor? _preprocessor;

    ModelBundle(string folder, BundleDescription description, Func<IReadOnlyList<float[]>, float[]>? score, LightGbmBinaryModel? booster, ITransformer? learner)
    {
        Folder = folder;
        Description = description;
        _score = score;
        _booster = booster;
        _learner = learner;
    }

    /// <summary>An ensemble: its members, loaded, and their validation scores to rank against.</summary>
    ModelBundle(string folder, BundleDescription description, IReadOnlyList<ModelBundle> members) : this(folder, description, null, null, null)
    {
        Members = members;
        _memberReferences = [.. description.Ensemble!.Members.Select(m => m.ValidationScores)];
    }

    public string Folder { get; }
    public BundleDescription Description { get; }
    /// <summary>An ensemble's member bundles, in its order (owned by it); empty for any other model.</summary>
    public IReadOnlyList<ModelBundle> Members { get; } = [];
    public bool IsEnsemble => Description.Ensemble is not null;

    /// <summary>The folder of a model inside a run folder: <c>models/&lt;feature set&gt;/&lt;learner&gt;/&lt;label&gt;</c>
    /// (<c>models/prior/&lt;label&gt;</c>, <c>models/resnet/&lt;label&gt;</c>); a configuration shared by a subset adds
    /// <c>@&lt;subset&gt;</c> to the label.</summary>
    public static string RelativeFolder(string featureSet, string model, string label, string? subset)
    {
        var parts = new List<string> { "models" };
        var learner = model.Contains('/') ? model[(model.LastIndexOf('/') + 1)..] : model;
        if (learner is not (BinaryLearnerCatalog.Prior or LearnedFeatures.EndToEndModel or Evaluation.ExperimentEvaluator.EnsembleModel)) parts.Add(featureSet);
        parts.Add(learner);
        parts.Add(subset is null ? label : $"{label}@{subset}");
        return Path.Combine([.. parts.Select(SafeName)]);
    }

    static string SafeName(string name) => string.Concat(name.Select(c => Path.GetInvalidFileNameChars().Contains(c) || c == '/' ? '_' : c));

    /// <summary>Writes a bundle; the description is written last, so a folder with a <c>bundle.json</c> is complete.</summary>
    public static void Save(string folder, BundleDescription description, FittedModel? fitted, int featureCount)
    {
        Directory.CreateDirectory(folder);
        if (fitted?.Booster is { } booster)
        {
            AtomicFile.WriteText(Path.Combine(folder, LightGbmModelFile), booster.ToModelString());
            description = description with { ModelFile = LightGbmModelFile };
        }
        else if (fitted is not null && description.Learner != BinaryLearnerCatalog.Prior)
        {
            var ml = new MLContext(seed: 0);
            AtomicFile.WriteStream(Path.Combine(folder, MlNetModelFile), stream => ml.Model.Save(fitted.Model, LabelledFeatureRows.Load(ml, [], featureCount).Schema, stream));
            description = description with { ModelFile = MlNetModelFile };
        }
        else if (fitted is not null)
            description = description with { ConstantScore = LabelledFeatureRows.Probabilities(new MLContext(seed: 0), fitted.Model, [new float[featureCount]], featureCount)[0] };
        AtomicFile.WriteText(Path.Combine(folder, DescriptionFile), JsonConventions.Serialize(description));
    }

    /// <summary>A bundle's <c>bundle.json</c>, checked for a format version this library reads.</summary>
    public static BundleDescription ReadDescription(string folder)
    {
        var path = Path.Combine(folder, DescriptionFile);
        if (!File.Exists(path)) throw new ModelBundleException(folder, $"not a model bundle: it has no {DescriptionFile}");
        BundleDescription description;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            // The version first, so a newer layout is named as such rather than failing on a key this version lacks.
            if (!document.RootElement.TryGetProperty("format_version", out var version) || version.ValueKind != JsonValueKind.Number)
                throw new ModelBundleException(folder, $"{DescriptionFile} has no format_version");
            if (!version.TryGetInt32(out var number) || number != BundleDescription.CurrentFormatVersion)
                throw new ModelBundleException(folder, $"{DescriptionFile} has format_version {version.GetRawText()}; this version of codeii reads format_version {BundleDescription.CurrentFormatVersion} only");
            description = document.RootElement.Deserialize<BundleDescription>(JsonConventions.Strict)
                ?? throw new ModelBundleException(folder, $"{DescriptionFile} is empty");
        }
        catch (JsonException e)
        {
            throw new ModelBundleException(folder, $"{DescriptionFile}: {e.Message}");
        }
        return description;
    }

    /// <summary>Loads a bundle written by <see cref="Save"/>, checking that this library can score it as it was scored.</summary>
    public static ModelBundle Load(string folder)
    {
        var description = ReadDescription(folder);
        CheckFeatureSet(folder, description);

        var width = description.FeatureNames.Count;
        string File_(string name)
        {
            var file = Path.Combine(folder, name);
            if (!File.Exists(file)) throw new ModelBundleException(folder, $"the learner's file {name} is missing");
            return file;
        }
        var ml = new MLContext(seed: 0);
        switch (description)
        {
            case { Ensemble: { } ensemble }:
                return new ModelBundle(folder, description, LoadMembers(folder, ensemble));
            case { ModelFile: LightGbmModelFile }:
                LightGbmBinaryModel booster;
                try { booster = LightGbmBinaryModel.Load(ml, File.ReadAllText(File_(LightGbmModelFile)), width); }
                catch (InvalidOperationException e) { throw new ModelBundleException(folder, $"{LightGbmModelFile}: {e.Message}"); }
                return new ModelBundle(folder, description, booster.Predict, booster, null);
            case { ModelFile: MlNetModelFile }:
                ITransformer learner;
                try
                {
                    using var stream = File.OpenRead(File_(MlNetModelFile));
                    learner = ml.Model.Load(stream, out _);
                }
                catch (Exception e) when (e is InvalidOperationException or FormatException or InvalidDataException or ArgumentException)
                {
                    throw new ModelBundleException(folder, $"{MlNetModelFile} cannot be read by ML.NET: {e.Message}");
                }
                return new ModelBundle(folder, description, rows => LabelledFeatureRows.Probabilities(ml, learner, rows, width), null, learner);
            case { ModelFile: not null }:
                throw new ModelBundleException(folder, $"unknown model file '{description.ModelFile}'");
            case { ConstantScore: { } constant }:
                return new ModelBundle(folder, description, rows => [.. rows.Select(_ => (float)constant)], null, null);
            case { ReadsNetworkOutputs: true } when description.Network is not null:
                return new ModelBundle(folder, description, rows => [.. rows.Select(description.OutputScore)], null, null);
            default:
                throw new ModelBundleException(folder, $"{DescriptionFile} names no model file, constant score or network output");
        }
    }

    /// <summary>An ensemble's members, each a bundle of the same run (its folder under the run's <c>models/</c>), none an
    /// ensemble itself; a path that leaves <c>models/</c> is refused before the file system is asked.</summary>
    static ModelBundle[] LoadMembers(string folder, EnsembleDescription ensemble)
    {
        if (ensemble.Method != EnsembleDescription.RankAverageMethod)
            throw new ModelBundleException(folder, $"ensemble.method '{ensemble.Method}' is unknown; this version of codeii reads '{EnsembleDescription.RankAverageMethod}'");
        if (ensemble.Members.Count == 0) throw new ModelBundleException(folder, "ensemble.members is empty");
        var models = new DirectoryInfo(Path.GetFullPath(folder));
        while (models is not null && models.Name != RunFolderModels) models = models.Parent;
        var members = new List<ModelBundle>();
        try
        {
            foreach (var member in ensemble.Members)
            {
                var path = Path.IsPathRooted(member.Bundle) ? null : Path.GetFullPath(Path.Combine(folder, member.Bundle));
                if (models is null || path is null || !path.StartsWith(models.FullName + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new ModelBundleException(folder, $"ensemble member '{member.Bundle}' must name a bundle in the models/ folder that holds the ensemble (e.g. ../../handcrafted/lightgbm/AF)");
                if (member.ValidationScores.Length == 0) throw new ModelBundleException(folder, $"ensemble member '{member.Bundle}' has no validation scores to rank against");
                var loaded = Load(path);
                members.Add(loaded);
                if (loaded.IsEnsemble) throw new ModelBundleException(folder, $"ensemble member '{member.Bundle}' is an ensemble itself");
            }
        }
        catch
        {
            foreach (var m in members) m.Dispose();
            throw;
        }
        return [.. members];
    }

    const string RunFolderModels = "models";

    /// <summary>Refuses a bundle whose features this library would compute differently.</summary>
    static void CheckFeatureSet(string folder, BundleDescription description)
    {
        foreach (var part in description.FeatureParts)
        {
            if (part.Name == LearnedFeatures.SetName)
            {
                if (description.Network is null) throw new ModelBundleException(folder, "the bundle uses learned features but names no network");
                continue;
            }
            IEcgFeatureExtractor extractor;
            try { extractor = FeatureSetCatalog.Create(part.Name); }
            catch (ArgumentException e) { throw new ModelBundleException(folder, e.Message); }
            if ($"v{extractor.Version}" != part.Version)
                throw new ModelBundleException(folder, $"feature set '{part.Name}' is {part.Version} in the bundle; this version of codeii computes v{extractor.Version}, whose values differ");
        }
        var expected = description.FeatureParts.Sum(p => p.Name == LearnedFeatures.SetName ? description.Network!.Shape.EmbeddingSize
            : FeatureSetCatalog.Create(p.Name).FeatureNames.Count);
        if (description.Network is { } outputs)
            foreach (var output in (description.NetworkOutputs ?? []).Concat(description.NetworkOutput is { } single ? [single] : []))
                if (output < 0 || output >= outputs.Classes.Count)
                    throw new ModelBundleException(folder, $"network output {output} is not one of the network's {outputs.Classes.Count} outputs");
        if (description.NetworkOutputs is { Count: 0 }) throw new ModelBundleException(folder, "network_outputs is empty");
        if (description.FeatureSet is not null && expected != description.FeatureNames.Count)
            throw new ModelBundleException(folder, $"the bundle lists {description.FeatureNames.Count} feature names; its feature set '{description.FeatureSet}' has {expected}");
        if (description.Network is { } network && !File.Exists(CheckpointPath(folder, network)))
            throw new ModelBundleException(folder, $"the network checkpoint {network.Checkpoint} is missing");
    }

    /// <summary>
    /// Where the checkpoint is: a <c>network/</c> folder of the run folder holding the bundle, named relative to the
    /// bundle. Anything else (an absolute path, one that climbs out of the bundle's enclosing folders) is refused before
    /// the file system is asked, so a bundle cannot make codeii read an arbitrary file.
    /// </summary>
    static string CheckpointPath(string folder, BundleNetwork network)
    {
        // The run folder is the parent of the nearest enclosing models/ folder.
        var bundle = Path.GetFullPath(folder);
        var models = new DirectoryInfo(bundle);
        while (models is not null && models.Name != "models") models = models.Parent;
        var run = models?.Parent?.FullName;
        var checkpoint = Path.IsPathRooted(network.Checkpoint) ? null : Path.GetFullPath(Path.Combine(bundle, network.Checkpoint));
        if (run is null || checkpoint is null || Path.GetDirectoryName(checkpoint) != Path.Combine(run, "network"))
            throw new ModelBundleException(folder, $"network.checkpoint '{network.Checkpoint}' must name a file in the network/ folder of the run that holds the bundle (e.g. ../../../../network/best.bin)");
        return checkpoint;
    }

    /// <summary>The checkpoint's full path, after checking its hash (a changed network would give other features).</summary>
    public string NetworkCheckpoint()
    {
        var network = Description.Network ?? throw new InvalidOperationException($"{Folder}: the bundle uses no network");
        var checkpoint = CheckpointPath(Folder, network);
        using (var stream = File.OpenRead(checkpoint))
            if (Convert.ToHexStringLower(SHA256.HashData(stream)) != network.Sha256)
                throw new ModelBundleException(Folder, $"the network checkpoint {network.Checkpoint} does not have the SHA-256 the bundle records");
        return checkpoint;
    }

    /// <summary>Scores rows of the bundle's features (for <c>resnet</c>, rows of the network's outputs; for <c>prior</c>, any rows).</summary>
    public float[] ScoreFeatures(IReadOnlyList<float[]> rows) => _score is { } score ? score(rows)
        : throw new InvalidOperationException($"{Folder}: an ensemble scores its members' scores (CombineMembers), not feature rows");

    /// <summary>An ensemble's scores of some exams from its members' scores of them (<c>memberScores[m][i]</c>, members in
    /// <see cref="Members"/>' order).</summary>
    public float[] CombineMembers(IReadOnlyList<float[]> memberScores) => IsEnsemble ? RankAverage.Scores(_memberReferences, memberScores)
        : throw new InvalidOperationException($"{Folder}: not an ensemble");

    /// <summary>This bundle's probability for one record, with the bundle's own preprocessing and features.</summary>
    public float Predict(EcgRecord record)
    {
        if (IsEnsemble) return CombineMembers([.. Members.Select(m => new[] { m.Predict(record) })])[0];
        _preprocessor ??= new EcgPreprocessor(Description.Preprocessing);
        var prepared = Description.Preprocessing.IsIdentity ? record : _preprocessor.Apply(record);
        if (Description.ReadsNetworkOutputs)
        {
            var network = Network();
            var loader = NetworkPretraining.InputLoader(new SingleRecordSource(prepared), network.Shape, Description.Network!.InputRateHz, decodeThreads: 1, Description.Network.Input);
            var (_, outputs) = NetworkPretraining.Infer(network, loader, [0], batchSize: 1);
            return Description.OutputScore(outputs);
        }
        if (Description.FeatureSet is null) return ScoreFeatures([[]])[0];
        var extractor = Extractor();
        var features = new float[extractor.FeatureNames.Count];
        extractor.Extract(record, features);
        return ScoreFeatures([features])[0];
    }

    /// <summary>The bundle's feature extractor, rebuilt from the catalogue (and the checkpoint for learned features),
    /// applying the bundle's preprocessing to each record first.</summary>
    public IEcgFeatureExtractor Extractor()
    {
        if (_extractor is not null) return _extractor;
        var features = Description.FeatureParts.Count == 1 ? Part(Description.FeatureParts[0]) : new FusedFeatureExtractor([.. Description.FeatureParts.Select(Part)]);
        return _extractor = Description.Preprocessing.IsIdentity ? features : new PreprocessingExtractor(features, new EcgPreprocessor(Description.Preprocessing));
    }

    /// <summary>An extractor that reads records through a preprocessing, as the run's source did.</summary>
    sealed class PreprocessingExtractor(IEcgFeatureExtractor inner, EcgPreprocessor preprocessor) : IEcgFeatureExtractor
    {
        public string Name => inner.Name;
        public int Version => inner.Version;
        public IReadOnlyList<string> FeatureNames => inner.FeatureNames;
        public void Extract(EcgRecord record, Span<float> destination) => inner.Extract(preprocessor.Apply(record), destination);
    }

    IEcgFeatureExtractor Part(FeaturePartVersion part) => part.Name == LearnedFeatures.SetName
        ? new NetworkEmbeddingExtractor(Network(), Description.Network!.InputRateHz)
        : FeatureSetCatalog.Create(part.Name);

    /// <summary>The bundle's network, loaded once from its checkpoint (hash checked); owned by the bundle.</summary>
    /// <param name="threads">libtorch's threads, when this is the process's first use of it (all cores otherwise).</param>
    public ResNet1d Network(int? threads = null)
    {
        if (_network is not null) return _network;
        TorchRuntime.EnsureLoaded(threads);
        var checkpoint = NetworkCheckpoint();
        var model = new ResNet1d(Description.Network!.Shape);
        try
        {
            model.load(checkpoint);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException)
        {
            model.Dispose();
            throw new ModelBundleException(Folder, $"the network checkpoint does not fit the network shape the bundle records: {e.Message}");
        }
        model.eval();
        return _network = model;
    }

    /// <summary>
    /// The bundle as an ML.NET transformer from <see cref="EcgSignalRow"/> columns to "Features" and "Probability":
    /// the bundle's preprocessing and feature extraction followed by the learner, for composing in a notebook. Models that read no features
    /// (prior, resnet) have no such pipeline; use <see cref="Predict"/>.
    /// </summary>
    public ITransformer Transformer(MLContext ml)
    {
        if (Description.FeatureSet is null)
            throw new InvalidOperationException($"{Description.Model} reads no features; score records with Predict");
        var empty = ml.Data.LoadFromEnumerable(Array.Empty<EcgSignalRow>());
        var features = ml.Transforms.ExtractEcgFeatures(Extractor()).Fit(empty);
        return features.Append(_booster?.Transformer ?? _learner!);
    }

    public void Dispose()
    {
        foreach (var member in Members) member.Dispose();
        _network?.Dispose();
        _booster?.Dispose();
    }

    /// <summary>One record as a source, for the network's batch loader.</summary>
    sealed class SingleRecordSource(EcgRecord record) : IEcgSource
    {
        public string Name => record.ExamId;
        public int Count => 1;
        public IReadOnlyList<string> ClassNames => [];
        public bool HasPatientIds => false;
        public EcgRecord Read(int index) => record;
        public string Describe() => record.ExamId;
        public string ExamIdAt(int index) => record.ExamId;
    }
}
