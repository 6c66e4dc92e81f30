using System.Collections.Concurrent;
using System.Globalization;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Jobs.Tests;

/// <summary>
/// A <see cref="SimulatedAgent"/> (runs no process) that takes its script from the task's environment:
/// <c>SIM_DURATION</c> seconds (wall clock, default 0.05) until the task ends by itself, and <c>SIM_EXIT</c> its exit
/// code (default 0: TASK_FINISHED; otherwise TASK_FAILED "Command exited with status N", as the real agent reports it).
/// It records every launch, so tests can count runs the master really received.
/// </summary>
internal sealed class ScriptedAgent : IAsyncDisposable
{
    private readonly SimulatedAgent _agent;

    public ScriptedAgent(string hostname, Resources resources, IReadOnlyList<string> masterUrls) =>
        _agent = new SimulatedAgent(hostname, resources, masterUrls, TimeProvider.System)
        {
            Script = FromEnvironment,
            MinBackoff = TimeSpan.FromMilliseconds(100),
        };

    public string? AgentId => _agent.AgentId;

    /// <summary>Every task launched here (in order).</summary>
    public ConcurrentQueue<TaskInfoDto> Launched { get; } = new();

    public void Start() => _agent.Start();

    private SimulatedOutcome FromEnvironment(TaskInfoDto task)
    {
        Launched.Enqueue(task);
        var env = task.Command?.Environment?.Variables ?? [];
        var seconds = double.TryParse(env.FirstOrDefault(v => v.Name == "SIM_DURATION")?.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : 0.05;
        var exit = int.TryParse(env.FirstOrDefault(v => v.Name == "SIM_EXIT")?.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) ? e : 0;
        return new SimulatedOutcome(
            seconds,
            exit == 0 ? TaskStates.Finished : TaskStates.Failed,
            "Command exited with status " + exit.ToString(CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync() => _agent.DisposeAsync();
}
