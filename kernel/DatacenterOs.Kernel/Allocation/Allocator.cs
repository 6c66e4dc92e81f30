using Res = DatacenterOs.Kernel.Resources;

namespace DatacenterOs.Kernel.Allocation;

/// <summary>
/// The kernel's hierarchical weighted-DRF allocator state, modelled on the Mesos <c>HierarchicalDRFAllocator</c>
/// (<c>src/master/allocator/mesos/hierarchical.cpp</c>). It tracks agents (total, available, per-framework
/// offered-or-allocated resources), frameworks and their roles, role weights, quota limits, reservations and offer
/// filters; <see cref="Allocate"/> runs one allocation cycle (see <see cref="AllocationCycle"/>).
/// Pure: no I/O; time from the injected <see cref="TimeProvider"/>, agent order from a seeded <see cref="Random"/>.
/// Not thread-safe: one owner (the master's single writer) calls it.
/// </summary>
public sealed partial class Allocator
{
    private readonly AllocatorOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ResourceNameTable _names = new();
    private readonly SorterTotals _totals = new();
    private readonly DrfSorter _roleSorter;
    private readonly List<AgentState?> _agents = [];
    private readonly Dictionary<AgentId, AgentState> _agentById = [];
    private readonly List<FrameworkState?> _frameworks = [];
    private readonly Dictionary<FrameworkId, FrameworkState> _frameworkById = [];
    private readonly List<RoleState> _roles = [];
    private readonly Dictionary<string, RoleState> _roleByName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _weights = new(StringComparer.Ordinal);
    private readonly PriorityQueue<FilterEntry, DateTimeOffset> _filterExpiry = new();
    private long[] _clusterTotal = [];
    private long[] _vecAll = [];
    private long[] _vecUnreserved = [];
    private bool _cappedDirty;
    private int _uncappedActiveRoles;

    /// <summary>Creates an allocator.</summary>
    /// <param name="options">Settings; Mesos defaults when null.</param>
    /// <param name="time">Clock for filter expiry; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="seed">Seed of the random agent order; the same seed and the same calls give the same offers.</param>
    public Allocator(AllocatorOptions? options = null, TimeProvider? time = null, int seed = 0)
    {
        _options = options ?? new AllocatorOptions();
        _time = time ?? TimeProvider.System;
        _random = new Random(seed);
        _roleSorter = new DrfSorter(_totals, hierarchical: true);
        var excluded = new bool[16];
        foreach (var name in _options.FairSharingExcludedResourceNames)
        {
            var i = _names.Intern(name);
            if (i >= excluded.Length)
            {
                Array.Resize(ref excluded, i + 1);
            }

            excluded[i] = true;
        }

        _totals.SetExcluded(excluded);
    }

    /// <summary>The settings in force.</summary>
    public AllocatorOptions Options => _options;

    /// <summary>Number of agents.</summary>
    public int AgentCount => _agentById.Count;

    /// <summary>Number of frameworks.</summary>
    public int FrameworkCount => _frameworkById.Count;

    // ---------------------------------------------------------------- agents

    /// <summary>Adds an agent with nothing allocated.</summary>
    /// <exception cref="InvalidOperationException">The agent id is already known.</exception>
    public void AddAgent(AgentInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (_agentById.ContainsKey(info.Id))
        {
            throw new InvalidOperationException($"agent '{info.Id}' is already added");
        }

        var agent = new AgentState(_agents.Count, info);
        _agents.Add(agent);
        _agentById[info.Id] = agent;
        AddToClusterTotal(info.Total, +1);
        foreach (var reservation in info.Total.Reserved())
        {
            AddReservedToRole(reservation, +1);
        }
    }

    /// <summary>
    /// Removes an agent; its allocations leave the frameworks' shares. Filters that mention it are dropped as they expire.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public void RemoveAgent(AgentId agentId)
    {
        var agent = GetAgent(agentId);
        foreach (var ((fwIndex, roleIndex), resources) in agent.Allocated.ToArray())
        {
            Untrack(_frameworks[fwIndex]!, _roles[roleIndex], agent, resources);
        }

        foreach (var reservation in agent.Total.Reserved())
        {
            AddReservedToRole(reservation, -1);
        }

        AddToClusterTotal(agent.Total, -1);
        _agents[agent.Index] = null;
        _agentById.Remove(agentId);
    }

