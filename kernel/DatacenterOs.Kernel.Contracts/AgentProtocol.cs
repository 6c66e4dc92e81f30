namespace DatacenterOs.Kernel.Contracts;

#pragma warning disable CA2227 // wire DTOs

/// <summary>
/// What an agent tells the master about itself when it subscribes (<c>POST /api/v1/agent</c>, type SUBSCRIBE).
/// </summary>
public sealed record AgentInfoDto
{
    /// <summary>Agent id; absent on the very first registration, then the id the master gave.</summary>
    public IdDto? Id { get; init; }

    /// <summary>Host name tasks are reached at.</summary>
    public string Hostname { get; init; } = "";

    /// <summary>Port of the agent's own HTTP endpoint (sandbox files).</summary>
    public int Port { get; init; }

    /// <summary>Total resources, including static reservations.</summary>
    public List<ResourceDto> Resources { get; init; } = [];

    /// <summary>Attributes, e.g. rack.</summary>
    public List<AttributeDto> Attributes { get; init; } = [];
}

/// <summary>A task an agent reports when it (re)subscribes: what it runs and its latest state.</summary>
public sealed record AgentTaskDto(IdDto FrameworkId, string Role, TaskInfoDto Task, TaskStatusDto Status);

/// <summary>Agent → master call on <c>POST /api/v1/agent</c>.</summary>
public sealed record AgentCall
{
    /// <summary><c>SUBSCRIBE</c> (opens the command stream) or <c>UPDATE</c> (task status updates, answered 202).</summary>
    public string Type { get; init; } = "";

    /// <summary>The calling agent (UPDATE).</summary>
    public IdDto? AgentId { get; init; }

    /// <summary>SUBSCRIBE body.</summary>
    public AgentSubscribeCall? Subscribe { get; init; }

    /// <summary>UPDATE body: one status update.</summary>
    public AgentUpdateCall? Update { get; init; }

    /// <summary>
    /// UPDATE body: several status updates in the order they happened (an agent batches what queued up while its previous
    /// UPDATE call was in flight). Either this or <see cref="Update"/>; the master applies all or, when one is
    /// malformed, none (400).
    /// </summary>
    public List<AgentUpdateCall>? Updates { get; init; }
}

/// <summary>SUBSCRIBE body of an agent: its info, its running tasks, and the shared secret when configured.</summary>
public sealed record AgentSubscribeCall(AgentInfoDto AgentInfo, List<AgentTaskDto>? Tasks, string? Secret);

/// <summary>A status update from the agent; reliable ones carry a uuid and are retried until acknowledged.</summary>
public sealed record AgentUpdateCall(IdDto FrameworkId, TaskStatusDto Status);

/// <summary>Master → agent event on the agent's stream.</summary>
public sealed record AgentEvent
{
    /// <summary>SUBSCRIBED, LAUNCH, KILL, ACKNOWLEDGE, SHUTDOWN_FRAMEWORK, HEARTBEAT, ERROR.</summary>
    public string Type { get; init; } = "";

    /// <summary>SUBSCRIBED body.</summary>
    public AgentSubscribedEvent? Subscribed { get; init; }

    /// <summary>LAUNCH body.</summary>
    public AgentLaunchEvent? Launch { get; init; }

    /// <summary>KILL body.</summary>
    public AgentKillEvent? Kill { get; init; }

    /// <summary>ACKNOWLEDGE body.</summary>
    public AgentAcknowledgeEvent? Acknowledge { get; init; }

    /// <summary>SHUTDOWN_FRAMEWORK body: kill every task of the framework.</summary>
    public IdDto? ShutdownFramework { get; init; }

    /// <summary>ERROR body.</summary>
    public ErrorEvent? Error { get; init; }
}

/// <summary>SUBSCRIBED body for an agent: its id and the heartbeat interval (seconds).</summary>
public sealed record AgentSubscribedEvent(IdDto AgentId, double HeartbeatIntervalSeconds);

/// <summary>LAUNCH body: run the task for the framework.</summary>
public sealed record AgentLaunchEvent(IdDto FrameworkId, string Role, TaskInfoDto Task);

/// <summary>KILL body.</summary>
public sealed record AgentKillEvent(IdDto FrameworkId, IdDto TaskId, KillPolicyDto? KillPolicy);

/// <summary>ACKNOWLEDGE body: the framework acknowledged the update with this uuid.</summary>
public sealed record AgentAcknowledgeEvent(IdDto FrameworkId, IdDto TaskId, string Uuid);

/// <summary>Agent protocol type names.</summary>
public static class AgentTypes
{
#pragma warning disable CS1591
    public const string Subscribe = "SUBSCRIBE", Update = "UPDATE";

    public const string Subscribed = "SUBSCRIBED", Launch = "LAUNCH", Kill = "KILL", Acknowledge = "ACKNOWLEDGE",
        ShutdownFramework = "SHUTDOWN_FRAMEWORK", Heartbeat = "HEARTBEAT", Error = "ERROR";
#pragma warning restore CS1591
}
#pragma warning restore CA2227
