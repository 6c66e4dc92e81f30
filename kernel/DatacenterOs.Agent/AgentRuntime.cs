using DatacenterOs.Agent.Docker;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent;

/// <summary>A task as the agent sees it: what runs, where, and its latest status.</summary>
/// <param name="FrameworkId">Framework id.</param>
/// <param name="TaskId">Task id.</param>
/// <param name="Role">Role of the task's allocation.</param>
/// <param name="Task">The task as launched.</param>
/// <param name="Status">Latest status (with the uuid of the update that carried it, when reliable).</param>
/// <param name="SandboxDirectory">Absolute sandbox directory, when the task got one.</param>
/// <param name="Pid">Pid of the task's process (group leader), when it got one.</param>
public sealed record AgentTask(string FrameworkId, string TaskId, string Role, TaskInfoDto Task, TaskStatusDto Status, string? SandboxDirectory, int? Pid)
{
    /// <summary>Latest state, e.g. <c>TASK_RUNNING</c>.</summary>
    public string State => Status.State;

    /// <summary>Sandbox-relative path for <c>/files/read</c> and <c>/files/browse</c>: <c>&lt;frameworkId&gt;/&lt;taskId&gt;</c>.</summary>
    public string SandboxPath => FrameworkId + "/" + TaskId;
}

/// <summary>
/// One agent, in process: recovers checkpointed tasks, subscribes to the master and follows its commands (LAUNCH,
/// KILL, ACKNOWLEDGE, SHUTDOWN_FRAMEWORK), reports task status reliably, and serves sandbox files and <c>/state</c>
/// over its own HTTP port. Start with <see cref="StartAsync"/>; <see cref="StopAsync"/> stops the agent but never its
/// tasks, which a new <see cref="AgentRuntime"/> on the same work directory re-adopts.
/// </summary>
/// <example>
/// <code>
/// var agent = new AgentRuntime(new AgentOptions { WorkDir = "/var/lib/dcos/agent", MasterUrls = ["http://10.0.0.1:5050"] },
///     TimeProvider.System, loggerFactory);
/// await agent.StartAsync(ct);
/// …
/// await agent.StopAsync(ct);
/// </code>
/// </example>
public sealed partial class AgentRuntime : IHostedService, IAsyncDisposable
{
    private readonly AgentOptions _options;
    private readonly AgentPaths _paths;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MasterConnection? _master;
    private readonly Lock _lock = new();
    private readonly Lock _reportLock = new();
    private readonly Dictionary<(string Framework, string Task), TrackedTask> _tasks = [];
    private readonly ILoggerFactory _loggerFactory;
    private HttpClient? _healthHttp;
    private string? _agentId;
    private long _lastHeartbeatTicks;
    private CancellationTokenSource? _stopping;
    private Task? _loop;
    private WebApplication? _web;
    private int _state; // 0 new, 1 started, 2 stopped
    private ITimer? _dockerProbe;

    /// <summary>Creates an agent; nothing runs until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Configuration.</param>
    /// <param name="timeProvider">Clock for timers (status update retries, heartbeat timeout, backoff, kill grace, polling); default the system clock.</param>
    /// <param name="loggerFactory">Loggers; default none.</param>
    /// <param name="masterHandler">HTTP handler for master calls (tests); default a new socket handler.</param>
    /// <param name="uuidBytes">Source of the 16 random bytes of status update uuids; default a cryptographic generator.</param>
    /// <exception cref="ArgumentException">A master URL is malformed.</exception>
    public AgentRuntime(
        AgentOptions options,
        TimeProvider? timeProvider = null,
        ILoggerFactory? loggerFactory = null,
        HttpMessageHandler? masterHandler = null,
        Func<byte[]>? uuidBytes = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _paths = new AgentPaths(options.WorkDir);
        _time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<AgentRuntime>();
        Containerizer = new ProcessContainerizer(options, _time, loggerFactory.CreateLogger<ProcessContainerizer>());
        StatusUpdates = new StatusUpdateManager(options.WorkDir, SendUpdateAsync, _time, uuidBytes, loggerFactory.CreateLogger<StatusUpdateManager>())
        {
            TerminalAcknowledged = OnTerminalAcknowledged,
        };
        Files = new SandboxFiles(_paths.SandboxesDir);
        if (options.DockerEnabled)
        {
            Docker = new DockerContainerizer(options, _time, loggerFactory.CreateLogger<DockerContainerizer>()) { AgentId = () => AgentId };
        }

        if (options.MasterUrls.Count > 0)
        {
            _master = new MasterConnection(options.MasterUrls, _time, loggerFactory.CreateLogger<MasterConnection>(), masterHandler, options.Secret);
        }
    }

