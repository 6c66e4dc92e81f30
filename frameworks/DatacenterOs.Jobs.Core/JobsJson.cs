using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// JSON settings of the Jobs (<c>/v1/scheduler</c>) wire format: Chronos's camelCase names, unknown fields ignored on
/// read (Chronos's Jackson deserializer reads only the fields it knows), a JSON <c>null</c> for a field means "absent"
/// (the default stays), nulls left out on write, and <c>scheduleTimeZone</c> written only for scheduled jobs as
/// Chronos's <c>JobSerializer</c> does.
/// </summary>
public static class JobsJson
{
    /// <summary>Options shared by every Jobs JSON body.</summary>
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    /// <summary>The same options, indented (for people).</summary>
    public static JsonSerializerOptions IndentedOptions { get; } = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var resolver = new DefaultJsonTypeInfoResolver();
        resolver.Modifiers.Add(ChronosConventions);
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
            Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }

    private static void ChronosConventions(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        foreach (var property in typeInfo.Properties)
        {
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

            if (typeInfo.Type == typeof(JobDefinition) && property.Name == "scheduleTimeZone")
            {
                property.ShouldSerialize = static (job, _) => ((JobDefinition)job).Schedule is not null;
            }
        }
    }
}

/// <summary>
/// A request body that could not be read as a job. Chronos answers such bodies with 400 and
/// <c>{"message": …, "status": "Bad Request"}</c> (<c>ApiResult</c>).
/// </summary>
/// <param name="Message">What went wrong.</param>
public sealed record JobJsonError(string Message)
{
    /// <summary>HTTP status of these errors: 400.</summary>
    public const int StatusCode = 400;

    /// <summary>The body as Chronos writes it.</summary>
    public string ToChronosJson() =>
        new JsonObject { ["message"] = Message, ["status"] = "Bad Request" }.ToJsonString(JobsJson.Options);
}

/// <summary>Either parsed (not yet normalized or validated) value, or the error explaining why not.</summary>
/// <typeparam name="T">What was parsed.</typeparam>
public sealed class JobParseResult<T>
    where T : class
{
    private JobParseResult(T? value, JobJsonError? error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The value, on success.</summary>
    public T? Value { get; }

    /// <summary>The error, on failure.</summary>
    public JobJsonError? Error { get; }

    /// <summary>True when <see cref="Value"/> is set.</summary>
    public bool IsSuccess => Value is not null;

    /// <summary>A success.</summary>
    internal static JobParseResult<T> Success(T value) => new(value ?? throw new ArgumentNullException(nameof(value)), null);

    /// <summary>A failure.</summary>
    internal static JobParseResult<T> Failure(JobJsonError error) => new(null, error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>The value, or throws with the error message.</summary>
    /// <exception cref="FormatException">Parsing failed.</exception>
    public T GetValueOrThrow() => Value ?? throw new FormatException(Error!.Message);
}

/// <summary>Reading and writing jobs in Chronos's JSON.</summary>
public static class JobJson
{
    /// <summary>
    /// Reads one job (a <c>POST /v1/scheduler/iso8601</c> or <c>/dependency</c> body). Unknown fields are ignored;
    /// malformed JSON, wrong value types or a non-object body give an error. The result is neither normalized nor
    /// validated.
    /// </summary>
    public static JobParseResult<JobDefinition> Parse(ReadOnlySpan<byte> utf8Json) => Read<JobDefinition>(utf8Json, "a job object");

    /// <summary>Reads one job from a string (see <see cref="Parse(ReadOnlySpan{byte})"/>).</summary>
    public static JobParseResult<JobDefinition> Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(Encoding.UTF8.GetBytes(json));
    }

    /// <summary>Reads a JSON array of jobs (the <c>GET /v1/scheduler/jobs</c> shape).</summary>
    public static JobParseResult<IReadOnlyList<JobDefinition>> ParseMany(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var result = Read<List<JobDefinition>>(Encoding.UTF8.GetBytes(json), "an array of jobs");
        return result.IsSuccess
            ? JobParseResult<IReadOnlyList<JobDefinition>>.Success(result.Value!)
            : JobParseResult<IReadOnlyList<JobDefinition>>.Failure(result.Error!);
    }

    /// <summary>Writes a job in Chronos's shape (field order of Chronos's <c>JobSerializer</c>, then the additions).</summary>
    public static string Serialize(JobDefinition job, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(job);
        return JsonSerializer.Serialize(job, indented ? JobsJson.IndentedOptions : JobsJson.Options);
    }

    /// <summary>Writes a JSON array of jobs.</summary>
    public static string SerializeMany(IEnumerable<JobDefinition> jobs, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        return JsonSerializer.Serialize(jobs.ToList(), indented ? JobsJson.IndentedOptions : JobsJson.Options);
    }

    private static JobParseResult<T> Read<T>(ReadOnlySpan<byte> utf8Json, string expected)
        where T : class
    {
        if (utf8Json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return JobParseResult<T>.Failure(new JobJsonError($"Empty body: expected {expected}"));
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(utf8Json, JobsJson.Options);
            return value is null
                ? JobParseResult<T>.Failure(new JobJsonError($"The JSON body is null: expected {expected}"))
                : JobParseResult<T>.Success(value);
        }
        catch (JsonException e)
        {
            return JobParseResult<T>.Failure(new JobJsonError($"Invalid JSON: {e.Message}"));
        }
    }
}
