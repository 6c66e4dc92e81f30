
namespace DatacenterOs.Kernel.Allocation;

/// <summary>Identifier of an agent (Mesos <c>AgentID</c>), e.g. <c>a1b2c3-S0</c>.</summary>
/// <param name="Value">The id text; must not be empty.</param>
public readonly record struct AgentId(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Identifier of a framework (Mesos <c>FrameworkID</c>), e.g. <c>a1b2c3-0001</c>.</summary>
/// <param name="Value">The id text; must not be empty.</param>
public readonly record struct FrameworkId(string Value)
{
    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Maintenance mode of an agent's machine (Mesos <c>MachineInfo.Mode</c>, <c>docs/maintenance.md</c>).</summary>
public enum MaintenanceMode
{
    /// <summary>Normal: offered to frameworks.</summary>
    Up,

    /// <summary>Scheduled for maintenance: still offered, each offer carries the unavailability window.</summary>
    Draining,

    /// <summary>Under maintenance: offered to nobody.</summary>
    Down,
}

/// <summary>A window when an agent will be unavailable (Mesos <c>Unavailability</c>).</summary>
/// <param name="Start">When the maintenance starts.</param>
/// <param name="Duration">How long it lasts; null means indefinitely.</param>
public sealed record Unavailability(DateTimeOffset Start, TimeSpan? Duration);

/// <summary>
/// What the allocator knows of an agent when it is added.
/// </summary>
/// <param name="Id">Agent id.</param>
/// <param name="Hostname">Host name, for display.</param>
/// <param name="Total">All resources of the agent, including static reservations (e.g. <c>cpus(web):2;cpus:4;mem:4096</c>).</param>
public sealed record AgentInfo(AgentId Id, string Hostname, Resources Total)
{
    /// <summary>Agent attributes, e.g. <c>rack → r1</c>; not used by allocation yet.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// What the allocator knows of a framework when it is added (the allocation-relevant part of Mesos <c>FrameworkInfo</c>).
/// </summary>
/// <param name="Id">Framework id.</param>
/// <param name="Name">Display name.</param>
/// <param name="Roles">Roles the framework subscribes to (Mesos <c>MULTI_ROLE</c>); at least one.</param>
public sealed record FrameworkInfo(FrameworkId Id, string Name, IReadOnlyList<string> Roles)
{
    /// <summary>
    /// Per-role override of the cluster's minimum allocatable resources (Mesos
    /// <c>FrameworkInfo.offer_filters[role].min_allocatable_resources</c>); alternatives, any one suffices.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<ResourceQuantities>> MinAllocatableResources { get; init; } =
        new Dictionary<string, IReadOnlyList<ResourceQuantities>>();
}

/// <summary>
/// Resources offered to one framework, for one of its roles, on one agent. The master turns each into a
/// Mesos <c>Offer</c> with an id.
/// </summary>
/// <param name="FrameworkId">Receiving framework.</param>
/// <param name="Role">Allocation role the offer is made for.</param>
/// <param name="AgentId">Agent the resources are on.</param>
/// <param name="Resources">Offered resources: reserved ones keep their reservation.</param>
/// <param name="Unavailability">Set when the agent is draining for maintenance.</param>
public sealed record Offer(FrameworkId FrameworkId, string Role, AgentId AgentId, Resources Resources, Unavailability? Unavailability);

/// <summary>Why a framework received no offer in a cycle. Several may apply.</summary>
[Flags]
public enum NoOfferReasons
{
    /// <summary>No reason recorded.</summary>
    None = 0,

    /// <summary>The framework is inactive (disconnected or in its failover window).</summary>
    Inactive = 1,

    /// <summary>The framework suppressed offers for all its roles.</summary>
    Suppressed = 2,

    /// <summary>Resources it was considered for were declined earlier and are held back by an offer filter (<c>refuse_seconds</c>).</summary>
    Filtered = 4,

    /// <summary>Its role reached its quota limit.</summary>
    QuotaLimit = 8,

    /// <summary>What remained on agents was below the minimum allocatable resources.</summary>
    BelowMinimumAllocatable = 16,

    /// <summary>Frameworks or roles with a lower weighted dominant share took the free resources first.</summary>
    FairShare = 32,

    /// <summary>No agent had free resources its roles may use.</summary>
    NoResources = 64,
}

/// <summary>A framework that received nothing in a cycle, and why.</summary>
/// <param name="FrameworkId">The framework.</param>
/// <param name="Reasons">Every reason seen during the cycle.</param>
public sealed record UnsatisfiedFramework(FrameworkId FrameworkId, NoOfferReasons Reasons)
{
    /// <summary>One readable sentence describing <see cref="Reasons"/>.</summary>
    public string Message => Describe(Reasons);

    private static readonly (NoOfferReasons Reason, string Text)[] Texts =
    [
        (NoOfferReasons.Inactive, "framework is inactive"),
        (NoOfferReasons.Suppressed, "offers are suppressed for all its roles"),
        (NoOfferReasons.QuotaLimit, "its role is at its quota limit"),
        (NoOfferReasons.Filtered, "it declined these resources and the refuse_seconds filter still holds"),
        (NoOfferReasons.BelowMinimumAllocatable, "free resources were below the minimum allocatable"),
        (NoOfferReasons.FairShare, "roles or frameworks with a lower dominant share received the free resources first"),
        (NoOfferReasons.NoResources, "no agent has free resources for its roles"),
    ];

    /// <summary>Describes reasons in words, joined by "; ".</summary>
    public static string Describe(NoOfferReasons reasons)
    {
        var parts = Texts.Where(t => reasons.HasFlag(t.Reason)).Select(static t => t.Text).ToList();
        return parts.Count == 0 ? "no reason recorded" : string.Join("; ", parts);
    }
}

/// <summary>Counters of one allocation cycle, for metrics and benchmarks.</summary>
/// <param name="AgentsConsidered">Agents visited in the cycle.</param>
/// <param name="RoleVisits">(agent, role) pairs examined.</param>
/// <param name="FrameworkVisits">(agent, role, framework) triples examined.</param>
public readonly record struct AllocationStatistics(int AgentsConsidered, long RoleVisits, long FrameworkVisits);

/// <summary>The result of one allocation cycle.</summary>
/// <param name="Offers">Offers in the order they were made; at most one per (framework, role, agent).</param>
/// <param name="Unsatisfied">Frameworks that received nothing, with the reasons.</param>
/// <param name="Statistics">Counters of the cycle.</param>
public sealed record AllocationResult(IReadOnlyList<Offer> Offers, IReadOnlyList<UnsatisfiedFramework> Unsatisfied, AllocationStatistics Statistics);

/// <summary>Allocator settings; defaults follow Mesos (reference: <c>src/master/flags.cpp</c>, <c>constants.hpp</c>).</summary>
public sealed record AllocatorOptions
{
    /// <summary>Allocation interval (Mesos <c>--allocation_interval</c>, default 1 s). Filters live at least this long (MESOS-4302).</summary>
    public TimeSpan AllocationInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Filter duration when a decline gives none or a negative one (Mesos <c>Filters.refuse_seconds</c> default 5 s).</summary>
    public TimeSpan DefaultRefuse { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest filter: refuse_seconds are capped at 365 days as Mesos does.</summary>
    public TimeSpan MaxRefuse { get; init; } = TimeSpan.FromDays(365);

    /// <summary>
    /// Nothing is offered unless it holds at least one of these alternatives (Mesos <c>--min_allocatable_resources</c>,
    /// default <c>cpus:0.01|mem:32</c>).
    /// </summary>
    public IReadOnlyList<ResourceQuantities> MinAllocatableResources { get; init; } = ResourceQuantities.ParseAlternatives("cpus:0.01|mem:32");

    /// <summary>Resource names left out of DRF shares (Mesos <c>--fair_sharing_excluded_resource_names</c>).</summary>
    public IReadOnlyList<string> FairSharingExcludedResourceNames { get; init; } = [];
}
