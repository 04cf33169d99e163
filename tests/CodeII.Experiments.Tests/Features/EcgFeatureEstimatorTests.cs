using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Evaluation;
using CodeII.Experiments.Features;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Tests.Features;

/// <summary>The extractor as an ML.NET estimator, used the way a notebook would.</summary>
public class EcgFeatureEstimatorTests
{
    [Fact]
    public void The_estimator_gives_the_extractors_values_with_slot_names()
    {
        var ml = new MLContext(seed: 1);
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 20, Seed = 4 });
        var extractor = new HandcraftedFeatureExtractor();
        var transformed = ml.Transforms.ExtractEcgFeatures(extractor).Fit(EcgDataView.Load(ml, generator)).Transform(EcgDataView.Load(ml, generator));

        var column = transformed.Schema["Features"];
        Assert.Equal(extractor.FeatureNames.Count, ((VectorDataViewType)column.Type).Size);
        var slotNames = default(VBuffer<ReadOnlyMemory<char>>);
        column.GetSlotNames(ref slotNames);
        Assert.Equal(extractor.FeatureNames, slotNames.DenseValues().Select(n => n.ToString()));

        var rows = transformed.GetColumn<float[]>("Features").ToArray();
        for (var i = 0; i < generator.Count; i++)
        {
            var direct = new float[extractor.FeatureNames.Count];
            extractor.Extract(generator.Read(i), direct);
            Assert.Equal(direct, rows[i]);
        }
    }

    [Fact]
    public void A_view_without_the_signal_columns_is_rejected_before_any_work()
    {
        var ml = new MLContext(seed: 1);
        var wrong = ml.Data.LoadFromEnumerable(new[] { new { Other = 1f } });
        // ML.NET's schema mismatch: an ArgumentOutOfRangeException naming the first signal column it cannot find.
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.ExtractEcgFeatures(new BasicFeatureExtractor()).Fit(wrong));
        Assert.Contains(nameof(EcgSignalRow.ExamId), error.Message);
    }

    [Fact]
    public void It_composes_with_a_trainer_as_in_a_notebook()
    {
        var ml = new MLContext(seed: 1);
        var train = EcgDataView.Load(ml, new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 300, Seed = 5 }), labelClass: "AF");
        var test = EcgDataView.Load(ml, new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 150, Seed = 6 }), labelClass: "AF");
        var pipeline = ml.Transforms.ExtractEcgFeatures(new HandcraftedFeatureExtractor())
            .Append(ml.BinaryClassification.Trainers.LightGbm(labelColumnName: "Label", featureColumnName: "Features", numberOfIterations: 50));
        var scored = pipeline.Fit(train).Transform(test);
        var scores = scored.GetColumn<float>("Probability").ToArray();
        var truth = scored.GetColumn<bool>("Label").ToArray();
        Assert.True(BinaryMetrics.Auroc(scores, truth) > 0.9);
    }
}
