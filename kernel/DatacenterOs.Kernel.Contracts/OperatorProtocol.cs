namespace DatacenterOs.Kernel.Contracts;

#pragma warning disable CA2227 // wire DTOs

/// <summary>Mesos operator <c>Call</c> on <c>POST /api/v1</c> (the calls the kernel implements).</summary>
public sealed record OperatorCall
{
    /// <summary>GET_HEALTH, GET_STATE, GET_AGENTS, GET_FRAMEWORKS, GET_TASKS, GET_ROLES, GET_WEIGHTS, UPDATE_WEIGHTS, GET_QUOTA, UPDATE_QUOTA, RESERVE_RESOURCES, UNRESERVE_RESOURCES.</summary>
    public string Type { get; init; } = "";

    /// <summary>UPDATE_WEIGHTS body.</summary>
    public UpdateWeightsCall? UpdateWeights { get; init; }

    /// <summary>UPDATE_QUOTA body.</summary>
    public UpdateQuotaCall? UpdateQuota { get; init; }

    /// <summary>RESERVE_RESOURCES body.</summary>
    public AgentResourcesCall? ReserveResources { get; init; }

    /// <summary>UNRESERVE_RESOURCES body.</summary>
    public AgentResourcesCall? UnreserveResources { get; init; }
}

/// <summary>Mesos <c>WeightInfo</c>.</summary>
public sealed record WeightInfoDto(string Role, double Weight);

/// <summary>UPDATE_WEIGHTS body.</summary>
public sealed record UpdateWeightsCall(List<WeightInfoDto> WeightInfos);

/// <summary>Mesos <c>QuotaConfig</c>: limits by resource name (cpus in cores, mem/disk MiB).</summary>
public sealed record QuotaConfigDto(string Role, Dictionary<string, ScalarDto>? Limits, Dictionary<string, ScalarDto>? Guarantees);

/// <summary>UPDATE_QUOTA body.</summary>
public sealed record UpdateQuotaCall(bool? Force, List<QuotaConfigDto> QuotaConfigs);

/// <summary>RESERVE_RESOURCES / UNRESERVE_RESOURCES body.</summary>
public sealed record AgentResourcesCall(IdDto AgentId, List<ResourceDto> Resources);

/// <summary>Mesos operator <c>Response</c>.</summary>
public sealed record OperatorResponse
{
    /// <summary>The call type answered.</summary>
    public string Type { get; init; } = "";

    /// <summary>GET_HEALTH answer.</summary>
    public GetHealthDto? GetHealth { get; init; }

    /// <summary>GET_STATE answer.</summary>
    public GetStateDto? GetState { get; init; }

    /// <summary>GET_AGENTS answer.</summary>
    public GetAgentsDto? GetAgents { get; init; }

    /// <summary>GET_FRAMEWORKS answer.</summary>
    public GetFrameworksDto? GetFrameworks { get; init; }

    /// <summary>GET_TASKS answer.</summary>
    public GetTasksDto? GetTasks { get; init; }

    /// <summary>GET_ROLES answer.</summary>
    public GetRolesDto? GetRoles { get; init; }

    /// <summary>GET_WEIGHTS answer.</summary>
    public GetWeightsDto? GetWeights { get; init; }

    /// <summary>GET_QUOTA answer.</summary>
    public GetQuotaDto? GetQuota { get; init; }
}

/// <summary>GET_HEALTH answer.</summary>
public sealed record GetHealthDto(bool Healthy);

/// <summary>Mesos <c>Task</c> as the master reports it.</summary>
public sealed record TaskDto
{
    /// <summary>Task name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Task id.</summary>
    public IdDto TaskId { get; init; } = new("");

    /// <summary>Owning framework.</summary>
    public IdDto FrameworkId { get; init; } = new("");

    /// <summary>Agent.</summary>
    public IdDto AgentId { get; init; } = new("");

    /// <summary>Latest state.</summary>
    public string State { get; init; } = TaskStates.Staging;

    /// <summary>Resources the task uses.</summary>
    public List<ResourceDto> Resources { get; init; } = [];

