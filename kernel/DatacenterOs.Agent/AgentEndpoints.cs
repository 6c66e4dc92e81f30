using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DatacenterOs.Agent;

/// <summary><c>/state</c> of an agent.</summary>
public sealed record AgentStateDto
{
    /// <summary>Agent id, null before the first subscription.</summary>
    public string? Id { get; init; }

    /// <summary>Host name.</summary>
    public string Hostname { get; init; } = "";

    /// <summary>Agent HTTP port.</summary>
    public int Port { get; init; }

    /// <summary>Total resources.</summary>
    public IReadOnlyList<ResourceDto> Resources { get; init; } = [];

    /// <summary>Attributes.</summary>
    public IReadOnlyList<AttributeDto> Attributes { get; init; } = [];

    /// <summary>True while subscribed to a master.</summary>
    public bool Subscribed { get; init; }

    /// <summary>Master subscribed to.</summary>
    public string? MasterUrl { get; init; }

    /// <summary>Tracked tasks.</summary>
    public IReadOnlyList<AgentStateTaskDto> Tasks { get; init; } = [];
}

/// <summary>A task in <c>/state</c>.</summary>
public sealed record AgentStateTaskDto
{
    /// <summary>Framework id.</summary>
    public string FrameworkId { get; init; } = "";

    /// <summary>Task id.</summary>
    public string Id { get; init; } = "";

    /// <summary>Task name.</summary>
    public string Name { get; init; } = "";

    /// <summary>Role.</summary>
    public string Role { get; init; } = "*";

    /// <summary>Latest state.</summary>
    public string State { get; init; } = "";

    /// <summary>Latest status.</summary>
    public TaskStatusDto? Status { get; init; }

    /// <summary>Resources of the task.</summary>
    public IReadOnlyList<ResourceDto> Resources { get; init; } = [];

    /// <summary>Sandbox-relative path for <c>/files</c>: <c>&lt;frameworkId&gt;/&lt;taskId&gt;</c>.</summary>
    public string Sandbox { get; init; } = "";

    /// <summary>Absolute sandbox directory.</summary>
    public string? Directory { get; init; }

    /// <summary>Pid of the task's process group leader.</summary>
    public int? Pid { get; init; }
}

/// <summary>The agent's HTTP endpoints (Mesos <c>/files/read</c>, <c>/files/browse</c>, <c>/state</c>).</summary>
internal static class AgentEndpoints
{
    public static void Map(IEndpointRouteBuilder endpoints, AgentRuntime agent)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/files/read", (string? path, long? offset, long? length) =>
        {
            var (result, resolved) = agent.Files.Read(path, offset ?? 0, length);
            return result is null ? Failure(resolved) : Results.Json(result, MesosJson.Options);
        });
        endpoints.MapGet("/files/browse", (string? path) =>
        {
            var (entries, resolved) = agent.Files.Browse(path);
            return entries is null ? Failure(resolved) : Results.Json(entries, MesosJson.Options);
        });
        endpoints.MapGet("/state", () => Results.Json(agent.GetState(), MesosJson.Options));
    }

    private static IResult Failure(SandboxPath resolved) =>
        Results.Text(resolved.Error ?? "", "text/plain", statusCode: resolved.Status == SandboxPathStatus.Invalid ? StatusCodes.Status400BadRequest : StatusCodes.Status404NotFound);
}