    /// <summary>Raised (on a background thread) whenever a task's status changes or the task is garbage-collected.</summary>
    public event EventHandler<AgentTask>? TaskUpdated;

    /// <summary>The configuration.</summary>
    public AgentOptions Options => _options;

    /// <summary>The agent id the master gave (kept in <c>meta/agent_id</c> and reused on re-subscription); null before the first subscription.</summary>
    public string? AgentId
    {
        get
        {
            lock (_lock)
            {
                return _agentId;
            }
        }
    }

    /// <summary>Resources of this agent (detected plus the <c>--resources</c> override); set by <see cref="StartAsync"/>.</summary>
    public Resources Resources { get; private set; } = Resources.Empty;

    /// <summary>Tasks the agent tracks: running ones and terminal ones whose last update is not yet acknowledged.</summary>
    public IReadOnlyList<AgentTask> Tasks
    {
        get
        {
            lock (_lock)
            {
                return [.. _tasks.Values.Select(t => t.Snapshot())];
            }
        }
    }

    /// <summary>Port the agent's own HTTP server listens on (resolved when <see cref="AgentOptions.Port"/> is 0); null when not serving.</summary>
    public int? HttpPort { get; private set; }

    /// <summary>True while subscribed to a master.</summary>
    public bool IsSubscribed => _master?.IsSubscribed ?? false;

    /// <summary>When the last HEARTBEAT arrived, or null.</summary>
    public DateTimeOffset? LastHeartbeatAt
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastHeartbeatTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>The process containerizer running the tasks.</summary>
    public ProcessContainerizer Containerizer { get; }

    /// <summary>The Docker containerizer running tasks of container type <c>DOCKER</c>; null when <see cref="AgentOptions.DockerEnabled"/> is off.</summary>
    public DockerContainerizer? Docker { get; }

    /// <summary>True while the agent's Docker daemon answers (it then advertises the <c>docker</c> attribute).</summary>
    public bool DockerAvailable => Docker?.IsAvailable ?? false;

    /// <summary>The agent's attributes as advertised: the configured ones plus <c>docker:true</c> while Docker is available.</summary>
    public List<AttributeDto> AdvertisedAttributes
    {
        get
        {
            var attributes = ResourceConversions.ToAttributes(_options.Attributes);
            if (DockerAvailable && !_options.Attributes.ContainsKey(AgentCapabilities.DockerAttribute))
            {
                attributes.Add(new AttributeDto { Name = AgentCapabilities.DockerAttribute, Type = "TEXT", Text = new TextDto("true") });
            }

            return attributes;
        }
    }

    /// <summary>The reliable status update manager.</summary>
    public StatusUpdateManager StatusUpdates { get; }

    /// <summary>Sandbox file access behind <c>/files/read</c> and <c>/files/browse</c>.</summary>
    public SandboxFiles Files { get; }

