using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Sweep;

/// <summary>The data view every learner trains and scores on: a boolean "Label" and a "Features" vector of a fixed
/// width. The sweep fits on it and a saved model is scored on it, so both read features the same way.</summary>
public static class LabelledFeatureRows
{
    sealed class Row
    {
        public bool Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    /// <summary>A view of the rows, read lazily as a cursor reaches them.</summary>
    public static IDataView Load(MLContext ml, IEnumerable<(float[] Features, bool Label)> rows, int width)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Label = r.Label, Features = r.Features }), schema);
    }

    /// <summary>A fitted model's "Probability" for each row (labels are not read).</summary>
    public static float[] Probabilities(MLContext ml, ITransformer model, IReadOnlyList<float[]> rows, int width) =>
        [.. model.Transform(Load(ml, rows.Select(r => (r, false)), width)).GetColumn<float>("Probability")];
}
