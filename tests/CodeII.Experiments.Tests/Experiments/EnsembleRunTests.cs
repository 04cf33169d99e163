using System.Globalization;
using System.Text.Json;
using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Experiments;
using CodeII.Experiments.Models;
using CodeII.Experiments.Runs;

namespace CodeII.Experiments.Tests.Experiments;

/// <summary>Two tiny runs of one definition, with the ensemble (the default) and with <c>sweep.ensemble: false</c>.</summary>
public sealed class EnsembleRuns : IDisposable
{
    public const string Yaml = """
        name: ensembled
        seed: 3
        dataset: { kind: synthetic, exams: 300 }
        label_subsets: { rhythm: [SB, AF] }
        features: [basic]
        learners:
          lightgbm: { trials: 1 }
          logistic_regression: { trials: 1 }
        evaluation: { bootstrap_replicates: 50 }
        """;

    public const string WithoutEnsemble = Yaml + "\nsweep: { ensemble: false }\n";

    /// <summary>AF in two subsets that each share one configuration: AF has a model of each learner per subset.</summary>
    public const string PerSubset = """
        name: ensembled-per-subset
        seed: 3
        dataset: { kind: synthetic, exams: 300 }
        label_subsets: { pair: [SB, AF], single: [AF] }
        features: [basic]
        learners:
          lightgbm: { trials: 1 }
          logistic_regression: { trials: 1 }
        sweep: { share: per_subset }
        evaluation: { bootstrap_replicates: 50 }
        """;

    public EnsembleRuns()
    {
        Root = RepoPaths.NewTemporaryDirectory();
        With = TestRuns.Run(Yaml, "ensembled.yaml", Root);
        Without = TestRuns.Run(WithoutEnsemble, "ensembled.yaml", Root);
        Shared = TestRuns.Run(PerSubset, "per-subset.yaml", Root);
        Source = new SyntheticEcgGenerator(ExperimentDefinitionLoader.Parse(Yaml, "ensembled.yaml").Dataset.Synthetic);
    }

    public string Root { get; }
    public RunResult With { get; }
    public RunResult Without { get; }
    public RunResult Shared { get; }
    public IEcgSource Source { get; }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public class EnsembleRunTests(EnsembleRuns runs) : IClassFixture<EnsembleRuns>
{
    static readonly string[] Members = ["lightgbm", "logistic_regression"];

    static JsonElement Metrics(RunResult run) => JsonDocument.Parse(File.ReadAllText(run.Folder.FileIn(RunFolder.MetricsFile))).RootElement;

    [Fact]
    public void The_ensemble_is_a_model_of_metrics_json_with_its_comparison_against_the_single_model_validation_picks()
    {
        var subset = Metrics(runs.With).GetProperty("subsets")[0];
        Assert.Equal(["lightgbm", "logistic_regression", "prior", "ensemble"], subset.GetProperty("macro_auroc").EnumerateObject().Select(p => p.Name));
        foreach (var label in subset.GetProperty("per_label").EnumerateArray())
        {
            var ensemble = label.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("learner").GetString() == "ensemble");
            foreach (var metric in new[] { "auroc", "auprc", "f1" })
            {
                var e = ensemble.GetProperty(metric);
                Assert.True(e.GetProperty("lower").GetDouble() <= e.GetProperty("value").GetDouble() && e.GetProperty("value").GetDouble() <= e.GetProperty("upper").GetDouble(), metric);
            }
        }
        // The best single model is the member with the highest mean validation AUROC over the subset's labels, as metrics.json lists them.
        double ValidationMacro(string model) => subset.GetProperty("per_label").EnumerateArray()
            .Average(l => l.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("learner").GetString() == model).GetProperty("validation_auroc").GetDouble());
        var comparison = subset.GetProperty("ensemble");
        var best = Members.OrderByDescending(ValidationMacro).First();
        Assert.Equal(best, comparison.GetProperty("best_single").GetString());
        Assert.Equal(ValidationMacro(best), comparison.GetProperty("best_single_validation_macro_auroc").GetDouble(), 12);
        var macro = subset.GetProperty("macro_auroc");
        Assert.Equal(macro.GetProperty("ensemble").GetProperty("value").GetDouble() - macro.GetProperty(best).GetProperty("value").GetDouble(),
            comparison.GetProperty("macro_auroc_difference").GetProperty("value").GetDouble(), 12);

