namespace DatacenterOs.Apps.Core.StateModels;

/// <summary>One instance as the assigner sees it: liveness now and the model state recorded for it so far.</summary>
public sealed record ModelInstance
{
    /// <summary>Instance (task) id.</summary>
    public required string Id { get; init; }

    /// <summary>Eligible for a live state: running, healthy when the app has health checks, not being killed.</summary>
    public bool Live { get; init; }

    /// <summary>The task still runs (it may be unhealthy or being killed): a demoted leader may still act as one.</summary>
    public bool Running { get; init; }

    /// <summary>Preferred for promotion (runs the app's current configuration, so a rolling restart fails over once).</summary>
    public bool Preferred { get; init; }

    /// <summary>When the task started running (older standbys are promoted first).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>The recorded state (<see cref="ModelStates"/>), null when none was assigned yet.</summary>
    public string? State { get; init; }

    /// <summary>When it was demoted from <c>LEADER</c>, while the demotion is not confirmed; null otherwise.</summary>
    public DateTimeOffset? DemotedAt { get; init; }
}

/// <summary>A state an instance is assigned: the model state and, for an unconfirmed demotion, when it happened.</summary>
/// <param name="State">One of <see cref="ModelStates"/>.</param>
/// <param name="DemotedAt">Set while the instance's demotion from <c>LEADER</c> awaits confirmation.</param>
public sealed record InstanceModelState(string State, DateTimeOffset? DemotedAt = null);

/// <summary>One state transition, in the order it must be applied and announced.</summary>
/// <param name="InstanceId">The instance.</param>
/// <param name="From">Previous state (<c>OFFLINE</c> when none was recorded).</param>
/// <param name="To">New state.</param>
/// <param name="Reason">Why, for events and logs.</param>
public sealed record ModelTransition(string InstanceId, string From, string To, string Reason);

/// <summary>The outcome of <see cref="StateModelAssigner.Assign"/>.</summary>
/// <param name="States">The new state of every instance given.</param>
/// <param name="Transitions">The changes, demotions before promotions.</param>
/// <param name="Waiting">Why fewer leaders than wanted were promoted (e.g. a demotion awaits confirmation), or null.</param>
public sealed record ModelAssignment(IReadOnlyDictionary<string, InstanceModelState> States, IReadOnlyList<ModelTransition> Transitions, string? Waiting);

