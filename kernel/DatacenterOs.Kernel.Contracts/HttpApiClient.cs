using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DatacenterOs.Kernel.Contracts;

/// <summary>One field-level error of a refused request: the field path (<c>/healthChecks(0)/portIndex</c>, <c>parents</c>) and the message.</summary>
/// <param name="Path">Field path as the server names it.</param>
/// <param name="Message">What is wrong with it.</param>
public sealed record ApiFieldError(string Path, string Message);

/// <summary>
/// An HTTP API answered with an error status (4xx, 5xx). <see cref="Exception.Message"/> is one readable line: the
/// server's message followed by every field error (<c>path: message</c>) for Marathon 422s and Chronos 400s.
/// </summary>
public sealed class ApiException : Exception
{
    /// <summary>An error with the status, the server's message and its field errors.</summary>
    public ApiException(int status, string message, IReadOnlyList<ApiFieldError>? fieldErrors = null)
        : base(Format(status, message, fieldErrors ?? []))
    {
        Status = status;
        ServerMessage = message;
        FieldErrors = fieldErrors ?? [];
    }

    /// <summary>An error without details (needed by tools that construct exceptions generically).</summary>
    public ApiException()
        : this(0, "error")
    {
    }

    /// <summary>An error with a message only.</summary>
    public ApiException(string message)
        : this(0, message)
    {
    }

    /// <summary>An error with a message and an inner exception.</summary>
    public ApiException(string message, Exception innerException)
        : base(message, innerException)
    {
        ServerMessage = message;
        FieldErrors = [];
    }

    /// <summary>HTTP status code (0 when not from a response).</summary>
    public int Status { get; }

    /// <summary>The server's message, without the field errors.</summary>
    public string ServerMessage { get; }

    /// <summary>Field errors (Marathon <c>details</c>, Chronos <c>errors</c>); empty when the server named none.</summary>
    public IReadOnlyList<ApiFieldError> FieldErrors { get; }

