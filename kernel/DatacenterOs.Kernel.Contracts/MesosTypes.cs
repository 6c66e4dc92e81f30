namespace DatacenterOs.Kernel.Contracts;

#pragma warning disable CA1056, CA2227 // wire DTOs mirror the Mesos JSON exactly: URL strings and settable collections

/// <summary>A Mesos id message: <c>{"value":"…"}</c> (FrameworkID, AgentID, TaskID, OfferID, ExecutorID).</summary>
public sealed record IdDto(string Value);

/// <summary>Mesos <c>Value.Scalar</c>: <c>{"value":1.5}</c>.</summary>
public sealed record ScalarDto(double Value);

/// <summary>Mesos <c>Value.Range</c>: inclusive bounds.</summary>
public sealed record RangeDto(long Begin, long End);

/// <summary>Mesos <c>Value.Ranges</c>: <c>{"range":[{"begin":31000,"end":32000}]}</c>.</summary>
public sealed record RangesDto(List<RangeDto> Range);

/// <summary>Mesos <c>Value.Set</c>: <c>{"item":["a","b"]}</c>.</summary>
public sealed record SetDto(List<string> Item);

/// <summary>Mesos <c>Value.Text</c>.</summary>
public sealed record TextDto(string Value);

/// <summary>One reservation in a resource's reservation stack (Mesos <c>Resource.ReservationInfo</c>).</summary>
public sealed record ReservationDto
{
    /// <summary><c>STATIC</c> or <c>DYNAMIC</c>.</summary>
    public string? Type { get; init; }

    /// <summary>The role reserved for.</summary>
    public string? Role { get; init; }

    /// <summary>Principal that made a dynamic reservation.</summary>
    public string? Principal { get; init; }
}

/// <summary>Mesos <c>Resource.AllocationInfo</c>: the role an offered or allocated resource is for.</summary>
public sealed record AllocationInfoDto(string? Role);

/// <summary>
/// Mesos <c>Resource</c> (<c>include/mesos/v1/mesos.proto</c>):
/// <c>{"name":"cpus","type":"SCALAR","scalar":{"value":2},"role":"web","reservations":[{"type":"STATIC","role":"web"}]}</c>.
/// cpus in fractional cores, mem and disk in MiB.
/// </summary>
public sealed record ResourceDto
{
    /// <summary>Resource name: cpus, mem, disk, gpus, ports, …</summary>
    public string Name { get; init; } = "";

    /// <summary><c>SCALAR</c>, <c>RANGES</c> or <c>SET</c>.</summary>
    public string Type { get; init; } = "SCALAR";

    /// <summary>Scalar value when <see cref="Type"/> is SCALAR.</summary>
    public ScalarDto? Scalar { get; init; }

    /// <summary>Ranges when <see cref="Type"/> is RANGES.</summary>
    public RangesDto? Ranges { get; init; }

    /// <summary>Set items when <see cref="Type"/> is SET.</summary>
    public SetDto? Set { get; init; }

    /// <summary>Legacy (pre-refinement) reservation role; <c>*</c> = unreserved.</summary>
    public string? Role { get; init; }

    /// <summary>Reservation stack (refinement format); the last entry is the effective role.</summary>
    public List<ReservationDto>? Reservations { get; init; }

    /// <summary>Role the resource is offered or allocated to.</summary>
    public AllocationInfoDto? AllocationInfo { get; init; }
}

/// <summary>Mesos <c>Attribute</c>: <c>{"name":"rack","type":"TEXT","text":{"value":"r1"}}</c>.</summary>
public sealed record AttributeDto
{
    /// <summary>Attribute name.</summary>
    public string Name { get; init; } = "";

    /// <summary><c>TEXT</c>, <c>SCALAR</c>, <c>RANGES</c> or <c>SET</c>.</summary>
    public string Type { get; init; } = "TEXT";

    /// <summary>Text value.</summary>
    public TextDto? Text { get; init; }

