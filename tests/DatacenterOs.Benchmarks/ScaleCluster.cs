using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Kernel;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// The cluster the scale scenarios share: a real master (SQLite registry, HTTP on a fixed loopback port so it can be
/// restarted in place) and <c>agents</c> simulated agents in this process, each with its own agent protocol stream to
/// the master over loopback HTTP (<see cref="SimulatedAgent"/>: no processes, TASK_RUNNING at once).
/// </summary>
internal sealed class ScaleCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly int _port;
    private readonly TimeSpan _allocationInterval;
    private readonly List<SimulatedAgent> _agents = [];
    private SqlMasterRegistry? _registry;
    private WebApplication? _web;

    private ScaleCluster(string root, int port, TimeSpan allocationInterval, ILoggerFactory loggers)
    {
        _root = root;
        _port = port;
        _allocationInterval = allocationInterval;
        Loggers = loggers;
    }

    /// <summary>The master's base URL (<c>http://127.0.0.1:PORT</c>).</summary>
    public Uri Url => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_port}"));

    /// <summary>The running master, or null between <see cref="StopMasterAsync"/> and <see cref="StartMasterAsync"/>.</summary>
    public MasterRuntime? Master { get; private set; }

    /// <summary>Warnings and errors of the cluster's parts.</summary>
    public ILoggerFactory Loggers { get; }

    /// <summary>The simulated agents.</summary>
    public IReadOnlyList<SimulatedAgent> Agents => _agents;

    /// <summary>Starts a master and <paramref name="agents"/> simulated agents with <paramref name="agentResources"/> each and waits until all registered.</summary>
    public static async Task<ScaleCluster> StartAsync(string name, int agents, string agentResources, TimeSpan allocationInterval, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory($"dcos-{name}-bench-").FullName;
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Error).AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        var cluster = new ScaleCluster(root, FreePort(), allocationInterval, loggers);
        await cluster.StartMasterAsync(cancellationToken).ConfigureAwait(false);
        cluster._agents.AddRange(await StartAgentsAsync(name, cluster.Url, agents, agentResources, cancellationToken).ConfigureAwait(false));
        return cluster;
    }

    /// <summary>
    /// Starts <paramref name="count"/> simulated agents with <paramref name="agentResources"/> each for the master at
    /// <paramref name="master"/> and waits until all registered (10 min at most).
    /// </summary>
    public static async Task<List<SimulatedAgent>> StartAgentsAsync(string name, Uri master, int count, string agentResources, CancellationToken cancellationToken)
    {
        var resources = Resources.Parse(agentResources);
        var url = master.GetLeftPart(UriPartial.Authority);
        var agents = new List<SimulatedAgent>(count);
        for (var i = 0; i < count; i++)
        {
            var agent = new SimulatedAgent($"sim-{i:D5}", resources, [url], TimeProvider.System) { MinBackoff = TimeSpan.FromMilliseconds(200), PassHealthChecks = true };
            agent.Start();
            agents.Add(agent);
        }

        var started = Stopwatch.GetTimestamp();
        while (agents.Any(a => a.AgentId is null))
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromMinutes(10))
            {
                throw new InvalidOperationException($"only {agents.Count(a => a.AgentId is not null)} of {count} simulated agents registered within 10 min");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{name}-detail agents_registered={count} register_s={Stopwatch.GetElapsedTime(started).TotalSeconds:F1}")).ConfigureAwait(false);
        return agents;
    }

    /// <summary>Starts (or restarts, with the same registry and port) the master.</summary>
    public async Task StartMasterAsync(CancellationToken cancellationToken)
    {
        var masterDir = Directory.CreateDirectory(Path.Combine(_root, "master")).FullName;
        _registry = await SqlMasterRegistry.OpenAsync(masterDir, () => "bench-" + Guid.NewGuid().ToString("N")[..8], cancellationToken).ConfigureAwait(false);
        Master = await MasterRuntime.StartAsync(new MasterOptions { WorkDir = masterDir, AllocationInterval = _allocationInterval }, _registry, TimeProvider.System, Loggers, cancellationToken).ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(Url.GetLeftPart(UriPartial.Authority));
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxConcurrentConnections = null);
        _web = builder.Build();
        Master.MapEndpoints(_web);
        await _web.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the master as a crash would look to agents and frameworks: their streams drop; the registry stays on disk.</summary>
    public async Task StopMasterAsync()
    {
        if (_web is not null)
        {
            await _web.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _web.DisposeAsync().ConfigureAwait(false);
            _web = null;
        }

        if (Master is not null)
        {
            await Master.DisposeAsync().ConfigureAwait(false);
            Master = null;
        }

        _registry?.Dispose();
        _registry = null;
    }

    /// <summary>This process's resident set, in MiB.</summary>
    public static double RssMiB()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.WorkingSet64 / (1024.0 * 1024.0);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(_agents, async (agent, _) => await agent.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);
        await StopMasterAsync().ConfigureAwait(false);
        Loggers.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
