using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core;
using DatacenterOs.Apps.Core.Discovery;
using DatacenterOs.Apps.Core.StateModels;
using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Polly;
using Polly.Retry;

namespace DatacenterOs.Apps;

/// <summary>What discovery knows of an instance beyond the Marathon fields.</summary>
internal sealed partial class Instance
{
    /// <summary>The agent's IP when the offer gave one (or the host name is an IP literal).</summary>
    public string? Ip { get; set; }

    /// <summary>Model state (<see cref="ModelStates"/>), null until first assigned.</summary>
    public string? ModelState { get; set; }

    /// <summary>When it was demoted from LEADER, while the demotion awaits confirmation by the instance's callback.</summary>
    public DateTimeOffset? DemotedAt { get; set; }
}

/// <summary>
/// Discovery (where every live instance runs, Mesos-DNS's HTTP shape, a change stream, a generated HAProxy
/// configuration) and state models (OnlineOffline, LeaderStandby with callbacks). After every turn of the event loop
/// the apps whose instances changed are re-assigned (<see cref="StateModelAssigner"/>, so a leader lost in this turn is
/// replaced in this turn) and their endpoints recomputed (<see cref="EndpointSelector"/>); changes are announced
/// (<c>/v1/discovery/events</c>, <c>/v2/events</c>) and written to the load-balancer configuration.
/// </summary>
public sealed partial class AppsService
{
    private readonly HashSet<PathId> _discoveryDirty = [];
    private readonly HashSet<string> _dirtyDiscovery = new(StringComparer.Ordinal);
    private readonly HashSet<PathId> _modelPending = [];
    private readonly Dictionary<PathId, PublishedApp> _published = [];
    private readonly Dictionary<PathId, string> _modelWaiting = [];
    private readonly Dictionary<PathId, Dictionary<string, string>> _knownModelStates = [];
    private readonly Lock _callbackLock = new();
    private readonly Dictionary<string, Task> _callbackChains = new(StringComparer.Ordinal);
    private LoadBalancerWriter? _loadBalancer;
    private HttpClient? _callbackHttp;
    private ResiliencePipeline<HttpResponseMessage>? _callbackPipeline;

    private sealed record PublishedApp(string Json, AppEndpoints Endpoints);

    /// <summary>
    /// The discovery change stream behind <c>/v1/discovery/events</c>: <c>endpoints_changed</c> (an app's full
    /// endpoint list), <c>app_removed</c> and <c>instance_model_state_changed_event</c>.
    /// </summary>
    public AppsEvents DiscoveryEvents => field ??= new AppsEvents(_time);

    /// <summary>What the HAProxy writer did last; null when no configuration path is set.</summary>
    public LoadBalancerStatus? LoadBalancer => _loadBalancer?.Status;

