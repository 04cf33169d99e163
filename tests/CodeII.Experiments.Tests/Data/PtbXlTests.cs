using CodeII.Experiments.Data;
using CodeII.Experiments.Data.PtbXl;

namespace CodeII.Experiments.Tests.Data;

public class PtbXlTests
{
    static readonly Lazy<PtbXlDatabase> Full = new(() => PtbXlDatabase.Load(RepoPaths.Shared("ptbxl-labels-v1.0.3")));

    [Fact]
    public void The_full_v1_0_3_label_file_has_21799_exams_of_18869_patients_in_ten_folds()
    {
        var db = Full.Value;
        Assert.Equal(21_799, db.Exams.Count);
        Assert.Equal(18_869, db.Exams.Select(e => e.PatientId).Distinct().Count());
        Assert.Equal(1, db.Exams.Min(e => e.EcgId));
        Assert.Equal(21_837, db.Exams.Max(e => e.EcgId));
        var folds = db.Exams.GroupBy(e => e.StratFold).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(Enumerable.Range(1, 10), folds.Keys.Order());
        Assert.All(folds.Values, n => Assert.InRange(n, 2_173, 2_198));
        Assert.Equal(71, db.Statements.Count);
        Assert.Equal(44, db.Statements.Values.Count(s => s.Diagnostic));
        Assert.Equal(12, db.Statements.Values.Count(s => s.Rhythm));
    }

    [Theory]
    [InlineData(LikelihoodRule.Any, 9_514, 5_469, 5_235, 4_898, 2_649, 411)]
    [InlineData(LikelihoodRule.AboveZero, 9_514, 5_469, 5_108, 4_898, 2_649, 424)]
    public void Superclass_counts_match_the_published_aggregation(LikelihoodRule rule, int norm, int mi, int sttc, int cd, int hyp, int none)
    {
        var db = Full.Value;
        var labels = db.Exams.Select(e => db.SuperclassesOf(e, rule)).ToArray();
        Assert.Equal(norm, labels.Count(l => l.Contains("NORM")));
        Assert.Equal(mi, labels.Count(l => l.Contains("MI")));
        Assert.Equal(sttc, labels.Count(l => l.Contains("STTC")));
        Assert.Equal(cd, labels.Count(l => l.Contains("CD")));
        Assert.Equal(hyp, labels.Count(l => l.Contains("HYP")));
        Assert.Equal(none, labels.Count(l => l.Count == 0));
    }

    [Fact]
    public void Recommended_folds_put_no_patient_in_two_parts()
    {
        var parts = Full.Value.Exams.GroupBy(e => e.PatientId).Select(g => g.Select(e => PtbXlDatabase.PartOfFold(e.StratFold)).Distinct().Count());
        Assert.All(parts, n => Assert.Equal(1, n));
    }

    [Fact]
    public void A_record_reads_with_normalised_leads_millivolts_demographics_and_superclasses()
    {
        var source = new PtbXlSource(RepoPaths.Shared("ptbxl"), new PtbXlOptions { SamplingRateHz = 500, IncludeEcgId = id => id <= 400 });
        Assert.Equal(400, source.Count);
        var first = source.Read(0);
        Assert.Equal("1", first.ExamId);
        Assert.Equal("15709", first.PatientId);
        Assert.Equal(56, first.Age);
        Assert.Equal(Sex.Female, first.Sex);
        Assert.Equal(StandardLeads.Twelve, first.Leads);
        Assert.Equal(500, first.SamplingRateHz);
        Assert.Equal(5000, first.SampleCount);
        Assert.Equal(["NORM"], first.Labels);
    }

    [Fact]
    public void Subclass_and_statement_levels_are_available()
    {
        var db = Full.Value;
        var exam = db.Exams.First(e => e.EcgId == 1); // {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}
        Assert.Equal(["NORM"], db.SubclassesOf(exam));
        Assert.Equal(["LVOLT", "NORM", "SR"], db.StatementsOf(exam).Order());
        Assert.Equal(["NORM"], db.StatementsOf(exam, LikelihoodRule.AboveZero));
    }

    [Fact]
    public void A_missing_label_file_and_an_unknown_code_are_named()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        var e = Assert.Throws<EcgDataException>(() => PtbXlDatabase.Load(dir));
        Assert.EndsWith("scp_statements.csv", e.File);
        File.Copy(RepoPaths.Shared("ptbxl", "scp_statements.csv"), Path.Combine(dir, "scp_statements.csv"));
        File.WriteAllText(Path.Combine(dir, "ptbxl_database.csv"),
            "ecg_id,patient_id,age,sex,scp_codes,strat_fold,filename_lr,filename_hr\n7,1.0,50,0,\"{'XYZ': 100.0}\",3,a,b\n");
        // An unknown code is that exam's failure, met when it is read (skip_bad_records can leave it out), not the file's.
        var exam = Assert.Single(PtbXlDatabase.Load(dir).Exams);
        Assert.Empty(exam.ScpCodes);
        e = Assert.Throws<EcgDataException>(() => new PtbXlSource(dir).Read(0));
        Assert.Equal("ecg_id 7", e.Record);
        Assert.Equal("scp_codes", e.Field);
        Assert.Equal("'XYZ' is not in scp_statements.csv", e.Problem);
    }
}