        var html = File.ReadAllText(runs.With.ReportPath);
        Assert.Contains("data-table=\"rhythm-ensemble\"", html);
        Assert.Contains($"The best single model is chosen by validation macro-AUROC, not by test: <strong>{best}</strong>", html);
    }

    [Fact]
    public void Ensemble_false_leaves_no_ensemble_in_the_models_predictions_metrics_or_report()
    {
        var folder = runs.Without.Folder;
        var subset = Metrics(runs.Without).GetProperty("subsets")[0];
        Assert.Equal(["lightgbm", "logistic_regression", "prior"], subset.GetProperty("macro_auroc").EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, subset.GetProperty("ensemble").ValueKind);
        Assert.DoesNotContain(CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile)).Rows, r => r[4] == "ensemble");
        Assert.False(Directory.Exists(folder.FileIn(Path.Combine(RunFolder.ModelsFolder, "ensemble"))));
        Assert.DoesNotContain(ModelsStage.Bundles(folder), b => b.Contains("ensemble", StringComparison.Ordinal));
        Assert.DoesNotContain("-ensemble\"", File.ReadAllText(runs.Without.ReportPath));
        // The other models are those of the run with the ensemble, to the bit: the ensemble changes nothing else.
        var with = CsvTable.Read(runs.With.Folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[4] != "ensemble").Select(r => string.Join(',', r));
        Assert.Equal(with, CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile)).Rows.Select(r => string.Join(',', r)));
    }

    [Fact]
    public void Each_ensemble_score_in_predictions_csv_is_the_rank_average_of_its_members_against_their_validation_scores()
    {
        var rows = CsvTable.Read(runs.With.Folder.FileIn(RunFolder.PredictionsFile)).Rows;
        foreach (var label in new[] { "SB", "AF" })
        {
            float Score(string[] r) => float.Parse(r[6], CultureInfo.InvariantCulture);
            var ofLabel = rows.Where(r => r[3] == label).ToArray();
            var validation = Members.ToDictionary(m => m, m => ofLabel.Where(r => r[4] == m && r[2] == "validation").Select(Score).ToArray());
            var members = Members.ToDictionary(m => m, m => ofLabel.Where(r => r[4] == m).ToDictionary(r => (r[0], r[2]), Score));
            var ensemble = ofLabel.Where(r => r[4] == "ensemble").ToArray();
            Assert.Equal(ofLabel.Count(r => r[4] == "prior"), ensemble.Length);
            foreach (var r in ensemble)
            {
                // Each member's share of its validation scores below this exam's score, ties counting half, counted one by one.
                var shares = Members.Select(m =>
                {
                    var s = members[m][(r[0], r[2])];
                    return (validation[m].Count(v => v < s) + 0.5 * validation[m].Count(v => v == s)) / validation[m].Length;
                });
                Assert.Equal(shares.Average(), Score(r), 1e-6);
            }
            // Its threshold gives the best F1 any threshold gives on the validation exams.
            var validationRows = ensemble.Where(r => r[2] == "validation").ToArray();
            var truth = validationRows.Select(r => r[9] == "1").ToArray();
            double F1(double threshold)
            {
                var decided = validationRows.Select(r => Score(r) >= threshold).ToArray();
                var tp = decided.Zip(truth).Count(x => x.First && x.Second);
                return 2.0 * tp / (decided.Count(d => d) + truth.Count(t => t));
            }
            var best = validationRows.Select(r => F1(Score(r))).Max();
            Assert.Equal(best, F1(double.Parse(ensemble[0][7], CultureInfo.InvariantCulture)), 12);
        }
    }

    [Fact]
    public void The_saved_ensemble_bundle_scores_the_run_s_test_exams_as_predictions_csv_has_them()
    {
        var folder = runs.With.Folder;
        var relative = ModelsStage.Bundles(folder).Single(b => b == "models/ensemble/AF");
        using var bundle = ModelBundle.Load(folder.FileIn(relative));
        Assert.Equal(["lightgbm", "logistic_regression"], bundle.Description.Ensemble!.Members.Select(m => m.Model));
        Assert.Equal(["../../basic/lightgbm/AF", "../../basic/logistic_regression/AF"], bundle.Description.Ensemble.Members.Select(m => m.Bundle));
        var expected = CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[2] == "test" && r[3] == "AF" && r[4] == "ensemble")
            .ToDictionary(r => r[0], r => (Score: float.Parse(r[6], CultureInfo.InvariantCulture), Decision: r[8] == "1"));
        // In batches, as codeii predict scores a dataset, and one record at a time.
        var predictions = new List<Prediction>();
        Assert.Empty(new BatchPredictor([bundle], maxThreads: 2).Run(runs.Source, predictions.AddRange));
        Assert.Equal(300, predictions.Count);
        Assert.All(predictions, p => Assert.Equal("ensemble", p.Model));
        var compared = predictions.Where(p => expected.ContainsKey(p.ExamId)).ToArray();
        Assert.Equal(expected.Count, compared.Length);
        Assert.All(compared, p => Assert.Equal(expected[p.ExamId], (p.Score, p.Decision)));
        var first = expected.First();
        var index = Enumerable.Range(0, runs.Source.Count).First(i => runs.Source.ExamIdAt(i) == first.Key);
        Assert.Equal(first.Value.Score, bundle.Predict(runs.Source.Read(index)));
    }

    [Fact]
    public void With_configurations_shared_by_subsets_each_subset_s_ensemble_combines_that_subset_s_models()
    {
        var folder = runs.Shared.Folder;
        Assert.Equal(["models/ensemble/SB@pair", "models/ensemble/AF@pair", "models/ensemble/AF@single"],
            ModelsStage.Bundles(folder).Where(b => b.StartsWith("models/ensemble/", StringComparison.Ordinal)));
        using (var single = ModelBundle.Load(folder.FileIn("models/ensemble/AF@single")))
            Assert.Equal(["../../basic/lightgbm/AF@single", "../../basic/logistic_regression/AF@single"], single.Description.Ensemble!.Members.Select(m => m.Bundle));
        var rows = CsvTable.Read(folder.FileIn(RunFolder.PredictionsFile)).Rows.Where(r => r[4] == "ensemble").ToArray();
        Assert.Equal(["SB|pair", "AF|pair", "AF|single"], rows.Select(r => $"{r[3]}|{r[5]}").Distinct());
        foreach (var subset in Metrics(runs.Shared).GetProperty("subsets").EnumerateArray())
        {
            Assert.Contains("ensemble", subset.GetProperty("macro_auroc").EnumerateObject().Select(p => p.Name));
            Assert.Contains(subset.GetProperty("ensemble").GetProperty("best_single").GetString(), Members);
        }
    }

    [Fact]
    public void An_ensemble_member_outside_the_run_s_models_folder_is_refused()
    {
        var original = runs.With.Folder.FileIn(Path.Combine("models", "ensemble", "SB"));
        var copy = Path.Combine(runs.With.Folder.Path, "models", "ensemble", "SB-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(copy);
        var description = File.ReadAllText(Path.Combine(original, ModelBundle.DescriptionFile));
        Assert.Contains("\"../../basic/lightgbm/SB\"", description);
        File.WriteAllText(Path.Combine(copy, ModelBundle.DescriptionFile), description.Replace("\"../../basic/lightgbm/SB\"", "\"../../../split.csv\""));
        var error = Assert.Throws<ModelBundleException>(() => ModelBundle.Load(copy));
        Assert.Equal($"{copy}: ensemble member '../../../split.csv' must name a bundle in the models/ folder that holds the ensemble (e.g. ../../handcrafted/lightgbm/AF)", error.Message);
        Directory.Delete(copy, recursive: true);
    }
}
