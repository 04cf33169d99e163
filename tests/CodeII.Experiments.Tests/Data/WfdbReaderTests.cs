using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Wfdb;

namespace CodeII.Experiments.Tests.Data;

/// <summary>WFDB decoding against real PhysioNet files (PTB-XL, MIT-BIH, PTB) and their published checksums.</summary>
public class WfdbReaderTests
{
    // PTB-XL ids 401–500 are reserved for acceptance checks and are never read here.
    public static IEnumerable<object[]> PtbXlIds() => Enumerable.Range(1, 400).Select(i => new object[] { i });

    [Fact]
    public void Every_PTB_XL_record_1_to_400_decodes_at_100_and_500_Hz_with_matching_checksums()
    {
        var decoded = 0;
        for (var id = 1; id <= 400; id++)
        {
            foreach (var (folder, suffix, rate, samples) in new[] { ("records100", "lr", 100, 1000), ("records500", "hr", 500, 5000) })
            {
                var path = RepoPaths.Shared("ptbxl", folder, $"{id / 1000 * 1000:D5}", $"{id:D5}_{suffix}");
                var record = WfdbRecordReader.Read(path); // throws on any checksum or initial-value mismatch
                Assert.Equal(rate, record.Header.SamplingRateHz);
                Assert.Equal(samples, record.SampleCount);
                Assert.Equal(StandardLeads.Twelve, record.Header.Signals.Select(s => StandardLeads.Normalise(s.Description)));
                Assert.All(record.Header.Signals, s => Assert.Equal(1000, s.Gain));
                decoded++;
            }
        }
        Assert.Equal(800, decoded);
    }

    [Fact]
    public void PTB_XL_values_are_millivolts_at_gain_1000()
    {
        var record = WfdbRecordReader.Read(RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        var mv = record.ToMillivolts();
        // 00001_lr.hea: lead I initial value −119 at 1000/mV.
        Assert.Equal(-0.119f, mv[0][0], 6);
        Assert.Equal(-0.055f, mv[1][0], 6);
    }

    [Fact]
    public void MIT_BIH_record_100_decodes_format_212_to_the_right_first_samples()
    {
        var record = WfdbRecordReader.Read(RepoPaths.Shared("wfdb-samples", "100"));
        Assert.Equal(360, record.Header.SamplingRateHz);
        Assert.Equal(650_000, record.SampleCount);
        Assert.Equal(["MLII", "V5"], record.Header.Signals.Select(s => s.Description));
        // Header: ADC zero 1024, no baseline given (so 1024), gain 200; initial values 995 and 1011.
        Assert.Equal(995, record.Digital[0][0]);
        Assert.Equal(1011, record.Digital[1][0]);
        var mv = record.ToMillivolts();
        Assert.Equal(-0.145f, mv[0][0], 6);
        Assert.Equal(-0.065f, mv[1][0], 6);
    }

    [Fact]
    public void The_header_with_a_leading_comment_and_a_blank_line_between_signals_parses()
    {
        var header = WfdbHeader.Read(RepoPaths.Shared("wfdb-samples", "100.hea"));
        Assert.Equal(2, header.Signals.Count);
        Assert.Equal(["69 M 1085 1629 x1", "Aldomet, Inderal"], header.Comments);
        Assert.Equal(212, header.Signals[1].Format);
        Assert.Equal(1024, header.Signals[1].Baseline);
    }

    [Fact]
    public void A_record_split_over_two_files_with_lower_case_leads_and_no_units_decodes()
    {
        var record = WfdbRecordReader.Read(RepoPaths.Shared("wfdb-samples", "s0010_re"));
        Assert.Equal(15, record.Header.Signals.Count);
        Assert.Equal(1000, record.Header.SamplingRateHz);
        Assert.Equal(38_400, record.SampleCount);
        Assert.Equal(["s0010_re.dat", "s0010_re.xyz"], record.Header.Signals.Select(s => s.FileName).Distinct());
        Assert.Equal(StandardLeads.Twelve, record.Header.Signals.Take(12).Select(s => StandardLeads.Normalise(s.Description)));
        Assert.All(record.Header.Signals, s => Assert.Equal("mV", s.Units));
        Assert.Equal(-489, record.Digital[0][0]);
        Assert.Equal(-18, record.Digital[14][0]); // vz, the last signal of the second file
        Assert.Equal(-0.2445f, record.ToMillivolts()[0][0], 6);
    }

    [Fact]
    public void Units_written_as_slash_mV_after_a_plain_gain_are_read()
    {
        var record = WfdbRecordReader.Read(RepoPaths.Shared("wfdb-samples", "test01_00s"));
        Assert.Equal(4, record.Header.Signals.Count);
        Assert.Equal(100, record.Header.Signals[0].Gain);
        Assert.Equal("ECG 1", record.Header.Signals[0].Description);
        Assert.Equal(4000, record.SampleCount);
    }

    [Fact]
    public void MIT_BIH_100_atr_has_2273_beat_annotations()
    {
        var annotations = WfdbAnnotationReader.Read(RepoPaths.Shared("wfdb-samples", "100.atr"));
        var beats = annotations.Where(a => a.IsBeat).ToArray();
        Assert.Equal(2273, beats.Length);
        // Record 100 (MIT-BIH directory): 2,239 normal beats, 33 atrial premature beats, 1 PVC.
        Assert.Equal(2239, beats.Count(b => b.Symbol == "N"));
        Assert.Equal(33, beats.Count(b => b.Symbol == "A"));
        Assert.Equal(1, beats.Count(b => b.Symbol == "V"));
        Assert.True(beats.Zip(beats.Skip(1)).All(p => p.First.Sample < p.Second.Sample));
        Assert.InRange(beats[^1].Sample, 640_000, 650_000);
        Assert.Contains(annotations, a => a.Symbol == "+" && a.Auxiliary.StartsWith("(N"));
    }

    static string CopyRecord(string name, string from)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        foreach (var f in Directory.GetFiles(Path.GetDirectoryName(from)!, name + ".*")) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        return Path.Combine(dir, name);
    }

