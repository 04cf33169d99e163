using System.Globalization;

namespace CodeII.Experiments.Data;

/// <summary>
/// A label file's <c>patient_id</c> cell read as one spelling per patient. pandas writes an integer id column that
/// holds any missing value as floats (<c>15709.0</c>), so <c>15709.0</c> and <c>15709</c> are one patient.
/// </summary>
public static class PatientIds
{
    public const string Field = "patient_id";

    /// <summary>The spellings pandas reads as a missing value (its <c>read_csv</c> na_values), compared without case.</summary>
    static readonly HashSet<string> MissingSpellings = new(StringComparer.OrdinalIgnoreCase)
    {
        "", "nan", "-nan", "na", "n/a", "#n/a", "#na", "<na>", "null", "none",
    };

    /// <summary>Reads one cell; a missing or unreadable id is an error, never a guess: one shared stand-in would merge
    /// unrelated exams into one patient, and the exam's own id would let a patient's exams fall in two parts of the split.</summary>
    /// <param name="numeric">PTB-XL writes ids as numbers only; CODE's layout does not say, so its text ids are kept as written.</param>
    public static string Read(string cell, string file, string record, bool numeric)
    {
        var text = cell.Trim();
        if (MissingSpellings.Contains(text))
            throw new EcgDataException(file, record, Field, $"{(text.Length == 0 ? "is empty" : $"'{text}' is a missing value")}: every exam needs its patient's id, so that the split keeps a patient's exams together");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            return numeric ? throw new EcgDataException(file, record, Field, $"'{text}' is not a number") : text;
        // 2^53: beyond it a float no longer holds every whole number, so two patients could read as one.
        if (!double.IsFinite(number) || number != Math.Floor(number) || Math.Abs(number) > 9_007_199_254_740_992)
            throw new EcgDataException(file, record, Field, $"'{text}' is not a whole number");
        return ((long)number).ToString(CultureInfo.InvariantCulture);
    }
}
