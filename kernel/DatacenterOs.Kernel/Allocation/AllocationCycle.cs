using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Allocation;

/// <summary>
/// One allocation cycle of the hierarchical weighted-DRF allocator, following Mesos <c>__generateOffers()</c>
/// (<c>hierarchical.cpp</c>, stage 2 "fair share"; quota guarantees, deprecated in Mesos 1.9, are not modelled —
/// quota acts as a limit):
/// <list type="number">
/// <item>Expired offer filters are dropped; agents that are active and not <see cref="MaintenanceMode.Down"/> are shuffled with the allocator's seeded random.</item>
/// <item>For each agent, roles are visited in DRF order (lowest weighted dominant share first), and within each role its
/// active frameworks in DRF order.</item>
/// <item>The offer for (agent, role) is: resources reserved to the role or an ancestor, unreserved non-scalars (ports),
/// and unreserved scalars cut to the role's quota room. It goes whole to the first framework for which it is
/// allocatable (<c>min_allocatable_resources</c>) and not filtered (coarse-grained offers).</item>
/// <item>Each offer updates the sorters at once, so the next agent sees the new order.</item>
/// </list>
/// Offers count toward the holder's share until answered, as in Mesos.
/// </summary>
public static class AllocationCycle
{
    /// <summary>Runs one cycle on <paramref name="allocator"/> over all agents, or only <paramref name="candidates"/>.</summary>
    /// <returns>The offers made (already counted as allocated) and, for frameworks that got nothing, the reasons.</returns>
    public static AllocationResult Run(Allocator allocator, IReadOnlyCollection<AgentId>? candidates = null)
    {
        ArgumentNullException.ThrowIfNull(allocator);
        return allocator.RunCycle(candidates);
    }
}

/// <content>The allocation cycle loop.</content>
public sealed partial class Allocator
{
    private int[] _agentOrder = [];
    private NoOfferReasons[] _reasons = [];
    private bool[] _offered = [];
    private long _cycleNumber;

    internal AllocationResult RunCycle(IReadOnlyCollection<AgentId>? candidates)
    {
        var now = _time.GetUtcNow();
        _cycleNumber++;
        ExpireFilters(now);
        if (_cappedDirty)
        {
            RefreshAllCapped();
        }

        var agentCount = FillAgentOrder(candidates);
        if (_reasons.Length < _frameworks.Count)
        {
            _reasons = new NoOfferReasons[_frameworks.Count * 2];
            _offered = new bool[_frameworks.Count * 2];
        }
        else
        {
            Array.Clear(_reasons, 0, _frameworks.Count);
            Array.Clear(_offered, 0, _frameworks.Count);
        }

        var offers = new List<Offer>();
        long roleVisits = 0, frameworkVisits = 0;
        var agentsConsidered = 0;
        var sawFreeResources = false;
        var globalMin = _options.MinAllocatableResources;

        for (var a = 0; a < agentCount; a++)
        {
            var agent = _agents[_agentOrder[a]]!;
            if (agent.Available.IsEmpty)
            {
                continue;
            }

            agentsConsidered++;
            sawFreeResources = true;
            if (!agent.HasReservations && _uncappedActiveRoles == 0)
            {
                continue; // every role with active frameworks is at its quota limit (MESOS lesson 15)
            }

            var roles = _roleSorter.Sort();
            foreach (var roleIndex in roles)
            {
                if (agent.Available.IsEmpty)
                {
                    break;
                }

                var role = _roles[roleIndex];
                roleVisits++;
                if (role.Capped && !agent.HasReservations)
                {
                    continue;
                }

                var toOffer = OfferableTo(agent, role, out var cutByQuota);
                if (cutByQuota)
                {
                    role.QuotaCutInCycle = _cycleNumber;
                }

                if (toOffer.IsEmpty)
                {
                    continue;
                }

                // Live order: we stop iterating as soon as we allocate, before the order changes.
                foreach (var fwIndex in role.FrameworkSorter.Live())
                {
                    frameworkVisits++;
                    var fw = _frameworks[fwIndex]!;
                    var min = fw.MinAllocatable.Count > 0 && fw.MinAllocatable.TryGetValue(roleIndex, out var own) ? own : null;
                    if (!(min is null ? IsAllocatableCached(agent, toOffer, globalMin) : IsAllocatable(toOffer, min)))
                    {
                        _reasons[fwIndex] |= NoOfferReasons.BelowMinimumAllocatable;
                        continue;
                    }

                    if (fw.Filters.Count > 0 && IsFiltered(fw, roleIndex, agent.Index, toOffer, now))
                    {
                        _reasons[fwIndex] |= NoOfferReasons.Filtered;
                        continue;
                    }

                    Track(fw, role, agent, toOffer);
                    offers.Add(new Offer(fw.Id, role.Name, agent.Id, toOffer, agent.Mode == MaintenanceMode.Draining ? agent.Unavailability : null));
                    _offered[fwIndex] = true;
                    break; // the whole offerable part went to this framework
                }
            }
        }

        return new AllocationResult(offers, Unsatisfied(sawFreeResources), new AllocationStatistics(agentsConsidered, roleVisits, frameworkVisits));
    }

