using CodeII.Experiments.Sweep;
using Microsoft.ML;

namespace CodeII.Experiments.Tests.Sweep;

/// <summary>Data views of a boolean "Label" and a fixed-length "Features" vector, the shape every learner takes.</summary>
static class LabelledViews
{
    public static IDataView Create(MLContext ml, IEnumerable<(float[] Features, bool Label)> rows, int columns) =>
        LabelledFeatureRows.Load(ml, rows.ToArray(), columns);
}
