using System.Text.Json.Nodes;
using DatacenterOs.Agent;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;

namespace DatacenterOs.Jobs.Tests;

/// <summary>
/// A real master on loopback HTTP (SQLite registry in a temp dir, system clock), scripted agents (or one real agent
/// running real processes), and the Jobs service on the master's in-process transport with its own web application
/// and jobs.db, driven by a fake clock (schedule logic never waits for the wall clock).
/// </summary>
internal sealed class JobsFixture : IAsyncDisposable
{
    private readonly List<ScriptedAgent> _agents = [];
    private LoopbackCluster? _cluster;
    private JobsStore? _store;
    private WebApplication? _jobsWeb;

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

    public AgentRuntime? RealAgent => _cluster?.RealAgent;

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
            JobsService.ConnectOver(_cluster!.Master.InProcessTransport),
            new JobsOptions { ResubscribeDelay = TimeSpan.FromMilliseconds(200), ReconciliationTimeout = TimeSpan.FromSeconds(3) },
            Clock,
            _store);
        (_jobsWeb, Url) = await LoopbackCluster.StartWebAsync(Jobs.MapJobsEndpoints);
        await Jobs.StartAsync();
        await WaitUntilAsync(() => Task.FromResult(Jobs.IsConnected && !Jobs.IsReconciling), "jobs subscribed");
    }

    private async Task StartCoreAsync(int agents, bool realAgent)
    {
        _cluster = await LoopbackCluster.StartAsync(WorkDir, realAgent);
        MasterUrl = _cluster.MasterUrl;
        for (var i = 0; i < agents; i++)
        {
            var agent = new ScriptedAgent($"host-{i}", Kernel.Resources.Parse("cpus:4;mem:4096;disk:10000"), [_cluster.MasterAuthority]);
            agent.Start();
            _agents.Add(agent);
        }

        await WaitUntilAsync(() => Task.FromResult(_agents.All(a => a.AgentId is not null)), "agents registered");
        await StartJobsAsync();
    }

    public static Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30) => LoopbackCluster.WaitUntilAsync(condition, what, seconds);

    public Task<(int Status, JsonNode? Body, string Text, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path, string? json = null, string? accept = null) =>
        LoopbackCluster.SendAsync(Http, method, new Uri(Url, path), json, accept);

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
