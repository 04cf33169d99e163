using System.Globalization;
using System.Text.RegularExpressions;

namespace CodeII.Experiments.Data.Wfdb;

/// <summary>One signal line of a WFDB header (PhysioNet's header(5) format).</summary>
public sealed record WfdbSignal
{
    public required string FileName { get; init; }
    public required int Format { get; init; }
    public int SamplesPerFrame { get; init; } = 1;
    public int ByteOffset { get; init; }
    /// <summary>ADC units per physical unit; WFDB's default of 200 applies when the header gives none or 0.</summary>
    public double Gain { get; init; } = WfdbHeader.DefaultGain;
    public int Baseline { get; init; }
    public string Units { get; init; } = "mV";
    public int AdcResolution { get; init; }
    public int AdcZero { get; init; }
    public int? InitialValue { get; init; }
    public int? Checksum { get; init; }
    public string Description { get; init; } = "";
}

/// <summary>
/// A parsed <c>.hea</c> file. The parser accepts headers as real archives write them: comment lines anywhere (those
/// after the record line are kept as <see cref="Comments"/>), blank lines, missing or lower-case units, missing
/// baseline or ADC zero, and checksums written as unsigned numbers.
/// </summary>
public sealed partial class WfdbHeader
{
    public const double DefaultGain = 200;

    public required string Path { get; init; }
    public required string RecordName { get; init; }
    public required double SamplingRateHz { get; init; }
    /// <summary>Samples per signal; null when the header leaves it out and the file size must tell.</summary>
    public required long? SampleCount { get; init; }
    public required IReadOnlyList<WfdbSignal> Signals { get; init; }
    public required IReadOnlyList<string> Comments { get; init; }
    /// <summary>What the header says that WFDB accepts but that is probably wrong (a gain of 0), each located by line.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    [GeneratedRegex(@"^(?<format>\d+)(x(?<spf>\d+))?(:(?<skew>\d+))?(\+(?<offset>\d+))?$")]
    private static partial Regex FormatToken();

    [GeneratedRegex(@"^(?<gain>[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)(\((?<baseline>[-+]?\d+)\))?(/(?<units>\S+))?$")]
    private static partial Regex GainToken();

    public static WfdbHeader Read(string path)
    {
        var record = System.IO.Path.GetFileNameWithoutExtension(path);
        if (!File.Exists(path)) throw new EcgDataException(path, record, "header", "file not found");
        // Headers are found by listing a folder: one that is a link out of it, or a pipe, is not the dataset's to read.
        DatasetPaths.Held(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, path, record, "header");
        return Parse(File.ReadAllLines(path), path);
    }

    public static WfdbHeader Parse(IReadOnlyList<string> lines, string path)
    {
        var record = System.IO.Path.GetFileNameWithoutExtension(path);
        EcgDataException Error(int line, string field, string problem) => new(path, record, $"line {line}, {field}", problem);

        var comments = new List<string>();
        string[]? recordTokens = null;
        var recordLine = 0;
        var signalLines = new List<(int Line, string[] Tokens)>();
        for (var i = 0; i < lines.Count; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0) continue;
            if (text.StartsWith('#'))
            {
                if (recordTokens is not null) comments.Add(text[1..].Trim());
                continue;
            }
            var tokens = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (recordTokens is null) { recordTokens = tokens; recordLine = i + 1; }
            else signalLines.Add((i + 1, tokens));
        }
        if (recordTokens is null) throw Error(1, "record line", "the header has no record line");
        if (recordTokens[0].Contains('/'))
            throw Error(recordLine, "record name", $"'{recordTokens[0]}' is a multi-segment record, which is not supported");
        if (recordTokens.Length < 2 || !int.TryParse(recordTokens[1], CultureInfo.InvariantCulture, out var signalCount) || signalCount < 0)
            throw Error(recordLine, "number of signals", $"expected a whole number, found '{(recordTokens.Length > 1 ? recordTokens[1] : "")}'");
        var fs = 250.0; // WFDB's default sampling frequency
        if (recordTokens.Length > 2)
        {
            var fsText = recordTokens[2].Split('/', '(')[0];
            if (!double.TryParse(fsText, NumberStyles.Float, CultureInfo.InvariantCulture, out fs))
                throw Error(recordLine, "sampling frequency", $"expected a positive number, found '{recordTokens[2]}'");
            if (!double.IsFinite(fs) || fs < RecordBoundary.MinSamplingRateHz || fs > RecordBoundary.MaxSamplingRateHz)
                throw Error(recordLine, "sampling frequency",
                    $"'{recordTokens[2]}' is not a rate a recording can have (from {RecordBoundary.MinSamplingRateHz} Hz to {RecordBoundary.MaxSamplingRateHz / 1000:0} kHz)");
        }
        long? sampleCount = null;
        if (recordTokens.Length > 3)
        {
            if (!long.TryParse(recordTokens[3], CultureInfo.InvariantCulture, out var n) || n < 0)
                throw Error(recordLine, "number of samples", $"expected a whole number, found '{recordTokens[3]}'");
            sampleCount = n;
        }
        if (signalLines.Count != signalCount)
            throw Error(recordLine, "number of signals", $"the record line announces {signalCount} signals but {signalLines.Count} signal lines follow");

