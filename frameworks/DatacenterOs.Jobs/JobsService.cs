using System.Globalization;
using System.Text.RegularExpressions;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Jobs.Core;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Jobs;

/// <summary>
/// The Jobs framework loop (Chronos's scheduler): subscribes to the master as <c>jobs</c>, asks
/// <see cref="JobTrigger.Due(JobTriggerInput)"/> what is due whenever something changes or a wake-up fires, persists the
/// plan (runs and cursors) before acting on it, launches the runs to start on offers (the job's cpus/mem/disk, its
/// command through the shell or as argv, its environment and Chronos's <c>CHRONOS_*</c> variables), records outcomes
/// from status updates (TASK_FINISHED = success; TASK_FAILED/LOST/ERROR/DROPPED/GONE = failure, retried by the trigger
/// after <c>retryDelaySeconds</c>; TASK_KILLED = killed), kills what the plan says to kill (REPLACE, past
/// <c>maxRunSeconds</c>, deleted jobs), and serves the Chronos <c>/v1/scheduler</c> API (<see cref="MapJobsEndpoints"/>).
/// After (re-)subscribing it reconciles every running run with the master before deciding anything, so a restart at any
/// moment neither duplicates nor loses a run. Every state change runs under one async lock.
/// <para>
/// Clocks: every job decision (schedules, retries, deadlines, run-time limits) uses the injected
/// <see cref="TimeProvider"/>; talking to the master (re-subscription delay, reconciliation timeout) uses the wall clock.
/// </para>
/// </summary>
public sealed partial class JobsService : IAsyncDisposable
{
    private readonly Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> _connect;
    private readonly JobsOptions _options;
    private readonly TimeProvider _time;
    private readonly JobsStore? _store;
    private readonly IWakeUps _wakeUps;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _cts = new();

    private readonly Dictionary<string, JobRun> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _runByTask = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _runningAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _stdout = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _killReasons = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JobCursor> _cursors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Uri> _agentUrls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _notes = new(StringComparer.Ordinal);
    private readonly List<SchedulerCall> _outbox = [];
    private readonly List<OfferDto> _heldOffers = [];
    private readonly HashSet<string> _awaitingReconcile = new(StringComparer.Ordinal);
    private readonly List<(IdDto TaskId, IdDto? AgentId)> _unknownDuringReconcile = [];

    private readonly HashSet<string> _dirtyRuns = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtyJobs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedJobs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dirtyCursors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedCursors = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pruneJobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _newRowsSincePrune = new(StringComparer.Ordinal);
    private bool _metaDirty;

    private volatile JobGraph _graph = JobGraph.Empty;
    private DateTimeOffset? _lastEvaluated;
    private DateTimeOffset _highWater;
    private List<JobRun> _toLaunch = [];
    private DateTimeOffset? _nextWakeUp;
    private DateTimeOffset? _wakeUpAt;
    private bool _offersSoon;
    private ISchedulerConnection? _connection;
    private string? _frameworkId;
    private bool _reconciling;
    private bool _reconciledOnce;
    private DateTimeOffset _reconcileDeadline;
    private bool _suppressed;
    private bool _reviveNeeded;
    private bool _evaluationQueued;
    private bool _started;
    private ITimer? _ticker;
    private Task? _run;

    /// <summary>Creates the service; call <see cref="StartAsync"/> to load the store and subscribe.</summary>
    /// <param name="connect">Subscribes a framework (e.g. <see cref="ConnectOver(ISchedulerTransport)"/>).</param>
    /// <param name="options">Settings (defaults when null).</param>
    /// <param name="time">Clock of every job decision: schedules, retries, deadlines, run instants (system clock when null).</param>
    /// <param name="store">
    /// Where jobs, runs and cursors are persisted (loaded by <see cref="StartAsync"/>), and whose file holds the Quartz
    /// triggers; null keeps everything in memory, so a restart forgets every job.
    /// </param>
    public JobsService(
        Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> connect,
        JobsOptions? options = null,
        TimeProvider? time = null,
        JobsStore? store = null)
    {
        ArgumentNullException.ThrowIfNull(connect);
        _connect = connect;
        _options = options ?? new JobsOptions();
        _time = time ?? TimeProvider.System;
        _store = store;
        _frameworkId = _options.FrameworkId;
        _wakeUps = store is not null && _options.UseQuartz ? new QuartzWakeUps(store.ConnectionString, _time, store.Engine == Storage.SqlEngine.Postgres) : new TimerWakeUps(_time);
    }

    /// <summary>The framework id the master assigned, once subscribed.</summary>
    public string? FrameworkId => _frameworkId;

