using System.Globalization;
using DatacenterOs.Apps.Core;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps;

/// <summary>The Mesos health check of an instance, or why there is none.</summary>
/// <param name="HealthCheck">The check to put in <c>TaskInfo.health_check</c>; null when <paramref name="Problem"/> is set.</param>
/// <param name="Problem">Why the Marathon check cannot be translated (e.g. a port index beyond the instance's ports).</param>
public sealed record HealthCheckTranslationResult(HealthCheckDto? HealthCheck, string? Problem);

/// <summary>
/// Translates a Marathon app health check (Marathon <c>docs/health-checks.md</c>) into the Mesos
/// <c>HealthCheck</c> the agent runs next to the task (Mesos <c>docs/health-checks.md</c>). It lives in the shell
/// because the pure core may not reference the kernel's wire contracts.
/// </summary>
/// <remarks>
/// <para>Protocols: every protocol runs on the agent, Marathon-level ones included (checks executed by the scheduler do
/// not scale and caused mass kills, Marathon issue #3317):</para>
/// <list type="bullet">
/// <item><c>HTTP</c>, <c>MESOS_HTTP</c> → <c>HTTP</c> with scheme <c>http</c>; <c>HTTPS</c>, <c>MESOS_HTTPS</c> →
/// <c>HTTP</c> with scheme <c>https</c>; path = <c>path</c> or <c>/</c>. Healthy = status 200..399, as in Marathon;
/// <c>ignoreHttp1xx</c> has no agent equivalent (a 1xx answer counts as a failure).</item>
/// <item><c>TCP</c>, <c>MESOS_TCP</c> → <c>TCP</c>.</item>
/// <item><c>COMMAND</c> → <c>COMMAND</c> with <c>{"value": command.value, "shell": true}</c>.</item>
/// </list>
/// <para>
/// Port: <c>port</c> when given, else the instance's host port at <c>portIndex</c> (0 when absent). Timing:
/// <c>gracePeriodSeconds</c>, <c>intervalSeconds</c>, <c>timeoutSeconds</c> and <c>maxConsecutiveFailures</c> map to
/// <c>grace_period_seconds</c>, <c>interval_seconds</c>, <c>timeout_seconds</c> and <c>consecutive_failures</c>;
/// <c>delay_seconds</c> is 0, so the first check runs as soon as the task runs (the grace period covers slow starts).
/// Only IPv4 is supported (the agent probes 127.0.0.1).
/// </para>
/// </remarks>
public static class HealthCheckTranslation
{
    /// <summary>Translates <paramref name="check"/> for an instance whose host ports are <paramref name="hostPorts"/> (in port index order).</summary>
    public static HealthCheckTranslationResult Translate(HealthCheck check, IReadOnlyList<int> hostPorts)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(hostPorts);
        if (!string.Equals(check.IpProtocol, "IPv4", StringComparison.OrdinalIgnoreCase))
        {
            return Fail($"ipProtocol {check.IpProtocol} is not supported: health checks probe 127.0.0.1");
        }

        var dto = new HealthCheckDto
        {
            DelaySeconds = 0,
            IntervalSeconds = check.IntervalSeconds,
            TimeoutSeconds = check.TimeoutSeconds,
            GracePeriodSeconds = check.GracePeriodSeconds,
            ConsecutiveFailures = Math.Max(0, check.MaxConsecutiveFailures),
        };

        if (check.Protocol == HealthCheckProtocols.Command)
        {
            return string.IsNullOrWhiteSpace(check.Command?.Value)
                ? Fail("a COMMAND health check needs command.value")
                : new(dto with { Type = HealthCheckTypes.Command, Command = new CommandDto { Value = check.Command.Value, Shell = true } }, null);
        }

        if (!HealthCheckProtocols.All.Contains(check.Protocol))
        {
            return Fail($"unknown health check protocol {check.Protocol}");
        }

        int port;
        if (check.Port is { } fixedPort)
        {
            port = fixedPort;
        }
        else
        {
            var index = check.PortIndex ?? 0;
            if (index < 0 || index >= hostPorts.Count)
            {
                return Fail($"health check portIndex {index.ToString(CultureInfo.InvariantCulture)} does not address one of the instance's {hostPorts.Count.ToString(CultureInfo.InvariantCulture)} port(s)");
            }

            port = hostPorts[index];
        }

        if (port is < 1 or > 65535)
        {
            return Fail($"health check port {port.ToString(CultureInfo.InvariantCulture)} is not between 1 and 65535");
        }

        return check.Protocol switch
        {
            HealthCheckProtocols.Http or HealthCheckProtocols.MesosHttp => new(dto with
            {
                Type = HealthCheckTypes.Http,
                Http = new HttpCheckInfoDto { Scheme = "http", Port = port, Path = check.EffectivePath },
            }, null),
            HealthCheckProtocols.Https or HealthCheckProtocols.MesosHttps => new(dto with
            {
                Type = HealthCheckTypes.Http,
                Http = new HttpCheckInfoDto { Scheme = "https", Port = port, Path = check.EffectivePath },
            }, null),
            _ => new(dto with { Type = HealthCheckTypes.Tcp, Tcp = new TcpCheckInfoDto { Port = port } }, null),
        };
    }

    /// <summary>
    /// The consecutive failures an agent reported in a health update (from its message, see
    /// <see cref="HealthCheckMessages"/>); 0 for a healthy or non-health update.
    /// </summary>
    public static int ConsecutiveFailuresOf(TaskStatusDto status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return status.Healthy == false && HealthCheckMessages.TryParseConsecutiveFailures(status.Message, out var failures) ? failures : 0;
    }

    private static HealthCheckTranslationResult Fail(string problem) => new(null, problem);
}