        var uncalibrated = new List<int>();
        var signals = signalLines.Select(s => ParseSignal(s.Tokens, s.Line, Error, uncalibrated)).ToArray();
        // header(5): a gain of 0 means "uncalibrated", which WFDB's tools read as the default of 200 units per mV.
        string[] warnings = uncalibrated.Count == 0 ? [] :
            [$"ADC gain 0 (uncalibrated) on line{(uncalibrated.Count > 1 ? "s" : "")} {string.Join(", ", uncalibrated)}: read as WFDB's default of {DefaultGain} ADC units per mV, so amplitudes are right only if the recorder used {DefaultGain}"];
        return new WfdbHeader
        {
            Path = path, RecordName = recordTokens[0], SamplingRateHz = fs, SampleCount = sampleCount, Signals = signals, Comments = comments,
            Warnings = warnings,
        };
    }

    static WfdbSignal ParseSignal(string[] t, int line, Func<int, string, string, EcgDataException> error, List<int> uncalibratedLines)
    {
        if (t.Length < 2) throw error(line, "signal format", "a signal line needs at least a file name and a format");
        var format = FormatToken().Match(t[1]);
        if (!format.Success) throw error(line, "signal format", $"'{t[1]}' is not a WFDB format specification");
        // Each number is read within its type's range: a value that does not fit is a corrupt header, not an overflow.
        int Within(string text, string field) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw error(line, field, $"'{text}' is not a whole number from {int.MinValue} to {int.MaxValue}");
        var signal = new WfdbSignal
        {
            FileName = t[0],
            Format = Within(format.Groups["format"].Value, "signal format"),
            SamplesPerFrame = format.Groups["spf"].Success ? Within(format.Groups["spf"].Value, "samples per frame") : 1,
            ByteOffset = format.Groups["offset"].Success ? Within(format.Groups["offset"].Value, "byte offset") : 0,
        };
        if (format.Groups["skew"].Success && format.Groups["skew"].Value != "0")
            throw error(line, "signal format", $"skew in '{t[1]}' is not supported");

        int? Int(int index, string field) => t.Length <= index ? null : Within(t[index], field);

        double gain = DefaultGain;
        int? baseline = null;
        var units = "mV";
        if (t.Length > 2)
        {
            var g = GainToken().Match(t[2]);
            if (!g.Success) throw error(line, "ADC gain", $"'{t[2]}' is not of the form gain[(baseline)][/units]");
            gain = double.Parse(g.Groups["gain"].Value, CultureInfo.InvariantCulture);
            if (!double.IsFinite(gain)) throw error(line, "ADC gain", $"'{g.Groups["gain"].Value}' is not a finite number");
            if (gain == 0)
            {
                uncalibratedLines.Add(line);
                gain = DefaultGain;
            }
            if (g.Groups["baseline"].Success) baseline = Within(g.Groups["baseline"].Value, "ADC baseline");
            if (g.Groups["units"].Success) units = g.Groups["units"].Value;
        }
        var adcZero = Int(4, "ADC zero") ?? 0;
        return signal with
        {
            Gain = gain,
            // header(5): a missing baseline equals the ADC zero.
            Baseline = baseline ?? adcZero,
            Units = units,
            AdcResolution = Int(3, "ADC resolution") ?? 0,
            AdcZero = adcZero,
            InitialValue = Int(5, "initial value"),
            Checksum = Int(6, "checksum"),
            Description = t.Length > 8 ? string.Join(' ', t[8..]) : "",
        };
    }

    /// <summary>Multiplier from the header's physical units to millivolts.</summary>
    public static double ToMillivolts(string units, Func<string, Exception> error) => units.ToLowerInvariant() switch
    {
        "mv" => 1,
        "uv" or "µv" or "μv" => 1e-3,
        "v" => 1e3,
        _ => throw error($"units '{units}' are not a voltage"),
    };
}
