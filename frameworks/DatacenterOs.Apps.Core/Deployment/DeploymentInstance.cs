namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// The condition of a non-terminal instance as deployments see it: the non-terminal subset of Marathon's
/// <c>core/condition/Condition.scala</c>. Terminal instances (finished, failed, killed, gone, …) are never passed to
/// the deployment logic: the caller drops them from its sets.
/// </summary>
public enum InstancePhase
{
    /// <summary>Waiting for resources; nothing runs yet (Marathon <c>Scheduled</c>/<c>Provisioned</c>).</summary>
    Scheduled,

    /// <summary>Launched, the agent is preparing it (<c>TASK_STAGING</c>).</summary>
    Staging,

    /// <summary>The executor is starting it (<c>TASK_STARTING</c>).</summary>
    Starting,

    /// <summary>Running (<c>TASK_RUNNING</c>); see <see cref="DeploymentInstance.Healthy"/> for its health.</summary>
    Running,

    /// <summary>Its agent is unreachable (<c>TASK_UNREACHABLE</c>).</summary>
    Unreachable,

    /// <summary>Unreachable for longer than <c>inactiveAfterSeconds</c>: a replacement has been launched.</summary>
    UnreachableInactive,

    /// <summary>Being killed (<c>TASK_KILLING</c>).</summary>
    Killing,
}

/// <summary>
/// A non-terminal instance of an app, as the deployment logic (<see cref="RollingUpgrade"/>,
/// <see cref="ScaleDownSelector"/>) sees it: id, condition, health, readiness, start time and whether a kill was
/// already ordered. Immutable; the caller builds these from its instance store, so decisions can be recomputed
/// from persisted state at any time.
/// </summary>
public sealed record DeploymentInstance
{
    /// <summary>The instance id (unique per app).</summary>
    public required string Id { get; init; }

    /// <summary>The instance's condition.</summary>
    public InstancePhase Phase { get; init; } = InstancePhase.Running;

    /// <summary>
    /// True when the instance passes its health checks, or is running and the app has none (Marathon
    /// <c>Instance.consideredHealthy</c>). An instance whose health is not known yet (e.g. right after a scheduler
    /// restart, before health has been reconciled) must be reported as not healthy. Only counts while
    /// <see cref="Phase"/> is <see cref="InstancePhase.Running"/> (see <see cref="IsHealthy"/>).
    /// </summary>
    public bool Healthy { get; init; }

    /// <summary>
    /// True when the app's readiness check passed, or the app has none (Marathon <c>ReadinessBehavior</c>). Only
    /// evaluated for instances of the new version during a rolling upgrade.
    /// </summary>
    public bool Ready { get; init; } = true;

    /// <summary>
    /// When the instance's current incarnation was staged/started; orders kills by the app's <c>killSelection</c>.
    /// Null when unknown (such instances are killed first, as Marathon orders a missing <c>activeSince</c>).
    /// </summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>
    /// True when a kill was already ordered (Marathon goal <c>Decommissioned</c>, or <c>Stopped</c> for resident apps)
    /// but the instance is not terminal yet. Such an instance still occupies capacity but no longer counts as serving.
    /// </summary>
    public bool Decommissioned { get; init; }

    /// <summary>True while the instance is meant to keep running (goal <c>Running</c>): not decommissioned and not being killed.</summary>
    public bool IsGoalRunning => !Decommissioned && Phase != InstancePhase.Killing;

    /// <summary>True when the instance is running and <see cref="Healthy"/>.</summary>
    public bool IsHealthy => Healthy && Phase == InstancePhase.Running;

    /// <summary>True when the instance is running, <see cref="Healthy"/> and <see cref="Ready"/>.</summary>
    public bool IsHealthyAndReady => IsHealthy && Ready;

    /// <summary>A running instance (healthy unless told otherwise).</summary>
    public static DeploymentInstance RunningInstance(string id, DateTimeOffset? startedAt, bool healthy = true, bool ready = true) =>
        new() { Id = id, Phase = InstancePhase.Running, Healthy = healthy, Ready = ready, StartedAt = startedAt };

    /// <summary>An instance that has been requested but is not running yet.</summary>
    public static DeploymentInstance ScheduledInstance(string id, DateTimeOffset? startedAt = null) =>
        new() { Id = id, Phase = InstancePhase.Scheduled, Healthy = false, Ready = false, StartedAt = startedAt };

    /// <summary>This instance with a kill ordered (goal no longer <c>Running</c>).</summary>
    public DeploymentInstance AsDecommissioned() => this with { Decommissioned = true };
}
