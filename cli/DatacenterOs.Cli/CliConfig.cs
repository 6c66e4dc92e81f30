using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Cli;

/// <summary>
/// The configuration file <c>~/.config/dcos/config.json</c>: <c>{"master":"http://…","authorization":"Bearer …"}</c>.
/// It is written with mode 0600 because <c>authorization</c> (stored by <c>dcos auth login</c>) is a credential.
/// </summary>
/// <param name="Master">Default master URL, or null.</param>
internal sealed record CliConfig([property: JsonPropertyName("master")] string? Master)
{
    /// <summary>The <c>Authorization</c> header every request carries (<c>Basic …</c> or <c>Bearer …</c>), or null.</summary>
    [JsonPropertyName("authorization")]
    public string? Authorization { get; init; }

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
            var text = JsonSerializer.Serialize(config, Options) + "\n";
            if (OperatingSystem.IsWindows())
            {
                File.WriteAllText(path, text);
                return;
            }

            // Owner-only before anything is written: the file may hold a credential.
            using (var stream = new FileStream(path, new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserException($"cannot write {path}: {e.Message}");
        }
    }
}
