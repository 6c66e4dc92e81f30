using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>What the master persists and recovers (frameworks, agents, weights, quota), behind one seam.</summary>
public interface IMasterRegistry
{
    /// <summary>Loads everything persisted.</summary>
    Task<RecoveredRegistry> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Next value of a named persistent counter.</summary>
    Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken);

    /// <summary>Stores a framework (new or re-subscribed).</summary>
    Task SaveFrameworkAsync(string id, FrameworkInfoDto info, DateTimeOffset registeredAt, CancellationToken cancellationToken);

    /// <summary>Forgets a framework.</summary>
    Task RemoveFrameworkAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores an agent with its dynamic reservations (Mesos resource text, or null).</summary>
    Task SaveAgentAsync(string id, AgentInfoDto info, DateTimeOffset registeredAt, string? dynamicReservations, CancellationToken cancellationToken);

    /// <summary>Forgets an agent.</summary>
    Task RemoveAgentAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores role weights, all or nothing.</summary>
    Task SaveWeightsAsync(IReadOnlyDictionary<string, double> weights, CancellationToken cancellationToken);

    /// <summary>Stores quota limits (Mesos quantity text, null = removed), all or nothing.</summary>
    Task SaveQuotasAsync(IReadOnlyDictionary<string, string?> quotas, CancellationToken cancellationToken);
}

/// <summary>A persisted framework.</summary>
/// <param name="Id">Framework id.</param>
/// <param name="Info">Its FrameworkInfo.</param>
/// <param name="RegisteredAt">First subscription (UTC).</param>
public sealed record RecoveredFramework(string Id, FrameworkInfoDto Info, DateTimeOffset RegisteredAt);

/// <summary>A persisted agent.</summary>
/// <param name="Id">Agent id.</param>
/// <param name="Info">Its AgentInfo.</param>
/// <param name="RegisteredAt">First registration (UTC).</param>
/// <param name="DynamicReservations">Dynamic reservations (Mesos resource text) or null.</param>
public sealed record RecoveredAgent(string Id, AgentInfoDto Info, DateTimeOffset RegisteredAt, string? DynamicReservations);

/// <summary>Everything recovered at master start.</summary>
/// <param name="MasterId">Stable cluster id, the prefix of framework and agent ids.</param>
/// <param name="Frameworks">Frameworks.</param>
/// <param name="Agents">Agents.</param>
/// <param name="Weights">Role weights.</param>
/// <param name="Quotas">Quota limits by role (Mesos quantity text).</param>
public sealed record RecoveredRegistry(
    string MasterId,
    IReadOnlyList<RecoveredFramework> Frameworks,
    IReadOnlyList<RecoveredAgent> Agents,
    IReadOnlyDictionary<string, double> Weights,
    IReadOnlyDictionary<string, string> Quotas);
