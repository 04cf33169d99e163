using System.Text.Json;
using System.Text.Json.Serialization;

namespace CodeII.Experiments;

/// <summary>How every JSON file the workbench writes looks: snake_case keys, indented, enums as snake_case strings,
/// NaN and infinities allowed (an undefined AUROC is NaN, not a missing key).</summary>
public static class JsonConventions
{
    public static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        // Plain '+' and non-ASCII in names (handcrafted+learned): these files are read by people and scripts, not embedded in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The same, on one line (JSON Lines files).</summary>
    public static readonly JsonSerializerOptions Line = new(Options) { WriteIndented = false };

    /// <summary>Strict reading for files whose format we version: a key this version does not know is an error, not ignored.</summary>
    public static readonly JsonSerializerOptions Strict = new(Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    /// <summary>An enum value as definitions and JSON files write it: <c>LinearProbe</c> → <c>linear_probe</c>.</summary>
    public static string SnakeCase<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options) + "\n";

    /// <summary>A JSON file the workbench wrote, read back. One that is empty, cut short, <c>null</c> or of another shape
    /// was damaged after it was written (writes are atomic): that is an error naming the file, not a crash further on.</summary>
    public static T ReadFile<T>(string path) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path), Options) ?? throw new InvalidDataException($"{path}: holds null, not the JSON object it was written with; the file is damaged");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: unreadable JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1} ({e.Message.Split(" Path: ")[0]}); the file is damaged", e);
        }
    }
}
