using System.Text.Json;
using System.Text.Json.Serialization;

namespace DatacenterOs.Jobs.Contracts;

#pragma warning disable CA2227 // wire DTOs: settable collections (extension data) keep every field the server sent

/// <summary>JSON settings of Chronos's <c>/v1/scheduler</c> wire format: camelCase, nulls omitted, unknown fields kept.</summary>
public static class ChronosJson
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

/// <summary>A job as Chronos shows it; fields not modelled here are kept in <see cref="Extra"/>.</summary>
public sealed class JobDto
{
    /// <summary>Unique name.</summary>
    public string Name { get; set; } = "";

    /// <summary>Command (shell).</summary>
    public string Command { get; set; } = "";

    /// <summary>Schedule (ISO 8601 repeating interval <c>R/2026-01-01T00:00:00Z/PT1H</c> or cron); null for dependent jobs.</summary>
    public string? Schedule { get; set; }

    /// <summary>Parent jobs (dependent jobs); null for scheduled jobs.</summary>
    public List<string>? Parents { get; set; }

    /// <summary>Disabled jobs are not run by their schedule or parents.</summary>
    public bool Disabled { get; set; }

    /// <summary>Description.</summary>
    public string? Description { get; set; }

    /// <summary>Owner e-mail.</summary>
    public string? Owner { get; set; }

    /// <summary>CPU (fractional cores).</summary>
    public double Cpus { get; set; }

    /// <summary>Memory (MiB).</summary>
    public double Mem { get; set; }

    /// <summary>Disk (MiB).</summary>
    public double Disk { get; set; }

    /// <summary>Successful runs.</summary>
    public long SuccessCount { get; set; }

    /// <summary>Failed runs.</summary>
    public long ErrorCount { get; set; }

    /// <summary>Last success (ISO 8601) or empty.</summary>
    public string? LastSuccess { get; set; }

    /// <summary>Last error (ISO 8601) or empty.</summary>
    public string? LastError { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One element of <c>GET /v1/scheduler/jobs/summary</c>.</summary>
public sealed class JobSummaryDto
{
    /// <summary>Job name.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>fresh</c>, <c>success</c> or <c>failure</c> (last outcome).</summary>
    public string Status { get; set; } = "";

    /// <summary><c>idle</c>, <c>queued</c> or <c>N running</c>.</summary>
    public string State { get; set; } = "";

    /// <summary>Schedule, empty for dependent jobs.</summary>
    public string Schedule { get; set; } = "";

    /// <summary>Parents.</summary>
    public List<string> Parents { get; set; } = [];

    /// <summary>Disabled.</summary>
    public bool Disabled { get; set; }

    /// <summary>Every other field (e.g. <c>note</c>), unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>One run attempt in <c>GET /v1/scheduler/job/{name}/runs</c> (newest first).</summary>
public sealed class JobRunDto
{
    /// <summary>Run id, e.g. <c>extract@20260101T000000Z-manual#0</c>.</summary>
    public string RunId { get; set; } = "";

    /// <summary>Job.</summary>
    public string JobName { get; set; } = "";

    /// <summary>DAG run it belongs to.</summary>
    public string? DagRunId { get; set; }

    /// <summary>0 first attempt, n the n-th retry.</summary>
    public int Attempt { get; set; }

    /// <summary><c>schedule</c>, <c>dependency</c> or <c>manual</c>.</summary>
    public string? Trigger { get; set; }

    /// <summary><c>pending</c>, <c>running</c>, <c>succeeded</c>, <c>failed</c>, <c>skipped</c>, <c>killed</c>.</summary>
    public string State { get; set; } = "";

    /// <summary>Created.</summary>
    public DateTimeOffset? CreatedAt { get; set; }

    /// <summary>Task launched.</summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>Finished.</summary>
    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>Exit code when known.</summary>
    public int? ExitCode { get; set; }

    /// <summary>Agent id.</summary>
    public string? AgentId { get; set; }

    /// <summary>Mesos task id.</summary>
    public string? TaskId { get; set; }

    /// <summary>Why it was skipped, killed or failed.</summary>
    public string? Reason { get; set; }

    /// <summary>Arguments of a manual run.</summary>
    public string? Arguments { get; set; }

    /// <summary>Tail of the task's stdout, when captured.</summary>
    public string? Stdout { get; set; }

    /// <summary>Every other field, unchanged.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Extra { get; set; }
}

#pragma warning restore CA2227
