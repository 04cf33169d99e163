using System.Text.RegularExpressions;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

/// <summary>The glossary in code and the tables of docs/features.md hold the same rows, so neither drifts alone.</summary>
public class FeatureGlossaryTests
{
    static readonly string Docs = Path.Combine(RepoPaths.Root, "docs", "features.md");

    /// <summary>Every table row of docs/features.md that names features: its names, unit and meaning as written.</summary>
    static IReadOnlyList<(string Names, string Unit, string Meaning)> DocumentedRows() =>
    [
        .. File.ReadLines(Docs).Where(l => l.StartsWith("| `", StringComparison.Ordinal)).Select(line =>
        {
            // Cells split on pipes that are not escaped (\| inside a meaning).
            var cells = Regex.Split(line.Trim(), @"(?<!\\)\|").Select(c => c.Trim()).ToArray();
            var names = string.Join(", ", Regex.Matches(cells[1], "`([^`]+)`").Select(m => m.Groups[1].Value));
            return (names, cells[2], cells[3]);
        }),
    ];

    [Fact]
    public void The_glossary_has_exactly_the_rows_of_docs_features_md_with_the_same_units_and_meanings()
    {
        var documented = DocumentedRows();
        var glossary = FeatureGlossary.Documented.Select(r => (Names: string.Join(", ", r.Names), r.Unit, r.Meaning)).ToArray();
        Assert.NotEmpty(documented);
        foreach (var row in documented)
            Assert.True(glossary.Contains(row), $"docs/features.md has `{row.Names}` | {row.Unit} | {row.Meaning}; FeatureGlossary.Documented does not (or says otherwise)");
        foreach (var row in glossary)
            Assert.True(documented.Contains(row), $"FeatureGlossary.Documented has `{row.Names}` | {row.Unit} | {row.Meaning}; docs/features.md does not (or says otherwise)");
    }

    [Theory]
    [InlineData(HandcraftedFeatureExtractor.SetName)]
    [InlineData(BasicFeatureExtractor.SetName)]
    public void Every_feature_of_a_record_set_has_a_documented_unit_and_meaning(string set)
    {
        var names = FeatureSetCatalog.Create(set).FeatureNames;
        var units = FeatureGlossary.Documented.Select(r => r.Unit).ToHashSet();
        Assert.All(names, name =>
        {
            var description = FeatureGlossary.Describe(name);
            Assert.True(units.Contains(description.Unit) && description.Meaning.Length > 0, $"{name}: '{description.Unit}', '{description.Meaning}'");
        });
        Assert.Contains($"writes {names.Count} values", File.ReadAllText(Docs));
    }

    [Fact]
    public void Per_lead_names_take_their_leads_row_and_learned_and_unknown_names_are_described_as_what_they_are()
    {
        Assert.Equal(new FeatureDescription("mV", "most negative deflection after R (≤ 0)"), FeatureGlossary.Describe("aVR_s_amp_mv"));
        Assert.Equal("shortest and longest RR", FeatureGlossary.Describe("rr_max_ms").Meaning);
        Assert.StartsWith("for II, V1 and V6", FeatureGlossary.Describe("V6_beat_m120ms_mv").Meaning);
        Assert.Equal(new FeatureDescription("none", "coordinate 12 of the network's penultimate layer"),
            FeatureGlossary.Describe("learned_0012"));
        Assert.Equal(new FeatureDescription("mV·ms", ""), FeatureGlossary.Describe("something_new_mvms"));
        Assert.Equal(new FeatureDescription("", ""), FeatureGlossary.Describe("resnet_AF"));
    }
}