    [Fact]
    public void A_truncated_dat_file_is_named_with_its_record_and_field()
    {
        var path = CopyRecord("00001_lr", RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        var bytes = File.ReadAllBytes(path + ".dat");
        File.WriteAllBytes(path + ".dat", bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<EcgDataException>(() => WfdbRecordReader.Read(path));
        Assert.Equal(path + ".dat", e.File);
        Assert.Equal("00001_lr", e.Record);
        Assert.Equal("number of samples", e.Field);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_changed_sample_fails_its_signal_checksum()
    {
        var path = CopyRecord("00001_lr", RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        var bytes = File.ReadAllBytes(path + ".dat");
        bytes[12 * 2 * 500 + 2 * 2] ^= 0x01; // sample 500 of lead III (third of 12 interleaved int16 values)
        File.WriteAllBytes(path + ".dat", bytes);
        var e = Assert.Throws<EcgDataException>(() => WfdbRecordReader.Read(path));
        Assert.Equal("signal 3 (III) checksum", e.Field);
        Assert.Contains("64758", e.Message);
    }

    [Fact]
    public void A_header_that_disagrees_with_the_file_size_is_an_error()
    {
        var path = CopyRecord("00001_lr", RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        File.WriteAllText(path + ".hea", File.ReadAllText(path + ".hea").Replace("00001_lr 12 100 1000", "00001_lr 12 100 900"));
        var e = Assert.Throws<EcgDataException>(() => WfdbRecordReader.Read(path));
        Assert.Equal("number of samples", e.Field);
        Assert.Contains("announces 900 samples", e.Message);
    }

    [Fact]
    public void An_unknown_format_code_is_named()
    {
        var path = CopyRecord("00001_lr", RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        File.WriteAllText(path + ".hea", File.ReadAllText(path + ".hea").Replace("00001_lr.dat 16 ", "00001_lr.dat 311 "));
        var e = Assert.Throws<EcgDataException>(() => WfdbRecordReader.Read(path));
        Assert.Equal("signal 1 format", e.Field);
        Assert.Contains("format 311 is not supported", e.Message);
    }

    [Fact]
    public void A_missing_signal_file_is_named()
    {
        var path = CopyRecord("00001_lr", RepoPaths.Shared("ptbxl", "records100", "00000", "00001_lr"));
        File.Delete(path + ".dat");
        var e = Assert.Throws<EcgDataException>(() => WfdbRecordReader.Read(path));
        Assert.Equal(path + ".dat", e.File);
        Assert.Equal("signal file", e.Field);
    }

    [Fact]
    public void A_record_line_that_announces_more_signals_than_follow_is_located()
    {
        var e = Assert.Throws<EcgDataException>(() => WfdbHeader.Parse(["# c", "r 3 360 10", "r.dat 16 200 11 0 0 0 0 a"], "r.hea"));
        Assert.Equal("line 2, number of signals", e.Field);
    }
}

public class WfdbWriterTests
{
    [Fact]
    public void Written_records_read_back_exactly_in_ADC_units_with_valid_checksums()
    {
        var generator = new CodeII.Experiments.Data.Synthetic.SyntheticEcgGenerator(new() { Exams = 5, Seed = 3, SamplingRateHz = 500, PaddedLength = 0 });
        var dir = RepoPaths.NewTemporaryDirectory();
        for (var i = 0; i < 5; i++)
        {
            var original = generator.Read(i);
            WfdbWriter.Write(original, dir);
            var back = WfdbRecordReader.Read(Path.Combine(dir, original.ExamId)); // verifies checksums and initial values
            Assert.Equal(500, back.Header.SamplingRateHz);
            Assert.Equal(original.Leads, back.Header.Signals.Select(s => s.Description));
            for (var l = 0; l < 12; l++)
            {
                Assert.Equal(original.Signals[l].Select(WfdbWriter.ToDigital).Select(v => (int)v), back.Digital[l]);
                var mv = back.ToMillivolts()[l];
                for (var n = 0; n < mv.Length; n++) Assert.True(Math.Abs(mv[n] - original.Signals[l][n]) <= 0.0005f + 1e-6f);
            }
            Assert.Contains($"Patient: {original.PatientId}", back.Header.Comments);
        }
    }
}
