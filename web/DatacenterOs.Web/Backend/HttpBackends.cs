using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Backend;

/// <summary>
/// HTTP to the APIs of the dcosd process the dashboard runs in (master, Apps, Jobs, agents). Everything the dashboard
/// sends over HTTP goes through this folder, behind <see cref="IClusterBackend"/>, <see cref="IAppsBackend"/>,
/// <see cref="IJobsBackend"/> and <see cref="ISandboxFiles"/>.
/// </summary>
public sealed class HttpBackends : IClusterBackend, IAppsBackend, IJobsBackend, ISandboxFiles
{
    private readonly HttpClient _http;

    /// <summary>Creates the backends over <paramref name="http"/>, whose base address is the master's URL.</summary>
    public HttpBackends(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
    }

    // ---- Master -------------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<ClusterState> GetStateAsync(CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/master/state", cancellationToken).ConfigureAwait(false);
        var frameworks = new List<FrameworkView>();
        var tasks = new List<TaskView>();
        foreach (var f in Json.Items(root?["frameworks"]))
        {
            var id = Json.Str(f, "id");
            frameworks.Add(new FrameworkView(id, Json.Str(f, "name"), Json.Strings(f["roles"]), Json.Bool(f, "active"), Json.Amounts(f["used_resources"])));
            tasks.AddRange(Json.Items(f["tasks"]).Select(t => new TaskView(Json.Str(t, "id"), Json.Str(t, "name"), Json.Str(t, "slave_id"), id, Json.Str(t, "state"), Json.Str(t, "role"), Json.Amounts(t["resources"]))));
        }

        var agents = Json.Items(root?["slaves"]).Select(a => new AgentView(
            Json.Str(a, "id"),
            Json.Str(a, "hostname"),
            Json.Int(a, "port"),
            Json.Bool(a, "active"),
            a["attributes"] is JsonObject attrs ? attrs.ToDictionary(kv => kv.Key, kv => kv.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : kv.Value?.ToJsonString() ?? "", StringComparer.Ordinal) : new Dictionary<string, string>(),
            Json.Amounts(a["resources"]),
            Json.Amounts(a["used_resources"]),
            Json.Amounts(a["offered_resources"]))).ToList();
        var roles = Json.Items(root?["roles"]).Select(r => new RoleView(Json.Str(r, "name"), Json.Num(r, "weight"), Json.Num(r, "share"), Json.Strings(r["frameworks"]))).ToList();
        return new ClusterState(Json.Str(root, "id"), agents, frameworks, tasks, roles);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RoleQuota>> GetQuotaAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync(HttpMethod.Post, "/api/v1", """{"type":"GET_QUOTA"}""", cancellationToken).ConfigureAwait(false);
        if (!result.Ok)
        {
            throw new BackendException($"GET_QUOTA failed: {result.Message}");
        }

