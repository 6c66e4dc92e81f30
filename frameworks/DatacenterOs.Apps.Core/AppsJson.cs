using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// JSON settings of the Apps (<c>/v2</c>) wire format: camelCase names, nulls and Marathon's <c>omitEmpty</c>
/// collections left out on write, unknown fields ignored on read (as Marathon's generated readers do), non-ASCII and
/// quotes written as they are.
/// </summary>
public static class AppsJson
{
    /// <summary>Options shared by every Apps JSON body.</summary>
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    /// <summary>The same options, indented (for people).</summary>
    public static JsonSerializerOptions IndentedOptions { get; } = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(MarathonConventions);
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            RespectNullableAnnotations = true,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            PropertyNameCaseInsensitive = false,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            MaxDepth = 64,
            WriteIndented = indented,
            TypeInfoResolver = resolver,

            // Bodies are JSON for machines and people, never embedded in HTML: keep quotes and non-ASCII readable.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }

    // Writing: [OmitEmpty] collections are left out when empty (RAML pragma.omitEmpty).
    // Reading: a JSON null for an object-typed field means "absent" (Play-JSON's readNullable), so the field keeps its
    // default (e.g. "args": null gives no args, "portDefinitions": null the default port), instead of failing the
    // non-nullable annotation or storing an empty collection.
    private static void MarathonConventions(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in typeInfo.Properties)
        {
            if (property.AttributeProvider?.IsDefined(typeof(OmitEmptyAttribute), inherit: false) == true)
            {
                property.ShouldSerialize = static (_, value) => value is IEnumerable items && items.GetEnumerator().MoveNext();
            }

            if (!property.PropertyType.IsValueType && property.Set is { } set)
            {
                property.IsSetNullable = true;
                property.Set = (target, value) =>
                {
                    if (value is not null)
                    {
                        set(target, value);
                    }
                };
            }
        }
    }
}

/// <summary>
/// A request body that could not be read as an app: Marathon's 400 shapes
/// (<c>{"message":"Invalid JSON","details":"…"}</c>, or <c>"Please specify data in JSON format"</c> for an empty body).
/// </summary>
/// <param name="Message">The <c>message</c> field.</param>
/// <param name="Details">The <c>details</c> field: the parser's explanation.</param>
public sealed record AppJsonError(string Message, string Details)
{
    /// <summary>HTTP status of these errors: always 400.</summary>
    public const int StatusCode = 400;

    /// <summary>The body as Marathon writes it.</summary>
    public string ToMarathonJson() =>
        new JsonObject { ["message"] = Message, ["details"] = Details }.ToJsonString(AppsJson.Options);
}

/// <summary>Either a parsed (not yet normalized or validated) app, or the 400 error explaining why not.</summary>
public sealed class AppParseResult
{
    private AppParseResult(AppDefinition? app, AppJsonError? error)
    {
        App = app;
        Error = error;
    }

    /// <summary>The app, when parsing succeeded.</summary>
    public AppDefinition? App { get; }

    /// <summary>The error, when parsing failed.</summary>
    public AppJsonError? Error { get; }

    /// <summary>True when <see cref="App"/> is set.</summary>
    public bool IsSuccess => App is not null;

    /// <summary>A success.</summary>
    public static AppParseResult Success(AppDefinition app) => new(app ?? throw new ArgumentNullException(nameof(app)), null);

    /// <summary>A failure.</summary>
    public static AppParseResult Failure(AppJsonError error) => new(null, error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>The app, or throws with the error's details.</summary>
    /// <exception cref="InvalidOperationException">Parsing failed.</exception>
    public AppDefinition GetAppOrThrow() =>
        App ?? throw new InvalidOperationException($"{Error!.Message}: {Error.Details}");
}

/// <summary>Reading and writing app definitions in Marathon's JSON.</summary>
public static class AppDefinitionJson
{
    /// <summary>Marathon's message for malformed bodies.</summary>
    public const string InvalidJsonMessage = "Invalid JSON";

    /// <summary>Marathon's message for empty bodies.</summary>
    public const string EmptyBodyMessage = "Please specify data in JSON format";

    /// <summary>
    /// Reads one app (e.g. a <c>POST /v2/apps</c> body). Unknown fields are ignored. Malformed JSON, wrong value types
    /// or a non-object body give the 400 <c>Invalid JSON</c> error with the parser's message as details; an empty body
    /// gives Marathon's "Please specify data in JSON format". The result is neither normalized nor validated.
    /// </summary>
    public static AppParseResult Parse(ReadOnlySpan<byte> utf8Json)
    {
        if (IsBlank(utf8Json))
        {
            return AppParseResult.Failure(new AppJsonError(EmptyBodyMessage, "No content to map due to end-of-input"));
        }

        try
        {
            var app = JsonSerializer.Deserialize<AppDefinition>(utf8Json, AppsJson.Options);
            return app is null
                ? AppParseResult.Failure(new AppJsonError(InvalidJsonMessage, "the JSON body is null, expected an object"))
                : AppParseResult.Success(app);
        }
        catch (JsonException e)
        {
            return AppParseResult.Failure(new AppJsonError(InvalidJsonMessage, e.Message));
        }
    }

