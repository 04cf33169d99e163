namespace CodeII.Experiments.Data;

public enum Sex { Unknown, Female, Male }

/// <summary>One exam: 12-lead signals in millivolts plus the metadata every reader provides.</summary>
public sealed class EcgRecord
{
    public required string ExamId { get; init; }
    public required string PatientId { get; init; }
    public int? Age { get; init; }
    public Sex Sex { get; init; }
    public required double SamplingRateHz { get; init; }

    /// <summary>Lead names normalised to I, II, III, aVR, aVL, aVF, V1–V6.</summary>
    public required IReadOnlyList<string> Leads { get; init; }

    /// <summary>Signals[lead][sample] in mV, including any zero padding.</summary>
    public required float[][] Signals { get; init; }

    /// <summary>Samples actually recorded; the rest of <see cref="Signals"/> is padding.</summary>
    public required Range RecordedSamples { get; init; }

    public required IReadOnlySet<string> Labels { get; init; }

    /// <summary>What the source says that is accepted but probably wrong (a WFDB gain of 0, a flat exam), for the run to list.</summary>
    public IReadOnlyList<string> Warnings { get => warnings; init => warnings = [.. value]; }
    List<string> warnings = [];

    /// <summary>Notes one more such thing, found when the record is checked after reading.</summary>
    public void AddWarning(string warning)
    {
        if (!warnings.Contains(warning)) warnings.Add(warning);
    }

    public int SampleCount => Signals.Length == 0 ? 0 : Signals[0].Length;

    public ReadOnlySpan<float> RecordedLead(int lead) => Signals[lead].AsSpan()[RecordedSamples];

    /// <summary>The rate the source recorded at; preprocessing that resamples keeps it here for the data summary.</summary>
    public double SourceSamplingRateHz { get => sourceRate ?? SamplingRateHz; init => sourceRate = value; }
    double? sourceRate;

    /// <summary>How long the source's recording lasts, before any cropping or padding to a fixed length.</summary>
    public double SourceSeconds
    {
        get => sourceSeconds ?? (SamplingRateHz > 0 ? RecordedSamples.GetOffsetAndLength(SampleCount).Length / SamplingRateHz : double.NaN);
        init => sourceSeconds = value;
    }
    double? sourceSeconds;

    /// <summary>Where sample 0 lies in the source's recording, in seconds: later than 0 for a window cut from it.</summary>
    public double StartSeconds { get; init; }

    /// <summary>
    /// The samples from <paramref name="fromSeconds"/> for <paramref name="seconds"/> (cut short at the end of the
    /// recording), as a record of its own that remembers where it came from. A 30-minute Holter record is read whole;
    /// a page shows a few seconds of it.
    /// </summary>
    public EcgRecord Window(double fromSeconds, double seconds)
    {
        var (start, length) = RecordedSamples.GetOffsetAndLength(SampleCount);
        var first = start + (int)Math.Round(fromSeconds * SamplingRateHz);
        var count = Math.Min(start + length - first, (int)Math.Round(seconds * SamplingRateHz));
        if (fromSeconds < 0 || seconds <= 0 || count <= 0)
            throw new ArgumentOutOfRangeException(nameof(fromSeconds), $"{fromSeconds:0.###} s + {seconds:0.###} s lies outside the recording (0–{length / SamplingRateHz:0.###} s)");
        return new EcgRecord
        {
            ExamId = ExamId, PatientId = PatientId, Age = Age, Sex = Sex, SamplingRateHz = SamplingRateHz, Leads = Leads,
            Signals = [.. Signals.Select(lead => lead.AsSpan(first, count).ToArray())], RecordedSamples = Range.All, Labels = Labels,
            Warnings = Warnings, SourceSamplingRateHz = SourceSamplingRateHz, SourceSeconds = SourceSeconds,
            StartSeconds = StartSeconds + (first - start) / SamplingRateHz,
        };
    }
}

public static class StandardLeads
{
    public static readonly IReadOnlyList<string> Twelve =
        ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"];

    /// <summary>Maps the spellings found in real files (AVR, avl, i, v1, DI, DII) to I, II, III, aVR, aVL, aVF, V1–V6;
    /// other names (MLII, vx) are returned unchanged.</summary>
    public static string Normalise(string lead)
    {
        var trimmed = lead.Trim();
        var upper = trimmed.ToUpperInvariant();
        return upper switch
        {
            "I" or "DI" => "I",
            "II" or "DII" => "II",
            "III" or "DIII" => "III",
            "AVR" => "aVR",
            "AVL" => "aVL",
            "AVF" => "aVF",
            "V1" or "V2" or "V3" or "V4" or "V5" or "V6" => upper,
            _ => trimmed,
        };
    }

    /// <summary>The standard lead a modified lead stands in for: Holter and monitoring records (MIT-BIH, QT Database)
    /// name their modified limb leads ML… (MLII) and their modified chest leads MV… (MV5). Other names go through
    /// <see cref="Normalise"/>.</summary>
    public static string Standing(string lead)
    {
        var normalised = Normalise(lead);
        var upper = normalised.ToUpperInvariant();
        var stood = upper.StartsWith("ML") ? Normalise(normalised[2..]) : upper.StartsWith("MV") ? Normalise(normalised[1..]) : normalised;
        return IndexOf(stood) >= 0 ? stood : normalised;
    }

    public static int IndexOf(string lead)
    {
        for (var i = 0; i < Twelve.Count; i++)
            if (string.Equals(Twelve[i], lead, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }
}

/// <summary>A dataset that can be read more than once, streaming records in a fixed order.</summary>
public interface IEcgSource
{
    string Name { get; }
    int Count { get; }
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Whether the records' patient ids come from the data. Without them each record stands for its own
    /// patient, so a split by patient is in fact a split by exam, which every run says.</summary>
    bool HasPatientIds { get; }

    /// <summary>Reads record <paramref name="index"/>; sources must allow concurrent calls.</summary>
    EcgRecord Read(int index);

    /// <summary>A short description of what identifies the data, folded into the run's data fingerprint.</summary>
    string Describe();

    /// <summary>Record <paramref name="index"/>'s exam id, without decoding its signals.</summary>
    string ExamIdAt(int index);

    /// <summary>The file that holds record <paramref name="index"/> (its header, or its HDF5 part), for error messages;
    /// sources without files give their name.</summary>
    string FileOf(int index) => Name;
}
