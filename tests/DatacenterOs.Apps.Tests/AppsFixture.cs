using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Apps.Tests;

/// <summary>
/// A real master on loopback HTTP (SQLite registry in a temp dir, system clock), simulated agents, the Apps service on
/// the master's in-process transport and the /v2 API on the same web application.
/// </summary>
internal sealed class AppsFixture : IAsyncDisposable
{
    private readonly List<SimulatedAgent> _agents = [];
    private WebApplication? _web;
    private SqliteMasterRegistry? _registry;
    private AppsStore? _store;
    private WebApplication? _appsWeb;
    private MasterRuntime? _master;
    private int _ids;

    private AppsFixture(string workDir) => WorkDir = workDir;

    public string WorkDir { get; }

    public AppsService Apps { get; private set; } = null!;

    /// <summary>Base URL of the Apps /v2 API (its own web application, so the service can be restarted).</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Base URL of the master.</summary>
    public Uri MasterUrl { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<AppsFixture> StartAsync(int agents = 3)
    {
        var fixture = new AppsFixture(Directory.CreateTempSubdirectory("dcos-apps-").FullName);
        await fixture.StartCoreAsync(agents);
        return fixture;
    }

    /// <summary>A fixture with one real agent on loopback that runs real processes (no simulated agents).</summary>
    public static async Task<AppsFixture> StartWithRealAgentAsync()
    {
        var fixture = new AppsFixture(Directory.CreateTempSubdirectory("dcos-apps-").FullName);
        await fixture.StartCoreAsync(0, realAgent: true);
        return fixture;
    }

    /// <summary>The real agent, when started with <see cref="StartWithRealAgentAsync"/>.</summary>
    public AgentRuntime? RealAgent { get; private set; }

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
            AppsService.ConnectOver(_master!.InProcessTransport),
            new AppsOptions { ResubscribeDelay = TimeSpan.FromMilliseconds(200), ReconciliationTimeout = TimeSpan.FromSeconds(3) },
            TimeProvider.System,
            () => "t" + Interlocked.Increment(ref _ids).ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
            _store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _appsWeb = builder.Build();
        Apps.MapAppsEndpoints(_appsWeb);
        await _appsWeb.StartAsync();
        Url = new Uri(_appsWeb.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await Apps.StartAsync();
        await WaitUntilAsync(() => Task.FromResult(Apps.IsConnected), "apps subscribed");
    }

    private async Task StartCoreAsync(int agents, bool realAgent = false)
    {
        var options = new MasterOptions { WorkDir = WorkDir, AllocationInterval = TimeSpan.FromMilliseconds(100) };
        _registry = await SqliteMasterRegistry.OpenAsync(WorkDir, () => "test-" + Guid.NewGuid().ToString("N")[..8], CancellationToken.None);
        _master = await MasterRuntime.StartAsync(options, _registry, TimeProvider.System, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)), CancellationToken.None);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _web = builder.Build();
        _master.MapEndpoints(_web);
        await _web.StartAsync();
        MasterUrl = new Uri(_web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        for (var i = 0; i < agents; i++)
        {
            var agent = new SimulatedAgent($"host-{i}", Kernel.Resources.Parse("cpus:4;mem:4096;ports:[31000-31100]"), [MasterUrl.GetLeftPart(UriPartial.Authority)]);
            agent.Start();
            _agents.Add(agent);
        }

        if (realAgent)
        {
            RealAgent = new AgentRuntime(
                new AgentOptions
                {
                    WorkDir = Path.Combine(WorkDir, "agent"),
                    MasterUrls = [MasterUrl.GetLeftPart(UriPartial.Authority)],
                    Hostname = "127.0.0.1",
                    ListenAddress = "127.0.0.1",
                    Port = 0,
                    ResourcesText = "cpus:4;mem:4096;disk:10000;ports:[32000-32200]",
                    MemoryCgroupRoot = null,
                },
                TimeProvider.System,
                LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)));
            await RealAgent.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => Task.FromResult(RealAgent.IsSubscribed && RealAgent.AgentId is not null), "real agent registered");
        }

        await WaitUntilAsync(() => Task.FromResult(_agents.All(a => a.AgentId is not null)), "agents registered");
        await StartAppsAsync();
    }

    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!await condition())
        {
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(50);
        }
    }

    public async Task<(int Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0)
        {
            body = JsonNode.Parse(text);
        }

        return ((int)response.StatusCode, body, response);
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
            await agent.DisposeAsync();
        }

        if (RealAgent is not null)
        {
            await RealAgent.StopAsync(CancellationToken.None);
            await RealAgent.DisposeAsync();
        }

        if (_master is not null)
        {
            await _master.DisposeAsync();
        }

        if (_web is not null)
        {
            await _web.StopAsync();
            await _web.DisposeAsync();
        }

        _registry?.Dispose();
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