    /// <summary>Scalar value.</summary>
    public ScalarDto? Scalar { get; init; }
}

/// <summary>Mesos <c>DurationInfo</c> / <c>TimeInfo</c>: <c>{"nanoseconds":…}</c>.</summary>
public sealed record NanosDto(long Nanoseconds);

/// <summary>Mesos <c>KillPolicy</c>: grace period between SIGTERM and SIGKILL.</summary>
public sealed record KillPolicyDto(NanosDto? GracePeriod);

/// <summary>Mesos <c>Environment.Variable</c>.</summary>
public sealed record EnvironmentVariableDto(string Name, string? Value);

/// <summary>Mesos <c>Environment</c>.</summary>
public sealed record EnvironmentDto(List<EnvironmentVariableDto> Variables);

/// <summary>Mesos <c>CommandInfo.URI</c>.</summary>
public sealed record UriDto
{
    /// <summary>Where to fetch from.</summary>
    public string Value { get; init; } = "";

    /// <summary>Mark the fetched file executable.</summary>
    public bool? Executable { get; init; }

    /// <summary>Extract archives (default true in Mesos).</summary>
    public bool? Extract { get; init; }
}

/// <summary>
/// Mesos <c>CommandInfo</c>: with <c>shell</c> true (the default) <c>value</c> runs under <c>/bin/sh -c</c>;
/// otherwise <c>value</c> is the executable and <c>arguments</c> its argv.
/// </summary>
public sealed record CommandDto
{
    /// <summary>Command line (shell) or executable path.</summary>
    public string? Value { get; init; }

    /// <summary>Run through <c>/bin/sh -c</c>; Mesos default true.</summary>
    public bool? Shell { get; init; }

    /// <summary>argv when not a shell command (argv[0] included, as Mesos).</summary>
    public List<string>? Arguments { get; init; }

    /// <summary>Extra environment.</summary>
    public EnvironmentDto? Environment { get; init; }

    /// <summary>User to run as.</summary>
    public string? User { get; init; }

    /// <summary>Files to fetch into the sandbox.</summary>
    public List<UriDto>? Uris { get; init; }
}

/// <summary>Mesos <c>Label</c>.</summary>
public sealed record LabelDto(string Key, string? Value);

/// <summary>Mesos <c>Labels</c>.</summary>
public sealed record LabelsDto(List<LabelDto> Labels);

/// <summary>Mesos <c>TaskInfo</c> (the fields the kernel uses).</summary>
public sealed record TaskInfoDto
{
    /// <summary>Human-readable name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Task id, unique within the framework.</summary>
    public IdDto TaskId { get; init; } = new("");

    /// <summary>Agent to launch on (must be the offer's agent).</summary>
    public IdDto AgentId { get; init; } = new("");

    /// <summary>Resources the task uses; must be within the offers accepted.</summary>
    public List<ResourceDto> Resources { get; init; } = [];

    /// <summary>What to run.</summary>
    public CommandDto? Command { get; init; }

    /// <summary>How to kill.</summary>
    public KillPolicyDto? KillPolicy { get; init; }

    /// <summary>Labels.</summary>
    public LabelsDto? Labels { get; init; }

    /// <summary>
    /// Health check the agent runs next to the task (Mesos <c>TaskInfo.health_check</c>); results arrive as
    /// TASK_RUNNING updates with <see cref="TaskStatusDto.Healthy"/> set and reason
    /// <see cref="TaskReasons.TaskHealthCheckStatusUpdated"/>. Null: no health check.
    /// </summary>
    public HealthCheckDto? HealthCheck { get; init; }

    /// <summary>
    /// Container to run the command in (Mesos <c>TaskInfo.container</c>); null or type <c>MESOS</c> without an image:
    /// a plain process on the agent; type <c>DOCKER</c>: a Docker container on agents that advertise Docker.
    /// </summary>
    public ContainerInfoDto? Container { get; init; }
}

