using CodeII.Experiments.Data.Synthetic;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Features;

/// <summary>
/// Delineation against the generator's ground truth. The thresholds were tuned on seed 100; these exams come from
/// seed 200, which tuning never saw.
/// </summary>
public class BeatDelineatorTests
{
    [Fact]
    public void Intervals_match_the_synthesised_ones_across_all_classes()
    {
        var generator = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 300, Seed = 200 });
        var delineator = new BeatDelineator();
        var pr = new List<double>();
        var qrs = new List<double>();
        var qt = new List<double>();
        int sinus = 0, sinusWithP = 0, af = 0, afWithoutP = 0;
        var classesSeen = new HashSet<string>();
        for (var i = 0; i < generator.Count; i++)
        {
            var (record, truth) = generator.Generate(i);
            classesSeen.UnionWith(truth.SynthesisedClasses);
            var d = delineator.Delineate(delineator.MedianBeats(record)!);
            qrs.Add(Math.Abs(d.QrsMs - truth.QrsMs));
            qt.Add(Math.Abs(d.QtMs - truth.QtMs));
            if (truth.SynthesisedClasses.Contains("AF"))
            {
                af++;
                if (double.IsNaN(d.POnset)) afWithoutP++;
            }
            else
            {
                sinus++;
                if (!double.IsNaN(d.POnset)) { sinusWithP++; pr.Add(Math.Abs(d.PrMs - truth.PrMs)); }
            }
        }
        Assert.Equal(SyntheticClasses.All.Order(), classesSeen.Order());
        Assert.True(pr.Average() <= 10, $"PR MAE {pr.Average():F1} ms");
        Assert.True(qrs.Average() <= 10, $"QRS MAE {qrs.Average():F1} ms");
        Assert.True(qt.Average() <= 20, $"QT MAE {qt.Average():F1} ms");
        // A P wave riding on the previous T at rates above ~120 bpm is reported missing rather than guessed.
        Assert.True(sinusWithP >= 0.9 * sinus, $"P found in {sinusWithP} of {sinus} sinus-rhythm exams");
        Assert.True(afWithoutP >= 0.85 * af, $"P reported absent in {afWithoutP} of {af} AF exams");
    }

    [Fact]
    public void A_flat_record_has_no_median_beat()
    {
        var record = new SyntheticEcgGenerator(new SyntheticEcgOptions { Exams = 1 }).Read(0);
        foreach (var lead in record.Signals) Array.Clear(lead);
        Assert.Null(new BeatDelineator().MedianBeats(record));
    }
}
