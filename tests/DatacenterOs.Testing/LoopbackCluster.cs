using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Testing;

/// <summary>
/// A real master on loopback HTTP for framework tests: SQLite registry in <see cref="WorkDir"/>, system clock, 100 ms
/// allocation interval, optionally one real agent running real processes. Frameworks and their agents are added by the
/// test fixture (<see cref="StartWebAsync"/> serves a framework's API on its own port so it can be restarted).
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    private WebApplication? _web;
    private SqlMasterRegistry? _registry;

    private LoopbackCluster(string workDir) => WorkDir = workDir;

    /// <summary>Directory of the registry, the real agent and whatever the fixture keeps.</summary>
    public string WorkDir { get; }

    /// <summary>The master.</summary>
    public MasterRuntime Master { get; private set; } = null!;

    /// <summary>Base URL of the master, e.g. <c>http://127.0.0.1:40123/</c>.</summary>
    public Uri MasterUrl { get; private set; } = null!;

    /// <summary>The master URL as agents take it (<c>http://host:port</c>).</summary>
    public string MasterAuthority => MasterUrl.GetLeftPart(UriPartial.Authority);

    /// <summary>The real agent, when started with one.</summary>
    public AgentRuntime? RealAgent { get; private set; }

    /// <summary>Starts the master (and a real agent with <c>cpus:4;mem:4096;disk:10000;ports:[32000-32200]</c>).</summary>
    /// <param name="workDir">Directory of the registry and the real agent.</param>
    /// <param name="realAgent">Also start one real agent.</param>
    /// <param name="agentReregisterTimeout">
    /// How long the master waits for a disconnected agent before its tasks are lost (the master's default, 75 s, when null).
    /// </param>
    public static async Task<LoopbackCluster> StartAsync(string workDir, bool realAgent = false, TimeSpan? agentReregisterTimeout = null)
    {
        var cluster = new LoopbackCluster(workDir);
        var options = new MasterOptions { WorkDir = workDir, AllocationInterval = TimeSpan.FromMilliseconds(100) };
        if (agentReregisterTimeout is { } timeout)
        {
            options = options with { AgentReregisterTimeout = timeout };
        }

        cluster._registry = await SqlMasterRegistry.OpenAsync(workDir, () => "test-" + Guid.NewGuid().ToString("N")[..8], CancellationToken.None);
        cluster.Master = await MasterRuntime.StartAsync(options, cluster._registry, TimeProvider.System, Loggers(), CancellationToken.None);
        (cluster._web, cluster.MasterUrl) = await StartWebAsync(cluster.Master.MapEndpoints);
        if (realAgent)
        {
            cluster.RealAgent = new AgentRuntime(
                new AgentOptions
                {
                    WorkDir = Path.Combine(workDir, "agent"),
                    MasterUrls = [cluster.MasterAuthority],
                    Hostname = "127.0.0.1",
                    ListenAddress = "127.0.0.1",
                    Port = 0,
                    ResourcesText = "cpus:4;mem:4096;disk:10000;ports:[32000-32200]",
                    MemoryCgroupRoot = null,

                    // Chronos jobs default to runAsUser root; the test agent lets them (dcosd needs --allow-root-tasks).
                    AllowRootTasks = true,
                },
                TimeProvider.System,
                Loggers());
            await cluster.RealAgent.StartAsync(CancellationToken.None);
            await WaitUntilAsync(() => Task.FromResult(cluster.RealAgent.IsSubscribed && cluster.RealAgent.AgentId is not null), "real agent registered");
        }

        return cluster;
    }

    /// <summary>A web application on a free loopback port with the endpoints <paramref name="map"/> adds, started.</summary>
    public static async Task<(WebApplication Web, Uri Url)> StartWebAsync(Action<WebApplication> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        map(web);
        await web.StartAsync();
        return (web, new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
    }

    /// <summary>Polls <paramref name="condition"/> every 50 ms on the wall clock.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="seconds"/>.</exception>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 30)
    {
        ArgumentNullException.ThrowIfNull(condition);
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

    /// <summary>Sends <paramref name="json"/> (if any) and reads the answer; the body is parsed when it is JSON.</summary>
    public static async Task<(int Status, JsonNode? Body, string Text, HttpResponseMessage Response)> SendAsync(HttpClient http, HttpMethod method, Uri url, string? json = null, string? accept = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        using var request = new HttpRequestMessage(method, url);
        if (json is not null)
        {
            request.Content = new StringContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (accept is not null)
        {
            request.Headers.Accept.ParseAdd(accept);
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (response.Content.Headers.ContentType?.MediaType == "application/json" && text.Length > 0)
        {
            body = JsonNode.Parse(text);
        }

        return ((int)response.StatusCode, body, text, response);
    }

    /// <summary>Stops the real agent (its processes keep running), the master and its web application.</summary>
    public async ValueTask DisposeAsync()
    {
        if (RealAgent is not null)
        {
            await RealAgent.StopAsync(CancellationToken.None);
            await RealAgent.DisposeAsync();
        }

        if (Master is not null)
        {
            await Master.DisposeAsync();
        }

        if (_web is not null)
        {
            await _web.StopAsync();
            await _web.DisposeAsync();
        }

        _registry?.Dispose();
    }

    private static ILoggerFactory Loggers() => LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
}
