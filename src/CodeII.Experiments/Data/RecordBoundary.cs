namespace CodeII.Experiments.Data;

/// <summary>
/// Where one record's work begins and ends. Anything that goes wrong while one record is decoded or measured (a
/// malformed header, an impossible value, a filter that cannot run at the record's rate) is that record's failure:
/// it leaves here as an <see cref="EcgDataException"/> naming the file, the record and the field, so a run can skip
/// it (<c>skip_bad_records</c>) or stop with a message a user can act on. Cancellation passes through, and so does
/// an I/O error that is the machine's rather than the record's (a disk that fails, a mount that goes away): skipping
/// every record after it would end a run that "succeeded" on what it happened to read first.
/// </summary>
public static class RecordBoundary
{
    /// <summary>What reading a record refuses and warns about; a feature table cached under another version lists other
    /// skipped records and warnings, so the feature cache keys on it.</summary>
    public const int Version = 2;

    /// <summary>Above this no ECG recorder samples; a header saying so is corrupt.</summary>
    public const double MaxSamplingRateHz = 100_000;
    /// <summary>Below this not one heartbeat is resolved; a header saying so is corrupt.</summary>
    public const double MinSamplingRateHz = 1;

    /// <summary>Record <paramref name="index"/>, read and checked for values no real recording has.</summary>
    public static EcgRecord Read(IEcgSource source, int index)
    {
        EcgRecord record = null!;
        Guard(source, index, "signals", () => Check(record = source.Read(index), source.FileOf(index)));
        return record;
    }

    /// <summary>Runs one record's <paramref name="work"/>; a failure becomes that record's located error.</summary>
    public static void Guard(IEcgSource source, int index, string field, Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (e is not (EcgDataException or OperationCanceledException)
                                  && (e is not IOException || e is FileNotFoundException or DirectoryNotFoundException or EndOfStreamException))
        {
            throw new EcgDataException(Safe(() => source.FileOf(index), source.Name), Safe(() => source.ExamIdAt(index), $"#{index}"), field,
                $"{e.Message} ({e.GetType().Name})", e);
        }
    }

    static string Safe(Func<string> value, string fallback)
    {
        try { return value(); }
        catch (Exception e) when (e is not OperationCanceledException) { return fallback; }
    }

    /// <summary>Refuses a record no ECG could be: no signals, an impossible rate, no samples, or no sample that is a number.
    /// A record whose recording is empty inside its padding (a flat CODE exam) is kept, with a warning: it is data the
    /// source holds, and its features read as missing.</summary>
    public static void Check(EcgRecord record, string file)
    {
        EcgDataException Error(string field, string problem) => new(file, record.ExamId, field, problem);
        if (record.Signals.Length == 0) throw Error("signals", "the record has no signals");
        if (record.Leads.Count != record.Signals.Length)
            throw Error("signals", $"the record has {record.Signals.Length} signals but {record.Leads.Count} lead names");
        var rate = record.SamplingRateHz;
        if (!double.IsFinite(rate) || rate < MinSamplingRateHz || rate > MaxSamplingRateHz)
            throw Error("sampling rate", $"{rate} Hz is not a sampling rate a recording can have (from {MinSamplingRateHz} Hz to {MaxSamplingRateHz / 1000:0} kHz)");
        var samples = record.SampleCount;
        if (record.Signals.Any(s => s.Length != samples)) throw Error("signals", "the signals have different lengths");
        if (samples == 0) throw Error("signals", "the record holds no samples");
        var (offset, length) = record.RecordedSamples.GetOffsetAndLength(samples);
        if (length == 0)
        {
            record.AddWarning("no recorded samples: every one is zero padding, so its features read as missing");
            return;
        }
        foreach (var signal in record.Signals)
            foreach (var v in signal.AsSpan(offset, length))
                if (float.IsFinite(v)) return;
        throw Error("signals", $"none of its {length} samples per signal is a number: every one is missing (NaN, or WFDB's invalid-sample code)");
    }
}
