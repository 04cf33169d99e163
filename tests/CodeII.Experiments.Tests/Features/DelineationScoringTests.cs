using CodeII.Experiments.Data;
using CodeII.Experiments.Data.Formats;
using CodeII.Experiments.Data.Wfdb;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

public class DelineationScoringTests
{
    [Fact]
    public void Hand_made_errors_give_the_hand_computed_mean_sd_and_shares()
    {
        // 250 Hz: one sample is 4 ms. Reference QRS onsets 10 samples before R; ours off by −1, 0, +1, +3 samples
        // (−4, 0, +4, +12 ms): mean 3 ms, sample SD √((49 + 9 + 1 + 81) / 3) = √(140/3) = 6.831 ms; within the 6.5 ms
        // QRS-onset tolerance: 3 of 4. The fifth reference beat has no detected beat within 150 ms: not found.
        int[] r = [1000, 1200, 1400, 1600, 1800];
        var reference = r.Select(x => new BeatFiducials(x) { QrsOnset = x - 10, TOffset = x + 100 }).ToArray();
        int[] shift = [-1, 0, 1, 3];
        // Our R marks differ from the reference's by a few samples, as two detectors' do; the TOffset is not given.
        var ours = shift.Select((s, i) => new BeatFiducials(r[i] + 5) { QrsOnset = r[i] - 10 + s }).ToList();
        ours.Add(new BeatFiducials(1800 + 40)); // 160 ms away: no match
        var score = DelineationScoring.Score(ours, reference, 250);

        Assert.Equal(5, score.ReferenceBeats);
        Assert.Equal(4, score.MatchedBeats);
        var onset = score[WaveBoundary.QrsOnset];
        Assert.Equal(5, onset.Reference);
        Assert.Equal(4, onset.Found);
        Assert.Equal(0.8, onset.FoundShare, 10);
        Assert.Equal(3.0, onset.MeanErrorMs, 10);
        Assert.Equal(Math.Sqrt(140.0 / 3), onset.SdErrorMs, 10);
        Assert.Equal(6.5, onset.ToleranceMs);
        Assert.Equal(0.75, onset.WithinTolerance!.Value, 10);
        var tOffset = score[WaveBoundary.TOffset];
        Assert.Equal((5, 0), (tOffset.Reference, tOffset.Found));
        Assert.Equal(0, score[WaveBoundary.POnset].Reference);
        Assert.Null(score[WaveBoundary.PPeak].ToleranceMs);
    }

    [Fact]
    public void QRS_boundaries_on_QT_Database_sel100_meet_the_CSE_targets_against_both_cardiologists()
    {
        var record = EcgSources.Open(RepoPaths.Shared("qtdb-sel100", "sel100")).Read(0);
        var beats = new PerBeatDelineator().Delineate(record);
        Assert.Equal(250, record.SamplingRateHz);
        foreach (var annotator in new[] { "sel100.q1c", "sel100.q2c" })
        {
            var reference = WaveAnnotations.Beats(WfdbAnnotationReader.Read(RepoPaths.Shared("qtdb-sel100", annotator)));
            var score = DelineationScoring.Score(beats, reference, record.SamplingRateHz);
            Assert.Equal(30, score.MatchedBeats);
            // MLII stands in for II, so P waves are looked for and found on every beat the cardiologist marked one.
            var pOnset = score[WaveBoundary.POnset];
            Assert.Equal(pOnset.Reference, pOnset.Found);
            var onset = score[WaveBoundary.QrsOnset];
            var offset = score[WaveBoundary.QrsOffset];
            Assert.Equal(1.0, onset.FoundShare);
            Assert.Equal(1.0, offset.FoundShare);
            Assert.InRange(onset.MeanErrorMs, -5, 5);
            Assert.InRange(offset.MeanErrorMs, -5, 5);
            // The CSE tolerances (two SD of the CSE referees' spread) as the bound on the SD of our errors.
            Assert.True(onset.SdErrorMs <= 6.5, $"{annotator} QRS onset SD {onset.SdErrorMs:F1} ms");
            Assert.True(offset.SdErrorMs <= 11.6, $"{annotator} QRS offset SD {offset.SdErrorMs:F1} ms");
        }
    }

    [Fact]
    public void Modified_leads_stand_in_for_their_standard_leads_and_a_record_without_them_uses_all_leads()
    {
        Assert.Equal(["II", "V5", "V1", "aVF", "MLx", "CM5"], new[] { "MLII", "MV5", "v1", "AVF", "MLx", "CM5" }.Select(StandardLeads.Standing));
        // P is looked for in II, aVF, V1, I, III: MLII is II; a record of CM5 and ES (no limb or chest lead) uses both.
        Assert.Equal([0], BeatDelineator.CandidateLeads(["MLII", "V5"], ["II", "aVF", "V1", "I", "III"]));
        Assert.Equal([0, 1], BeatDelineator.CandidateLeads(["CM5", "ES"], ["II", "aVF", "V1", "I", "III"]));
    }
}
