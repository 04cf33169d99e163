using System.Globalization;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;
using CodeII.Experiments.Features.Learned;
using CodeII.Experiments.Labels;
using CodeII.Experiments.Sweep;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace CodeII.Experiments.Experiments;

/// <summary>A problem in a definition file, located by file, line, column and key path.</summary>
public sealed class ExperimentDefinitionException(string file, int line, int column, string key, string problem)
    : Exception($"{file}:{line}:{column}: {(key.Length > 0 ? $"'{key}': " : "")}{problem}")
{
    public string File { get; } = file;
    public int Line { get; } = line;
    public int Column { get; } = column;
    public string Key { get; } = key;
}

/// <summary>
/// Reads an experiment definition strictly: unknown keys, wrong types and out-of-range values are errors that name
/// the file, the line and the key, because a silently ignored typo would run a different experiment than intended.
/// </summary>
public static class ExperimentDefinitionLoader
{
    public static ExperimentDefinition LoadFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"experiment definition not found: {path}", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>The definition a run folder keeps (<c>definition.yaml</c>), as its run started with it.</summary>
    public static ExperimentDefinition Read(Runs.RunFolder folder)
    {
        var path = folder.FileIn(Runs.RunFolder.DefinitionFile);
        return Parse(File.ReadAllText(path), path);
    }

