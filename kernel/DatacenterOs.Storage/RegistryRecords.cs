namespace DatacenterOs.Storage;

/// <summary>A registered framework as the master persists it.</summary>
/// <param name="Id">Framework id (Mesos <c>FrameworkID</c> value); non-empty, the primary key.</param>
/// <param name="InfoJson">The framework's <c>FrameworkInfo</c> as JSON text; opaque to the store.</param>
/// <param name="FailoverTimeoutSeconds">
/// Mesos <c>failover_timeout</c>, in seconds: how long the master keeps the framework after its scheduler
/// disconnects. Finite and non-negative.
/// </param>
/// <param name="RegisteredAt">When the framework first registered; stored as UTC ISO 8601 text (100 ns precision) and loaded with a zero offset.</param>
/// <param name="DisconnectedAt">When its scheduler disconnected (UTC, stored like <paramref name="RegisteredAt"/>); null while connected.</param>
public sealed record FrameworkRecord(string Id, string InfoJson, double FailoverTimeoutSeconds, DateTimeOffset RegisteredAt, DateTimeOffset? DisconnectedAt);

/// <summary>A registered agent as the master persists it.</summary>
/// <param name="Id">Agent id (Mesos <c>AgentID</c> value); non-empty, the primary key.</param>
/// <param name="InfoJson">The agent's <c>AgentInfo</c> as JSON text; opaque to the store.</param>
/// <param name="RegisteredAt">When the agent first registered; stored as UTC ISO 8601 text (100 ns precision) and loaded with a zero offset.</param>
/// <param name="DynamicReservations">
/// The agent's dynamically reserved resources in Mesos resource text (e.g. <c>cpus(web):2;mem(web):512</c>);
/// opaque to the store; null when there are none.
/// </param>
public sealed record AgentRecord(string Id, string InfoJson, DateTimeOffset RegisteredAt, string? DynamicReservations);

/// <summary>Everything the master's registry holds, read in one consistent snapshot.</summary>
/// <param name="MasterId">The stable master/cluster id; null until <see cref="MasterRegistryStore.GetOrCreateMasterIdAsync"/> first ran.</param>
/// <param name="Frameworks">Registered frameworks, ordered by id (ordinal).</param>
/// <param name="Agents">Registered agents, ordered by id (ordinal).</param>
/// <param name="Weights">Role → weight (finite, &gt; 0) for roles given an explicit weight; other roles weigh 1.</param>
/// <param name="Quotas">Role → quota limits text (e.g. <c>cpus:4;mem:4096</c>, opaque) for roles with a quota.</param>
public sealed record RegistrySnapshot(
    string? MasterId,
    IReadOnlyList<FrameworkRecord> Frameworks,
    IReadOnlyList<AgentRecord> Agents,
    IReadOnlyDictionary<string, double> Weights,
    IReadOnlyDictionary<string, string> Quotas);