    /// <summary>Sets the agent's maintenance mode: <see cref="MaintenanceMode.Down"/> agents are offered to nobody; draining ones carry <paramref name="unavailability"/>.</summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public void SetMaintenance(AgentId agentId, MaintenanceMode mode, Unavailability? unavailability = null)
    {
        var agent = GetAgent(agentId);
        agent.Mode = mode;
        agent.Unavailability = mode == MaintenanceMode.Up ? null : unavailability;
    }

    /// <summary>Stops (false) or resumes (true) offering the agent's resources (Mesos activate/deactivate agent).</summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public void SetAgentActive(AgentId agentId, bool active) => GetAgent(agentId).Activated = active;

    /// <summary>The agent's total resources (including reservations).</summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public Res TotalOf(AgentId agentId) => GetAgent(agentId).Total;

    /// <summary>The agent's resources neither offered nor allocated.</summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public Res AvailableOn(AgentId agentId) => GetAgent(agentId).Available;

    /// <summary>Offered-or-allocated resources on the agent by (framework, role).</summary>
    /// <exception cref="KeyNotFoundException">Unknown agent.</exception>
    public IReadOnlyDictionary<(FrameworkId Framework, string Role), Res> AllocatedOn(AgentId agentId) =>
        GetAgent(agentId).Allocated.ToDictionary(kv => (_frameworks[kv.Key.Framework]!.Id, _roles[kv.Key.Role].Name), kv => kv.Value);

    /// <summary>What <paramref name="frameworkId"/> holds (offered or allocated) on the agent for <paramref name="role"/>; empty when nothing or unknown.</summary>
    public Res HeldBy(FrameworkId frameworkId, AgentId agentId, string role) =>
        _agentById.TryGetValue(agentId, out var agent)
        && _frameworkById.TryGetValue(frameworkId, out var fw)
        && _roleByName.TryGetValue(role, out var r)
        && agent.Allocated.TryGetValue((fw.Index, r.Index), out var held)
            ? held
            : Res.Empty;

    /// <summary>Ids of all agents, in the order they were added.</summary>
    public IEnumerable<AgentId> AgentIds => _agents.Where(static a => a is not null).Select(static a => a!.Id);

    // ---------------------------------------------------------------- frameworks

    /// <summary>Adds a framework, subscribed to its roles and active.</summary>
    /// <exception cref="InvalidOperationException">The id is already known.</exception>
    /// <exception cref="ArgumentException">No roles, or an invalid role name.</exception>
    public void AddFramework(FrameworkInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        if (_frameworkById.ContainsKey(info.Id))
        {
            throw new InvalidOperationException($"framework '{info.Id}' is already added");
        }

        if (info.Roles.Count == 0)
        {
            throw new ArgumentException($"framework '{info.Id}' must subscribe to at least one role", nameof(info));
        }

        var fw = new FrameworkState(_frameworks.Count, info) { Active = true };
        _frameworks.Add(fw);
        _frameworkById[info.Id] = fw;
        SetMinAllocatable(fw, info);
        foreach (var role in info.Roles)
        {
            Subscribe(fw, GetOrAddRole(RolePath.Require(role, nameof(info))));
        }
    }

    /// <summary>Changes the roles a framework subscribes to; allocations in dropped roles stay until recovered.</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    /// <exception cref="ArgumentException">No roles, or an invalid role name.</exception>
    public void UpdateFramework(FrameworkInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var fw = GetFramework(info.Id);
        if (info.Roles.Count == 0)
        {
            throw new ArgumentException($"framework '{info.Id}' must subscribe to at least one role", nameof(info));
        }

        var newRoles = info.Roles.Select(r => GetOrAddRole(RolePath.Require(r, nameof(info))).Index).ToHashSet();
        foreach (var old in fw.Roles.ToArray())
        {
            if (!newRoles.Contains(old))
            {
                Unsubscribe(fw, _roles[old]);
            }
        }

        fw.Info = info;
        SetMinAllocatable(fw, info);
        foreach (var r in newRoles)
        {
            if (!fw.Roles.Contains(r))
            {
                Subscribe(fw, _roles[r]);
            }
        }
    }

