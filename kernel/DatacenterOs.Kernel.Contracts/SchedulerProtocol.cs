namespace DatacenterOs.Kernel.Contracts;

#pragma warning disable CA2227 // wire DTOs

/// <summary>Mesos <c>FrameworkInfo.Capability</c>: <c>{"type":"MULTI_ROLE"}</c>.</summary>
public sealed record CapabilityDto(string Type);

/// <summary>Mesos <c>OfferFilters.ResourceQuantities</c>: <c>{"quantities":{"cpus":{"value":0.1}}}</c>.</summary>
public sealed record QuantitiesDto(Dictionary<string, ScalarDto> Quantities);

/// <summary>Mesos <c>OfferFilters.MinAllocatableResources</c>.</summary>
public sealed record MinAllocatableDto(List<QuantitiesDto> Quantities);

/// <summary>Mesos <c>OfferFilters</c>.</summary>
public sealed record OfferFiltersDto(MinAllocatableDto? MinAllocatableResources);

/// <summary>Mesos <c>FrameworkInfo</c> (the fields the kernel uses).</summary>
public sealed record FrameworkInfoDto
{
    /// <summary>Unix user tasks run as by default.</summary>
    public string User { get; init; } = "";

    /// <summary>Display name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Set when re-subscribing.</summary>
    public IdDto? Id { get; init; }

    /// <summary>Seconds the master keeps a disconnected framework's tasks (Mesos default 0).</summary>
    public double? FailoverTimeout { get; init; }

    /// <summary>Whether agents checkpoint the framework's tasks.</summary>
    public bool? Checkpoint { get; init; }

    /// <summary>Legacy single role (used when <see cref="Roles"/> is absent); default <c>*</c>.</summary>
    public string? Role { get; init; }

    /// <summary>Roles (MULTI_ROLE).</summary>
    public List<string>? Roles { get; init; }

    /// <summary>Principal for authentication and reservations.</summary>
    public string? Principal { get; init; }

    /// <summary>Host the scheduler runs on.</summary>
    public string? Hostname { get; init; }

    /// <summary>Capabilities: MULTI_ROLE, PARTITION_AWARE, RESERVATION_REFINEMENT, TASK_KILLING_STATE, …</summary>
    public List<CapabilityDto>? Capabilities { get; init; }

    /// <summary>Per-role offer filters.</summary>
    public Dictionary<string, OfferFiltersDto>? OfferFilters { get; init; }

    /// <summary>The roles in effect: <see cref="Roles"/>, else <see cref="Role"/>, else <c>*</c>.</summary>
    public IReadOnlyList<string> EffectiveRoles() =>
        Roles is { Count: > 0 } ? Roles : [string.IsNullOrEmpty(Role) ? "*" : Role];

    /// <summary>True when the capability is declared.</summary>
    public bool HasCapability(string type) => Capabilities?.Any(c => c.Type == type) == true;
}

/// <summary>Mesos <c>Filters</c>.</summary>
public sealed record FiltersDto(double? RefuseSeconds);

/// <summary>Mesos <c>Offer.Operation.Launch</c>.</summary>
public sealed record LaunchDto(List<TaskInfoDto> TaskInfos);

/// <summary>Mesos <c>Offer.Operation.Reserve</c> / <c>Unreserve</c>.</summary>
public sealed record ReserveDto(List<ResourceDto> Resources);

/// <summary>Mesos <c>Offer.Operation</c>: LAUNCH, RESERVE or UNRESERVE.</summary>
public sealed record OperationDto
{
    /// <summary><c>LAUNCH</c>, <c>RESERVE</c>, <c>UNRESERVE</c>.</summary>
    public string Type { get; init; } = "";

    /// <summary>Tasks to launch.</summary>
    public LaunchDto? Launch { get; init; }

    /// <summary>Resources to reserve.</summary>
    public ReserveDto? Reserve { get; init; }

    /// <summary>Resources to unreserve.</summary>
    public ReserveDto? Unreserve { get; init; }
}

/// <summary>Mesos <c>Offer.Unavailability</c> bounds.</summary>
public sealed record UnavailabilityDto(NanosDto Start, NanosDto? Duration);

/// <summary>Mesos <c>URL</c> of an agent.</summary>
public sealed record UrlDto(string Scheme, AddressDto Address, string? Path);

/// <summary>Mesos <c>Address</c>.</summary>
public sealed record AddressDto(string Hostname, string? Ip, int Port);

/// <summary>Mesos <c>Offer</c>.</summary>
public sealed record OfferDto
{
    /// <summary>Offer id.</summary>
    public IdDto Id { get; init; } = new("");

    /// <summary>Receiving framework.</summary>
    public IdDto FrameworkId { get; init; } = new("");

    /// <summary>Agent the resources are on.</summary>
    public IdDto AgentId { get; init; } = new("");

    /// <summary>Agent host name.</summary>
    public string Hostname { get; init; } = "";

    /// <summary>Agent URL.</summary>
    public UrlDto? Url { get; init; }

    /// <summary>Role the offer is made to.</summary>
    public AllocationInfoDto? AllocationInfo { get; init; }

    /// <summary>Offered resources.</summary>
    public List<ResourceDto> Resources { get; init; } = [];

    /// <summary>Agent attributes.</summary>
    public List<AttributeDto> Attributes { get; init; } = [];

    /// <summary>Executors of this framework on the agent (always empty: tasks run without custom executors).</summary>
    public List<IdDto> ExecutorIds { get; init; } = [];