    public static ExperimentDefinition Parse(string yaml, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ExperimentDefinitionException(fileName, (int)e.Start.Line, (int)e.Start.Column, "", $"not valid YAML: {e.InnerException?.Message ?? e.Message}");
        }
        // A second document would be silently ignored: one definition per file.
        if (stream.Documents.Count > 1)
            throw new ExperimentDefinitionException(fileName, (int)stream.Documents[1].RootNode.Start.Line, (int)stream.Documents[1].RootNode.Start.Column, "",
                $"the file holds {stream.Documents.Count} YAML documents (separated by '---'); a definition is one document: put each experiment in a file of its own");
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ExperimentDefinitionException(fileName, 1, 1, "", "the definition must be a mapping of keys such as name, dataset, label_subsets and learners");
        RefuseKeysThatAreNotNames(root, fileName);
        return new Reader(fileName).Definition(root);
    }

    /// <summary>YAML allows a list or a mapping as a key (<c>[a, b]: 1</c>); every key of a definition is a name, so
    /// such a key is refused once, here, where it is found, rather than wherever a reader meets it. An alias that
    /// stands for a node containing it (<c>a: &amp;x [*x]</c>) would make the definition endless, and is refused too.</summary>
    static void RefuseKeysThatAreNotNames(YamlNode root, string fileName)
    {
        var checkedNodes = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        var enclosing = new HashSet<YamlNode>(ReferenceEqualityComparer.Instance);
        Check(root, "");

        void Check(YamlNode node, string path)
        {
            if (enclosing.Contains(node))
                throw new ExperimentDefinitionException(fileName, (int)node.Start.Line, (int)node.Start.Column, path,
                    "an alias here stands for a mapping or list that contains it; a definition cannot repeat itself endlessly");
            // An anchor used many times is checked once: aliases cannot multiply the work.
            if (!checkedNodes.Add(node)) return;
            enclosing.Add(node);
            switch (node)
            {
                case YamlMappingNode mapping:
                    foreach (var (key, value) in mapping.Children)
                    {
                        if (key is not YamlScalarNode { Value: var name })
                            throw new ExperimentDefinitionException(fileName, (int)key.Start.Line, (int)key.Start.Column, path,
                                $"a key must be a name, not a {(key is YamlSequenceNode ? "list" : "mapping")}");
                        Check(value, path.Length == 0 ? name ?? "" : $"{path}.{name}");
                    }
                    break;
                case YamlSequenceNode sequence:
                    for (var i = 0; i < sequence.Children.Count; i++) Check(sequence.Children[i], $"{path}[{i}]");
                    break;
            }
            enclosing.Remove(node);
        }
    }

    /// <summary>The longest experiment, subset or source name: a folder name with room for the run's timestamp.</summary>
    public const int MaxNameLength = 100;

    sealed class Reader(string file)
    {
        static readonly string[] TopKeys = ["name", "seed", "dataset", "splits", "preprocessing", "label_subsets", "features", "pretrain", "learners", "sweep", "evaluation", "transfer"];
        static readonly string[] TransferKeys = ["sources", "targets", "modes", "target_fractions"];
        static readonly string[] SourceKeys = ["dataset", "classes", "weights", "taxonomy"];
        static readonly string[] TargetKeys = ["dataset", "label_subsets", "splits"];
        static readonly string[] ArmNames = [.. Enum.GetValues<TransferArm>().Select(JsonConventions.SnakeCase)];
        static readonly string[] PreprocessingKeys = ["leads", "resample_hz", "highpass_hz", "lowpass_hz", "notch_hz", "filter_order", "normalize", "length"];
        static readonly string[] DatasetKeys = ["kind", "path", "exams", "seed", "sampling_rate_hz", "duration_s", "max_duration_s", "padded_length", "max_exams_per_patient",
            "prevalence", "missed_label_rate", "spurious_label_rate", "labels", "likelihood", "ecg_ids", "taxonomy", "taxonomy_file", "record_prefixes", "skip_bad_records"];
        static readonly string[] SyntheticOnlyKeys = ["exams", "seed", "duration_s", "max_duration_s", "padded_length", "max_exams_per_patient", "prevalence", "missed_label_rate", "spurious_label_rate"];
        static readonly string[] PtbXlOnlyKeys = ["labels", "likelihood", "ecg_ids"];
        static readonly string[] ChallengeOnlyKeys = ["taxonomy_file", "record_prefixes"];
        static readonly string[] SyntheticTaxonomies = [SyntheticClasses.TaxonomyName, "cpsc9"];
        static readonly string[] ChallengeTaxonomies = [Data.Challenge.SnomedMapping.ScoredTaxonomyName, "cpsc9"];
        static readonly string[] SplitKeys = ["kind", "train", "validation", "train_share"];
        static readonly string[] LearnerKeys = ["trials", "space"];
        static readonly string[] SweepKeys = ["tuner", "objective", "share", "trials", "work", "seconds", "early_stopping_rounds", "threads_per_trial", "memory_limit_mb", "halving", "ensemble"];
        static readonly string[] Objectives = ["auroc", "auprc", "f1", "challenge"];
        static readonly string[] Sharings = ["per_label", "per_subset"];
        static readonly string[] EvaluationKeys = ["bootstrap_replicates", "confidence", "importance"];
        static readonly string[] FeatureSets = [.. FeatureSetCatalog.RecordOnlySets, LearnedFeatures.SetName];
        static readonly string[] PretrainKeys = ["model", "sampling_rate_hz", "epochs", "batch_size", "learning_rate", "weight_positives",
            "plateau_patience", "plateau_factor", "early_stopping_patience", "time_budget_s", "end_to_end", "dataset", "labels", "transfer", "fine_tune_epochs",
            "variant", "input_samples", "units", "input", "window_aggregate", "window_stride"];
        static readonly string[] TransferModes = ["frozen", "fine_tune"];
        static readonly IReadOnlyList<string> DatasetKinds = DatasetDefinition.Kinds;

        /// <summary>Where each label was written, so a label the dataset lacks can be pointed at once the dataset is known.</summary>
        readonly List<(string Subset, string Label, YamlNode Node)> _labelNodes = [];
        readonly List<(string Label, YamlNode Node)> _pretrainLabelNodes = [];
        bool _pretrainSeedGiven;

        ExperimentDefinitionException Error(YamlNode node, string key, string problem) =>
            new(file, (int)node.Start.Line, (int)node.Start.Column, key, problem);

        public ExperimentDefinition Definition(YamlMappingNode root)
        {
            var d = new ExperimentDefinition();
            // The seed is read first: the transfer section's datasets take theirs from it wherever it is written.
            foreach (var (keyNode, value) in root.Children)
                if (keyNode is YamlScalarNode { Value: "seed" }) d = d with { Seed = Int(value, "seed", 0, int.MaxValue) };
            var datasetSeedGiven = false;
            YamlNode? featuresNode = null;
            foreach (var (keyNode, value) in Entries(root, "", TopKeys))
            {
                var key = keyNode.Value!;
                d = key switch
                {
                    "name" => d with { Name = Name(value, key) },
                    "seed" => d with { Seed = Int(value, key, 0, int.MaxValue) },
                    "dataset" => d with { Dataset = Dataset(value, key, out datasetSeedGiven) },
                    "splits" => d with { Splits = Splits(value, key) },
                    "preprocessing" => d with { Preprocessing = Preprocessing(value, key) },
                    "label_subsets" => d with { LabelSubsets = LabelSubsets(value, key) },
                    "features" => d with { Features = FeatureSetList(value, key, out featuresNode) },
                    "pretrain" => Pretrain(d, value, key),
                    "learners" => d with { Learners = Learners(value, key) },
                    "sweep" => d with { Sweep = Sweep(value, key) },
                    "evaluation" => d with { Evaluation = Evaluation(value, key) },
                    "transfer" => d with { Transfer = Transfer(value, key, d.Seed) },
                    _ => d,
                };
            }
            if (d.Transfer is not null) return TransferDefinitionChecked(d, root, featuresNode);
            // The data follow the experiment's seed unless the definition pins the dataset's own.
            if (!datasetSeedGiven)
                d = d with { Dataset = d.Dataset with { Synthetic = d.Dataset.Synthetic with { Seed = d.Seed } } };
            // A synthetic pre-training source with the experiment's seed would be the experiment's own exams, test
            // patients included: it gets a seed of its own (the experiment's + 1000) unless one is written.
            if (d.PretrainDataset is { } source && !_pretrainSeedGiven)
                d = d with { PretrainDataset = source with { Synthetic = source.Synthetic with { Seed = d.Seed + 1000 } } };
            CheckLabelsExist(d);
            if (d.FeatureParts.Contains(LearnedFeatures.SetName) && d.Pretrain is null)
                throw Error(featuresNode ?? root, "features", "the learned features come from a network: add a 'pretrain' section (for example 'pretrain: { model: small, epochs: 10 }')");
            if (d.Splits.Kind == SplitKind.Predefined && d.Dataset.Kind != DatasetDefinition.PtbXlKind)
                throw Error(root, "splits.kind", $"'predefined' needs a dataset with its own split (ptb-xl), not '{d.Dataset.Kind}'");
            return d;
        }

        /// <summary>A transfer definition names its data under transfer: the one-dataset keys would be ignored, so they are refused.</summary>
        ExperimentDefinition TransferDefinitionChecked(ExperimentDefinition d, YamlMappingNode root, YamlNode? featuresNode)
        {
            foreach (var (keyNode, _) in root.Children)
                if (((YamlScalarNode)keyNode).Value is "dataset" or "label_subsets" or "splits")
                    throw Error(keyNode, ((YamlScalarNode)keyNode).Value!, "a transfer definition names its data under transfer.sources and transfer.targets (each target with its own label_subsets and splits)");
            if (d.Pretrain is null)
                throw Error(root, "pretrain", "a transfer definition needs a 'pretrain' section: the network every source, fine-tuning and scratch run trains (e.g. 'pretrain: { model: small, epochs: 10 }')");
            if (d.PretrainDataset is not null || d.PretrainLabels is not null)
                throw Error(root, "pretrain", "in a transfer definition the pre-training data are the sources under transfer.sources, not pretrain.dataset");
            if (root.Children.FirstOrDefault(e => e.Key is YamlScalarNode { Value: "pretrain" }).Value is YamlMappingNode pretrainNode)
                foreach (var key in pretrainNode.Children.Keys.OfType<YamlScalarNode>().Where(k => k.Value is "transfer" or "end_to_end"))
                    throw Error(key, $"pretrain.{key.Value}", "is set by each cell of a transfer run (transfer.modes says which)");
            if (featuresNode is not null && d.FeatureParts.Contains(LearnedFeatures.SetName))
                throw Error(featuresNode, "features", "in a transfer definition 'features' is the non-learned reference on each target (e.g. handcrafted); the learned features are the modes");
            return featuresNode is null ? d with { Features = [HandcraftedFeatureExtractor.SetName] } : d;
        }

        TransferDefinition Transfer(YamlNode node, string path, int seed)
        {
            List<TransferSource> sources = [];
            List<TransferTarget> targets = [];
            IReadOnlyList<TransferArm> modes = Enum.GetValues<TransferArm>();
            IReadOnlyList<double> fractions = [1.0];
            foreach (var (keyNode, value) in Entries(node, path, TransferKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                switch (keyNode.Value)
                {
                    case "sources":
                        foreach (var (nameNode, spec) in Entries(value, key, allowed: null))
                        {
                            var at = $"{key}.{nameNode.Value}";
                            DatasetDefinition? dataset = null;
                            IReadOnlyList<string>? classes = null;
                            string? weights = null;
                            var taxonomy = SyntheticClasses.TaxonomyName;
                            var seedGiven = false;
                            foreach (var (k, v) in Entries(spec, at, SourceKeys))
                                switch (k.Value)
                                {
                                    case "dataset": dataset = Dataset(v, $"{at}.dataset", out seedGiven); break;
                                    case "weights": weights = Scalar(v, $"{at}.weights"); break;
                                    case "taxonomy": taxonomy = OneOf(v, $"{at}.taxonomy", Taxonomy.BuiltIn); break;
                                    default:
                                        classes = v is YamlSequenceNode { Children.Count: > 0 } classList ? [.. classList.Children.Select(c => Scalar(c, $"{at}.classes"))]
                                            : throw Error(v, $"{at}.classes", "expected a non-empty list of the source's classes");
                                        break;
                                }
                            if (dataset is null == weights is null)
                                throw Error(spec, at, "a source is either a dataset to pre-train on ('dataset') or a network imported from PyTorch weights ('weights'), not both");
                            if (weights is null && spec is YamlMappingNode sourceSpec && sourceSpec.Children.Keys.OfType<YamlScalarNode>().FirstOrDefault(k => k.Value == "taxonomy") is { } taxonomyKey)
                                throw Error(taxonomyKey, $"{at}.taxonomy", "applies to imported weights only; a dataset source's taxonomy is its dataset's");
                            if (weights is not null && classes is not null && classes.FirstOrDefault(c => Taxonomy.Named(taxonomy).Find(c) is null) is { } unknown)
                                throw Error(spec, $"{at}.classes", $"'{unknown}' is not a class of the {taxonomy} taxonomy ({string.Join(", ", Taxonomy.Named(taxonomy).Classes.Select(c => c.Code))}); set the source's taxonomy");
                            if (weights is not null && classes is null)
                                throw Error(spec, $"{at}.classes", "an imported network needs the classes of its outputs, in order, e.g. [1dAVb, RBBB, LBBB, SB, AF, ST]");
                            // A synthetic source must not be the targets' exams: a seed of its own unless one is written.
                            if (dataset is not null && !seedGiven) dataset = dataset with { Synthetic = dataset.Synthetic with { Seed = seed + 1000 * (sources.Count + 1) } };
                            sources.Add(new TransferSource
                            {
                                Name = Name(nameNode, at), Dataset = dataset, Classes = classes,
                                Weights = weights is null ? null : new ImportedNetwork(weights, classes!, taxonomy),
                            });
                        }
                        if (sources.Count == 0) throw Error(value, key, "needs at least one source");
                        break;
                    case "targets":
                        foreach (var (nameNode, spec) in Entries(value, key, allowed: null))
                        {
                            var at = $"{key}.{nameNode.Value}";
                            DatasetDefinition? dataset = null;
                            IReadOnlyList<LabelSubset>? subsets = null;
                            var splits = new SplitDefinition();
                            var seedGiven = false;
                            var labelsFrom = _labelNodes.Count;
                            foreach (var (k, v) in Entries(spec, at, TargetKeys))
                                switch (k.Value)
                                {
                                    case "dataset": dataset = Dataset(v, $"{at}.dataset", out seedGiven); break;
                                    case "label_subsets": subsets = LabelSubsets(v, $"{at}.label_subsets"); break;
                                    default:
                                        splits = Splits(v, $"{at}.splits");
                                        if (splits.TrainShare != 1)
                                            throw Error(v, $"{at}.splits.train_share", "a target's training shares are transfer.target_fractions");
                                        break;
                                }
                            if (dataset is null) throw Error(spec, $"{at}.dataset", "a target needs its dataset");
                            if (subsets is null) throw Error(spec, $"{at}.label_subsets", "a target needs its label subsets, in its own taxonomy's classes");
                            if (!seedGiven) dataset = dataset with { Synthetic = dataset.Synthetic with { Seed = seed + targets.Count } };
                            if (splits.Kind == SplitKind.Predefined && dataset.Kind != DatasetDefinition.PtbXlKind)
                                throw Error(spec, $"{at}.splits.kind", $"'predefined' needs a dataset with its own split (ptb-xl), not '{dataset.Kind}'");
                            if (dataset.Kind == DatasetDefinition.SyntheticKind)
                            {
                                var known = Taxonomy.Named(dataset.Synthetic.Taxonomy).Classes.Select(c => c.Code).ToArray();
                                foreach (var (subset, label, labelNode) in _labelNodes.Skip(labelsFrom))
                                    if (!known.Contains(label))
                                        throw Error(labelNode, $"{at}.label_subsets.{subset}", $"the synthetic dataset ({dataset.Synthetic.Taxonomy}) has no class '{label}'; it has {string.Join(", ", known)}");
                            }
                            _labelNodes.RemoveRange(labelsFrom, _labelNodes.Count - labelsFrom);
                            targets.Add(new TransferTarget { Name = Name(nameNode, at), Dataset = dataset, LabelSubsets = subsets, Splits = splits });
                        }
                        if (targets.Count == 0) throw Error(value, key, "needs at least one target");
                        break;
                    case "modes":
                        modes = value is YamlSequenceNode { Children.Count: > 0 } list
                            ? [.. list.Children.Select(c => Enum.GetValues<TransferArm>()[Array.IndexOf(ArmNames, OneOf(c, key, ArmNames))]).Distinct()]
                            : throw Error(value, key, $"expected a list of modes from: {string.Join(", ", ArmNames)}");
                        break;
                    default:
                        fractions = value is YamlSequenceNode { Children.Count: > 0 } shares
                            ? [.. shares.Children.Select(c => Double(c, key, 0.001, 1)).Distinct().Order()]
                            : throw Error(value, key, "expected a list of shares of the training patients, e.g. [0.05, 0.25, 1.0]");
                        break;
                }
            }
            if (sources.Count == 0) throw Error(node, $"{path}.sources", "a transfer section needs sources");
            if (targets.Count == 0) throw Error(node, $"{path}.targets", "a transfer section needs targets");
            // Scratch is the control every other mode is compared with: always run.
            if (!modes.Contains(TransferArm.Scratch)) modes = [.. modes, TransferArm.Scratch];
            return new TransferDefinition { Sources = sources, Targets = targets, Modes = modes, TargetFractions = fractions };
        }

        void CheckLabelsExist(ExperimentDefinition d)
        {
            if ((d.PretrainDataset ?? d.Dataset).Kind == DatasetDefinition.SyntheticKind)
                foreach (var (label, node) in _pretrainLabelNodes)
                    if (!SyntheticClasses.All.Contains(label))
                        throw Error(node, "pretrain.labels", $"the synthetic dataset has no class '{label}'; it has {string.Join(", ", SyntheticClasses.All)}");
            if (d.Dataset.Kind != DatasetDefinition.SyntheticKind) return; // other datasets name their classes in their files; checked when opened
            var classes = Taxonomy.Named(d.Dataset.Synthetic.Taxonomy).Classes.Select(c => c.Code).ToArray();
            foreach (var (subset, label, node) in _labelNodes)
                if (!classes.Contains(label))
                    throw Error(node, $"label_subsets.{subset}",
                        $"the synthetic dataset ({d.Dataset.Synthetic.Taxonomy}) has no class '{label}'; it has {string.Join(", ", classes)}");
        }

        DatasetDefinition Dataset(YamlNode node, string path, out bool seedGiven)
        {
            var options = new SyntheticEcgOptions();
            var dataset = new DatasetDefinition();
            seedGiven = false;
            var entries = Entries(node, path, DatasetKeys).ToArray();
            foreach (var (keyNode, value) in entries.Where(e => e.Key.Value == "kind"))
                dataset = dataset with { Kind = OneOf(value, $"{path}.kind", DatasetKinds) };
            foreach (var (keyNode, value) in entries)
            {
                var name = keyNode.Value!;
                var key = $"{path}.{name}";
                if (dataset.Kind != DatasetDefinition.SyntheticKind && SyntheticOnlyKeys.Contains(name))
                    throw Error(keyNode, key, $"applies to synthetic data only, not to kind '{dataset.Kind}'");
                if (dataset.Kind != DatasetDefinition.PtbXlKind && PtbXlOnlyKeys.Contains(name))
                    throw Error(keyNode, key, $"applies to kind 'ptb-xl' only, not to '{dataset.Kind}'");
                if (dataset.Kind != DatasetDefinition.ChallengeKind && ChallengeOnlyKeys.Contains(name))
                    throw Error(keyNode, key, $"applies to kind 'challenge' only, not to '{dataset.Kind}'");
                switch (name)
                {
                    case "path": dataset = dataset with { Path = Scalar(value, key) }; break;
                    case "exams": options = options with { Exams = Int(value, key, 50, 50_000_000) }; break;
                    case "seed": options = options with { Seed = Int(value, key, 0, int.MaxValue) }; seedGiven = true; break;
                    case "sampling_rate_hz":
                        if (dataset.Kind == DatasetDefinition.PtbXlKind)
                            dataset = dataset with { PtbXl = dataset.PtbXl with { SamplingRateHz = int.Parse(OneOf(value, key, ["100", "500"]), CultureInfo.InvariantCulture) } };
                        else if (dataset.Kind == DatasetDefinition.SyntheticKind) options = options with { SamplingRateHz = Double(value, key, 100, 10_000) };
                        else throw Error(keyNode, key, $"is fixed by the data for kind '{dataset.Kind}'");
                        break;
                    case "duration_s": options = options with { DurationSeconds = Double(value, key, 2, 600) }; break;
                    case "max_duration_s": options = options with { MaxDurationSeconds = Double(value, key, 2, 600) }; break;
                    case "taxonomy":
                        if (dataset.Kind == DatasetDefinition.SyntheticKind) options = options with { Taxonomy = OneOf(value, key, SyntheticTaxonomies) };
                        else if (dataset.Kind == DatasetDefinition.ChallengeKind) dataset = dataset with { Taxonomy = OneOf(value, key, ChallengeTaxonomies) };
                        else throw Error(keyNode, key, $"is fixed by the data for kind '{dataset.Kind}'");
                        break;
                    case "taxonomy_file": dataset = dataset with { TaxonomyFile = Scalar(value, key) }; break;
                    case "record_prefixes":
                        dataset = dataset with { RecordPrefixes = value is YamlSequenceNode { Children.Count: > 0 } prefixes
                            ? [.. prefixes.Children.Select(c => Scalar(c, key))]
                            : throw Error(value, key, "expected a non-empty list of record name prefixes, e.g. [E, HR]") };
                        break;
                    case "padded_length": options = options with { PaddedLength = Int(value, key, 0, 10_000_000) }; break;
                    case "max_exams_per_patient": options = options with { MaxExamsPerPatient = Int(value, key, 1, 100) }; break;
                    case "missed_label_rate": options = options with { MissedLabelRate = Double(value, key, 0, 0.5) }; break;
                    case "spurious_label_rate": options = options with { SpuriousLabelRate = Double(value, key, 0, 0.5) }; break;
                    case "prevalence": options = options with { Prevalence = Prevalence(value, key) }; break;
                    case "labels":
                        dataset = dataset with { PtbXl = dataset.PtbXl with { Labels = OneOf(value, key, ["superclass", "subclass", "statement"]) switch
                            { "superclass" => Data.PtbXl.PtbXlLabelLevel.Superclass, "subclass" => Data.PtbXl.PtbXlLabelLevel.Subclass, _ => Data.PtbXl.PtbXlLabelLevel.Statement } } };
                        break;
                    case "likelihood":
                        dataset = dataset with { PtbXl = dataset.PtbXl with { Rule = OneOf(value, key, ["any", "above_zero"]) == "any" ? Data.PtbXl.LikelihoodRule.Any : Data.PtbXl.LikelihoodRule.AboveZero } };
                        break;
                    case "ecg_ids":
                        if (value is not YamlSequenceNode { Children.Count: 2 } range) throw Error(value, key, "expected an inclusive range [first, last]");
                        var (first, last) = (Int(range.Children[0], key, 1, int.MaxValue), Int(range.Children[1], key, 1, int.MaxValue));
                        if (last < first) throw Error(value, key, $"the range [{first}, {last}] is empty");
                        dataset = dataset with { EcgIds = (first, last) };
                        break;
                    case "skip_bad_records": dataset = dataset with { SkipBadRecords = Bool(value, key) }; break;
                }
            }
            if (dataset.Kind != DatasetDefinition.SyntheticKind && dataset.Path is null)
                throw Error(node, $"{path}.path", $"kind '{dataset.Kind}' needs the dataset folder as 'path'");
            if (options.MaxDurationSeconds < options.DurationSeconds)
                throw Error(node, $"{path}.max_duration_s", $"{options.MaxDurationSeconds} s is below duration_s ({options.DurationSeconds} s)");
            return dataset with { Synthetic = options };
        }

        bool Bool(YamlNode node, string key) => Scalar(node, key).ToLowerInvariant() switch
        {
            "true" or "yes" => true,
            "false" or "no" => false,
            var s => throw Error(node, key, $"'{s}' is not true or false"),
        };

        IReadOnlyDictionary<string, double> Prevalence(YamlNode node, string path)
        {
            var result = new Dictionary<string, double>(SyntheticEcgOptions.DefaultPrevalence);
            foreach (var (keyNode, value) in Entries(node, path, SyntheticClasses.All))
                result[keyNode.Value!] = Double(value, $"{path}.{keyNode.Value}", 0, 0.5);
            return result;
        }

        Preprocessing.PreprocessingOptions Preprocessing(YamlNode node, string path)
        {
            var p = new Preprocessing.PreprocessingOptions();
            foreach (var (keyNode, value) in Entries(node, path, PreprocessingKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                p = keyNode.Value switch
                {
                    "leads" => p with { Leads = value is YamlSequenceNode seq && seq.Children.Count > 0
                        ? seq.Children.Select(c => Data.StandardLeads.Normalise(Scalar(c, key))).ToArray()
                        : throw Error(value, key, "expected a non-empty list of lead names, e.g. [I, II, V1]") },
                    "resample_hz" => p with { ResampleHz = Int(value, key, 50, 10_000) },
                    "highpass_hz" => p with { HighPassHz = Double(value, key, 0.01, 10) },
                    "lowpass_hz" => p with { LowPassHz = Double(value, key, 5, 1000) },
                    "notch_hz" => p with { NotchHz = Double(value, key, 40, 70) },
                    "filter_order" => p with { FilterOrder = Int(value, key, 1, 8) },
                    "normalize" => p with { Normalize = OneOf(value, key, ["none", "zscore"]) },
                    _ => p with { Length = Int(value, key, 16, 10_000_000) },
                };
            }
            if (p is { HighPassHz: { } hp, LowPassHz: { } lp } && hp >= lp)
                throw Error(node, path, $"highpass_hz ({hp}) must lie below lowpass_hz ({lp})");
            return p;
        }

        SplitDefinition Splits(YamlNode node, string path)
        {
            var s = new SplitDefinition();
            foreach (var (keyNode, value) in Entries(node, path, SplitKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                s = keyNode.Value switch
                {
                    "kind" => s with { Kind = OneOf(value, key, ["stratified", "predefined"]) == "stratified" ? SplitKind.Stratified : SplitKind.Predefined },
                    "train" => s with { Train = Double(value, key, 0.05, 0.95) },
                    "train_share" => s with { TrainShare = Double(value, key, 0.001, 1) },
                    _ => s with { Validation = Double(value, key, 0.05, 0.95) },
                };
            }
            // 1 − 0.5 − 0.45 is 0.04999999999999999 in binary floating point: the shares are decimals, compared as such.
            if (s.Test < 0.05 - 1e-9) throw Error(node, path, $"train ({s.Train}) + validation ({s.Validation}) must leave at least 0.05 for the test split");
            return s;
        }

        IReadOnlyList<LabelSubset> LabelSubsets(YamlNode node, string path)
        {
            var subsets = new List<LabelSubset>();
            foreach (var (keyNode, value) in Entries(node, path, allowed: null))
            {
                var key = $"{path}.{keyNode.Value}";
                if (value is not YamlSequenceNode seq || seq.Children.Count == 0)
                    throw Error(value, key, "a label subset is a non-empty list of class codes, e.g. [SB, ST, AF]");
                var labels = seq.Children.Select(c => Scalar(c, key)).ToArray();
                _labelNodes.AddRange(seq.Children.Select((c, i) => (keyNode.Value!, labels[i], c)));
                var duplicate = labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1);
                if (duplicate is not null) throw Error(value, key, $"lists '{duplicate.Key}' twice");
                subsets.Add(new LabelSubset(Name(keyNode, key), labels));
            }
            if (subsets.Count == 0) throw Error(node, path, "needs at least one label subset");
            return subsets;
        }

        /// <summary>Each learner with an optional per-stream trial cap and new ranges for options of its search space.</summary>
        IReadOnlyList<LearnerBudget> Learners(YamlNode node, string path)
        {
            var learners = new List<LearnerBudget>();
            foreach (var (keyNode, value) in Entries(node, path, BinaryLearnerCatalog.Names))
            {
                var key = $"{path}.{keyNode.Value}";
                var budget = new LearnerBudget(keyNode.Value!, keyNode.Value == BinaryLearnerCatalog.Prior ? 1 : int.MaxValue);
                if (value is not YamlScalarNode { Value: null or "" or "~" })
                    foreach (var (k, v) in Entries(value, key, LearnerKeys))
                        budget = k.Value == "trials"
                            ? budget with { Trials = Int(v, $"{key}.trials", 1, keyNode.Value == BinaryLearnerCatalog.Prior ? 1 : 10_000) }
                            : budget with { Ranges = Ranges(v, $"{key}.space", BinaryLearnerCatalog.Create(keyNode.Value!).Space) };
                learners.Add(budget);
            }
            if (learners.All(l => l.Learner == BinaryLearnerCatalog.Prior))
                throw Error(node, path, "needs at least one learner besides the prior baseline");
            return learners;
        }

        /// <summary><c>space: { iterations: [4, 300], learning_rate: [0.02, 0.3] }</c>: new bounds for numeric options.</summary>
        IReadOnlyDictionary<string, OptionRange> Ranges(YamlNode node, string path, CodeII.Experiments.Sweep.Tuning.SearchSpace space)
        {
            var numeric = space.Parameters.OfType<CodeII.Experiments.Sweep.Tuning.NumericParameter>().ToDictionary(p => p.Name);
            var ranges = new Dictionary<string, OptionRange>();
            foreach (var (keyNode, value) in Entries(node, path, [.. numeric.Keys]))
            {
                var key = $"{path}.{keyNode.Value}";
                var parameter = numeric[keyNode.Value!];
                if (value is not YamlSequenceNode { Children.Count: 2 } pair)
                    throw Error(value, key, $"expected [min, max], e.g. [{parameter.Min}, {parameter.Max}]");
                var low = parameter.Log ? double.Epsilon : double.MinValue;
                var min = Double(pair.Children[0], key, low, double.MaxValue);
                var max = Double(pair.Children[1], key, low, double.MaxValue);
                if (min > max) throw Error(value, key, $"min {min} is above max {max}");
                if (parameter.Log && min <= 0) throw Error(value, key, "a log-scale option needs a positive min");
                ranges[keyNode.Value!] = new OptionRange(min, max);
            }
            return ranges;
        }

        SweepSettings Sweep(YamlNode node, string path)
        {
            var settings = new SweepSettings();
            var budget = settings.Budget;
            foreach (var (keyNode, value) in Entries(node, path, SweepKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                settings = keyNode.Value switch
                {
                    "tuner" => settings with { Tuner = OneOf(value, key, CodeII.Experiments.Sweep.Tuning.TunerCatalog.Names) },
                    "objective" => settings with { Objective = Enum.Parse<SweepObjective>(OneOf(value, key, Objectives), ignoreCase: true) },
                    "share" => settings with { Sharing = OneOf(value, key, Sharings) == "per_subset" ? ConfigurationSharing.PerSubset : ConfigurationSharing.PerLabel },
                    "early_stopping_rounds" => settings with { EarlyStoppingRounds = Int(value, key, 0, 100_000) },
                    "threads_per_trial" => settings with { ThreadsPerTrial = Int(value, key, 1, 1024) },
                    "memory_limit_mb" => settings with { MemoryLimitMb = Double(value, key, 1, 1e9) },
                    "halving" => settings with { Halving = Bool(value, key) },
                    "ensemble" => settings with { Ensemble = Bool(value, key) },
                    _ => settings,
                };
                budget = keyNode.Value switch
                {
                    "trials" => budget with { Trials = Int(value, key, 1, 100_000) },
                    "work" => budget with { Work = Double(value, key, 1e-9, 1e15) },
                    "seconds" => budget with { Seconds = Double(value, key, 0.001, 1e9) },
                    _ => budget,
                };
            }
            return settings with { Budget = budget };
        }

        /// <summary>One feature set or a list; each is a set name or several joined by '+' (fused).</summary>
        IReadOnlyList<string> FeatureSetList(YamlNode node, string path, out YamlNode located)
        {
            located = node;
            var items = node is YamlSequenceNode sequence ? sequence.Children.ToArray() : [node];
            if (items.Length == 0) throw Error(node, path, $"list at least one feature set from: {string.Join(", ", FeatureSets)}");
            var sets = new List<string>();
            foreach (var item in items)
            {
                var set = Scalar(item, path);
                var parts = set.Split('+');
                foreach (var part in parts)
                    if (!FeatureSets.Contains(part))
                        throw Error(item, path, $"'{part}' is not one of: {string.Join(", ", FeatureSets)} (fuse sets with '+', e.g. handcrafted+learned)");
                if (parts.Distinct().Count() != parts.Length) throw Error(item, path, $"'{set}' names a set twice");
                if (FeatureSetCatalog.SharedNames(set) is { Count: > 0 } shared)
                    throw Error(item, path, $"'{set}' fuses sets that share features ({string.Join(", ", shared.Take(5))}{(shared.Count > 5 ? ", …" : "")}); fuse sets whose features differ, e.g. handcrafted+learned");
                if (sets.Contains(set)) throw Error(item, path, $"'{set}' is listed twice");
                sets.Add(set);
            }
            return sets;
        }

        ExperimentDefinition Pretrain(ExperimentDefinition d, YamlNode node, string path)
        {
            var p = new Features.Learned.PretrainDefinition();
            var t = p.Training;
            foreach (var (keyNode, value) in Entries(node, path, PretrainKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                switch (keyNode.Value)
                {
                    case "model": p = p with { Model = OneOf(value, key, Features.Learned.PretrainDefinition.Models) }; break;
                    case "sampling_rate_hz": p = p with { SamplingRateHz = Int(value, key, 50, 2000) }; break;
                    case "end_to_end": p = p with { EndToEnd = Bool(value, key) }; break;
                    case "transfer": p = p with { Transfer = OneOf(value, key, TransferModes) == "fine_tune" ? TransferMode.FineTune : TransferMode.Frozen }; break;
                    case "fine_tune_epochs": p = p with { FineTuneEpochs = Int(value, key, 1, 10_000) }; break;
                    case "variant": p = p with { Variant = OneOf(value, key, ["keras", "pytorch"]) == "pytorch" ? ResNetVariant.PyTorch : ResNetVariant.Keras }; break;
                    case "input_samples": p = p with { InputSamples = Int(value, key, 16, 1_000_000) }; break;
                    case "input": p = p with { Input = p.Input with { Windowing = OneOf(value, key, ["crop", "windows"]) == "windows" ? InputWindowing.Windows : InputWindowing.Crop } }; break;
                    case "window_aggregate": p = p with { Input = p.Input with { Aggregate = OneOf(value, key, ["mean", "max"]) == "max" ? WindowAggregate.Max : WindowAggregate.Mean } }; break;
                    case "window_stride": p = p with { Input = p.Input with { Stride = Double(value, key, 0.05, 1) } }; break;
                    case "units":
                        p = p with { Units = value is YamlSequenceNode { Children.Count: > 0 } units
                            ? [.. units.Children.Select(u => u is YamlSequenceNode { Children.Count: 2 } pair
                                ? new ResidualUnit(Int(pair.Children[0], key, 1, 100_000), Int(pair.Children[1], key, 1, 1000))
                                : throw Error(u, key, "each unit is [filters, downsample], e.g. [128, 4]"))]
                            : throw Error(value, key, "expected a list of units [filters, downsample], e.g. [[64, 1], [128, 4], [196, 4], [256, 4], [320, 4]]") };
                        break;
                    case "epochs": t = t with { Epochs = Int(value, key, 1, 10_000) }; break;
                    case "batch_size": t = t with { BatchSize = Int(value, key, 1, 4096) }; break;
                    case "learning_rate": t = t with { LearningRate = Double(value, key, 1e-7, 1) }; break;
                    case "weight_positives": t = t with { WeightPositives = Bool(value, key) }; break;
                    case "plateau_patience": t = t with { PlateauPatience = Int(value, key, 1, 1000) }; break;
                    case "plateau_factor": t = t with { PlateauFactor = Double(value, key, 0.01, 0.99) }; break;
                    case "early_stopping_patience": t = t with { EarlyStoppingPatience = Int(value, key, 1, 1000) }; break;
                    case "time_budget_s": t = t with { TimeBudget = TimeSpan.FromSeconds(Double(value, key, 1, 30 * 24 * 3600)) }; break;
                    case "dataset":
                        d = d with { PretrainDataset = Dataset(value, key, out _pretrainSeedGiven) };
                        break;
                    case "labels":
                        var labels = value is YamlSequenceNode { Children.Count: > 0 } list
                            ? list.Children.Select(c => Scalar(c, key)).ToArray()
                            : throw Error(value, key, "expected a non-empty list of the source dataset's classes");
                        foreach (var (label, labelNode) in labels.Zip(((YamlSequenceNode)value).Children))
                            _pretrainLabelNodes.Add((label, labelNode));
                        d = d with { PretrainLabels = labels };
                        break;
                }
            }
            return d with { Pretrain = p with { Training = t } };
        }

        EvaluationDefinition Evaluation(YamlNode node, string path)
        {
            var e = new EvaluationDefinition();
            foreach (var (keyNode, value) in Entries(node, path, EvaluationKeys))
            {
                var key = $"{path}.{keyNode.Value}";
                e = keyNode.Value switch
                {
                    "bootstrap_replicates" => e with { BootstrapReplicates = Int(value, key, 10, 1_000_000) },
                    "importance" => e with { Importance = Bool(value, key) },
                    _ => e with { Confidence = Double(value, key, 0.5, 0.999) },
                };
            }
            return e;
        }

        IEnumerable<(YamlScalarNode Key, YamlNode Value)> Entries(YamlNode node, string path, IReadOnlyList<string>? allowed)
        {
            if (node is not YamlMappingNode mapping)
                throw Error(node, path, allowed is null ? "expected a mapping of names to values" : $"expected a mapping with keys from: {string.Join(", ", allowed)}");
            foreach (var (k, v) in mapping.Children)
            {
                var keyNode = (YamlScalarNode)k;
                var name = keyNode.Value ?? "";
                if (allowed is not null && !allowed.Contains(name))
                {
                    // A near miss (a typo), or the key without its unit suffix (notch for notch_hz).
                    var suggestion = allowed.FirstOrDefault(a => a.StartsWith(name + "_", StringComparison.Ordinal))
                                     ?? allowed.MinBy(a => EditDistance(a, name));
                    var hint = suggestion is not null && (EditDistance(suggestion, name) <= 2 || suggestion.StartsWith(name + "_", StringComparison.Ordinal))
                        ? $" Did you mean '{suggestion}'?" : "";
                    throw Error(keyNode, path.Length == 0 ? name : $"{path}.{name}",
                        $"unknown key. Expected one of: {string.Join(", ", allowed)}.{hint}");
                }
                yield return (keyNode, v);
            }
        }

        string Scalar(YamlNode node, string key) =>
            node is YamlScalarNode { Value: { Length: > 0 } s } ? s : throw Error(node, key, "expected a single value");

        string Name(YamlNode node, string key)
        {
            var s = Scalar(node, key);
            // Names become folder names (runs/<name>/): one path component, never '.' or '..', of a length file systems take.
            if (s.Length > MaxNameLength)
                throw Error(node, key, $"a name of {s.Length} characters is too long: at most {MaxNameLength}");
            if (s.Length == 0 || s.All(c => c == '.'))
                throw Error(node, key, $"'{s}' cannot name a folder: use letters, digits, '_', '-' and '.' with at least one that is not '.'");
            if (!s.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.'))
                throw Error(node, key, $"'{s}' may contain only letters, digits, '_', '-' and '.'");
            return s;
        }

        string OneOf(YamlNode node, string key, IReadOnlyList<string> allowed)
        {
            var s = Scalar(node, key);
            return allowed.Contains(s) ? s : throw Error(node, key, $"'{s}' is not one of: {string.Join(", ", allowed)}");
        }

        int Int(YamlNode node, string key, int min, int max)
        {
            var s = Scalar(node, key);
            if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
                throw Error(node, key, $"'{s}' is not a whole number");
            if (v < min || v > max) throw Error(node, key, $"{v} is outside [{min}, {max}]");
            return v;
        }

        double Double(YamlNode node, string key, double min, double max)
        {
            var s = Scalar(node, key);
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
                throw Error(node, key, $"'{s}' is not a number");
            if (v < min || v > max) throw Error(node, key, $"{v} is outside [{min}, {max}]");
            return v;
        }

        static int EditDistance(string a, string b)
        {
            var previous = Enumerable.Range(0, b.Length + 1).ToArray();
            for (var i = 1; i <= a.Length; i++)
            {
                var current = new int[b.Length + 1];
                current[0] = i;
                for (var j = 1; j <= b.Length; j++)
                    current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
            return previous[b.Length];
        }
    }
}
