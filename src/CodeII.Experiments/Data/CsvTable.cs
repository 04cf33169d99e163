using System.Text;

namespace CodeII.Experiments.Data;

/// <summary>A small RFC 4180 CSV table (quoted fields, doubled quotes, commas and newlines inside quotes).</summary>
public sealed class CsvTable
{
    public required string Path { get; init; }
    public required IReadOnlyList<string> Header { get; init; }
    public required IReadOnlyList<string[]> Rows { get; init; }

    public int Column(string name) =>
        Header.ToList().IndexOf(name) is var i and >= 0 ? i
            : throw new EcgDataException(Path, "(header)", $"column '{name}'", $"missing; the file has: {string.Join(", ", Header)}");

    public bool HasColumn(string name) => Header.Contains(name);

    /// <summary>Two entries of <see cref="Rows"/> as an error names them: counted from 1 at the first row after the
    /// header, as <see cref="Read"/>'s own errors count.</summary>
    public static string RowsNamed(int first, int second) => $"rows {first + 1} and {second + 1} (counting from the first row after the header)";

    /// <summary>A value as a CSV field that <see cref="Read"/> (or any RFC 4180 reader) reads back unchanged: quoted, with
    /// quotes doubled, when it holds a comma, a quote or a line break.</summary>
    public static string Field(string value) => value.IndexOfAny([',', '"', '\n', '\r']) < 0 ? value : $"\"{value.Replace("\"", "\"\"")}\"";

    public static CsvTable Read(string path)
    {
        if (!File.Exists(path)) throw new EcgDataException(path, "(file)", "label file", "file not found");
        var records = Parse(File.ReadAllText(path));
        if (records.Count == 0) throw new EcgDataException(path, "(file)", "header", "the file is empty");
        var header = records[0];
        for (var r = 1; r < records.Count; r++)
            if (records[r].Length != header.Length)
                throw new EcgDataException(path, $"row {r}", "columns", $"has {records[r].Length} fields, the header has {header.Length}");
        return new CsvTable { Path = path, Header = header, Rows = records.Skip(1).ToArray() };
    }

    static List<string[]> Parse(string text)
    {
        var rows = new List<string[]>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var rowHasContent = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
                continue;
            }
            switch (c)
            {
                case '"': quoted = true; rowHasContent = true; break;
                case ',': fields.Add(field.ToString()); field.Clear(); rowHasContent = true; break;
                case '\r': break;
                case '\n':
                    if (rowHasContent || field.Length > 0) { fields.Add(field.ToString()); rows.Add(fields.ToArray()); }
                    fields.Clear(); field.Clear(); rowHasContent = false;
                    break;
                default: field.Append(c); rowHasContent = true; break;
            }
        }
        if (rowHasContent || field.Length > 0) { fields.Add(field.ToString()); rows.Add(fields.ToArray()); }
        return rows;
    }
}
