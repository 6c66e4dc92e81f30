using System.Globalization;
using DatacenterOs.Apps.Core.Deployment;

namespace DatacenterOs.Apps.Core.Tests.Deployment;

/// <summary>
/// A deterministic cluster for rolling-upgrade tests: applying a decision marks kills as decommissioned and adds
/// launches as scheduled; <see cref="Advance"/> makes killed instances disappear and launched ones healthy and ready.
/// </summary>
internal sealed class UpgradeSimulation
{
    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private int nextId;

    public UpgradeSimulation(UpgradeParameters parameters, IEnumerable<DeploymentInstance> old, IEnumerable<DeploymentInstance>? @new = null)
    {
        Parameters = parameters;
        Old = [.. old];
        New = [.. @new ?? []];
        nextId = New.Select(i => int.Parse(i.Id.AsSpan(4), CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();
        Clock = Epoch.AddHours(1);
    }

    public UpgradeParameters Parameters { get; }

    public List<DeploymentInstance> Old { get; private set; }

    public List<DeploymentInstance> New { get; private set; }

    public DateTimeOffset Clock { get; private set; }

    /// <summary>Every decision made, with the sets it was made from.</summary>
    public List<(IReadOnlyList<DeploymentInstance> Old, IReadOnlyList<DeploymentInstance> New, UpgradeDecision Decision)> Trace { get; } = [];

    /// <summary>N old instances of the previous version, all running and healthy, started a minute apart.</summary>
    public static List<DeploymentInstance> HealthyOld(int count) =>
        [.. Enumerable.Range(0, count).Select(i => DeploymentInstance.RunningInstance($"old-{i}", Epoch.AddMinutes(i)))];

    public int Total => Old.Count + New.Count;

    /// <summary>Old instances with goal Running that are healthy, plus new ones that are healthy and ready.</summary>
    public int HealthyNow => Old.Count(i => i.IsGoalRunning && i.IsHealthy) + New.Count(i => i.IsGoalRunning && i.IsHealthyAndReady);

    public UpgradeDecision Decide()
    {
        var decision = RollingUpgrade.Decide(Parameters, Old, New);
        Trace.Add(([.. Old], [.. New], decision));
        return decision;
    }

    public void Apply(UpgradeDecision decision)
    {
        var kill = decision.Kill.ToHashSet(StringComparer.Ordinal);
        Assert.Equal(decision.Kill.Count, kill.Count);
        Assert.All(kill, id => Assert.Contains(Old.Concat(New), i => i.Id == id && i.IsGoalRunning));
        Old = [.. Old.Select(i => kill.Contains(i.Id) ? i.AsDecommissioned() : i)];
        New = [.. New.Select(i => kill.Contains(i.Id) ? i.AsDecommissioned() : i)];
        for (var i = 0; i < decision.Launch; i++)
        {
            New.Add(DeploymentInstance.ScheduledInstance($"new-{nextId++}", Clock));
        }
    }

    /// <summary>Time passes: killed instances are gone, launched ones are running, healthy and ready.</summary>
    public void Advance()
    {
        Clock = Clock.AddMinutes(1);
        Old = [.. Old.Where(i => i.IsGoalRunning)];
        New = [.. New.Where(i => i.IsGoalRunning).Select(i => i.Phase == InstancePhase.Running ? i : i with { Phase = InstancePhase.Running, Healthy = true, Ready = true })];
    }
}
