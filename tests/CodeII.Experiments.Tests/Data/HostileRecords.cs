namespace CodeII.Experiments.Tests.Data;

/// <summary>
/// Real PTB-XL records (100 Hz, ids 1–400 only) copied and then broken the ways the hostile-input probe found, each
/// with the field the error must name, worked out by hand from the header line changed.
/// </summary>
static class HostileRecords
{
    /// <summary>A fault: which record (ecg_id) it breaks, the field its error names, words its reason holds.</summary>
    public sealed record Fault(int EcgId, string Field, string Reason, Action<string, string> Apply);

    static string Name(int id) => $"{id:D5}_lr";

    /// <summary>Rewrites the header of <paramref name="record"/> in <paramref name="folder"/> line by line.</summary>
    static void Edit(string folder, string record, Func<int, string, string> line)
    {
        var path = Path.Combine(folder, record + ".hea");
        File.WriteAllLines(path, File.ReadAllLines(path).Select((text, i) => line(i, text)));
    }

    /// <summary>Replaces token <paramref name="token"/> of the header's line <paramref name="lineIndex"/> (0 = the record line).</summary>
    static Action<string, string> Token(int lineIndex, int token, string value) => (folder, record) => Edit(folder, record, (i, text) =>
    {
        if (i != lineIndex) return text;
        var tokens = text.Split(' ');
        tokens[token] = value;
        return string.Join(' ', tokens);
    });

    public static readonly IReadOnlyList<Fault> Faults =
    [
        new(21, "signals", "no signals", (folder, record) => File.WriteAllText(Path.Combine(folder, record + ".hea"), $"{record} 0 100 1000\n")),
        new(22, "line 2, byte offset", "not a whole number", Token(1, 1, "16+99999999999")),
        new(23, "number of samples", "2305843009213694952 samples", Token(0, 3, "2305843009213694952")),
        new(24, "line 1, sampling frequency", "not a rate", Token(0, 2, "NaN")),
        new(25, "line 1, sampling frequency", "not a rate", Token(0, 2, "1e-300")),
        new(26, "line 1, sampling frequency", "not a rate", Token(0, 2, "Infinity")),
        new(27, "signals", "every one is missing", (folder, record) =>
        {
            // Every sample WFDB's invalid code (-32768 in format 16); the header's initial values and checksums made to
            // match, so only the missing samples are wrong: 1000 × −32768 ≡ 0 (mod 65536).
            var dat = Path.Combine(folder, record + ".dat");
            File.WriteAllBytes(dat, [.. Enumerable.Repeat(new byte[] { 0x00, 0x80 }, (int)new FileInfo(dat).Length / 2).SelectMany(b => b)]);
            Edit(folder, record, (i, text) =>
            {
                if (i == 0) return text;
                var tokens = text.Split(' ');
                (tokens[5], tokens[6]) = ("-32768", "0");
                return string.Join(' ', tokens);
            });
        }),
        new(28, "line 2, ADC baseline", "not a whole number", Token(1, 2, "1000.0(3000000000)/mV")),
        new(31, "line 2, signal format", "not a whole number", Token(1, 1, "99999999999")),
        new(32, "line 1, sampling frequency", "not a rate", Token(0, 2, "0")),
        new(33, "line 1, sampling frequency", "not a rate", Token(0, 2, "200000")),
    ];

    /// <summary>A record whose every gain is 0: kept, read as WFDB reads it (200 per mV), and warned about.</summary>
    public const int UncalibratedEcgId = 29;

    public static void ApplyAll(string folder)
    {
        foreach (var fault in Faults) fault.Apply(folder, Name(fault.EcgId));
        Edit(folder, Name(UncalibratedEcgId), (i, text) => i == 0 ? text : text.Replace(" 1000.0(0)/mV ", " 0(0)/mV "));
    }

    /// <summary>PTB-XL records 1..<paramref name="count"/> at 100 Hz as a plain WFDB folder (no label files).</summary>
    public static string CopyAsWfdbFolder(int count)
    {
        var dir = RepoPaths.NewTemporaryDirectory();
        for (var id = 1; id <= count; id++)
            foreach (var ext in new[] { ".hea", ".dat" })
                File.Copy(RepoPaths.Shared("ptbxl", "records100", "00000", Name(id) + ext), Path.Combine(dir, Name(id) + ext));
        return dir;
    }
}
