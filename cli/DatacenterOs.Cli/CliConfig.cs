using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Cli;

/// <summary>The configuration file <c>~/.config/dcos/config.json</c>: <c>{"master":"http://…"}</c>.</summary>
/// <param name="Master">Default master URL, or null.</param>
internal sealed record CliConfig([property: JsonPropertyName("master")] string? Master)
{
    private static readonly JsonSerializerOptions Options = new() { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Reads the file; an empty configuration when it does not exist.</summary>
    /// <exception cref="UserException">The file exists but is not valid.</exception>
    public static CliConfig Load(CliContext context)
    {
        var path = context.ConfigPath;
        if (!File.Exists(path))
        {
            return new CliConfig((string?)null);
        }

        try
        {
            return JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(path), Options) ?? new CliConfig((string?)null);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new UserException($"cannot read {path}: {e.Message}");
        }
    }

    /// <summary>Writes the file (creating its directory).</summary>
    public static void Save(CliContext context, CliConfig config)
    {
        var path = context.ConfigPath;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, JsonSerializer.Serialize(config, Options) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserException($"cannot write {path}: {e.Message}");
        }
    }
}