    /// <summary>Latest status (Mesos keeps a list; the latest is enough here).</summary>
    public List<TaskStatusDto> Statuses { get; init; } = [];

    /// <summary>Allocation role.</summary>
    public string? Role { get; init; }
}

/// <summary>GET_TASKS answer.</summary>
public sealed record GetTasksDto(List<TaskDto> Tasks, List<TaskDto> CompletedTasks);

/// <summary>One framework in GET_FRAMEWORKS.</summary>
public sealed record FrameworkStateDto
{
    /// <summary>Its FrameworkInfo (with id).</summary>
    public FrameworkInfoDto FrameworkInfo { get; init; } = new();

    /// <summary>Subscribed and receiving offers.</summary>
    public bool Active { get; init; }

    /// <summary>Has an open subscription stream.</summary>
    public bool Connected { get; init; }

    /// <summary>Known from the registry, not yet re-subscribed after a master restart.</summary>
    public bool Recovered { get; init; }

    /// <summary>First subscription.</summary>
    public NanosDto? RegisteredTime { get; init; }

    /// <summary>Resources held by running tasks and outstanding offers.</summary>
    public List<ResourceDto> AllocatedResources { get; init; } = [];

    /// <summary>Resources in outstanding offers.</summary>
    public List<ResourceDto> OfferedResources { get; init; } = [];
}

/// <summary>GET_FRAMEWORKS answer.</summary>
public sealed record GetFrameworksDto(List<FrameworkStateDto> Frameworks);

/// <summary>One agent in GET_AGENTS.</summary>
public sealed record AgentStateDto
{
    /// <summary>Its AgentInfo.</summary>
    public AgentInfoDto AgentInfo { get; init; } = new();

    /// <summary>Connected and offered.</summary>
    public bool Active { get; init; }

    /// <summary>Registration time.</summary>
    public NanosDto? RegisteredTime { get; init; }

    /// <summary>Total resources including reservations.</summary>
    public List<ResourceDto> TotalResources { get; init; } = [];

    /// <summary>Offered or used resources.</summary>
    public List<ResourceDto> AllocatedResources { get; init; } = [];

    /// <summary>Resources in outstanding offers.</summary>
    public List<ResourceDto> OfferedResources { get; init; } = [];
}

/// <summary>GET_AGENTS answer.</summary>
public sealed record GetAgentsDto(List<AgentStateDto> Agents, List<AgentInfoDto> RecoveredAgents);

/// <summary>GET_STATE answer.</summary>
public sealed record GetStateDto(GetTasksDto GetTasks, GetFrameworksDto GetFrameworks, GetAgentsDto GetAgents);

/// <summary>Mesos <c>Role</c> in GET_ROLES, with the weighted dominant share added.</summary>
public sealed record RoleDto
{
    /// <summary>Role name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Weight (default 1).</summary>
    public double Weight { get; init; } = 1;

    /// <summary>Subscribed frameworks.</summary>
    public List<IdDto> Frameworks { get; init; } = [];

    /// <summary>Offered or allocated resource quantities.</summary>
    public List<ResourceDto> Resources { get; init; } = [];

    /// <summary>Weighted dominant share (0..1/weight), DatacenterOs addition.</summary>
    public double Share { get; init; }

    /// <summary>Quota limits, when set.</summary>
    public Dictionary<string, ScalarDto>? QuotaLimits { get; init; }
}

/// <summary>GET_ROLES answer.</summary>
public sealed record GetRolesDto(List<RoleDto> Roles);

/// <summary>GET_WEIGHTS answer.</summary>
public sealed record GetWeightsDto(List<WeightInfoDto> WeightInfos);

/// <summary>GET_QUOTA answer: <c>{"status":{"configs":[…]}}</c>.</summary>
public sealed record GetQuotaDto(QuotaStatusDto Status);

/// <summary>Quota status: the configured limits.</summary>
public sealed record QuotaStatusDto(List<QuotaConfigDto> Configs);

