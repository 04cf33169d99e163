using CodeII.Experiments.Experiments;

namespace CodeII.Experiments.Tests.Experiments;

public class ExperimentDefinitionLoaderTests
{
    [Fact]
    public void The_quickstart_definition_loads_with_its_subsets_learners_and_seed()
    {
        var d = ExperimentDefinitionLoader.LoadFile(Path.Combine(RepoPaths.Root, "experiments", "quickstart.yaml"));
        Assert.Equal("quickstart", d.Name);
        Assert.Equal(42, d.Seed);
        Assert.Equal(42, d.Dataset.Synthetic.Seed);
        Assert.Equal(["code6", "rhythm"], d.LabelSubsets.Select(s => s.Name));
        Assert.Equal(["1dAVb", "RBBB", "LBBB", "SB", "AF", "ST"], d.LabelSubsets[0].Labels);
        Assert.Equal(["lightgbm", "logistic_regression"], d.Learners.Select(l => l.Learner));
        Assert.Equal(6, d.AllLabels.Count);
    }

    [Fact]
    public void Feature_sets_are_listed_fused_with_plus_and_learned_ones_read_the_pretrain_section()
    {
        var d = ExperimentDefinitionLoader.Parse("""
            features: [handcrafted, learned, handcrafted+learned]
            pretrain:
              model: ribeiro2020
              epochs: 7
              batch_size: 16
              learning_rate: 0.0005
              weight_positives: true
              time_budget_s: 90
              end_to_end: false
            """, "f.yaml");
        Assert.Equal(["handcrafted", "learned", "handcrafted+learned"], d.Features);
        Assert.Equal(["handcrafted", "learned"], d.FeatureParts);
        var p = d.Pretrain!;
        Assert.Equal("ribeiro2020", p.Model);
        Assert.Equal(400, p.InputRateHz);
        Assert.Equal(4096, p.Shape(6).InputSamples);
        Assert.Equal((7, 16, 0.0005, true, TimeSpan.FromSeconds(90)), (p.Training.Epochs, p.Training.BatchSize, p.Training.LearningRate, p.Training.WeightPositives, p.Training.TimeBudget));
        Assert.False(p.EndToEnd);
        Assert.Equal(["basic"], ExperimentDefinitionLoader.Parse("name: x\n", "x.yaml").Features);

        // basic and handcrafted both measure the heart rate and RR statistics: fused, the columns would be ambiguous.
        var shared = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("features: [basic+handcrafted]\n", "s.yaml"));
        Assert.Contains("s.yaml:1:12: 'features': 'basic+handcrafted' fuses sets that share features (hr_bpm, rr_mean_ms", shared.Message);
    }

    [Fact]
    public void The_sweep_section_sets_tuner_objective_sharing_and_budgets_and_learners_narrow_their_spaces()
    {
        var d = ExperimentDefinitionLoader.Parse("""
            learners:
              lightgbm: { trials: 20, space: { iterations: [4, 300], learning_rate: [0.02, 0.3] } }
              linear_svm: {}
            sweep:
              tuner: tpe
              objective: challenge
              share: per_subset
              trials: 40
              work: 5000
              seconds: 600
              early_stopping_rounds: 0
              threads_per_trial: 2
              memory_limit_mb: 4096
              halving: true
              ensemble: false
            """, "s.yaml");
        var s = d.Sweep;
        Assert.Equal(("tpe", CodeII.Experiments.Sweep.SweepObjective.Challenge, CodeII.Experiments.Sweep.ConfigurationSharing.PerSubset), (s.Tuner, s.Objective, s.Sharing));
        Assert.Equal((40, (double?)5000, (double?)600), (s.Budget.Trials, s.Budget.Work, s.Budget.Seconds));
        Assert.Equal((0, 2, (double?)4096, true, false), (s.EarlyStoppingRounds, s.ThreadsPerTrial, s.MemoryLimitMb, s.Halving, s.Ensemble));
        var lightGbm = d.Learners[0];
        Assert.Equal(20, lightGbm.Trials);
        Assert.Equal(int.MaxValue, d.Learners[1].Trials);
        var space = lightGbm.SpaceOf(CodeII.Experiments.Sweep.BinaryLearnerCatalog.Create("lightgbm"));
        var widest = space.FromUnit(Enumerable.Repeat(1.0, space.Dimensions).ToArray());
        Assert.Equal((300.0, 0.3), (widest["iterations"], Math.Round(widest["learning_rate"], 12)));
        Assert.Equal(4, space.FromUnit(space.LowCostUnit)["iterations"]);

        var wrong = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("learners:\n  lightgbm: { space: { trees: [4, 300] } }\n", "w.yaml"));
        Assert.Contains("trees", wrong.Message);
        Assert.Contains("iterations", wrong.Message);
        var reversed = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("learners:\n  lightgbm: { space: { leaves: [64, 4] } }\n", "w.yaml"));
        Assert.Contains("above max", reversed.Message);
        var objective = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("sweep:\n  objective: accuracy\n", "w.yaml"));
        Assert.Contains("auroc", objective.Message);
    }

    [Fact]
    public void Defaults_fill_what_a_minimal_definition_leaves_out()
    {
        var d = ExperimentDefinitionLoader.Parse("name: tiny\n", "tiny.yaml");
        Assert.Equal("tiny", d.Name);
        Assert.Equal(0.6, d.Splits.Train);
        Assert.Equal(1000, d.Evaluation.BootstrapReplicates);
        Assert.Equal(["lightgbm", "logistic_regression"], d.Learners.Select(l => l.Learner));
        Assert.True(d.Sweep.Ensemble);
        var ensemble = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("sweep:\n  ensemble: maybe\n", "e.yaml"));
        Assert.Contains("sweep.ensemble", ensemble.Message);
    }

    [Fact]
    public void An_unknown_key_names_the_file_line_column_and_key_and_suggests_the_right_one()
    {
        var yaml = "name: x\ndataset:\n  kind: synthetic\n  exmas: 100\n";
        var e = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse(yaml, "experiments/x.yaml"));
        Assert.Equal(4, e.Line);
        Assert.Equal(3, e.Column);
        Assert.Equal("dataset.exmas", e.Key);
        Assert.StartsWith("experiments/x.yaml:4:3: 'dataset.exmas': unknown key", e.Message);
        Assert.Contains("Did you mean 'exams'?", e.Message);
    }

    [Theory]
    [InlineData("seed: many\n", 1, "seed", "not a whole number")]
    [InlineData("splits:\n  train: 0.9\n  validation: 0.08\n", 2, "splits", "must leave at least 0.05")]
    [InlineData("label_subsets:\n  bad: [SB, XYZ]\n", 2, "label_subsets.bad", "no class 'XYZ'")]
    [InlineData("label_subsets:\n  bad: SB\n", 2, "label_subsets.bad", "non-empty list")]
    [InlineData("learners:\n  lightgbm: { trials: 0 }\n", 2, "learners.lightgbm.trials", "outside [1,")]
    [InlineData("learners:\n  xgboost: {}\n", 2, "learners.xgboost", "unknown key")]
    [InlineData("features: deep\n", 1, "features", "not one of")]
    [InlineData("features: [handcrafted, handcrafted+deep]\n", 1, "features", "'deep' is not one of")]
    [InlineData("features: [handcrafted, handcrafted]\n", 1, "features", "listed twice")]
    [InlineData("features: handcrafted+handcrafted\n", 1, "features", "names a set twice")]
    [InlineData("features: [handcrafted, learned]\n", 1, "features", "add a 'pretrain' section")]
    [InlineData("features: learned\npretrain:\n  model: huge\n", 3, "pretrain.model", "not one of: small, ribeiro2020")]
    [InlineData("features: learned\npretrain:\n  epocs: 3\n", 3, "pretrain.epocs", "Did you mean 'epochs'?")]
    [InlineData("features: learned\npretrain:\n  transfer: thaw\n", 3, "pretrain.transfer", "not one of: frozen, fine_tune")]
    [InlineData("features: learned\npretrain:\n  labels: [SB, XYZ]\n", 3, "pretrain.labels", "no class 'XYZ'")]
    [InlineData("features: learned\npretrain:\n  dataset:\n    kind: ptb-xl\n", 4, "pretrain.dataset.path", "needs the dataset folder")]
    [InlineData("evaluation:\n  confidence: 1.5\n", 2, "evaluation.confidence", "outside")]
    [InlineData("name: [a\n", 2, "", "not valid YAML")]
    public void Bad_values_are_reported_with_their_location(string yaml, int line, string key, string problem)
    {
        var e = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse(yaml, "d.yaml"));
        Assert.Equal(line, e.Line);
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Message);
    }

    [Theory]
    [InlineData("..", "cannot name a folder")]
    [InlineData(".", "cannot name a folder")]
    [InlineData("a/b", "may contain only")]
    public void A_run_name_is_one_folder_name_never_a_path_or_a_parent(string name, string message)
    {
        var e = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse($"name: '{name}'\n", "n.yaml"));
        Assert.Contains(message, e.Message);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void A_run_name_has_a_bounded_length()
    {
        Assert.Equal(new string('x', 100), ExperimentDefinitionLoader.Parse($"name: {new string('x', 100)}\n", "n.yaml").Name);
        Assert.Contains("too long", Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse($"name: {new string('x', 101)}\n", "n.yaml")).Message);
    }

    [Fact]
    public void A_file_of_two_YAML_documents_is_refused_at_the_second()
    {
        var e = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("name: a\n---\nname: b\n", "two.yaml"));
        Assert.Equal(3, e.Line);
        Assert.Contains("2 YAML documents", e.Message);
    }

    [Fact]
    public void Split_shares_are_compared_as_the_decimals_they_are_written_as()
    {
        // 1 − 0.5 − 0.45 is 0.04999999999999999 in binary: still the 0.05 the test split needs.
        var splits = ExperimentDefinitionLoader.Parse("splits: { train: 0.5, validation: 0.45 }\n", "s.yaml").Splits;
        Assert.Equal(0.05, splits.Test, 12);
        Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse("splits: { train: 0.5, validation: 0.46 }\n", "s.yaml"));
    }
}