    /// <summary>Reads one app from a string (see <see cref="Parse(ReadOnlySpan{byte})"/>).</summary>
    public static AppParseResult Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(System.Text.Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Reads a JSON node as an app (used by the update helpers).</summary>
    internal static AppParseResult FromNode(JsonNode? node)
    {
        try
        {
            var app = node.Deserialize<AppDefinition>(AppsJson.Options);
            return app is null
                ? AppParseResult.Failure(new AppJsonError(InvalidJsonMessage, "the JSON body is null, expected an object"))
                : AppParseResult.Success(app);
        }
        catch (JsonException e)
        {
            return AppParseResult.Failure(new AppJsonError(InvalidJsonMessage, e.Message));
        }
    }

    /// <summary>
    /// Writes the app with every field it carries; on a normalized app that is the full definition with defaults, as
    /// Marathon's <c>POST /v2/apps</c> response shows it (empty <c>omitEmpty</c> collections and nulls left out).
    /// </summary>
    public static string Serialize(AppDefinition app, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(app);
        return JsonSerializer.Serialize(app, indented ? AppsJson.IndentedOptions : AppsJson.Options);
    }

    /// <summary>UTF-8 form of <see cref="Serialize"/>.</summary>
    public static byte[] SerializeToUtf8Bytes(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return JsonSerializer.SerializeToUtf8Bytes(app, AppsJson.Options);
    }

    /// <summary>The app as a mutable JSON object (as <see cref="Serialize"/> writes it).</summary>
    public static JsonObject ToJsonObject(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return JsonSerializer.SerializeToNode(app, AppsJson.Options)!.AsObject();
    }

    private static bool IsBlank(ReadOnlySpan<byte> utf8)
    {
        foreach (var b in utf8)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class EnvVarValueJsonConverter : JsonConverter<EnvVarValue>
{
    public override EnvVarValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return EnvVarValue.Of(reader.GetString()!);
            case JsonTokenType.StartObject:
                string? secret = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString();
                    reader.Read();
                    if (name == "secret" && reader.TokenType == JsonTokenType.String)
                    {
                        secret = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                return secret is null
                    ? throw new JsonException("an environment variable object must be {\"secret\": \"<name>\"}")
                    : EnvVarValue.SecretRef(secret);
            default:
                throw new JsonException(
                    $"an environment variable must be a string or {{\"secret\": \"<name>\"}}, got {reader.TokenType}");
        }
    }

    public override void Write(Utf8JsonWriter writer, EnvVarValue value, JsonSerializerOptions options)
    {
        if (value.Secret is null)
        {
            writer.WriteStringValue(value.Value);
        }
        else
        {
            writer.WriteStartObject();
            writer.WriteString("secret", value.Secret);
            writer.WriteEndObject();
        }
    }
}

internal sealed class UnreachableStrategyJsonConverter : JsonConverter<UnreachableStrategy>
{
    public override UnreachableStrategy Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return string.Equals(reader.GetString(), "disabled", StringComparison.OrdinalIgnoreCase)
                ? UnreachableStrategy.Disabled
                : throw new JsonException("unreachableStrategy must be \"disabled\" or an object");
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"unreachableStrategy must be \"disabled\" or an object, got {reader.TokenType}");
        }

        long inactive = 0, expunge = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "inactiveAfterSeconds":
                    inactive = reader.GetInt64();
                    break;
                case "expungeAfterSeconds":
                    expunge = reader.GetInt64();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new UnreachableStrategy { InactiveAfterSeconds = inactive, ExpungeAfterSeconds = expunge };
    }

    public override void Write(Utf8JsonWriter writer, UnreachableStrategy value, JsonSerializerOptions options)
    {
        if (value.IsDisabled)
        {
            writer.WriteStringValue("disabled");
            return;
        }

        writer.WriteStartObject();
        writer.WriteNumber("inactiveAfterSeconds", value.InactiveAfterSeconds);
        writer.WriteNumber("expungeAfterSeconds", value.ExpungeAfterSeconds);
        writer.WriteEndObject();
    }
}

/// <summary>Marathon's timestamps: ISO-8601 in UTC with milliseconds (<c>2015-09-25T15:13:48.343Z</c>).</summary>
internal sealed class MarathonTimestampJsonConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        var text = reader.GetString();
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value.ToUniversalTime()
            : throw new JsonException($"'{text}' is not an ISO-8601 timestamp");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
    }
}
