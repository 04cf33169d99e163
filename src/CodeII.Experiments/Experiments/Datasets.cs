using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Experiments;

/// <summary>The dataset kinds a definition can name, opened as sources.</summary>
public static class Datasets
{
    /// <summary>Opens the definition's dataset and checks that every label of every subset is one of its classes.</summary>
    public static IEcgSource CreateSource(ExperimentDefinition definition)
    {
        var d = definition.Dataset;
        var source = Open(d, definition.Preprocessing);
        foreach (var subset in definition.LabelSubsets)
            foreach (var label in subset.Labels)
                if (!source.ClassNames.Contains(label))
                    throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", $"label_subsets.{subset.Name}",
                        $"'{label}' is not a class of this dataset; it has {string.Join(", ", source.ClassNames)}");
        return source;
    }

    public static IEcgSource Open(DatasetDefinition d, Preprocessing.PreprocessingOptions preprocessing)
    {
        IEcgSource source = d.Kind switch
        {
            DatasetDefinition.SyntheticKind => new SyntheticEcgGenerator(d.Synthetic),
            DatasetDefinition.PtbXlKind => new Data.PtbXl.PtbXlSource(d.Path!, d.PtbXl with
            {
                IncludeEcgId = d.EcgIds is { } range ? id => id >= range.First && id <= range.Last : null,
            }),
            DatasetDefinition.CodeKind => new Data.Code.CodeHdf5Source(d.Path!),
            var kind => throw new ArgumentException($"dataset kind '{kind}' is not supported"),
        };
        if (!preprocessing.IsIdentity)
            source = new Preprocessing.PreprocessedSource(source, new Preprocessing.EcgPreprocessor(preprocessing));
        if (source.Count == 0) throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", "records", "the dataset has no records");
        return source;
    }
}
