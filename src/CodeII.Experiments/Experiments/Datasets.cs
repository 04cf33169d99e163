using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Synthetic;

namespace CodeII.Experiments.Experiments;

/// <summary>The dataset kinds a definition can name, opened as sources.</summary>
public static class Datasets
{
    /// <summary>Opens the definition's dataset and checks that every label of every subset is one of its classes.</summary>
    /// <param name="keyPrefix">Where the definition's keys sit in the file: empty, or e.g. <c>transfer.targets.cpsc.</c></param>
    public static IEcgSource CreateSource(ExperimentDefinition definition, string keyPrefix = "")
    {
        var source = Open(definition.Dataset, definition.Preprocessing);
        try
        {
            foreach (var subset in definition.LabelSubsets)
                RequireClasses(source, definition.Dataset, subset.Labels, $"{keyPrefix}label_subsets.{subset.Name}");
            return source;
        }
        catch
        {
            (source as IDisposable)?.Dispose();
            throw;
        }
    }

    /// <summary>Refuses a class the dataset does not have, naming the dataset, the key it was written under and the classes there are.</summary>
    public static void RequireClasses(IEcgSource source, DatasetDefinition dataset, IEnumerable<string> classes, string key)
    {
        foreach (var label in classes)
            if (!source.ClassNames.Contains(label))
                throw new EcgDataException(dataset.Path ?? dataset.Kind, "(dataset)", key,
                    $"'{label}' is not a class of this dataset; it has {string.Join(", ", source.ClassNames)}");
    }

    /// <summary>
    /// The classes a dataset's labels are written in, with their SNOMED-CT concepts where known: what label maps between
    /// datasets are made from. Synthetic data: code6 or cpsc9; CODE: code6; PTB-XL statements: their SNOMED-CT
    /// counterparts (superclasses and subclasses have none); Challenge folders: the definition's taxonomy.
    /// </summary>
    public static Labels.Taxonomy TaxonomyOf(DatasetDefinition d) => d.Kind switch
    {
        DatasetDefinition.SyntheticKind => Labels.Taxonomy.Named(d.Synthetic.Taxonomy),
        DatasetDefinition.CodeKind => Labels.Taxonomy.Code6,
        DatasetDefinition.PtbXlKind when d.PtbXl.Labels == Data.PtbXl.PtbXlLabelLevel.Statement => Labels.Taxonomy.PtbXlSnomed,
        DatasetDefinition.PtbXlKind => Labels.Taxonomy.FromCodes($"ptb-xl {d.PtbXl.Labels.ToString().ToLowerInvariant()}", []),
        DatasetDefinition.ChallengeKind when d.Taxonomy == Data.Challenge.SnomedMapping.ScoredTaxonomyName =>
            Data.Challenge.SnomedMapping.LoadScored(ScoredTableOf(d)).ScoredTaxonomy(),
        DatasetDefinition.ChallengeKind => Labels.Taxonomy.Named(d.Taxonomy),
        var kind => throw new ArgumentException($"dataset kind '{kind}' is not supported"),
    };

    /// <summary>The Challenge's <c>weights.csv</c> for a Challenge folder, looked for where its scored table is; null when absent.</summary>
    public static string? ChallengeWeightsOf(DatasetDefinition d)
    {
        if (d.Kind != DatasetDefinition.ChallengeKind || d.Path is null) return null;
        string[] candidates = [.. d.TaxonomyFile is { } file ? [Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, "weights.csv")] : Array.Empty<string>(),
            .. LabelMapPlaces(d, "weights.csv")];
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>Where the Challenge's label-map files (dx_mapping_scored.csv, weights.csv) are looked for beside a
    /// Challenge folder: its <c>_label_maps/</c>, the folder itself, and its parent's <c>_label_maps/</c>.</summary>
    static string[] LabelMapPlaces(DatasetDefinition d, string fileName)
    {
        var folder = Path.GetFullPath(d.Path!);
        return [Path.Combine(folder, "_label_maps", fileName), Path.Combine(folder, fileName), Path.Combine(Path.GetDirectoryName(folder) ?? folder, "_label_maps", fileName)];
    }

    /// <summary>Where a Challenge folder's <c>dx_mapping_scored.csv</c> is: as the definition says, or found beside the records.</summary>
    static string ScoredTableOf(DatasetDefinition d)
    {
        if (d.TaxonomyFile is { } file) return file;
        var candidates = LabelMapPlaces(d, "dx_mapping_scored.csv");
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new EcgDataException(d.Path!, "(dataset)", "taxonomy_file",
                $"the Challenge's scored classes come from its dx_mapping_scored.csv, which is in none of {string.Join(", ", candidates)}; set 'taxonomy_file', or use 'taxonomy: cpsc9'");
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
            DatasetDefinition.ChallengeKind => new Data.Challenge.ChallengeSource(d.Path!,
                d.RecordPrefixes is { } prefixes ? name => prefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) : null, TaxonomyOf(d)),
            var kind => throw new ArgumentException($"dataset kind '{kind}' is not supported"),
        };
        if (!preprocessing.IsIdentity)
            source = new Preprocessing.PreprocessedSource(source, new Preprocessing.EcgPreprocessor(preprocessing));
        if (source.Count == 0) throw new EcgDataException(d.Path ?? d.Kind, "(dataset)", "records", "the dataset has no records");
        return source;
    }
}