public class DatasetDefinitionTests
{
    [Fact]
    public void A_PTB_XL_definition_reads_path_rate_labels_range_and_predefined_split()
    {
        var d = ExperimentDefinitionLoader.LoadFile(Path.Combine(RepoPaths.Root, "experiments", "ptbxl-superclass.yaml"));
        Assert.Equal("ptb-xl", d.Dataset.Kind);
        Assert.Equal("data/ptb-xl-1.0.3", d.Dataset.Path);
        Assert.Equal(100, d.Dataset.PtbXl.SamplingRateHz);
        Assert.Equal(SplitKind.Predefined, d.Splits.Kind);
        var ranged = ExperimentDefinitionLoader.Parse("dataset:\n  kind: ptb-xl\n  path: x\n  ecg_ids: [1, 400]\nlabel_subsets:\n  s: [NORM]\n", "r.yaml");
        Assert.Equal((1, 400), ranged.Dataset.EcgIds);
    }

    [Theory]
    [InlineData("dataset:\n  kind: ptb-xl\n", "dataset.path", "needs the dataset folder")]
    [InlineData("dataset:\n  kind: ptb-xl\n  path: x\n  exams: 10\n", "dataset.exams", "synthetic data only")]
    [InlineData("dataset:\n  kind: code\n  path: x\n  labels: superclass\n", "dataset.labels", "'ptb-xl' only")]
    [InlineData("dataset:\n  kind: ptb-xl\n  path: x\n  sampling_rate_hz: 250\n", "dataset.sampling_rate_hz", "not one of: 100, 500")]
    [InlineData("dataset:\n  kind: ptb-xl\n  path: x\n  ecg_ids: [400, 1]\n", "dataset.ecg_ids", "is empty")]
    [InlineData("splits:\n  kind: predefined\n", "splits.kind", "needs a dataset with its own split")]
    [InlineData("preprocessing:\n  highpass_hz: 5\n  lowpass_hz: 5\n", "preprocessing", "must lie below")]
    [InlineData("preprocessing:\n  normalize: minmax\n", "preprocessing.normalize", "not one of")]
    [InlineData("preprocessing:\n  leads: V1\n", "preprocessing.leads", "non-empty list")]
    [InlineData("preprocessing:\n  notch: 60\n", "preprocessing.notch", "Did you mean 'notch_hz'?")]
    public void Dataset_and_preprocessing_mistakes_are_located(string yaml, string key, string problem)
    {
        var e = Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse(yaml, "d.yaml"));
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Message);
    }
}

