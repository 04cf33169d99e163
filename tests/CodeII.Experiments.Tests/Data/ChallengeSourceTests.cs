using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Challenge;

namespace CodeII.Experiments.Tests.Data;

public class ChallengeSourceTests
{
    // JS* (Chapman/Ningbo) records are reserved for acceptance checks: only Georgia (E*) and HR* are read.
    static ChallengeSource Allowed() => new(RepoPaths.Shared("cinc2021"), name => name.StartsWith('E') || name.StartsWith("HR"));

    [Fact]
    public void Georgia_and_HR_records_decode_with_checksums_and_their_SNOMED_codes_map_through_the_official_tables()
    {
        var source = Allowed();
        Assert.Equal(30, source.Count);
        var mapping = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps"));
        for (var i = 0; i < source.Count; i++)
        {
            var record = source.Read(i);
            Assert.Equal(500, record.SamplingRateHz);
            Assert.Equal(5000, record.SampleCount);
            Assert.Equal(StandardLeads.Twelve, record.Leads);
            Assert.NotEmpty(record.Labels);
            foreach (var code in record.Labels)
                Assert.False(string.IsNullOrEmpty(mapping.AbbreviationOf(code, source.HeaderPath(i), record.ExamId)));
        }
    }

    [Fact]
    public void The_first_Georgia_record_has_its_demographics_and_diagnoses()
    {
        var record = Allowed().Read(0);
        Assert.Equal("E07500", record.ExamId);
        Assert.Equal(78, record.Age);
        Assert.Equal(Sex.Male, record.Sex);
        Assert.Equal(["426177001", "67741000119109"], record.Labels.Order());
        var mapping = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps"));
        Assert.Equal("SB", mapping.AbbreviationOf("426177001", "", ""));
        // E07500.hea: lead I initial value −68 at 1000/mV.
        Assert.Equal(-0.068f, record.Signals[0][0], 6);
    }

    [Fact]
    public void Pairs_the_Challenge_scores_as_one_class_are_in_the_tables()
    {
        var mapping = SnomedMapping.Load(RepoPaths.Shared("cinc2021", "_label_maps"));
        foreach (var (code, canonical) in SnomedMapping.ScoredAsOne)
        {
            Assert.True(mapping.Classes[code].Scored);
            Assert.True(mapping.Classes[canonical].Scored);
            Assert.Equal(canonical, SnomedMapping.Canonical(code));
        }
        Assert.Equal("RBBB", mapping.Classes["59118001"].Abbreviation);
        Assert.Equal("CRBBB", mapping.Classes["713427006"].Abbreviation);
    }

    [Fact]
    public void HR_headers_with_lower_case_mv_units_decode_to_millivolts()
    {
        var source = Allowed();
        var index = Enumerable.Range(0, source.Count).First(i => Path.GetFileName(source.HeaderPath(i)) == "HR06000.hea");
        Assert.Equal(0.010f, source.Read(index).Signals[0][0], 6);
    }

    [Fact]
    public void A_non_v4_mat_file_is_explained()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        foreach (var f in new[] { "E07501.hea", "E07501.mat" }) File.Copy(RepoPaths.Shared("cinc2021", f), Path.Combine(dir, f));
        var bytes = File.ReadAllBytes(Path.Combine(dir, "E07501.mat"));
        bytes[0] = 0; // type 0: double precision, not int16
        File.WriteAllBytes(Path.Combine(dir, "E07501.mat"), bytes);
        var e = Assert.Throws<EcgDataException>(() => new ChallengeSource(dir).Read(0));
        Assert.Equal("E07501", e.Record);
        Assert.Equal("MAT header", e.Field);
    }
}

public class ChallengeTaxonomyTests
{
    static ChallengeSource Open(string taxonomy) => (ChallengeSource)CodeII.Experiments.Experiments.Datasets.Open(new CodeII.Experiments.Experiments.DatasetDefinition
    {
        Kind = "challenge", Path = RepoPaths.Shared("cinc2021"), Taxonomy = taxonomy, RecordPrefixes = ["E", "HR"],
    }, new CodeII.Experiments.Preprocessing.PreprocessingOptions());

    static IReadOnlySet<string> LabelsOf(ChallengeSource source, string record) =>
        source.Read(Enumerable.Range(0, source.Count).Single(i => source.ExamIdAt(i) == record)).Labels;

    [Fact]
    public void Records_read_in_the_Challenges_scored_classes_or_CPSCs_nine()
    {
        var scored = Open("challenge-scored");
        Assert.Equal(30, scored.Count); // E* and HR* only: JS* are left out by the prefixes
        Assert.Equal(26, scored.ClassNames.Count);
        // E07509.hea: # Dx: 59118001,426177001 (RBBB, sinus bradycardia).
        Assert.Equal(["RBBB", "SB"], LabelsOf(scored, "E07509").Order());
        // HR06002.hea: # Dx: 426177001,426783006,713426002 (SB, sinus rhythm, incomplete RBBB).
        Assert.Equal(["IRBBB", "NSR", "SB"], LabelsOf(scored, "HR06002").Order());
        // E07500.hea: # Dx: 426177001,67741000119109 (SB, and left atrial enlargement, which is not scored).
        Assert.Equal(["SB"], LabelsOf(scored, "E07500"));

        var cpsc = Open("cpsc9");
        Assert.Equal(["NORM", "AF", "I-AVB", "LBBB", "RBBB", "PAC", "PVC", "STD", "STE"], cpsc.ClassNames);
        Assert.Equal(["RBBB"], LabelsOf(cpsc, "E07509"));
        Assert.Equal(["NORM"], LabelsOf(cpsc, "HR06002")); // sinus rhythm is CPSC's NORM concept; IRBBB is no CPSC class
        Assert.Empty(LabelsOf(cpsc, "E07500"));
    }

    [Fact]
    public void A_missing_scored_table_is_named_with_the_places_looked_in()
    {
        var folder = RepoPaths.NewTemporaryDirectory();
        var e = Assert.Throws<EcgDataException>(() => CodeII.Experiments.Experiments.Datasets.TaxonomyOf(new CodeII.Experiments.Experiments.DatasetDefinition { Kind = "challenge", Path = folder }));
        Assert.Contains("dx_mapping_scored.csv", e.Message);
        Assert.Contains("taxonomy: cpsc9", e.Message);
    }
}
