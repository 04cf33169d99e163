using Microsoft.ML;
using Microsoft.ML.Data;

namespace CodeII.Experiments.Tests.Sweep;

/// <summary>Data views of a boolean "Label" and a fixed-length "Features" vector, the shape every learner takes.</summary>
static class LabelledViews
{
    sealed class Row
    {
        public bool Label { get; set; }
        public float[] Features { get; set; } = [];
    }

    public static IDataView Create(MLContext ml, IEnumerable<(float[] Features, bool Label)> rows, int columns)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, columns);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Label = r.Label, Features = r.Features }).ToArray(), schema);
    }
}
