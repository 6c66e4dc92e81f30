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
    private static readonly Dictionary<PathId, AppDefinition> NoApps = [];

    /// <summary>
    /// Maps Marathon's <c>/v2</c> API: <c>/v2/apps</c> (GET, POST), <c>/v2/apps/{id}</c> (GET, PUT, PATCH, DELETE),
    /// <c>/v2/apps/{id}/tasks</c>, <c>/v2/apps/{id}/restart</c>, <c>/v2/deployments</c>, <c>/v2/info</c> and <c>/ping</c>.
    /// </summary>
    public void MapAppsEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/v2/apps", (RequestDelegate)CreateAsync);
        endpoints.MapGet("/v2/apps", (RequestDelegate)ListAsync);
        endpoints.MapMethods("/v2/apps/{**rest}", ["GET", "PUT", "PATCH", "DELETE", "POST"], (RequestDelegate)AppAsync);
        endpoints.MapGet("/v2/deployments", (RequestDelegate)DeploymentsAsync);
        endpoints.MapGet("/v2/info", (RequestDelegate)InfoAsync);
        endpoints.MapGet("/ping", (RequestDelegate)(ctx => ctx.Response.WriteAsync("pong", ctx.RequestAborted)));
    }

    // ---- Deployments --------------------------------------------------------------------------------------------------

    private void CheckDeployments() => _deployments.RemoveAll(d => IsSettled(d.AppId));

    /// <summary>True when the app's instances match its target (or, for a removed app, none is left).</summary>
    private bool IsSettled(PathId id)
    {
        if (!_apps.TryGetValue(id, out var state))
        {
            return !_tasks.Values.Any(i => i.AppId == id);
        }

        var instances = state.Instances.Values;
        return instances.Count == state.App.Instances
            && instances.All(i => !i.Decommissioned && i.ConfigVersion == state.ConfigVersion && i.IsConsideredHealthy(state.App));
    }

    /// <summary>Null when the app is not locked (or <paramref name="force"/> cancels the locks), else the 409 body.</summary>
    private JsonObject? Lock(PathId id, bool force)
    {
        var locking = _deployments.Where(d => d.AppId == id || d.Plan.Affects(id)).ToList();
        if (locking.Count == 0)
        {
            return null;
        }

        if (force)
        {
            _deployments.RemoveAll(locking.Contains);
            return null;
        }

        return new JsonObject
        {
            ["message"] = "App is locked by one or more deployments. Override with the option '?force=true'. "
                + $"View details at '/v2/deployments/{locking[0].Plan.Id}'.",
            ["deployments"] = new JsonArray([.. locking.Select(d => (JsonNode)new JsonObject { ["id"] = d.Plan.Id })]),
        };
    }

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

    private RunningDeployment StartDeployment(PathId id, AppDefinition? before, AppDefinition? after, DateTimeOffset version)
    {
        var plan = DeploymentPlanner.Plan(
            before is null ? NoApps : new Dictionary<PathId, AppDefinition> { [id] = before },
            after is null ? NoApps : new Dictionary<PathId, AppDefinition> { [id] = after },
            _newId,
            version);
        var deployment = new RunningDeployment(plan, id);
        _deployments.Add(deployment);
        return deployment;
    }

    // ---- Handlers -----------------------------------------------------------------------------------------------------

    private async Task CreateAsync(HttpContext ctx)
    {
        var body = await ReadBodyAsync(ctx).ConfigureAwait(false);
        var parsed = AppDefinitionJson.Parse(body);
        if (parsed.App is not { } raw)
        {
            await WriteAsync(ctx, AppJsonError.StatusCode, parsed.Error!.ToMarathonJson()).ConfigureAwait(false);
            return;
        }

        var app = AppNormalizer.Normalize(raw);
        var validation = AppValidator.Validate(app);
        if (!validation.IsValid)
        {
            await WriteAsync(ctx, ValidationResult.StatusCode, validation.ToMarathonJson()).ConfigureAwait(false);
            return;
        }

        var force = IsForce(ctx);
        var (status, response, deploymentId) = await WithGateAsync(() =>
        {
            var id = app.PathId.Canonicalize();
            if (_apps.ContainsKey(id))
            {
                return (409, new JsonObject { ["message"] = $"An app with id [{id}] already exists." }, (string?)null);
            }

            if (Lock(id, force) is { } locked)
            {
                return (409, locked, null);
            }

            var version = NextVersion();
            var stored = app with { Version = version };
            var state = new AppState(stored, version);
            _apps[id] = state;
            var deployment = StartDeployment(id, null, stored, version);
            Converge(state);
            var json = AppJson(state, embedTasks: false);
            return (201, json, deployment.Plan.Id);
        }).ConfigureAwait(false);

        if (deploymentId is not null)
        {
            ctx.Response.Headers.Location = "/v2/apps" + app.PathId.Canonicalize();
        }

        await WriteAsync(ctx, status, response.ToJsonString(AppsJson.Options), deploymentId).ConfigureAwait(false);
    }

    private async Task ListAsync(HttpContext ctx)
    {
        var filter = ctx.Request.Query["id"].ToString();
        var embedTasks = ctx.Request.Query["embed"].Any(e => e is "apps.tasks" or "tasks");
        var json = await WithGateAsync(() => new JsonObject
        {
            ["apps"] = new JsonArray([.. _apps.Values
                .Where(s => filter.Length == 0 || s.Id.ToString().Contains(filter, StringComparison.OrdinalIgnoreCase))
                .Select(s => (JsonNode)AppJson(s, embedTasks))]),
        }, flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    private async Task AppAsync(HttpContext ctx)
    {
        var rest = (ctx.Request.RouteValues["rest"] as string ?? "").TrimEnd('/');
        var method = ctx.Request.Method;
        string? action = null;
        foreach (var suffix in new[] { "tasks", "restart" })
        {
            if (rest == suffix || rest.EndsWith("/" + suffix, StringComparison.Ordinal))
            {
                action = suffix;
                rest = rest[..^suffix.Length].TrimEnd('/');
            }
        }

        var id = PathId.Parse("/" + rest).Canonicalize();
        switch (method, action)
        {
            case ("GET", null):
                await ReadAppAsync(ctx, id, s => new JsonObject { ["app"] = AppJson(s, embedTasks: true) }).ConfigureAwait(false);
                break;
            case ("GET", "tasks"):
                await ReadAppAsync(ctx, id, s => new JsonObject { ["tasks"] = TasksJson(s) }).ConfigureAwait(false);
                break;
            case ("PUT", null):
                var partial = !string.Equals(ctx.Request.Query["partialUpdate"].ToString(), "false", StringComparison.OrdinalIgnoreCase);
                await UpdateAsync(ctx, id, partial ? AppUpdateMode.PartialUpdate : AppUpdateMode.Replace, createIfMissing: true).ConfigureAwait(false);
                break;
            case ("PATCH", null):
                await UpdateAsync(ctx, id, AppUpdateMode.MergePatch, createIfMissing: false).ConfigureAwait(false);
                break;
            case ("DELETE", null):
                await DeleteAsync(ctx, id).ConfigureAwait(false);
                break;
            case ("POST", "restart"):
                await RestartAsync(ctx, id).ConfigureAwait(false);
                break;
            default:
                ctx.Response.StatusCode = 405;
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
        var force = IsForce(ctx);
        var (status, response, deploymentId) = await WithGateAsync(() =>
        {
            _apps.TryGetValue(id, out var state);
            AppParseResult parsed;
            if (state is not null)
            {
                parsed = AppUpdate.ApplyUpdate(state.App, body, mode);
            }
            else if (!createIfMissing)
            {
                return (404, NotFound(id), (string?)null);
            }
            else
            {
                parsed = AppDefinitionJson.Parse(body);
                if (parsed.App is { } raw)
                {
                    parsed = AppParseResult.Success(AppNormalizer.Normalize(raw with { Id = id.ToString() }));
                }
            }

            if (parsed.App is not { } app)
            {
                return (AppJsonError.StatusCode, parsed.Error!.ToMarathonJson(), null);
            }

            var validation = AppValidator.Validate(app);
            if (!validation.IsValid)
            {
                return (ValidationResult.StatusCode, validation.ToMarathonJson(), null);
            }

            if (Lock(id, force) is { } locked)
            {
                return (409, locked.ToJsonString(AppsJson.Options), null);
            }

            DateTimeOffset version;
            RunningDeployment deployment;
            if (state is null)
            {
                version = NextVersion();
                var created = app with { Version = version };
                state = new AppState(created, version);
                _apps[id] = state;
                deployment = StartDeployment(id, null, created, version);
            }
            else if (app.Equals(state.App))
            {
                version = state.App.Version ?? NextVersion();
                deployment = StartDeployment(id, state.App, state.App, version);
            }
            else
            {
                version = NextVersion();
                var updated = app with { Version = version };
                deployment = StartDeployment(id, state.App, updated, version);
                if (DeploymentPlanner.IsUpgrade(state.App, updated))
                {
                    state.ConfigVersion = version;
                }

                if (state.App.Instances != updated.Instances)
                {
                    state.LastScalingAt = version;
                }

                state.App = updated;
                state.Backoff = state.Backoff.ForApp(updated);
            }

            Converge(state);
            return (deployment.Plan.Original.Count == 0 ? 201 : 200, DeploymentResult(deployment, version), deployment.Plan.Id);
        }).ConfigureAwait(false);

        await WriteAsync(ctx, status, response, deploymentId).ConfigureAwait(false);
    }

    private async Task RestartAsync(HttpContext ctx, PathId id)
    {
        var force = IsForce(ctx);
        var (status, response, deploymentId) = await WithGateAsync(() =>
        {
            if (!_apps.TryGetValue(id, out var state))
            {
                return (404, NotFound(id), (string?)null);
            }

            if (Lock(id, force) is { } locked)
            {
                return (409, locked.ToJsonString(AppsJson.Options), null);
            }

            var version = NextVersion();
            var updated = state.App with { Version = version };
            var deployment = StartDeployment(id, state.App, updated, version);
            state.App = updated;
            state.ConfigVersion = version;
            state.Backoff = state.Backoff.ForApp(updated);
            Converge(state);
            return (200, DeploymentResult(deployment, version), deployment.Plan.Id);
        }).ConfigureAwait(false);

        await WriteAsync(ctx, status, response, deploymentId).ConfigureAwait(false);
    }

    private async Task DeleteAsync(HttpContext ctx, PathId id)
    {
        var force = IsForce(ctx);
        var (status, response, deploymentId) = await WithGateAsync(() =>
        {
            if (!_apps.TryGetValue(id, out var state))
            {
                return (404, NotFound(id), (string?)null);
            }

            if (Lock(id, force) is { } locked)
            {
                return (409, locked.ToJsonString(AppsJson.Options), null);
            }

            var version = NextVersion();
            var deployment = StartDeployment(id, state.App, null, version);
            _apps.Remove(id);
            foreach (var instance in state.Instances.Values.ToList())
            {
                Kill(state, instance);
            }

            return (200, DeploymentResult(deployment, version), deployment.Plan.Id);
        }).ConfigureAwait(false);

        await WriteAsync(ctx, status, response, deploymentId).ConfigureAwait(false);
    }

    private async Task DeploymentsAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(
            () => new JsonArray([.. _deployments.Select(d => (JsonNode)d.Plan.ToMarathonJson(d.Plan.Steps.Count))]),
            flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
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
        };
        return WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options));
    }

    // ---- JSON ---------------------------------------------------------------------------------------------------------

    private JsonObject AppJson(AppState state, bool embedTasks)
    {
        var json = AppDefinitionJson.ToJsonObject(state.App);
        var instances = state.Instances.Values.ToList();
        var hasHealthChecks = state.App.HealthChecks.Count > 0;
        json["tasksStaged"] = instances.Count(i => i.State is TaskStates.Staging or TaskStates.Starting);
        json["tasksRunning"] = instances.Count(i => i.IsRunning);
        json["tasksHealthy"] = hasHealthChecks ? instances.Count(i => i.IsRunning && i.Healthy == true) : 0;
        json["tasksUnhealthy"] = hasHealthChecks ? instances.Count(i => i.IsRunning && i.Healthy == false) : 0;
        json["deployments"] = new JsonArray([.. _deployments.Where(d => d.AppId == state.Id).Select(d => (JsonNode)new JsonObject { ["id"] = d.Plan.Id })]);
        json["versionInfo"] = new JsonObject
        {
            ["lastScalingAt"] = AppsJsonWriter.Timestamp(state.LastScalingAt),
            ["lastConfigChangeAt"] = AppsJsonWriter.Timestamp(state.ConfigVersion),
        };
        if (state.LastTaskFailure is { } failure)
        {
            json["lastTaskFailure"] = new JsonObject
            {
                ["appId"] = state.Id.ToString(),
                ["taskId"] = failure.Status.TaskId.Value,
                ["state"] = failure.Status.State,
                ["message"] = failure.Status.Message ?? "",
                ["timestamp"] = AppsJsonWriter.Timestamp(failure.At),
                ["slaveId"] = failure.Status.AgentId?.Value,
            };
        }

        if (embedTasks)
        {
            json["tasks"] = TasksJson(state);
        }

        return json;
    }

    private static JsonArray TasksJson(AppState state) =>
        [.. state.Instances.Values.Where(i => !i.IsScheduled).OrderBy(i => i.TaskId, StringComparer.Ordinal).Select(i => (JsonNode)new JsonObject
        {
            ["id"] = i.TaskId,
            ["appId"] = state.Id.ToString(),
            ["host"] = i.Agent?.Hostname,
            ["slaveId"] = i.AgentId,
            ["state"] = i.State,
            ["ports"] = new JsonArray([.. i.Ports.Select(p => (JsonNode)JsonValue.Create(p))]),
            ["stagedAt"] = i.StagedAt is { } staged ? AppsJsonWriter.Timestamp(staged) : null,
            ["startedAt"] = i.StartedAt is { } started ? AppsJsonWriter.Timestamp(started) : null,
            ["version"] = AppsJsonWriter.Timestamp(i.AppVersion),
        })];

    private static string DeploymentResult(RunningDeployment deployment, DateTimeOffset version) =>
        new JsonObject { ["version"] = AppsJsonWriter.Timestamp(version), ["deploymentId"] = deployment.Plan.Id }.ToJsonString(AppsJson.Options);

    private static string NotFound(PathId id) =>
        new JsonObject { ["message"] = $"App '{id}' does not exist" }.ToJsonString(AppsJson.Options);

    private static bool IsForce(HttpContext ctx) =>
        string.Equals(ctx.Request.Query["force"].ToString(), "true", StringComparison.OrdinalIgnoreCase);

    private static async Task<byte[]> ReadBodyAsync(HttpContext ctx)
    {
        using var buffer = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(buffer, ctx.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext ctx, int status, string json, string? deploymentId = null)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (deploymentId is not null)
        {
            ctx.Response.Headers["Marathon-Deployment-Id"] = deploymentId;
        }

        await ctx.Response.WriteAsync(json, ctx.RequestAborted).ConfigureAwait(false);
    }
}
