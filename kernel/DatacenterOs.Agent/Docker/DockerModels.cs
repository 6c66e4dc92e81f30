using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Agent.Docker;

#pragma warning disable CA2227, CA1002 // Docker Engine API DTOs mirror its JSON: settable collections, List<T>

/// <summary>JSON settings of the Docker Engine API: PascalCase names as declared, nulls omitted.</summary>
internal static class DockerJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = null,
            PropertyNameCaseInsensitive = true,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary><c>GET /version</c> (the fields the agent uses).</summary>
public sealed record DockerVersion
{
    /// <summary>Daemon version, e.g. <c>20.10.24</c>.</summary>
    public string? Version { get; init; }

    /// <summary>Highest API version the daemon speaks, e.g. <c>1.41</c>.</summary>
    public string? ApiVersion { get; init; }

    /// <summary>Lowest API version the daemon speaks.</summary>
    public string? MinAPIVersion { get; init; }

    /// <summary>Operating system, e.g. <c>linux</c>.</summary>
    public string? Os { get; init; }
}

/// <summary>Body of <c>POST /containers/create</c> (Docker <c>ContainerConfig</c> plus <c>HostConfig</c>).</summary>
public sealed record DockerCreateContainer
{
    /// <summary>Image reference.</summary>
    public string Image { get; init; } = "";

    /// <summary>Command (argv); null: the image's.</summary>
    public List<string>? Cmd { get; init; }

    /// <summary>Entrypoint (argv); null: the image's; an empty list clears it.</summary>
    public List<string>? Entrypoint { get; init; }

    /// <summary><c>NAME=value</c> entries.</summary>
    public List<string>? Env { get; init; }

    /// <summary>Container labels.</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>User (name or uid[:gid]) inside the container.</summary>
    public string? User { get; init; }

    /// <summary>Working directory inside the container.</summary>
    public string? WorkingDir { get; init; }

    /// <summary>Host name inside the container.</summary>
    public string? Hostname { get; init; }

    /// <summary>Ports the container exposes: <c>{"8080/tcp":{}}</c>.</summary>
    public Dictionary<string, object>? ExposedPorts { get; init; }

    /// <summary>Host settings.</summary>
    public DockerHostConfig HostConfig { get; init; } = new();
}

/// <summary>Docker <c>HostConfig</c> (the fields the agent sets).</summary>
public sealed record DockerHostConfig
{
    /// <summary><c>host:container[:ro|rw]</c> bind mounts.</summary>
    public List<string>? Binds { get; init; }

    /// <summary>Mounts (used for the sandbox: its path may hold characters <see cref="Binds"/> cannot express, such as <c>:</c>).</summary>
    public List<DockerMount>? Mounts { get; init; }

    /// <summary>Memory limit in bytes (0: none).</summary>
    public long? Memory { get; init; }

    /// <summary>Memory + swap limit in bytes; set equal to <see cref="Memory"/> so the limit is a hard one.</summary>
    public long? MemorySwap { get; init; }

    /// <summary>Relative CPU weight (1024 per core, as Mesos).</summary>
    public long? CpuShares { get; init; }

    /// <summary>CFS period in microseconds.</summary>
    public long? CpuPeriod { get; init; }

    /// <summary>CFS quota in microseconds per <see cref="CpuPeriod"/>.</summary>
    public long? CpuQuota { get; init; }

    /// <summary><c>host</c>, <c>bridge</c>, <c>none</c> or a network name.</summary>
    public string? NetworkMode { get; init; }

    /// <summary><c>"8080/tcp": [{"HostIp":"","HostPort":"31000"}]</c>.</summary>
    public Dictionary<string, List<DockerPortBinding>>? PortBindings { get; init; }

    /// <summary>Privileged mode.</summary>
    public bool? Privileged { get; init; }

    /// <summary>Extra labels of <c>--security-opt</c>.</summary>
    public List<string>? SecurityOpt { get; init; }

    /// <summary>Extra <c>/etc/hosts</c> entries.</summary>
    public List<string>? ExtraHosts { get; init; }

    /// <summary>DNS servers.</summary>
    public List<string>? Dns { get; init; }

    /// <summary>Capabilities to add.</summary>
    public List<string>? CapAdd { get; init; }

    /// <summary>Capabilities to drop.</summary>
    public List<string>? CapDrop { get; init; }

    /// <summary>Init process in the container (<c>--init</c>).</summary>
    public bool? Init { get; init; }

    /// <summary>Read-only root file system.</summary>
    public bool? ReadonlyRootfs { get; init; }

    /// <summary>Shared memory size in bytes.</summary>
    public long? ShmSize { get; init; }
}

/// <summary>A mount of <c>HostConfig.Mounts</c>.</summary>
public sealed record DockerMount
{
    /// <summary><c>bind</c>, <c>volume</c> or <c>tmpfs</c>.</summary>
    public string Type { get; init; } = "bind";

    /// <summary>Host path (bind) or volume name.</summary>
    public string Source { get; init; } = "";

    /// <summary>Path inside the container.</summary>
    public string Target { get; init; } = "";

    /// <summary>Mount read-only.</summary>
    public bool ReadOnly { get; init; }
}

/// <summary>One host binding of a container port.</summary>
public sealed record DockerPortBinding
{
    /// <summary>Host address; empty: all.</summary>
    public string HostIp { get; init; } = "";

    /// <summary>Host port (decimal string).</summary>
    public string HostPort { get; init; } = "";
}

