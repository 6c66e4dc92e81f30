using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Allocation;

/// <summary>Allocator bookkeeping for one agent.</summary>
internal sealed class AgentState
{
    public AgentState(int index, AgentInfo info)
    {
        Index = index;
        Id = info.Id;
        Info = info;
        Total = info.Total;
        Available = info.Total;
        RefreshReservationFlag();
    }

    public int Index { get; }

    public AgentId Id { get; }

    public AgentInfo Info { get; }

    public Res Total { get; set; }

    public Res Available { get; set; }

    public Res DynamicReserved { get; set; } = Res.Empty;

    /// <summary>Offered-or-allocated resources by (framework index, role index).</summary>
    public Dictionary<(int Framework, int Role), Res> Allocated { get; } = [];

    public bool HasReservations { get; private set; }

    public MaintenanceMode Mode { get; set; }

    public Unavailability? Unavailability { get; set; }

    public bool Activated { get; set; } = true;

    /// <summary>Cache: whether <see cref="Available"/> (this exact instance) meets the cluster minimum allocatable.</summary>
    public Res? AllocatableCheckedFor { get; set; }

    public bool AllocatableCached { get; set; }

    public void RefreshReservationFlag()
    {
        var has = false;
        foreach (var r in Total.Items)
        {
            if (r.IsReserved)
            {
                has = true;
                break;
            }
        }

        HasReservations = has;
    }
}

/// <summary>Allocator bookkeeping for one framework.</summary>
internal sealed class FrameworkState(int index, FrameworkInfo info)
{
    public int Index { get; } = index;

    public FrameworkId Id { get; } = info.Id;

    public FrameworkInfo Info { get; set; } = info;

    public bool Active { get; set; }

    /// <summary>Role indexes the framework subscribes to.</summary>
    public HashSet<int> Roles { get; } = [];

    /// <summary>Role indexes whose framework sorter holds this framework (subscribed or still allocated).</summary>
    public HashSet<int> TrackedRoles { get; } = [];

    public HashSet<int> Suppressed { get; } = [];

    /// <summary>Number of agents with an allocation, by role index.</summary>
    public Dictionary<int, int> AllocationsByRole { get; } = [];

    public Dictionary<int, IReadOnlyList<ResourceQuantities>> MinAllocatable { get; } = [];

    /// <summary>Offer filters keyed by (role index &lt;&lt; 32 | agent index).</summary>
    public Dictionary<long, List<OfferFilter>> Filters { get; } = [];
}

/// <summary>Allocator bookkeeping for one role.</summary>
internal sealed class RoleState(int index, string name, DrfSorter frameworkSorter)
{
    public int Index { get; } = index;

    public string Name { get; } = name;

    public DrfSorter FrameworkSorter { get; } = frameworkSorter;

    public int TrackedFrameworks { get; set; }

    public int ActiveFrameworks { get; set; }

    public bool InRoleSorter { get; set; }

    /// <summary>Scalars of agents' totals reserved to exactly this role, by name index (thousandths).</summary>
    public long[] Reserved = [];

    /// <summary>Offered-or-allocated unreserved scalars of this exact role, by name index (thousandths).</summary>
    public long[] AllocatedUnreserved = [];

    public ResourceQuantities? Quota { get; set; }

    /// <summary>Quota limit by name index (thousandths); -1 = unlimited.</summary>
    public long[] QuotaLimit = [];

    /// <summary>Consumption of the subtree when this role has a quota.</summary>
    public long[] QuotaConsumed = [];

    /// <summary>This role and its ancestors that have a quota.</summary>
    public RoleState[] QuotaAncestors { get; set; } = [];

    /// <summary>Roles within this one (itself included), when it has a quota.</summary>
    public List<RoleState> QuotaDescendants { get; } = [];

    /// <summary>Number of the last cycle in which quota cut an offer for this role.</summary>
    public long QuotaCutInCycle { get; set; }

    /// <summary>True when quota leaves no room for any unreserved scalar.</summary>
    public bool Capped { get; set; }
}

/// <summary>A refusal: the framework is not offered a subset of <see cref="Refused"/> until <see cref="Expiry"/>. Compared by reference.</summary>
internal sealed class OfferFilter(Res refused, DateTimeOffset expiry)
{
    public Res Refused { get; } = refused;

    public DateTimeOffset Expiry { get; } = expiry;
}

/// <summary>An entry of the filter-expiry queue.</summary>
internal readonly record struct FilterEntry(FrameworkState Framework, long Key, OfferFilter Filter);