    /// <summary>
    /// Recovers (agent id, unacknowledged updates, tasks: re-adopting live processes and reporting those that ended
    /// while the agent was down), detects resources, starts the HTTP server when <see cref="AgentOptions.ServeHttp"/>,
    /// and starts subscribing to the master in the background.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="ResourceParseException"><see cref="AgentOptions.ResourcesText"/> is malformed.</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("the agent was already started; create a new AgentRuntime to restart");
        }

        Directory.CreateDirectory(_paths.MetaDir);
        Directory.CreateDirectory(_paths.SandboxesDir);
        lock (_lock)
        {
            _agentId = ReadAgentId();
        }

        Resources = ResourceDetector.Detect(_options);
        LogStarting(_paths.WorkDir, Resources.ToString(), _agentId ?? "(none yet)");

        StatusUpdates.Pause(); // until a master subscription
        var pending = StatusUpdates.Recover();
        var recovery = await Containerizer.RecoverAsync(cancellationToken).ConfigureAwait(false);
        if (Docker is not null)
        {
            var dockerRecovery = await Docker.RecoverAsync(cancellationToken).ConfigureAwait(false);
            recovery = new ContainerRecovery([.. recovery.Containers, .. dockerRecovery.Containers], [.. recovery.Terminated, .. dockerRecovery.Terminated]);
            _dockerProbe = _time.CreateTimer(_ => _ = ProbeDockerAsync(), null, _options.DockerProbeInterval, _options.DockerProbeInterval);
        }

        foreach (var checkpoint in recovery.Terminated)
        {
            var fw = checkpoint.FrameworkId.Value;
            var taskId = checkpoint.Task.TaskId.Value;
            if (StatusUpdates.Pending(fw, taskId).Count == 0)
            {
                Docker?.Forget(fw, taskId);
                Containerizer.Forget(fw, taskId); // terminal and acknowledged before the restart
                continue;
            }

            lock (_lock)
            {
                _tasks[(fw, taskId)] = new TrackedTask(checkpoint.FrameworkId, checkpoint.Role, checkpoint.Task, null, checkpoint.LatestStatus!);
            }
        }

        foreach (var container in recovery.Containers)
        {
            // No status, or STAGING/STARTING: the previous agent stopped between starting the process and reporting it.
            var unreported = container.Checkpoint.LatestStatus is null or { State: TaskStates.Staging or TaskStates.Starting };
            var latest = container.Checkpoint.LatestStatus
                ?? NewStatus(container.TaskId, TaskStates.Staging, "recovered", null, "SOURCE_AGENT");
            var tracked = new TrackedTask(container.Checkpoint.FrameworkId, container.Role, container.Task, container, latest);
            lock (_lock)
            {
                _tasks[(container.FrameworkId, container.TaskId)] = tracked;
            }

            if (!container.Termination.IsCompleted)
            {
                if (unreported)
                {
                    // Launched just as the previous agent stopped: the process runs, but TASK_RUNNING was never reported.
                    Report(tracked, TaskStates.Running, null, null, "SOURCE_EXECUTOR");
                }

                StartHealthChecks(tracked, container);
            }

            Watch(tracked, container);
        }

        LogRecovered(recovery.Containers.Count(c => !c.Termination.IsCompleted), recovery.Containers.Count(c => c.Termination.IsCompleted), pending);

        if (_options.ServeHttp)
        {
            await StartHttpAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_master is not null)
        {
            _stopping = new CancellationTokenSource();
            var token = _stopping.Token;
            _loop = Task.Run(() => _master.RunAsync(BuildSubscribeCall, HandleEventAsync, OnDisconnected, token), CancellationToken.None);
        }
    }

    /// <summary>Stops subscribing, serving and retrying. Tasks keep running (they outlive the agent).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        if (_stopping is not null)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        if (_loop is not null)
        {
            try
            {
                await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        if (_web is not null)
        {
            await _web.StopAsync(cancellationToken).ConfigureAwait(false);
            await _web.DisposeAsync().ConfigureAwait(false);
            _web = null;
        }

        StopAllHealthChecks();
        StatusUpdates.Dispose();
        _dockerProbe?.Dispose();
        Containerizer.Dispose();
        Docker?.Dispose();
        _master?.Dispose();
        _stopping?.Dispose();
        LogStopped();
    }

    /// <summary>Stops the agent (not its tasks).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Volatile.Read(ref _state) == 1)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
        else
        {
            Interlocked.Exchange(ref _state, 2);
            StopAllHealthChecks();
            StatusUpdates.Dispose();
            _dockerProbe?.Dispose();
            Containerizer.Dispose();
            Docker?.Dispose();
            _master?.Dispose();
        }
    }

    /// <summary>The SUBSCRIBE body: agent info (stored id, host, port, resources, attributes), every tracked task with its latest status, the secret.</summary>
    public AgentSubscribeCall BuildSubscribeCall()
    {
        var id = AgentId;
        var info = new AgentInfoDto
        {
            Id = id is null ? null : new IdDto(id),
            Hostname = _options.EffectiveHostname,
            Port = HttpPort ?? _options.Port,
            Resources = ResourceConversions.ToDtos(Resources),
            Attributes = AdvertisedAttributes,
        };
        List<AgentTaskDto> tasks;
        lock (_lock)
        {
            tasks = [.. _tasks.Values.Select(t => new AgentTaskDto(t.FrameworkId, t.Role, t.Task, t.Latest))];
        }

        return new AgentSubscribeCall(info, tasks, _options.Secret);
    }

    /// <summary>
    /// Applies one master event: SUBSCRIBED (store the id, resume status updates), LAUNCH, KILL, ACKNOWLEDGE,
    /// SHUTDOWN_FRAMEWORK, HEARTBEAT, ERROR. Called by the master connection; public so a host or test can drive the
    /// agent directly. Never throws for a bad event (it is logged).
    /// </summary>
    public async Task HandleEventAsync(AgentEvent agentEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentEvent);
        try
        {
            switch (agentEvent.Type)
            {
                case AgentTypes.Subscribed when agentEvent.Subscribed is { } subscribed:
                    OnSubscribed(subscribed.AgentId.Value);
                    break;
                case AgentTypes.Launch when agentEvent.Launch is { } launch:
                    await LaunchAsync(launch.FrameworkId, launch.Role, launch.Task, cancellationToken).ConfigureAwait(false);
                    break;
                case AgentTypes.Kill when agentEvent.Kill is { } kill:
                    Kill(kill.FrameworkId, kill.TaskId.Value, kill.KillPolicy);
                    break;
                case AgentTypes.Acknowledge when agentEvent.Acknowledge is { } ack:
                    StatusUpdates.Acknowledge(ack.FrameworkId.Value, ack.TaskId.Value, ack.Uuid);
                    break;
                case AgentTypes.ShutdownFramework when agentEvent.ShutdownFramework is { } framework:
                    ShutdownFramework(framework.Value);
                    break;
                case AgentTypes.Heartbeat:
                    Interlocked.Exchange(ref _lastHeartbeatTicks, _time.GetUtcNow().UtcTicks);
                    break;
                case AgentTypes.Error:
                    break; // logged by the connection, which re-subscribes after a backoff
                default:
                    LogIgnoredEvent(agentEvent.Type);
                    break;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // one bad event must not end the agent's event loop
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogEventFailed(agentEvent.Type, e);
        }
    }

    /// <summary>
    /// Launches a task (what LAUNCH does): TASK_RUNNING once its process started, then its terminal state when it ends;
    /// TASK_FAILED (or TASK_ERROR for an invalid task) with a readable message if it cannot start.
    /// </summary>
    public async Task LaunchAsync(IdDto frameworkId, string role, TaskInfoDto task, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frameworkId);
        ArgumentNullException.ThrowIfNull(task);
        var taskId = task.TaskId?.Value ?? "";
        if ((IdValidation.Problem(frameworkId.Value) ?? IdValidation.Problem(taskId)) is { } problem)
        {
            // Not checkpointable (the ids are directory names): one unreliable TASK_ERROR.
            LogInvalidTask(taskId, problem);
            var status = NewStatus(taskId, TaskStates.Error, $"invalid task: id {problem}", ContainerLaunchException.ReasonTaskInvalid, "SOURCE_AGENT");
            await SendUpdateAsync(new AgentUpdateCall(frameworkId, status), cancellationToken).ConfigureAwait(false);
            return;
        }

        lock (_lock)
        {
            if (_tasks.TryGetValue((frameworkId.Value, taskId), out var existing) && !TaskStates.IsTerminal(existing.Latest.State))
            {
                LogDuplicateLaunch(taskId, frameworkId.Value);
                return;
            }
        }

        if (ContainerInfoTypes.IsDocker(task) && Docker is not null)
        {
            // Image pulls and container creation can take long: they run beside the event loop (which keeps reading
            // heartbeats and kills). Until the container started the task is tracked as STAGING, so a second LAUNCH
            // is ignored and a KILL is remembered.
            var staging = new TrackedTask(frameworkId, role, task, null, NewStatus(taskId, TaskStates.Staging, null, null, null)) { Launching = true };
            lock (_lock)
            {
                _tasks[(frameworkId.Value, taskId)] = staging;
            }

            _ = Task.Run(() => LaunchCoreAsync(frameworkId, role, task, staging, CancellationToken.None), CancellationToken.None);
            return;
        }

        await LaunchCoreAsync(frameworkId, role, task, null, cancellationToken).ConfigureAwait(false);
    }

    private async Task LaunchCoreAsync(IdDto frameworkId, string role, TaskInfoDto task, TrackedTask? staging, CancellationToken cancellationToken)
    {
        var taskId = task.TaskId.Value;
        TaskContainer container;
        try
        {
            if (ContainerInfoTypes.IsDocker(task))
            {
                container = Docker is null
                    ? throw new ContainerLaunchException("Docker is not enabled on this agent") { IsError = true }
                    : await Docker.LaunchAsync(frameworkId, role, task, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                container = await Containerizer.LaunchAsync(frameworkId, role, task, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is ContainerLaunchException || (staging is not null && e is ObjectDisposedException or OperationCanceledException))
        {
            if (e is not ContainerLaunchException launchError)
            {
                return; // the agent stopped meanwhile
            }

            var failed = new TrackedTask(frameworkId, role, task, null, NewStatus(taskId, TaskStates.Staging, null, null, null));
            lock (_lock)
            {
                _tasks[(frameworkId.Value, taskId)] = failed;
            }

            if (Volatile.Read(ref _state) != 2)
            {
                Report(failed, launchError.TaskState, launchError.Message, launchError.Reason, "SOURCE_AGENT");
            }

            return;
        }

        var tracked = new TrackedTask(frameworkId, role, task, container, NewStatus(taskId, TaskStates.Staging, null, null, null));
        bool killWanted;
        lock (_lock)
        {
            _tasks[(frameworkId.Value, taskId)] = tracked;
            killWanted = staging?.KillWanted == true;
        }

        if (Volatile.Read(ref _state) == 2)
        {
            return; // stopped meanwhile: the next agent run re-adopts the container
        }

        Report(tracked, TaskStates.Running, null, null, "SOURCE_EXECUTOR");
        if (killWanted)
        {
            Kill(frameworkId, taskId, staging!.KillPolicy);
            Watch(tracked, container);
            return;
        }

        StartHealthChecks(tracked, container);
        Watch(tracked, container);
    }

    /// <summary>
    /// Kills a task (what KILL does): SIGTERM to its process group, SIGKILL after the grace period, then TASK_KILLED.
    /// An unknown task is answered with TASK_LOST "unknown task".
    /// </summary>
    public void Kill(IdDto frameworkId, string taskId, KillPolicyDto? killPolicy = null)
    {
        ArgumentNullException.ThrowIfNull(frameworkId);
        var grace = killPolicy?.GracePeriod is { } g ? TimeSpan.FromTicks(Math.Max(0, g.Nanoseconds / 100)) : (TimeSpan?)null;
        StopHealthChecks(frameworkId.Value, taskId); // as Mesos's executors: no health updates once a kill was ordered
        var kill = Containerizer.KillAsync(frameworkId.Value, taskId, grace) ?? Docker?.KillAsync(frameworkId.Value, taskId, grace);
        if (kill is not null)
        {
            _ = ObserveAsync(kill, taskId);
            return;
        }

        lock (_lock)
        {
            if (_tasks.TryGetValue((frameworkId.Value, taskId), out var known))
            {
                if (known.Launching)
                {
                    // Its container is still being created: killed as soon as it started.
                    known.KillWanted = true;
                    known.KillPolicy = killPolicy;
                }

                return; // known but never started (launch failed): already terminal
            }
        }

        if ((IdValidation.Problem(frameworkId.Value) ?? IdValidation.Problem(taskId)) is not null)
        {
            return;
        }

        LogUnknownKill(taskId, frameworkId.Value);
        var unknown = new TrackedTask(frameworkId, "*", new TaskInfoDto { TaskId = new IdDto(taskId) }, null, NewStatus(taskId, TaskStates.Staging, null, null, null));
        Report(unknown, TaskStates.Lost, "unknown task", "REASON_TASK_UNKNOWN", "SOURCE_AGENT");
    }

    /// <summary>Maps <c>GET /files/read</c>, <c>GET /files/browse</c> and <c>GET /state</c> onto <paramref name="endpoints"/>.</summary>
    public void MapAgentEndpoints(IEndpointRouteBuilder endpoints) => AgentEndpoints.Map(endpoints, this);

    /// <summary>The agent's state as served on <c>/state</c>.</summary>
    public AgentStateDto GetState() => new()
    {
        Id = AgentId,
        Hostname = _options.EffectiveHostname,
        Port = HttpPort ?? _options.Port,
        Resources = ResourceConversions.ToDtos(Resources),
        Attributes = AdvertisedAttributes,
        Subscribed = IsSubscribed,
        MasterUrl = _master?.CurrentMaster?.ToString(),
        Tasks = [.. Tasks.Select(t => new AgentStateTaskDto
        {
            FrameworkId = t.FrameworkId,
            Id = t.TaskId,
            Name = t.Task.Name,
            Role = t.Role,
            State = t.State,
            Status = t.Status,
            Resources = t.Task.Resources,
            Sandbox = t.SandboxPath,
            Directory = t.SandboxDirectory,
            Pid = t.Pid,
        })],
    };

    private void OnSubscribed(string agentId)
    {
        string? previous;
        lock (_lock)
        {
            previous = _agentId;
            _agentId = agentId;
        }

        if (!string.Equals(previous, agentId, StringComparison.Ordinal))
        {
            if (previous is not null)
            {
                LogAgentIdChanged(previous, agentId);
            }

            try
            {
                AtomicFile.WriteAllText(_paths.AgentIdFile, agentId);
            }
            catch (IOException e)
            {
                LogAgentIdNotSaved(e.Message);
            }
        }

        StatusUpdates.Resume();
    }

    private void OnDisconnected() => StatusUpdates.Pause();

    /// <summary>Re-checks the Docker daemon; when it came or went, subscribes again so the master sees the changed attributes.</summary>
    private async Task ProbeDockerAsync()
    {
        if (Docker is null || Volatile.Read(ref _state) != 1)
        {
            return;
        }

        try
        {
            if (await Docker.ProbeAsync().ConfigureAwait(false))
            {
                _master?.Resubscribe();
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ShutdownFramework(string frameworkId)
    {
        foreach (var container in Containerizer.Containers.Concat(Docker?.Containers ?? []).Where(c => c.FrameworkId == frameworkId && !c.Termination.IsCompleted))
        {
            StopHealthChecks(frameworkId, container.TaskId);
            var kill = Containerizer.KillAsync(frameworkId, container.TaskId) ?? Docker?.KillAsync(frameworkId, container.TaskId);
            if (kill is not null)
            {
                _ = ObserveAsync(kill, container.TaskId);
            }
        }
    }

    private async Task ObserveAsync(Task<TaskTermination> kill, string taskId)
    {
        try
        {
            await kill.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // fire-and-forget kill: log, never crash
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogKillFailed(taskId, e);
        }
    }

    private void Watch(TrackedTask tracked, TaskContainer container) => _ = WatchAsync(tracked, container);

    private async Task WatchAsync(TrackedTask tracked, TaskContainer container)
    {
        var termination = await container.Termination.ConfigureAwait(false);
        tracked.StopHealthChecks();
        try
        {
            Terminated(tracked, container, termination);
        }
        catch (ObjectDisposedException)
        {
            // stopped meanwhile: the next agent run recovers and reports it
        }
    }

    private void Terminated(TrackedTask tracked, TaskContainer container, TaskTermination termination)
    {
        if (Volatile.Read(ref _state) == 2)
        {
            return; // stopped: the next agent run recovers and reports it
        }

        var pendingTerminal = StatusUpdates.Pending(container.FrameworkId, container.TaskId).LastOrDefault(u => TaskStates.IsTerminal(u.Status.State));
        if (pendingTerminal is not null)
        {
            // Reported before a restart, but the checkpoint did not record it yet.
            lock (_lock)
            {
                tracked.Latest = pendingTerminal.Status;
            }

            Containerizer.RecordStatus(container.FrameworkId, container.TaskId, pendingTerminal.Status);
            Docker?.RecordStatus(container.FrameworkId, container.TaskId, pendingTerminal.Status);
            return;
        }

        Report(tracked, termination.State, termination.Message, termination.Reason, "SOURCE_EXECUTOR");
    }

    private void Report(TrackedTask tracked, string state, string? message, string? reason, string? source) =>
        Report(tracked, NewStatus(tracked.Task.TaskId.Value, state, message, reason, source), null);

    /// <summary>
    /// Queues <paramref name="status"/> reliably, records it as the task's latest and in its checkpoint. With a
    /// <paramref name="precondition"/> (checked under the report lock, so no other update of the agent interleaves) the
    /// update is dropped when it returns false; returns whether the update was queued.
    /// </summary>
    private bool Report(TrackedTask tracked, TaskStatusDto status, Func<bool>? precondition)
    {
        var taskId = tracked.Task.TaskId.Value;
        AgentTask snapshot;
        lock (_reportLock)
        {
            if (precondition is not null && !precondition())
            {
                return false;
            }

            var call = StatusUpdates.Update(tracked.FrameworkId, status);
            lock (_lock)
            {
                tracked.Latest = call.Status;
                snapshot = tracked.Snapshot();
            }

            if (tracked.Container is not null)
            {
                Containerizer.RecordStatus(tracked.FrameworkId.Value, taskId, call.Status);
                Docker?.RecordStatus(tracked.FrameworkId.Value, taskId, call.Status);
            }
        }

        LogStatus(taskId, status.State, status.Message ?? "");
        TaskUpdated?.Invoke(this, snapshot);
        return true;
    }

    /// <summary>
    /// Starts the task's health check, when it has one: the first check <c>delay_seconds</c> after launch (for a
    /// recovered task: what is left of that delay), state restored from the latest status for a recovered task.
    /// </summary>
    private void StartHealthChecks(TrackedTask tracked, TaskContainer container)
    {
        if (tracked.Task.HealthCheck is not { } check || TaskHealthChecker.Problem(check) is not null || Volatile.Read(ref _state) == 2)
        {
            return;
        }

        var now = _time.GetUtcNow();
        var launchedAt = container.Checkpoint.LaunchedAt;
        TaskStatusDto? latest;
        lock (_lock)
        {
            latest = tracked.Latest;
        }

        // Without a launch time (older checkpoint) a recovered task gets a fresh grace period: no false alarms.
        var startedAt = launchedAt ?? now;
        var state = HealthCheckState.Restore(startedAt, TimeSpan.FromSeconds(check.GracePeriodSeconds), check.ConsecutiveFailures, latest);
        var checker = new TaskHealthChecker(
            container.TaskId,
            check,
            state,
            ProbeFor(check, container),
            verdict => ReportHealth(tracked, verdict),
            _time,
            _loggerFactory.CreateLogger<TaskHealthChecker>());
        lock (_lock)
        {
            tracked.StopHealthChecks();
            tracked.HealthChecker = checker;
        }

        checker.Start(startedAt + TimeSpan.FromSeconds(check.DelaySeconds) - now);
        LogHealthChecking(container.TaskId, TaskHealthChecker.TypeOf(check)!);
    }

    private Func<CancellationToken, Task<ProbeResult>> ProbeFor(HealthCheckDto check, TaskContainer container)
    {
        switch (TaskHealthChecker.TypeOf(check))
        {
            case HealthCheckTypes.Http:
                var http = check.Http!;
                var client = HealthHttpClient();
                return ct => HealthProbes.HttpAsync(client, http, ct);
            case HealthCheckTypes.Tcp:
                var port = check.Tcp!.Port;
                return ct => HealthProbes.TcpAsync(port, ct);
            default:
                var command = check.Command!;
                var argv = ProcessContainerizer.CommandLine(command)!;
                var environment = ProcessContainerizer.BuildEnvironment(container.FrameworkId, container.Task, container.SandboxDirectory, _options.EffectiveHostname);
                foreach (var variable in command.Environment?.Variables ?? [])
                {
                    if (!string.IsNullOrEmpty(variable.Name) && !variable.Name.Contains('=', StringComparison.Ordinal))
                    {
                        environment[variable.Name] = variable.Value ?? "";
                    }
                }

                if (Docker is { } docker && container.Checkpoint.DockerContainerId is not null)
                {
                    // Inside the container, with the container's own environment plus the check's.
                    var extra = (command.Environment?.Variables ?? [])
                        .Where(v => !string.IsNullOrEmpty(v.Name) && !v.Name.Contains('=', StringComparison.Ordinal))
                        .ToDictionary(v => v.Name, v => v.Value ?? "", StringComparer.Ordinal);
                    return ct => docker.ExecProbeAsync(container, argv, extra, ct);
                }

                var sandbox = container.SandboxDirectory;
                return ct => HealthProbes.CommandAsync(argv, environment, sandbox, ct);
        }
    }

    private HttpClient HealthHttpClient()
    {
        lock (_lock)
        {
            return _healthHttp ??= HealthProbes.CreateHttpClient();
        }
    }

    /// <summary>Reports a health change as TASK_RUNNING with <c>healthy</c> set, unless the task stopped running meanwhile.</summary>
    private bool ReportHealth(TrackedTask tracked, HealthVerdict verdict)
    {
        if (Volatile.Read(ref _state) == 2)
        {
            return false;
        }

        var status = NewStatus(tracked.Task.TaskId.Value, TaskStates.Running, verdict.Message, TaskReasons.TaskHealthCheckStatusUpdated, "SOURCE_EXECUTOR") with
        {
            Healthy = verdict.Healthy,
        };
        return Report(tracked, status, () =>
        {
            lock (_lock)
            {
                return tracked.Latest.State == TaskStates.Running
                    && tracked.HealthChecker is { IsStopped: false }
                    && tracked.Container is { KillRequested: false, Termination.IsCompleted: false };
            }
        });
    }

    private void StopHealthChecks(string frameworkId, string taskId)
    {
        lock (_lock)
        {
            if (_tasks.TryGetValue((frameworkId, taskId), out var tracked))
            {
                tracked.StopHealthChecks();
            }
        }
    }

    private void StopAllHealthChecks()
    {
        lock (_lock)
        {
            foreach (var tracked in _tasks.Values)
            {
                tracked.StopHealthChecks();
            }

            _healthHttp?.Dispose();
            _healthHttp = null;
        }
    }

    /// <summary>The health checker of a task, or null (tests).</summary>
    internal TaskHealthChecker? HealthCheckerOf(string frameworkId, string taskId)
    {
        lock (_lock)
        {
            return _tasks.TryGetValue((frameworkId, taskId), out var tracked) ? tracked.HealthChecker : null;
        }
    }

    private void OnTerminalAcknowledged(AgentUpdateCall call)
    {
        var fw = call.FrameworkId.Value;
        var taskId = call.Status.TaskId.Value;
        AgentTask? removed = null;
        lock (_lock)
        {
            if (_tasks.TryGetValue((fw, taskId), out var tracked)
                && TaskStates.IsTerminal(tracked.Latest.State)
                && StatusUpdates.Pending(fw, taskId).Count == 0)
            {
                _tasks.Remove((fw, taskId));
                removed = tracked.Snapshot();
            }
        }

        if (removed is not null || (Containerizer.Find(fw, taskId) is null && Docker?.Find(fw, taskId) is null))
        {
            Docker?.Forget(fw, taskId);
            Containerizer.Forget(fw, taskId); // garbage-collect the checkpoint; the sandbox stays
        }

        if (removed is not null)
        {
            TaskUpdated?.Invoke(this, removed);
        }
    }

    private async Task<bool> SendUpdateAsync(AgentUpdateCall update, CancellationToken cancellationToken)
    {
        var agentId = AgentId;
        if (_master is null || agentId is null)
        {
            return false;
        }

        var status = update.Status.AgentId is null ? update.Status with { AgentId = new IdDto(agentId) } : update.Status;
        return await _master.SendUpdateAsync(new IdDto(agentId), update with { Status = status }, cancellationToken).ConfigureAwait(false);
    }

    private TaskStatusDto NewStatus(string taskId, string state, string? message, string? reason, string? source)
    {
        var id = AgentId;
        return new TaskStatusDto
        {
            TaskId = new IdDto(taskId),
            State = state,
            Message = message,
            Reason = reason,
            Source = source,
            AgentId = id is null ? null : new IdDto(id),
            Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
        };
    }

    private string? ReadAgentId()
    {
        try
        {
            var id = File.Exists(_paths.AgentIdFile) ? File.ReadAllText(_paths.AgentIdFile).Trim() : "";
            return id.Length == 0 ? null : id;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private async Task StartHttpAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add($"http://{_options.ListenAddress ?? "0.0.0.0"}:{_options.Port}");
        MapAgentEndpoints(app);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        _web = app;
        HttpPort = new Uri(app.Urls.First()).Port;
        LogServing(app.Urls.First());
    }

    private sealed class TrackedTask(IdDto frameworkId, string role, TaskInfoDto task, TaskContainer? container, TaskStatusDto latest)
    {
        public IdDto FrameworkId { get; } = frameworkId;

        public string Role { get; } = role;

        public TaskInfoDto Task { get; } = task;

        public TaskContainer? Container { get; } = container;

        public TaskStatusDto Latest { get; set; } = latest;

        public TaskHealthChecker? HealthChecker { get; set; }

        /// <summary>A Docker container is being created for it (no container yet).</summary>
        public bool Launching { get; init; }

        /// <summary>A KILL arrived while <see cref="Launching"/>.</summary>
        public bool KillWanted { get; set; }

        public KillPolicyDto? KillPolicy { get; set; }

        public void StopHealthChecks() => HealthChecker?.Dispose();

        public AgentTask Snapshot() =>
            new(FrameworkId.Value, Task.TaskId.Value, Role, Task, Latest, Container?.SandboxDirectory, Container?.Pid is > 0 and var pid ? pid : null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent starting in {WorkDir} with resources {Resources}, agent id {AgentId}")]
    private partial void LogStarting(string workDir, string resources, string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recovered {Running} running task(s), {Ended} that ended while the agent was down, {Pending} unacknowledged update(s)")]
    private partial void LogRecovered(int running, int ended, int pending);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent HTTP on {Url}")]
    private partial void LogServing(string url);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent stopped; its tasks keep running")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} is {State} {Message}")]
    private partial void LogStatus(string taskId, string state, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Health checking task {TaskId} ({Type})")]
    private partial void LogHealthChecking(string taskId, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusing task {TaskId}: id {Problem}")]
    private partial void LogInvalidTask(string taskId, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring LAUNCH of task {TaskId} of framework {FrameworkId}: it is already running")]
    private partial void LogDuplicateLaunch(string taskId, string frameworkId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "KILL for unknown task {TaskId} of framework {FrameworkId}: reporting TASK_LOST")]
    private partial void LogUnknownKill(string taskId, string frameworkId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Killing task {TaskId} failed")]
    private partial void LogKillFailed(string taskId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring event of unknown type {Type}")]
    private partial void LogIgnoredEvent(string type);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handling {Type} failed")]
    private partial void LogEventFailed(string type, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The master changed the agent id from {Previous} to {Current}")]
    private partial void LogAgentIdChanged(string previous, string current);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not save the agent id: {Error}")]
    private partial void LogAgentIdNotSaved(string error);
}