    /// <summary>True while subscribed to the master.</summary>
    public bool IsConnected => _connection is not null;

    /// <summary>True while the service waits for the master's answers to its reconciliation before acting.</summary>
    public bool IsReconciling => _reconciling;

    /// <summary>The instant of the next timed evaluation (next occurrence, retry, deadline or run-time limit), or null.</summary>
    public DateTimeOffset? NextWakeUp => _nextWakeUp;

    /// <summary>The Chronos <c>owner</c> of the stored job <paramref name="name"/> (empty when unset), or null when there is no such job.</summary>
    public string? OwnerOf(string name) => _graph.Find(name)?.Owner;

    /// <summary>A connection factory over <paramref name="transport"/> (e.g. the master's in-process transport).</summary>
    public static Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> ConnectOver(ISchedulerTransport transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return async (info, ct) => await TransportSchedulerConnection.SubscribeAsync(transport, info, null, ct).ConfigureAwait(false);
    }

    /// <summary>A connection factory over HTTP to the master at <paramref name="master"/> (e.g. <c>http://127.0.0.1:5050</c>).</summary>
    public static Func<FrameworkInfoDto, CancellationToken, Task<ISchedulerConnection>> ConnectOver(HttpClient http, Uri master)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(master);
        return async (info, ct) => await HttpSchedulerConnection.SubscribeAsync(http, master, info, null, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Loads the persisted jobs, runs and cursors (if there is a store), starts the wake-ups (Quartz or a timer) and the
    /// subscription loop in the background. Nothing is evaluated before the first reconciliation with the master ends.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already started.</exception>
    /// <exception cref="Microsoft.Data.Sqlite.SqliteException">The store cannot be read.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_run is not null)
        {
            throw new InvalidOperationException("The Jobs service is already started.");
        }

        if (_store is not null)
        {
            var stored = await _store.LoadAsync(Math.Max(1, _options.RunsInMemoryPerJob), cancellationToken).ConfigureAwait(false);
            await WithGateAsync(() => Restore(stored), flush: false).ConfigureAwait(false);
        }

        await _wakeUps.StartAsync(WakeUpAsync, cancellationToken).ConfigureAwait(false);
        _started = true;
        _run = Task.Run(() => RunAsync(_cts.Token), CancellationToken.None);
        _ticker = TimeProvider.System.CreateTimer(_ => _ = TickAsync(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Stops the loop, the wake-ups and the subscription (the master keeps the tasks for the failover timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ticker is not null)
        {
            await _ticker.DisposeAsync().ConfigureAwait(false);
        }

        await _cts.CancelAsync().ConfigureAwait(false);
        await _wakeUps.DisposeAsync().ConfigureAwait(false);
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

        // Wait for whatever still holds the lock (an API call, a stdout fetch) before releasing it.
        await _gate.WaitAsync().ConfigureAwait(false);
        _gate.Release();
        _http.Dispose();
        _cts.Dispose();
    }

    private void Restore(StoredJobsState stored)
    {
        _frameworkId ??= stored.FrameworkId;
        _lastEvaluated = stored.LastEvaluated;
        _highWater = stored.LastEvaluated ?? default;
        var jobs = new List<JobDefinition>();
        foreach (var json in stored.Jobs)
        {
            if (JobJson.Parse(json).Value is { } job)
            {
                jobs.Add(job);
            }
        }

        _graph = JobGraph.TryCreate(jobs).Graph ?? JobGraph.Create(jobs.Where(j => j.Parents is null));
        foreach (var (name, cursor) in stored.Cursors)
        {
            _cursors[name] = cursor;
        }

        foreach (var row in stored.Runs)
        {
            PutRun(row.Run, dirty: false);
            if (row.RunningAt is { } at)
            {
                _runningAt[row.Run.RunId] = at;
            }

            if (row.Stdout is { } text)
            {
                _stdout[row.Run.RunId] = text;
            }
        }
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

    // Events are handled in batches (whatever arrived while the previous batch was handled), each batch under one lock
    // with one store transaction: a burst of status updates costs one write, not hundreds.
    private Task RunAsync(CancellationToken ct) => SubscriptionLoop.RunAsync(
        c => _connect(BuildFrameworkInfo(), c),
        connection => WithGateAsync(() =>
        {
            _connection = connection;
            _heldOffers.Clear();
            if (_frameworkId != connection.FrameworkId)
            {
                _frameworkId = connection.FrameworkId;
                _metaDirty = true;
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
        () => WithGateAsync(
            () =>
            {
                _connection = null;
                _heldOffers.Clear();
            },
            flush: false),
        _options.ResubscribeDelay,
        TimeProvider.System,
        maxBatch: 1000,
        ct);

    /// <summary>
    /// Runs <paramref name="action"/> under the lock; then (with <paramref name="flush"/>) adjusts offer interest,
    /// persists every change, sends the queued calls and moves the wake-up. Persisting comes first: a run row is on disk
    /// before its launch leaves.
    /// </summary>
    private async Task<T> WithGateAsync<T>(Func<T> action, bool flush = true)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var result = action();
            if (flush)
            {
                SyncOfferInterest();
            }

            await PersistAsync().ConfigureAwait(false);
            if (flush)
            {
                await FlushAsync().ConfigureAwait(false);
                await SyncWakeUpAsync().ConfigureAwait(false);
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

    private async Task PersistAsync()
    {
        if (_store is null)
        {
            ClearDirty();
            return;
        }

        var changes = new JobsStoreChanges();
        if (_metaDirty)
        {
            if (_frameworkId is not null)
            {
                changes.Meta["framework_id"] = _frameworkId;
            }

            if (_lastEvaluated is { } last)
            {
                changes.Meta["last_evaluated"] = JobsStore.FormatInstant(last);
            }
        }

        foreach (var name in _deletedJobs)
        {
            changes.DeletedJobs.Add(name);
        }

        foreach (var name in _dirtyJobs)
        {
            if (_graph.Find(name) is { } job)
            {
                changes.Jobs[name] = JobJson.Serialize(job);
            }
        }

        foreach (var id in _dirtyRuns)
        {
            if (_runs.TryGetValue(id, out var run))
            {
                changes.Runs.Add(new StoredRun(run, _runningAt.GetValueOrDefault(id) is var at && at != default ? at : null, _stdout.GetValueOrDefault(id)));
            }
        }

        foreach (var name in _deletedCursors)
        {
            changes.DeletedCursors.Add(name);
        }

        foreach (var name in _dirtyCursors)
        {
            if (_cursors.TryGetValue(name, out var cursor))
            {
                changes.Cursors[name] = cursor;
            }
        }

        foreach (var name in _pruneJobs)
        {
            changes.PruneJobs.Add(name);
        }

        ClearDirty();
        if (!changes.IsEmpty)
        {
            await _store.SaveAsync(changes, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private void ClearDirty()
    {
        _metaDirty = false;
        _dirtyJobs.Clear();
        _deletedJobs.Clear();
        _dirtyRuns.Clear();
        _dirtyCursors.Clear();
        _deletedCursors.Clear();
        _pruneJobs.Clear();
    }

    /// <summary>
    /// Sends the queued calls: in order, except acknowledgements, which are independent of each other and of the rest
    /// and go out together afterwards (a burst of status updates does not wait for one master round trip per ack).
    /// </summary>
    private async Task FlushAsync()
    {
        var calls = _outbox.ToList();
        _outbox.Clear();
        if (_connection is not { } connection)
        {
            return;
        }

        foreach (var call in calls.Where(c => c.Type != SchedulerTypes.Acknowledge))
        {
            await SendAsync(connection, call).ConfigureAwait(false);
        }

        var acks = calls.Where(c => c.Type == SchedulerTypes.Acknowledge).ToList();
        if (acks.Count > 0)
        {
            await Task.WhenAll(acks.Select(a => SendAsync(connection, a))).ConfigureAwait(false);
        }
    }

    private static async Task SendAsync(ISchedulerConnection connection, SchedulerCall call)
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

    private async Task SyncWakeUpAsync()
    {
        if (!_started || _cts.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _wakeUps.SetAsync(_wakeUpAt, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Quartz.SchedulerException or ObjectDisposedException or InvalidOperationException)
        {
            // The scheduler is shutting down; the next start recomputes the wake-up from the store.
        }
    }

    private void SyncOfferInterest()
    {
        var wanted = !_reconciling && (_toLaunch.Count > 0 || _offersSoon);
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

    /// <summary>A wake-up set for <paramref name="due"/>: evaluates, unless an evaluation already looked at or past it.</summary>
    private async Task WakeUpAsync(DateTimeOffset due)
    {
        if (_cts.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await WithGateAsync(() =>
            {
                if (_lastEvaluated is not { } last || last < due)
                {
                    Evaluate();
                }
            }).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Asks for an evaluation soon, coalescing the requests of a burst of events into one.</summary>
    private void RequestEvaluation()
    {
        if (_evaluationQueued || _cts.IsCancellationRequested)
        {
            return;
        }

        _evaluationQueued = true;
        _ = Task.Run(async () =>
        {
            try
            {
                await WithGateAsync(() =>
                {
                    _evaluationQueued = false;
                    Evaluate();
                }).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        });
    }

    // ---- Evaluation ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// The current instant for decisions and records: the injected clock, but never before an instant already recorded
    /// (the last evaluation, an outcome), so recorded instants never go backwards.
    /// </summary>
    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        if (_highWater > now)
        {
            now = _highWater;
        }

        _highWater = now;
        return now;
    }

    /// <summary>
    /// The instant an outcome is recorded at: <see cref="Now"/>, but strictly after the last evaluation (which did not
    /// see the outcome), as <see cref="JobTriggerInput.LastEvaluated"/> requires.
    /// </summary>
    private DateTimeOffset OutcomeInstant()
    {
        var now = Now();
        if (_lastEvaluated is { } last && now <= last)
        {
            now = last.AddTicks(1);
            _highWater = now;
        }

        return now;
    }

    /// <summary>
    /// Runs the trigger over the current state and applies its plan: new and updated runs and cursors are recorded (and
    /// persisted by the caller before anything is sent), the runs to start wait for offers, kills are sent, the next
    /// wake-up is moved. Does nothing before the first reconciliation with the master has ended, nor while reconciling.
    /// </summary>
    private void Evaluate()
    {
        // Nothing is decided before the master has told us what became of the runs that were running (after a restart
        // or a lost subscription); API changes and wake-ups meanwhile are evaluated when the reconciliation ends.
        if (!_started || _reconciling || !_reconciledOnce)
        {
            return;
        }

        var plan = JobTrigger.Due(new JobTriggerInput
        {
            Graph = _graph,
            Runs = _runs.Values.ToList(),
            Cursors = _cursors,
            LastEvaluated = _lastEvaluated,
            Now = Now(),
            Options = _options.Trigger,
        });

        foreach (var run in plan.NewRuns.Concat(plan.UpdatedRuns))
        {
            PutRun(run);
        }

        foreach (var (name, cursor) in plan.CursorUpdates)
        {
            _cursors[name] = cursor;
            _dirtyCursors.Add(name);
            _deletedCursors.Remove(name);
        }

        foreach (var name in plan.CursorRemovals)
        {
            _cursors.Remove(name);
            _deletedCursors.Add(name);
            _dirtyCursors.Remove(name);
        }

        foreach (var note in plan.Notes)
        {
            _notes[note.JobName] = note.Message;
        }

        _lastEvaluated = plan.EvaluatedAt;
        _metaDirty = true;
        _toLaunch = [.. plan.Start];
        if (_toLaunch.Count > 0)
        {
            _reviveNeeded = _suppressed;
        }

        foreach (var kill in plan.Kill)
        {
            RequestKill(kill.Run, kill.Reason);
        }

        _nextWakeUp = plan.NextWakeUp;
        PrepareForNextWakeUp(plan.EvaluatedAt);
        PruneMemory();
    }

    /// <summary>
    /// Sets the wake-up: <see cref="JobsOptions.OfferHoldWindow"/> before the plan's next wake-up (to ask for offers
    /// early), then at it. Launches waiting runs on offers held for them, and lets held offers go when nothing is due soon.
    /// </summary>
    private void PrepareForNextWakeUp(DateTimeOffset now)
    {
        var window = _options.OfferHoldWindow;
        _offersSoon = window > TimeSpan.Zero && _nextWakeUp is { } next && next - now <= window;
        _wakeUpAt = _nextWakeUp is { } at && window > TimeSpan.Zero && at - window > now ? at - window : _nextWakeUp;
        if (_heldOffers.Count == 0)
        {
            return;
        }

        var held = _heldOffers.ToList();
        _heldOffers.Clear();
        if (_toLaunch.Count > 0)
        {
            LaunchOn(held);
        }
        else if (!_offersSoon)
        {
            Decline(held, _options.RefuseOffers.TotalSeconds);
        }
        else
        {
            _heldOffers.AddRange(held);
        }
    }

    private void Decline(List<OfferDto> offers, double refuseSeconds)
    {
        if (offers.Count > 0)
        {
            _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Decline, Decline = new DeclineCall([.. offers.Select(o => o.Id)], new FiltersDto(refuseSeconds)) });
        }
    }

    private void PutRun(JobRun run, bool dirty = true)
    {
        _runs[run.RunId] = run;
        if (run.TaskId is { } taskId)
        {
            _runByTask[taskId] = run.RunId;
        }

        if (dirty && _dirtyRuns.Add(run.RunId))
        {
            // The store trims a job's history beyond JobsStore.MaxRunsPerJob; checking that every 100 new rows is enough.
            var count = _newRowsSincePrune.GetValueOrDefault(run.JobName) + 1;
            if (count >= 100)
            {
                _pruneJobs.Add(run.JobName);
                count = 0;
            }

            _newRowsSincePrune[run.JobName] = count;
        }
    }

    /// <summary>
    /// Drops from memory the finished runs the trigger no longer needs: beyond the newest
    /// <see cref="JobsOptions.RunsInMemoryPerJob"/> of their job, finished before the last evaluation (already followed
    /// up) and in a DAG run without unfinished runs. They stay in the store.
    /// </summary>
    private void PruneMemory()
    {
        var keep = Math.Max(1, _options.RunsInMemoryPerJob);
        var activeDags = _runs.Values.Where(r => !r.IsTerminal).Select(r => r.DagRunId).ToHashSet(StringComparer.Ordinal);
        foreach (var group in _runs.Values.GroupBy(r => r.JobName, StringComparer.Ordinal).Where(g => g.Count() > keep).ToList())
        {
            foreach (var run in group.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.RunId, StringComparer.Ordinal).Skip(keep))
            {
                if (run.IsTerminal && run.FinishedAt <= _lastEvaluated && !activeDags.Contains(run.DagRunId) && !_dirtyRuns.Contains(run.RunId))
                {
                    _runs.Remove(run.RunId);
                    _runningAt.Remove(run.RunId);
                    _stdout.Remove(run.RunId);
                    _killReasons.Remove(run.RunId);
                    if (run.TaskId is { } taskId)
                    {
                        _runByTask.Remove(taskId);
                    }
                }
            }
        }
    }

    private void RequestKill(JobRun run, string reason)
    {
        var current = _runs.GetValueOrDefault(run.RunId) ?? run;
        if (current.State == JobRunState.Pending)
        {
            PutRun(current.Killed(OutcomeInstant(), reason));
            _toLaunch.RemoveAll(r => r.RunId == current.RunId);
            return;
        }

        if (current.State != JobRunState.Running || current.TaskId is null)
        {
            return;
        }

        _killReasons.TryAdd(current.RunId, reason);
        _outbox.Add(new SchedulerCall
        {
            Type = SchedulerTypes.Kill,
            Kill = new KillCall(new IdDto(current.TaskId), current.AgentId is null ? null : new IdDto(current.AgentId), null),
        });
    }

    // ---- Events -------------------------------------------------------------------------------------------------------

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
            case SchedulerTypes.Rescind when evt.Rescind is not null:
                _heldOffers.RemoveAll(o => o.Id.Value == evt.Rescind.OfferId.Value);
                break;
        }
    }

    private void HandleUpdate(TaskStatusDto status)
    {
        var taskId = status.TaskId.Value;
        var terminal = TaskStates.IsTerminal(status.State);
        var reconciled = _reconciling && _awaitingReconcile.Remove(taskId) && _awaitingReconcile.Count == 0;
        if (_runByTask.TryGetValue(taskId, out var runId) && _runs.TryGetValue(runId, out var run))
        {
            if (run.State == JobRunState.Running)
            {
                if (status.State == TaskStates.Running && !_runningAt.ContainsKey(runId))
                {
                    _runningAt[runId] = Now();
                    _dirtyRuns.Add(runId);
                }
                else if (terminal)
                {
                    var ended = Outcome(run, status);
                    PutRun(ended);
                    _killReasons.Remove(runId);
                    if (_graph.Find(ended.JobName) is { } job)
                    {
                        var updated = JobRuns.ApplyOutcome(job, ended);
                        if (updated != job)
                        {
                            ReplaceJob(updated);
                        }
                    }

                    FetchStdoutLater(ended);
                    RequestEvaluation();
                }
            }
            else if (!terminal && run.IsTerminal && !_reconciling)
            {
                // A task of a run we already closed (e.g. killed while the master was away): it must not keep running.
                _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(status.TaskId, status.AgentId, null) });
            }
        }
        else if (!terminal && !_reconciling)
        {
            // A task we do not know (e.g. of a deleted job, reported by reconciliation): it must not keep running.
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

    /// <summary>The run after a terminal status of its task.</summary>
    private JobRun Outcome(JobRun run, TaskStatusDto status)
    {
        var at = OutcomeInstant();
        var message = status.Message ?? status.State;
        switch (status.State)
        {
            case TaskStates.Finished:
                return run.Finished(at, 0);
            case TaskStates.Failed when ExitCodeOf(status.Message) is { } code:
                return code == 0 ? run.Failed(at, message) : run.Finished(at, code, message);
            case TaskStates.Killed:
                return run.Killed(at, _killReasons.TryGetValue(run.RunId, out var reason) ? reason : message);
            default:
                return run.Failed(at, $"{status.State}: {message}");
        }
    }

    /// <summary>The exit code in an agent's message such as <c>Command exited with status 3</c>, or null.</summary>
    internal static int? ExitCodeOf(string? message) =>
        message is not null && ExitStatusRegex().Match(message) is { Success: true } m
            && int.TryParse(m.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code)
            ? code
            : null;

    [GeneratedRegex(@"exited with (?:status|code) (-?\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex ExitStatusRegex();

    private void ReplaceJob(JobDefinition job)
    {
        var result = _graph.WithJob(job);
        if (result.Graph is { } graph)
        {
            _graph = graph;
            _dirtyJobs.Add(job.Name);
        }
    }

    // ---- Reconciliation -----------------------------------------------------------------------------------------------

    /// <summary>
    /// After (re-)subscribing: ask the master about every running run's task (explicit reconciliation, answered even for
    /// tasks the master does not know, which then fail and are retried) and about every task of ours it knows
    /// (implicit), and decide nothing until the explicit answers arrived or <see cref="JobsOptions.ReconciliationTimeout"/>
    /// passed.
    /// </summary>
    private void BeginReconciliation()
    {
        _awaitingReconcile.Clear();
        _unknownDuringReconcile.Clear();
        var running = _runs.Values.Where(r => r.State == JobRunState.Running && r.TaskId is not null).ToList();
        foreach (var run in running)
        {
            _awaitingReconcile.Add(run.TaskId!);
        }

        _outbox.Add(new SchedulerCall
        {
            Type = SchedulerTypes.Reconcile,
            Reconcile = new ReconcileCall([.. running.Select(r => new ReconcileTask(new IdDto(r.TaskId!), r.AgentId is null ? null : new IdDto(r.AgentId)))]),
        });
        _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([]) });
        if (_awaitingReconcile.Count == 0)
        {
            EndReconciliation();
            return;
        }

        _reconciling = true;
        _reconcileDeadline = TimeProvider.System.GetUtcNow() + _options.ReconciliationTimeout;
    }

    private void EndReconciliation()
    {
        _reconciling = false;
        _reconciledOnce = true;
        _awaitingReconcile.Clear();
        foreach (var (taskId, agentId) in _unknownDuringReconcile)
        {
            if (!_runByTask.TryGetValue(taskId.Value, out var runId) || _runs.GetValueOrDefault(runId)?.State != JobRunState.Running)
            {
                _outbox.Add(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(taskId, agentId, null) });
            }
        }

        _unknownDuringReconcile.Clear();
        Evaluate();
    }

    private async Task TickAsync()
    {
        if (_cts.IsCancellationRequested || !_reconciling)
        {
            return;
        }

        try
        {
            await WithGateAsync(() =>
            {
                if (_reconciling && TimeProvider.System.GetUtcNow() >= _reconcileDeadline)
                {
                    // Unanswered runs (e.g. on agents that have not re-registered yet) stay Running: nothing is
                    // launched in their place, so nothing runs twice.
                    EndReconciliation();
                }
            }).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    // ---- Offers -------------------------------------------------------------------------------------------------------

    private void HandleOffers(IReadOnlyList<OfferDto> offers)
    {
        if (_reconciling)
        {
            Decline([.. offers], 1);
        }
        else if (_toLaunch.Count > 0)
        {
            LaunchOn([.. offers]);
        }
        else if (_offersSoon)
        {
            // Runs are due within the hold window: keep the offers to launch them the moment they are due.
            _heldOffers.AddRange(offers);
        }
        else
        {
            Decline([.. offers], _options.RefuseOffers.TotalSeconds);
        }
    }

    /// <summary>Launches the waiting runs on <paramref name="offers"/>; unused offers are held (runs due soon) or declined.</summary>
    private void LaunchOn(List<OfferDto> offers)
    {
        var declined = new List<OfferDto>();
        var now = Now();
        foreach (var offer in offers)
        {
            if (offer.Url is { } url)
            {
                _agentUrls[offer.AgentId.Value] = new Uri($"{url.Scheme}://{url.Address.Ip ?? url.Address.Hostname}:{url.Address.Port.ToString(CultureInfo.InvariantCulture)}");
            }

            var role = offer.AllocationInfo?.Role ?? "*";
            var pool = OfferScalars(offer, role);
            var attributes = ResourceConversions.FromAttributes(offer.Attributes);
            var tasks = new List<TaskInfoDto>();
            var launched = new HashSet<string>(StringComparer.Ordinal);
            foreach (var candidate in _toLaunch)
            {
                if (_runs.GetValueOrDefault(candidate.RunId) is not { State: JobRunState.Pending } run
                    || _graph.Find(run.JobName) is not { Disabled: false } job
                    || !Fits(pool, job)
                    || !Placement.Accepts(job, offer.Hostname, attributes)
                    || !DockerJobs.Accepts(job, attributes))
                {
                    continue;
                }

                Take(pool, job);
                var taskId = TaskIdOf(run);
                PutRun(run.Started(now, taskId, offer.AgentId.Value));
                launched.Add(run.RunId);
                tasks.Add(BuildTask(job, _runs[run.RunId], offer, role));
            }

            _toLaunch.RemoveAll(r => launched.Contains(r.RunId));
            if (tasks.Count == 0)
            {
                declined.Add(offer);
            }
            else
            {
                _outbox.Add(new SchedulerCall
                {
                    Type = SchedulerTypes.Accept,
                    Accept = new AcceptCall([offer.Id], [new OperationDto { Type = SchedulerTypes.Launch, Launch = new LaunchDto(tasks) }], new FiltersDto(0)),
                });
            }
        }

        if (_toLaunch.Count == 0 && _offersSoon)
        {
            _heldOffers.AddRange(declined);
        }
        else
        {
            // Runs still waiting want the declined agents back soon.
            Decline(declined, _toLaunch.Count > 0 ? 1 : _options.RefuseOffers.TotalSeconds);
        }
    }

    /// <summary>The task id of a run: <c>ct:</c> and the run id with <c>/</c> replaced by <c>:</c> (task ids are sandbox directory names).</summary>
    internal static string TaskIdOf(JobRun run) => "ct:" + run.RunId.Replace('/', ':');

    private static Dictionary<string, double> OfferScalars(OfferDto offer, string role)
    {
        var pool = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var r in offer.Resources)
        {
            var resourceRole = r.Reservations is { Count: > 0 } reservations ? reservations[^1].Role : r.Role ?? "*";
            if (r.Type == "SCALAR" && r.Scalar is not null && (resourceRole is "*" or null || resourceRole == role))
            {
                pool[r.Name] = pool.GetValueOrDefault(r.Name) + r.Scalar.Value;
            }
        }

        return pool;
    }

    private static bool Fits(Dictionary<string, double> pool, JobDefinition job) =>
        pool.GetValueOrDefault("cpus") + 1e-9 >= job.Cpus
        && pool.GetValueOrDefault("mem") + 1e-9 >= job.Mem
        && (job.Disk <= 0 || pool.GetValueOrDefault("disk") + 1e-9 >= job.Disk);

    private static void Take(Dictionary<string, double> pool, JobDefinition job)
    {
        pool["cpus"] = pool.GetValueOrDefault("cpus") - job.Cpus;
        pool["mem"] = pool.GetValueOrDefault("mem") - job.Mem;
        if (job.Disk > 0)
        {
            pool["disk"] = pool.GetValueOrDefault("disk") - job.Disk;
        }
    }

    private TaskInfoDto BuildTask(JobDefinition job, JobRun run, OfferDto offer, string role)
    {
        var env = new List<EnvironmentVariableDto>();
        foreach (var variable in job.EnvironmentVariables)
        {
            env.Add(new EnvironmentVariableDto(variable.Name, variable.Value));
        }

        // Chronos's task environment (mesos/MesosTaskBuilder.scala).
        env.Add(new EnvironmentVariableDto("mesos_task_id", run.TaskId));
        env.Add(new EnvironmentVariableDto("MESOS_TASK_ID", run.TaskId));
        env.Add(new EnvironmentVariableDto("CHRONOS_JOB_OWNER", job.Owner));
        env.Add(new EnvironmentVariableDto("CHRONOS_JOB_NAME", job.Name));
        env.Add(new EnvironmentVariableDto("HOST", offer.Hostname));
        env.Add(new EnvironmentVariableDto("CHRONOS_RESOURCE_MEM", job.Mem.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("CHRONOS_RESOURCE_CPU", job.Cpus.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("CHRONOS_RESOURCE_DISK", job.Disk.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("CHRONOS_JOB_RUN_TIME", ChronosTime(run.ScheduledFor.ToUniversalTime())));
        env.Add(new EnvironmentVariableDto("CHRONOS_JOB_RUN_ATTEMPT", run.Attempt.ToString(CultureInfo.InvariantCulture)));
        env.Add(new EnvironmentVariableDto("DCOS_JOB_RUN_ID", run.RunId));
        env.Add(new EnvironmentVariableDto("DCOS_JOB_DAG_RUN_ID", run.DagRunId));

        var arguments = CommandArguments(job, run);
        CommandDto command;
        if (job.Shell)
        {
            var line = arguments.Count == 0 ? job.Command : job.Command + " " + string.Join(' ', arguments);
            command = new CommandDto { Value = line, Shell = true };
        }
        else
        {
            command = new CommandDto { Value = job.Command, Shell = false, Arguments = [job.Command, .. arguments] };
        }

        var fetch = job.Fetch.Select(f => new UriDto { Value = f.Uri, Executable = f.Executable, Extract = f.Extract })
            .Concat(job.Uris.Select(u => new UriDto { Value = u }))
            .ToList();
        command = command with
        {
            Environment = new EnvironmentDto(env),
            User = string.IsNullOrEmpty(job.RunAsUser) ? null : job.RunAsUser,
            Uris = fetch.Count == 0 ? null : fetch,
        };

        var allocation = new AllocationInfoDto(role);
        var resources = new List<ResourceDto>
        {
            new() { Name = "cpus", Type = "SCALAR", Scalar = new ScalarDto(job.Cpus), Role = "*", AllocationInfo = allocation },
            new() { Name = "mem", Type = "SCALAR", Scalar = new ScalarDto(job.Mem), Role = "*", AllocationInfo = allocation },
        };
        if (job.Disk > 0)
        {
            resources.Add(new ResourceDto { Name = "disk", Type = "SCALAR", Scalar = new ScalarDto(job.Disk), Role = "*", AllocationInfo = allocation });
        }

        var labels = _options.TaskLabels?.Invoke(job);
        return new TaskInfoDto
        {
            Name = "ChronosTask:" + job.Name,
            TaskId = new IdDto(run.TaskId!),
            AgentId = offer.AgentId,
            Resources = resources,
            Command = command,
            Labels = labels is { Count: > 0 } ? new LabelsDto([.. labels.Select(kv => new LabelDto(kv.Key, kv.Value))]) : null,
            Container = DockerJobs.ContainerOf(job),
        };
    }

    /// <summary>The job's <c>arguments</c>, then those of a manual run (split on spaces, as Chronos appends them to the command).</summary>
    private static List<string> CommandArguments(JobDefinition job, JobRun run)
    {
        var arguments = job.Arguments.ToList();
        if (!string.IsNullOrWhiteSpace(run.Arguments))
        {
            arguments.AddRange(run.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        }

        return arguments;
    }

    // ---- Stdout -------------------------------------------------------------------------------------------------------

    /// <summary>Fetches the tail of the run's stdout from its agent's <c>/files/read</c> in the background and stores it.</summary>
    private void FetchStdoutLater(JobRun run)
    {
        if (!_options.FetchStdout || run.AgentId is null || run.TaskId is null || _frameworkId is null
            || !_agentUrls.TryGetValue(run.AgentId, out var agent))
        {
            return;
        }

        var frameworkId = _frameworkId;
        var tail = Math.Max(1, _options.StdoutTailBytes);
        _ = Task.Run(async () =>
        {
            try
            {
                var path = Uri.EscapeDataString($"{frameworkId}/{run.TaskId}/stdout");
                var size = await ReadFileAsync(agent, path, -1, null).ConfigureAwait(false);
                if (size is null)
                {
                    return;
                }

                var offset = Math.Max(0, size.Value.Offset - tail);
                var read = await ReadFileAsync(agent, path, offset, tail).ConfigureAwait(false);
                if (read is not { } text)
                {
                    return;
                }

                await WithGateAsync(() =>
                {
                    if (_runs.ContainsKey(run.RunId))
                    {
                        _stdout[run.RunId] = text.Data;
                        _dirtyRuns.Add(run.RunId);
                    }
                }).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException or System.Text.Json.JsonException or ObjectDisposedException or InvalidOperationException)
            {
                // The agent is gone or has no sandbox for the task: the run simply has no stdout in its history.
            }
        });
    }

    private async Task<(string Data, long Offset)?> ReadFileAsync(Uri agent, string escapedPath, long offset, long? length)
    {
        var query = $"/files/read?path={escapedPath}&offset={offset.ToString(CultureInfo.InvariantCulture)}"
            + (length is { } l ? "&length=" + l.ToString(CultureInfo.InvariantCulture) : string.Empty);
        using var response = await _http.GetAsync(new Uri(agent, query), _cts.Token).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        var json = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(_cts.Token).ConfigureAwait(false));
        return json is null ? null : ((string?)json["data"] ?? string.Empty, (long?)json["offset"] ?? 0);
    }
}