    /// <summary>Removes a framework: its resources return to the agents without filters.</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public void RemoveFramework(FrameworkId frameworkId)
    {
        var fw = GetFramework(frameworkId);
        foreach (var agent in _agents)
        {
            if (agent is null)
            {
                continue;
            }

            foreach (var ((fwIndex, roleIndex), resources) in agent.Allocated.ToArray())
            {
                if (fwIndex == fw.Index)
                {
                    Untrack(fw, _roles[roleIndex], agent, resources);
                }
            }
        }

        foreach (var role in fw.Roles.ToArray())
        {
            Unsubscribe(fw, _roles[role]);
        }

        fw.Filters.Clear();
        _frameworks[fw.Index] = null;
        _frameworkById.Remove(frameworkId);
    }

    /// <summary>Activates (connected) or deactivates (disconnected) a framework. Deactivation also clears its filters, as Mesos.</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public void SetFrameworkActive(FrameworkId frameworkId, bool active)
    {
        var fw = GetFramework(frameworkId);
        fw.Active = active;
        if (!active)
        {
            fw.Filters.Clear();
        }

        foreach (var role in fw.TrackedRoles)
        {
            RefreshActivation(fw, _roles[role]);
        }
    }

    /// <summary>SUPPRESS: no more offers for <paramref name="roles"/> (all subscribed roles when null or empty).</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public void Suppress(FrameworkId frameworkId, IEnumerable<string>? roles = null)
    {
        var fw = GetFramework(frameworkId);
        foreach (var role in RolesOf(fw, roles))
        {
            fw.Suppressed.Add(role.Index);
            RefreshActivation(fw, role);
        }
    }

    /// <summary>
    /// REVIVE: clears the framework's offer filters for <paramref name="roles"/> (all subscribed when null or empty)
    /// and lifts their suppression. The caller then runs a cycle, as Mesos does.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public void Revive(FrameworkId frameworkId, IEnumerable<string>? roles = null)
    {
        var fw = GetFramework(frameworkId);
        foreach (var role in RolesOf(fw, roles))
        {
            fw.Suppressed.Remove(role.Index);
            var prefix = (long)role.Index << 32;
            foreach (var key in fw.Filters.Keys.Where(k => (k & ~0xFFFFFFFFL) == prefix).ToArray())
            {
                fw.Filters.Remove(key);
            }

            RefreshActivation(fw, role);
        }
    }

    /// <summary>True when the framework is suppressed in <paramref name="role"/>.</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public bool IsSuppressed(FrameworkId frameworkId, string role) =>
        _roleByName.TryGetValue(role, out var r) && GetFramework(frameworkId).Suppressed.Contains(r.Index);

    // ---------------------------------------------------------------- allocations

    /// <summary>
    /// Records resources already in use on an agent (tasks found at agent re-registration, or resources handed out
    /// outside a cycle). They must be available on the agent.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown agent or framework.</exception>
    /// <exception cref="InvalidOperationException">The resources are not available on the agent.</exception>
    public void AddAllocation(FrameworkId frameworkId, AgentId agentId, string role, Res resources)
    {
        var fw = GetFramework(frameworkId);
        var agent = GetAgent(agentId);
        var r = GetOrAddRole(RolePath.Require(role));
        if (!agent.Available.Contains(resources))
        {
            throw new InvalidOperationException($"'{resources}' is not available on agent '{agentId}' (available: '{agent.Available}')");
        }

        Track(fw, r, agent, resources);
    }

    /// <summary>
    /// Returns resources a framework held on an agent (declined offer part, finished task, rescinded offer).
    /// With <paramref name="refuse"/> &gt; 0 an offer filter is installed: the framework is not offered a subset of
    /// these resources on this agent for this role for max(refuse, allocation interval), capped at 365 days
    /// (Mesos <c>recoverResources</c>, MESOS-4302). Null or zero installs none.
    /// </summary>
    /// <exception cref="KeyNotFoundException">Unknown agent or framework.</exception>
    /// <exception cref="InvalidOperationException">The framework does not hold these resources there.</exception>
    public void RecoverResources(FrameworkId frameworkId, AgentId agentId, string role, Res resources, TimeSpan? refuse = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var fw = GetFramework(frameworkId);
        var agent = GetAgent(agentId);
        if (!_roleByName.TryGetValue(role, out var r)
            || !agent.Allocated.TryGetValue((fw.Index, r.Index), out var held)
            || !held.Contains(resources))
        {
            throw new InvalidOperationException($"framework '{frameworkId}' does not hold '{resources}' on agent '{agentId}' for role '{role}'");
        }

        Untrack(fw, r, agent, resources);
        if (refuse is { } d && d > TimeSpan.Zero && !resources.IsEmpty)
        {
            var duration = d > _options.MaxRefuse ? _options.MaxRefuse : d;
            if (duration < _options.AllocationInterval)
            {
                duration = _options.AllocationInterval;
            }

            var filter = new OfferFilter(resources, _time.GetUtcNow() + duration);
            var key = FilterKey(r.Index, agent.Index);
            if (!fw.Filters.TryGetValue(key, out var list))
            {
                fw.Filters[key] = list = [];
            }

            list.Add(filter);
            _filterExpiry.Enqueue(new FilterEntry(fw, key, filter), filter.Expiry);
        }
    }

