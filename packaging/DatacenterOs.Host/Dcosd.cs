using System.Net.Sockets;
using System.Runtime.InteropServices;
using DatacenterOs.Agent;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Apps;
using DatacenterOs.Jobs;
using DatacenterOs.Kernel;
using DatacenterOs.Master;
using DatacenterOs.Security;
using DatacenterOs.Web;

namespace DatacenterOs.Host;

/// <summary>Which parts a <c>dcosd</c> process runs.</summary>
internal enum HostMode
{
    Standalone,
    Master,
    Agent,
}

/// <summary>Parsed command line of <c>dcosd</c>.</summary>
internal sealed record HostSettings
{
    public HostMode Mode { get; init; }

    public string Listen { get; init; } = "http://127.0.0.1:5050";

    public string WorkDir { get; init; } = "./.dcos";

    public int AgentPort { get; init; } = 5051;

    public string? Resources { get; init; }

    public string? Attributes { get; init; }

    public string? SecretFile { get; init; }

    public string Masters { get; init; } = "";

    public string? Hostname { get; init; }

    public string? AdvertiseIp { get; init; }

    public double AllocationIntervalSeconds { get; init; } = 1;

    public double OfferTimeoutSeconds { get; init; } = 60;

    public int SimulatedAgents { get; init; }

    public string DockerEndpoint { get; init; } = "unix:///var/run/docker.sock";

    public bool DockerAllowPrivileged { get; init; }

    public string SimulatedResources { get; init; } = "cpus:8;mem:16384;disk:100000;ports:[31000-32000]";

    public string? DiscoveryHaproxyConfig { get; init; }

    public string DiscoveryHaproxyBind { get; init; } = "0.0.0.0";

    public string? DiscoveryReloadCommand { get; init; }

    public string? DiscoveryUrl { get; init; }

    public string? AuthFile { get; init; }

    public int WriteRateLimit { get; init; } = 50;

    public bool AllowRootTasks { get; init; }

    public string TaskUser { get; init; } = "nobody";
}

/// <summary>Starts the parts of DatacenterOs a mode asks for and runs until Ctrl+C.</summary>
internal static class Dcosd
{
    public static async Task<int> RunAsync(HostSettings settings, CancellationToken cancellationToken)
    {
        // Stop on Ctrl+C and SIGTERM (systemd, docker stop): tasks keep running, state is kept.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            Console.Error.WriteLine($"dcosd: {context.Signal}, stopping (tasks keep running)");
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            return await RunCoreAsync(settings, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or FormatException or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            var message = e is IOException { InnerException: SocketException } or SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
                ? $"cannot listen: {e.Message}"
                : e.Message;
            await Console.Error.WriteLineAsync($"dcosd: {message}").ConfigureAwait(false);
            return 1;
        }
    }

