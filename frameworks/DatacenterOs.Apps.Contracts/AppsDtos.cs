using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Apps.Contracts;

#pragma warning disable CA2227 // wire DTOs: settable collections (extension data) keep every field the server sent

/// <summary>JSON settings of Marathon's <c>/v2</c> wire format: camelCase, nulls omitted, unknown fields kept.</summary>
public static class MarathonJson
{
    /// <summary>Compact options (requests).</summary>
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    /// <summary>Indented options (machine output for people, e.g. <c>dcos … --json</c>).</summary>
    public static JsonSerializerOptions Indented { get; } = Create(indented: true);

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            NumberHandling = JsonNumberHandling.AllowReadingFromString,
            WriteIndented = indented,
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}

/// <summary>
/// An app as <c>GET /v2/apps[/{id}]</c> shows it: the definition plus the counters Marathon adds. Fields not
/// modelled here are kept in <see cref="Extra"/> and written back unchanged.
/// </summary>
public sealed class AppDto
{
    /// <summary>Absolute app id, e.g. <c>/web</c>.</summary>
    public string Id { get; set; } = "";

    /// <summary>Shell command.</summary>
    public string? Cmd { get; set; }

    /// <summary>Instances wanted.</summary>
    public int Instances { get; set; }

    /// <summary>CPU per instance (fractional cores).</summary>
    public double Cpus { get; set; }

    /// <summary>Memory per instance (MiB).</summary>
    public double Mem { get; set; }

    /// <summary>Disk per instance (MiB).</summary>
    public double Disk { get; set; }

    /// <summary>Version (Marathon timestamp) of the definition.</summary>
    public string? Version { get; set; }

    /// <summary>Instances staging or starting.</summary>
    public int TasksStaged { get; set; }

    /// <summary>Instances running.</summary>
    public int TasksRunning { get; set; }

    /// <summary>Running instances whose health check passes.</summary>
    public int TasksHealthy { get; set; }

    /// <summary>Running instances whose health check fails.</summary>
    public int TasksUnhealthy { get; set; }

    /// <summary>Deployments touching the app.</summary>
    public List<DeploymentRefDto>? Deployments { get; set; }

    /// <summary>Instances (with <c>embed=apps.tasks</c> and on <c>GET /v2/apps/{id}</c>).</summary>
    public List<AppTaskDto>? Tasks { get; set; }

    /// <summary>Labels.</summary>
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary><c>{"id":"…"}</c> of a deployment in an app's <c>deployments</c>.</summary>
public sealed class DeploymentRefDto
{
    /// <summary>Deployment id.</summary>
    public string Id { get; set; } = "";
}

/// <summary>One instance (task) of an app.</summary>
public sealed class AppTaskDto
{
    /// <summary>Task id.</summary>
    public string Id { get; set; } = "";

    /// <summary>App id.</summary>
    public string AppId { get; set; } = "";

    /// <summary>Agent host name.</summary>
    public string? Host { get; set; }

    /// <summary>Agent id.</summary>
    public string? SlaveId { get; set; }

    /// <summary>Mesos task state, e.g. <c>TASK_RUNNING</c>.</summary>
    public string? State { get; set; }

    /// <summary>Host ports.</summary>
    public List<long>? Ports { get; set; }

    /// <summary>When staged (Marathon timestamp).</summary>
    public string? StagedAt { get; set; }

    /// <summary>When running (Marathon timestamp).</summary>
    public string? StartedAt { get; set; }

    /// <summary>App version the instance runs.</summary>
    public string? Version { get; set; }

    /// <summary>Health check results (first check).</summary>
    public List<HealthCheckResultDto>? HealthCheckResults { get; set; }