    private static string Format(int status, string message, IReadOnlyList<ApiFieldError> errors)
    {
        var text = new StringBuilder();
        if (status > 0)
        {
            text.Append(status.ToString(CultureInfo.InvariantCulture)).Append(' ');
        }

        text.Append(message.ReplaceLineEndings(" ").Trim());
        if (errors.Count > 0)
        {
            text.Append(": ").AppendJoin("; ", errors.Select(e => (e.Path.Length == 0 ? "" : e.Path + ": ") + e.Message.ReplaceLineEndings(" ")));
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads an error body in any of the shapes the servers use: Marathon <c>{"message","details":[{"path","errors":[…]}]}</c>,
    /// Chronos <c>{"message","errors":[{"field","message"}]}</c>, Mesos <c>{"message"}</c>, or plain text.
    /// </summary>
    public static ApiException FromBody(int status, string? reason, string body)
    {
        var message = string.IsNullOrWhiteSpace(body) ? reason ?? "error" : body.Trim();
        var errors = new List<ApiFieldError>();
        try
        {
            if (JsonNode.Parse(body) is JsonObject json)
            {
                message = json["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : reason ?? "error";
                if (json["details"] is JsonArray details)
                {
                    foreach (var detail in details.OfType<JsonObject>())
                    {
                        var path = (string?)detail["path"] ?? "";
                        var list = detail["errors"] as JsonArray;
                        foreach (var error in list?.Select(e => e?.ToString() ?? "") ?? [])
                        {
                            errors.Add(new ApiFieldError(path, error));
                        }
                    }
                }
                else if (json["details"] is JsonValue detailText)
                {
                    errors.Add(new ApiFieldError("", detailText.ToString()));
                }

                if (json["errors"] is JsonArray chronos)
                {
                    foreach (var error in chronos.OfType<JsonObject>())
                    {
                        errors.Add(new ApiFieldError((string?)error["field"] ?? "", (string?)error["message"] ?? ""));
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Plain text: the message is the body.
        }
        catch (InvalidOperationException)
        {
        }

        if (message.Length > 300)
        {
            message = message[..300] + "…";
        }

        return new ApiException(status, message, errors);
    }
}

/// <summary>
/// Base of the typed HTTP clients: JSON requests relative to one base URL, errors turned into
/// <see cref="ApiException"/>. Connection failures surface as <see cref="HttpRequestException"/> (no status) and
/// timeouts as <see cref="TaskCanceledException"/>, unchanged, so callers can tell them from refused requests.
/// </summary>
public abstract class HttpApiClient
{
    /// <summary>A client over <paramref name="http"/> (not owned) for the server at <paramref name="baseUrl"/>.</summary>
    protected HttpApiClient(HttpClient http, Uri baseUrl)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseUrl);
        Http = http;
        BaseUrl = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
    }

    /// <summary>The HTTP client used.</summary>
    protected HttpClient Http { get; }

    /// <summary>Server base URL (ends with <c>/</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Absolute URL of <paramref name="relative"/> (no leading slash needed).</summary>
    protected Uri Url(string relative) => new(BaseUrl, relative.TrimStart('/'));

    /// <summary>Sends a request with an optional JSON body; returns the status and the body text.</summary>
    /// <exception cref="ApiException">The server answered with a status of 400 or more.</exception>
    protected async Task<(int Status, string Body, HttpResponseHeaders Headers)> SendAsync(HttpMethod method, string relative, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await Http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode >= 400)
        {
            throw ApiException.FromBody((int)response.StatusCode, response.ReasonPhrase, body);
        }

        return ((int)response.StatusCode, body, response.Headers);
    }

    /// <summary>Sends a request and deserializes the JSON answer with <paramref name="options"/>.</summary>
    /// <exception cref="ApiException">Error status, or an answer that is not the expected JSON.</exception>
    protected async Task<T> SendJsonAsync<T>(HttpMethod method, string relative, string? json, JsonSerializerOptions options, CancellationToken cancellationToken)
    {
        var (status, body, _) = await SendAsync(method, relative, json, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(body, options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ApiException(status, $"unexpected answer from {relative}: {e.Message}");
        }
    }

    /// <summary>Percent-encodes one query value.</summary>
    protected static string Query(string value) => WebUtility.UrlEncode(value);
}

/// <summary>Typed client of the master's operator API (<c>POST /api/v1</c>) and <c>GET /master/state</c>.</summary>
public sealed class OperatorClient : HttpApiClient
{
    /// <summary>A client for the master at <paramref name="master"/> (e.g. <c>http://127.0.0.1:5050</c>).</summary>
    public OperatorClient(HttpClient http, Uri master)
        : base(http, master)
    {
    }

    /// <summary>Sends one operator call and returns the response (empty for calls answered 202 without a body).</summary>
    /// <exception cref="ApiException">The master refused the call (e.g. 400 for an unsupported call type).</exception>
    public async Task<OperatorResponse> CallAsync(OperatorCall call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (status, body, _) = await SendAsync(HttpMethod.Post, "api/v1", Encoding.UTF8.GetString(MesosJson.Serialize(call)), cancellationToken).ConfigureAwait(false);
        if (body.Length == 0)
        {
            return new OperatorResponse { Type = call.Type };
        }

        try
        {
            return MesosJson.Deserialize<OperatorResponse>(Encoding.UTF8.GetBytes(body));
        }
        catch (JsonException e)
        {
            throw new ApiException(status, "unexpected operator answer: " + e.Message);
        }
    }

    /// <summary>GET_STATE: tasks, frameworks and agents.</summary>
    public async Task<GetStateDto> GetStateAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(new OperatorCall { Type = OperatorTypes.GetState }, cancellationToken).ConfigureAwait(false)).GetState
        ?? throw new ApiException(200, "GET_STATE answer without get_state");

    /// <summary>GET_AGENTS.</summary>
    public async Task<GetAgentsDto> GetAgentsAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(new OperatorCall { Type = OperatorTypes.GetAgents }, cancellationToken).ConfigureAwait(false)).GetAgents
        ?? throw new ApiException(200, "GET_AGENTS answer without get_agents");

    /// <summary>GET_TASKS.</summary>
    public async Task<GetTasksDto> GetTasksAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(new OperatorCall { Type = OperatorTypes.GetTasks }, cancellationToken).ConfigureAwait(false)).GetTasks
        ?? throw new ApiException(200, "GET_TASKS answer without get_tasks");

    /// <summary>GET_ROLES: roles with weight, frameworks, resources, weighted share and quota limits.</summary>
    public async Task<GetRolesDto> GetRolesAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(new OperatorCall { Type = OperatorTypes.GetRoles }, cancellationToken).ConfigureAwait(false)).GetRoles
        ?? throw new ApiException(200, "GET_ROLES answer without get_roles");