public class PreprocessingDefinitionTests
{
    [Fact]
    public void A_preprocessing_section_is_read_and_applied_to_every_record_of_a_run()
    {
        const string yaml = """
            name: filtered
            dataset: { exams: 200, sampling_rate_hz: 500, padded_length: 0 }
            preprocessing:
              leads: [I, II, V1, V2, V3, V4, V5, V6]
              resample_hz: 400
              highpass_hz: 0.8
              lowpass_hz: 45
              notch_hz: 60
              length: 4096
            label_subsets: { rhythm: [SB, ST, AF] }
            learners: { lightgbm: { trials: 1 } }
            evaluation: { bootstrap_replicates: 20 }
            """;
        var d = ExperimentDefinitionLoader.Parse(yaml, "f.yaml");
        Assert.Equal(["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"], d.Preprocessing.Leads);
        Assert.Equal(0.8, d.Preprocessing.HighPassHz);
        var source = Datasets.CreateSource(d);
        var record = source.Read(0);
        Assert.Equal(400, record.SamplingRateHz);
        Assert.Equal(8, record.Leads.Count);
        Assert.Equal(4096, record.SampleCount);
        Assert.Contains("high-pass 0.8 Hz", source.Describe());
        var result = ExperimentRunner.Run(d, yaml, "f.yaml", new RunOptions { RunsRoot = RepoPaths.NewTemporaryDirectory() });
        Assert.Contains("preprocessing: leads I,II,V1", result.Manifest.Dataset);
    }
}

