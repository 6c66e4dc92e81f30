using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>Result of a call: HTTP status and, for errors, a readable message.</summary>
internal sealed record CallResult(int Status, string? Error = null)
{
    public static readonly CallResult Accepted = new(202);

    public static CallResult BadRequest(string message) => new(400, message);

    public static CallResult Forbidden(string message) => new(403, message);
}

internal sealed class FrameworkEntry(string id, FrameworkInfoDto info, DateTimeOffset registeredAt)
{
    public string Id { get; } = id;

    public FrameworkInfoDto Info { get; set; } = info;

    public DateTimeOffset RegisteredAt { get; } = registeredAt;

    public DateTimeOffset? ReregisteredAt { get; set; }

    public EventSink? Sink { get; set; }

    public bool Connected => Sink is { IsClosed: false };

    /// <summary>Recovered from the registry and not yet re-subscribed.</summary>
    public bool Recovered { get; set; }

    public ITimer? FailoverTimer { get; set; }

    public bool PartitionAware => Info.HasCapability("PARTITION_AWARE");
}

internal sealed class AgentEntry(string id, AgentInfoDto info, Resources total, DateTimeOffset registeredAt)
{
    public string Id { get; } = id;

    public AgentInfoDto Info { get; set; } = info;

    public Resources Total { get; set; } = total;

    public DateTimeOffset RegisteredAt { get; } = registeredAt;

    public DateTimeOffset? ReregisteredAt { get; set; }

    public EventSink? Sink { get; set; }

    public bool Connected => Sink is { IsClosed: false };

    /// <summary>Known from the registry after a master restart, not yet re-subscribed.</summary>
    public bool Recovered { get; set; }

    public bool InAllocator { get; set; }

    /// <summary>Dynamic reservations made on this agent (persisted; re-applied when the agent re-registers).</summary>
    public Resources DynamicReserved { get; set; } = Resources.Empty;

    public ITimer? ReregisterTimer { get; set; }
}

internal sealed class TaskEntry(string frameworkId, string agentId, string role, TaskInfoDto info, Resources resources, TaskStatusDto status)
{
    private TaskStatusDto _status = status;

    public string FrameworkId { get; } = frameworkId;

    public string TaskId => Info.TaskId.Value;

    public string AgentId { get; } = agentId;

    public string Role { get; } = role;

    public TaskInfoDto Info { get; } = info;

    public Resources Resources { get; } = resources;

    /// <summary>Latest status; setting it drops the cached <see cref="Dto"/>.</summary>
    public TaskStatusDto Status
    {
        get => _status;
        set
        {
            _status = value;
            Dto = null;
        }
    }

    /// <summary>The read APIs' view of this task, cached until the status changes.</summary>
    public TaskDto? Dto { get; set; }

    /// <summary>Resources went back to the allocator (at the first terminal update).</summary>
    public bool Released { get; set; }
}

internal sealed class OfferEntry(string id, Kernel.Allocation.Offer offer, DateTimeOffset createdAt)
{
    public string Id { get; } = id;

    public Kernel.Allocation.Offer Offer { get; } = offer;

    public DateTimeOffset CreatedAt { get; } = createdAt;
}
