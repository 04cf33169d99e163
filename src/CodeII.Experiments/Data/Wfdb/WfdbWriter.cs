using System.Globalization;
using System.Text;

namespace CodeII.Experiments.Data.Wfdb;

/// <summary>
/// Writes records as WFDB format 16 at 1000 ADC units per mV (PTB-XL's resolution, 1 µV), with initial values and
/// checksums, so <see cref="WfdbRecordReader"/> and PhysioNet's own tools read them back exactly.
/// </summary>
public static class WfdbWriter
{
    public const double Gain = 1000;

    /// <summary>The ADC value a millivolt sample is stored as.</summary>
    public static short ToDigital(float millivolts)
    {
        var v = Math.Round(millivolts * Gain, MidpointRounding.AwayFromZero);
        // −32768 is WFDB's invalid-sample code in format 16, so the valid range stops one above it.
        return float.IsNaN(millivolts) ? short.MinValue : (short)Math.Clamp(v, short.MinValue + 1, short.MaxValue);
    }

    public static void Write(EcgRecord record, string directory, string? recordName = null)
    {
        var name = recordName ?? record.ExamId;
        Directory.CreateDirectory(directory);
        var samples = record.SampleCount;
        var leads = record.Signals.Length;
        var bytes = new byte[samples * leads * 2];
        var checksums = new int[leads];
        for (var n = 0; n < samples; n++)
            for (var l = 0; l < leads; l++)
            {
                var d = ToDigital(record.Signals[l][n]);
                checksums[l] += d;
                BitConverter.TryWriteBytes(bytes.AsSpan((n * leads + l) * 2, 2), d);
            }
        var header = new StringBuilder();
        header.Append(CultureInfo.InvariantCulture, $"{name} {leads} {record.SamplingRateHz} {samples}\n");
        for (var l = 0; l < leads; l++)
            header.Append(CultureInfo.InvariantCulture,
                $"{name}.dat 16 {Gain:0.0}(0)/mV 16 0 {(samples > 0 ? ToDigital(record.Signals[l][0]) : 0)} {(short)checksums[l]} 0 {record.Leads[l]}\n");
        header.Append(CultureInfo.InvariantCulture, $"# Age: {(record.Age?.ToString(CultureInfo.InvariantCulture) ?? "NaN")}\n");
        header.Append($"# Sex: {record.Sex switch { Sex.Male => "Male", Sex.Female => "Female", _ => "Unknown" }}\n");
        header.Append($"# Patient: {record.PatientId}\n");
        header.Append($"# Labels: {string.Join(",", record.Labels.Order(StringComparer.Ordinal))}\n");
        AtomicFile.WriteBytes(Path.Combine(directory, name + ".dat"), bytes);
        AtomicFile.WriteBytes(Path.Combine(directory, name + ".hea"), Encoding.ASCII.GetBytes(header.ToString()));
    }
}
