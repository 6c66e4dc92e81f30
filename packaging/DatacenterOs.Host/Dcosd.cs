using System.Net.Sockets;
using System.Runtime.InteropServices;
using DatacenterOs.Agent;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Apps;
using DatacenterOs.Jobs;
using DatacenterOs.Kernel;
using DatacenterOs.Master;
using DatacenterOs.Security;
using DatacenterOs.Storage;
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

    /// <summary>Master state: null/<c>sqlite</c> (files in the work dir) or a PostgreSQL URL / connection string.</summary>
    public string? Store { get; init; }

    /// <summary>URL other masters redirect clients to while this master leads; default the --listen URL.</summary>
    public string? AdvertiseUrl { get; init; }

    /// <summary>Seconds a disconnected agent has to come back before its tasks become UNREACHABLE/LOST (Mesos 75).</summary>
    public double AgentReregisterTimeoutSeconds { get; init; } = 75;
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
        catch (Exception e) when (e is IOException or SocketException or FormatException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or System.Data.Common.DbException)
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

        Uri? listen = null;
        if (settings.Mode is HostMode.Standalone or HostMode.Master)
        {
            if (!Uri.TryCreate(settings.Listen, UriKind.Absolute, out listen) || listen.Scheme != "http")
            {
                throw new FormatException($"--listen '{settings.Listen}' is not an http:// URL");
            }
        }

        // Authentication is optional only on loopback: whoever reaches the API runs commands on the agents.
        var internalToken = SecretHasher.NewToken();
        var auth = settings.Mode == HostMode.Agent || settings.AuthFile is null ? null : AuthStore.Load(settings.AuthFile, secret, internalToken);
        if (listen is not null && auth is null && !SecurityWiring.IsLoopback(listen))
        {
            throw new InvalidOperationException($"refusing to listen on {listen.GetLeftPart(UriPartial.Authority)} without authentication: pass --auth-file FILE (principals with hashed secrets; see README, Security) or listen on 127.0.0.1");
        }

        var access = new LeaderAccess(auth, internalToken);
        var location = settings.Mode == HostMode.Agent ? null : StoreLocation.Parse(settings.Store, workDir, "dcosd master " + (settings.AdvertiseUrl ?? settings.Listen));
        if (location is { Engine: SqlEngine.Postgres } && settings.Mode != HostMode.Master)
        {
            throw new ArgumentException("--store postgres://… is for 'dcosd master' (standalone keeps SQLite in its work dir)");
        }

        // One master per work dir: SQLite state (and the web keys) must not be shared by two processes that both act.
        using var workDirLock = settings.Mode == HostMode.Agent ? null : LockWorkDir(workDir);
        if (location is { Engine: SqlEngine.Postgres })
        {
            return await RunClusteredMasterAsync(settings, listen!, location, workDir, secret, access, loggers, cancellationToken).ConfigureAwait(false);
        }

        LeaderParts? parts = null;
        SqlMasterRegistry? registry = null;
        AppsStore? appsStore = null;
        JobsStore? jobsStore = null;
        AgentRuntime? agent = null;
        var simulated = new List<SimulatedAgent>();
        try
        {
            if (listen is not null && location is not null)
            {
                registry = await SqlMasterRegistry.OpenAsync(location, NewClusterId, cancellationToken).ConfigureAwait(false);
                appsStore = await AppsStore.OpenAsync(location, cancellationToken).ConfigureAwait(false);
                jobsStore = await JobsStore.OpenAsync(location, cancellationToken).ConfigureAwait(false);
                parts = await LeaderParts.StartAsync(settings, listen, workDir, secret, access, registry, appsStore, jobsStore, loggers, null, cancellationToken).ConfigureAwait(false);
                Console.WriteLine($"DatacenterOs master {parts.Master.MasterId} listening on {listen.GetLeftPart(UriPartial.Authority)} (UI: /, Apps: /v2, Jobs: /v1/scheduler)");
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

            if (parts is not null)
            {
                await parts.DisposeAsync().ConfigureAwait(false);
            }

            registry?.Dispose();
            appsStore?.Dispose();
            jobsStore?.Dispose();
            Console.Error.WriteLine("dcosd: stopped");
        }
    }

    /// <summary>
    /// A master of a PostgreSQL-backed cluster: campaigns for the lease; while another master leads it answers
    /// <c>/health</c> and <c>/ping</c> itself and every other request with 307 to the leader (Mesos and Marathon
    /// behaviour); while it leads it runs master, Apps, Jobs and the UI with every write fenced by its epoch; when the
    /// term ends (lease lost, database gone) it stops them at once and stands by again.
    /// </summary>
    private static async Task<int> RunClusteredMasterAsync(
        HostSettings settings, Uri listen, StoreLocation location, string workDir, string? secret, LeaderAccess access, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var advertise = (settings.AdvertiseUrl ?? listen.GetLeftPart(UriPartial.Authority)).TrimEnd('/');
        if (!Uri.TryCreate(advertise, UriKind.Absolute, out var advertiseUri) || advertiseUri.Scheme != "http" || advertiseUri.Host is "0.0.0.0" or "[::]" or "::")
        {
            throw new FormatException($"--advertise-url '{advertise}' must be an http:// URL other masters and agents can reach (pass it when --listen binds 0.0.0.0)");
        }

        var log = loggers.CreateLogger("dcosd");
        using var electionStore = await LeaderElection.OpenStoreAsync(location, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        using var registry = await SqlMasterRegistry.OpenAsync(location, NewClusterId, cancellationToken).ConfigureAwait(false);
        using var appsStore = await AppsStore.OpenAsync(location, cancellationToken).ConfigureAwait(false);
        using var jobsStore = await JobsStore.OpenAsync(location, cancellationToken).ConfigureAwait(false);
        var candidate = advertise + "#" + Guid.NewGuid().ToString("N")[..8];
        var election = new LeaderElection(electionStore, candidate, advertise, TimeProvider.System, new LeaderElectionOptions(), loggers.CreateLogger<LeaderElection>());
        await using (election.ConfigureAwait(false))
        {
            election.Start();
            Console.WriteLine($"DatacenterOs master {candidate} on {listen.GetLeftPart(UriPartial.Authority)}: state in {location}; campaigning for leadership");
            while (!cancellationToken.IsCancellationRequested)
            {
                Leadership leadership;
                var standby = await StartStandbyAsync(listen, election, cancellationToken).ConfigureAwait(false);
                try
                {
                    leadership = await election.WaitForLeadershipAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                finally
                {
                    await standby.StopAsync(CancellationToken.None).ConfigureAwait(false);
                    await standby.DisposeAsync().ConfigureAwait(false);
                }

                registry.Database.Fence = leadership.Fence;
                appsStore.Database.Fence = leadership.Fence;
                jobsStore.Database.Fence = leadership.Fence;
                LeaderParts? parts = null;
                using var term = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, leadership.Lost);
                try
                {
                    parts = await LeaderParts.StartAsync(settings, listen, workDir, secret, access, registry, appsStore, jobsStore, loggers, leadership, term.Token).ConfigureAwait(false);
                    Console.WriteLine($"DatacenterOs master {parts.Master.MasterId} leading (epoch {leadership.Epoch}) on {advertise} (UI: /, Apps: /v2, Jobs: /v1/scheduler)");
                    await Task.Delay(Timeout.Infinite, term.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (term.IsCancellationRequested)
                {
                }
                catch (Exception e) when (leadership.Lost.IsCancellationRequested && e is not OperationCanceledException)
                {
                    log.LogWarning("leader start-up interrupted by the loss of leadership: {Message}", e.Message);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Leaving releases the lease (the election is disposed), so another master takes over at once.
                    throw new InvalidOperationException($"leader start-up failed: {e.Message}", e);
                }
                finally
                {
                    if (parts is not null)
                    {
                        await parts.DisposeAsync().ConfigureAwait(false);
                    }
                }

                if (leadership.Lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync($"dcosd: lost leadership (epoch {leadership.Epoch}): {leadership.EndReason}; master, Apps and Jobs stopped, standing by").ConfigureAwait(false);
                }
            }
        }

        Console.Error.WriteLine("dcosd: stopped");
        return 0;
    }

    /// <summary>A non-leading master's HTTP server: /health and /ping answered here, everything else 307 to the leader (503 while none).</summary>
    private static async Task<WebApplication> StartStandbyAsync(Uri listen, LeaderElection election, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen.GetLeftPart(UriPartial.Authority));
        var app = builder.Build();
        app.MapGet("/health", () => Results.Json(new { healthy = true, leading = false, leader = election.CurrentLeader?.Address }));
        app.MapGet("/ping", () => Results.Text("pong"));
        app.MapFallback("{**path}", async (HttpContext context) =>
        {
            if (election.CurrentLeader is not { } leader || leader.CandidateId == election.CandidateId)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                context.Response.Headers.RetryAfter = "1";
                await context.Response.WriteAsJsonAsync(new { message = "no leading master elected yet; retry shortly" }).ConfigureAwait(false);
                return;
            }

            // Mesos: /master/redirect answers with the leader's address; everything else keeps its path and query.
            var target = context.Request.Path.Equals("/master/redirect", StringComparison.Ordinal)
                ? leader.Address
                : leader.Address + context.Request.PathBase + context.Request.Path + context.Request.QueryString;
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = target;
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return app;
    }

    private static string NewClusterId() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Takes an exclusive lock on <c>master.lock</c> in the work dir (flock via <see cref="FileShare.None"/>), released
    /// when the process ends, however it ends; the holder's pid goes to <c>master.pid</c> for the refusal message.
    /// </summary>
    /// <exception cref="InvalidOperationException">Another process holds it (one readable line).</exception>
    private static FileStream LockWorkDir(string workDir)
    {
        var path = Path.Combine(workDir, "master.lock");
        var pidPath = Path.Combine(workDir, "master.pid");
        try
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            File.WriteAllText(pidPath, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            return stream;
        }
        catch (IOException)
        {
            var holder = "";
            try
            {
                holder = File.ReadAllText(pidPath).Trim();
            }
            catch (IOException)
            {
            }

            throw new InvalidOperationException(
                $"another dcosd master{(holder.Length > 0 ? " (pid " + holder + ")" : "")} already uses work dir {workDir}; stop it, pass another --work-dir, or run several masters with --store postgres://…");
        }
    }
}

/// <summary>
/// Who may call a leading master: the principals of <c>--auth-file</c> (null: no authentication, loopback only) and the
/// token the dashboard's background reads use.
/// </summary>
internal sealed record LeaderAccess(AuthStore? Auth, string InternalToken);

/// <summary>What a leading master runs: the master, Apps, Jobs and the web UI on one HTTP server.</summary>
internal sealed class LeaderParts : IAsyncDisposable
{
    private WebApplication? _app;
    private AppsService? _apps;
    private JobsService? _jobs;

    private LeaderParts(MasterRuntime master) => Master = master;

    public MasterRuntime Master { get; }

    public static async Task<LeaderParts> StartAsync(
        HostSettings settings,
        Uri listen,
        string workDir,
        string? secret,
        LeaderAccess access,
        SqlMasterRegistry registry,
        AppsStore appsStore,
        JobsStore jobsStore,
        ILoggerFactory loggers,
        Leadership? leadership,
        CancellationToken cancellationToken)
    {
        var options = new MasterOptions
        {
            WorkDir = workDir,
            AgentSecret = secret,
            AllocationInterval = TimeSpan.FromSeconds(settings.AllocationIntervalSeconds),
            OfferTimeout = TimeSpan.FromSeconds(settings.OfferTimeoutSeconds),
            AgentReregisterTimeout = TimeSpan.FromSeconds(settings.AgentReregisterTimeoutSeconds),
        };
        var master = await MasterRuntime.StartAsync(options, registry, TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
        var parts = new LeaderParts(master);
        try
        {
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
            var auth = access.Auth;
            if (auth is not null)
            {
                builder.Services.AddSingleton<DatacenterOs.Web.Backend.IDashboardPermissions>(new GrantsDashboardPermissions(auth));
            }

            builder.Services.AddDatacenterOsWeb(new Uri(listen.GetLeftPart(UriPartial.Authority)), Path.Combine(workDir, "web-keys"), auth is null ? null : access.InternalToken);
            builder.Services.AddDatacenterOsSecurity(new SecurityOptions { Auth = auth, WritesPerSecond = settings.WriteRateLimit, WriteBurst = Math.Max(1, settings.WriteRateLimit * 4), JobOwner = name => parts._jobs?.OwnerOf(name) });
            var app = builder.Build();
            parts._app = app;
            app.UseDatacenterOsSecurity();
            if (leadership is not null)
            {
                // Between the loss of the lease and the teardown, answer nothing from stale state.
                app.Use(async (context, next) =>
                {
                    if (leadership.Lost.IsCancellationRequested && !context.Request.Path.StartsWithSegments("/health", StringComparison.Ordinal))
                    {
                        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                        await context.Response.WriteAsJsonAsync(new { message = "this master is stepping down; retry shortly" }).ConfigureAwait(false);
                        return;
                    }

                    await next(context).ConfigureAwait(false);
                });
            }

            master.MapEndpoints(app);
            app.MapGet("/master/redirect", (HttpContext context) =>
            {
                context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
                context.Response.Headers.Location = (settings.AdvertiseUrl ?? listen.GetLeftPart(UriPartial.Authority)).TrimEnd('/');
            });

            // Apps (Marathon /v2) on the same port, subscribed over the in-process transport.
            var discovery = new DiscoveryOptions
            {
                Url = settings.DiscoveryUrl ?? (settings.AdvertiseUrl ?? listen.GetLeftPart(UriPartial.Authority)).TrimEnd('/') + "/v1/discovery",
                HaproxyConfigPath = settings.DiscoveryHaproxyConfig,
                HaproxyBindAddress = settings.DiscoveryHaproxyBind,
                ReloadCommand = settings.DiscoveryReloadCommand,
            };
            parts._apps = new AppsService(AppsService.ConnectOver(master.InProcessTransport), new AppsOptions { Discovery = discovery }, TimeProvider.System, store: appsStore);
            parts._apps.MapAppsEndpoints(app);

            // Jobs (Chronos /v1/scheduler) likewise; Quartz triggers next to the jobs tables.
            parts._jobs = new JobsService(JobsService.ConnectOver(master.InProcessTransport), new JobsOptions(), TimeProvider.System, jobsStore);
            parts._jobs.MapJobsEndpoints(app);
            app.MapDatacenterOsWeb();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            await parts._apps.StartAsync(cancellationToken).ConfigureAwait(false);
            await parts._jobs.StartAsync(cancellationToken).ConfigureAwait(false);
            return parts;
        }
        catch
        {
            await parts.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_apps is not null)
        {
            await _apps.DisposeAsync().ConfigureAwait(false);
        }

        if (_jobs is not null)
        {
            await _jobs.DisposeAsync().ConfigureAwait(false);
        }

        await Master.DisposeAsync().ConfigureAwait(false);
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