    private void StartDiscovery()
    {
        var options = _options.Discovery;
        if (options.HaproxyConfigPath is { } path)
        {
            _loadBalancer = new LoadBalancerWriter(path, options.ReloadCommand, _time);
            _loadBalancer.Update(HaproxyConfig.Render([], options.HaproxyBindAddress));
        }

        _callbackHttp = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        _callbackPipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = Math.Max(1, options.CallbackRetries),
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<Polly.Timeout.TimeoutRejectedException>()
                    .HandleResult(r => (int)r.StatusCode >= 500),
            })
            .AddTimeout(options.CallbackTimeout)
            .Build();
    }

    private async Task StopDiscoveryAsync()
    {
        if (_loadBalancer is not null)
        {
            await _loadBalancer.DisposeAsync().ConfigureAwait(false);
        }

        Task[] chains;
        lock (_callbackLock)
        {
            chains = [.. _callbackChains.Values];
        }

        try
        {
            await Task.WhenAll(chains).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }

        _callbackHttp?.Dispose();
    }

    // ---- After every turn ---------------------------------------------------------------------------------------------

    /// <summary>Re-assigns model states and recomputes endpoints of the apps changed in this turn; announces changes.</summary>
    private void AfterTurn()
    {
        _discoveryDirty.UnionWith(_modelPending);
        if (_discoveryDirty.Count == 0)
        {
            return;
        }

        var changed = false;
        foreach (var id in _discoveryDirty.ToList())
        {
            if (_apps.TryGetValue(id, out var state))
            {
                AssignModelStates(state);
                var app = state.Applied ?? state.App;
                var entry = new AppEndpoints(state.IdText, EndpointSelector.PortNames(app), EndpointSelector.Select(app, state.Instances.Values.Select(ToDiscovery)));
                var json = DiscoveryAppJson(app, entry).ToJsonString(AppsJson.Options);
                if (_published.TryGetValue(id, out var old) && old.Json == json)
                {
                    continue;
                }

                _published[id] = new PublishedApp(json, entry);
                changed = true;
                DiscoveryEvents.Publish("endpoints_changed", () => JsonNode.Parse(json)!.AsObject());
                Events.Publish("discovery_changed_event", () => new JsonObject { ["appId"] = state.IdText, ["endpoints"] = entry.Endpoints.Count });
            }
            else if (_published.Remove(id))
            {
                _modelPending.Remove(id);
                _modelWaiting.Remove(id);
                _knownModelStates.Remove(id);
                changed = true;
                DiscoveryEvents.Publish("app_removed", new JsonObject { ["appId"] = id.ToString() });
                Events.Publish("discovery_changed_event", () => new JsonObject { ["appId"] = id.ToString(), ["endpoints"] = 0 });
            }
        }

        _discoveryDirty.Clear();
        if (changed && _loadBalancer is not null)
        {
            _loadBalancer.Update(HaproxyConfig.Render(_published.Values.Select(p => p.Endpoints), _options.Discovery.HaproxyBindAddress));
        }
    }

    private static DiscoveryInstance ToDiscovery(Instance i) => new()
    {
        InstanceId = i.TaskId,
        Host = i.Agent?.Hostname,
        Ip = i.Ip,
        AgentId = i.AgentId,
        Ports = i.Ports,
        State = i.State,
        Running = i.IsRunning,
        Healthy = i.Healthy,
        Decommissioned = i.Decommissioned,
        Version = i.AppVersion,
        ModelState = i.ModelState,
    };

    /// <summary>
    /// Runs the app's state model over its launched instances (on the turn that changed them) and applies the result:
    /// records the states, announces each transition in order (demotions first) and sends each instance whose state
    /// changed its callback.
    /// </summary>
    private void AssignModelStates(AppState state)
    {
        var app = state.Applied ?? state.App;
        var launched = state.Instances.Values.Where(i => !i.IsScheduled).ToList();
        var input = launched.Select(i => new ModelInstance
        {
            Id = i.TaskId,
            Live = EndpointSelector.IsLive(app, ToDiscovery(i)),
            Running = i.IsRunning,
            Preferred = i.ConfigVersion == state.ConfigVersion,
            StartedAt = i.StartedAt,
            State = i.ModelState,
            DemotedAt = i.DemotedAt,
        }).ToList();
        var result = StateModelAssigner.Assign(app.StateModel, input, _time.GetUtcNow());

        // Instances that ended since the last assignment leave their state first (a lost leader is announced as gone
        // before its successor is announced as promoted).
        var known = _knownModelStates.GetValueOrDefault(state.Id);
        foreach (var (taskId, previous) in known ?? [])
        {
            if (previous != ModelStates.Offline && !result.States.ContainsKey(taskId))
            {
                PublishTransition(state, new ModelTransition(taskId, previous, ModelStates.Offline, "the instance's task ended"), host: null, version: null);
            }
        }

        _knownModelStates[state.Id] = launched.ToDictionary(i => i.TaskId, i => result.States[i.TaskId].State, StringComparer.Ordinal);
        var changedState = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in launched)
        {
            var assigned = result.States[instance.TaskId];
            if (instance.ModelState != assigned.State || instance.DemotedAt != assigned.DemotedAt)
            {
                if (instance.ModelState != assigned.State)
                {
                    changedState.Add(instance.TaskId);
                }

                instance.ModelState = assigned.State;
                instance.DemotedAt = assigned.DemotedAt;
                _dirtyDiscovery.Add(instance.TaskId);
            }
        }

        foreach (var t in result.Transitions)
        {
            var instance = state.Instances[t.InstanceId];
            PublishTransition(state, t, instance.Agent?.Hostname, instance.AppVersion);
        }

        if (result.States.Values.Any(s => s.DemotedAt is not null))
        {
            _modelPending.Add(state.Id);
        }
        else
        {
            _modelPending.Remove(state.Id);
        }

        if (result.Waiting is { } waiting && app.StateModel is { Type: StateModelTypes.LeaderStandby })
        {
            _modelWaiting[state.Id] = waiting;
        }
        else
        {
            _modelWaiting.Remove(state.Id);
        }

        if (app.StateModel?.CallbackPath is { } path)
        {
            foreach (var instance in launched.Where(i => changedState.Contains(i.TaskId)))
            {
                QueueCallback(state.Id, instance, path, demotion: instance.DemotedAt is not null);
            }
        }
    }

    private void PublishTransition(AppState state, ModelTransition t, string? host, DateTimeOffset? version)
    {
        JsonObject Build() => new()
        {
            ["appId"] = state.IdText,
            ["instanceId"] = t.InstanceId,
            ["taskId"] = t.InstanceId,
            ["from"] = t.From,
            ["to"] = t.To,
            ["reason"] = t.Reason,
            ["host"] = host,
            ["version"] = version is { } v ? AppsJsonWriter.Timestamp(v) : null,
        };
        Events.Publish("instance_model_state_changed_event", Build);
        DiscoveryEvents.Publish("instance_model_state_changed_event", Build);
    }

    // ---- Callbacks ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// Sends <c>POST {callbackPath}</c> with <c>{"state": …, "appId": …, "instanceId": …}</c> to the instance's first
    /// port, after any earlier callback to the same instance (in order), retried with exponential backoff on connection
    /// errors, timeouts and 5xx. A 2xx answer to a demotion confirms it: the next leader may be promoted.
    /// </summary>
    private void QueueCallback(PathId appId, Instance instance, string path, bool demotion)
    {
        if (_callbackHttp is not { } http || _callbackPipeline is not { } pipeline || instance.Ports.Count == 0 || (instance.Ip ?? instance.Agent?.Hostname) is not { } host)
        {
            return;
        }

        var uri = new UriBuilder("http", host, (int)instance.Ports[0], path).Uri;
        var body = new JsonObject { ["state"] = instance.ModelState, ["appId"] = appId.ToString(), ["instanceId"] = instance.TaskId }.ToJsonString(AppsJson.Options);
        var taskId = instance.TaskId;
        var token = _cts.Token;
        lock (_callbackLock)
        {
            var previous = _callbackChains.GetValueOrDefault(taskId) ?? Task.CompletedTask;
            Task next = null!;
            next = Chain();
            _callbackChains[taskId] = next;

            async Task Chain()
            {
                await previous.ConfigureAwait(false);
                var ok = false;
                try
                {
                    using var response = await pipeline.ExecuteAsync(
                        async ct =>
                        {
                            using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                            return await http.PostAsync(uri, content, ct).ConfigureAwait(false);
                        },
                        token).ConfigureAwait(false);
                    ok = response.IsSuccessStatusCode;
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException or Polly.Timeout.TimeoutRejectedException or ObjectDisposedException)
                {
                }

                lock (_callbackLock)
                {
                    if (_callbackChains.GetValueOrDefault(taskId) == next)
                    {
                        _callbackChains.Remove(taskId);
                    }
                }

                if (ok && demotion && !token.IsCancellationRequested)
                {
                    try
                    {
                        await WithGateAsync(() => ConfirmDemotion(appId, taskId)).ConfigureAwait(false);
                    }
                    catch (ObjectDisposedException)
                    {
                    }
                }
            }
        }
    }

    private void ConfirmDemotion(PathId appId, string taskId)
    {
        if (_tasks.TryGetValue(taskId, out var instance) && instance.DemotedAt is not null)
        {
            instance.DemotedAt = null;
            _dirtyDiscovery.Add(taskId);
            _discoveryDirty.Add(appId);
        }
    }

    // ---- Persistence --------------------------------------------------------------------------------------------------

    private void AddDiscoveryChanges(StoreChanges changes)
    {
        foreach (var taskId in _dirtyDiscovery)
        {
            if (_tasks.TryGetValue(taskId, out var i))
            {
                changes.Discovery.Add(new StoredDiscovery { TaskId = taskId, AppId = i.AppId.ToString(), ModelState = i.ModelState, DemotedAt = i.DemotedAt, Ip = i.Ip });
            }
            else
            {
                changes.DeletedDiscovery.Add(taskId);
            }
        }

        _dirtyDiscovery.Clear();
    }

    private void RestoreDiscovery(List<StoredDiscovery> rows)
    {
        foreach (var row in rows)
        {
            if (_tasks.TryGetValue(row.TaskId, out var instance))
            {
                instance.ModelState = row.ModelState;
                instance.DemotedAt = row.DemotedAt;
                instance.Ip = row.Ip;
            }
        }

        _discoveryDirty.UnionWith(_apps.Keys);
    }

    // ---- Environment --------------------------------------------------------------------------------------------------

    /// <summary>
    /// Variables beyond Marathon's basic set (<c>MARATHON_APP_ID</c>, <c>PORT0</c>, …): Marathon's <c>PORT_{NAME}</c>
    /// for named ports, <c>MARATHON_APP_RESOURCE_CPUS/MEM/DISK/GPUS</c>, <c>MARATHON_APP_LABELS</c> and
    /// <c>MARATHON_APP_LABEL_{NAME}</c>; and DatacenterOs' <c>DCOS_DISCOVERY_URL</c> (the discovery API),
    /// <c>DCOS_APP_DISCOVERY_URL</c> (this app's endpoints) and <c>DCOS_STATE_MODEL</c>.
    /// </summary>
    private void AddDiscoveryEnvironment(List<EnvironmentVariableDto> env, AppDefinition app, IReadOnlyList<long> ports)
    {
        var names = EndpointSelector.PortNames(app);
        for (var i = 0; i < ports.Count && i < names.Count; i++)
        {
            if (!names[i].Name.StartsWith("port", StringComparison.Ordinal) || app.PortNames.ElementAtOrDefault(i) is not null)
            {
                env.Add(new EnvironmentVariableDto("PORT_" + EnvName(names[i].Name), ports[i].ToString(CultureInfo.InvariantCulture)));
            }
        }

        env.Add(new EnvironmentVariableDto("MARATHON_APP_RESOURCE_CPUS", app.Cpus.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("MARATHON_APP_RESOURCE_MEM", app.Mem.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("MARATHON_APP_RESOURCE_DISK", app.Disk.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("MARATHON_APP_RESOURCE_GPUS", app.Gpus.ToString(CultureInfo.InvariantCulture)));
        var labels = app.Labels.Where(kv => kv.Key.Length > 0 && kv.Key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && kv.Value.Length <= 512).ToList();
        env.Add(new EnvironmentVariableDto("MARATHON_APP_LABELS", string.Join(' ', labels.Select(kv => EnvName(kv.Key)))));
        foreach (var (key, value) in labels)
        {
            env.Add(new EnvironmentVariableDto("MARATHON_APP_LABEL_" + EnvName(key), value));
        }

        if (_options.Discovery.Url is { } url)
        {
            var baseUrl = url.TrimEnd('/');
            env.Add(new EnvironmentVariableDto("DCOS_DISCOVERY_URL", baseUrl));
            env.Add(new EnvironmentVariableDto("DCOS_APP_DISCOVERY_URL", baseUrl + "/apps" + app.PathId.Canonicalize()));
        }

        env.Add(new EnvironmentVariableDto("DCOS_STATE_MODEL", app.StateModel?.Type ?? StateModelTypes.OnlineOffline));
    }

    private static string EnvName(string name)
    {
        var chars = name.ToUpperInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        return new string(chars);
    }

    private static string? IpOf(OfferDto offer) =>
        offer.Url?.Address.Ip is { Length: > 0 } ip ? ip
        : IPAddress.TryParse(offer.Hostname, out _) ? offer.Hostname
        : null;

    // ---- HTTP ---------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Maps the discovery API: <c>GET /v1/discovery/apps</c> (every app's endpoints),
    /// <c>GET /v1/discovery/apps/{appId}</c> (<c>?modelState=LEADER</c> filters), <c>GET /v1/discovery/services/{name}</c>
    /// (Mesos-DNS's <c>/v1/services</c> shape), <c>GET /v1/discovery/events</c> (server-sent events, starting with a
    /// <c>discovery_snapshot</c>), <c>GET /v1/discovery/haproxy.cfg</c> (the generated configuration) and
    /// <c>GET /v1/discovery/config</c> (the writer's status).
    /// </summary>
    public void MapDiscoveryEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/v1/discovery/apps", (RequestDelegate)DiscoveryAppsAsync);
        endpoints.MapGet("/v1/discovery/apps/{**id}", (RequestDelegate)DiscoveryAppAsync);
        endpoints.MapGet("/v1/discovery/services/{service}", (RequestDelegate)DiscoveryServiceAsync);
        endpoints.MapGet("/v1/discovery/events", (RequestDelegate)DiscoveryEventsAsync);
        endpoints.MapGet("/v1/discovery/haproxy.cfg", (RequestDelegate)(async ctx =>
        {
            var text = await WithGateAsync(() => HaproxyConfig.Render(_published.Values.Select(p => p.Endpoints), _options.Discovery.HaproxyBindAddress), flush: false).ConfigureAwait(false);
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync(text, ctx.RequestAborted).ConfigureAwait(false);
        }));
        endpoints.MapGet("/v1/discovery/config", (RequestDelegate)(ctx =>
        {
            var status = _loadBalancer?.Status;
            var json = new JsonObject
            {
                ["url"] = _options.Discovery.Url,
                ["haproxy"] = status is null ? null : new JsonObject
                {
                    ["path"] = status.Path,
                    ["bindAddress"] = _options.Discovery.HaproxyBindAddress,
                    ["reloadCommand"] = _options.Discovery.ReloadCommand,
                    ["writes"] = status.Writes,
                    ["reloads"] = status.Reloads,
                    ["lastWriteAt"] = status.LastWriteAt is { } at ? AppsJsonWriter.Timestamp(at) : null,
                    ["lastError"] = status.LastError,
                },
            };
            return WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options));
        }));
    }

    private async Task DiscoveryAppsAsync(HttpContext ctx)
    {
        var json = await WithGateAsync(() => "{\"apps\":[" + string.Join(',', _published.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal).Select(p => p.Value.Json)) + "]}", flush: false).ConfigureAwait(false);
        await WriteAsync(ctx, 200, json).ConfigureAwait(false);
    }

    private async Task DiscoveryAppAsync(HttpContext ctx)
    {
        var raw = "/" + (ctx.Request.RouteValues["id"] as string ?? "").Trim('/');
        if (!PathId.IsValid(raw))
        {
            await WriteAsync(ctx, 404, new JsonObject { ["message"] = $"App '{raw}' does not exist" }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
            return;
        }

        var id = PathId.Parse(raw).Canonicalize();
        var modelState = ctx.Request.Query["modelState"].ToString();
        var json = await WithGateAsync(() => _published.TryGetValue(id, out var p) ? p.Json : null, flush: false).ConfigureAwait(false);
        if (json is null)
        {
            await WriteAsync(ctx, 404, NotFound(id)).ConfigureAwait(false);
            return;
        }

        if (modelState.Length > 0)
        {
            var node = JsonNode.Parse(json)!.AsObject();
            var kept = node["endpoints"]!.AsArray().Where(e => string.Equals((string?)e!["modelState"], modelState, StringComparison.OrdinalIgnoreCase)).Select(e => e!.DeepClone()).ToList();
            node["endpoints"] = new JsonArray([.. kept]);
            json = node.ToJsonString(AppsJson.Options);
        }

        await WriteAsync(ctx, 200, json).ConfigureAwait(false);
    }

    private async Task DiscoveryServiceAsync(HttpContext ctx)
    {
        var service = ctx.Request.RouteValues["service"] as string ?? "";
        if (MesosDnsNames.Parse(service) is not { } name)
        {
            await WriteAsync(ctx, 400, new JsonObject
            {
                ["message"] = $"'{service}' is not a service name",
                ["details"] = "expected _{port}._tcp.{app}[.marathon.mesos] or _{app}._tcp[.marathon.mesos], e.g. _http._tcp.web-prod",
            }.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
            return;
        }

        var records = await WithGateAsync(
            () => _published.Where(p => MesosDnsNames.AppLabel(p.Key) == name.AppLabel)
                .SelectMany(p => MesosDnsNames.Records(service, name, p.Value.Endpoints.Endpoints))
                .ToList(),
            flush: false).ConfigureAwait(false);
        if (records.Count == 0)
        {
            records.Add(MesosDnsNames.NotFound);
        }

        var json = new JsonArray([.. records.Select(r => (JsonNode)new JsonObject { ["service"] = r.Service, ["host"] = r.Host, ["ip"] = r.Ip, ["port"] = r.Port })]);
        await WriteAsync(ctx, 200, json.ToJsonString(AppsJson.Options)).ConfigureAwait(false);
    }

    private async Task DiscoveryEventsAsync(HttpContext ctx)
    {
        // Subscribe first, then take the snapshot under the lock: nothing published in between is missed (at worst a
        // change is seen twice, once in the snapshot and once as an event).
        using var subscription = DiscoveryEvents.Subscribe();
        var snapshot = await WithGateAsync(() => "[" + string.Join(',', _published.OrderBy(p => p.Key.ToString(), StringComparer.Ordinal).Select(p => p.Value.Json)) + "]", flush: false).ConfigureAwait(false);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted, _cts.Token);
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/event-stream";
        ctx.Response.Headers.CacheControl = "no-cache";
        try
        {
            var first = new JsonObject
            {
                ["eventType"] = "discovery_snapshot",
                ["timestamp"] = AppsJsonWriter.Timestamp(_time.GetUtcNow()),
                ["apps"] = JsonNode.Parse(snapshot),
            };
            await WriteEventAsync(ctx, first, linked.Token).ConfigureAwait(false);
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
    }

    /// <summary>
    /// An app's discovery document: <c>appId</c>, <c>label</c> (its Mesos-DNS name), <c>stateModel</c>, <c>ports</c>
    /// (name, protocol, servicePort) and <c>endpoints</c> (instanceId, taskId, host, ip, agentId, ports by name,
    /// portList, state, healthy, version, modelState).
    /// </summary>
    private JsonObject DiscoveryAppJson(AppDefinition app, AppEndpoints entry)
    {
        var id = app.PathId.Canonicalize();
        var json = new JsonObject
        {
            ["appId"] = entry.AppId,
            ["label"] = MesosDnsNames.AppLabel(id),
            ["stateModel"] = new JsonObject
            {
                ["type"] = app.StateModel?.Type ?? StateModelTypes.OnlineOffline,
                ["leaders"] = app.StateModel is { Type: StateModelTypes.LeaderStandby } m ? m.Leaders : null,
                ["waiting"] = _modelWaiting.GetValueOrDefault(id),
            },
            ["ports"] = new JsonArray([.. entry.Ports.Select(p => (JsonNode)new JsonObject { ["name"] = p.Name, ["protocol"] = p.Protocol, ["servicePort"] = p.ServicePort })]),
            ["endpoints"] = new JsonArray([.. entry.Endpoints.Select(e =>
            {
                var ports = new JsonObject();
                foreach (var p in e.Ports)
                {
                    ports[p.Name] = p.Port;
                }

                return (JsonNode)new JsonObject
                {
                    ["instanceId"] = e.InstanceId,
                    ["taskId"] = e.InstanceId,
                    ["host"] = e.Host,
                    ["ip"] = e.Ip,
                    ["agentId"] = e.AgentId,
                    ["ports"] = ports,
                    ["portList"] = new JsonArray([.. e.Ports.Select(p => (JsonNode)JsonValue.Create(p.Port))]),
                    ["state"] = e.State,
                    ["healthy"] = e.Healthy,
                    ["version"] = AppsJsonWriter.Timestamp(e.Version),
                    ["modelState"] = e.ModelState,
                };
            })]),
        };
        return json;
    }
}
