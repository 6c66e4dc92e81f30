namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// What a <c>ScaleApplication</c> does to an app's instances (Marathon <c>ScalingProposition</c>): the instances to
/// kill, in kill order, and how many new instances to start.
/// </summary>
/// <param name="ToKill">Ids of the instances to kill, first to kill first.</param>
/// <param name="ToStart">Number of new instances to launch (0 when scaling down).</param>
public sealed record ScalingProposition(IReadOnlyList<string> ToKill, int ToStart);

/// <summary>
/// Chooses which instances to kill when an app is scaled (Marathon <c>ScalingProposition.propose</c> and
/// <c>sortByConditionAndDate</c>). Pure: a function of the instance set only.
/// </summary>
/// <remarks>
/// <para>
/// Kill order, most expendable first (Marathon's documented intent, "LOST - UNREACHABLE - UNHEALTHY - STAGING -
/// EVERYTHING ELSE"):
/// </para>
/// <list type="number">
/// <item>unreachable (and unreachable-inactive) instances;</item>
/// <item>scheduled instances that are not launched yet — cancelling them stops nothing. DatacenterOs choice: Marathon's
/// weight table predates the <c>Scheduled</c> condition and leaves it with "everything else", after running ones;</item>
/// <item>running but unhealthy instances (Marathon's comment lists them here; its code leaves that unimplemented and ignores health);</item>
/// <item>staging, then starting instances;</item>
/// <item>running healthy instances.</item>
/// </list>
/// <para>
/// Within a class, the app's <c>killSelection</c> decides by <see cref="DeploymentInstance.StartedAt"/>:
/// <c>YOUNGEST_FIRST</c> (default) kills the latest started first, <c>OLDEST_FIRST</c> the earliest; an unknown start
/// time goes first (as Marathon orders a missing <c>activeSince</c>); remaining ties go by id (ordinal), so the result
/// never depends on the order of the input.
/// </para>
/// </remarks>
public static class ScaleDownSelector
{
    /// <summary>
    /// Marathon's proposition for scaling to <paramref name="scaleTo"/> instances: only instances with goal
    /// <c>Running</c> that are not unreachable-inactive count (a replacement of those already runs). Kills
    /// <c>max(running − scaleTo, sentenced)</c> instances: the explicitly sentenced ones first (e.g.
    /// <c>DELETE /v2/apps/{id}/tasks?scale=true</c>), then those <paramref name="killToMeetConstraints"/> picks, then
    /// by <see cref="OrderForKill"/>; starts <c>scaleTo − running + killed</c>.
    /// </summary>
    /// <param name="instances">The app's non-terminal instances.</param>
    /// <param name="scaleTo">Target instance count (≥ 0).</param>
    /// <param name="killSelection"><c>YOUNGEST_FIRST</c> or <c>OLDEST_FIRST</c>.</param>
    /// <param name="sentenced">Ids of instances that must be killed whatever the count.</param>
    /// <param name="killToMeetConstraints">
    /// Optional hook (Marathon <c>Constraints.selectInstancesToKill</c>): given the candidates that are not sentenced and
    /// the number still to kill, returns those whose removal best restores the placement constraints.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="scaleTo"/> is negative.</exception>
    public static ScalingProposition Propose(
        IReadOnlyCollection<DeploymentInstance> instances,
        int scaleTo,
        string killSelection = KillSelections.YoungestFirst,
        IReadOnlyCollection<string>? sentenced = null,
        Func<IReadOnlyList<DeploymentInstance>, int, IReadOnlyList<DeploymentInstance>>? killToMeetConstraints = null)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentOutOfRangeException.ThrowIfNegative(scaleTo);
        var sentencedIds = new HashSet<string>(sentenced ?? [], StringComparer.Ordinal);

        var running = instances
            .Where(i => i.IsGoalRunning && i.Phase != InstancePhase.UnreachableInactive)
            .ToList();
        var sentencedRunning = OrderForKill(running.Where(i => sentencedIds.Contains(i.Id)), killSelection);
        var notSentenced = running.Where(i => !sentencedIds.Contains(i.Id)).ToList();

        var killCount = Math.Max(running.Count - scaleTo, sentencedRunning.Count);
        var forConstraints = killToMeetConstraints is null || killCount - sentencedRunning.Count <= 0
            ? []
            : killToMeetConstraints(OrderForKill(notSentenced, killSelection), killCount - sentencedRunning.Count);
        var forConstraintIds = new HashSet<string>(forConstraints.Select(i => i.Id), StringComparer.Ordinal);
        var rest = OrderForKill(notSentenced.Where(i => !forConstraintIds.Contains(i.Id)), killSelection);

        var toKill = sentencedRunning
            .Concat(forConstraints.Where(i => !sentencedIds.Contains(i.Id)))
            .Concat(rest)
            .Select(i => i.Id)
            .Distinct(StringComparer.Ordinal)
            .Take(killCount)
            .ToList();
        return new ScalingProposition(toKill, scaleTo - running.Count + toKill.Count);
    }

    /// <summary>
    /// The instances to kill to bring <paramref name="instances"/> down to <paramref name="scaleTo"/>, in kill order
    /// (no sentenced instances, no constraint hook).
    /// </summary>
    public static IReadOnlyList<string> SelectToKill(
        IReadOnlyCollection<DeploymentInstance> instances, int scaleTo, string killSelection = KillSelections.YoungestFirst) =>
        Propose(instances, scaleTo, killSelection).ToKill;

    /// <summary>All of <paramref name="instances"/>, most expendable first (see the class remarks).</summary>
    /// <exception cref="ArgumentException"><paramref name="killSelection"/> is not a known kill selection.</exception>
    public static IReadOnlyList<DeploymentInstance> OrderForKill(IEnumerable<DeploymentInstance> instances, string killSelection)
    {
        ArgumentNullException.ThrowIfNull(instances);
        ArgumentNullException.ThrowIfNull(killSelection);
        var youngestFirst = killSelection switch
        {
            KillSelections.YoungestFirst => true,
            KillSelections.OldestFirst => false,
            _ => throw new ArgumentException($"unknown kill selection '{killSelection}'", nameof(killSelection)),
        };

        var ordered = instances.OrderBy(Weight).ThenBy(i => i.StartedAt.HasValue ? 1 : 0);
        ordered = youngestFirst
            ? ordered.ThenByDescending(i => i.StartedAt ?? DateTimeOffset.MinValue)
            : ordered.ThenBy(i => i.StartedAt ?? DateTimeOffset.MinValue);
        return ordered.ThenBy(i => i.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>Kill priority class of an instance: lower is killed first.</summary>
    internal static int Weight(DeploymentInstance instance) => instance.Phase switch
    {
        InstancePhase.Unreachable or InstancePhase.UnreachableInactive => 0,
        InstancePhase.Scheduled => 1,
        InstancePhase.Running when !instance.Healthy => 2,
        InstancePhase.Staging => 3,
        InstancePhase.Starting => 4,
        InstancePhase.Running => 5,
        _ => 6,
    };
}
