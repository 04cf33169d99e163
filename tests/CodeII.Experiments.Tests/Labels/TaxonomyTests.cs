using CodeII.Experiments.Data.Challenge;
using CodeII.Experiments.Data.PtbXl;
using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Labels;

namespace CodeII.Experiments.Tests.Labels;

public class TaxonomyTests
{
    [Fact]
    public void Built_in_taxonomies_load_with_their_classes()
    {
        Assert.Equal(SyntheticClasses.All, Taxonomy.Code6.Classes.Select(c => c.Code));
        Assert.Equal(["NORM", "AF", "I-AVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE"], Taxonomy.Cpsc9.Classes.Select(c => c.Code));
        Assert.All(Taxonomy.Code6.Classes.Concat(Taxonomy.Cpsc9.Classes), c => Assert.NotNull(c.Snomed));
    }

    [Fact]
    public void Every_SNOMED_code_we_ship_is_in_the_Challenges_official_tables_with_the_same_meaning()
    {
        var official = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps"));
        foreach (var taxonomy in new[] { Taxonomy.Code6, Taxonomy.Cpsc9, Taxonomy.PtbXlSnomed })
            foreach (var c in taxonomy.Classes.Where(c => c.Snomed is not null))
                Assert.True(official.Classes.ContainsKey(c.Snomed!), $"{taxonomy.Name} {c.Code}: SNOMED-CT {c.Snomed} is not in the Challenge tables");
        Assert.Equal("IAVB", official.Classes[Taxonomy.Code6.Find("1dAVb")!.Snomed!].Abbreviation);
        Assert.Equal("STach", official.Classes[Taxonomy.Code6.Find("ST")!.Snomed!].Abbreviation);
        Assert.Equal("CLBBB", official.Classes[Taxonomy.PtbXlSnomed.Find("CLBBB")!.Snomed!].Abbreviation);
    }

    [Fact]
    public void PTB_XL_codes_we_map_exist_in_scp_statements()
    {
        var statements = PtbXlDatabase.Load(RepoPaths.Shared("ptbxl-labels-v1.0.3")).Statements;
        Assert.All(Taxonomy.PtbXlSnomed.Classes, c => Assert.True(statements.ContainsKey(c.Code), $"{c.Code} is not an SCP statement"));
    }

    [Fact]
    public void First_degree_AV_block_maps_across_CODE_PTB_XL_and_CPSC_through_SNOMED()
    {
        Assert.Equal(["1AVB"], LabelMap.Between(Taxonomy.Code6, Taxonomy.PtbXlSnomed).Mapping["1dAVb"]);
        Assert.Equal(["I-AVB"], LabelMap.Between(Taxonomy.Code6, Taxonomy.Cpsc9).Mapping["1dAVb"]);
        Assert.Equal(["1dAVb"], LabelMap.Between(Taxonomy.Cpsc9, Taxonomy.Code6).Mapping["I-AVB"]);
    }

    [Fact]
    public void Equivalent_pairs_join_so_CODE_RBBB_covers_PTB_XL_complete_RBBB()
    {
        var map = LabelMap.Between(Taxonomy.Code6, Taxonomy.PtbXlSnomed);
        Assert.Equal(["CRBBB"], map.Mapping["RBBB"]);
        Assert.Equal(["CLBBB"], map.Mapping["LBBB"]);
        Assert.Equal(["AFIB"], map.Mapping["AF"]);
        Assert.Equal(["SBRAD"], map.Mapping["SB"]);
        Assert.Equal(["STACH"], map.Mapping["ST"]);
        Assert.Contains("LVH", map.UncoveredTargets);
        Assert.DoesNotContain("CRBBB", map.UncoveredTargets);
    }

    [Fact]
    public void CODE_to_CPSC_covers_four_of_nine_classes()
    {
        var map = LabelMap.Between(Taxonomy.Code6, Taxonomy.Cpsc9);
        Assert.Equal(["AF", "I-AVB", "LBBB", "RBBB"], map.CoveredTargets.Order());
        Assert.Equal(["NORM", "PAC", "PVC", "STD", "STE"], map.UncoveredTargets.Order());
        Assert.False(map.Mapping.ContainsKey("SB")); // CPSC 2018 has no bradycardia class
    }
}

public class DatasetTaxonomyTests
{
    [Fact]
    public void PTB_XL_gives_71_statements_5_superclasses_and_23_subclasses()
    {
        var (statements, superclasses, subclasses) = PtbXlDatabase.Load(RepoPaths.Shared("ptbxl")).Taxonomies();
        Assert.Equal(71, statements.Classes.Count);
        Assert.Equal(44, statements.Classes.Count(c => c.Group == "diagnostic"));
        Assert.Equal(12, statements.Classes.Count(c => c.Group == "rhythm"));
        Assert.Equal(["NORM", "MI", "STTC", "CD", "HYP"], superclasses.Classes.Select(c => c.Code));
        Assert.Equal(23, subclasses.Classes.Count);
        Assert.Equal("270492004", statements.Find("1AVB")!.Snomed);
        // The PTB-XL statement vocabulary maps to CODE-6 through SNOMED-CT as the hand-written table does.
        Assert.Equal(["1dAVb"], LabelMap.Between(statements, Taxonomy.Code6).Mapping["1AVB"]);
    }