/// <summary>Answer of <c>POST /containers/create</c>.</summary>
public sealed record DockerCreated
{
    /// <summary>Container id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Warnings.</summary>
    public List<string>? Warnings { get; init; }
}

/// <summary>Answer of <c>POST /containers/{id}/wait</c>.</summary>
public sealed record DockerWaitResult
{
    /// <summary>Exit status of the container's main process (128 + signal when signalled).</summary>
    public long StatusCode { get; init; }

    /// <summary>Error detail, if any.</summary>
    public DockerWaitError? Error { get; init; }
}

/// <summary>Error part of <see cref="DockerWaitResult"/>.</summary>
public sealed record DockerWaitError
{
    /// <summary>Message.</summary>
    public string? Message { get; init; }
}

/// <summary><c>GET /containers/{id}/json</c> (the fields the agent uses).</summary>
public sealed record DockerContainerInspect
{
    /// <summary>Container id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Name with a leading slash.</summary>
    public string? Name { get; init; }

    /// <summary>Runtime state.</summary>
    public DockerContainerState State { get; init; } = new();

    /// <summary>Configuration (labels).</summary>
    public DockerContainerConfigView? Config { get; init; }

    /// <summary>Network settings (published ports).</summary>
    public DockerNetworkSettings? NetworkSettings { get; init; }
}

/// <summary>Docker container <c>State</c>.</summary>
public sealed record DockerContainerState
{
    /// <summary><c>created</c>, <c>running</c>, <c>paused</c>, <c>restarting</c>, <c>removing</c>, <c>exited</c>, <c>dead</c>.</summary>
    public string? Status { get; init; }

    /// <summary>Running now.</summary>
    public bool Running { get; init; }

    /// <summary>Killed by the kernel's OOM killer (memory limit).</summary>
    public bool OOMKilled { get; init; }

    /// <summary>Pid of the main process on the host (0 when not running).</summary>
    public int Pid { get; init; }

    /// <summary>Exit status once exited.</summary>
    public int ExitCode { get; init; }

    /// <summary>Error starting, if any.</summary>
    public string? Error { get; init; }

    /// <summary>RFC 3339 start time.</summary>
    public string? StartedAt { get; init; }

    /// <summary>RFC 3339 end time.</summary>
    public string? FinishedAt { get; init; }
}

/// <summary>Docker container <c>Config</c> (labels only).</summary>
public sealed record DockerContainerConfigView
{
    /// <summary>Labels.</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary>Image reference it was created from.</summary>
    public string? Image { get; init; }
}

/// <summary>Docker <c>NetworkSettings</c> (published ports).</summary>
public sealed record DockerNetworkSettings
{
    /// <summary><c>"8080/tcp": [{"HostIp":"0.0.0.0","HostPort":"31000"}]</c>; null entries for unpublished ports.</summary>
    public Dictionary<string, List<DockerPortBinding>?>? Ports { get; init; }

    /// <summary>Address on the default bridge.</summary>
    public string? IPAddress { get; init; }
}

/// <summary>One row of <c>GET /containers/json</c>.</summary>
public sealed record DockerContainerSummary
{
    /// <summary>Container id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Names with leading slashes.</summary>
    public List<string>? Names { get; init; }

    /// <summary>Image reference.</summary>
    public string? Image { get; init; }

    /// <summary>Labels.</summary>
    public Dictionary<string, string>? Labels { get; init; }

    /// <summary><c>running</c>, <c>exited</c>, …</summary>
    public string? State { get; init; }
}

/// <summary><c>GET /images/{name}/json</c> (the fields the agent uses).</summary>
public sealed record DockerImageInspect
{
    /// <summary>Image id (<c>sha256:…</c>).</summary>
    public string Id { get; init; } = "";

    /// <summary>Tags.</summary>
    public List<string>? RepoTags { get; init; }
}

/// <summary>One line of a pull's progress stream.</summary>
internal sealed record DockerProgress
{
    public string? Status { get; init; }

    public string? Error { get; init; }
}

/// <summary>Error body of the Docker API: <c>{"message":"…"}</c>.</summary>
internal sealed record DockerErrorBody
{
    public string? Message { get; init; }
}

/// <summary>Body of <c>POST /containers/{id}/exec</c>.</summary>
internal sealed record DockerExecCreate
{
    public List<string> Cmd { get; init; } = [];

    public List<string>? Env { get; init; }

    public bool AttachStdout { get; init; } = true;

    public bool AttachStderr { get; init; } = true;
}

/// <summary><c>GET /exec/{id}/json</c>.</summary>
internal sealed record DockerExecInspect
{
    public bool Running { get; init; }

    public int? ExitCode { get; init; }
}

/// <summary>One event of <c>GET /events</c>.</summary>
public sealed record DockerEvent
{
    /// <summary><c>container</c>, <c>image</c>, …</summary>
    public string? Type { get; init; }

    /// <summary><c>start</c>, <c>die</c>, <c>oom</c>, …</summary>
    public string? Action { get; init; }

    /// <summary>Subject of the event.</summary>
    public DockerEventActor? Actor { get; init; }
}

/// <summary>Subject of a <see cref="DockerEvent"/>.</summary>
public sealed record DockerEventActor
{
    /// <summary>Container (or image) id.</summary>
    public string? ID { get; init; }

    /// <summary>Attributes (labels, exit code, name).</summary>
    public Dictionary<string, string>? Attributes { get; init; }
}
#pragma warning restore CA2227, CA1002