public class ShippedDefinitionTests
{
    public static TheoryData<string> Shipped() => new(Directory.GetFiles(Path.Combine(RepoPaths.Root, "experiments"), "*.yaml").Select(Path.GetFileName).Order().ToArray()!);

    [Theory, MemberData(nameof(Shipped))]
    public void Every_shipped_definition_loads(string file)
    {
        var d = ExperimentDefinitionLoader.LoadFile(Path.Combine(RepoPaths.Root, "experiments", file));
        Assert.False(string.IsNullOrEmpty(d.Name));
    }

    [Fact]
    public void The_real_protocol_definitions_transfer_to_PTB_XL_and_CPSC_and_list_labels_no_source_covers()
    {
        var d = ExperimentDefinitionLoader.LoadFile(Path.Combine(RepoPaths.Root, "experiments", "code15-to-ptbxl-cpsc.yaml"));
        var transfer = d.Transfer!;
        Assert.Equal(["ptbxl", "cpsc2018"], transfer.Targets.Select(t => t.Name));
        Assert.Equal(SplitKind.Predefined, transfer.Targets[0].Splits.Kind);
        Assert.Equal("cpsc9", transfer.Targets[1].Dataset.Taxonomy);
        Assert.Equal([0.05, 0.25, 1.0], transfer.TargetFractions);
        // IRBBB, LAFB and IVCD have no CODE counterpart: the definition runs and zero-shot reports them uncovered.
        var ptbxl = transfer.Targets[0];
        var coverage = CodeII.Experiments.Labels.LabelCoverage.Of(CodeII.Experiments.Labels.Taxonomy.Code6, transfer.Sources[0].Classes!,
            Datasets.TaxonomyOf(ptbxl.Dataset), ptbxl.LabelSubsets.SelectMany(s => s.Labels).Distinct().ToArray());
        Assert.Equal(["IRBBB", "LAFB", "IVCD"], coverage.Uncovered);
    }
}

