using System.Globalization;
using CodeII.Experiments.Data;

namespace CodeII.Experiments.Preprocessing;

/// <summary>What to do to every record before features are extracted; plain data, set from the definition's
/// <c>preprocessing</c> section. Steps run in a fixed order: leads, resample, high-pass, low-pass, notch, normalise, length.</summary>
public sealed record PreprocessingOptions
{
    /// <summary>Keep these leads, in this order; III, aVR, aVL and aVF are derived from I and II where missing.</summary>
    public IReadOnlyList<string>? Leads { get; init; }
    public int? ResampleHz { get; init; }
    /// <summary>Baseline-wander removal: zero-phase Butterworth high-pass.</summary>
    public double? HighPassHz { get; init; }
    /// <summary>Zero-phase Butterworth low-pass; with <see cref="HighPassHz"/> it makes a band-pass.</summary>
    public double? LowPassHz { get; init; }
    /// <summary>Mains notch, 50 or 60 Hz (Brazil, where CODE was recorded, uses 60).</summary>
    public double? NotchHz { get; init; }
    /// <summary>Butterworth order of each pass before forward-backward filtering doubles it.</summary>
    public int FilterOrder { get; init; } = 2;
    /// <summary><c>none</c> or <c>zscore</c> (each lead to zero mean and unit variance over the recording).</summary>
    public string Normalize { get; init; } = "none";
    /// <summary>Centred zero-pad or crop to this many samples.</summary>
    public int? Length { get; init; }

    public bool IsIdentity => Leads is null && ResampleHz is null && HighPassHz is null && LowPassHz is null && NotchHz is null && Normalize == "none" && Length is null;

    public string Describe() => IsIdentity ? "none" : string.Join(" → ", new[]
    {
        Leads is null ? null : $"leads {string.Join(",", Leads)}",
        ResampleHz is null ? null : $"resample {ResampleHz} Hz",
        HighPassHz is null ? null : $"high-pass {HighPassHz.Value.ToString(CultureInfo.InvariantCulture)} Hz",
        LowPassHz is null ? null : $"low-pass {LowPassHz.Value.ToString(CultureInfo.InvariantCulture)} Hz",
        NotchHz is null ? null : $"notch {NotchHz.Value.ToString(CultureInfo.InvariantCulture)} Hz",
        HighPassHz is null && LowPassHz is null ? null : $"Butterworth order {FilterOrder} zero-phase",
        Normalize == "none" ? null : $"normalise {Normalize}",
        Length is null ? null : $"length {Length}",
    }.Where(s => s is not null));
}

/// <summary>Applies <see cref="PreprocessingOptions"/> to one record at a time, so sources keep streaming.</summary>
public sealed class EcgPreprocessor(PreprocessingOptions options)
{
    public PreprocessingOptions Options { get; } = options;

    public EcgRecord Apply(EcgRecord record)
    {
        if (Options.IsIdentity) return record;
        var (start, length) = record.RecordedSamples.GetOffsetAndLength(record.SampleCount);
        var leads = record.Leads.ToList();
        var signals = record.Signals.Select(s => s.AsSpan(start, length).ToArray()).ToList();
        var fs = record.SamplingRateHz;

        if (Options.Leads is { } wanted)
        {
            var selected = new float[wanted.Count][];
            for (var k = 0; k < wanted.Count; k++)
                selected[k] = LeadOrDerived(record, leads, signals, wanted[k]);
            leads = wanted.ToList();
            signals = selected.ToList();
        }
        if (Options.ResampleHz is { } target && Math.Abs(target - fs) > 1e-9)
        {
            if (Math.Abs(fs - Math.Round(fs)) > 1e-9)
                throw new EcgDataException(record.ExamId, record.ExamId, "sampling rate", $"{fs} Hz is not a whole number; rational resampling needs one");
            var resampler = new PolyphaseResampler((int)Math.Round(fs), target);
            signals = signals.Select(s => resampler.Resample(s)).ToList();
            fs = target;
        }
        var filters = new List<SecondOrderSections>();
        if (Options.HighPassHz is { } hp) filters.Add(SecondOrderSections.ButterworthHighPass(Options.FilterOrder, hp, fs));
        if (Options.LowPassHz is { } lp) filters.Add(SecondOrderSections.ButterworthLowPass(Options.FilterOrder, lp, fs));
        if (Options.NotchHz is { } notch) filters.Add(SecondOrderSections.Notch(notch, fs));
        foreach (var signal in signals)
            foreach (var filter in filters) filter.FilterZeroPhase(signal);
        if (Options.Normalize == "zscore")
            foreach (var signal in signals) ZScore(signal);

        var recorded = new Range(0, signals.Count == 0 ? 0 : signals[0].Length);
        if (Options.Length is { } n)
            (signals, recorded) = FitLength(signals, n);
        return new EcgRecord
        {
            ExamId = record.ExamId, PatientId = record.PatientId, Age = record.Age, Sex = record.Sex, Labels = record.Labels,
            SamplingRateHz = fs, Leads = leads, Signals = signals.ToArray(), RecordedSamples = recorded,
            SourceSamplingRateHz = record.SourceSamplingRateHz, SourceSeconds = record.SourceSeconds, Warnings = record.Warnings,
        };
    }

