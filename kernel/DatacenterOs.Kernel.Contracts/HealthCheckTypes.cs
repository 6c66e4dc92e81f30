using System.Globalization;

namespace DatacenterOs.Kernel.Contracts;

#pragma warning disable CA2227 // wire DTOs mirror the Mesos JSON exactly: settable collections

/// <summary>
/// Mesos <c>HealthCheck</c> (<c>include/mesos/v1/mesos.proto</c>; semantics in Mesos <c>docs/health-checks.md</c>):
/// a check the agent runs next to the task, e.g.
/// <c>{"type":"HTTP","http":{"port":8080,"path":"/health"},"delay_seconds":0,"interval_seconds":10,"timeout_seconds":20,"consecutive_failures":3,"grace_period_seconds":10}</c>.
/// Exactly one of <see cref="Http"/>, <see cref="Tcp"/> and <see cref="Command"/> is set, matching <see cref="Type"/>.
/// Absent numbers take the Mesos defaults below. The agent reports results but never kills the task: the framework
/// decides (and should rate-limit) health kills.
/// </summary>
public sealed record HealthCheckDto
{
    /// <summary><c>COMMAND</c>, <c>HTTP</c> or <c>TCP</c> (see <see cref="HealthCheckTypes"/>).</summary>
    public string? Type { get; init; }

    /// <summary>Seconds to wait after the task started running before the first check; Mesos default 15.</summary>
    public double DelaySeconds { get; init; } = 15;

    /// <summary>Seconds between the end of one check (finished or timed out) and the start of the next; Mesos default 10.</summary>
    public double IntervalSeconds { get; init; } = 10;

    /// <summary>Seconds a check may take before it is aborted and counted as a failure; 0 = no timeout; Mesos default 20.</summary>
    public double TimeoutSeconds { get; init; } = 20;

    /// <summary>
    /// Consecutive failures after which Mesos's executors kill the task; Mesos default 3. Here the agent never kills:
    /// it reports an update when the count of consecutive failures reaches this number, so the framework can decide.
    /// </summary>
    public int ConsecutiveFailures { get; init; } = 3;

    /// <summary>
    /// Seconds after the task was launched during which failures are ignored, until the first success; it includes
    /// <see cref="DelaySeconds"/>. Mesos default 10.
    /// </summary>
    public double GracePeriodSeconds { get; init; } = 10;

    /// <summary>The HTTP(S) probe when <see cref="Type"/> is <c>HTTP</c>.</summary>
    public HttpCheckInfoDto? Http { get; init; }

    /// <summary>The TCP probe when <see cref="Type"/> is <c>TCP</c>.</summary>
    public TcpCheckInfoDto? Tcp { get; init; }

    /// <summary>
    /// The command when <see cref="Type"/> is <c>COMMAND</c>: run in the task's sandbox with the task's environment
    /// (plus the command's own), through <c>/bin/sh -c</c> unless <c>shell</c> is false; exit status 0 = healthy.
    /// </summary>
    public CommandDto? Command { get; init; }
}

/// <summary>
/// Mesos <c>HealthCheck.HTTPCheckInfo</c>: <c>GET scheme://127.0.0.1:port/path</c>. Healthy when the status code is in
/// <see cref="Statuses"/>, or in 200..399 when that is empty (Mesos's default executors).
/// </summary>
public sealed record HttpCheckInfoDto
{
    /// <summary><c>http</c> (default) or <c>https</c>; certificates are not verified, as in Mesos.</summary>
    public string? Scheme { get; init; }

    /// <summary>Port on the task's host (1..65535).</summary>
    public int Port { get; init; }

    /// <summary>Request path; default <c>/</c>.</summary>
    public string? Path { get; init; }

    /// <summary>Status codes counted as healthy; null or empty = 200..399.</summary>
    public List<int>? Statuses { get; init; }
}

/// <summary>Mesos <c>HealthCheck.TCPCheckInfo</c>: healthy when a TCP connection to <c>127.0.0.1:port</c> is established.</summary>
public sealed record TcpCheckInfoDto
{
    /// <summary>Port on the task's host (1..65535).</summary>
    public int Port { get; init; }
}

/// <summary>Mesos <c>HealthCheck.Type</c> names.</summary>
public static class HealthCheckTypes
{
    /// <summary>Run a command; exit 0 = healthy.</summary>
    public const string Command = "COMMAND";

    /// <summary>HTTP(S) GET; 200..399 (or <c>statuses</c>) = healthy.</summary>
    public const string Http = "HTTP";

    /// <summary>TCP connect; connected = healthy.</summary>
    public const string Tcp = "TCP";
}

/// <summary>Mesos <c>TaskStatus.Reason</c> names used across the kernel and frameworks.</summary>
public static class TaskReasons
{
    /// <summary>A TASK_RUNNING update whose <see cref="TaskStatusDto.Healthy"/> changed (or first became known).</summary>
    public const string TaskHealthCheckStatusUpdated = "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED";
}

/// <summary>
/// The <see cref="TaskStatusDto.Message"/> of health updates. Mesos's <c>TaskStatus</c> has no field for the number of
/// consecutive failures, so an unhealthy update says it in its message:
/// <c>health check failed 2 consecutive times: connection refused</c>. A healthy update says
/// <c>health check passed</c>.
/// </summary>
public static class HealthCheckMessages
{
    /// <summary>Message of a healthy update.</summary>
    public const string Passed = "health check passed";

    private const string FailedPrefix = "health check failed ";

    /// <summary>Message of an unhealthy update after <paramref name="consecutiveFailures"/> failures in a row, the last because of <paramref name="cause"/>.</summary>
    public static string Failed(int consecutiveFailures, string cause) =>
        FailedPrefix + consecutiveFailures.ToString(CultureInfo.InvariantCulture)
        + (consecutiveFailures == 1 ? " consecutive time: " : " consecutive times: ") + cause;

    /// <summary>Reads the consecutive failure count from a message made by <see cref="Failed"/>; false for any other message.</summary>
    public static bool TryParseConsecutiveFailures(string? message, out int consecutiveFailures)
    {
        consecutiveFailures = 0;
        if (message is null || !message.StartsWith(FailedPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = message.AsSpan(FailedPrefix.Length);
        var space = rest.IndexOf(' ');
        return space > 0
            && rest[space..].StartsWith(" consecutive time", StringComparison.Ordinal)
            && int.TryParse(rest[..space], NumberStyles.None, CultureInfo.InvariantCulture, out consecutiveFailures);
    }
}
#pragma warning restore CA2227
