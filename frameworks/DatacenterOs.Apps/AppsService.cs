using System.Globalization;
using DatacenterOs.Apps.Core;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core.Deployment;
using DatacenterOs.Apps.Core.Health;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps;

/// <summary>
/// The Apps framework loop (Marathon's scheduler): subscribes to the master, keeps each app's instances at its
/// <c>instances</c> (launching on offers within resources, constraints and launch backoff; replacing failed
/// instances; scaling down with <see cref="ScaleDownSelector"/>; rolling restarts with <see cref="RollingUpgrade"/>),
/// and serves the Marathon <c>/v2</c> API (<see cref="MapAppsEndpoints"/>). Every state change runs under one async
/// lock, so events and API requests never interleave.
/// </summary>
public sealed partial class AppsService : IAsyncDisposable
{
    private readonly Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> _connect;
    private readonly AppsOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<string> _newId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly SortedDictionary<PathId, AppState> _apps = [];
    private readonly Dictionary<string, Instance> _tasks = new(StringComparer.Ordinal);
    private readonly List<RunningDeployment> _deployments = [];
    private readonly List<SchedulerCall> _outbox = [];
    private readonly AppsStore? _store;
    private readonly HashSet<PathId> _dirtyApps = [];
    private readonly HashSet<string> _dirtyInstances = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtyDeployments = new(StringComparer.Ordinal);
    private readonly List<AppDefinition> _newVersions = [];
    private readonly HashSet<string> _awaitingReconcile = new(StringComparer.Ordinal);

    /// <summary>Apps that may have instances waiting for an offer (a superset: entries are dropped lazily), in id order.</summary>
    private readonly SortedSet<PathId> _waiting = [];
    private bool _frameworkIdDirty;
    private bool _reconciling;
    private DateTimeOffset _reconcileDeadline;
    private long _deploymentSeq;
    private ITimer? _ticker;
    private ISchedulerConnection? _connection;
    private string? _frameworkId;
    private bool _suppressed;
    private bool _reviveNeeded;
    private DateTimeOffset _lastVersion;
    private Task? _run;

    /// <summary>Creates the service; call <see cref="StartAsync"/> to subscribe.</summary>
    /// <param name="connect">Subscribes a framework (e.g. <see cref="ConnectOver(ISchedulerTransport)"/>).</param>
    /// <param name="options">Settings (defaults when null).</param>
    /// <param name="time">Clock for versions, backoff and re-subscription.</param>
    /// <param name="newId">Generates the unique part of task ids and deployment ids.</param>
    /// <param name="store">
    /// Where apps, deployments and instances are persisted (loaded by <see cref="StartAsync"/>); null keeps them in
    /// memory only, so a restart forgets every app.
    /// </param>
    public AppsService(
        Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> connect,
        AppsOptions? options = null,
        TimeProvider? time = null,
        Func<string>? newId = null,
        AppsStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _options = options ?? new AppsOptions();
        _time = time ?? TimeProvider.System;
        _newId = newId ?? (static () => Guid.NewGuid().ToString());
        _frameworkId = _options.FrameworkId;
        _store = store;
        Events = new AppsEvents(_time);
    }

    /// <summary>The event bus behind <c>/v2/events</c> (also for in-process readers such as the web UI).</summary>
    public AppsEvents Events { get; }

    /// <summary>True while the service waits for the master's answers to its reconciliation before acting.</summary>
    public bool IsReconciling => _reconciling;

    /// <summary>The framework id the master assigned, once subscribed.</summary>
    public string? FrameworkId => _frameworkId;

    /// <summary>True while subscribed to the master.</summary>
    public bool IsConnected => _connection is not null;

    /// <summary>A connection factory over <paramref name="transport"/> (e.g. the master's in-process transport).</summary>
    public static Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> ConnectOver(ISchedulerTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return async (info, ct) => await TransportSchedulerConnection.SubscribeAsync(transport, info, null, ct).ConfigureAwait(false);
    }

    /// <summary>A connection factory over HTTP to the master at <paramref name="master"/>.</summary>
    public static Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> ConnectOver(HttpClient http, Uri master)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(master);
        return async (info, ct) => await HttpSchedulerConnection.SubscribeAsync(http, master, info, null, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads the persisted state (if there is a store), then starts the subscription loop in the background
    /// (re-subscribing whenever the stream ends) and the once-a-second housekeeping (reconciliation timeout,
    /// deployment deadlines, health kills, launch delays).
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("The Apps service is already started.");
        }