    /// <summary>
    /// DECLINE of an offer: returns its resources with a filter of <paramref name="refuseSeconds"/>
    /// (null or negative: the default 5 s; 0: no filter), as Mesos <c>Filters.refuse_seconds</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The offer's resources are not held by the framework.</exception>
    public void Decline(Offer offer, double? refuseSeconds = null)
    {
        ArgumentNullException.ThrowIfNull(offer);
        var refuse = refuseSeconds is null or < 0 || double.IsNaN(refuseSeconds.Value)
            ? _options.DefaultRefuse
            : refuseSeconds.Value >= _options.MaxRefuse.TotalSeconds ? _options.MaxRefuse : TimeSpan.FromSeconds(refuseSeconds.Value);
        RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, offer.Resources, refuse);
    }

    /// <summary>Offered-or-allocated resources of a framework in a role, summed over agents.</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public Res AllocationOf(FrameworkId frameworkId, string role)
    {
        var fw = GetFramework(frameworkId);
        var sum = Res.Empty;
        if (!_roleByName.TryGetValue(role, out var r))
        {
            return sum;
        }

        foreach (var agent in _agents)
        {
            if (agent is not null && agent.Allocated.TryGetValue((fw.Index, r.Index), out var held))
            {
                sum += held;
            }
        }

        return sum;
    }

    /// <summary>Number of offer filters the framework holds (expired ones are dropped at the start of each cycle).</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public int FilterCount(FrameworkId frameworkId) => GetFramework(frameworkId).Filters.Values.Sum(static l => l.Count);

    // ---------------------------------------------------------------- roles, weights, quota

    /// <summary>Sets a role's weight (Mesos <c>UPDATE_WEIGHTS</c>; default 1.0). Takes effect in the next cycle.</summary>
    /// <exception cref="ArgumentException">Invalid role, or weight not finite and &gt; 0.</exception>
    public void UpdateWeight(string role, double weight)
    {
        RolePath.Require(role);
        if (!double.IsFinite(weight) || weight <= 0)
        {
            throw new ArgumentException($"weight of role '{role}' must be a finite number > 0, not {weight}", nameof(weight));
        }

        _weights[role] = weight;
        _roleSorter.UpdateWeight(role, weight);
    }

    /// <summary>The role's weight (1.0 unless set).</summary>
    public double WeightOf(string role) => _weights.GetValueOrDefault(role, 1.0);

    /// <summary>All weights that were set, by role.</summary>
    public IReadOnlyDictionary<string, double> Weights => _weights;

    /// <summary>
    /// Sets a quota limit on a role and its sub-roles (Mesos <c>UPDATE_QUOTA</c> limits): unreserved scalars offered to
    /// the role subtree are cut so that reservations + offered-or-allocated unreserved stay within the limit.
    /// Names not in <paramref name="limits"/> are unlimited. Null or empty removes the quota.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid role.</exception>
    public void SetQuota(string role, ResourceQuantities? limits)
    {
        var q = GetOrAddRole(RolePath.Require(role));
        if (limits is null || limits.IsEmpty)
        {
            q.Quota = null;
            q.QuotaLimit = [];
        }
        else
        {
            q.Quota = limits;
            foreach (var (name, _) in limits.Millis)
            {
                _names.Intern(name);
            }

            q.QuotaLimit = new long[_names.Count];
            Array.Fill(q.QuotaLimit, -1);
            foreach (var (name, millis) in limits.Millis)
            {
                q.QuotaLimit[_names.Find(name)] = millis;
            }
        }

        RefreshQuota(q);
    }

    /// <summary>The role's quota limit, or null.</summary>
    public ResourceQuantities? QuotaOf(string role) => _roleByName.GetValueOrDefault(role)?.Quota;

    /// <summary>
    /// Quota consumption of a role subtree: its reservations (allocated or not) plus offered-or-allocated unreserved
    /// scalars (Mesos <c>quotaOfferedOrConsumed</c>).
    /// </summary>
    public ResourceQuantities QuotaConsumedBy(string role)
    {
        var sum = new long[_names.Count];
        foreach (var r in _roles)
        {
            if (RolePath.IsWithin(r.Name, role))
            {
                Accumulate(sum, r.Reserved, +1);
                Accumulate(sum, r.AllocatedUnreserved, +1);
            }
        }

        return ToQuantities(sum);
    }

    /// <summary>The weighted dominant share of a role subtree (0 when it holds nothing).</summary>
    public double RoleShare(string role) => _roleSorter.ShareOfPath(role);

    /// <summary>A framework's dominant share within <paramref name="role"/> (allocation / cluster total; frameworks have no weight).</summary>
    /// <exception cref="KeyNotFoundException">Unknown framework.</exception>
    public double FrameworkShare(FrameworkId frameworkId, string role)
    {
        var fw = GetFramework(frameworkId);
        return _roleByName.TryGetValue(role, out var r) && r.FrameworkSorter.Contains(fw.Index) ? r.FrameworkSorter.Share(fw.Index) : 0;
    }

    /// <summary>Cluster totals of scalar resources over all agents (including reserved).</summary>
    public ResourceQuantities ClusterTotal => ToQuantities(_clusterTotal);

    // ---------------------------------------------------------------- reservations

    /// <summary>
    /// RESERVE (Mesos dynamic reservation): turns unreserved resources on the agent into <paramref name="reserved"/>,
    /// whose entries must all be reserved to one role. With a framework, the unreserved resources must be part of
    /// what it holds there for that role (an offer it is accepting); without one (operator API) they must be available.
    /// </summary>
    /// <exception cref="ArgumentException">Entries not all reserved to one role.</exception>
    /// <exception cref="InvalidOperationException">The unreserved resources are not held or available.</exception>
    /// <exception cref="KeyNotFoundException">Unknown agent or framework.</exception>
    public void Reserve(AgentId agentId, Res reserved, FrameworkId? frameworkId = null)
    {
        var role = SingleReservationRole(reserved);
        var agent = GetAgent(agentId);
        var unreserved = reserved.ToUnreserved();
        ApplyReservationChange(agent, frameworkId, role, remove: unreserved, add: reserved);
        agent.DynamicReserved += reserved;
    }

    /// <summary>
    /// UNRESERVE: turns dynamically reserved resources back into unreserved ones. Static reservations (from the
    /// agent's own resources) cannot be unreserved.
    /// </summary>
    /// <exception cref="ArgumentException">Entries not all reserved to one role.</exception>
    /// <exception cref="InvalidOperationException">Not dynamically reserved, or not held/available.</exception>
    /// <exception cref="KeyNotFoundException">Unknown agent or framework.</exception>
    public void Unreserve(AgentId agentId, Res reserved, FrameworkId? frameworkId = null)
    {
        var role = SingleReservationRole(reserved);
        var agent = GetAgent(agentId);
        if (!agent.DynamicReserved.Contains(reserved))
        {
            throw new InvalidOperationException($"'{reserved}' is not dynamically reserved on agent '{agentId}' (dynamic reservations: '{agent.DynamicReserved}')");
        }

        ApplyReservationChange(agent, frameworkId, role, remove: reserved, add: reserved.ToUnreserved());
        agent.DynamicReserved -= reserved;
    }

    // ---------------------------------------------------------------- cycle

    /// <summary>Runs one allocation cycle over all agents (or <paramref name="candidates"/>) and returns the offers made.</summary>
    public AllocationResult Allocate(IReadOnlyCollection<AgentId>? candidates = null) => AllocationCycle.Run(this, candidates);

    // ---------------------------------------------------------------- internals

    private static long FilterKey(int role, int agent) => ((long)role << 32) | (uint)agent;

    private AgentState GetAgent(AgentId id) =>
        _agentById.TryGetValue(id, out var a) ? a : throw new KeyNotFoundException($"unknown agent '{id}'");

    private FrameworkState GetFramework(FrameworkId id) =>
        _frameworkById.TryGetValue(id, out var f) ? f : throw new KeyNotFoundException($"unknown framework '{id}'");

    private List<RoleState> RolesOf(FrameworkState fw, IEnumerable<string>? roles)
    {
        var list = roles?.ToList();
        if (list is null || list.Count == 0)
        {
            return fw.Roles.Select(i => _roles[i]).ToList();
        }

        return list.Select(name => _roleByName.TryGetValue(name, out var r) && fw.Roles.Contains(r.Index)
            ? r
            : throw new ArgumentException($"framework '{fw.Id}' is not subscribed to role '{name}'", nameof(roles))).ToList();
    }

    private void SetMinAllocatable(FrameworkState fw, FrameworkInfo info)
    {
        fw.MinAllocatable.Clear();
        foreach (var (role, alternatives) in info.MinAllocatableResources)
        {
            fw.MinAllocatable[GetOrAddRole(RolePath.Require(role)).Index] = alternatives;
        }
    }

    private RoleState GetOrAddRole(string name)
    {
        if (_roleByName.TryGetValue(name, out var role))
        {
            return role;
        }

        role = new RoleState(_roles.Count, name, new DrfSorter(_totals, hierarchical: false));
        _roles.Add(role);
        _roleByName[name] = role;
        role.QuotaAncestors = QuotaAncestorsOf(name);
        foreach (var q in role.QuotaAncestors)
        {
            q.QuotaDescendants.Add(role);
        }

        return role;
    }

    private void Subscribe(FrameworkState fw, RoleState role)
    {
        fw.Roles.Add(role.Index);
        Track(fw, role);
        RefreshActivation(fw, role);
    }

    private void Unsubscribe(FrameworkState fw, RoleState role)
    {
        fw.Roles.Remove(role.Index);
        fw.Suppressed.Remove(role.Index);
        RefreshActivation(fw, role);
        TryUntrack(fw, role);
    }

    /// <summary>Puts the framework in the role's framework sorter and the role in the role sorter.</summary>
    private void Track(FrameworkState fw, RoleState role)
    {
        if (!role.FrameworkSorter.Contains(fw.Index))
        {
            role.FrameworkSorter.Add(fw.Index, fw.Id.Value);
            fw.TrackedRoles.Add(role.Index);
            role.TrackedFrameworks++;
        }

        if (!role.InRoleSorter)
        {
            _roleSorter.Add(role.Index, role.Name);
            role.InRoleSorter = true;
        }
    }

    private void TryUntrack(FrameworkState fw, RoleState role)
    {
        if (fw.Roles.Contains(role.Index) || fw.AllocationsByRole.GetValueOrDefault(role.Index) > 0 || !role.FrameworkSorter.Contains(fw.Index))
        {
            return;
        }

        role.FrameworkSorter.Remove(fw.Index);
        fw.TrackedRoles.Remove(role.Index);
        role.TrackedFrameworks--;
        if (role.TrackedFrameworks == 0 && role.InRoleSorter)
        {
            _roleSorter.Remove(role.Index);
            role.InRoleSorter = false;
        }
    }

    private void RefreshActivation(FrameworkState fw, RoleState role)
    {
        if (!role.FrameworkSorter.Contains(fw.Index))
        {
            return;
        }

        var wanted = fw.Active && fw.Roles.Contains(role.Index) && !fw.Suppressed.Contains(role.Index);
        if (role.FrameworkSorter.IsActive(fw.Index) == wanted)
        {
            return;
        }

        if (wanted)
        {
            role.FrameworkSorter.Activate(fw.Index);
            role.ActiveFrameworks++;
        }
        else
        {
            role.FrameworkSorter.Deactivate(fw.Index);
            role.ActiveFrameworks--;
        }

        var roleActive = role.ActiveFrameworks > 0;
        if (_roleSorter.IsActive(role.Index) != roleActive)
        {
            if (roleActive)
            {
                _roleSorter.Activate(role.Index);
            }
            else
            {
                _roleSorter.Deactivate(role.Index);
            }

            if (!role.Capped)
            {
                _uncappedActiveRoles += roleActive ? 1 : -1;
            }
        }
    }

    /// <summary>Moves resources from the agent's available pool to (framework, role): sorters and quota follow.</summary>
    internal void Track(FrameworkState fw, RoleState role, AgentState agent, Res resources)
    {
        agent.Available = ReferenceEquals(resources, agent.Available) ? Res.Empty : agent.Available.Subtract(resources);
        var key = (fw.Index, role.Index);
        if (agent.Allocated.TryGetValue(key, out var held))
        {
            agent.Allocated[key] = held + resources;
        }
        else
        {
            agent.Allocated[key] = resources;
            fw.AllocationsByRole[role.Index] = fw.AllocationsByRole.GetValueOrDefault(role.Index) + 1;
        }

        Track(fw, role);
        FillVectors(resources);
        _roleSorter.Allocated(role.Index, _vecAll);
        role.FrameworkSorter.Allocated(fw.Index, _vecAll);
        Accumulate(ref role.AllocatedUnreserved, _vecUnreserved, +1);
        ConsumeQuota(role, _vecUnreserved, +1);
    }

    private void Untrack(FrameworkState fw, RoleState role, AgentState agent, Res resources)
    {
        var key = (fw.Index, role.Index);
        var remaining = agent.Allocated[key].Subtract(resources);
        if (remaining.IsEmpty)
        {
            agent.Allocated.Remove(key);
            fw.AllocationsByRole[role.Index]--;
        }
        else
        {
            agent.Allocated[key] = remaining;
        }

        agent.Available += resources;
        FillVectors(resources);
        _roleSorter.Unallocated(role.Index, _vecAll);
        role.FrameworkSorter.Unallocated(fw.Index, _vecAll);
        Accumulate(ref role.AllocatedUnreserved, _vecUnreserved, -1);
        ConsumeQuota(role, _vecUnreserved, -1);
        TryUntrack(fw, role);
    }

    private void ApplyReservationChange(AgentState agent, FrameworkId? frameworkId, string role, Res remove, Res add)
    {
        var target = GetOrAddRole(role);
        if (frameworkId is { } fid)
        {
            var fw = GetFramework(fid);
            if (!agent.Allocated.TryGetValue((fw.Index, target.Index), out var held) || !held.Contains(remove))
            {
                throw new InvalidOperationException($"framework '{fid}' does not hold '{remove}' on agent '{agent.Id}' for role '{role}'");
            }

            agent.Allocated[(fw.Index, target.Index)] = held.Subtract(remove).Add(add);

            // Quota: the unreserved part leaves (or joins) the role's offered-or-allocated unreserved.
            var delta = new long[_names.Count];
            FillVectors(add.Unreserved());
            Accumulate(delta, _vecUnreserved, +1);
            FillVectors(remove.Unreserved());
            Accumulate(delta, _vecUnreserved, -1);
            Accumulate(ref target.AllocatedUnreserved, delta, +1);
            ConsumeQuota(target, delta, +1);
        }
        else
        {
            if (!agent.Available.Contains(remove))
            {
                throw new InvalidOperationException($"'{remove}' is not available on agent '{agent.Id}' (available: '{agent.Available}')");
            }

            agent.Available = agent.Available.Subtract(remove).Add(add);
        }

        agent.Total = agent.Total.Subtract(remove).Add(add);
        agent.RefreshReservationFlag();
        foreach (var r in remove.Reserved())
        {
            AddReservedToRole(r, -1);
        }

        foreach (var r in add.Reserved())
        {
            AddReservedToRole(r, +1);
        }
    }

    private static string SingleReservationRole(Res reserved)
    {
        ArgumentNullException.ThrowIfNull(reserved);
        var roles = reserved.Select(static r => r.Role).Distinct().ToList();
        if (reserved.IsEmpty || roles.Count != 1 || roles[0] is null)
        {
            throw new ArgumentException($"reservation '{reserved}' must be non-empty and reserved to exactly one role", nameof(reserved));
        }

        return roles[0]!;
    }

    private void AddReservedToRole(Resource reserved, int sign)
    {
        if (reserved.Type != ResourceType.Scalar)
        {
            return;
        }

        var role = GetOrAddRole(reserved.Role!);
        var i = _names.Intern(reserved.Name);
        EnsureLength(ref role.Reserved, _names.Count);
        role.Reserved[i] += sign * reserved.ScalarMillis;
        var delta = new long[_names.Count];
        delta[i] = reserved.ScalarMillis;
        ConsumeQuota(role, delta, sign);
    }

    private void AddToClusterTotal(Res total, int sign)
    {
        _names.InternAll(total);
        var next = new long[_names.Count];
        Array.Copy(_clusterTotal, next, _clusterTotal.Length);
        FillVectors(total);
        Accumulate(next, _vecAll, sign);
        _clusterTotal = next;
        _totals.Set(next);
        _cappedDirty = true;
    }

    private void FillVectors(Res resources)
    {
        _names.InternAll(resources);
        if (_vecAll.Length != _names.Count)
        {
            _vecAll = new long[_names.Count];
            _vecUnreserved = new long[_names.Count];
        }
        else
        {
            Array.Clear(_vecAll);
            Array.Clear(_vecUnreserved);
        }

        _names.Fill(resources, _vecAll, _vecUnreserved);
    }

    private void ConsumeQuota(RoleState role, long[] delta, int sign)
    {
        foreach (var q in role.QuotaAncestors)
        {
            Accumulate(ref q.QuotaConsumed, delta, sign);
            foreach (var d in q.QuotaDescendants)
            {
                RefreshCapped(d);
            }
        }
    }

    /// <summary>Recomputes quota bookkeeping after <paramref name="q"/>'s quota changed: O(roles + descendants × depth).</summary>
    private void RefreshQuota(RoleState q)
    {
        q.QuotaDescendants.Clear();
        foreach (var r in _roles)
        {
            if (RolePath.IsWithin(r.Name, q.Name))
            {
                r.QuotaAncestors = QuotaAncestorsOf(r.Name);
                if (q.Quota is not null)
                {
                    q.QuotaDescendants.Add(r);
                }
            }
        }

        q.QuotaConsumed = new long[_names.Count];
        foreach (var d in q.QuotaDescendants)
        {
            Accumulate(ref q.QuotaConsumed, d.Reserved, +1);
            Accumulate(ref q.QuotaConsumed, d.AllocatedUnreserved, +1);
        }

        foreach (var r in _roles)
        {
            if (RolePath.IsWithin(r.Name, q.Name))
            {
                RefreshCapped(r);
            }
        }
    }

    private RoleState[] QuotaAncestorsOf(string role)
    {
        List<RoleState>? list = null;
        foreach (var path in RolePath.SelfAndAncestors(role))
        {
            if (_roleByName.TryGetValue(path, out var q) && q.Quota is not null)
            {
                (list ??= []).Add(q);
            }
        }

        return list is null ? [] : [.. list];
    }

    internal void RefreshAllCapped()
    {
        foreach (var r in _roles)
        {
            RefreshCapped(r);
        }

        _cappedDirty = false;
    }

    /// <summary>A role is capped when every scalar in the cluster is limited to zero room by one of its quota ancestors.</summary>
    private void RefreshCapped(RoleState role)
    {
        var capped = role.QuotaAncestors.Length > 0;
        if (capped)
        {
            for (var i = 0; i < _clusterTotal.Length && capped; i++)
            {
                if (_clusterTotal[i] > 0 && Room(role, i) > 0)
                {
                    capped = false;
                }
            }
        }

        if (capped == role.Capped)
        {
            return;
        }

        role.Capped = capped;
        if (role.InRoleSorter && role.ActiveFrameworks > 0)
        {
            _uncappedActiveRoles += capped ? -1 : 1;
        }
    }

    /// <summary>Quota room of <paramref name="role"/> for name index <paramref name="i"/>, in thousandths; long.MaxValue when unlimited.</summary>
    internal static long Room(RoleState role, int i)
    {
        var room = long.MaxValue;
        foreach (var q in role.QuotaAncestors)
        {
            var limit = i < q.QuotaLimit.Length ? q.QuotaLimit[i] : -1;
            if (limit < 0)
            {
                continue;
            }

            var consumed = i < q.QuotaConsumed.Length ? q.QuotaConsumed[i] : 0;
            room = Math.Min(room, Math.Max(0, limit - consumed));
        }

        return room;
    }

    private ResourceQuantities ToQuantities(long[] vector) =>
        ResourceQuantities.FromMillis(vector.Select((v, i) => new KeyValuePair<string, long>(_names[i], Math.Max(0, v))));

    private static void Accumulate(long[] target, long[] delta, int sign)
    {
        for (var i = 0; i < Math.Min(target.Length, delta.Length); i++)
        {
            target[i] += sign * delta[i];
        }
    }

    private static void Accumulate(ref long[] target, long[] delta, int sign)
    {
        EnsureLength(ref target, delta.Length);
        Accumulate(target, delta, sign);
    }

    private static void EnsureLength(ref long[] vector, int length)
    {
        if (vector.Length < length)
        {
            Array.Resize(ref vector, length);
        }
    }
}