    /// <summary>Set when the agent's machine is draining for maintenance.</summary>
    public UnavailabilityDto? Unavailability { get; init; }
}

/// <summary>Mesos scheduler <c>Call</c>; <see cref="Type"/> names which body field is set.</summary>
public sealed record SchedulerCall
{
    /// <summary>Framework making the call (all calls but a first SUBSCRIBE).</summary>
    public IdDto? FrameworkId { get; init; }

    /// <summary>SUBSCRIBE, TEARDOWN, ACCEPT, DECLINE, REVIVE, SUPPRESS, KILL, ACKNOWLEDGE, RECONCILE, …</summary>
    public string Type { get; init; } = "";

    /// <summary>SUBSCRIBE body.</summary>
    public SubscribeCall? Subscribe { get; init; }

    /// <summary>ACCEPT body.</summary>
    public AcceptCall? Accept { get; init; }

    /// <summary>DECLINE body.</summary>
    public DeclineCall? Decline { get; init; }

    /// <summary>REVIVE body.</summary>
    public RolesCall? Revive { get; init; }

    /// <summary>SUPPRESS body.</summary>
    public RolesCall? Suppress { get; init; }

    /// <summary>KILL body.</summary>
    public KillCall? Kill { get; init; }

    /// <summary>ACKNOWLEDGE body.</summary>
    public AcknowledgeCall? Acknowledge { get; init; }

    /// <summary>RECONCILE body.</summary>
    public ReconcileCall? Reconcile { get; init; }
}

/// <summary>SUBSCRIBE body.</summary>
public sealed record SubscribeCall(FrameworkInfoDto FrameworkInfo)
{
    /// <summary>Roles to start suppressed.</summary>
    public List<string>? SuppressedRoles { get; init; }
}

/// <summary>ACCEPT body.</summary>
public sealed record AcceptCall(List<IdDto> OfferIds, List<OperationDto>? Operations, FiltersDto? Filters);

/// <summary>DECLINE body.</summary>
public sealed record DeclineCall(List<IdDto> OfferIds, FiltersDto? Filters);

/// <summary>REVIVE / SUPPRESS body: roles, all subscribed roles when empty.</summary>
public sealed record RolesCall(List<string>? Roles);

/// <summary>KILL body.</summary>
public sealed record KillCall(IdDto TaskId, IdDto? AgentId, KillPolicyDto? KillPolicy);

/// <summary>ACKNOWLEDGE body.</summary>
public sealed record AcknowledgeCall(IdDto AgentId, IdDto TaskId, string Uuid);

/// <summary>One task of an explicit RECONCILE.</summary>
public sealed record ReconcileTask(IdDto TaskId, IdDto? AgentId);

/// <summary>RECONCILE body: empty list = implicit reconciliation.</summary>
public sealed record ReconcileCall(List<ReconcileTask>? Tasks);

/// <summary>Mesos scheduler <c>Event</c>.</summary>
public sealed record SchedulerEvent
{
    /// <summary>SUBSCRIBED, OFFERS, RESCIND, UPDATE, FAILURE, ERROR, HEARTBEAT.</summary>
    public string Type { get; init; } = "";

    /// <summary>SUBSCRIBED body.</summary>
    public SubscribedEvent? Subscribed { get; init; }

    /// <summary>OFFERS body.</summary>
    public OffersEvent? Offers { get; init; }

    /// <summary>RESCIND body.</summary>
    public RescindEvent? Rescind { get; init; }

    /// <summary>UPDATE body.</summary>
    public UpdateEvent? Update { get; init; }

    /// <summary>FAILURE body.</summary>
    public FailureEvent? Failure { get; init; }

    /// <summary>ERROR body.</summary>
    public ErrorEvent? Error { get; init; }
}

/// <summary>SUBSCRIBED body.</summary>
public sealed record SubscribedEvent(IdDto FrameworkId, double HeartbeatIntervalSeconds);

/// <summary>OFFERS body (note the nested <c>offers</c>, as in scheduler.proto).</summary>
public sealed record OffersEvent(List<OfferDto> Offers);

/// <summary>RESCIND body.</summary>
public sealed record RescindEvent(IdDto OfferId);

/// <summary>UPDATE body.</summary>
public sealed record UpdateEvent(TaskStatusDto Status);

/// <summary>FAILURE body.</summary>
public sealed record FailureEvent(IdDto? AgentId, IdDto? ExecutorId, int? Status);

/// <summary>ERROR body.</summary>
public sealed record ErrorEvent(string Message);

/// <summary>Scheduler call and event type names.</summary>
public static class SchedulerTypes
{
#pragma warning disable CS1591 // the names are their own documentation
    public const string Subscribe = "SUBSCRIBE", Teardown = "TEARDOWN", Accept = "ACCEPT", Decline = "DECLINE", Revive = "REVIVE",
        Suppress = "SUPPRESS", Kill = "KILL", Acknowledge = "ACKNOWLEDGE", Reconcile = "RECONCILE";

    public const string Subscribed = "SUBSCRIBED", Offers = "OFFERS", Rescind = "RESCIND", Update = "UPDATE", Failure = "FAILURE",
        Error = "ERROR", Heartbeat = "HEARTBEAT";

    public const string Launch = "LAUNCH", Reserve = "RESERVE", Unreserve = "UNRESERVE";
#pragma warning restore CS1591
}
#pragma warning restore CA2227
