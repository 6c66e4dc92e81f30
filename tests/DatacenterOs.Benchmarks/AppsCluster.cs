using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Apps;
using DatacenterOs.Kernel;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// A standalone cluster in this process for the Apps scenarios: master (200 ms allocation interval), simulated agents
/// (health checks pass at once), Apps with its SQLite store, and the master and <c>/v2</c> APIs on loopback HTTP.
/// </summary>
internal sealed class AppsCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly ILoggerFactory _loggers;
    private readonly SqlMasterRegistry _registry;
    private readonly MasterRuntime _master;
    private readonly AppsStore _store;
    private readonly AppsService _service;
    private readonly WebApplication _web;
    private readonly List<SimulatedAgent> _agents = [];

    private AppsCluster(string root, ILoggerFactory loggers, SqlMasterRegistry registry, MasterRuntime master, AppsStore store, AppsService service, WebApplication web, Uri url)
    {
        _root = root;
        _loggers = loggers;
        _registry = registry;
        _master = master;
        _store = store;
        _service = service;
        _web = web;
        Http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
    }

    /// <summary>A client with the cluster's base address.</summary>
    public HttpClient Http { get; }

    /// <summary>Starts everything; <paramref name="perAgent"/> is the cpus of each agent (mem 64 MiB per cpu).</summary>
    public static async Task<AppsCluster> StartAsync(string name, int agents, int perAgent, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory($"dcos-{name}-bench-").FullName;
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        var registry = await SqlMasterRegistry.OpenAsync(Path.Combine(root, "master"), () => "bench-" + Guid.NewGuid().ToString("N")[..8], cancellationToken).ConfigureAwait(false);
        var master = await MasterRuntime.StartAsync(new MasterOptions { WorkDir = Path.Combine(root, "master"), AllocationInterval = TimeSpan.FromMilliseconds(200) }, registry, TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
        var store = await AppsStore.OpenAsync(Path.Combine(root, "apps.db"), null, cancellationToken).ConfigureAwait(false);
        var service = new AppsService(AppsService.ConnectOver(master.InProcessTransport), new AppsOptions(), TimeProvider.System, store: store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        master.MapEndpoints(web);
        service.MapAppsEndpoints(web);
        await web.StartAsync(cancellationToken).ConfigureAwait(false);
        var url = new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var cluster = new AppsCluster(root, loggers, registry, master, store, service, web, url);
        for (var i = 0; i < agents; i++)
        {
            var agent = new SimulatedAgent($"sim-{i}", Resources.Parse(string.Create(CultureInfo.InvariantCulture, $"cpus:{perAgent};mem:{perAgent * 64};ports:[10000-60000]")), [url.GetLeftPart(UriPartial.Authority)], TimeProvider.System) { PassHealthChecks = true };
            agent.Start();
            cluster._agents.Add(agent);
        }

        while (cluster._agents.Any(a => a.AgentId is null))
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        await service.StartAsync(cancellationToken).ConfigureAwait(false);
        return cluster;
    }

    /// <summary>POSTs <paramref name="body"/> as JSON; throws on a non-2xx answer.</summary>
    public async Task PostAsync(string path, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await Http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        }
    }

    /// <summary>Polls <c>/v2/deployments</c> every 20 ms until it is empty.</summary>
    public async Task WaitForNoDeploymentsAsync(CancellationToken cancellationToken)
    {
        while (JsonNode.Parse(await Http.GetStringAsync(new Uri("/v2/deployments", UriKind.Relative), cancellationToken).ConfigureAwait(false))!.AsArray().Count > 0)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _service.DisposeAsync().ConfigureAwait(false);
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync().ConfigureAwait(false);
        }

        await _master.DisposeAsync().ConfigureAwait(false);
        await _web.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _web.DisposeAsync().ConfigureAwait(false);
        _store.Dispose();
        _registry.Dispose();
        _loggers.Dispose();
        Http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