    private int FillAgentOrder(IReadOnlyCollection<AgentId>? candidates)
    {
        if (_agentOrder.Length < _agents.Count)
        {
            _agentOrder = new int[Math.Max(16, _agents.Count * 2)];
        }

        var n = 0;
        if (candidates is null)
        {
            foreach (var agent in _agents)
            {
                if (agent is not null && agent.Activated && agent.Mode != MaintenanceMode.Down)
                {
                    _agentOrder[n++] = agent.Index;
                }
            }
        }
        else
        {
            foreach (var id in candidates.Distinct())
            {
                if (_agentById.TryGetValue(id, out var agent) && agent.Activated && agent.Mode != MaintenanceMode.Down)
                {
                    _agentOrder[n++] = agent.Index;
                }
            }

            Array.Sort(_agentOrder, 0, n); // candidates' order must not change the result
        }

        _random.Shuffle(_agentOrder.AsSpan(0, n));
        return n;
    }

    /// <summary>What the agent can offer a framework of <paramref name="role"/> now.</summary>
    private Res OfferableTo(AgentState agent, RoleState role, out bool cutByQuota)
    {
        cutByQuota = false;
        if (!agent.HasReservations && role.QuotaAncestors.Length == 0)
        {
            return agent.Available; // all unreserved, no quota: the whole available part
        }

        var items = agent.Available.Items;
        var list = new List<Resource>(items.Length);
        var changed = false;
        foreach (var r in items)
        {
            if (r.IsReserved)
            {
                if (RolePath.IsWithin(role.Name, r.Role!))
                {
                    list.Add(r); // reservations are not cut by quota (Mesos stage 2)
                }
                else
                {
                    changed = true;
                }

                continue;
            }

            if (r.Type != ResourceType.Scalar || role.QuotaAncestors.Length == 0)
            {
                list.Add(r);
                continue;
            }

            var index = _names.Find(r.Name);
            var room = Room(role, index);
            if (room <= 0)
            {
                changed = cutByQuota = true;
                continue;
            }

            if (room < r.ScalarMillis)
            {
                list.Add(Resource.CreateScalarMillis(r.Name, room));
                changed = cutByQuota = true;
            }
            else
            {
                list.Add(r);
            }
        }

        return changed ? Res.FromSorted(list) : agent.Available;
    }

    private static bool IsAllocatableCached(AgentState agent, Res toOffer, IReadOnlyList<ResourceQuantities> alternatives)
    {
        if (!ReferenceEquals(toOffer, agent.Available))
        {
            return IsAllocatable(toOffer, alternatives);
        }

        if (!ReferenceEquals(agent.AllocatableCheckedFor, toOffer))
        {
            agent.AllocatableCached = IsAllocatable(toOffer, alternatives);
            agent.AllocatableCheckedFor = toOffer;
        }

        return agent.AllocatableCached;
    }

    /// <summary>True when <paramref name="resources"/> hold at least one alternative (Mesos <c>allocatable()</c>).</summary>
    internal static bool IsAllocatable(Res resources, IReadOnlyList<ResourceQuantities> alternatives)
    {
        if (alternatives.Count == 0)
        {
            return !resources.IsEmpty;
        }

        foreach (var alternative in alternatives)
        {
            var ok = true;
            foreach (var (name, millis) in alternative.Millis)
            {
                if (resources.ScalarMillis(name) < millis)
                {
                    ok = false;
                    break;
                }
            }

            if (ok)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsFiltered(FrameworkState fw, int role, int agent, Res toOffer, DateTimeOffset now)
    {
        if (!fw.Filters.TryGetValue(FilterKey(role, agent), out var filters))
        {
            return false;
        }

        foreach (var f in filters)
        {
            if (now < f.Expiry && f.Refused.Contains(toOffer))
            {
                return true;
            }
        }

        return false;
    }

    private void ExpireFilters(DateTimeOffset now)
    {
        while (_filterExpiry.TryPeek(out var entry, out var expiry) && expiry <= now)
        {
            _filterExpiry.Dequeue();
            var filters = entry.Framework.Filters;
            if (filters.TryGetValue(entry.Key, out var list))
            {
                list.Remove(entry.Filter);
                if (list.Count == 0)
                {
                    filters.Remove(entry.Key);
                }
            }
        }
    }

    private List<UnsatisfiedFramework> Unsatisfied(bool sawFreeResources)
    {
        var result = new List<UnsatisfiedFramework>();
        foreach (var fw in _frameworks)
        {
            if (fw is null || _offered[fw.Index])
            {
                continue;
            }

            var reasons = _reasons[fw.Index];
            if (!fw.Active)
            {
                reasons |= NoOfferReasons.Inactive;
            }
            else if (fw.Roles.Count > 0 && fw.Roles.All(fw.Suppressed.Contains))
            {
                reasons |= NoOfferReasons.Suppressed;
            }
            else
            {
                if (fw.Roles.Any(r => (_roles[r].Capped || _roles[r].QuotaCutInCycle == _cycleNumber) && !fw.Suppressed.Contains(r)))
                {
                    reasons |= NoOfferReasons.QuotaLimit;
                }

                if (reasons == NoOfferReasons.None)
                {
                    reasons = sawFreeResources ? NoOfferReasons.FairShare : NoOfferReasons.NoResources;
                }
            }

            result.Add(new UnsatisfiedFramework(fw.Id, reasons));
        }

        return result;
    }
}
