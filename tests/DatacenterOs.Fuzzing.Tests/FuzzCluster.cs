using DatacenterOs.Agent.Simulation;
using DatacenterOs.Apps;
using DatacenterOs.Jobs;
using DatacenterOs.Master;
using DatacenterOs.Security;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Fuzzing.Tests;

/// <summary>
/// A live standalone cluster in this process, wired as dcosd wires it (master, Apps and Jobs on one loopback port
/// behind the same request limits), with simulated agents instead of real processes.
/// </summary>
internal sealed class FuzzCluster : IAsyncDisposable
{
    private readonly List<SimulatedAgent> _agents = [];
    private SqlMasterRegistry? _registry;
    private AppsStore? _appsStore;
    private JobsStore? _jobsStore;
    private WebApplication? _web;

    public MasterRuntime Master { get; private set; } = null!;

    public AppsService Apps { get; private set; } = null!;

    public JobsService Jobs { get; private set; } = null!;

    public Uri Url { get; private set; } = null!;

    public static async Task<FuzzCluster> StartAsync(string workDir, int agents)
    {
        var c = new FuzzCluster();
        using var loggers = LoggerFactory.Create(_ => { });
        c._registry = await SqlMasterRegistry.OpenAsync(workDir, () => "fz" + Guid.NewGuid().ToString("N")[..8], CancellationToken.None);
        c.Master = await MasterRuntime.StartAsync(new MasterOptions { WorkDir = workDir, AllocationInterval = TimeSpan.FromMilliseconds(200) }, c._registry, TimeProvider.System, loggers, CancellationToken.None);
        c._appsStore = await AppsStore.OpenAsync(Path.Combine(workDir, "apps.db"));
        c.Apps = new AppsService(AppsService.ConnectOver(c.Master.InProcessTransport), new AppsOptions(), TimeProvider.System, store: c._appsStore);
        c._jobsStore = await JobsStore.OpenAsync(Path.Combine(workDir, "jobs.db"));
        c.Jobs = new JobsService(JobsService.ConnectOver(c.Master.InProcessTransport), new JobsOptions(), TimeProvider.System, c._jobsStore);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddDatacenterOsSecurity(new SecurityOptions());
        c._web = builder.Build();
        c._web.UseDatacenterOsSecurity();
        c.Master.MapEndpoints(c._web);
        c.Apps.MapAppsEndpoints(c._web);
        c.Jobs.MapJobsEndpoints(c._web);
        await c._web.StartAsync();
        c.Url = new Uri(c._web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        await c.Apps.StartAsync();
        await c.Jobs.StartAsync();
        for (var i = 0; i < agents; i++)
        {
            var agent = new SimulatedAgent($"fuzz-{i}", Kernel.Resources.Parse("cpus:64;mem:262144;disk:1000000;ports:[31000-32000]"), [c.Url.GetLeftPart(UriPartial.Authority)]);
            agent.Start();
            c._agents.Add(agent);
        }

        await LoopbackCluster.WaitUntilAsync(() => Task.FromResult(c.Apps.IsConnected && c.Jobs.IsConnected && c._agents.All(a => a.AgentId is not null)), "frameworks and agents connected", 60);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await Apps.DisposeAsync();
        await Jobs.DisposeAsync();
        await Master.DisposeAsync();
        if (_web is not null)
        {
            await _web.StopAsync();
            await _web.DisposeAsync();
        }

        _registry?.Dispose();
        _appsStore?.Dispose();
        _jobsStore?.Dispose();
    }
}
