using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using CodeII.Experiments.Sweep;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Tests.Sweep;

public class LearnerCatalogueTests
{
    static readonly Lazy<FeatureTable> Table = new(() =>
        FeatureTableBuilder.Extract(new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 400, Seed = 21 }), new HandcraftedFeatureExtractor(), 2));

    [Theory]
    [InlineData("lightgbm")]
    [InlineData("logistic_regression")]
    [InlineData("fasttree")]
    [InlineData("fastforest")]
    [InlineData("sdca_logistic_regression")]
    [InlineData("linear_svm")]
    public void Every_learner_trains_from_its_low_cost_corner_and_its_default_and_separates_sinus_bradycardia(string name)
    {
        var learner = BinaryLearnerCatalog.Create(name);
        var table = Table.Value;
        var ml = new MLContext(seed: 1);
        IDataView View(IEnumerable<int> rows) =>
            LabelledViews.Create(ml, rows.Select(i => (table.Row(i).ToArray(), table.Labels[i].Contains("SB"))), table.FeatureNames.Count);
        var train = Enumerable.Range(0, 280).ToArray();
        var test = Enumerable.Range(280, table.RowCount - 280).ToArray();
        var truth = test.Select(i => table.Labels[i].Contains("SB")).ToArray();
        Assert.Contains(true, truth);

        var lowCost = learner.Space.FromUnit(learner.Space.LowCostUnit);
        var byDefault = learner.Default;
        // Heart rate alone separates SB (36–49 bpm) from the rest: every learner's default must find it, and even the
        // cheapest corner (one SVM pass, four trees) must do clearly better than chance.
        foreach (var (configuration, floor) in new[] { (lowCost, 0.75), (byDefault, 0.9) })
        {
            var model = learner.BuildPipeline(ml, configuration, new TrainingSettings { Seed = 1 }).Fit(View(train));
            var scores = model.Transform(View(test)).GetColumn<float>("Probability").ToArray();
            Assert.All(scores, p => Assert.InRange(p, 0f, 1f));
            Assert.True(BinaryMetrics.Auroc(scores, truth) > floor, $"{name} with {configuration}: AUROC {BinaryMetrics.Auroc(scores, truth):F3}");
        }
    }

    [Fact]
    public void Every_learner_option_is_documented_in_docs_sweep_md_with_its_range_and_start()
    {
        var rows = File.ReadAllLines(Path.Combine(RepoPaths.Root, "docs", "sweep.md")).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToArray();
        static string Number(double v) => v.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var name in BinaryLearnerCatalog.Names)
        {
            var space = BinaryLearnerCatalog.Create(name).Space;
            Assert.Equal(Math.Max(1, space.Dimensions), rows.Count(r => r.StartsWith($"| `{name}` |", StringComparison.Ordinal)));
            var start = space.FromUnit(space.LowCostUnit);
            foreach (var parameter in space.Parameters)
            {
                var row = rows.SingleOrDefault(r => r.StartsWith($"| `{name}` | `{parameter.Name}` |", StringComparison.Ordinal));
                Assert.True(row is not null, $"{name}.{parameter.Name} is not in docs/sweep.md");
                var cells = row!.Split('|', StringSplitOptions.TrimEntries);
                if (parameter is CodeII.Experiments.Sweep.Tuning.NumericParameter n)
                {
                    Assert.StartsWith($"{Number(n.Min)}–{Number(n.Max)}", cells[3]);
                    Assert.Equal((n.Log ? "log" : "linear") + (n.Integer ? ", integer" : ""), cells[4]);
                    Assert.Equal(Number(start.GetValueOrDefault(parameter.Name, n.LowCost ?? n.Min)), cells[5]);
                }
            }
        }
    }

    [Fact]
    public void Tree_learners_start_at_four_trees_of_four_leaves()
    {
        foreach (var name in new[] { "lightgbm", "fasttree", "fastforest" })
        {
            var space = BinaryLearnerCatalog.Create(name).Space;
            var start = space.FromUnit(space.LowCostUnit);
            Assert.Equal((4.0, 4.0), (start["iterations"], start["leaves"]));
        }
        Assert.Empty(BinaryLearnerCatalog.Create("prior").Space.Parameters);
    }
}
