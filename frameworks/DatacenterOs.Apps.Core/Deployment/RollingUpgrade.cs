namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>The inputs of a rolling upgrade that come from the new app definition.</summary>
/// <param name="TargetInstances">N: the <c>instances</c> of the new definition (≥ 0).</param>
/// <param name="Strategy">The new definition's upgrade strategy.</param>
/// <param name="KillSelection">The order old instances are killed in within a health class (<c>YOUNGEST_FIRST</c>/<c>OLDEST_FIRST</c>).</param>
/// <param name="IsResident">True for apps with local persistent volumes (changes the special case, see <see cref="RollingUpgrade"/>).</param>
public sealed record UpgradeParameters(
    int TargetInstances,
    UpgradeStrategy Strategy,
    string KillSelection = KillSelections.YoungestFirst,
    bool IsResident = false)
{
    /// <summary>
    /// The parameters of <paramref name="app"/>; a missing upgrade strategy gets Marathon's default
    /// (<c>{1, 1}</c>, or <c>{0.5, 0}</c> for resident apps).
    /// </summary>
    public static UpgradeParameters For(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var strategy = app.UpgradeStrategy ?? (app.IsResident ? UpgradeStrategy.ForResidentTasks : UpgradeStrategy.Default);
        return new UpgradeParameters(app.Instances, strategy, app.KillSelection, app.IsResident);
    }
}

/// <summary>
/// The next actions of a rolling upgrade: launch <see cref="Launch"/> new instances and kill the instances in
/// <see cref="Kill"/> (in that order). <see cref="Done"/> when the upgrade is complete. The remaining properties
/// explain the decision (for logs and the deployments API).
/// </summary>
public sealed record UpgradeDecision
{
    /// <summary>Number of new-version instances to launch now.</summary>
    public int Launch { get; init; }

    /// <summary>Ids of instances to kill now (old ones; new ones only beyond N), first to kill first.</summary>
    public IReadOnlyList<string> Kill { get; init; } = [];

    /// <summary>True when N new instances are healthy and ready and no other instance is left.</summary>
    public bool Done { get; init; }

    /// <summary><c>ceil(N × minimumHealthCapacity)</c>.</summary>
    public int MinHealthy { get; init; }

    /// <summary>The capacity the launches were limited to: <c>floor(N × (1 + maximumOverCapacity))</c>, plus one when the special case applied.</summary>
    public int MaxCapacity { get; init; }

    /// <summary>True when Marathon's "allow one temporary extra instance" special case raised <see cref="MaxCapacity"/>.</summary>
    public bool ExtraInstanceAllowed { get; init; }

    /// <summary>Serving instances when the decision was made: healthy old ones with goal Running plus healthy and ready new ones.</summary>
    public int HealthyNow { get; init; }

    /// <summary>True when a kill was ordered only because nothing else could make progress (see <see cref="RollingUpgrade"/>, rule 6).</summary>
    public bool StallBroken { get; init; }

    /// <summary>True when the decision asks for nothing.</summary>
    public bool IsIdle => Launch == 0 && Kill.Count == 0;
}

