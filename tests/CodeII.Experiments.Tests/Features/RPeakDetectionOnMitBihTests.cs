using System.Text.Json;
using CodeII.Experiments.Data.Wfdb;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// The detector against the cardiologists' beat annotations of the MIT-BIH Arrhythmia Database's DS1 half (Moody and
/// Mark 2001, PhysioNet): 22 records of 30 min with frequent multiform PVCs, noise, baseline jumps, amplitude changes,
/// atrial fibrillation and flutter, ventricular flutter and bundle branch blocks.
/// </summary>
[Collection(nameof(CodeII.Experiments.Tests.Experiments.AloneCollection))]
public class RPeakDetectionOnMitBihTests
{
    static readonly string Ds1 = RepoPaths.Shared("mitdb-ds1");

    [Fact]
    public void Pooled_sensitivity_and_positive_predictivity_on_DS1_reach_99_80_percent()
    {
        var score = RPeakEvaluation.ScoreFolder(Ds1);
        Assert.Equal(22, score.Records.Count);
        var pooled = score.Pooled;
        // Issue 17's "done when": 99.80 % of both, every AAMI beat counted (docs/features.md, "R-peak detection", gives
        // the per-record figures and what is still missed); the detector before this work gave Se 97.49 % and +P 99.38 %.
        Assert.True(pooled.Sensitivity >= 0.9980, $"Se {pooled.Sensitivity:P3} (TP {pooled.TruePositives}, FN {pooled.FalseNegatives})");
        Assert.True(pooled.PositivePredictivity >= 0.9980, $"+P {pooled.PositivePredictivity:P3} (TP {pooled.TruePositives}, FP {pooled.FalsePositives})");
    }

    [Fact]
    public void Detections_sit_on_the_annotated_beats_within_10_ms_on_average()
    {
        var score = RPeakEvaluation.ScoreFolder(Ds1);
        Assert.InRange(score.MeanOffsetMs, -10, 10);
    }