    /// <summary>
    /// DatacenterOs addition: the instance's model state (<c>ONLINE</c>/<c>OFFLINE</c>, or <c>LEADER</c>/<c>STANDBY</c>
    /// for LeaderStandby apps); null before the first assignment.
    /// </summary>
    public string? ModelState { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One health check result of an instance.</summary>
public sealed class HealthCheckResultDto
{
    /// <summary>Whether the check passes.</summary>
    public bool Alive { get; set; }

    /// <summary>Consecutive failures.</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>Why the last check failed.</summary>
    public string? LastFailureCause { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>Answer of every change: <c>{"version","deploymentId"}</c> (Marathon).</summary>
public sealed class ChangeResultDto
{
    /// <summary>New version.</summary>
    public string? Version { get; set; }

    /// <summary>The deployment carrying the change.</summary>
    public string? DeploymentId { get; set; }
}

/// <summary>A deployment plan (<c>GET /v2/deployments</c> element, dry runs, <c>POST /v2/plan</c>).</summary>
public sealed class DeploymentDto
{
    /// <summary>Deployment id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Version it deploys.</summary>
    public string? Version { get; set; }

    /// <summary>Apps it changes.</summary>
    public List<string> AffectedApps { get; set; } = [];

    /// <summary>Steps, run one after the other.</summary>
    public List<DeploymentStepDto> Steps { get; set; } = [];

    /// <summary>Actions of the current step.</summary>
    public List<DeploymentActionDto> CurrentActions { get; set; } = [];

    /// <summary>1-based current step (0: not started).</summary>
    public int CurrentStep { get; set; }

    /// <summary>Number of steps.</summary>
    public int TotalSteps { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One step of a deployment: actions done together.</summary>
public sealed class DeploymentStepDto
{
    /// <summary>Its actions.</summary>
    public List<DeploymentActionDto> Actions { get; set; } = [];
}

/// <summary>One action: <c>StartApplication</c>, <c>ScaleApplication</c>, <c>RestartApplication</c>, <c>StopApplication</c>….</summary>
public sealed class DeploymentActionDto
{
    /// <summary>Action name.</summary>
    public string Action { get; set; } = "";

    /// <summary>App id.</summary>
    public string App { get; set; } = "";
}

/// <summary>One <c>/v2/queue</c> element: an app with instances waiting to launch, and why.</summary>
public sealed class QueueItemDto
{
    /// <summary>Instances waiting.</summary>
    public int Count { get; set; }

    /// <summary>Launch backoff.</summary>
    public QueueDelayDto? Delay { get; set; }

    /// <summary>Waiting since (Marathon timestamp).</summary>
    public string? Since { get; set; }

    /// <summary>Every distinct reason over the recent offers, most frequent first.</summary>
    public List<WaitingReasonDto> WaitingReasons { get; set; } = [];

    /// <summary>The app.</summary>
    public AppDto? App { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>Launch backoff of a queued app.</summary>
public sealed class QueueDelayDto
{
    /// <summary>Seconds until the next launch attempt.</summary>
    public long TimeLeftSeconds { get; set; }

    /// <summary>True when no backoff delays the launch.</summary>
    public bool Overdue { get; set; }
}

/// <summary>Why offers were not used for an app: reason (<c>InsufficientMemory</c>, <c>UnfulfilledConstraint</c>…), detail, count, agents.</summary>
public sealed class WaitingReasonDto
{
    /// <summary>Reason code.</summary>
    public string Reason { get; set; } = "";

    /// <summary>Detail (the constraint or the resource amounts).</summary>
    public string? Detail { get; set; }

    /// <summary>Offers refused for this reason.</summary>
    public int Offers { get; set; }

    /// <summary>Agents whose offers were refused.</summary>
    public List<string> Agents { get; set; } = [];
}

/// <summary>One server-sent event of <c>/v2/events</c>: its type and its JSON data.</summary>
/// <param name="EventType">e.g. <c>deployment_success</c>, <c>status_update_event</c>.</param>
/// <param name="Data">The event's JSON object as sent.</param>
public sealed record AppsEvent(string EventType, string Data);

#pragma warning restore CA2227
