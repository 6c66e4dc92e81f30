namespace DatacenterOs.Master;

/// <summary>Master settings; defaults follow Mesos except the offer timeout, which is on (60 s) by default.</summary>
public sealed record MasterOptions
{
    /// <summary>Directory for the SQLite registry (<c>master.db</c>); default <c>./.dcos</c>.</summary>
    public string WorkDir { get; init; } = "./.dcos";

    /// <summary>Allocation interval (Mesos <c>--allocation_interval</c>, 1 s).</summary>
    public TimeSpan AllocationInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Unanswered offers are rescinded after this (Mesos <c>--offer_timeout</c>; off in Mesos, 60 s here). Zero disables.</summary>
    public TimeSpan OfferTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Heartbeat interval on scheduler and agent streams (Mesos 15 s).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long an agent whose stream dropped may take to come back before it is marked unreachable and its tasks
    /// LOST (Mesos: 5 missed pings × 15 s = 75 s).
    /// </summary>
    public TimeSpan AgentReregisterTimeout { get; init; } = TimeSpan.FromSeconds(75);

    /// <summary>Shared secret agents must present when subscribing; null = none.</summary>
    public string? AgentSecret { get; init; }

    /// <summary>Largest accepted request body, in bytes (4 MiB).</summary>
    public int MaxCallBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Seed of the allocator's random agent order.</summary>
    public int AllocatorSeed { get; init; } = 1;

    /// <summary>Minimum allocatable resources (Mesos <c>--min_allocatable_resources</c>, <c>cpus:0.01|mem:32</c>).</summary>
    public string MinAllocatableResources { get; init; } = "cpus:0.01|mem:32";
}
