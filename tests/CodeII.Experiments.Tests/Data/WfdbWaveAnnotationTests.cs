using CodeII.Experiments.Data.Wfdb;
using CodeII.Experiments.Features;

namespace CodeII.Experiments.Tests.Data;

/// <summary>
/// The QT Database's wave-boundary annotations (sel100) read against the MIT annotation format (annot(5)). The expected
/// values were decoded independently, by a few lines of Python reading the file's 16-bit words by hand (code = top 6
/// bits, time step = low 10 bits; SKIP 59 with its PDP-11 long, NUM 60 and CHN 62 setting the field of the annotation
/// before them and of those after it until changed, AUX 63 with its padded string), not with this reader.
/// </summary>
public class WfdbWaveAnnotationTests
{
    static string Qtdb(string file) => RepoPaths.Shared("qtdb-sel100", file);

    [Fact]
    public void Sel100_q1c_has_the_cardiologists_30_beats_with_their_brackets()
    {
        var annotations = WfdbAnnotationReader.Read(Qtdb("sel100.q1c"));
        Assert.Equal(240, annotations.Count);
        Assert.Equal(60, annotations.Count(a => a.Symbol == "("));
        Assert.Equal(90, annotations.Count(a => a.Symbol == ")"));
        Assert.Equal(30, annotations.Count(a => a.Symbol == "p"));
        Assert.Equal(30, annotations.Count(a => a.Symbol == "N"));
        Assert.Equal(30, annotations.Count(a => a.Symbol == "t"));
        // The first beat: P onset, peak, offset; QRS onset, R, offset; T peak, offset. The file starts with a SKIP to
        // sample 150272; NUM tells the brackets of P (0), QRS (1) and the T offset (2) apart and carries over.
        (long Sample, string Symbol, int Number)[] first =
        [
            (150272, "(", 0), (150290, "p", 0), (150297, ")", 0), (150316, "(", 1),
            (150330, "N", 1), (150334, ")", 1), (150394, "t", 0), (150419, ")", 2),
        ];
        Assert.Equal(first, annotations.Take(8).Select(a => (a.Sample, a.Symbol, a.Number)).ToArray());
        Assert.Equal((156196L, ")"), (annotations[^1].Sample, annotations[^1].Symbol));
        Assert.All(annotations, a => Assert.Equal(0, a.Channel));
    }

    [Fact]
    public void Ecgpuwave_pu1_carries_its_channel_from_the_first_annotation_to_the_last()
    {
        var annotations = WfdbAnnotationReader.Read(Qtdb("sel100.pu1"));
        Assert.Equal(10616, annotations.Count);
        // One CHN word after the first annotation sets channel 1 for it and for every later one.
        Assert.All(annotations, a => Assert.Equal(1, a.Channel));
        Assert.Equal((92L, "("), (annotations[0].Sample, annotations[0].Symbol));
        Assert.Equal((224723L, ")", 2), (annotations[^1].Sample, annotations[^1].Symbol, annotations[^1].Number));
    }

    [Fact]
    public void Waves_are_grouped_per_beat_with_their_brackets()
    {
        var beats = WaveAnnotations.Beats(WfdbAnnotationReader.Read(Qtdb("sel100.q1c")));
        Assert.Equal(30, beats.Count);
        var b = beats[0];
        Assert.Equal(150330, b.RPeak);
        Assert.Equal([150272, 150290, 150297, 150316, 150334, 150394, 150419],
            new[] { b.POnset, b.PPeak, b.POffset, b.QrsOnset, b.QrsOffset, b.TPeak, b.TOffset });
        // The second cardiologist marked no P waves in sel100.
        var second = WaveAnnotations.Beats(WfdbAnnotationReader.Read(Qtdb("sel100.q2c")));
        Assert.Equal(30, second.Count);
        Assert.All(second, s => Assert.True(double.IsNaN(s.POnset) && double.IsNaN(s.PPeak)));
    }
}
