using System.Security.Cryptography;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent;

/// <summary>
/// Reliable task status updates (Mesos <c>TaskStatusUpdateManager</c>): per task an ordered stream of updates, each
/// stamped with a uuid and checkpointed before it is sent. Only the head of a stream is in flight; it is re-sent with a
/// backoff of 10 s doubling to 10 min until the framework acknowledges it, which pops it and sends the next.
/// Unacknowledged updates survive an agent restart (<see cref="Recover"/>).
/// </summary>
public sealed partial class StatusUpdateManager : IDisposable
{
    private readonly AgentPaths _paths;
    private readonly Func<AgentUpdateCall, CancellationToken, Task<bool>> _send;
    private readonly TimeProvider _time;
    private readonly Func<byte[]> _uuidBytes;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Framework, string Task), UpdateStream> _streams = [];
    private readonly CancellationTokenSource _disposed = new();
    private bool _paused;

    /// <summary>Creates a manager checkpointing under <paramref name="workDir"/><c>/meta</c>.</summary>
    /// <param name="workDir">Agent work directory.</param>
    /// <param name="send">Sends one update to the master; true when the master accepted it (202).</param>
    /// <param name="timeProvider">Clock for retry timers.</param>
    /// <param name="uuidBytes">Source of the 16 random bytes of each uuid; default a cryptographic generator.</param>
    /// <param name="logger">Logger.</param>
    public StatusUpdateManager(
        string workDir,
        Func<AgentUpdateCall, CancellationToken, Task<bool>> send,
        TimeProvider timeProvider,
        Func<byte[]>? uuidBytes = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(workDir);
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _paths = new AgentPaths(workDir);
        _send = send;
        _time = timeProvider;
        _uuidBytes = uuidBytes ?? (static () => RandomNumberGenerator.GetBytes(16));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>First retry interval (Mesos <c>STATUS_UPDATE_RETRY_INTERVAL_MIN</c>, 10 s).</summary>
    public static TimeSpan MinRetryInterval { get; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest retry interval (Mesos <c>STATUS_UPDATE_RETRY_INTERVAL_MAX</c>, 10 min).</summary>
    public static TimeSpan MaxRetryInterval { get; } = TimeSpan.FromMinutes(10);

    /// <summary>Called (outside the manager's lock) when a terminal update was acknowledged: the task can be garbage-collected.</summary>
    public Action<AgentUpdateCall>? TerminalAcknowledged { get; set; }

    /// <summary>True while paused (no master connection): nothing is sent until <see cref="Resume"/>.</summary>
    public bool IsPaused
    {
        get
        {
            lock (_lock)
            {
                return _paused;
            }
        }
    }

    /// <summary>Number of unacknowledged updates over all tasks.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _streams.Values.Sum(s => s.Updates.Count);
            }
        }
    }

    /// <summary>
    /// Loads the unacknowledged updates checkpointed by an earlier run and, unless paused, sends the head of each
    /// stream. Returns the number of updates loaded.
    /// </summary>
    public int Recover()
    {
        var loaded = 0;
        var toSend = new List<AgentUpdateCall>();
        lock (_lock)
        {
            foreach (var (fw, task, dir) in _paths.TaskMetaDirs())
            {
                var file = Path.Combine(dir, "updates.json");
                if (!File.Exists(file) || _streams.ContainsKey((fw, task)))
                {
                    continue;
                }

                List<AgentUpdateCall> updates;
                try
                {
                    updates = MesosJson.Deserialize<List<AgentUpdateCall>>(File.ReadAllBytes(file));
                }
                catch (Exception e) when (e is IOException or JsonException)
                {
                    LogBadCheckpoint(file, e.Message);
                    continue;
                }

                if (updates.Count == 0)
                {
                    continue;
                }

                var stream = new UpdateStream(fw, task);
                stream.Updates.AddRange(updates);
                _streams[(fw, task)] = stream;
                loaded += updates.Count;
                if (Forward(stream) is { } call)
                {
                    toSend.Add(call);
                }
            }
        }

        foreach (var call in toSend)
        {
            _ = SendAsync(call);
        }

        return loaded;
    }

    /// <summary>
    /// Adds a status update for its task: stamps a uuid (base64 of 16 random bytes), checkpoints the stream and sends it
    /// at once when it is the head. Returns the update as stamped.
    /// </summary>
    /// <exception cref="ArgumentException">The framework or task id is not a valid id.</exception>
    public AgentUpdateCall Update(IdDto frameworkId, TaskStatusDto status)
    {
        ArgumentNullException.ThrowIfNull(frameworkId);
        ArgumentNullException.ThrowIfNull(status);
        var fw = IdValidation.Require(frameworkId.Value, "framework id");
        var task = IdValidation.Require(status.TaskId?.Value, "task id");
        var call = new AgentUpdateCall(frameworkId, status with { Uuid = Convert.ToBase64String(_uuidBytes()) });
        AgentUpdateCall? toSend;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
            if (!_streams.TryGetValue((fw, task), out var stream))
            {
                stream = new UpdateStream(fw, task);
                _streams[(fw, task)] = stream;
            }

            stream.Updates.Add(call);
            Checkpoint(stream);
            toSend = stream.Updates.Count == 1 ? Forward(stream) : null;
        }

        if (toSend is not null)
        {
            _ = SendAsync(toSend);
        }

        return call;
    }

    /// <summary>
    /// The framework acknowledged update <paramref name="uuid"/> of a task: when it is the head it is popped, the stream
    /// checkpointed and the next update sent. False for an unknown or out-of-order uuid (ignored, as Mesos does).
    /// </summary>
    public bool Acknowledge(string frameworkId, string taskId, string uuid)
    {
        AgentUpdateCall acknowledged;
        AgentUpdateCall? toSend = null;
        lock (_lock)
        {
            if (!_streams.TryGetValue((frameworkId, taskId), out var stream)
                || stream.Updates.Count == 0
                || !string.Equals(stream.Updates[0].Status.Uuid, uuid, StringComparison.Ordinal))
            {
                LogUnexpectedAck(taskId, frameworkId, uuid);
                return false;
            }

            acknowledged = stream.Updates[0];
            stream.Updates.RemoveAt(0);
            stream.Timer?.Dispose();
            stream.Timer = null;
            stream.Interval = MinRetryInterval;
            Checkpoint(stream);
            if (stream.Updates.Count == 0)
            {
                _streams.Remove((frameworkId, taskId));
            }
            else
            {
                toSend = Forward(stream);
            }
        }

        if (toSend is not null)
        {
            _ = SendAsync(toSend);
        }

        if (TaskStates.IsTerminal(acknowledged.Status.State))
        {
            TerminalAcknowledged?.Invoke(acknowledged);
        }

        return true;
    }

    /// <summary>Stops sending (the master connection is down); pending updates stay queued.</summary>
    public void Pause()
    {
        lock (_lock)
        {
            _paused = true;
            foreach (var stream in _streams.Values)
            {
                stream.Timer?.Dispose();
                stream.Timer = null;
            }
        }
    }

    /// <summary>Resumes sending (the agent (re)subscribed): the head of every stream is sent now, retry backoff reset.</summary>
    public void Resume()
    {
        var toSend = new List<AgentUpdateCall>();
        lock (_lock)
        {
            _paused = false;
            foreach (var stream in _streams.Values)
            {
                stream.Interval = MinRetryInterval;
                if (Forward(stream) is { } call)
                {
                    toSend.Add(call);
                }
            }
        }

        foreach (var call in toSend)
        {
            _ = SendAsync(call);
        }
    }

    /// <summary>Unacknowledged updates of a task, oldest (in flight) first.</summary>
    public IReadOnlyList<AgentUpdateCall> Pending(string frameworkId, string taskId)
    {
        lock (_lock)
        {
            return _streams.TryGetValue((frameworkId, taskId), out var stream) ? [.. stream.Updates] : [];
        }
    }

    /// <summary>Every unacknowledged update, per task in order.</summary>
    public IReadOnlyList<AgentUpdateCall> PendingAll()
    {
        lock (_lock)
        {
            return [.. _streams.Values.SelectMany(s => s.Updates)];
        }
    }

    /// <summary>Stops all retry timers. Checkpoints stay for the next run.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed.IsCancellationRequested)
            {
                return;
            }

            _disposed.Cancel();
            foreach (var stream in _streams.Values)
            {
                stream.Timer?.Dispose();
                stream.Timer = null;
            }
        }

        _disposed.Dispose();
    }

    /// <summary>Under the lock: arms the retry timer of the stream's head and returns the update to send now, or null.</summary>
    private AgentUpdateCall? Forward(UpdateStream stream)
    {
        if (_paused || _disposed.IsCancellationRequested || stream.Updates.Count == 0)
        {
            return null;
        }

        var head = stream.Updates[0];
        var uuid = head.Status.Uuid;
        stream.Timer?.Dispose();
        stream.Timer = _time.CreateTimer(_ => Retry(stream, uuid), null, stream.Interval, Timeout.InfiniteTimeSpan);
        var doubled = stream.Interval * 2;
        stream.Interval = doubled > MaxRetryInterval ? MaxRetryInterval : doubled;
        return head;
    }

    private void Retry(UpdateStream stream, string? uuid)
    {
        AgentUpdateCall? toSend;
        lock (_lock)
        {
            if (stream.Updates.Count == 0 || !string.Equals(stream.Updates[0].Status.Uuid, uuid, StringComparison.Ordinal)
                || !_streams.TryGetValue((stream.Framework, stream.Task), out var current) || current != stream)
            {
                return;
            }

            toSend = Forward(stream);
        }

        if (toSend is not null)
        {
            LogRetry(toSend.Status.TaskId.Value, toSend.Status.State, toSend.Status.Uuid ?? "");
            _ = SendAsync(toSend);
        }
    }

    private async Task SendAsync(AgentUpdateCall call)
    {
        CancellationToken token;
        try
        {
            token = _disposed.Token;
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        try
        {
            if (!await _send(call, token).ConfigureAwait(false))
            {
                LogNotAccepted(call.Status.TaskId.Value, call.Status.State);
            }
        }
        catch (OperationCanceledException)
        {
        }
#pragma warning disable CA1031 // a failed send is retried by the timer; nothing may escape this fire-and-forget task
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogSendFailed(call.Status.TaskId.Value, call.Status.State, e.Message);
        }
    }

    private void Checkpoint(UpdateStream stream)
    {
        try
        {
            var file = _paths.UpdatesFile(stream.Framework, stream.Task);
            if (stream.Updates.Count == 0)
            {
                AtomicFile.TryDelete(file);
            }
            else
            {
                AtomicFile.WriteAllBytes(file, MesosJson.Serialize(stream.Updates));
            }
        }
        catch (IOException e)
        {
            LogCheckpointFailed(stream.Task, e.Message);
        }
    }

    private sealed class UpdateStream(string framework, string task)
    {
        public string Framework { get; } = framework;

        public string Task { get; } = task;

        public List<AgentUpdateCall> Updates { get; } = [];

        public TimeSpan Interval { get; set; } = MinRetryInterval;

        public ITimer? Timer { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring unreadable status update checkpoint {File}: {Error}")]
    private partial void LogBadCheckpoint(string file, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not checkpoint status updates of task {TaskId}: {Error}")]
    private partial void LogCheckpointFailed(string taskId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring acknowledgement of task {TaskId} of framework {FrameworkId} for unknown or out-of-order update {Uuid}")]
    private partial void LogUnexpectedAck(string taskId, string frameworkId, string uuid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resending unacknowledged {State} update {Uuid} of task {TaskId}")]
    private partial void LogRetry(string taskId, string state, string uuid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Master did not accept {State} update of task {TaskId}; will retry")]
    private partial void LogNotAccepted(string taskId, string state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending {State} update of task {TaskId} failed: {Error}; will retry")]
    private partial void LogSendFailed(string taskId, string state, string error);
}