/// <summary>Operator call type names.</summary>
public static class OperatorTypes
{
#pragma warning disable CS1591
    public const string GetHealth = "GET_HEALTH", GetState = "GET_STATE", GetAgents = "GET_AGENTS", GetFrameworks = "GET_FRAMEWORKS",
        GetTasks = "GET_TASKS", GetRoles = "GET_ROLES", GetWeights = "GET_WEIGHTS", UpdateWeights = "UPDATE_WEIGHTS",
        GetQuota = "GET_QUOTA", UpdateQuota = "UPDATE_QUOTA", ReserveResources = "RESERVE_RESOURCES", UnreserveResources = "UNRESERVE_RESOURCES";
#pragma warning restore CS1591
}
#pragma warning restore CA2227

/// <summary>Mesos operator API <c>Event</c> on the SUBSCRIBE stream (<c>master.proto</c>).</summary>
public sealed record OperatorEvent
{
    /// <summary>SUBSCRIBED, TASK_ADDED, TASK_UPDATED, AGENT_ADDED, AGENT_REMOVED, FRAMEWORK_ADDED, FRAMEWORK_UPDATED, FRAMEWORK_REMOVED, HEARTBEAT.</summary>
    public string Type { get; init; } = "";

    /// <summary>SUBSCRIBED body: the full state and the heartbeat interval.</summary>
    public OperatorSubscribedEvent? Subscribed { get; init; }

    /// <summary>TASK_ADDED body.</summary>
    public TaskAddedEvent? TaskAdded { get; init; }

    /// <summary>TASK_UPDATED body.</summary>
    public TaskUpdatedEvent? TaskUpdated { get; init; }

    /// <summary>AGENT_ADDED body.</summary>
    public AgentAddedEvent? AgentAdded { get; init; }

    /// <summary>AGENT_REMOVED body.</summary>
    public AgentRemovedEvent? AgentRemoved { get; init; }

    /// <summary>FRAMEWORK_ADDED body.</summary>
    public FrameworkEventBody? FrameworkAdded { get; init; }

    /// <summary>FRAMEWORK_UPDATED body.</summary>
    public FrameworkEventBody? FrameworkUpdated { get; init; }

    /// <summary>FRAMEWORK_REMOVED body.</summary>
    public FrameworkRemovedEvent? FrameworkRemoved { get; init; }
}

/// <summary>SUBSCRIBED body of the operator stream.</summary>
public sealed record OperatorSubscribedEvent(GetStateDto GetState, double HeartbeatIntervalSeconds);

/// <summary>TASK_ADDED body.</summary>
public sealed record TaskAddedEvent(TaskDto Task);

/// <summary>TASK_UPDATED body.</summary>
public sealed record TaskUpdatedEvent(IdDto FrameworkId, TaskStatusDto Status, string State);

/// <summary>AGENT_ADDED body.</summary>
public sealed record AgentAddedEvent(AgentStateDto Agent);

/// <summary>AGENT_REMOVED body.</summary>
public sealed record AgentRemovedEvent(IdDto AgentId);

/// <summary>FRAMEWORK_ADDED / FRAMEWORK_UPDATED body.</summary>
public sealed record FrameworkEventBody(FrameworkStateDto Framework);

/// <summary>FRAMEWORK_REMOVED body.</summary>
public sealed record FrameworkRemovedEvent(FrameworkInfoDto FrameworkInfo);

/// <summary>Operator event type names.</summary>
public static class OperatorEventTypes
{
#pragma warning disable CS1591
    public const string Subscribe = "SUBSCRIBE", Subscribed = "SUBSCRIBED", TaskAdded = "TASK_ADDED", TaskUpdated = "TASK_UPDATED",
        AgentAdded = "AGENT_ADDED", AgentRemoved = "AGENT_REMOVED", FrameworkAdded = "FRAMEWORK_ADDED",
        FrameworkUpdated = "FRAMEWORK_UPDATED", FrameworkRemoved = "FRAMEWORK_REMOVED", Heartbeat = "HEARTBEAT";
#pragma warning restore CS1591
}
