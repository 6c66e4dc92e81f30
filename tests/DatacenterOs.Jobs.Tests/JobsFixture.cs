using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent;
using DatacenterOs.Master;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Jobs.Tests;

/// <summary>
/// A real master on loopback HTTP (SQLite registry in a temp dir, system clock), scripted agents (or one real agent
/// running real processes), and the Jobs service on the master's in-process transport with its own web application
/// and jobs.db, driven by a fake clock (schedule logic never waits for the wall clock).
/// </summary>
internal sealed class JobsFixture : IAsyncDisposable
{
    private readonly List<ScriptedAgent> _agents = [];
    private WebApplication? _web;
    private SqliteMasterRegistry? _registry;
    private JobsStore? _store;
    private WebApplication? _jobsWeb;
    private MasterRuntime? _master;

    private JobsFixture(string workDir, DateTimeOffset start)
    {
        WorkDir = workDir;
        Clock = new FakeTimeProvider(start);
    }

    public string WorkDir { get; }

    /// <summary>The clock of the Jobs service (the master and the agents run on the wall clock).</summary>
    public FakeTimeProvider Clock { get; }

    public JobsService Jobs { get; private set; } = null!;

    public IReadOnlyList<ScriptedAgent> Agents => _agents;

    public AgentRuntime? RealAgent { get; private set; }

    /// <summary>Base URL of the Jobs API (its own web application, so the service can be restarted).</summary>
    public Uri Url { get; private set; } = null!;

    public Uri MasterUrl { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static readonly DateTimeOffset DefaultStart = new(2026, 1, 1, 0, 0, 30, TimeSpan.Zero);

    public static async Task<JobsFixture> StartAsync(int agents = 2, DateTimeOffset? start = null)
    {
        var fixture = new JobsFixture(Directory.CreateTempSubdirectory("dcos-jobs-").FullName, start ?? DefaultStart);
        await fixture.StartCoreAsync(agents, realAgent: false);
        return fixture;
    }

    /// <summary>A fixture with one real agent on loopback that runs real processes (no scripted agents), on the wall clock.</summary>
    public static async Task<JobsFixture> StartWithRealAgentAsync()
    {
        var fixture = new JobsFixture(Directory.CreateTempSubdirectory("dcos-jobs-").FullName, DefaultStart);
        await fixture.StartCoreAsync(0, realAgent: true);
        return fixture;
    }

    /// <summary>Stops the Jobs service (the master keeps its tasks) and starts a new one on the same jobs.db.</summary>
    public async Task RestartJobsAsync(Func<Task>? whileStopped = null)
    {
        await StopJobsAsync();
        if (whileStopped is not null)
        {
            await whileStopped();
        }

        await StartJobsAsync();
    }

    private async Task StopJobsAsync()
    {
        await Jobs.DisposeAsync();
        await _jobsWeb!.StopAsync();
        await _jobsWeb.DisposeAsync();
        _store!.Dispose();
    }

    private async Task StartJobsAsync()
    {
        _store = await JobsStore.OpenAsync(Path.Combine(WorkDir, "jobs.db"));
        Jobs = new JobsService(
            JobsService.ConnectOver(_master!.InProcessTransport),
            new JobsOptions { ResubscribeDelay = TimeSpan.FromMilliseconds(200), ReconciliationTimeout = TimeSpan.FromSeconds(3) },
            Clock,
            _store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _jobsWeb = builder.Build();
        Jobs.MapJobsEndpoints(_jobsWeb);
        await _jobsWeb.StartAsync();
        Url = new Uri(_jobsWeb.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await Jobs.StartAsync();
        await WaitUntilAsync(() => Task.FromResult(Jobs.IsConnected && !Jobs.IsReconciling), "jobs subscribed");
    }

    private async Task StartCoreAsync(int agents, bool realAgent)
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
            var agent = new ScriptedAgent($"host-{i}", Kernel.Resources.Parse("cpus:4;mem:4096;disk:10000"), [MasterUrl.GetLeftPart(UriPartial.Authority)]);
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
        await StartJobsAsync();
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

    public async Task<(int Status, JsonNode? Body, string Text, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0)
        {
            body = JsonNode.Parse(text);
        }

        return ((int)response.StatusCode, body, text, response);
    }

    public async Task PostAsync(string kind, string json)
    {
        var (status, _, text, _) = await SendAsync(HttpMethod.Post, "/v1/scheduler/" + kind, json);
        Assert.True(status == 204, $"POST {kind}: {status} {text}");
    }

    public async Task<JsonArray> RunsAsync(string job)
    {
        var (status, body, text, _) = await SendAsync(HttpMethod.Get, $"/v1/scheduler/job/{job}/runs?limit=1000");
        Assert.True(status == 200, $"runs of {job}: {status} {text}");
        return body!.AsArray();
    }

    public async Task<JsonArray> AllJobsAsync()
    {
        var (_, body, _, _) = await SendAsync(HttpMethod.Get, "/v1/scheduler/jobs");
        return body!.AsArray();
    }

    /// <summary>Waits until <paramref name="condition"/> holds over the run histories of <paramref name="jobs"/>.</summary>
    public async Task<Dictionary<string, JsonArray>> WaitForRunsAsync(string[] jobs, Func<Dictionary<string, JsonArray>, bool> condition, string what, int seconds = 30)
    {
        Dictionary<string, JsonArray> last = [];
        try
        {
            await WaitUntilAsync(
                async () =>
                {
                    var runs = new Dictionary<string, JsonArray>();
                    foreach (var job in jobs)
                    {
                        runs[job] = await RunsAsync(job);
                    }

                    last = runs;
                    return condition(runs);
                },
                what,
                seconds);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + ": " + string.Join(" | ", last.Select(kv => kv.Key + "=" + kv.Value.ToJsonString())), e);
        }

        return last;
    }

    public static string State(JsonNode run) => (string)run["state"]!;

    public async Task<JsonNode> MasterStateAsync() => JsonNode.Parse(await Http.GetStringAsync(new Uri(MasterUrl, "/master/state")))!;

    public async ValueTask DisposeAsync()
    {
        await StopJobsAsync();
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