    [Fact]
    public void Folder_mode_json_pools_the_records_counts_and_agrees_with_an_independent_count()
    {
        var (exit, stdout, stderr) = CliTests.Codeii(RepoPaths.Root, "features", "rpeaks", Ds1, "--json", "--max-threads", "2");
        Assert.True(exit == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        var records = root.GetProperty("records").EnumerateArray().ToArray();
        Assert.Equal(22, records.Length);
        int Sum(string field) => records.Sum(r => r.GetProperty(field).GetInt32());
        foreach (var field in new[] { "reference_beats", "true_positives", "false_negatives", "false_positives", "excluded_detections" })
            Assert.Equal(Sum(field), root.GetProperty(field).GetInt32());
        Assert.Equal(Sum("true_positives") / (double)(Sum("true_positives") + Sum("false_negatives")), root.GetProperty("sensitivity").GetDouble(), 12);
        Assert.Equal(Sum("true_positives") / (double)(Sum("true_positives") + Sum("false_positives")), root.GetProperty("ppv").GetDouble(), 12);

        // The independent count: beats picked by their annotation letters, each matched to the nearest free detection
        // within ±75 ms by a brute-force search, records read one by one.
        const string aamiBeats = "NLRejAaJSVEF/fQ";
        int tp = 0, fn = 0, fp = 0, beats = 0;
        foreach (var record in records)
        {
            var name = record.GetProperty("record").GetString()!;
            var path = Path.Combine(Ds1, name);
            var ecg = WfdbRecordReader.Read(path);
            var detected = new RPeakDetector().Detect(ecg.ToMillivolts(), new Range(0, ecg.SampleCount), ecg.Header.SamplingRateHz);
            var annotations = WfdbAnnotationReader.Read(path + ".atr");
            var reference = annotations.Where(a => aamiBeats.Contains(a.Symbol) && a.Symbol.Length == 1).Select(a => a.Sample).ToArray();
            var flutter = new List<(long, long)>();
            long? open = null;
            foreach (var a in annotations)
                if (a.Symbol == "[") open = a.Sample;
                else if (a.Symbol == "]" && open is { } s) { flutter.Add((s, a.Sample)); open = null; }
            var half = (long)Math.Round(0.075 * ecg.Header.SamplingRateHz);
            var used = new bool[detected.Length];
            var matched = 0;
            foreach (var beat in reference)
            {
                var best = Enumerable.Range(0, detected.Length).Where(k => !used[k] && Math.Abs(detected[k] - beat) <= half)
                    .OrderBy(k => Math.Abs(detected[k] - beat)).DefaultIfEmpty(-1).First();
                if (best >= 0) { used[best] = true; matched++; }
            }
            var extra = Enumerable.Range(0, detected.Length).Count(k => !used[k]
                && detected[k] >= reference[0] - half && detected[k] <= reference[^1] + half
                && !flutter.Any(e => detected[k] >= e.Item1 && detected[k] <= e.Item2));
            Assert.Equal(reference.Length, record.GetProperty("reference_beats").GetInt32());
            (beats, tp, fn, fp) = (beats + reference.Length, tp + matched, fn + reference.Length - matched, fp + extra);
        }
        Assert.Equal(beats, root.GetProperty("reference_beats").GetInt32());
        Assert.Equal(tp, root.GetProperty("true_positives").GetInt32());
        Assert.Equal(fn, root.GetProperty("false_negatives").GetInt32());
        Assert.Equal(fp, root.GetProperty("false_positives").GetInt32());
    }
}

public class RPeakFolderModeErrorTests
{
    [Fact]
    public void A_folder_without_annotated_records_is_named_and_exits_1()
    {
        // wfdb-samples' records other than 100 have no .atr; asking for another annotator leaves none.
        var folder = RepoPaths.Shared("wfdb-samples");
        var (exit, stdout, stderr) = CliTests.Codeii(RepoPaths.Root, "features", "rpeaks", folder, "--annotator", "qrs");
        Assert.Equal(1, exit);
        Assert.Contains(folder, stdout + stderr);
        Assert.Contains(".qrs", stdout + stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void An_unreadable_annotation_file_is_named_and_exits_1()
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        foreach (var ext in new[] { "hea", "dat" })
            File.Copy(RepoPaths.Shared("wfdb-samples", $"100.{ext}"), Path.Combine(dir, $"100.{ext}"));
        var annotation = Path.Combine(dir, "100.atr");
        File.WriteAllBytes(annotation, [0x01, 0x04, 0x02]); // one beat word, then half a word: truncated
        var (exit, stdout, stderr) = CliTests.Codeii(RepoPaths.Root, "features", "rpeaks", dir);
        Assert.Equal(1, exit);
        Assert.Contains(annotation, stdout + stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public void Folder_mode_scores_only_the_records_with_annotations_and_one_record_mode_agrees()
    {
        var folder = RepoPaths.Shared("wfdb-samples");
        var (exit, stdout, stderr) = CliTests.Codeii(RepoPaths.Root, "features", "rpeaks", folder, "--json");
        Assert.True(exit == 0, stderr + stdout);
        using var json = JsonDocument.Parse(stdout);
        var record = Assert.Single(json.RootElement.GetProperty("records").EnumerateArray());
        Assert.Equal("100", record.GetProperty("record").GetString());
        var (oneExit, oneOut, oneErr) = CliTests.Codeii(RepoPaths.Root, "features", "rpeaks", Path.Combine(folder, "100"),
            "--reference", Path.Combine(folder, "100.atr"), "--json");
        Assert.True(oneExit == 0, oneErr + oneOut);
        using var one = JsonDocument.Parse(oneOut);
        foreach (var field in new[] { "reference_beats", "true_positives", "false_negatives", "false_positives" })
            Assert.Equal(one.RootElement.GetProperty(field).GetInt32(), record.GetProperty(field).GetInt32());
    }
}