        static Dictionary<string, double> Amounts(JsonNode? node) => node is JsonObject o
            ? o.ToDictionary(kv => kv.Key, kv => Json.Num(kv.Value, "value"), StringComparer.Ordinal)
            : new Dictionary<string, double>(StringComparer.Ordinal);
        return [.. Json.Items(result.Body?["get_quota"]?["status"]?["configs"]).Select(c => new RoleQuota(Json.Str(c, "role"), Amounts(c["limits"]), Amounts(c["guarantees"])))];
    }

    /// <inheritdoc />
    public Task<ApiResult> UpdateWeightAsync(string role, double weight, CancellationToken cancellationToken)
    {
        var call = new JsonObject
        {
            ["type"] = "UPDATE_WEIGHTS",
            ["update_weights"] = new JsonObject { ["weight_infos"] = new JsonArray(new JsonObject { ["role"] = role, ["weight"] = weight }) },
        };
        return SendAsync(HttpMethod.Post, "/api/v1", call.ToJsonString(), cancellationToken);
    }

    // ---- Apps ---------------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<IReadOnlyList<AppView>> ListAppsAsync(CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v2/apps", cancellationToken).ConfigureAwait(false);
        return [.. Json.Items(root?["apps"]).Select(a => ToApp(a.AsObject()))];
    }

    /// <inheritdoc />
    public async Task<AppDetail?> GetAppAsync(string id, CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v2/apps" + AppPath(id) + "?embed=app.lastTaskFailure", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        if (root?["app"] is not JsonObject app)
        {
            return null;
        }

        var tasks = Json.Items(app["tasks"]).Select(t => new AppTaskView(
            Json.Str(t, "id"),
            Json.Str(t, "appId"),
            Json.Str(t, "host"),
            Json.Str(t, "slaveId"),
            [.. Json.Items(t["ports"]).Select(p => p.GetValue<int>())],
            Json.Str(t, "state"),
            t["healthCheckResults"] is JsonArray { Count: > 0 } results ? results.All(r => Json.Bool(r, "alive")) : null,
            Json.Str(t, "version"),
            Json.Time(t, "startedAt"),
            t["modelState"] is JsonValue ? Json.Str(t, "modelState") : null)).ToList();
        return new AppDetail(ToApp(app), tasks, app["lastTaskFailure"] as JsonObject);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> GetVersionsAsync(string id, CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v2/apps" + AppPath(id) + "/versions", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        return Json.Strings(root?["versions"]);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<QueueEntry>> GetQueueAsync(CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v2/queue", cancellationToken).ConfigureAwait(false);
        return [.. Json.Items(root?["queue"]).Select(q =>
        {
            var reasons = Json.Items(q["waitingReasons"]).Select(r =>
            {
                var detail = Json.Str(r, "detail");
                var agents = string.Join(", ", Json.Strings(r["agents"]));
                return $"{Json.Str(r, "reason")}{(detail.Length > 0 ? ": " + detail : "")} ({Json.Int(r, "offers")} offers{(agents.Length > 0 ? " from " + agents : "")})";
            }).ToList();

            return new QueueEntry(Json.Str(q["app"], "id"), Json.Int(q, "count"), Json.Num(q["delay"], "timeLeftSeconds") > 0, reasons);
        })];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeploymentView>> ListDeploymentsAsync(CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v2/deployments", cancellationToken).ConfigureAwait(false);
        return [.. Json.Items(root).Select(d => new DeploymentView(
            Json.Str(d, "id"),
            Json.Strings(d["affectedApps"]),
            Json.Int(d, "currentStep"),
            Json.Int(d, "totalSteps"),
            [.. Json.Items(d["steps"]).Select(s => string.Join(", ", Json.Items(s["actions"]).Select(a => $"{Json.Str(a, "action")} {Json.Str(a, "app")}")))],
            Json.Str(d, "version")))];
    }

    /// <inheritdoc />
    public Task<ApiResult> CreateAppAsync(string json, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, "/v2/apps", json, cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> ScaleAsync(string id, int instances, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, "/v2/apps" + AppPath(id), new JsonObject { ["instances"] = instances }.ToJsonString(), cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> RestartAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Post, "/v2/apps" + AppPath(id) + "/restart", "{}", cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> DestroyAsync(string id, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, "/v2/apps" + AppPath(id), null, cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> KillTaskAsync(string appId, string taskId, bool scale, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "/v2/apps" + AppPath(appId) + "/tasks/" + Uri.EscapeDataString(taskId) + (scale ? "?scale=true" : ""), null, cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> CancelDeploymentAsync(string id, bool force, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, "/v2/deployments/" + Uri.EscapeDataString(id) + (force ? "?force=true" : ""), null, cancellationToken);

    // ---- Jobs ---------------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobView>> ListJobsAsync(CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync("/v1/scheduler/jobs", cancellationToken).ConfigureAwait(false);
        return [.. Json.Items(root).Select(j => new JobView(
            Json.Str(j, "name"),
            Json.Str(j, "command"),
            Json.Str(j, "schedule"),
            Json.Strings(j["parents"]),
            Json.Str(j, "owner"),
            Json.Bool(j, "disabled"),
            Json.Time(j, "lastSuccess"),
            Json.Time(j, "lastError"),
            Json.Int(j, "successCount"),
            Json.Int(j, "errorCount"),
            j.AsObject()))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<JobRunView>?> GetRunsAsync(string name, int limit, CancellationToken cancellationToken)
    {
        var root = await GetJsonAsync($"/v1/scheduler/job/{Uri.EscapeDataString(name)}/runs?limit={limit}", cancellationToken, allowNotFound: true).ConfigureAwait(false);
        if (root is not JsonArray runs)
        {
            return null;
        }

        return [.. runs.Where(r => r is not null).Select(r => new JobRunView(
            Json.Str(r, "runId"),
            Json.Str(r, "jobName"),
            Json.Str(r, "state"),
            Json.Str(r, "trigger"),
            Json.Int(r, "attempt"),
            Json.Time(r, "createdAt"),
            Json.Time(r, "startedAt"),
            Json.Time(r, "finishedAt"),
            Json.Str(r, "agentId"),
            Json.Str(r, "taskId")))];
    }

    /// <inheritdoc />
    public Task<ApiResult> UpsertJobAsync(string json, bool dependent, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, dependent ? "/v1/scheduler/dependency" : "/v1/scheduler/iso8601", json, cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> RunNowAsync(string name, CancellationToken cancellationToken) => SendAsync(HttpMethod.Put, "/v1/scheduler/job/" + Uri.EscapeDataString(name), null, cancellationToken);

    /// <inheritdoc />
    public Task<ApiResult> DeleteJobAsync(string name, CancellationToken cancellationToken) => SendAsync(HttpMethod.Delete, "/v1/scheduler/job/" + Uri.EscapeDataString(name), null, cancellationToken);

    /// <inheritdoc />
    public async Task<string> GetGraphDotAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await _http.GetStringAsync(new Uri("/v1/scheduler/graph/dot", UriKind.Relative), cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new BackendException($"GET /v1/scheduler/graph/dot failed: {e.Message}", e);
        }
    }

    // ---- Agents -------------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    public async Task<FileChunk?> ReadAsync(Uri agentBase, string path, long offset, long length, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentBase);
        var uri = new Uri(agentBase, $"/files/read?path={Uri.EscapeDataString(path)}&offset={offset}&length={length}");
        try
        {
            using var response = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            response.EnsureSuccessStatusCode();
            var root = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            return new FileChunk(Json.Str(root, "data"), (long)Json.Num(root, "offset"));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            throw new BackendException($"reading {path} from {agentBase} failed: {e.Message}", e);
        }
    }

    // ---- Plumbing -----------------------------------------------------------------------------------------------------

    /// <summary>The URL path of an app id: <c>/web/api</c> with each segment escaped.</summary>
    internal static string AppPath(string id) => "/" + string.Join('/', id.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));

    internal static AppView ToApp(JsonObject a) => new(
        Json.Str(a, "id"),
        Json.Num(a, "cpus"),
        Json.Num(a, "mem"),
        Json.Int(a, "instances"),
        Json.Int(a, "tasksRunning"),
        Json.Int(a, "tasksStaged"),
        Json.Int(a, "tasksHealthy"),
        Json.Int(a, "tasksUnhealthy"),
        a["healthChecks"] is JsonArray { Count: > 0 },
        [.. Json.Items(a["deployments"]).Select(d => Json.Str(d, "id"))],
        Json.Str(a, "version"),
        a);

    private async Task<JsonNode?> GetJsonAsync(string path, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(path, UriKind.Relative), cancellationToken).ConfigureAwait(false);
            if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new BackendException($"GET {path} answered {(int)response.StatusCode}");
            }

            return JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (Exception e) when (e is HttpRequestException or JsonException)
        {
            throw new BackendException($"GET {path} failed: {e.Message}", e);
        }
    }

    private async Task<ApiResult> SendAsync(HttpMethod method, string path, string? json, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        try
        {
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            JsonNode? body = null;
            try
            {
                body = text.Length > 0 && text.TrimStart() is ['{', ..] or ['[', ..] ? JsonNode.Parse(text) : null;
            }
            catch (JsonException)
            {
            }

            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? new ApiResult(status, "", [], body)
                : ErrorParser.Parse(status, body, text);
        }
        catch (HttpRequestException e)
        {
            return ApiResult.Failure($"{method} {path} failed: {e.Message}");
        }
    }
}