        if (_store is not null)
        {
            var stored = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
            var discovery = await _store.LoadDiscoveryAsync(cancellationToken).ConfigureAwait(false);
            await WithGateAsync(() => Restore(stored), flush: false).ConfigureAwait(false);
            await WithGateAsync(() => RestoreDiscovery(discovery), flush: false).ConfigureAwait(false);
        }

        StartDiscovery();

        _run = Task.Run(() => RunAsync(_cts.Token), CancellationToken.None);
        _ticker = _time.CreateTimer(_ => _ = TickAsync(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Stops the loop and closes the subscription (the master keeps the tasks for the failover timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            try
            {
                await _run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        await StopDiscoveryAsync().ConfigureAwait(false);
        _cts.Dispose();
        _gate.Dispose();
    }

    private FrameworkInfoDto BuildFrameworkInfo() => new()
    {
        User = _options.User,
        Name = _options.FrameworkName,
        Id = _frameworkId is null ? null : new IdDto(_frameworkId),
        FailoverTimeout = _options.FailoverTimeout.TotalSeconds,
        Checkpoint = true,
        Roles = [_options.Role],
        Capabilities = [new CapabilityDto("MULTI_ROLE")],
    };

    private Task RunAsync(CancellationToken ct) => SubscriptionLoop.RunAsync(
        c => _connect(BuildFrameworkInfo(), c),
        connection => WithGateAsync(() =>
        {
            _connection = connection;
            if (_frameworkId != connection.FrameworkId)
            {
                _frameworkId = connection.FrameworkId;
                _frameworkIdDirty = true;
            }

            _suppressed = false;
            _reviveNeeded = true;
            BeginReconciliation();
        }),
        batch => WithGateAsync(() =>
        {
            foreach (var evt in batch)
            {
                Handle(evt);
            }
        }),
        () => WithGateAsync(() => _connection = null, flush: false),
        _options.ResubscribeDelay,
        _time,
        maxBatch: 256,
        ct);

    /// <summary>Runs <paramref name="action"/> under the lock, then sends the calls it queued.</summary>
    private async Task<T> WithGateAsync<T>(Func<T> action, bool flush = true)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var result = action();
            if (flush)
            {
                AdvanceDeployments();
                AfterTurn();
                SyncOfferInterest();
            }

            // Persist before any call leaves: a launch is on disk before the master hears of it.
            await PersistAsync().ConfigureAwait(false);
            if (flush)
            {
                await FlushAsync().ConfigureAwait(false);
            }

            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task<bool> WithGateAsync(Action action, bool flush = true) => WithGateAsync(() =>
    {
        action();
        return true;
    }, flush);

    private async Task FlushAsync()
    {
        var calls = _outbox.ToList();
        _outbox.Clear();
        if (_connection is not { } connection)
        {
            return;
        }

        foreach (var call in calls)
        {
            try
            {
                await connection.CallAsync(call, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                // The subscription is going away; reconciliation after re-subscribing repairs the state.
            }
        }
    }

    private void SyncOfferInterest()
    {
        var wanted = !_reconciling && _waiting.Count > 0;
        if (wanted && (_suppressed || _reviveNeeded))
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Revive, Revive = new RolesCall([_options.Role]) });
            _suppressed = false;
        }
        else if (!wanted && !_suppressed)
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Suppress, Suppress = new RolesCall([_options.Role]) });
            _suppressed = true;
        }

        _reviveNeeded = false;
    }

    private void Handle(SchedulerEvent evt)
    {
        switch (evt.Type)
        {
            case SchedulerTypes.Offers when evt.Offers is not null:
                HandleOffers(evt.Offers.Offers);
                break;
            case SchedulerTypes.Update when evt.Update is not null:
                HandleUpdate(evt.Update.Status);
                break;
            case SchedulerTypes.Failure when evt.Failure?.AgentId is not null && evt.Failure.ExecutorId is null:
                // The agent is gone: its tasks' updates (LOST/GONE) follow from the master.
                break;
        }
    }

    // ---- Instance bookkeeping ----------------------------------------------------------------------------------------

    /// <summary>
    /// Moves the app's instances one step toward <see cref="AppState.Applied"/>: a rolling upgrade while instances of
    /// an older configuration remain (<see cref="RollingUpgrade"/>), otherwise scale up or down
    /// (<see cref="ScaleDownSelector"/>). Does nothing while reconciling: the instance sets are not known yet.
    /// </summary>
    private void Converge(AppState state)
    {
        _touched.Add(state.Id);
        _discoveryDirty.Add(state.Id);
        if (_reconciling || state.Applied is not { } app)
        {
            return;
        }

        var all = state.Instances.Values.ToList();
        if (app.Instances == 0)
        {
            foreach (var instance in all)
            {
                Kill(state, instance);
            }

            return;
        }

        var old = all.Where(i => i.ConfigVersion != state.ConfigVersion).ToList();
        if (old.Count > 0)
        {
            var fresh = all.Where(i => i.ConfigVersion == state.ConfigVersion).ToList();
            var decision = RollingUpgrade.Decide(app, [.. old.Select(i => i.ToDeploymentInstance(app))], [.. fresh.Select(i => i.ToDeploymentInstance(app))]);
            foreach (var id in decision.Kill)
            {
                Kill(state, state.Instances[id]);
            }

            for (var n = 0; n < decision.Launch; n++)
            {
                Schedule(state);
            }

            return;
        }

        var active = all.Count(i => !i.Decommissioned && i.State != TaskStates.Killing);
        if (active < app.Instances)
        {
            for (var n = active; n < app.Instances; n++)
            {
                Schedule(state);
            }
        }
        else if (active > app.Instances)
        {
            foreach (var id in ScaleDownSelector.SelectToKill([.. all.Select(i => i.ToDeploymentInstance(app))], app.Instances, app.KillSelection))
            {
                Kill(state, state.Instances[id]);
            }
        }
    }

    private void Schedule(AppState state)
    {
        var applied = state.Applied ?? state.App;
        var taskId = string.Join('.', applied.PathId.Segments) + "." + _newId();
        var instance = new Instance(taskId, state.Id) { ConfigVersion = state.ConfigVersion, AppVersion = applied.Version ?? state.ConfigVersion };
        state.Instances[taskId] = instance;
        state.WaitingSince ??= _time.GetUtcNow();
        _waiting.Add(state.Id);
        _tasks[taskId] = instance;
        _dirtyInstances.Add(taskId);
        _reviveNeeded = true;
    }

    private void Kill(AppState? state, Instance instance)
    {
        if (instance.IsScheduled)
        {
            state?.Instances.Remove(instance.TaskId);
            _tasks.Remove(instance.TaskId);
            _dirtyInstances.Add(instance.TaskId);
            return;
        }

        if (instance.Decommissioned)
        {
            return;
        }

        instance.Decommissioned = true;
        _dirtyInstances.Add(instance.TaskId);
        _discoveryDirty.Add(instance.AppId);
        SendKill(state, instance);
    }

    /// <summary>Sends (or re-sends) the KILL of a decommissioned instance.</summary>
    private void SendKill(AppState? state, Instance instance)
    {
        instance.KillSentAt = _time.GetUtcNow();
        var grace = state?.App.TaskKillGracePeriodSeconds;
        _outbox.Add(new SchedulerCall
        {
            Type = SchedulerTypes.Kill,
            Kill = new KillCall(
                new IdDto(instance.TaskId),
                instance.AgentId is null ? null : new IdDto(instance.AgentId),
                grace is int g ? new KillPolicyDto(new NanosDto(g * 1_000_000_000L)) : null),
        });
    }

    private void HandleUpdate(TaskStatusDto status)
    {
        var taskId = status.TaskId.Value;
        var terminal = TaskStates.IsTerminal(status.State);
        var now = _time.GetUtcNow();
        var reconciled = _reconciling && _awaitingReconcile.Remove(taskId) && _awaitingReconcile.Count == 0;
        if (_tasks.TryGetValue(taskId, out var instance))
        {
            _apps.TryGetValue(instance.AppId, out var state);
            _dirtyInstances.Add(taskId);
            _touched.Add(instance.AppId);
            _discoveryDirty.Add(instance.AppId);
            var healthChanged = status.Healthy is not null && status.Healthy != instance.Healthy;
            PublishStatus(instance, status);
            if (terminal)
            {
                _tasks.Remove(taskId);
                state?.Instances.Remove(taskId);
                // Marathon's launch-delay failures: the task failed or finished by itself, or was killed for its health;
                // not kills the scheduler ordered for scaling or upgrades.
                if (state is not null && (instance.HealthKilledAt is not null
                    || (!instance.Decommissioned && status.State is TaskStates.Failed or TaskStates.Finished or TaskStates.Error or TaskStates.Lost or TaskStates.Gone or TaskStates.Dropped)))
                {
                    state.Backoff = state.Backoff.RecordFailure(now);
                    state.LastTaskFailure = new TaskFailure(taskId, status.State, status.Message ?? "", status.AgentId?.Value ?? instance.AgentId, instance.Agent?.Hostname, now, instance.AppVersion);
                    _dirtyApps.Add(state.Id);
                }
            }
            else
            {
                instance.State = status.State;
                instance.AgentId = status.AgentId?.Value ?? instance.AgentId;
                if (status.Healthy is { } healthy)
                {
                    instance.Healthy = healthy;
                    instance.HealthMessage = status.Message;
                    instance.ConsecutiveHealthFailures = healthy ? 0 : Math.Max(1, HealthCheckTranslation.ConsecutiveFailuresOf(status));
                }

                if (status.State == TaskStates.Running)
                {
                    instance.StartedAt ??= now;
                }

                if (state is null && !instance.Decommissioned && !_deployments.Any(d => d.Plan.Original.ContainsKey(instance.AppId)))
                {
                    Kill(null, instance);
                }

                if (healthChanged)
                {
                    PublishHealth(instance);
                }
            }

            if (state is not null)
            {
                Converge(state);
            }
        }
        else if (!terminal && !_reconciling)
        {
            // A task we do not know (e.g. of a deleted app, reported by reconciliation): it must not keep running.
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(status.TaskId, status.AgentId, null) });
        }
        else if (!terminal)
        {
            _unknownDuringReconcile.Add((status.TaskId, status.AgentId));
        }

        if (status.Uuid is not null && status.AgentId is not null)
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Acknowledge, Acknowledge = new AcknowledgeCall(status.AgentId, status.TaskId, status.Uuid) });
        }

        if (reconciled)
        {
            EndReconciliation();
        }
    }

    // ---- Reconciliation ------------------------------------------------------------------------------------------------

    private readonly List<(IdDto TaskId, IdDto? AgentId)> _unknownDuringReconcile = [];

    /// <summary>
    /// After (re-)subscribing: ask the master for the state of every launched instance (explicit reconciliation, which
    /// also answers for tasks the master does not know) and of every task of ours it knows (implicit), and act on
    /// nothing until the explicit answers arrived or <see cref="AppsOptions.ReconciliationTimeout"/> passed.
    /// </summary>
    private void BeginReconciliation()
    {
        _awaitingReconcile.Clear();
        _unknownDuringReconcile.Clear();
        var launched = _tasks.Values.Where(i => !i.IsScheduled).ToList();
        foreach (var instance in launched)
        {
            _awaitingReconcile.Add(instance.TaskId);
        }

        _outbox.Add(new SchedulerCall
        {
            Type = SchedulerTypes.Reconcile,
            Reconcile = new ReconcileCall([.. launched.Select(i => new ReconcileTask(new IdDto(i.TaskId), i.AgentId is null ? null : new IdDto(i.AgentId)))]),
        });
        _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([]) });
        if (_awaitingReconcile.Count == 0)
        {
            EndReconciliation();
            return;
        }

        _reconciling = true;
        _reconcileDeadline = _time.GetUtcNow() + _options.ReconciliationTimeout;
    }

    private void EndReconciliation()
    {
        _reconciling = false;
        _awaitingReconcile.Clear();
        foreach (var (taskId, agentId) in _unknownDuringReconcile)
        {
            if (!_tasks.ContainsKey(taskId.Value))
            {
                _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(taskId, agentId, null) });
            }
        }

        _unknownDuringReconcile.Clear();

        // Kills ordered before a restart may never have reached the agent: order them again (KILL is idempotent).
        foreach (var instance in _tasks.Values.Where(i => i.Decommissioned && !i.IsScheduled).ToList())
        {
            SendKill(_apps.GetValueOrDefault(instance.AppId), instance);
        }

        foreach (var app in _apps.Values)
        {
            Converge(app);
        }
    }

    // ---- Housekeeping ------------------------------------------------------------------------------------------------

    private async Task TickAsync()
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await WithGateAsync(Tick).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Tick()
    {
        var now = _time.GetUtcNow();
        if (_reconciling && now >= _reconcileDeadline)
        {
            // Unanswered instances (e.g. on agents that have not re-registered yet) are kept as they were: nothing
            // is launched in their place, so nothing is over-scaled.
            EndReconciliation();
        }

        CheckDeadlines(now);
        KillUnhealthy(now);
        if (!_reconciling)
        {
            foreach (var instance in _tasks.Values.Where(i => i.Decommissioned && i.KillSentAt is { } sent && now - sent > _options.KillRetryInterval).ToList())
            {
                SendKill(_apps.GetValueOrDefault(instance.AppId), instance);
            }
        }

        _advanceAll = true;
        foreach (var state in _waiting.Where(_apps.ContainsKey).Select(id => _apps[id]))
        {
            if (state.Instances.Values.Any(i => i.IsScheduled) && state.Backoff.IsLaunchAllowed(now) && state.Backoff.Failures > 0)
            {
                _reviveNeeded = true;
            }
        }
    }

    // ---- Health ----------------------------------------------------------------------------------------------------------

    private readonly List<HealthKillRecord> _healthKills = [];

    /// <summary>
    /// Kills instances the agents report unhealthy beyond <c>maxConsecutiveFailures</c>, within the rate limits of
    /// <see cref="HealthKillPolicy"/> (per app, across apps, and not at all while most of an app looks unhealthy); the
    /// killed instances are replaced like failed ones (and count for the launch backoff).
    /// </summary>
    private void KillUnhealthy(DateTimeOffset now)
    {
        if (_reconciling)
        {
            return;
        }

        var apps = _apps.Values
            .Where(s => s.Applied is { HealthChecks.Count: > 0 } && s.Instances.Values.Any(i => i.Healthy == false))
            .Select(s => new AppHealth
            {
                AppId = s.Id.ToString(),
                HealthCheck = s.Applied!.HealthChecks[0],
                Instances = [.. s.Instances.Values.Where(i => !i.IsScheduled).Select(i => new InstanceHealth
                {
                    InstanceId = i.TaskId,
                    Healthy = i.Healthy,
                    ConsecutiveFailures = i.ConsecutiveHealthFailures,
                    StartedAt = i.StagedAt ?? now,
                    Running = i.IsRunning,
                    KillRequested = i.Decommissioned,
                })],
            })
            .ToList();
        if (apps.Count == 0)
        {
            return;
        }

        _healthKills.RemoveAll(k => now - k.At > TimeSpan.FromMinutes(10));
        var decision = HealthKillPolicy.Decide(apps, _healthKills, now, new HealthKillOptions { GlobalKillLimit = _options.HealthKillsPerMinute });
        foreach (var kill in decision.Kills)
        {
            var state = _apps[PathId.Parse(kill.AppId)];
            if (!state.Instances.TryGetValue(kill.InstanceId, out var instance))
            {
                continue;
            }

            _healthKills.Add(new HealthKillRecord(kill.AppId, kill.InstanceId, now));
            instance.HealthKilledAt = now;
            Kill(state, instance);
            Events.Publish("unhealthy_instance_kill_event", () => new JsonObject
            {
                ["appId"] = kill.AppId,
                ["taskId"] = instance.TaskId,
                ["instanceId"] = instance.TaskId,
                ["version"] = AppsJsonWriter.Timestamp(instance.AppVersion),
                ["reason"] = kill.Reason,
                ["host"] = instance.Agent?.Hostname,
                ["slaveId"] = instance.AgentId,
            });
            Converge(state);
        }
    }

    // ---- Offers -------------------------------------------------------------------------------------------------------

    private void HandleOffers(IReadOnlyList<OfferDto> offers)
    {
        var now = _time.GetUtcNow();
        var filters = new FiltersDto(_options.RefuseOffers.TotalSeconds);
        var declined = new List<IdDto>();
        if (_reconciling)
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Decline, Decline = new DeclineCall([.. offers.Select(o => o.Id)], new FiltersDto(1)) });
            return;
        }

        foreach (var offer in offers)
        {
            var pool = OfferPool.From(offer);
            var agent = new AgentInfo(offer.Hostname, ResourceConversions.FromAttributes(offer.Attributes));
            var role = offer.AllocationInfo?.Role ?? "*";
            var tasks = new List<TaskInfoDto>();
            foreach (var id in _waiting.ToList())
            {
                if (!_apps.TryGetValue(id, out var state) || !state.Instances.Values.Any(i => i.IsScheduled))
                {
                    _waiting.Remove(id);
                    continue;
                }

                if (state.Applied is not { } app)
                {
                    continue;
                }

                if ((app.Role ?? AppDefaults.Role) != role)
                {
                    state.Offers.Record(now, offer.Hostname, used: false, "UnfulfilledRole", $"offer is for role '{role}', the app needs '{app.Role ?? AppDefaults.Role}'");
                    continue;
                }

                if (!state.Backoff.IsLaunchAllowed(now))
                {
                    continue;
                }

                string? reason = null;
                string? detail = null;
                var used = false;
                if (NeedsDocker(app) && agent.Attributes?.ContainsKey(AgentCapabilities.DockerAttribute) != true)
                {
                    state.Offers.Record(now, offer.Hostname, used: false, "NoDockerOnAgent", $"{offer.Hostname} does not advertise Docker (no '{AgentCapabilities.DockerAttribute}' attribute: no Docker daemon answers there)");
                    continue;
                }

                foreach (var instance in state.Instances.Values.Where(i => i.IsScheduled).ToList())
                {
                    var placed = state.Instances.Values.Where(i => i.Agent is not null).Select(i => i.Agent!).ToList();
                    var placement = ConstraintEvaluator.Evaluate(app, agent, placed);
                    if (!placement.IsAccepted)
                    {
                        (reason, detail) = ("UnfulfilledConstraint", $"{placement.RefusedBy}: {placement.Reason}");
                        break;
                    }

                    if (pool.TryTake(app, role, out var missing) is not { } taken)
                    {
                        (reason, detail) = (missing, $"{offer.Hostname} has not enough left for one instance ({Describe(app)})");
                        break;
                    }

                    used = true;
                    instance.State = TaskStates.Staging;
                    instance.AgentId = offer.AgentId.Value;
                    instance.Agent = agent;
                    instance.Ip = IpOf(offer);
                    instance.StagedAt = now;
                    instance.Ports = taken.Ports;
                    _dirtyInstances.Add(instance.TaskId);
                    tasks.Add(BuildTask(app, instance, offer, taken));
                }

                state.Offers.Record(now, offer.Hostname, used, reason, detail);
                if (!state.Instances.Values.Any(i => i.IsScheduled))
                {
                    state.WaitingSince = null;
                    _waiting.Remove(id);
                }
            }

            if (tasks.Count == 0)
            {
                declined.Add(offer.Id);
            }
            else
            {
                // What is left of an accepted offer comes back at the next allocation cycle: more instances may be waiting.
                _outbox.Add(new SchedulerCall
                {
                    Type = SchedulerTypes.Accept,
                    Accept = new AcceptCall([offer.Id], [new OperationDto { Type = SchedulerTypes.Launch, Launch = new LaunchDto(tasks) }], new FiltersDto(0)),
                });
            }
        }

        if (declined.Count > 0)
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Decline, Decline = new DeclineCall(declined, filters) });
        }
    }

    private static string Describe(AppDefinition app) =>
        string.Create(CultureInfo.InvariantCulture, $"cpus {app.Cpus}, mem {app.Mem}, disk {app.Disk}")
        + (app.Gpus > 0 ? string.Create(CultureInfo.InvariantCulture, $", gpus {app.Gpus}") : "")
        + (app.PortDefinitions is { Count: > 0 } ports ? string.Create(CultureInfo.InvariantCulture, $", {ports.Count} ports") : "");

    /// <summary>True when the app runs in a Docker container (container type DOCKER with an image).</summary>
    internal static bool NeedsDocker(AppDefinition app) =>
        app.Container is { Type: ContainerTypes.Docker, Docker.Image.Length: > 0 };

    /// <summary>
    /// Mesos <c>ContainerInfo</c> for a Docker app: image, network (host → HOST, container/bridge → BRIDGE, a named
    /// container network → USER), port mappings with the host ports taken from the offer (in mapping order; container
    /// port 0 = the host port), host volumes, privileged, parameters and forcePullImage. Null for other apps.
    /// </summary>
    internal static ContainerInfoDto? BuildContainer(AppDefinition app, IReadOnlyList<long> hostPorts)
    {
        if (!NeedsDocker(app))
        {
            return null;
        }

        var docker = app.Container!.Docker!;
        var network = app.UsesHostNetworking ? DockerNetworkModes.Host
            : app.Networks.Any(n => n.Mode == NetworkModes.ContainerBridge) ? DockerNetworkModes.Bridge
            : DockerNetworkModes.User;
        List<DockerPortMappingDto>? mappings = null;
        if (network == DockerNetworkModes.Bridge && app.Container.PortMappings is { Count: > 0 } portMappings)
        {
            mappings = [];
            var next = 0;
            foreach (var m in portMappings.Where(m => m.HostPort is not null))
            {
                if (next >= hostPorts.Count)
                {
                    break;
                }

                var host = (int)hostPorts[next++];
                mappings.Add(new DockerPortMappingDto { HostPort = host, ContainerPort = m.ContainerPort == 0 ? host : m.ContainerPort, Protocol = m.Protocol });
            }
        }

        var volumes = app.Container.Volumes
            .Where(v => v.HostPath is not null)
            .Select(v => new VolumeDto { ContainerPath = v.ContainerPath, HostPath = v.HostPath, Mode = v.Mode ?? "RW" })
            .ToList();
        return new ContainerInfoDto
        {
            Type = ContainerInfoTypes.Docker,
            Docker = new DockerInfoDto
            {
                Image = docker.Image,
                Network = network,
                PortMappings = mappings,
                Privileged = docker.Privileged ? true : null,
                Parameters = docker.Parameters.Count == 0 ? null : [.. docker.Parameters.Select(p => new ParameterDto(p.Key, p.Value))],
                ForcePullImage = docker.ForcePullImage ? true : null,
            },
            Volumes = volumes.Count == 0 ? null : volumes,
        };
    }

    private TaskInfoDto BuildTask(AppDefinition app, Instance instance, OfferDto offer, OfferPool.Taken taken)
    {
        var env = new List<EnvironmentVariableDto>();
        foreach (var (name, value) in app.Env)
        {
            if (!value.IsSecretRef)
            {
                env.Add(new EnvironmentVariableDto(name, value.Value));
            }
        }

        env.Add(new EnvironmentVariableDto("MARATHON_APP_ID", app.Id));
        env.Add(new EnvironmentVariableDto("MARATHON_APP_VERSION", AppsJsonWriter.Timestamp(instance.AppVersion)));
        env.Add(new EnvironmentVariableDto("MESOS_TASK_ID", instance.TaskId));
        env.Add(new EnvironmentVariableDto("HOST", offer.Hostname));
        var ports = taken.Ports.Select(p => p.ToString(CultureInfo.InvariantCulture)).ToList();
        if (ports.Count > 0)
        {
            env.Add(new EnvironmentVariableDto("PORTS", string.Join(',', ports)));
            env.Add(new EnvironmentVariableDto("PORT", ports[0]));
            for (var i = 0; i < ports.Count; i++)
            {
                env.Add(new EnvironmentVariableDto("PORT" + i.ToString(CultureInfo.InvariantCulture), ports[i]));
            }
        }

        AddDiscoveryEnvironment(env, app, taken.Ports);

        var container = BuildContainer(app, taken.Ports);
        var command = app.Cmd is not null || app.Args.Count == 0
            ? new CommandDto { Value = app.Cmd ?? "", Shell = true }
            : container is not null
                ? new CommandDto { Shell = false, Arguments = [.. app.Args] } // Docker: args are the image's command (its entrypoint applies)
                : new CommandDto { Value = app.Args[0], Shell = false, Arguments = [.. app.Args] };
        command = command with
        {
            Environment = new EnvironmentDto(env),
            User = app.User,
            Uris = app.Fetch.Count == 0 ? null : [.. app.Fetch.Select(f => new UriDto { Value = f.Uri, Executable = f.Executable, Extract = f.Extract })],
        };

        return new TaskInfoDto
        {
            Name = string.Join('.', app.PathId.Segments.Reverse()),
            TaskId = new IdDto(instance.TaskId),
            AgentId = offer.AgentId,
            Resources = taken.Resources,
            Command = command,
            KillPolicy = app.TaskKillGracePeriodSeconds is int g ? new KillPolicyDto(new NanosDto(g * 1_000_000_000L)) : null,
            HealthCheck = app.HealthChecks.Count == 0
                ? null
                : HealthCheckTranslation.Translate(app.HealthChecks[0], [.. taken.Ports.Select(p => (int)p)]).HealthCheck,
            Labels = app.Labels.Count == 0 ? null : new LabelsDto([.. app.Labels.Select(kv => new LabelDto(kv.Key, kv.Value))]),
            Container = container,
        };
    }
}