public class TransferDefinitionLoaderTests
{
    const string Valid = """
        name: t
        transfer:
          sources:
            s: { dataset: { kind: synthetic, exams: 100 } }
          targets:
            t:
              dataset: { kind: synthetic, taxonomy: cpsc9, exams: 100 }
              label_subsets: { cpsc: [AF, NORM] }
          modes: [linear_probe]
          target_fractions: [1.0, 0.1]
        pretrain: { model: small, epochs: 1 }
        """;

    static ExperimentDefinitionException Refused(string yaml) => Assert.Throws<ExperimentDefinitionException>(() => ExperimentDefinitionLoader.Parse(yaml, "t.yaml"));

    [Fact]
    public void A_transfer_section_loads_with_scratch_added_sorted_shares_seeds_of_their_own_and_the_handcrafted_reference()
    {
        var d = ExperimentDefinitionLoader.Parse(Valid, "t.yaml");
        Assert.Equal([TransferArm.LinearProbe, TransferArm.Scratch], d.Transfer!.Modes);
        Assert.Equal([0.1, 1.0], d.Transfer.TargetFractions);
        Assert.Equal(d.Seed + 1000, d.Transfer.Sources[0].Dataset!.Synthetic.Seed);
        Assert.Equal(d.Seed, d.Transfer.Targets[0].Dataset.Synthetic.Seed);
        Assert.Equal(["handcrafted"], d.Features);
    }

    [Fact]
    public void Mistakes_in_a_transfer_definition_are_located()
    {
        Assert.Contains("names its data under transfer", Refused(Valid + "\ndataset: { kind: synthetic }\n").Message);
        Assert.Contains("needs a 'pretrain' section", Refused(Valid.Replace("pretrain: { model: small, epochs: 1 }", "")).Message);
        var label = Refused(Valid.Replace("[AF, NORM]", "[AF, 1dAVb]"));
        Assert.Contains("'transfer.targets.t.label_subsets.cpsc'", label.Message);
        Assert.Contains("has no class '1dAVb'", label.Message);
        Assert.Contains("not one of: zero_shot, linear_probe, gbm_head, fine_tune, scratch", Refused(Valid.Replace("[linear_probe]", "[probe]")).Message);
        Assert.Contains("either a dataset", Refused(Valid.Replace("s: { dataset: { kind: synthetic, exams: 100 } }", "s: { dataset: { kind: synthetic }, weights: w.pt }")).Message);
        Assert.Contains("needs the classes of its outputs", Refused(Valid.Replace("s: { dataset: { kind: synthetic, exams: 100 } }", "s: { weights: w.pt }")).Message);
        Assert.Contains("'1AVB' is not a class of the code6 taxonomy", Refused(Valid.Replace("s: { dataset: { kind: synthetic, exams: 100 } }", "s: { weights: w.pt, classes: [1AVB] }")).Message);
        Assert.Contains("applies to imported weights only", Refused(Valid.Replace("exams: 100 } }", "exams: 100 }, taxonomy: code6 }")).Message);
        Assert.Contains("transfer.target_fractions", Refused(Valid.Replace("label_subsets: { cpsc: [AF, NORM] }", "label_subsets: { cpsc: [AF, NORM] }\n      splits: { train_share: 0.5 }")).Message);
        Assert.Contains("'pretrain.transfer'", Refused(Valid.Replace("{ model: small, epochs: 1 }", "{ model: small, epochs: 1, transfer: fine_tune }")).Message);
    }

    [Fact]
    public void The_seed_reaches_the_transfer_datasets_wherever_it_is_written()
    {
        var after = ExperimentDefinitionLoader.Parse(Valid + "\nseed: 7\n", "t.yaml");
        Assert.Equal(1007, after.Transfer!.Sources[0].Dataset!.Synthetic.Seed);
        Assert.Equal(7, after.Transfer.Targets[0].Dataset.Synthetic.Seed);
    }
}
