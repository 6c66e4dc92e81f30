using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>An immutable picture of the master, published by the writer loop and read by the HTTP read APIs.</summary>
internal sealed record MasterSnapshot(
    GetStateDto State,
    GetRolesDto Roles,
    GetWeightsDto Weights,
    GetQuotaDto Quota,
    IReadOnlyDictionary<string, double> Gauges)
{
    public static readonly MasterSnapshot Empty = new(
        new GetStateDto(new GetTasksDto([], []), new GetFrameworksDto([]), new GetAgentsDto([], [])),
        new GetRolesDto([]),
        new GetWeightsDto([]),
        new GetQuotaDto(new QuotaStatusDto([])),
        new Dictionary<string, double>());
}

/// <summary>A framework as captured for a snapshot; <paramref name="Allocated"/> summed over its roles.</summary>
internal sealed record FrameworkCapture(string Id, FrameworkInfoDto Info, bool Connected, bool Recovered, DateTimeOffset RegisteredAt, Resources Allocated);

/// <summary>An agent as captured for a snapshot (immutable values only).</summary>
internal sealed record AgentCapture(string Id, AgentInfoDto Info, bool Connected, DateTimeOffset RegisteredAt, Resources Total, Resources Available);

/// <summary>
/// Immutable pieces of master state taken on the writer loop by <see cref="MasterCore.CaptureSnapshot"/>;
/// <see cref="Render"/> turns them into the read APIs' DTOs on any thread.
/// </summary>
internal sealed record SnapshotCapture(
    TaskDto[] Tasks,
    TaskDto[] Completed,
    FrameworkCapture[] Frameworks,
    AgentCapture[] Agents,
    AgentInfoDto[] RecoveredAgents,
    Kernel.Allocation.Offer[] Offers,
    GetRolesDto Roles,
    GetWeightsDto Weights,
    GetQuotaDto Quota,
    Dictionary<string, double> Gauges)
{
    /// <summary>Builds the snapshot: per-agent and per-framework offered resources, agent views, task-state gauges.</summary>
    public MasterSnapshot Render()
    {
        var offeredByFramework = new Dictionary<string, Resources>(StringComparer.Ordinal);
        var offeredByAgent = new Dictionary<string, Resources>(StringComparer.Ordinal);
        foreach (var offer in Offers)
        {
            offeredByFramework[offer.FrameworkId.Value] = offeredByFramework.GetValueOrDefault(offer.FrameworkId.Value, Resources.Empty) + offer.Resources;
            offeredByAgent[offer.AgentId.Value] = offeredByAgent.GetValueOrDefault(offer.AgentId.Value, Resources.Empty) + offer.Resources;
        }

        var frameworks = Frameworks.Select(f => new FrameworkStateDto
        {
            FrameworkInfo = f.Info,
            Active = f.Connected,
            Connected = f.Connected,
            Recovered = f.Recovered,
            RegisteredTime = Nanos(f.RegisteredAt),
            AllocatedResources = ResourceConversions.ToDtos(f.Allocated),
            OfferedResources = ResourceConversions.ToDtos(offeredByFramework.GetValueOrDefault(f.Id) ?? Resources.Empty),
        }).ToList();
        var agents = Agents.Select(a => new AgentStateDto
        {
            AgentInfo = a.Info,
            Active = a.Connected,
            RegisteredTime = Nanos(a.RegisteredAt),
            TotalResources = ResourceConversions.ToDtos(a.Total),
            AllocatedResources = ResourceConversions.ToDtos(a.Total - a.Available),
            OfferedResources = ResourceConversions.ToDtos(offeredByAgent.GetValueOrDefault(a.Id) ?? Resources.Empty),
        }).ToList();

        var gauges = new Dictionary<string, double>(Gauges, StringComparer.Ordinal);
        foreach (var group in Tasks.GroupBy(t => t.State))
        {
            gauges[$"dcos_master_tasks{{state=\"{group.Key}\"}}"] = group.Count();
        }

        return new MasterSnapshot(
            new GetStateDto(new GetTasksDto([.. Tasks], [.. Completed]), new GetFrameworksDto(frameworks), new GetAgentsDto(agents, [.. RecoveredAgents])),
            Roles,
            Weights,
            Quota,
            gauges);
    }

    private static NanosDto Nanos(DateTimeOffset time) => new(time.ToUnixTimeMilliseconds() * 1_000_000);
}

/// <content>Snapshots for read APIs and the operator API's writes.</content>
internal sealed partial class MasterCore
{
    /// <summary>The whole snapshot at once, on the writer loop (the operator SUBSCRIBE's first event).</summary>
    public MasterSnapshot BuildSnapshot() => CaptureSnapshot().Render();