    static float[] LeadOrDerived(EcgRecord record, List<string> leads, List<float[]> signals, string lead)
    {
        var index = leads.FindIndex(l => string.Equals(l, lead, StringComparison.OrdinalIgnoreCase));
        if (index >= 0) return signals[index];
        var i = leads.IndexOf("I");
        var ii = leads.IndexOf("II");
        if (i < 0 || ii < 0 || StandardLeads.IndexOf(lead) is < 2 or > 5)
            throw new EcgDataException(record.ExamId, record.ExamId, "leads", $"lead {lead} is neither recorded ({string.Join(", ", leads)}) nor derivable from I and II");
        var (a, b) = (signals[i], signals[ii]);
        var derived = new float[a.Length];
        // Einthoven and Goldberger: III = II − I, aVR = −(I + II)/2, aVL = I − II/2, aVF = II − I/2.
        Func<float, float, float> f = StandardLeads.Normalise(lead) switch
        {
            "III" => (x, y) => y - x,
            "aVR" => (x, y) => -(x + y) / 2,
            "aVL" => (x, y) => x - y / 2,
            _ => (x, y) => y - x / 2,
        };
        for (var n = 0; n < a.Length; n++) derived[n] = f(a[n], b[n]);
        return derived;
    }

    static void ZScore(float[] signal)
    {
        if (signal.Length < 2) return;
        double mean = 0;
        foreach (var v in signal) mean += v;
        mean /= signal.Length;
        double squares = 0;
        foreach (var v in signal) squares += (v - mean) * (v - mean);
        var sd = Math.Sqrt(squares / (signal.Length - 1));
        // A flat lead stays flat (zero) rather than becoming NaN.
        for (var n = 0; n < signal.Length; n++) signal[n] = sd > 0 ? (float)((signal[n] - mean) / sd) : 0f;
    }

    /// <summary>Centred zero padding (as CODE stores 7 and 10 s recordings in 4096 samples) or a centred crop.</summary>
    static (List<float[]>, Range) FitLength(List<float[]> signals, int n)
    {
        var length = signals.Count == 0 ? 0 : signals[0].Length;
        if (length <= n)
        {
            var before = (n - length) / 2;
            return (signals.Select(s => { var p = new float[n]; s.CopyTo(p, before); return p; }).ToList(), new Range(before, before + length));
        }
        var skip = (length - n) / 2;
        return (signals.Select(s => s.AsSpan(skip, n).ToArray()).ToList(), new Range(0, n));
    }
}

/// <summary>A source whose records pass through an <see cref="EcgPreprocessor"/> as they are read.</summary>
public sealed class PreprocessedSource(IEcgSource inner, EcgPreprocessor preprocessor) : IEcgSource, IDisposable
{
    public string Name => inner.Name;
    public int Count => inner.Count;
    public IReadOnlyList<string> ClassNames => inner.ClassNames;
    public bool HasPatientIds => inner.HasPatientIds;
    public IEcgSource Inner => inner;
    /// <summary>Separates the data's description from its preprocessing's in <see cref="Describe"/>, so what names the
    /// data alone can be told from it.</summary>
    public const string PreprocessingSeparator = " | preprocessing: ";
    public string Describe() => $"{inner.Describe()}{PreprocessingSeparator}{preprocessor.Options.Describe()}";

    /// <summary>The data part of a description <see cref="Describe"/> wrote (a description without preprocessing is all data).</summary>
    public static string DataPart(string description) =>
        description.IndexOf(PreprocessingSeparator, StringComparison.Ordinal) is var at and >= 0 ? description[..at] : description;
    public string ExamIdAt(int index) => inner.ExamIdAt(index);
    public string FileOf(int index) => inner.FileOf(index);
    /// <summary>The inner record is checked before preprocessing, so an impossible value is named as such rather than
    /// surfacing as a filter that cannot run.</summary>
    public EcgRecord Read(int index) => preprocessor.Apply(RecordBoundary.Read(inner, index));
    public void Dispose() => (inner as IDisposable)?.Dispose();
}