/// <summary>
/// Rolling upgrade (<c>RestartApplication</c>) as a pure function of the current instance sets (Marathon
/// <c>TaskReplaceActor</c> + <c>computeRestartStrategy</c>, re-expressed over sets of instance ids instead of counters,
/// as the actor's own comment recommends). Call <see cref="Decide(UpgradeParameters, IReadOnlyCollection{DeploymentInstance}, IReadOnlyCollection{DeploymentInstance})"/>
/// whenever an instance changes; apply the decision by launching <c>Launch</c> instances of the new version (add them
/// to the new set, e.g. as <see cref="InstancePhase.Scheduled"/>) and ordering the kills (mark them
/// <see cref="DeploymentInstance.Decommissioned"/>; drop instances from the sets once they are terminal). Calling
/// again with the updated sets returns an idle decision until something changes, and after a scheduler restart the
/// persisted sets give the same continuation: there is no hidden state.
/// </summary>
/// <remarks>
/// <para>With N = new <c>instances</c>, <c>old</c> = instances of any other version, <c>new</c> = instances of the new version:</para>
/// <list type="number">
/// <item><b>Bounds</b> (Marathon, exactly, including its double arithmetic): <c>minHealthy = ceil(N × minimumHealthCapacity)</c>,
/// <c>maxCapacity = floor(N × (1 + maximumOverCapacity))</c>.</item>
/// <item><b>Healthy now</b>: old instances with goal Running that are healthy, plus new instances that are healthy
/// <i>and</i> ready (Marathon kills an old instance only for a new one that is both). Decommissioned instances do not serve.</item>
/// <item><b>Kill budget</b> (Marathon): <c>healthyNow − minHealthy</c>. <b>Special case</b> (Marathon): when
/// <c>minHealthy == maxCapacity</c> and <c>maxCapacity ≤ healthyNow</c> (e.g. <c>{1, 0}</c>), nothing could ever be
/// killed or launched, so a non-resident app gets <c>maxCapacity + 1</c> (one temporary extra instance: with
/// <c>{1, 0}</c> the total reaches N + 1), while a resident app (whose instances are pinned to reservations) gets a
/// budget of <c>healthyNow − minHealthy + 1</c> instead (it goes one below minHealthy). <b>Surplus</b> (Marathon
/// "extra instances after a forced update"): the budget is at least <c>|old with goal Running| − N</c>; with the
/// other rules this never kills a healthy instance the budget would not (it is kept for fidelity).</item>
/// <item><b>Kills</b>: old instances with goal Running, unhealthy ones first (Marathon's queue order), then by the
/// app's <c>killSelection</c> (<see cref="ScaleDownSelector.OrderForKill"/>). Killing a healthy instance lowers
/// healthyNow, so the budget is naturally used up; killing an unhealthy one does not, so — to keep Marathon's
/// accounting without a counter — old instances being killed that are not healthy are subtracted from the budget until
/// they are gone. Hence healthyNow never drops below minHealthy by our own kills (resident special case: minHealthy − 1).</item>
/// <item><b>Launches</b> (Marathon <c>launchInstances</c>): <c>min(N − |new with goal Running|, maxCapacity −
/// |old| − |new|)</c>, where every non-terminal instance counts, including those being killed: old instances occupy
/// capacity until they are actually terminal. So the total never exceeds maxCapacity (+1 in the special case).</item>
/// <item><b>Stall breaker</b> (DatacenterOs addition): Marathon relies on health-check kills when unhealthy old instances
/// fill the capacity and the budget is 0 (e.g. <c>{1, 0}</c> with one old instance failing its checks); if no kill, no
/// launch and nothing in flight is possible and every new instance is healthy and ready, one unhealthy old instance is
/// killed. That does not lower healthyNow.</item>
/// <item><b>Over-scale guard</b> (DatacenterOs addition): new instances with goal Running beyond N are killed
/// (pending/unhealthy first), so duplicated launches never leave the app above N.</item>
/// <item><b>Done</b> (Marathon <c>checkFinished</c>): no old instance is left (not even one being killed) and exactly N new
/// instances exist, all healthy and ready.</item>
/// </list>
/// <para>
/// Differences from the actor, all caused by recomputing from sets instead of counting events: the special case is
/// evaluated on every call instead of once at start (it holds throughout a normal <c>{1, 0}</c> upgrade, and
/// re-evaluating it avoids deadlocks after out-of-band failures); Marathon kills exactly one old instance per new
/// instance becoming healthy and ready even when that takes healthyNow below minHealthy (e.g. when fewer old
/// instances than N were healthy at start) — here the budget rule always applies. Failed new instances are not
/// counted: drop them from the set and the next decision launches replacements (launch backoff is the caller's).
/// </para>
/// </remarks>
public static class RollingUpgrade
{
    /// <summary><c>ceil(N × minimumHealthCapacity)</c> (Marathon <c>computeRestartStrategy</c>).</summary>
    public static int MinHealthy(int targetInstances, UpgradeStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return (int)Math.Ceiling(targetInstances * strategy.MinimumHealthCapacity);
    }

    /// <summary><c>floor(N × (1 + maximumOverCapacity))</c>, before the special case (Marathon <c>computeRestartStrategy</c>).</summary>
    public static int MaxCapacity(int targetInstances, UpgradeStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return (int)Math.Floor(targetInstances * (1 + strategy.MaximumOverCapacity));
    }

    /// <summary>The next actions of upgrading to <paramref name="target"/> (see <see cref="UpgradeParameters.For"/>).</summary>
    public static UpgradeDecision Decide(
        AppDefinition target, IReadOnlyCollection<DeploymentInstance> oldInstances, IReadOnlyCollection<DeploymentInstance> newInstances) =>
        Decide(UpgradeParameters.For(target), oldInstances, newInstances);