/// <summary>
/// Assigns model states to an app's instances (Apache Helix's controller for the OnlineOffline and LeaderStandby state
/// models, <c>helix-core</c> <c>LeaderStandbySMD</c>): a pure function of the app's state model, its instances and
/// the time. Rules, applied in this order so that there are never more leaders than <c>leaders</c> on record:
/// <list type="number">
/// <item>A <c>LEADER</c> that is no longer live (failed health, being killed) is demoted to <c>STANDBY</c> (then
/// <c>OFFLINE</c>); a leader over the wanted count (the youngest) to <c>STANDBY</c>. With a callback, a demoted leader
/// whose task still runs holds its leader slot until it confirms (the shell clears <see cref="ModelInstance.DemotedAt"/>),
/// its task ends, or <see cref="StateModelDefinition.DemotionTimeoutSeconds"/> pass (Helix: the old leader's
/// LEADER→STANDBY transition completes before another STANDBY→LEADER starts).</item>
/// <item>Live instances without a live state become <c>STANDBY</c>, others <c>OFFLINE</c>.</item>
/// <item>Free leader slots go to live standbys: preferred first (current configuration), then the longest running,
/// then by id. A leader whose task is gone is simply absent from the input, so its slot is free at once: the promotion
/// happens in the same call that learns of the failure.</item>
/// </list>
/// OnlineOffline: live instances are <c>ONLINE</c>, the others <c>OFFLINE</c>.
/// </summary>
public static class StateModelAssigner
{
    /// <summary>Computes the new states and the transitions that lead to them.</summary>
    /// <param name="model">The app's state model; null means OnlineOffline.</param>
    /// <param name="instances">The app's current (not terminal) instances with their recorded states.</param>
    /// <param name="now">The current time (for demotion timeouts).</param>
    public static ModelAssignment Assign(StateModelDefinition? model, IReadOnlyList<ModelInstance> instances, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(instances);
        var ordered = instances.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
        var states = new Dictionary<string, InstanceModelState>(StringComparer.Ordinal);
        var transitions = new List<ModelTransition>();
        if (model is not { Type: StateModelTypes.LeaderStandby })
        {
            foreach (var i in ordered)
            {
                var target = i.Live ? ModelStates.Online : ModelStates.Offline;
                states[i.Id] = new InstanceModelState(target);
                if ((i.State ?? ModelStates.Offline) != target)
                {
                    transitions.Add(new ModelTransition(i.Id, i.State ?? ModelStates.Offline, target, i.Live ? "instance is live" : "instance is not live"));
                }
            }

            return new ModelAssignment(states, transitions, null);
        }

        var wanted = Math.Max(1, model.Leaders);
        var confirmDemotions = model.CallbackPath is not null;
        var timeout = TimeSpan.FromSeconds(Math.Max(0, model.DemotionTimeoutSeconds));
        foreach (var i in ordered)
        {
            states[i.Id] = new InstanceModelState(i.State ?? ModelStates.Offline, i.DemotedAt);
        }

        void Move(ModelInstance i, string to, string reason, DateTimeOffset? demotedAt)
        {
            var from = states[i.Id].State;
            states[i.Id] = new InstanceModelState(to, demotedAt);
            if (from != to)
            {
                transitions.Add(new ModelTransition(i.Id, from, to, reason));
            }
        }

        // 1. Demotions: leaders that are not live, then leaders over the wanted count (the youngest).
        foreach (var i in ordered.Where(i => i.State == ModelStates.Leader && !i.Live))
        {
            var demotedAt = confirmDemotions && i.Running ? now : (DateTimeOffset?)null;
            Move(i, ModelStates.Standby, i.Running ? "leader is no longer live (unhealthy or being killed)" : "leader's task is not running", demotedAt);
        }

        var liveLeaders = ordered.Where(i => i.State == ModelStates.Leader && i.Live).ToList();
        foreach (var i in liveLeaders.OrderByDescending(i => i.StartedAt ?? DateTimeOffset.MaxValue).ThenByDescending(i => i.Id, StringComparer.Ordinal).Take(Math.Max(0, liveLeaders.Count - wanted)).ToList())
        {
            Move(i, ModelStates.Standby, $"more than {wanted} leader(s)", confirmDemotions && i.Running ? now : null);
            liveLeaders.Remove(i);
        }

        // 2. Live instances are at least STANDBY; the others OFFLINE.
        foreach (var i in ordered)
        {
            var current = states[i.Id].State;
            if (i.Live && current == ModelStates.Offline)
            {
                Move(i, ModelStates.Standby, "instance is live", states[i.Id].DemotedAt);
            }
            else if (!i.Live && current != ModelStates.Offline)
            {
                Move(i, ModelStates.Offline, "instance is not live", states[i.Id].DemotedAt);
            }
        }

        // Unconfirmed demotions hold their slot while the old leader's task runs and the timeout has not passed.
        var pending = new List<ModelInstance>();
        foreach (var i in ordered)
        {
            if (states[i.Id].DemotedAt is not { } at)
            {
                continue;
            }

            if (confirmDemotions && i.Running && now - at < timeout)
            {
                pending.Add(i);
            }
            else
            {
                states[i.Id] = states[i.Id] with { DemotedAt = null };
            }
        }

        // 3. Promotions into the free slots.
        var free = wanted - liveLeaders.Count - pending.Count;
        var candidates = ordered
            .Where(i => i.Live && states[i.Id].State == ModelStates.Standby && states[i.Id].DemotedAt is null)
            .OrderByDescending(i => i.Preferred)
            .ThenBy(i => i.StartedAt ?? DateTimeOffset.MaxValue)
            .ThenBy(i => i.Id, StringComparer.Ordinal)
            .ToList();
        foreach (var i in candidates.Take(Math.Max(0, free)))
        {
            Move(i, ModelStates.Leader, "promoted: a leader slot is free", null);
        }

        string? waiting = null;
        var leaders = states.Values.Count(s => s.State == ModelStates.Leader);
        if (leaders < wanted)
        {
            waiting = pending.Count > 0 && candidates.Count > leaders - liveLeaders.Count
                ? $"waiting for {string.Join(", ", pending.Select(p => p.Id))} to confirm the demotion (or its task to end, or {timeout.TotalSeconds:0} s)"
                : $"{leaders} of {wanted} leader(s): not enough live instances";
        }

        return new ModelAssignment(states, transitions, waiting);
    }
}