    [Fact]
    public void The_Challenge_tables_become_a_taxonomy_with_scored_classes_marked()
    {
        var challenge = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps")).ToTaxonomy();
        Assert.Equal(30, challenge.Classes.Count(c => c.Group == "scored"));
        Assert.Equal("IAVB", challenge.Find("270492004")!.Name);
        var map = LabelMap.Between(Taxonomy.Code6, challenge);
        Assert.Equal(["59118001", "713427006"], map.Mapping["RBBB"].Order());
    }
}

public class LabelCoverageTests
{
    static Taxonomy Scored() => SnomedMapping.LoadScored(RepoPaths.Shared("cinc2021", "_label_maps", "dx_mapping_scored.csv")).ScoredTaxonomy();

    [Fact]
    public void CODE_RBBB_covers_PTB_XL_complete_RBBB_but_not_incomplete_and_first_degree_block_maps_across_all_three()
    {
        var coverage = LabelCoverage.Of(Taxonomy.Code6, SyntheticClasses.All, Taxonomy.PtbXlSnomed, ["CRBBB", "IRBBB", "1AVB", "LVH"]);
        Assert.Equal(new CoverageRow("CRBBB", CoverageKind.Covered, ["RBBB"]), coverage.For("CRBBB"), new CoverageRowComparer());
        Assert.Equal(CoverageKind.Uncovered, coverage.For("IRBBB").Kind);
        Assert.Equal(["1dAVb"], coverage.For("1AVB").SourceClasses);
        Assert.Equal(["IRBBB", "LVH"], coverage.Uncovered);
        // 1dAVb ↔ 1AVB ↔ I-AVB, from PTB-XL to CPSC too.
        Assert.Equal(["1AVB"], LabelCoverage.Of(Taxonomy.PtbXlSnomed, ["1AVB", "IRBBB"], Taxonomy.Cpsc9, ["I-AVB"]).For("I-AVB").SourceClasses);
        Assert.Equal(["I-AVB"], LabelCoverage.Of(Taxonomy.Cpsc9, ["I-AVB"], Taxonomy.Code6, ["1dAVb"]).For("1dAVb").SourceClasses);
    }

    [Fact]
    public void Two_source_classes_of_one_scored_concept_cover_a_label_many_to_one()
    {
        // The Challenge's full table keeps CRBBB and RBBB apart; CPSC's RBBB is the concept both are scored as.
        var challenge = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps")).ToTaxonomy();
        var coverage = LabelCoverage.Of(challenge, ["713427006", "59118001", "164889003"], Taxonomy.Cpsc9, ["RBBB", "AF", "STD"]);
        Assert.Equal(CoverageKind.ManyToOne, coverage.For("RBBB").Kind);
        Assert.Equal(["59118001", "713427006"], coverage.For("RBBB").SourceClasses.Order());
        Assert.Equal(CoverageKind.Covered, coverage.For("AF").Kind);
        Assert.Equal(["STD"], coverage.Uncovered);
    }

    [Fact]
    public void The_Challenges_scored_classes_join_its_four_equivalent_pairs()
    {
        var scored = Scored();
        // dx_mapping_scored.csv has 30 rows; CRBBB, CLBBB, PAC and PVC are scored as RBBB, LBBB, SVPB and VPB.
        Assert.Equal(26, scored.Classes.Count);
        foreach (var joined in (string[])["CRBBB", "CLBBB", "PAC", "PVC"]) Assert.Null(scored.Find(joined));
        Assert.Equal(["RBBB"], scored.ClassesOf(["713427006"]));
        Assert.Equal(["VPB"], scored.ClassesOf(["427172004"]));
        // CODE's six are all covered; PTB-XL's incomplete RBBB is a class of its own.
        Assert.Empty(LabelCoverage.Of(Taxonomy.Code6, SyntheticClasses.All, scored, ["RBBB", "LBBB", "IAVB", "AF", "SB", "STach"]).Uncovered);
        Assert.Equal(CoverageKind.Uncovered, LabelCoverage.Of(Taxonomy.Code6, SyntheticClasses.All, scored, ["IRBBB"]).For("IRBBB").Kind);
    }

    sealed class CoverageRowComparer : IEqualityComparer<CoverageRow>
    {
        public bool Equals(CoverageRow? a, CoverageRow? b) => a!.Label == b!.Label && a.Kind == b.Kind && a.SourceClasses.SequenceEqual(b.SourceClasses);
        public int GetHashCode(CoverageRow row) => row.Label.GetHashCode();
    }
}