/// <summary>
/// Mesos <c>ContainerInfo</c>:
/// <c>{"type":"DOCKER","docker":{"image":"busybox","network":"BRIDGE","port_mappings":[{"host_port":31000,"container_port":80,"protocol":"tcp"}]},"volumes":[{"container_path":"/data","host_path":"/var/data","mode":"RO"}]}</c>.
/// </summary>
public sealed record ContainerInfoDto
{
    /// <summary><c>DOCKER</c> or <c>MESOS</c> (see <see cref="ContainerInfoTypes"/>).</summary>
    public string Type { get; init; } = ContainerInfoTypes.Mesos;

    /// <summary>Docker settings (type <c>DOCKER</c>).</summary>
    public DockerInfoDto? Docker { get; init; }

    /// <summary>Host paths mounted into the container.</summary>
    public List<VolumeDto>? Volumes { get; init; }

    /// <summary>Host name inside the container, when set.</summary>
    public string? Hostname { get; init; }
}

/// <summary>Mesos <c>ContainerInfo.DockerInfo</c>.</summary>
public sealed record DockerInfoDto
{
    /// <summary>Image reference, e.g. <c>busybox:1.36</c> (tag <c>latest</c> when none is given).</summary>
    public string Image { get; init; } = "";

    /// <summary><c>HOST</c> (default), <c>BRIDGE</c>, <c>NONE</c> or <c>USER</c> (see <see cref="DockerNetworkModes"/>).</summary>
    public string? Network { get; init; }

    /// <summary>Host port → container port mappings (BRIDGE).</summary>
    public List<DockerPortMappingDto>? PortMappings { get; init; }

    /// <summary>Run privileged; the agent refuses it unless configured to allow it.</summary>
    public bool? Privileged { get; init; }

    /// <summary>Extra <c>docker run</c> parameters (<c>{"key":"label","value":"a=b"}</c>); the agent applies the ones it knows.</summary>
    public List<ParameterDto>? Parameters { get; init; }

    /// <summary>Pull the image even when the agent already has it.</summary>
    public bool? ForcePullImage { get; init; }
}

/// <summary>Mesos <c>ContainerInfo.DockerInfo.PortMapping</c>.</summary>
public sealed record DockerPortMappingDto
{
    /// <summary>Port on the agent (one of the task's <c>ports</c> resources).</summary>
    public int HostPort { get; init; }

    /// <summary>Port inside the container.</summary>
    public int ContainerPort { get; init; }

    /// <summary><c>tcp</c> (default), <c>udp</c> or <c>udp,tcp</c>.</summary>
    public string? Protocol { get; init; }
}

/// <summary>Mesos <c>Parameter</c>.</summary>
public sealed record ParameterDto(string Key, string Value);

/// <summary>Mesos <c>Volume</c>: a host path mounted at <see cref="ContainerPath"/>.</summary>
public sealed record VolumeDto
{
    /// <summary>Absolute path inside the container.</summary>
    public string ContainerPath { get; init; } = "";

    /// <summary>Absolute path on the agent; relative paths are taken inside the task's sandbox.</summary>
    public string? HostPath { get; init; }

    /// <summary><c>RO</c> or <c>RW</c> (default).</summary>
    public string? Mode { get; init; }
}

/// <summary>Mesos <c>ContainerInfo.Type</c> names.</summary>
public static class ContainerInfoTypes
{
    /// <summary>Docker containerizer.</summary>
    public const string Docker = "DOCKER";

    /// <summary>Mesos containerizer (here: a plain process).</summary>
    public const string Mesos = "MESOS";