    private static async Task<int> RunCoreAsync(HostSettings settings, CancellationToken cancellationToken)
    {
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        }).SetMinimumLevel(LogLevel.Information).AddFilter("Microsoft", LogLevel.Warning));
        var secret = settings.SecretFile is null ? null : (await File.ReadAllTextAsync(settings.SecretFile, cancellationToken).ConfigureAwait(false)).Trim();

        // With authentication on, the standalone's own agent needs a secret too: a random one unless given.
        secret ??= settings.Mode == HostMode.Standalone && settings.AuthFile is not null ? SecretHasher.NewToken() : null;
        var workDir = Path.GetFullPath(settings.WorkDir);
        Directory.CreateDirectory(workDir);

        WebApplication? app = null;
        MasterRuntime? master = null;
        SqliteMasterRegistry? registry = null;
        AppsStore? appsStore = null;
        AppsService? apps = null;
        JobsStore? jobsStore = null;
        JobsService? jobs = null;
        AgentRuntime? agent = null;
        var simulated = new List<SimulatedAgent>();
        try
        {
            if (settings.Mode is HostMode.Standalone or HostMode.Master)
            {
                if (!Uri.TryCreate(settings.Listen, UriKind.Absolute, out var listen) || listen.Scheme != "http")
                {
                    throw new FormatException($"--listen '{settings.Listen}' is not an http:// URL");
                }

                // Authentication is optional only on loopback: whoever reaches the API runs commands on the agents.
                var internalToken = SecretHasher.NewToken();
                var auth = settings.AuthFile is null ? null : AuthStore.Load(settings.AuthFile, secret, internalToken);
                if (auth is null && !SecurityWiring.IsLoopback(listen))
                {
                    throw new InvalidOperationException($"refusing to listen on {listen.GetLeftPart(UriPartial.Authority)} without authentication: pass --auth-file FILE (principals with hashed secrets; see README, Security) or listen on 127.0.0.1");
                }

                registry = await SqliteMasterRegistry.OpenAsync(workDir, static () => Guid.NewGuid().ToString("N")[..12], cancellationToken).ConfigureAwait(false);
                var options = new MasterOptions
                {
                    WorkDir = workDir,
                    AgentSecret = secret,
                    AllocationInterval = TimeSpan.FromSeconds(settings.AllocationIntervalSeconds),
                    OfferTimeout = TimeSpan.FromSeconds(settings.OfferTimeoutSeconds),
                };
                master = await MasterRuntime.StartAsync(options, registry, TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
                var builder = WebApplication.CreateSlimBuilder();
                builder.Logging.ClearProviders();

                // Only errors from the web stack (an unhandled exception behind a 500 must reach the operator's log).
                builder.Logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss ";
                }).SetMinimumLevel(LogLevel.Error);
                builder.WebHost.UseUrls(listen.GetLeftPart(UriPartial.Authority));

                // The web dashboard (Blazor Server at /, SignalR hub at /hubs/cluster) calls this process's APIs.
                builder.WebHost.UseDatacenterOsWebAssets();
                if (auth is not null)
                {
                    builder.Services.AddSingleton<DatacenterOs.Web.Backend.IDashboardPermissions>(new GrantsDashboardPermissions(auth));
                }

                builder.Services.AddDatacenterOsWeb(new Uri(listen.GetLeftPart(UriPartial.Authority)), Path.Combine(workDir, "web-keys"), auth is null ? null : internalToken);
                builder.Services.AddDatacenterOsSecurity(new SecurityOptions { Auth = auth, WritesPerSecond = settings.WriteRateLimit, WriteBurst = Math.Max(1, settings.WriteRateLimit * 4), JobOwner = name => jobs?.OwnerOf(name) });
                app = builder.Build();
                app.UseDatacenterOsSecurity();
                master.MapEndpoints(app);

                // Apps (Marathon /v2) on the same port, subscribed over the in-process transport, state in apps.db.
                appsStore = await AppsStore.OpenAsync(Path.Combine(workDir, "apps.db"), null, cancellationToken).ConfigureAwait(false);
                var discovery = new DiscoveryOptions
                {
                    Url = settings.DiscoveryUrl ?? listen.GetLeftPart(UriPartial.Authority) + "/v1/discovery",
                    HaproxyConfigPath = settings.DiscoveryHaproxyConfig,
                    HaproxyBindAddress = settings.DiscoveryHaproxyBind,
                    ReloadCommand = settings.DiscoveryReloadCommand,
                };
                apps = new AppsService(AppsService.ConnectOver(master.InProcessTransport), new AppsOptions { Discovery = discovery }, TimeProvider.System, store: appsStore);
                apps.MapAppsEndpoints(app);

                // Jobs (Chronos /v1/scheduler) likewise, state and Quartz triggers in jobs.db.
                jobsStore = await JobsStore.OpenAsync(Path.Combine(workDir, "jobs.db"), null, cancellationToken).ConfigureAwait(false);
                jobs = new JobsService(JobsService.ConnectOver(master.InProcessTransport), new JobsOptions(), TimeProvider.System, jobsStore);
                jobs.MapJobsEndpoints(app);
                app.MapDatacenterOsWeb();
                await app.StartAsync(cancellationToken).ConfigureAwait(false);
                await apps.StartAsync(cancellationToken).ConfigureAwait(false);
                await jobs.StartAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"DatacenterOs master {master.MasterId} listening on {listen.GetLeftPart(UriPartial.Authority)} (UI: /, Apps: /v2, Jobs: /v1/scheduler)");
            }

            if (settings.Mode is HostMode.Standalone or HostMode.Agent)
            {
                var masterUrls = settings.Mode == HostMode.Standalone
                    ? [new Uri(settings.Listen).GetLeftPart(UriPartial.Authority)]
                    : settings.Masters.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                agent = new AgentRuntime(
                    new AgentOptions
                    {
                        WorkDir = Path.Combine(workDir, "agent"),
                        MasterUrls = masterUrls,
                        Port = settings.AgentPort,
                        ListenAddress = settings.Mode == HostMode.Standalone ? "127.0.0.1" : null,
                        ResourcesText = settings.Resources,
                        Attributes = AgentOptions.ParseAttributes(settings.Attributes),
                        Hostname = settings.Hostname ?? (settings.Mode == HostMode.Standalone ? "127.0.0.1" : null),
                        AdvertiseIp = settings.AdvertiseIp,
                        Secret = secret,
                        DockerEnabled = !string.Equals(settings.DockerEndpoint, "none", StringComparison.OrdinalIgnoreCase),
                        DockerEndpoint = string.Equals(settings.DockerEndpoint, "none", StringComparison.OrdinalIgnoreCase) ? "unix:///var/run/docker.sock" : settings.DockerEndpoint,
                        DockerAllowPrivileged = settings.DockerAllowPrivileged,
                        TaskUser = settings.TaskUser,
                        AllowRootTasks = settings.AllowRootTasks,
                    },
                    TimeProvider.System,
                    loggers);
                await agent.StartAsync(cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"DatacenterOs agent serving sandboxes on port {agent.HttpPort} with {agent.Resources}");
            }

            if (settings.SimulatedAgents > 0)
            {
                var simulatedTotal = Resources.Parse(settings.SimulatedResources);
                var masterUrl = new Uri(settings.Listen).GetLeftPart(UriPartial.Authority);
                for (var i = 0; i < settings.SimulatedAgents; i++)
                {
                    var sim = new SimulatedAgent($"simulated-{i}", simulatedTotal, [masterUrl], TimeProvider.System);
                    sim.Start();
                    simulated.Add(sim);
                }

                Console.WriteLine($"DatacenterOs: {settings.SimulatedAgents} simulated agents with {simulatedTotal} each");
            }

            var stopped = new TaskCompletionSource();
            using var registration = cancellationToken.Register(() => stopped.TrySetResult());
            await stopped.Task.ConfigureAwait(false);
            return 0;
        }
        finally
        {
            Console.Error.WriteLine("dcosd: shutting down");
            foreach (var sim in simulated)
            {
                await sim.DisposeAsync().ConfigureAwait(false);
            }

            if (agent is not null)
            {
                await agent.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await agent.DisposeAsync().ConfigureAwait(false);
            }

            if (apps is not null)
            {
                await apps.DisposeAsync().ConfigureAwait(false);
            }

            if (jobs is not null)
            {
                await jobs.DisposeAsync().ConfigureAwait(false);
            }

            if (master is not null)
            {
                await master.DisposeAsync().ConfigureAwait(false);
            }

            if (app is not null)
            {
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await app.DisposeAsync().ConfigureAwait(false);
            }

            registry?.Dispose();
            appsStore?.Dispose();
            jobsStore?.Dispose();
            Console.Error.WriteLine("dcosd: stopped");
        }
    }
}
