using System.Text.Json.Nodes;
using DatacenterOs.Agent;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;

namespace DatacenterOs.Apps.Tests;

/// <summary>
/// A real master on loopback HTTP (SQLite registry in a temp dir, system clock), simulated agents, the Apps service on
/// the master's in-process transport and the /v2 API on the same web application.
/// </summary>
internal sealed class AppsFixture : IAsyncDisposable
{
    private readonly List<SimulatedAgent> _agents = [];
    private LoopbackCluster? _cluster;
    private AppsStore? _store;
    private WebApplication? _appsWeb;
    private int _ids;

    private AppsFixture(string workDir) => WorkDir = workDir;

    /// <summary>Discovery settings of the Apps service (defaults when null).</summary>
    public DiscoveryOptions? Discovery { get; init; }

    /// <summary>The simulated agents, in start order (host names <c>host-0</c>, …).</summary>
    public IReadOnlyList<SimulatedAgent> Agents => _agents;

    public string WorkDir { get; }

    public AppsService Apps { get; private set; } = null!;

    /// <summary>Base URL of the Apps /v2 API (its own web application, so the service can be restarted).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Base URL of the master.</summary>
    public Uri MasterUrl { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<AppsFixture> StartAsync(int agents = 3, TimeSpan? agentReregisterTimeout = null)
    {
        var fixture = new AppsFixture(Directory.CreateTempSubdirectory("dcos-apps-").FullName);
        await fixture.StartCoreAsync(agents, agentReregisterTimeout: agentReregisterTimeout);
        return fixture;
    }

    /// <summary>A fixture with one real agent on loopback that runs real processes (no simulated agents).</summary>
    public static async Task<AppsFixture> StartWithRealAgentAsync(DiscoveryOptions? discovery = null)
    {
        var fixture = new AppsFixture(Directory.CreateTempSubdirectory("dcos-apps-").FullName) { Discovery = discovery };
        await fixture.StartCoreAsync(0, realAgent: true);
        return fixture;
    }

    /// <summary>The real agent, when started with <see cref="StartWithRealAgentAsync"/>.</summary>
    public AgentRuntime? RealAgent => _cluster?.RealAgent;

    /// <summary>Stops the Apps service (the master keeps its tasks) and starts a new one on the same apps.db.</summary>
    public async Task RestartAppsAsync(Action? whileStopped = null)
    {
        await StopAppsAsync();
        whileStopped?.Invoke();
        await StartAppsAsync();
    }

    private async Task StopAppsAsync()
    {
        await Apps.DisposeAsync();
        await _appsWeb!.StopAsync();
        await _appsWeb.DisposeAsync();
        _store!.Dispose();
    }

    private async Task StartAppsAsync()
    {
        _store = await AppsStore.OpenAsync(Path.Combine(WorkDir, "apps.db"));
        Apps = new AppsService(
            AppsService.ConnectOver(_cluster!.Master.InProcessTransport),
            new AppsOptions { ResubscribeDelay = TimeSpan.FromMilliseconds(200), ReconciliationTimeout = TimeSpan.FromSeconds(3), Discovery = Discovery ?? new DiscoveryOptions() },
            TimeProvider.System,
            () => "t" + Interlocked.Increment(ref _ids).ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
            _store);
        (_appsWeb, Url) = await LoopbackCluster.StartWebAsync(Apps.MapAppsEndpoints);
        await Apps.StartAsync();
        await WaitUntilAsync(() => Task.FromResult(Apps.IsConnected), "apps subscribed");
    }

    private async Task StartCoreAsync(int agents, bool realAgent = false, TimeSpan? agentReregisterTimeout = null)
    {
        _cluster = await LoopbackCluster.StartAsync(WorkDir, realAgent, agentReregisterTimeout);
        MasterUrl = _cluster.MasterUrl;
        for (var i = 0; i < agents; i++)
        {
            var agent = new SimulatedAgent($"host-{i}", Kernel.Resources.Parse("cpus:4;mem:4096;ports:[31000-31100]"), [_cluster.MasterAuthority]);
            agent.Start();
            _agents.Add(agent);
        }

        await WaitUntilAsync(() => Task.FromResult(_agents.All(a => a.AgentId is not null)), "agents registered");
        await StartAppsAsync();
    }

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30) => LoopbackCluster.WaitUntilAsync(condition, what, seconds);

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        var (status, body, _, response) = await LoopbackCluster.SendAsync(Http, method, new Uri(Url, path), json);
        return (status, body, response);
    }

    public async Task<JsonNode> GetAppAsync(string id)
    {
        var (status, body, _) = await SendAsync(HttpMethod.Get, "/v2/apps" + id);
        Assert.Equal(200, status);
        return body!["app"]!;
    }

    /// <summary>Waits until the app has <paramref name="instances"/> running tasks, no other task and no deployment.</summary>
    public async Task WaitForStableAsync(string id, int instances, Func<JsonNode, bool>? extra = null)
    {
        JsonNode? last = null;
        try
        {
            await WaitUntilAsync(
            async () =>
            {
                var app = await GetAppAsync(id);
                last = app;
                return (int)app["tasksRunning"]! == instances
                    && app["tasks"]!.AsArray().Count == instances
                    && app["deployments"]!.AsArray().Count == 0
                    && (extra is null || extra(app));
            },
            $"{id} to run {instances} instances");
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + ": " + last?.ToJsonString(), e);
        }
    }

    /// <summary><c>GET /master/state</c> of the master.</summary>
    public async Task<JsonNode> MasterStateAsync()
    {
        var text = await Http.GetStringAsync(new Uri(MasterUrl, "/master/state"));
        return JsonNode.Parse(text)!;
    }

    private readonly HashSet<SimulatedAgent> _stopped = [];

    /// <summary>Stops the simulated agent <paramref name="hostname"/> as if its machine were lost.</summary>
    public async Task StopAgentAsync(string hostname)
    {
        var agent = _agents[int.Parse(hostname["host-".Length..], System.Globalization.CultureInfo.InvariantCulture)];
        _stopped.Add(agent);
        await agent.DisposeAsync();
    }

    public static List<string> TaskIds(JsonNode app) => [.. app["tasks"]!.AsArray().Select(t => (string)t!["id"]!)];

    public async ValueTask DisposeAsync()
    {
        if (RealAgent is not null)
        {
            // Kill the real processes the test left running before the agent stops.
            foreach (var app in (await SendAsync(HttpMethod.Get, "/v2/apps")).Body?["apps"]?.AsArray() ?? [])
            {
                await SendAsync(HttpMethod.Delete, "/v2/apps" + (string)app!["id"]! + "?force=true");
            }

            await WaitUntilAsync(
                async () => !(await MasterStateAsync())["frameworks"]!.AsArray().SelectMany(fw => fw!["tasks"]!.AsArray()).Any(),
                "tasks killed");
        }

        await StopAppsAsync();
        foreach (var agent in _agents)
        {
            if (!_stopped.Contains(agent))
            {
                await agent.DisposeAsync();
            }
        }

        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        Http.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Reads <c>/v2/events</c> over HTTP in the background and keeps every event received.</summary>
internal sealed class EventRecorder : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<JsonObject> _events = [];
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _run;

    public static async Task<EventRecorder> StartAsync(AppsFixture fixture, string query = "")
    {
        var recorder = new EventRecorder();
        recorder._run = recorder.RunAsync(fixture.Http, new Uri(fixture.Url, "/v2/events" + query));
        await recorder._attached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return recorder;
    }

    public List<JsonObject> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public List<JsonObject> OfType(string eventType) => [.. Events.Where(e => (string?)e["eventType"] == eventType)];

    private async Task RunAsync(HttpClient http, Uri uri)
    {
        try
        {
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_cts.Token));
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    continue;
                }

                var evt = JsonNode.Parse(line["data: ".Length..])!.AsObject();
                if ((string?)evt["eventType"] == "event_stream_attached")
                {
                    _attached.TrySetResult();
                }

                lock (_events)
                {
                    _events.Add(evt);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        _cts.Dispose();
    }
}
