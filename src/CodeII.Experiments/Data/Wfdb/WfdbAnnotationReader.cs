namespace CodeII.Experiments.Data.Wfdb;

/// <summary>One annotation: its sample index, its code (ecgcodes.h) and the code's one-character mnemonic.</summary>
public readonly record struct WfdbAnnotation(long Sample, int Code, int Subtype, int Channel, int Number, string Auxiliary)
{
    public string Symbol => Code < AnnotationCodes.Symbols.Length ? AnnotationCodes.Symbols[Code] : "?";
    public bool IsBeat => AnnotationCodes.IsBeat(Code);
}

/// <summary>Annotation codes of the WFDB library's ecgcodes.h.</summary>
public static class AnnotationCodes
{
    // Index = code. "" marks codes with no mnemonic.
    internal static readonly string[] Symbols =
    [
        " ", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "", "s", "T", "*", "D", "\"", "=",
        "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n", "@", "x", "f", "(", ")", "r",
    ];

    // wfdb's isqrs table: NORMAL..PACE, UNKNOWN, BBB, LEARN, AESC, SVESC, NAPC, PFUS, RONT.
    static readonly HashSet<int> BeatCodes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 25, 30, 34, 35, 37, 38, 41];

    public static bool IsBeat(int code) => BeatCodes.Contains(code);
}

/// <summary>
/// Reads MIT-format annotation files (e.g. <c>.atr</c>): a stream of little-endian 16-bit words whose top 6 bits are the
/// code and low 10 bits the time step, with the pseudo-codes SKIP (59), NUM (60), SUB (61), CHN (62) and AUX (63)
/// as described in the WFDB library's annot(5).
/// </summary>
public static class WfdbAnnotationReader
{
    const int Skip = 59, Num = 60, Sub = 61, Chn = 62, Aux = 63;

    public static IReadOnlyList<WfdbAnnotation> Read(string path)
    {
        if (!File.Exists(path)) throw new EcgDataException(path, Path.GetFileNameWithoutExtension(path), "annotation file", "file not found");
        var bytes = File.ReadAllBytes(path);
        var record = Path.GetFileNameWithoutExtension(path);
        var annotations = new List<WfdbAnnotation>();
        long time = 0;
        int number = 0, channel = 0;
        var position = 0;
        // SUB, CHN, NUM and AUX that follow an annotation modify it.
        int? pendingIndex = null;
        while (true)
        {
            if (position + 2 > bytes.Length)
                throw new EcgDataException(path, record, $"byte {position}", "the file ends without the end-of-annotations word: it is truncated");
            var word = bytes[position] | bytes[position + 1] << 8;
            position += 2;
            var code = word >> 10;
            var value = word & 0x3FF;
            if (code == 0 && value == 0) break;
            switch (code)
            {
                case Skip:
                    if (position + 4 > bytes.Length) throw new EcgDataException(path, record, $"byte {position}", "SKIP without its 32-bit interval");
                    // PDP-11 long: high 16-bit word first, each word little-endian.
                    var high = bytes[position] | bytes[position + 1] << 8;
                    var low = bytes[position + 2] | bytes[position + 3] << 8;
                    time += (int)((uint)high << 16 | (uint)low);
                    position += 4;
                    break;
                case Num:
                    number = value;
                    if (pendingIndex is { } n) annotations[n] = annotations[n] with { Number = value };
                    break;
                case Sub:
                    if (pendingIndex is { } s) annotations[s] = annotations[s] with { Subtype = value };
                    break;
                case Chn:
                    channel = value;
                    if (pendingIndex is { } c) annotations[c] = annotations[c] with { Channel = value };
                    break;
                case Aux:
                    if (position + value > bytes.Length) throw new EcgDataException(path, record, $"byte {position}", "AUX string runs past the end of the file");
                    var text = System.Text.Encoding.Latin1.GetString(bytes, position, value).TrimEnd('\0');
                    if (pendingIndex is { } a) annotations[a] = annotations[a] with { Auxiliary = text };
                    position += value + (value & 1);
                    break;
                default:
                    time += value;
                    annotations.Add(new WfdbAnnotation(time, code, 0, channel, number, ""));
                    pendingIndex = annotations.Count - 1;
                    break;
            }
        }
        return annotations;
    }
}
