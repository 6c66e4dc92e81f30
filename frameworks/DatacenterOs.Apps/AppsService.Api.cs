using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core;
using DatacenterOs.Apps.Core.Deployment;
using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DatacenterOs.Apps;

public sealed partial class AppsService
{
    private const string DependencyCycleMessage = "Dependency graph has cyclic dependencies.";

    /// <summary>
    /// Maps Marathon's <c>/v2</c> API: <c>/v2/apps</c> (GET, POST), <c>/v2/apps/{id}</c> (GET, PUT, PATCH, DELETE),
    /// <c>/v2/apps/{id}/tasks[/{taskId}]</c>, <c>/v2/apps/{id}/restart</c>, <c>/v2/apps/{id}/versions[/{version}]</c>,
    /// <c>/v2/groups[/{id}]</c>, <c>/v2/deployments[/{id}]</c>, <c>/v2/tasks</c>, <c>/v2/tasks/delete</c>,
    /// <c>/v2/queue</c>, <c>/v2/queue/{id}/delay</c>, <c>/v2/events</c> (server-sent events), <c>/v2/plan</c>
    /// (dry run), <c>/v2/info</c>, <c>/v2/leader</c> and <c>/ping</c>.
    /// </summary>
    public void MapAppsEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v2/apps", (RequestDelegate)CreateAsync);
        endpoints.MapGet("/v2/apps", (RequestDelegate)ListAsync);
        endpoints.MapMethods("/v2/apps/{**rest}", ["GET", "PUT", "PATCH", "DELETE", "POST"], (RequestDelegate)AppAsync);
        endpoints.MapMethods("/v2/groups", ["GET", "POST", "PUT", "DELETE"], (RequestDelegate)GroupsAsync);
        endpoints.MapMethods("/v2/groups/{**rest}", ["GET", "POST", "PUT", "DELETE"], (RequestDelegate)GroupsAsync);
        endpoints.MapGet("/v2/deployments", (RequestDelegate)DeploymentsAsync);
        endpoints.MapDelete("/v2/deployments/{id}", (RequestDelegate)DeleteDeploymentAsync);
        endpoints.MapGet("/v2/tasks", (RequestDelegate)AllTasksAsync);
        endpoints.MapPost("/v2/tasks/delete", (RequestDelegate)DeleteTasksAsync);
        endpoints.MapGet("/v2/queue", (RequestDelegate)QueueAsync);
        endpoints.MapDelete("/v2/queue/{**rest}", (RequestDelegate)ResetDelayAsync);
        endpoints.MapGet("/v2/events", (RequestDelegate)EventsAsync);
        endpoints.MapPost("/v2/plan", (RequestDelegate)PlanAsync);
        endpoints.MapGet("/v2/info", (RequestDelegate)InfoAsync);
        endpoints.MapGet("/v2/leader", (RequestDelegate)(ctx => WriteAsync(ctx, 200, new JsonObject { ["leader"] = ctx.Request.Host.Value }.ToJsonString(AppsJson.Options))));
        endpoints.MapGet("/ping", (RequestDelegate)(ctx => ctx.Response.WriteAsync("pong", ctx.RequestAborted)));
        MapDiscoveryEndpoints(endpoints);
    }

    // ---- Changes ------------------------------------------------------------------------------------------------------

    /// <summary>What a change request asks for beyond the apps: <c>force</c>, <c>dryRun</c>, rollback on failure.</summary>
    private sealed record ChangeFlags(bool Force, bool DryRun, bool RollbackOnFailure)
    {
        public static ChangeFlags From(HttpContext ctx) => new(IsTrue(ctx, "force"), IsTrue(ctx, "dryRun"), IsTrue(ctx, "rollbackOnFailure"));
    }

    /// <summary>The outcome of a change: status, JSON body and the deployment id for the header.</summary>
    private sealed record ChangeResult(int Status, string Body, string? DeploymentId = null, RunningDeployment? Deployment = null);

    /// <summary>
    /// Applies a change as one deployment: <paramref name="changes"/> maps app ids to their new definitions (null:
    /// remove). Unversioned definitions that differ from the current one get a new version. 409 when a running
    /// deployment touches the same apps (unless forced), 422 on a dependency cycle; a dry run returns the plan only.
    /// </summary>
    private ChangeResult Change(
        IReadOnlyDictionary<PathId, AppDefinition?> changes,
        ChangeFlags flags,
        IReadOnlyDictionary<PathId, IReadOnlyList<string>>? toKill = null)
    {
        var current = changes.Keys.Where(_apps.ContainsKey).ToDictionary(id => id, id => _apps[id].App);
        var version = NextVersion();
        var target = Stamp(current, changes.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!), version);
        DeploymentPlan plan;
        try
        {
            plan = DeploymentPlanner.Plan(current, target, _newId, version, toKill);
        }
        catch (DependencyCycleException)
        {
            return new ChangeResult(ValidationResult.StatusCode, new JsonObject { ["message"] = DependencyCycleMessage }.ToJsonString(AppsJson.Options));
        }

        if (flags.DryRun)
        {
            return new ChangeResult(200, plan.ToMarathonJson(0).ToJsonString(AppsJson.Options));
        }

        var conflicts = Conflicts(plan, changes.Keys);
        if (conflicts.Count > 0)
        {
            if (!flags.Force)
            {
                return new ChangeResult(409, Locked(conflicts).ToJsonString(AppsJson.Options));
            }

            Cancel(conflicts);
        }

        var deployment = StartDeployment(plan, flags.RollbackOnFailure, toKill);
        var body = new JsonObject { ["version"] = AppsJsonWriter.Timestamp(version), ["deploymentId"] = deployment.Id };
        return new ChangeResult(200, body.ToJsonString(AppsJson.Options), deployment.Id, deployment);
    }

    private void PublishApiPost(HttpContext ctx, AppDefinition app) => Events.Publish("api_post_event", () => new JsonObject
    {
        ["clientIp"] = ctx.Connection.RemoteIpAddress?.ToString(),
        ["uri"] = ctx.Request.Path.Value,
        ["appDefinition"] = AppDefinitionJson.ToJsonObject(app),
    });

    private DateTimeOffset NextVersion()
    {
        var now = _time.GetUtcNow();
        now = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        if (now <= _lastVersion)
        {
            now = _lastVersion.AddMilliseconds(1);
        }

        _lastVersion = now;
        return now;
    }

    /// <summary>Parses, normalizes and validates one app; the error result (400 or 422) when it is not valid.</summary>
    private static (AppDefinition? App, ChangeResult? Error) ValidApp(AppParseResult parsed, string pathPrefix = "")
    {
        if (parsed.App is not { } raw)
        {
            return (null, new ChangeResult(AppJsonError.StatusCode, parsed.Error!.ToMarathonJson()));
        }

        var validation = AppValidator.Validate(raw);
        if (!validation.IsValid)
        {
            var json = JsonNode.Parse(validation.ToMarathonJson())!.AsObject();
            if (pathPrefix.Length > 0)
            {
                foreach (var detail in json["details"]!.AsArray())
                {
                    detail!["path"] = pathPrefix + (string?)detail["path"];
                }
            }

            return (null, new ChangeResult(ValidationResult.StatusCode, json.ToJsonString(AppsJson.Options)));
        }

        return (raw with { Version = null }, null);
    }

    // ---- /v2/apps -----------------------------------------------------------------------------------------------------

    private async Task CreateAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var parsed = AppDefinitionJson.Parse(body);
        if (parsed.App is { } raw)
        {
            parsed = AppParseResult.Success(AppNormalizer.Normalize(raw));
        }

        var (app, error) = ValidApp(parsed);
        if (error is not null)
        {
            await WriteAsync(ctx, error).ConfigureAwait(false);
            return;
        }

        var flags = ChangeFlags.From(ctx);
        var id = app!.PathId.Canonicalize();
        var result = await WithGateAsync(() =>
        {
            if (_apps.ContainsKey(id))
            {
                return new ChangeResult(409, new JsonObject { ["message"] = $"An app with id [{id}] already exists." }.ToJsonString(AppsJson.Options));
            }

            var change = Change(new Dictionary<PathId, AppDefinition?> { [id] = app }, flags);
            if (change.Deployment is null)
            {
                return change;
            }

            PublishApiPost(ctx, _apps[id].App);
            return change with { Status = 201, Body = AppJsonString(_apps[id], embedTasks: false) };
        }).ConfigureAwait(false);

        if (result.Status == 201)
        {
            ctx.Response.Headers.Location = "/v2/apps" + id;
        }

        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext ctx)
    {
        var filter = ctx.Request.Query["id"].ToString();
        var label = ctx.Request.Query["label"].ToString();
        var embed = ctx.Request.Query["embed"];
        var embedTasks = embed.Any(e => e is "apps.tasks" or "tasks" or "apps.failures");

        // Under the lock only a small view per app is taken; an app whose view did not change since it was last
        // rendered reuses those bytes, the others are rendered after the lock is released.
        var entries = await WithGateAsync(() => _apps.Values
            .Where(s => filter.Length == 0 || s.IdText.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .Where(s => label.Length == 0 || MatchesLabel(s.App, label))
            .Select(s => (State: s, View: View(s, embedTasks), Cached: s.Rendered))
            .ToList(), flush: false).ConfigureAwait(false);

        // Streamed to the response in chunks: no buffer the size of the whole list (7 MB at 10,000 apps).
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        var pipe = ctx.Response.BodyWriter;
        pipe.Write("{\"apps\":["u8);
        var scratch = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(scratch, ViewWriterOptions))
        {
            long written = 0;
            for (var i = 0; i < entries.Count; i++)
            {
                if (i > 0)
                {
                    pipe.Write(","u8);
                }

                var (state, view, cached) = entries[i];
                byte[] bytes;
                if (cached is not null && cached.View == view)
                {
                    bytes = cached.Json;
                }
                else
                {
                    scratch.ResetWrittenCount();
                    WriteView(writer, scratch, view);
                    bytes = scratch.WrittenSpan.ToArray();
                    if (view.TasksJson is null)
                    {
                        state.Rendered = new RenderedApp(view, bytes); // one reference write: safe without the lock
                    }
                }

                pipe.Write(bytes);
                written += bytes.Length;
                if (written > 64 * 1024)
                {
                    written = 0;
                    await pipe.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
                }
            }
        }

        pipe.Write("]}"u8);
        await pipe.FlushAsync(ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>What <c>GET /v2/apps</c> shows of an app besides its definition, taken under the lock.</summary>
    internal sealed record AppView(
        ReadOnlyMemory<byte> Prefix,
        int Staged,
        int Running,
        int Healthy,
        int Unhealthy,
        string Deployments,
        DateTimeOffset LastScalingAt,
        DateTimeOffset LastConfigChangeAt,
        TaskFailure? Failure,
        string AppId,
        string? TasksJson);

    private static readonly JsonWriterOptions ViewWriterOptions = new() { SkipValidation = true, Encoder = AppsJson.Options.Encoder };

    private AppView View(AppState state, bool embedTasks)
    {
        var hasHealthChecks = state.App.HealthChecks.Count > 0;
        int staged = 0, running = 0, healthy = 0, unhealthy = 0;
        foreach (var i in state.Instances.Values)
        {
            if (i.State is TaskStates.Staging or TaskStates.Starting)
            {
                staged++;
            }
            else if (i.IsRunning)
            {
                running++;
                healthy += hasHealthChecks && i.Healthy == true ? 1 : 0;
                unhealthy += hasHealthChecks && i.Healthy == false ? 1 : 0;
            }
        }

        return new AppView(
            state.DefinitionPrefix,
            staged,
            running,
            healthy,
            unhealthy,
            string.Join(' ', DeploymentsOf(state.Id).Select(d => d.Id)),
            state.LastScalingAt,
            state.ConfigVersion,
            state.LastTaskFailure,
            state.IdText,
            embedTasks ? TasksJson(state).ToJsonString(AppsJson.Options) : null);
    }

    /// <summary>
    /// Writes the cached definition without its closing brace, then the fields Marathon adds (<c>tasksStaged</c>,
    /// <c>tasksRunning</c>, <c>tasksHealthy</c>, <c>tasksUnhealthy</c>, <c>deployments</c>, <c>versionInfo</c>,
    /// <c>lastTaskFailure</c>, <c>tasks</c>) with a writer that continues the object.
    /// </summary>
    /// <returns>The bytes written.</returns>
    private static long WriteView(Utf8JsonWriter writer, IBufferWriter<byte> buffer, AppView view)
    {
        buffer.Write(view.Prefix.Span);
        buffer.Write(","u8);
        writer.Reset(buffer);
        writer.WriteNumber("tasksStaged", view.Staged);
        writer.WriteNumber("tasksRunning", view.Running);
        writer.WriteNumber("tasksHealthy", view.Healthy);
        writer.WriteNumber("tasksUnhealthy", view.Unhealthy);
        writer.WriteStartArray("deployments");
        foreach (var id in view.Deployments.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            writer.WriteStartObject();
            writer.WriteString("id", id);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartObject("versionInfo");
        writer.WriteString("lastScalingAt", AppsJsonWriter.Timestamp(view.LastScalingAt));
        writer.WriteString("lastConfigChangeAt", AppsJsonWriter.Timestamp(view.LastConfigChangeAt));
        writer.WriteEndObject();
        if (view.Failure is { } failure)
        {
            writer.WriteStartObject("lastTaskFailure");
            writer.WriteString("appId", view.AppId);
            writer.WriteString("host", failure.Host);
            writer.WriteString("message", failure.Message);
            writer.WriteString("state", failure.State);
            writer.WriteString("taskId", failure.TaskId);
            writer.WriteString("timestamp", AppsJsonWriter.Timestamp(failure.At));
            writer.WriteString("version", AppsJsonWriter.Timestamp(failure.Version));
            writer.WriteString("slaveId", failure.AgentId);
            writer.WriteEndObject();
        }

        if (view.TasksJson is { } tasks)
        {
            writer.WritePropertyName("tasks");
            writer.WriteRawValue(tasks, skipInputValidation: true);
        }

        writer.Flush();
        buffer.Write("}"u8);
        return view.Prefix.Length + writer.BytesCommitted + 2;
    }

    /// <summary>The app as Marathon shows it (cached definition plus the added fields), as UTF-8 JSON.</summary>
    private string AppJsonString(AppState state, bool embedTasks)
    {
        var buffer = new ArrayBufferWriter<byte>(state.DefinitionUtf8.Length + 512);
        using (var writer = new Utf8JsonWriter(buffer, ViewWriterOptions))
        {
            WriteView(writer, buffer, View(state, embedTasks));
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Marathon's label selector: <c>key</c>, <c>key==value</c> or <c>key!=value</c>, comma-separated (all must hold).</summary>
    private static bool MatchesLabel(AppDefinition app, string selector) => selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).All(term =>
    {
        var ne = term.IndexOf("!=", StringComparison.Ordinal);
        var eq = term.IndexOf("==", StringComparison.Ordinal);
        if (ne > 0)
        {
            return !app.Labels.TryGetValue(term[..ne], out var v) || v != term[(ne + 2)..];
        }

        if (eq > 0)
        {
            return app.Labels.TryGetValue(term[..eq], out var v) && v == term[(eq + 2)..];
        }

        return app.Labels.ContainsKey(term);
    });

    private async Task AppAsync(HttpContext ctx)
    {
        var segments = (ctx.Request.RouteValues["rest"] as string ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        var keyword = Array.FindIndex(segments, s => s is "tasks" or "restart" or "versions");
        var idSegments = keyword < 0 ? segments : segments[..keyword];
        var action = keyword < 0 ? null : segments[keyword];
        var argument = keyword >= 0 && keyword + 1 < segments.Length ? string.Join('/', segments[(keyword + 1)..]) : null;
        if (idSegments.Length == 0 || !PathId.IsValid("/" + string.Join('/', idSegments)))
        {
            await WriteAsync(ctx, 404, new JsonObject { ["message"] = $"App '/{string.Join('/', idSegments)}' does not exist" }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
            return;
        }

        var id = PathId.FromSegments(idSegments);
        switch (ctx.Request.Method, action, argument)
        {
            case ("GET", null, null):
                var app = await WithGateAsync(() => _apps.TryGetValue(id, out var s) ? "{\"app\":" + AppJsonString(s, embedTasks: true) + "}" : null, flush: false).ConfigureAwait(false);
                await (app is null ? WriteAsync(ctx, 404, NotFound(id)) : WriteAsync(ctx, 200, app)).ConfigureAwait(false);
                break;
            case ("GET", "tasks", null):
                await ReadAppAsync(ctx, id, s => new JsonObject { ["tasks"] = TasksJson(s) }).ConfigureAwait(false);
                break;
            case ("DELETE", "tasks", _):
                await KillAppTasksAsync(ctx, id, argument).ConfigureAwait(false);
                break;
            case ("GET", "versions", null):
                await VersionsAsync(ctx, id).ConfigureAwait(false);
                break;
            case ("GET", "versions", { } version):
                await VersionAsync(ctx, id, version).ConfigureAwait(false);
                break;
            case ("PUT", null, null):
                var partial = !string.Equals(ctx.Request.Query["partialUpdate"].ToString(), "false", StringComparison.OrdinalIgnoreCase);
                await UpdateAsync(ctx, id, partial ? AppUpdateMode.PartialUpdate : AppUpdateMode.Replace, createIfMissing: true).ConfigureAwait(false);
                break;
            case ("PATCH", null, null):
                await UpdateAsync(ctx, id, AppUpdateMode.MergePatch, createIfMissing: false).ConfigureAwait(false);
                break;
            case ("DELETE", null, null):
                await DeleteAppAsync(ctx, id).ConfigureAwait(false);
                break;
            case ("POST", "restart", null):
                await RestartAsync(ctx, id).ConfigureAwait(false);
                break;
            default:
                await WriteAsync(ctx, 405, new JsonObject { ["message"] = $"{ctx.Request.Method} is not supported on {ctx.Request.Path}" }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
                break;
        }
    }

    private async Task ReadAppAsync(HttpContext ctx, PathId id, Func<AppState, JsonObject> render)
    {
        var json = await WithGateAsync(() => _apps.TryGetValue(id, out var state) ? render(state) : null, flush: false).ConfigureAwait(false);
        await (json is null
            ? WriteAsync(ctx, 404, NotFound(id))
            : WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options))).ConfigureAwait(false);
    }

    private async Task UpdateAsync(HttpContext ctx, PathId id, AppUpdateMode mode, bool createIfMissing)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var flags = ChangeFlags.From(ctx);
        var result = await WithGateAsync(() =>
        {
            _apps.TryGetValue(id, out var state);
            AppParseResult parsed;
            if (state is not null)
            {
                parsed = AppUpdate.ApplyUpdate(state.App, body, mode);
            }
            else if (!createIfMissing)
            {
                return new ChangeResult(404, NotFound(id));
            }
            else
            {
                parsed = AppDefinitionJson.Parse(body);
                if (parsed.App is { } raw)
                {
                    parsed = AppParseResult.Success(AppNormalizer.Normalize(raw with { Id = id.ToString() }));
                }
            }

            var (app, error) = ValidApp(parsed);
            if (error is not null)
            {
                return error;
            }

            var change = Change(new Dictionary<PathId, AppDefinition?> { [id] = app! with { Id = id.ToString() } }, flags);
            if (change.Deployment is not null)
            {
                PublishApiPost(ctx, _apps[id].App);
                if (state is null)
                {
                    change = change with { Status = 201 };
                }
            }

            return change;
        }).ConfigureAwait(false);

        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task RestartAsync(HttpContext ctx, PathId id)
    {
        var flags = ChangeFlags.From(ctx);
        var result = await WithGateAsync(() => _apps.TryGetValue(id, out var state)
            ? Change(new Dictionary<PathId, AppDefinition?> { [id] = state.App with { Version = NextVersion() } }, flags)
            : new ChangeResult(404, NotFound(id))).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task DeleteAppAsync(HttpContext ctx, PathId id)
    {
        var flags = ChangeFlags.From(ctx);
        var result = await WithGateAsync(() => _apps.ContainsKey(id)
            ? Change(new Dictionary<PathId, AppDefinition?> { [id] = null }, flags)
            : new ChangeResult(404, NotFound(id))).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private async Task VersionsAsync(HttpContext ctx, PathId id)
    {
        var exists = await WithGateAsync(() => _apps.TryGetValue(id, out var s) ? s.App.Version : null, flush: false).ConfigureAwait(false);
        if (exists is not { } latest)
        {
            await WriteAsync(ctx, 404, NotFound(id)).ConfigureAwait(false);
            return;
        }

        var versions = _store is null ? [AppsJsonWriter.Timestamp(latest)] : await _store.ListVersionsAsync(id.ToString(), ctx.RequestAborted).ConfigureAwait(false);
        await WriteAsync(ctx, 200, new JsonObject { ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)JsonValue.Create(v))]) }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    private async Task VersionAsync(HttpContext ctx, PathId id, string version)
    {
        var current = await WithGateAsync(() => _apps.TryGetValue(id, out var s) ? s.App : null, flush: false).ConfigureAwait(false);
        string? definition = null;
        if (current?.Version is { } v && AppsJsonWriter.Timestamp(v) == version)
        {
            definition = AppDefinitionJson.Serialize(current);
        }
        else if (current is not null && _store is not null)
        {
            definition = await _store.ReadVersionAsync(id.ToString(), version, ctx.RequestAborted).ConfigureAwait(false);
        }

        await (definition is null
            ? WriteAsync(ctx, 404, new JsonObject { ["message"] = $"App '{id}' does not exist in version {version}" }.ToJsonString(AppsJson.Options))
            : WriteAsync(ctx, 200, definition)).ConfigureAwait(false);
    }

    // ---- Tasks --------------------------------------------------------------------------------------------------------

    private async Task KillAppTasksAsync(HttpContext ctx, PathId id, string? taskId)
    {
        var host = ctx.Request.Query["host"].ToString();
        var scale = IsTrue(ctx, "scale");
        var flags = ChangeFlags.From(ctx);
        var result = await WithGateAsync(() =>
        {
            if (!_apps.TryGetValue(id, out var state))
            {
                return new ChangeResult(404, NotFound(id));
            }

            var doomed = state.Instances.Values
                .Where(i => !i.IsScheduled && !i.Decommissioned)
                .Where(i => taskId is null || i.TaskId == taskId)
                .Where(i => host.Length == 0 || host == "*" || i.Agent?.Hostname == host)
                .ToList();
            if (taskId is not null && doomed.Count == 0)
            {
                return new ChangeResult(404, new JsonObject { ["message"] = $"Task '{taskId}' does not exist" }.ToJsonString(AppsJson.Options));
            }

            return KillTasks(state, doomed, scale, flags, single: taskId is not null);
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    /// <summary>
    /// Kills instances: with <paramref name="scale"/> as a deployment that lowers <c>instances</c> by their number
    /// (Marathon <c>killAndScale</c>), otherwise plainly (they are replaced).
    /// </summary>
    private ChangeResult KillTasks(AppState state, List<Instance> doomed, bool scale, ChangeFlags flags, bool single)
    {
        if (scale)
        {
            var target = state.App with { Instances = Math.Max(0, state.App.Instances - doomed.Count) };
            return Change(
                new Dictionary<PathId, AppDefinition?> { [state.Id] = target with { Version = null } },
                flags,
                new Dictionary<PathId, IReadOnlyList<string>> { [state.Id] = [.. doomed.Select(i => i.TaskId)] });
        }

        var json = doomed.Select(i => (JsonNode)TaskJson(state, i)).ToList();
        foreach (var instance in doomed)
        {
            Kill(state, instance);
        }

        Converge(state);
        return new ChangeResult(200, (single ? new JsonObject { ["task"] = json[0] } : new JsonObject { ["tasks"] = new JsonArray([.. json]) }).ToJsonString(AppsJson.Options));
    }

    private async Task AllTasksAsync(HttpContext ctx)
    {
        var statuses = ctx.Request.Query["status"].Select(s => s?.ToUpperInvariant()).ToHashSet();
        var json = await WithGateAsync(() => new JsonObject
        {
            ["tasks"] = new JsonArray([.. _apps.Values.SelectMany(s => s.Instances.Values
                .Where(i => !i.IsScheduled)
                .Where(i => statuses.Count == 0 || statuses.Contains(i.State!["TASK_".Length..]))
                .OrderBy(i => i.TaskId, StringComparer.Ordinal)
                .Select(i => (JsonNode)TaskJson(s, i)))]),
        }, flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    private async Task DeleteTasksAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        List<string> ids;
        try
        {
            ids = [.. JsonNode.Parse(body)?["ids"]?.AsArray().Select(n => (string)n!) ?? []];
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            await WriteAsync(ctx, 400, new JsonObject { ["message"] = AppDefinitionJson.InvalidJsonMessage, ["details"] = "expected {\"ids\": [\"task id\", …]}" }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
            return;
        }

        var scale = IsTrue(ctx, "scale");
        var flags = ChangeFlags.From(ctx);
        var result = await WithGateAsync(() =>
        {
            var byApp = ids.Where(_tasks.ContainsKey).Select(t => _tasks[t]).Where(i => _apps.ContainsKey(i.AppId)).GroupBy(i => i.AppId).ToList();
            if (scale)
            {
                var changes = byApp.ToDictionary(g => g.Key, g => (AppDefinition?)(_apps[g.Key].App with { Instances = Math.Max(0, _apps[g.Key].App.Instances - g.Count()), Version = null }));
                return Change(changes, flags, byApp.ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(i => i.TaskId)]));
            }

            var killed = new JsonArray();
            foreach (var group in byApp)
            {
                var state = _apps[group.Key];
                foreach (var instance in group)
                {
                    killed.Add(TaskJson(state, instance));
                    Kill(state, instance);
                }

                Converge(state);
            }

            return new ChangeResult(200, new JsonObject { ["tasks"] = killed }.ToJsonString(AppsJson.Options));
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    // ---- /v2/deployments ----------------------------------------------------------------------------------------------

    private async Task DeploymentsAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(
            () => new JsonArray([.. _deployments.Select(d => (JsonNode)d.Plan.ToMarathonJson(Math.Max(d.CurrentStep, d.Plan.Steps.Count == 0 ? 0 : 1)))]),
            flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    private async Task DeleteDeploymentAsync(HttpContext ctx)
    {
        var id = ctx.Request.RouteValues["id"] as string ?? "";
        var force = IsTrue(ctx, "force");
        var result = await WithGateAsync(() =>
        {
            if (!_deploymentsById.TryGetValue(id, out var deployment))
            {
                return new ChangeResult(404, new JsonObject { ["message"] = $"DeploymentPlan {id} does not exist" }.ToJsonString(AppsJson.Options));
            }

            if (force)
            {
                Cancel([deployment]);
                Events.Publish("deployment_failed", () => new JsonObject { ["id"] = deployment.Id, ["plan"] = PlanJson(deployment.Plan), ["reason"] = "cancelled with force=true" });
                return new ChangeResult(202, "{}");
            }

            var rollback = Rollback(deployment);
            Events.Publish("deployment_failed", () => new JsonObject { ["id"] = deployment.Id, ["plan"] = PlanJson(deployment.Plan), ["reason"] = $"rolled back by deployment {rollback.Id}" });
            var body = new JsonObject { ["version"] = AppsJsonWriter.Timestamp(rollback.Plan.Version), ["deploymentId"] = rollback.Id };
            return new ChangeResult(200, body.ToJsonString(AppsJson.Options), rollback.Id);
        }).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    // ---- /v2/queue ----------------------------------------------------------------------------------------------------

    private async Task QueueAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(() =>
        {
            var now = _time.GetUtcNow();
            return new JsonObject
            {
                ["queue"] = new JsonArray([.. _waiting.Where(_apps.ContainsKey).Select(id => _apps[id])
                    .Where(s => s.Instances.Values.Any(i => i.IsScheduled))
                    .Select(s => (JsonNode)QueueItemJson(s, now))]),
            };
        }, flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    /// <summary>
    /// One <c>/v2/queue</c> element in Marathon's shape (<c>count</c>, <c>delay</c>, <c>since</c>,
    /// <c>processedOffersSummary</c> with <c>rejectSummaryLastOffers</c>, <c>lastUnusedOffers</c>, <c>app</c>), plus
    /// <c>waitingReasons</c>: every distinct reason over the recent offers, with the agent and the constraint or
    /// resource that refused, most frequent first.
    /// </summary>
    private JsonObject QueueItemJson(AppState state, DateTimeOffset now)
    {
        var recent = state.Offers.Recent.ToList();
        var reasons = new[] { "UnfulfilledRole", "UnfulfilledConstraint", "NoCorrespondingReservationFound", "AgentMaintenance", "InsufficientCpus", "InsufficientMemory", "InsufficientDisk", "InsufficientGpus", "InsufficientPorts", "DeclinedScarceResources", "NoDockerOnAgent" };
        var rejectSummary = new JsonArray();
        foreach (var reason in reasons)
        {
            rejectSummary.Add(new JsonObject { ["reason"] = reason, ["declined"] = recent.Count(r => r.Reason == reason), ["processed"] = recent.Count });
        }

        var delay = state.Backoff.RemainingDelay(now);
        return new JsonObject
        {
            ["count"] = state.Instances.Values.Count(i => i.IsScheduled),
            ["delay"] = new JsonObject
            {
                ["timeLeftSeconds"] = (long)Math.Ceiling(Math.Max(0, delay.TotalSeconds)),
                ["overdue"] = delay <= TimeSpan.Zero,
            },
            ["since"] = AppsJsonWriter.Timestamp(state.WaitingSince ?? now),
            ["processedOffersSummary"] = new JsonObject
            {
                ["processedOffersCount"] = state.Offers.Processed,
                ["unusedOffersCount"] = state.Offers.Unused,
                ["lastUnusedOfferAt"] = state.Offers.LastUnusedAt is { } unused ? AppsJsonWriter.Timestamp(unused) : null,
                ["lastUsedOfferAt"] = state.Offers.LastUsedAt is { } used ? AppsJsonWriter.Timestamp(used) : null,
                ["rejectSummaryLastOffers"] = rejectSummary,
                ["rejectSummaryLaunchAttempt"] = rejectSummary.DeepClone(),
            },
            ["lastUnusedOffers"] = new JsonArray([.. recent.Where(r => r.Reason is not null).TakeLast(10).Select(r => (JsonNode)new JsonObject
            {
                ["offer"] = new JsonObject { ["hostname"] = r.Agent },
                ["timestamp"] = AppsJsonWriter.Timestamp(r.At),
                ["reason"] = new JsonArray(r.Reason),
            })]),
            ["waitingReasons"] = new JsonArray([.. recent.Where(r => r.Reason is not null)
                .GroupBy(r => (r.Reason, r.Detail))
                .OrderByDescending(g => g.Count())
                .Select(g => (JsonNode)new JsonObject
                {
                    ["reason"] = g.Key.Reason,
                    ["detail"] = g.Key.Detail,
                    ["offers"] = g.Count(),
                    ["agents"] = new JsonArray([.. g.Select(r => r.Agent).Distinct().Order(StringComparer.Ordinal).Select(a => (JsonNode)JsonValue.Create(a))]),
                })]),
            ["app"] = AppJson(state, embedTasks: false),
        };
    }

    private async Task ResetDelayAsync(HttpContext ctx)
    {
        var rest = (ctx.Request.RouteValues["rest"] as string ?? "").TrimEnd('/');
        if (!rest.EndsWith("/delay", StringComparison.Ordinal))
        {
            await WriteAsync(ctx, 404, new JsonObject { ["message"] = "Not found" }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
            return;
        }

        var id = PathId.Parse("/" + rest[..^"/delay".Length]).Canonicalize();
        var found = await WithGateAsync(() =>
        {
            if (!_apps.TryGetValue(id, out var state))
            {
                return false;
            }

            state.Backoff = state.Backoff.Reset();
            _dirtyApps.Add(id);
            _reviveNeeded = true;
            return true;
        }).ConfigureAwait(false);
        await (found ? WriteAsync(ctx, 204, "") : WriteAsync(ctx, 404, NotFound(id))).ConfigureAwait(false);
    }

    // ---- /v2/events, /v2/plan, /v2/info -------------------------------------------------------------------------------

    private async Task EventsAsync(HttpContext ctx)
    {
        var types = ctx.Request.Query["event_type"].Where(t => !string.IsNullOrEmpty(t)).Select(t => t!).ToHashSet(StringComparer.Ordinal);
        using var subscription = Events.Subscribe(types);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _cts.Token, subscription.Disconnected);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        var attached = new JsonObject
        {
            ["remoteAddress"] = ctx.Connection.RemoteIpAddress?.ToString(),
            ["eventType"] = "event_stream_attached",
            ["timestamp"] = AppsJsonWriter.Timestamp(_time.GetUtcNow()),
        };
        try
        {
            await WriteEventAsync(ctx, attached, linked.Token).ConfigureAwait(false);
            await foreach (var evt in subscription.ReadAllAsync(linked.Token).ConfigureAwait(false))
            {
                await WriteEventAsync(ctx, evt, linked.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }

        if (subscription.Disconnected.IsCancellationRequested)
        {
            // Too slow: end the connection rather than let its buffer or the scheduler wait on it.
            ctx.Abort();
        }
    }

    private static async Task WriteEventAsync(HttpContext ctx, JsonObject evt, CancellationToken ct)
    {
        await ctx.Response.WriteAsync($"event: {(string?)evt["eventType"]}\ndata: {evt.ToJsonString(AppsJson.Options)}\n\n", ct).ConfigureAwait(false);
        await ctx.Response.Body.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /v2/plan</c>: the deployment an app or group definition would cause, without doing it.</summary>
    private async Task PlanAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        JsonObject? node;
        try
        {
            node = JsonNode.Parse(body) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            node = null;
        }

        if (node is null)
        {
            await WriteAsync(ctx, AppJsonError.StatusCode, new AppJsonError(AppDefinitionJson.InvalidJsonMessage, "expected an app or a group object").ToMarathonJson()).ConfigureAwait(false);
            return;
        }

        var isGroup = node.ContainsKey("apps") || node.ContainsKey("groups");
        var result = isGroup
            ? await GroupChangeAsync(node, PathId.Root, replace: false, new ChangeFlags(false, true, false)).ConfigureAwait(false)
            : await PlanAppAsync(body).ConfigureAwait(false);
        await WriteAsync(ctx, result).ConfigureAwait(false);
    }

    private Task<ChangeResult> PlanAppAsync(byte[] body)
    {
        var parsed = AppDefinitionJson.Parse(body);
        if (parsed.App is { } raw)
        {
            parsed = AppParseResult.Success(AppNormalizer.Normalize(raw));
        }

        var (app, error) = ValidApp(parsed);
        return error is not null
            ? Task.FromResult(error)
            : WithGateAsync(() => Change(new Dictionary<PathId, AppDefinition?> { [app!.PathId.Canonicalize()] = app }, new ChangeFlags(false, true, false)), flush: false);
    }

    private Task InfoAsync(HttpContext ctx)
    {
        var json = new JsonObject
        {
            ["name"] = _options.FrameworkName,
            ["version"] = "1.0.0",
            ["frameworkId"] = _frameworkId,
            ["elected"] = true,
            ["leader"] = ctx.Request.Host.Value,
            ["marathon_config"] = new JsonObject
            {
                ["framework_name"] = _options.FrameworkName,
                ["mesos_role"] = _options.Role,
                ["failover_timeout"] = (long)_options.FailoverTimeout.TotalSeconds,
                ["mesos_user"] = _options.User,
            },
            ["event_subscriber"] = new JsonObject { ["type"] = "sse" },
        };
        return WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options));
    }

    // ---- JSON ---------------------------------------------------------------------------------------------------------

    /// <summary>The app as Marathon shows it, as a JSON tree (for responses that embed apps, e.g. groups and the queue).</summary>
    private JsonObject AppJson(AppState state, bool embedTasks) => JsonNode.Parse(AppJsonString(state, embedTasks))!.AsObject();

    private static JsonArray TasksJson(AppState state) =>
        [.. state.Instances.Values.Where(i => !i.IsScheduled).OrderBy(i => i.TaskId, StringComparer.Ordinal).Select(i => (JsonNode)TaskJson(state, i))];

    private static JsonObject TaskJson(AppState state, Instance i)
    {
        var json = new JsonObject
        {
            ["id"] = i.TaskId,
            ["appId"] = state.Id.ToString(),
            ["host"] = i.Agent?.Hostname,
            ["slaveId"] = i.AgentId,
            ["state"] = i.State,
            ["ports"] = new JsonArray([.. i.Ports.Select(p => (JsonNode)JsonValue.Create(p))]),
            ["servicePorts"] = new JsonArray([.. (state.App.PortDefinitions ?? []).Select(p => (JsonNode)JsonValue.Create(p.Port))]),
            ["ipAddresses"] = new JsonArray(),
            ["stagedAt"] = i.StagedAt is { } staged ? AppsJsonWriter.Timestamp(staged) : null,
            ["startedAt"] = i.StartedAt is { } started ? AppsJsonWriter.Timestamp(started) : null,
            ["version"] = AppsJsonWriter.Timestamp(i.AppVersion),
        };
        if (i.ModelState is { } modelState)
        {
            json["modelState"] = modelState;
        }

        if (state.App.HealthChecks.Count > 0 && i.Healthy is { } healthy)
        {
            json["healthCheckResults"] = new JsonArray(new JsonObject
            {
                ["alive"] = healthy,
                ["consecutiveFailures"] = i.ConsecutiveHealthFailures,
                ["lastFailureCause"] = healthy ? null : i.HealthMessage,
                ["instanceId"] = i.TaskId,
                ["taskId"] = i.TaskId,
            });
        }

        return json;
    }

    private static string NotFound(PathId id) =>
        new JsonObject { ["message"] = $"App '{id}' does not exist" }.ToJsonString(AppsJson.Options);

    private static bool IsTrue(HttpContext ctx, string name) =>
        ctx.Request.Query.TryGetValue(name, out var values)
        && (values.ToString().Length == 0 || string.Equals(values.ToString(), "true", StringComparison.OrdinalIgnoreCase));

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static Task WriteAsync(HttpContext ctx, ChangeResult result) => WriteAsync(ctx, result.Status, result.Body, result.DeploymentId);

    private static async Task WriteAsync(HttpContext ctx, int status, string json, string? deploymentId = null)
    {
        ctx.Response.StatusCode = status;
        if (deploymentId is not null)
        {
            ctx.Response.Headers["Marathon-Deployment-Id"] = deploymentId;
        }

        if (status == 204)
        {
            return;
        }

        ctx.Response.ContentType = "application/json; charset=utf-8";
        await ctx.Response.WriteAsync(json, ctx.RequestAborted).ConfigureAwait(false);
    }
}
