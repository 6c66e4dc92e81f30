using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps.Contracts;

/// <summary>
/// Typed client of the Apps API (Marathon <c>/v2</c>) on a master. App ids are absolute or relative paths
/// (<c>/web</c>, <c>web</c>, <c>/shop/db</c>). Errors: <see cref="ApiException"/> with Marathon's message and, for
/// 422, every field path; connection failures as <see cref="HttpRequestException"/>.
/// </summary>
public sealed class AppsClient : HttpApiClient
{
    /// <summary>A client for the master at <paramref name="master"/> (e.g. <c>http://127.0.0.1:5050</c>).</summary>
    public AppsClient(HttpClient http, Uri master)
        : base(http, master)
    {
    }

    /// <summary>The canonical path of an app id: leading slash, no trailing one.</summary>
    public static string AppPath(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return "/" + id.Trim().Trim('/');
    }

    private static string AppUrl(string id) =>
        "v2/apps/" + string.Join('/', AppPath(id).Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));

    private static string Flags(bool force, bool dryRun = false) =>
        (force ? "force=true" : "") + (dryRun ? (force ? "&" : "") + "dryRun=true" : "");

    private static string WithQuery(string path, string query) => query.Length == 0 ? path : path + "?" + query;

    /// <summary><c>GET /v2/apps</c>, optionally with each app's instances.</summary>
    public async Task<List<AppDto>> ListAppsAsync(bool embedTasks = false, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<AppsList>(HttpMethod.Get, embedTasks ? "v2/apps?embed=apps.tasks" : "v2/apps", null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).Apps;

    /// <summary><c>GET /v2/apps/{id}</c>: the app with its instances.</summary>
    /// <exception cref="ApiException">404 when the app does not exist.</exception>
    public async Task<AppDto> GetAppAsync(string id, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<AppEnvelope>(HttpMethod.Get, AppUrl(id), null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).App
        ?? throw new ApiException(200, "answer without app");

    /// <summary><c>POST /v2/apps</c> with an app definition (JSON text); returns the created app (201) and the deployment id.</summary>
    /// <exception cref="ApiException">400 malformed JSON, 409 existing app, 422 invalid definition (field paths).</exception>
    public async Task<(AppDto App, string? DeploymentId)> CreateAppAsync(string definitionJson, bool force = false, CancellationToken cancellationToken = default)
    {
        var (_, body, headers) = await SendAsync(HttpMethod.Post, WithQuery("v2/apps", Flags(force)), definitionJson, cancellationToken).ConfigureAwait(false);
        var app = Parse<AppDto>(body);
        return (app, headers.TryGetValues("Marathon-Deployment-Id", out var ids) ? ids.FirstOrDefault() : app.Deployments?.FirstOrDefault()?.Id);
    }

    /// <summary><c>PUT /v2/apps/{id}</c> (partial update: fields not given are kept; creates the app when missing).</summary>
    public Task<ChangeResultDto> UpdateAppAsync(string id, string definitionJson, bool force = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync<ChangeResultDto>(HttpMethod.Put, WithQuery(AppUrl(id), Flags(force)), definitionJson, MarathonJson.Options, cancellationToken);

    /// <summary><c>PATCH /v2/apps/{id}</c>: JSON merge patch (RFC 7386) of the definition.</summary>
    public Task<ChangeResultDto> PatchAppAsync(string id, string patchJson, bool force = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync<ChangeResultDto>(HttpMethod.Patch, WithQuery(AppUrl(id), Flags(force)), patchJson, MarathonJson.Options, cancellationToken);

    /// <summary>Sets the number of instances (<c>PUT {"instances":n}</c>, no restart).</summary>
    public Task<ChangeResultDto> ScaleAppAsync(string id, int instances, bool force = false, CancellationToken cancellationToken = default) =>
        UpdateAppAsync(id, "{\"instances\":" + instances.ToString(CultureInfo.InvariantCulture) + "}", force, cancellationToken);

    /// <summary><c>POST /v2/apps/{id}/restart</c>: rolling restart within the upgrade strategy.</summary>
    public Task<ChangeResultDto> RestartAppAsync(string id, bool force = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync<ChangeResultDto>(HttpMethod.Post, WithQuery(AppUrl(id) + "/restart", Flags(force)), null, MarathonJson.Options, cancellationToken);

    /// <summary><c>DELETE /v2/apps/{id}</c>: stops every instance and removes the app.</summary>
    public Task<ChangeResultDto> RemoveAppAsync(string id, bool force = false, CancellationToken cancellationToken = default) =>
        SendJsonAsync<ChangeResultDto>(HttpMethod.Delete, WithQuery(AppUrl(id), Flags(force)), null, MarathonJson.Options, cancellationToken);

    /// <summary><c>GET /v2/apps/{id}/tasks</c>.</summary>
    public async Task<List<AppTaskDto>> GetAppTasksAsync(string id, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<TasksList>(HttpMethod.Get, AppUrl(id) + "/tasks", null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).Tasks;

    /// <summary><c>GET /v2/apps/{id}/versions</c>: stored versions, newest first.</summary>
    public async Task<List<string>> GetVersionsAsync(string id, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<VersionsList>(HttpMethod.Get, AppUrl(id) + "/versions", null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).Versions;

    /// <summary><c>GET /v2/apps/{id}/versions/{version}</c>: the definition at that version (JSON text).</summary>
    public async Task<string> GetVersionAsync(string id, string version, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, AppUrl(id) + "/versions/" + Uri.EscapeDataString(version), null, cancellationToken).ConfigureAwait(false)).Body;

    /// <summary><c>POST /v2/plan</c>: the deployment an app or group definition would cause; changes nothing.</summary>
    public Task<DeploymentDto> PlanAsync(string definitionJson, CancellationToken cancellationToken = default) =>
        SendJsonAsync<DeploymentDto>(HttpMethod.Post, "v2/plan", definitionJson, MarathonJson.Options, cancellationToken);

    /// <summary><c>GET /v2/deployments</c>: running deployments.</summary>
    public Task<List<DeploymentDto>> ListDeploymentsAsync(CancellationToken cancellationToken = default) =>
        SendJsonAsync<List<DeploymentDto>>(HttpMethod.Get, "v2/deployments", null, MarathonJson.Options, cancellationToken);

    /// <summary><c>DELETE /v2/deployments/{id}</c>: rolls the deployment back (a new deployment, returned), or with <paramref name="force"/> just stops it (null).</summary>
    public async Task<ChangeResultDto?> DeleteDeploymentAsync(string id, bool force, CancellationToken cancellationToken = default)
    {
        var (_, body, _) = await SendAsync(HttpMethod.Delete, WithQuery("v2/deployments/" + Uri.EscapeDataString(id), force ? "force=true" : ""), null, cancellationToken).ConfigureAwait(false);
        return force ? null : Parse<ChangeResultDto>(body);
    }

    /// <summary><c>GET /v2/queue</c>: apps with instances waiting to launch, with the reasons offers were refused.</summary>
    public async Task<List<QueueItemDto>> GetQueueAsync(CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<QueueList>(HttpMethod.Get, "v2/queue", null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).Queue;

    /// <summary><c>GET /v2/tasks</c>, optionally only some states (<c>running</c>, <c>staging</c>…).</summary>
    public async Task<List<AppTaskDto>> ListTasksAsync(string? status = null, CancellationToken cancellationToken = default) =>
        (await SendJsonAsync<TasksList>(HttpMethod.Get, status is null ? "v2/tasks" : "v2/tasks?status=" + Query(status), null, MarathonJson.Options, cancellationToken).ConfigureAwait(false)).Tasks;

    /// <summary><c>DELETE /v2/apps/{app}/tasks/{task}</c>: kills one instance (replaced unless <paramref name="scale"/>).</summary>
    public async Task KillTaskAsync(string appId, string taskId, bool scale = false, CancellationToken cancellationToken = default) =>
        await SendAsync(HttpMethod.Delete, WithQuery(AppUrl(appId) + "/tasks/" + Uri.EscapeDataString(taskId), scale ? "scale=true" : ""), null, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Streams <c>/v2/events</c> (server-sent events) until cancelled or the server closes the stream; only the given
    /// event types when any are given. The first event is <c>event_stream_attached</c>.
    /// </summary>
    public async IAsyncEnumerable<AppsEvent> StreamEventsAsync(IReadOnlyCollection<string>? types = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var query = types is { Count: > 0 } ? "?" + string.Join('&', types.Select(t => "event_type=" + Query(t))) : "";
        using var request = new HttpRequestMessage(HttpMethod.Get, Url("v2/events" + query));
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if ((int)response.StatusCode >= 400)
        {
            throw ApiException.FromBody((int)response.StatusCode, response.ReasonPhrase, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }

        using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? type = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0)
                {
                    var text = data.ToString();
                    yield return new AppsEvent(type ?? EventTypeOf(text), text);
                }

                type = null;
                data.Clear();
            }
            else if (line.StartsWith("event:", StringComparison.Ordinal))
            {
                type = line["event:".Length..].Trim();
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                if (data.Length > 0)
                {
                    data.Append('\n');
                }

                data.Append(line["data:".Length..].TrimStart());
            }
        }
    }

    private static string EventTypeOf(string data)
    {
        try
        {
            return (string?)(JsonNode.Parse(data) as JsonObject)?["eventType"] ?? "message";
        }
        catch (JsonException)
        {
            return "message";
        }
    }

    private static T Parse<T>(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, MarathonJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ApiException(200, "unexpected answer: " + e.Message);
        }
    }

#pragma warning disable CA1812, CA2227 // instantiated by the serializer
    private sealed class AppsList
    {
        public List<AppDto> Apps { get; set; } = [];
    }

    private sealed class AppEnvelope
    {
        public AppDto? App { get; set; }
    }

    private sealed class TasksList
    {
        public List<AppTaskDto> Tasks { get; set; } = [];
    }

    private sealed class VersionsList
    {
        public List<string> Versions { get; set; } = [];
    }

    private sealed class QueueList
    {
        public List<QueueItemDto> Queue { get; set; } = [];
    }
#pragma warning restore CA1812, CA2227
}