    /// <summary>True when <paramref name="task"/> asks for a Docker container.</summary>
    public static bool IsDocker(TaskInfoDto? task) =>
        task?.Container is { } c && string.Equals(c.Type, Docker, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Mesos <c>DockerInfo.Network</c> names.</summary>
public static class DockerNetworkModes
{
    /// <summary>The agent's network namespace.</summary>
    public const string Host = "HOST";

    /// <summary>Docker's bridge with published ports.</summary>
    public const string Bridge = "BRIDGE";

    /// <summary>No network.</summary>
    public const string None = "NONE";

    /// <summary>A user-defined network (not supported by this agent).</summary>
    public const string User = "USER";
}

/// <summary>Agent attribute names the agent sets itself.</summary>
public static class AgentCapabilities
{
    /// <summary>Attribute <c>docker</c> (text <c>true</c>): present while the agent's Docker daemon answers.</summary>
    public const string DockerAttribute = "docker";
}

/// <summary>Mesos <c>TaskStatus</c>.</summary>
public sealed record TaskStatusDto
{
    /// <summary>Task id.</summary>
    public IdDto TaskId { get; init; } = new("");

    /// <summary>State, e.g. <c>TASK_RUNNING</c> (see <see cref="TaskStates"/>).</summary>
    public string State { get; init; } = TaskStates.Staging;

    /// <summary>Readable detail.</summary>
    public string? Message { get; init; }

    /// <summary><c>SOURCE_MASTER</c>, <c>SOURCE_AGENT</c> or <c>SOURCE_EXECUTOR</c>.</summary>
    public string? Source { get; init; }

    /// <summary>Mesos <c>TaskStatus.Reason</c>, e.g. <c>REASON_RECONCILIATION</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Agent the task is on.</summary>
    public IdDto? AgentId { get; init; }

    /// <summary>Update id (base64); present on reliable updates, which must be acknowledged.</summary>
    public string? Uuid { get; init; }

    /// <summary>Seconds since the Unix epoch.</summary>
    public double? Timestamp { get; init; }

    /// <summary>
    /// Health, when the task has a health check and a result was reported (Mesos <c>TaskStatus.healthy</c>); null
    /// otherwise. Updates that change it carry reason <see cref="TaskReasons.TaskHealthCheckStatusUpdated"/>.
    /// </summary>
    public bool? Healthy { get; init; }
}

/// <summary>Mesos <c>TaskState</c> names and the terminal set (<c>src/common/protobuf_utils.cpp</c>).</summary>
public static class TaskStates
{
    /// <summary>Accepted by the master, not yet started.</summary>
    public const string Staging = "TASK_STAGING";

    /// <summary>Being started.</summary>
    public const string Starting = "TASK_STARTING";

    /// <summary>Running.</summary>
    public const string Running = "TASK_RUNNING";

    /// <summary>Being killed.</summary>
    public const string Killing = "TASK_KILLING";

    /// <summary>Exited with status 0.</summary>
    public const string Finished = "TASK_FINISHED";

    /// <summary>Exited non-zero or could not start.</summary>
    public const string Failed = "TASK_FAILED";

    /// <summary>Killed on request.</summary>
    public const string Killed = "TASK_KILLED";

    /// <summary>Invalid task description.</summary>
    public const string Error = "TASK_ERROR";

    /// <summary>Lost (non-partition-aware frameworks).</summary>
    public const string Lost = "TASK_LOST";

    /// <summary>Never launched (partition-aware).</summary>
    public const string Dropped = "TASK_DROPPED";

    /// <summary>Agent partitioned.</summary>
    public const string Unreachable = "TASK_UNREACHABLE";

    /// <summary>Agent gone.</summary>
    public const string Gone = "TASK_GONE";

    /// <summary>Operator marked the agent gone.</summary>
    public const string GoneByOperator = "TASK_GONE_BY_OPERATOR";

    /// <summary>Master knows nothing of the task.</summary>
    public const string Unknown = "TASK_UNKNOWN";

    /// <summary>True for FINISHED, FAILED, KILLED, ERROR, LOST, DROPPED, GONE, GONE_BY_OPERATOR.</summary>
    public static bool IsTerminal(string state) => state is Finished or Failed or Killed or Error or Lost or Dropped or Gone or GoneByOperator;
}
#pragma warning restore CA1056, CA2227
