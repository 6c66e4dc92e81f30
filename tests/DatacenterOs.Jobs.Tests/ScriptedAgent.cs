using System.Collections.Concurrent;
using System.Globalization;
using DatacenterOs.Agent;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Jobs.Tests;

/// <summary>
/// A test agent that runs no process (like the kernel's SimulatedAgent) but takes its script from the task's
/// environment: <c>SIM_DURATION</c> seconds (wall clock, default 0.05) until the task ends by itself, and
/// <c>SIM_EXIT</c> its exit code (default 0: TASK_FINISHED; otherwise TASK_FAILED "Command exited with status N", as
/// the real agent reports it). It records every launch, so tests can count runs the master really received.
/// </summary>
internal sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly string _hostname;
    private readonly Resources _resources;
    private readonly MasterConnection _connection;
    private readonly ConcurrentDictionary<(string Framework, string Task), AgentTaskDto> _tasks = new();
    private readonly CancellationTokenSource _cts = new();
    private Task? _run;
    private long _uuid;

    public ScriptedAgent(string hostname, Resources resources, IReadOnlyList<string> masterUrls)
    {
        _hostname = hostname;
        _resources = resources;
        _connection = new MasterConnection(masterUrls, TimeProvider.System) { MinBackoff = TimeSpan.FromMilliseconds(100) };
    }

    public string? AgentId { get; private set; }

    /// <summary>Every task launched here (task ids, in order).</summary>
    public ConcurrentQueue<TaskInfoDto> Launched { get; } = new();

    public void Start() => _run = _connection.RunAsync(BuildSubscribe, OnEventAsync, null, _cts.Token);

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
                Launched.Enqueue(launch.Task);
                var running = Status(launch.Task.TaskId, TaskStates.Running, null);
                _tasks[(launch.FrameworkId.Value, launch.Task.TaskId.Value)] = new AgentTaskDto(launch.FrameworkId, launch.Role, launch.Task, running);
                var env = launch.Task.Command?.Environment?.Variables ?? [];
                var seconds = double.TryParse(env.FirstOrDefault(v => v.Name == "SIM_DURATION")?.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 0.05;
                var exit = int.TryParse(env.FirstOrDefault(v => v.Name == "SIM_EXIT")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) ? e : 0;
                await SendAsync(launch.FrameworkId, running, cancellationToken).ConfigureAwait(false);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(seconds), _cts.Token).ConfigureAwait(false);
                        await EndAsync(
                            launch.FrameworkId,
                            launch.Task.TaskId,
                            exit == 0 ? TaskStates.Finished : TaskStates.Failed,
                            "Command exited with status " + exit.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }, CancellationToken.None);
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
        Timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
    };

    private Task<bool> SendAsync(IdDto frameworkId, TaskStatusDto status, CancellationToken cancellationToken) =>
        AgentId is null
            ? Task.FromResult(false)
            : _connection.SendAsync(new AgentCall { Type = AgentTypes.Update, AgentId = new IdDto(AgentId), Update = new AgentUpdateCall(frameworkId, status) }, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_run is not null)
        {
            try
            {
                await _run;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _connection.Dispose();
        _cts.Dispose();
    }
}