    /// <summary>
    /// What the read APIs show, captured on the writer loop in time linear in agents and tasks but with no per-task
    /// allocation: task views are cached per task and rebuilt only after a status change, agents and offers are
    /// captured as immutable values. Turning them into DTOs (<see cref="SnapshotCapture.Render"/>) happens off the
    /// writer loop, so a read of a large cluster does not pause allocation.
    /// </summary>
    public SnapshotCapture CaptureSnapshot()
    {
        var tasks = new TaskDto[_tasks.Count];
        var i = 0;
        foreach (var t in _tasks.Values)
        {
            tasks[i++] = t.Dto ??= ToTaskDto(t);
        }

        var completed = _completedTasks.Select(t => t.Dto ??= ToTaskDto(t)).ToArray();
        var frameworks = _frameworks.Values.OrderBy(f => f.Id, StringComparer.Ordinal).Select(f => new FrameworkCapture(
            f.Id,
            f.Info,
            f.Connected,
            f.Recovered,
            f.RegisteredAt,
            f.Info.EffectiveRoles().Aggregate(Resources.Empty, (acc, r) => acc + Allocator.AllocationOf(new FrameworkId(f.Id), r)))).ToArray();
        var agents = _agents.Values.Where(a => a.InAllocator).OrderBy(a => a.Id, StringComparer.Ordinal).Select(a =>
        {
            var aid = new AgentId(a.Id);
            return new AgentCapture(a.Id, a.Info, a.Connected, a.RegisteredAt, Allocator.TotalOf(aid), Allocator.AvailableOn(aid));
        }).ToArray();
        var recoveredAgents = _agents.Values.Where(a => !a.InAllocator).Select(a => a.Info).ToArray();
        var offers = _offers.Values.Select(o => o.Offer).ToArray();

        var roleNames = _frameworks.Values.SelectMany(f => f.Info.EffectiveRoles())
            .Concat(Allocator.Weights.Keys).Concat(_quotaText.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var roles = roleNames.Select(role => new RoleDto
        {
            Name = role,
            Weight = Allocator.WeightOf(role),
            Frameworks = [.. _frameworks.Values.Where(f => f.Info.EffectiveRoles().Contains(role)).Select(f => new IdDto(f.Id))],
            Resources = ResourceConversions.ToDtos(Resources.Of(_frameworks.Values.SelectMany(f => Allocator.AllocationOf(new FrameworkId(f.Id), role)))),
            Share = Allocator.RoleShare(role),
            QuotaLimits = Allocator.QuotaOf(role) is { } q ? q.Millis.ToDictionary(kv => kv.Key, kv => new ScalarDto(kv.Value / 1000.0)) : null,
        }).ToList();

        var gauges = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["dcos_master_agents_connected"] = _agents.Values.Count(a => a.Connected),
            ["dcos_master_agents_disconnected"] = _agents.Values.Count(a => !a.Connected),
            ["dcos_master_frameworks_connected"] = _frameworks.Values.Count(f => f.Connected),
            ["dcos_master_frameworks_disconnected"] = _frameworks.Values.Count(f => !f.Connected),
            ["dcos_master_outstanding_offers"] = _offers.Count,
            ["dcos_master_allocation_runs_total"] = Metrics.AllocationRuns,
            ["dcos_master_allocation_run_ms"] = Metrics.LastAllocationMs,
            ["dcos_master_allocation_run_ms_max"] = Metrics.MaxAllocationMs,
            ["dcos_master_snapshot_capture_ms"] = Metrics.LastSnapshotCaptureMs,
            ["dcos_master_snapshot_capture_ms_max"] = Metrics.MaxSnapshotCaptureMs,
            ["dcos_master_offers_sent_total"] = Metrics.OffersSent,
            ["dcos_master_offers_declined_total"] = Metrics.OffersDeclined,
            ["dcos_master_tasks_launched_total"] = Metrics.TasksLaunched,
            ["dcos_master_status_updates_total"] = Metrics.StatusUpdates,
        };

        return new SnapshotCapture(
            tasks,
            completed,
            frameworks,
            agents,
            recoveredAgents,
            offers,
            new GetRolesDto(roles),
            new GetWeightsDto([.. Allocator.Weights.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new WeightInfoDto(kv.Key, kv.Value))]),
            new GetQuotaDto(new QuotaStatusDto([.. _quotaText.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv =>
                new QuotaConfigDto(kv.Key, ResourceQuantities.Parse(kv.Value).Millis.ToDictionary(m => m.Key, m => new ScalarDto(m.Value / 1000.0)), null))])),
            gauges);
    }

    private static TaskDto ToTaskDto(TaskEntry t) => new()
    {
        Name = t.Info.Name,
        TaskId = t.Info.TaskId,
        FrameworkId = new IdDto(t.FrameworkId),
        AgentId = new IdDto(t.AgentId),
        State = t.Status.State,
        Resources = ResourceConversions.ToDtos(t.Resources, t.Role),
        Statuses = [t.Status],
        Role = t.Role,
    };

    private static NanosDto Nanos(DateTimeOffset time) => new(time.ToUnixTimeMilliseconds() * 1_000_000);

    /// <summary>UPDATE_WEIGHTS: all weights validated first, persisted, then applied (all or nothing).</summary>
    public async Task<CallResult> UpdateWeightsAsync(UpdateWeightsCall? call)
    {
        if (call?.WeightInfos is not { Count: > 0 } infos)
        {
            return CallResult.BadRequest("UPDATE_WEIGHTS needs 'update_weights.weight_infos'");
        }

        if (infos.Any(i => i is null))
        {
            return CallResult.BadRequest("weight_infos: an entry is null");
        }

        if (infos.GroupBy(i => i.Role, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            return CallResult.BadRequest($"weight_infos: role '{twice.Key}' appears more than once");
        }

        foreach (var info in infos)
        {
            if (RolePath.Validate(info.Role) is { } error)
            {
                return CallResult.BadRequest($"weight_infos: {error}");
            }

            if (!double.IsFinite(info.Weight) || info.Weight <= 0)
            {
                return CallResult.BadRequest($"weight_infos: weight of role '{info.Role}' must be a number > 0");
            }
        }

        var weights = infos.ToDictionary(i => i.Role, i => i.Weight, StringComparer.Ordinal);
        await _registry.SaveWeightsAsync(weights, CancellationToken.None).ConfigureAwait(false);
        foreach (var (role, weight) in weights)
        {
            Allocator.UpdateWeight(role, weight);
        }

        return new CallResult(200);
    }

    /// <summary>UPDATE_QUOTA (limits; guarantees are treated as limits when no limits are given).</summary>
    public async Task<CallResult> UpdateQuotaAsync(UpdateQuotaCall? call)
    {
        if (call?.QuotaConfigs is not { Count: > 0 } configs)
        {
            return CallResult.BadRequest("UPDATE_QUOTA needs 'update_quota.quota_configs'");
        }

        var parsed = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var config in configs)
        {
            if (config is null)
            {
                return CallResult.BadRequest("quota_configs: an entry is null");
            }

            if (RolePath.Validate(config.Role) is { } error)
            {
                return CallResult.BadRequest($"quota_configs: {error}");
            }

            var limits = config.Limits ?? config.Guarantees ?? [];
            if (limits.FirstOrDefault(kv => kv.Value is null).Key is { } missing)
            {
                return CallResult.BadRequest($"quota_configs: role '{config.Role}': '{missing}' needs a value");
            }

            try
            {
                var q = ResourceQuantities.Of(limits.Select(kv => (kv.Key, kv.Value.Value)));
                if (call.Force != true && !q.IsEmpty)
                {
                    var consumed = Allocator.QuotaConsumedBy(config.Role);
                    var over = q.Millis.FirstOrDefault(kv => consumed.GetMillis(kv.Key) > kv.Value);
                    if (over.Key is not null)
                    {
                        return CallResult.BadRequest($"quota_configs: role '{config.Role}' already consumes {consumed[over.Key]} {over.Key}, more than the new limit; use force");
                    }
                }

                parsed[config.Role] = q.IsEmpty ? null : q.ToString();
            }
            catch (ArgumentException e)
            {
                return CallResult.BadRequest($"quota_configs: role '{config.Role}': {e.Message.Split(" (Parameter")[0]}");
            }
        }

        await _registry.SaveQuotasAsync(parsed, CancellationToken.None).ConfigureAwait(false);
        foreach (var (role, text) in parsed)
        {
            Allocator.SetQuota(role, text is null ? null : ResourceQuantities.Parse(text));
            if (text is null)
            {
                _quotaText.Remove(role);
            }
            else
            {
                _quotaText[role] = text;
            }

            RescindWhere(o => RolePath.IsWithin(o.Offer.Role, role));
        }

        return new CallResult(200);
    }

    /// <summary>RESERVE_RESOURCES / UNRESERVE_RESOURCES from the operator: on available resources of an agent.</summary>
    public CallResult OperatorReservation(AgentResourcesCall? call, bool reserve)
    {
        if (call?.AgentId?.Value is not { Length: > 0 } || call.Resources is null || call.Resources.Any(r => r is null))
        {
            return CallResult.BadRequest("needs 'agent_id' and 'resources'");
        }

        if (!_agents.TryGetValue(call.AgentId.Value, out var agent) || !agent.InAllocator)
        {
            return CallResult.BadRequest($"agent '{call.AgentId.Value}' is unknown");
        }

        try
        {
            var resources = ResourceConversions.ToResources(call.Resources);
            var aid = new AgentId(agent.Id);

            // Outstanding offers on the agent may hold what is asked for: rescind them first, as Mesos does.
            RescindWhere(o => o.Offer.AgentId.Value == agent.Id);
            if (reserve)
            {
                Allocator.Reserve(aid, resources);
                agent.DynamicReserved += resources;
            }
            else
            {
                Allocator.Unreserve(aid, resources);
                agent.DynamicReserved -= resources;
            }

            PersistAgent(agent);
            RequestAllocation();
            return CallResult.Accepted;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            return CallResult.BadRequest("resources: " + e.Message.Split(" (Parameter")[0]);
        }
    }
}
