using System.Collections.Concurrent;
using System.Globalization;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Agent.Simulation;

/// <summary>
/// An agent that runs no process, for benchmarks and scale tests: it registers and reports status through the same
/// agent protocol as a real agent (<c>POST /api/v1/agent</c>), answers LAUNCH with TASK_RUNNING at once, KILL with
/// TASK_KILLED, and ends tasks as its <see cref="Script"/> says (by default, when the task has the label
/// <see cref="DurationLabel"/> (seconds), TASK_FINISHED after that long on its clock). Updates are sent once (no retry), batched; acknowledgements are accepted and ignored.
/// </summary>
public sealed class SimulatedAgent : IAsyncDisposable
{
    /// <summary>Task label whose value, in seconds, makes the task finish by itself.</summary>
    public const string DurationLabel = "DCOS_SIMULATED_DURATION";

    private readonly string _hostname;
    private readonly Resources _resources;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<string> _masterUrls;
    private readonly ILogger? _logger;
    private MasterConnection? _connection;
    private readonly ConcurrentDictionary<(string Framework, string Task), AgentTaskDto> _tasks = new();
    private readonly CancellationTokenSource _cts = new();
    private Task? _run;
    private long _uuid;

    /// <summary>Creates a simulated agent for <paramref name="masterUrls"/> advertising <paramref name="resources"/>.</summary>
    public SimulatedAgent(string hostname, Resources resources, IReadOnlyList<string> masterUrls, TimeProvider? time = null, ILogger? logger = null)
    {
        _hostname = hostname;
        _resources = resources;
        _time = time ?? TimeProvider.System;
        _masterUrls = masterUrls;
        _logger = logger;
    }

    /// <summary>
    /// Decides how each launched task ends: after how many seconds (on this agent's clock) and in which terminal state
    /// with which message; null means it runs until killed. Default: <see cref="DurationLabel"/> seconds, then
    /// TASK_FINISHED. Tests use it to script failures (e.g. from the task's environment).
    /// </summary>
    public Func<TaskInfoDto, SimulatedOutcome?> Script { get; init; } = DefaultScript;

    /// <summary>
    /// When true, a task with a health check passes it at once: its TASK_RUNNING carries <c>healthy: true</c> (for
    /// benchmarks of health-gated deployments). Default false: health is never reported.
    /// </summary>
    public bool PassHealthChecks { get; init; }

    /// <summary>First re-subscription delay after the master connection drops (1 s).</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Called with the task id and the time (this agent's clock) of every LAUNCH as it arrives, before TASK_RUNNING is
    /// queued: lets benchmarks split launch latency into the master's share and the status update's share.
    /// </summary>
    public Action<string, DateTimeOffset>? OnLaunch { get; init; }

    /// <summary>The id the master gave, once subscribed.</summary>
    public string? AgentId { get; private set; }

    /// <summary>Number of tasks it pretends to run.</summary>
    public int RunningTasks => _tasks.Count;

    /// <summary>Starts subscribing in the background (re-subscribing, with its tasks, whenever the stream drops).</summary>
    public void Start()
    {
        _connection = new MasterConnection(_masterUrls, _time, _logger) { MinBackoff = MinBackoff };
        _run = _connection.RunAsync(BuildSubscribe, OnEventAsync, null, _cts.Token);
    }

    /// <summary>The default <see cref="Script"/>: <see cref="DurationLabel"/> seconds, then TASK_FINISHED; none: runs on.</summary>
    public static SimulatedOutcome? DefaultScript(TaskInfoDto task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Labels?.Labels.FirstOrDefault(l => l.Key == DurationLabel)?.Value is { } text
            && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0
            ? new SimulatedOutcome(seconds, TaskStates.Finished, "simulated task finished")
            : null;
    }

    private AgentSubscribeCall BuildSubscribe() => new(
        new AgentInfoDto
        {
            Id = AgentId is null ? null : new IdDto(AgentId),
            Hostname = _hostname,
            Port = 0,
            Resources = ResourceConversions.ToDtos(_resources),
        },
        [.. _tasks.Values],
        null);

    private async Task OnEventAsync(AgentEvent evt, CancellationToken cancellationToken)
    {
        switch (evt.Type)
        {
            case AgentTypes.Subscribed:
                AgentId = evt.Subscribed!.AgentId.Value;
                break;
            case AgentTypes.Launch:
                var launch = evt.Launch!;
                OnLaunch?.Invoke(launch.Task.TaskId.Value, _time.GetUtcNow());
                var running = Status(launch.Task.TaskId, TaskStates.Running, null) with { Healthy = PassHealthChecks && launch.Task.HealthCheck is not null ? true : null };
                _tasks[(launch.FrameworkId.Value, launch.Task.TaskId.Value)] = new AgentTaskDto(launch.FrameworkId, launch.Role, launch.Task, running);
                // The end timer starts before RUNNING is reported, so a clock advanced after RUNNING reaches it.
                if (Script(launch.Task) is { } outcome)
                {
                    ITimer? timer = null;
                    timer = _time.CreateTimer(
                        _ =>
                        {
                            timer?.Dispose();
                            _ = EndAsync(launch.FrameworkId, launch.Task.TaskId, outcome.State, outcome.Message);
                        },
                        null,
                        TimeSpan.FromSeconds(outcome.Seconds),
                        Timeout.InfiniteTimeSpan);
                }

                // Not awaited: the next LAUNCH is handled while this update is queued, so a burst goes in few UPDATE calls.
                _ = SendAsync(launch.FrameworkId, running, cancellationToken);
                break;
            case AgentTypes.Kill:
                await EndAsync(evt.Kill!.FrameworkId, evt.Kill.TaskId, TaskStates.Killed, "killed").ConfigureAwait(false);
                break;
            case AgentTypes.ShutdownFramework:
                foreach (var key in _tasks.Keys.Where(k => k.Framework == evt.ShutdownFramework!.Value).ToList())
                {
                    await EndAsync(evt.ShutdownFramework!, new IdDto(key.Task), TaskStates.Killed, "framework shut down").ConfigureAwait(false);
                }

                break;
        }
    }

    private async Task EndAsync(IdDto frameworkId, IdDto taskId, string state, string message)
    {
        if (_tasks.TryRemove((frameworkId.Value, taskId.Value), out _))
        {
            await SendAsync(frameworkId, Status(taskId, state, message), _cts.Token).ConfigureAwait(false);
        }
    }

    private TaskStatusDto Status(IdDto taskId, string state, string? message) => new()
    {
        TaskId = taskId,
        State = state,
        Message = message,
        Source = "SOURCE_EXECUTOR",
        Uuid = Convert.ToBase64String(BitConverter.GetBytes(Interlocked.Increment(ref _uuid))),
        Timestamp = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
    };

    private Task<bool> SendAsync(IdDto frameworkId, TaskStatusDto status, CancellationToken cancellationToken) =>
        AgentId is null || _connection is null
            ? Task.FromResult(false)
            : _connection.SendUpdateAsync(new IdDto(AgentId), new AgentUpdateCall(frameworkId, status), cancellationToken);

    /// <summary>Stops; the master sees the stream drop.</summary>
    public async ValueTask DisposeAsync()
    {
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

        _connection?.Dispose();
        _cts.Dispose();
    }
}

/// <summary>How a simulated task ends: after <paramref name="Seconds"/> in the terminal <paramref name="State"/> with <paramref name="Message"/>.</summary>
public sealed record SimulatedOutcome(double Seconds, string State, string Message);