    /// <summary>The next actions of a rolling upgrade (rules in the class remarks).</summary>
    /// <param name="parameters">N, the upgrade strategy, the kill selection and residency of the new definition.</param>
    /// <param name="oldInstances">The non-terminal instances of any previous version (including ones being killed).</param>
    /// <param name="newInstances">The non-terminal instances of the new version (scheduled, staging, running, …).</param>
    /// <exception cref="ArgumentException">An instance id occurs twice, or the strategy is outside 0..1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">N is negative.</exception>
    public static UpgradeDecision Decide(
        UpgradeParameters parameters, IReadOnlyCollection<DeploymentInstance> oldInstances, IReadOnlyCollection<DeploymentInstance> newInstances)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(oldInstances);
        ArgumentNullException.ThrowIfNull(newInstances);
        var n = parameters.TargetInstances;
        ArgumentOutOfRangeException.ThrowIfNegative(n, nameof(parameters));
        var strategy = parameters.Strategy ?? throw new ArgumentException("upgrade strategy is required", nameof(parameters));
        if (!(strategy.MinimumHealthCapacity is >= 0 and <= 1) || !(strategy.MaximumOverCapacity is >= 0 and <= 1))
        {
            throw new ArgumentException("minimumHealthCapacity and maximumOverCapacity must be between 0 and 1", nameof(parameters));
        }

        EnsureUniqueIds(oldInstances, newInstances);

        var oldActive = oldInstances.Where(i => i.IsGoalRunning).ToList();
        var oldDyingUnhealthy = oldInstances.Count(i => !i.IsGoalRunning && !i.IsHealthy);
        var newActive = newInstances.Where(i => i.IsGoalRunning).ToList();
        var newHealthyReady = newActive.Count(i => i.IsHealthyAndReady);
        var healthyNow = oldActive.Count(i => i.IsHealthy) + newHealthyReady;

        // 1-3. Marathon's bounds, special case and surplus rule.
        var minHealthy = MinHealthy(n, strategy);
        var maxCapacity = MaxCapacity(n, strategy);
        var budget = Math.Max(0, healthyNow - minHealthy);
        var extraInstance = false;
        if (minHealthy == maxCapacity && maxCapacity <= healthyNow)
        {
            if (parameters.IsResident)
            {
                budget = healthyNow - minHealthy + 1;
            }
            else
            {
                maxCapacity += 1;
                extraInstance = true;
            }
        }

        budget = Math.Max(0, budget - oldDyingUnhealthy);
        budget = Math.Max(budget, oldActive.Count - n);

        // 4. Kills of old instances: unhealthy first, then by killSelection.
        var kill = ScaleDownSelector.OrderForKill(oldActive, parameters.KillSelection)
            .Take(budget)
            .Select(i => i.Id)
            .ToList();

        // 5. Launches within capacity; every non-terminal instance occupies capacity.
        var total = oldInstances.Count + newInstances.Count;
        var launch = Math.Min(Math.Max(0, n - newActive.Count), Math.Max(0, maxCapacity - total));

        // 7. Never more than N new instances with goal Running.
        if (newActive.Count > n)
        {
            kill.AddRange(ScaleDownSelector.OrderForKill(newActive, parameters.KillSelection).Take(newActive.Count - n).Select(i => i.Id));
        }

        // 6. Break a stall that only unhealthy old instances cause.
        var stallBroken = false;
        var inFlight = oldInstances.Count != oldActive.Count || newInstances.Count != newActive.Count;
        if (kill.Count == 0 && launch == 0 && !inFlight && newHealthyReady == newActive.Count)
        {
            var unhealthyOld = ScaleDownSelector.OrderForKill(oldActive.Where(i => !i.IsHealthy), parameters.KillSelection);
            if (unhealthyOld.Count > 0)
            {
                kill.Add(unhealthyOld[0].Id);
                stallBroken = true;
            }
        }

        // 8. Done.
        var done = oldInstances.Count == 0 && newInstances.Count == n && newHealthyReady == n;

        return new UpgradeDecision
        {
            Launch = done ? 0 : launch,
            Kill = done ? [] : kill,
            Done = done,
            MinHealthy = minHealthy,
            MaxCapacity = maxCapacity,
            ExtraInstanceAllowed = extraInstance,
            HealthyNow = healthyNow,
            StallBroken = stallBroken,
        };
    }

    private static void EnsureUniqueIds(IReadOnlyCollection<DeploymentInstance> oldInstances, IReadOnlyCollection<DeploymentInstance> newInstances)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var instance in oldInstances.Concat(newInstances))
        {
            ArgumentNullException.ThrowIfNull(instance, nameof(oldInstances));
            if (!seen.Add(instance.Id))
            {
                throw new ArgumentException($"instance '{instance.Id}' occurs more than once in the old and new sets", nameof(oldInstances));
            }
        }
    }
}