    /// <summary>GET_QUOTA.</summary>
    public async Task<GetQuotaDto> GetQuotaAsync(CancellationToken cancellationToken = default) =>
        (await CallAsync(new OperatorCall { Type = OperatorTypes.GetQuota }, cancellationToken).ConfigureAwait(false)).GetQuota
        ?? throw new ApiException(200, "GET_QUOTA answer without get_quota");

    /// <summary>UPDATE_WEIGHTS for one role.</summary>
    public Task UpdateWeightAsync(string role, double weight, CancellationToken cancellationToken = default) =>
        CallAsync(new OperatorCall { Type = OperatorTypes.UpdateWeights, UpdateWeights = new UpdateWeightsCall([new WeightInfoDto(role, weight)]) }, cancellationToken);

    /// <summary>UPDATE_QUOTA: sets the limits of one role (cpus in cores, mem/disk in MiB).</summary>
    public Task UpdateQuotaAsync(string role, IReadOnlyDictionary<string, double> limits, bool force = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var config = new QuotaConfigDto(role, limits.ToDictionary(kv => kv.Key, kv => new ScalarDto(kv.Value), StringComparer.Ordinal), null);
        return CallAsync(new OperatorCall { Type = OperatorTypes.UpdateQuota, UpdateQuota = new UpdateQuotaCall(force ? true : null, [config]) }, cancellationToken);
    }

    /// <summary><c>GET /master/state</c> (Mesos v0 shape) as a JSON tree.</summary>
    public async Task<JsonObject> GetMasterStateAsync(CancellationToken cancellationToken = default)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "master/state", null, cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(body) as JsonObject ?? throw new ApiException(status, "unexpected /master/state answer");
    }
}

/// <summary>Mesos <c>/files/read</c> answer: <c>{"data":"…","offset":N}</c>.</summary>
/// <param name="Data">Text read (UTF-8).</param>
/// <param name="Offset">Offset of <paramref name="Data"/> in bytes; with offset -1 requested, the file size.</param>
public sealed record FileReadDto(string Data, long Offset);

/// <summary>Typed client of an agent's sandbox files (<c>GET /files/read</c> on the agent's own port).</summary>
public sealed class AgentFilesClient : HttpApiClient
{
    /// <summary>A client for the agent at <paramref name="agent"/> (e.g. <c>http://127.0.0.1:5051</c>).</summary>
    public AgentFilesClient(HttpClient http, Uri agent)
        : base(http, agent)
    {
    }

    /// <summary>The agent URL from its AgentInfo (hostname and port).</summary>
    public static Uri AgentUrl(AgentInfoDto agent)
    {
        ArgumentNullException.ThrowIfNull(agent);
        return new Uri($"http://{agent.Hostname}:{agent.Port.ToString(CultureInfo.InvariantCulture)}/");
    }

    /// <summary>
    /// Reads up to <paramref name="length"/> bytes of a sandbox file at <paramref name="offset"/>; the path is
    /// <c>FRAMEWORK_ID/TASK_ID/stdout</c>. Offset -1 returns no data and the file size.
    /// </summary>
    /// <exception cref="ApiException">404 when the file does not exist, 400 for a malformed path.</exception>
    public Task<FileReadDto> ReadAsync(string path, long offset, long? length = null, CancellationToken cancellationToken = default)
    {
        var query = $"files/read?path={Query(path)}&offset={offset.ToString(CultureInfo.InvariantCulture)}"
            + (length is { } l ? "&length=" + l.ToString(CultureInfo.InvariantCulture) : "");
        return SendJsonAsync<FileReadDto>(HttpMethod.Get, query, null, MesosJson.Options, cancellationToken);
    }
}
