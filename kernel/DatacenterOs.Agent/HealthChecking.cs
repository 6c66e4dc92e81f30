using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent;

/// <summary>Outcome of one probe: healthy, or why not.</summary>
/// <param name="Healthy">True when the probe passed.</param>
/// <param name="Detail">Why it failed (empty when it passed).</param>
internal sealed record ProbeResult(bool Healthy, string Detail)
{
    public static ProbeResult Pass { get; } = new(true, "");

    public static ProbeResult Fail(string detail) => new(false, detail);
}

/// <summary>A health change to report: TASK_RUNNING with <c>healthy</c> set and this message.</summary>
/// <param name="Healthy">The new health.</param>
/// <param name="ConsecutiveFailures">Failures in a row (0 when healthy).</param>
/// <param name="Message">Status message (<see cref="HealthCheckMessages"/>).</param>
internal sealed record HealthVerdict(bool Healthy, int ConsecutiveFailures, string Message);

/// <summary>
/// The health of one task as its checker sees it, with Mesos's rules (<c>src/checks/health_checker.cpp</c>):
/// a failure while no check has succeeded yet and at most <c>grace_period_seconds</c> after launch is ignored; any other
/// failure counts. An update is due when the health changes (first result, healthy → unhealthy, unhealthy → healthy)
/// and, because the agent never kills, when the consecutive failures reach <c>consecutive_failures</c>, so the framework
/// learns the count that matters for its kill decision. Not thread-safe: the checker serializes calls.
/// </summary>
internal sealed class HealthCheckState
{
    public HealthCheckState(DateTimeOffset startedAt, TimeSpan gracePeriod, int failureThreshold)
    {
        StartedAt = startedAt;
        GracePeriod = gracePeriod;
        FailureThreshold = failureThreshold;
    }

    /// <summary>When the task was launched (start of the grace period).</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>How long failures are ignored after launch, until the first success.</summary>
    public TimeSpan GracePeriod { get; }

    /// <summary>Consecutive failures whose reaching is reported even without a health change (0 = never).</summary>
    public int FailureThreshold { get; }

    /// <summary>Health last reported; null before the first result.</summary>
    public bool? Healthy { get; private set; }

    /// <summary>Counted failures in a row.</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>True until a check succeeded (the grace period applies only then).</summary>
    public bool Initializing { get; private set; } = true;

    /// <summary>Failures ignored because of the grace period.</summary>
    public int IgnoredFailures { get; private set; }

    /// <summary>
    /// The state of a task whose checker restarts (agent recovery): health and failure count from the latest status
    /// reported for it. A task that already had a health result is past its initialization.
    /// </summary>
    public static HealthCheckState Restore(DateTimeOffset startedAt, TimeSpan gracePeriod, int failureThreshold, TaskStatusDto? latest)
    {
        var state = new HealthCheckState(startedAt, gracePeriod, failureThreshold);
        if (latest?.Healthy is { } healthy)
        {
            state.Healthy = healthy;
            state.Initializing = false;
            if (!healthy && HealthCheckMessages.TryParseConsecutiveFailures(latest.Message, out var failures))
            {
                state.ConsecutiveFailures = failures;
            }
        }

        return state;
    }

    /// <summary>A check passed; returns the update to send, or null.</summary>
    public HealthVerdict? Success()
    {
        ConsecutiveFailures = 0;
        Initializing = false;
        if (Healthy == true)
        {
            return null;
        }

        Healthy = true;
        return new HealthVerdict(true, 0, HealthCheckMessages.Passed);
    }

    /// <summary>A check failed at <paramref name="now"/> because of <paramref name="cause"/>; returns the update to send, or null.</summary>
    public HealthVerdict? Failure(DateTimeOffset now, string cause)
    {
        if (Initializing && GracePeriod > TimeSpan.Zero && now - StartedAt <= GracePeriod)
        {
            IgnoredFailures++;
            return null;
        }

        ConsecutiveFailures++;
        if (Healthy == false && ConsecutiveFailures != FailureThreshold)
        {
            return null;
        }

        Healthy = false;
        return new HealthVerdict(false, ConsecutiveFailures, HealthCheckMessages.Failed(ConsecutiveFailures, cause));
    }
}

/// <summary>The probes, all aimed at the task's own host (127.0.0.1), as Mesos's default executors do.</summary>
internal static class HealthProbes
{
    /// <summary>
    /// Wrapper for command checks (<c>/bin/sh -c WRAPPER health-check ARGV…</c>): output goes to
    /// <c>health_check.stdout</c>/<c>health_check.stderr</c> in the sandbox (overwritten by each check), no stdin.
    /// </summary>
    internal const string CommandWrapper = "exec </dev/null >health_check.stdout 2>health_check.stderr\n\"$@\"\n";

    /// <summary>
    /// A client for HTTP(S) checks: no proxy, no redirects followed (a 3xx is an answer, as with Mesos's curl), no cookies,
    /// certificates not verified (Mesos does not verify them either, MESOS-5997), no client-side timeout (each check
    /// carries its own).
    /// </summary>
    public static HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.Zero,
        };
#pragma warning disable CA5359 // health checks probe the task's own port on loopback; Mesos does not verify its certificate either
        handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
#pragma warning restore CA5359
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>GET scheme://127.0.0.1:port/path: healthy for a status in <c>statuses</c>, or 200..399 when none are given.</summary>
    public static async Task<ProbeResult> HttpAsync(HttpClient client, HttpCheckInfoDto http, CancellationToken cancellationToken)
    {
        var scheme = string.IsNullOrEmpty(http.Scheme) ? "http" : http.Scheme.ToLowerInvariant();
        var path = string.IsNullOrEmpty(http.Path) ? "/" : http.Path.StartsWith('/') ? http.Path : "/" + http.Path;
        var url = scheme + "://127.0.0.1:" + http.Port.ToString(CultureInfo.InvariantCulture) + path;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url));
            request.Headers.ConnectionClose = true;
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            var healthy = http.Statuses is { Count: > 0 } statuses ? statuses.Contains(code) : code is >= 200 and < 400;
            return healthy ? ProbeResult.Pass : ProbeResult.Fail($"HTTP GET {url} returned status {code.ToString(CultureInfo.InvariantCulture)}");
        }
        catch (HttpRequestException e)
        {
            return ProbeResult.Fail($"HTTP GET {url} failed: {e.Message}");
        }
        catch (UriFormatException e)
        {
            return ProbeResult.Fail($"bad health check URL {url}: {e.Message}");
        }
    }

    /// <summary>Connects to 127.0.0.1:port: healthy once connected.</summary>
    public static async Task<ProbeResult> TcpAsync(int port, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
            return ProbeResult.Pass;
        }
        catch (SocketException e)
        {
            return ProbeResult.Fail($"TCP connection to 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Runs <paramref name="argv"/> in <paramref name="sandbox"/> with <paramref name="environment"/>: healthy on exit
    /// status 0. When <paramref name="cancellationToken"/> fires (timeout) the command's process tree is killed.
    /// </summary>
    public static async Task<ProbeResult> CommandAsync(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> environment, string sandbox, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = sandbox };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(CommandWrapper);
        start.ArgumentList.Add("health-check");
        foreach (var arg in argv)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Clear();
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("the process did not start");
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            return ProbeResult.Fail("could not run the health check command: " + e.Message);
        }

        using (process)
        {
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is InvalidOperationException or Win32Exception)
                {
                }

                throw;
            }

            var status = process.ExitCode;
            if (status == 0)
            {
                return ProbeResult.Pass;
            }

            var detail = "command exited with status " + status.ToString(CultureInfo.InvariantCulture);
            return ProbeResult.Fail(LastLine(Path.Combine(sandbox, "health_check.stderr")) is { } line ? detail + " (" + line + ")" : detail);
        }
    }

    private static string? LastLine(string file)
    {
        try
        {
            var line = File.Exists(file) ? File.ReadLines(file).LastOrDefault(l => l.Trim().Length > 0)?.Trim() : null;
            return line is { Length: > 200 } ? line[..200] + "…" : line;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}

/// <summary>
/// Runs one task's health check near the task: the first check <c>delay_seconds</c> after launch (at once for 0), the
/// next <c>interval_seconds</c> after the previous one finished or timed out, each bounded by <c>timeout_seconds</c>.
/// Results go through <see cref="HealthCheckState"/>; due updates are handed to the report callback. Timers come from
/// the injected <see cref="TimeProvider"/>; probes run on the thread pool, never on the caller's thread. It never kills
/// the task. Stopped by <see cref="Dispose"/> (task ended, kill requested, agent stopping).
/// </summary>
internal sealed partial class TaskHealthChecker : IDisposable
{
    /// <summary>Shortest interval between checks, so that <c>interval_seconds: 0</c> cannot spin.</summary>
    internal static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _taskId;
    private readonly HealthCheckDto _check;
    private readonly Func<CancellationToken, Task<ProbeResult>> _probe;
    private readonly Func<HealthVerdict, bool> _report;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private ITimer? _timer;
    private bool _stopped;
    private int _checks;

    public TaskHealthChecker(
        string taskId,
        HealthCheckDto check,
        HealthCheckState state,
        Func<CancellationToken, Task<ProbeResult>> probe,
        Func<HealthVerdict, bool> report,
        TimeProvider timeProvider,
        ILogger? logger = null)
    {
        _taskId = taskId;
        _check = check;
        State = state;
        _probe = probe;
        _report = report;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The health state (read it only for diagnostics: the checker mutates it).</summary>
    public HealthCheckState State { get; }

    /// <summary>Checks completed (result evaluated and any update handed to the report callback).</summary>
    public int ChecksCompleted => Volatile.Read(ref _checks);

    /// <summary>True once stopped.</summary>
    public bool IsStopped
    {
        get
        {
            lock (_lock)
            {
                return _stopped;
            }
        }
    }

    /// <summary>
    /// Why a health check cannot run, or null when it is valid: a known type with its matching probe (port 1..65535,
    /// a command with a value), and non-negative, finite durations and failure count (Mesos
    /// <c>validateHealthCheck</c>). A missing type is inferred when exactly one probe is given.
    /// </summary>
    public static string? Problem(HealthCheckDto check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (TypeOf(check) is not { } type)
        {
            return check.Type is null
                ? "'type' is missing and cannot be inferred (give exactly one of 'http', 'tcp', 'command')"
                : $"unknown type '{check.Type}' (expected COMMAND, HTTP or TCP)";
        }

        foreach (var (name, value) in new[]
        {
            ("delay_seconds", check.DelaySeconds), ("interval_seconds", check.IntervalSeconds),
            ("timeout_seconds", check.TimeoutSeconds), ("grace_period_seconds", check.GracePeriodSeconds),
        })
        {
            if (!double.IsFinite(value) || value < 0 || value > TimeSpan.FromDays(365).TotalSeconds)
            {
                return $"'{name}' must be a number of seconds between 0 and one year";
            }
        }

        if (check.ConsecutiveFailures < 0)
        {
            return "'consecutive_failures' must not be negative";
        }

        return type switch
        {
            HealthCheckTypes.Http when check.Http is null => "an HTTP check needs 'http'",
            HealthCheckTypes.Http when check.Http.Port is < 1 or > 65535 => "'http.port' must be between 1 and 65535",
            HealthCheckTypes.Http when check.Http.Scheme is { Length: > 0 } s && !s.Equals("http", StringComparison.OrdinalIgnoreCase) && !s.Equals("https", StringComparison.OrdinalIgnoreCase)
                => $"'http.scheme' must be http or https, not '{s}'",
            HealthCheckTypes.Tcp when check.Tcp is null => "a TCP check needs 'tcp'",
            HealthCheckTypes.Tcp when check.Tcp.Port is < 1 or > 65535 => "'tcp.port' must be between 1 and 65535",
            HealthCheckTypes.Command when ProcessContainerizer.CommandLine(check.Command) is null => "a COMMAND check needs 'command.value'",
            _ => null,
        };
    }

    /// <summary>The check's type: <c>type</c> when known, else inferred from the one probe given; null when neither works.</summary>
    internal static string? TypeOf(HealthCheckDto check)
    {
        if (check.Type is { } type)
        {
            return type is HealthCheckTypes.Http or HealthCheckTypes.Tcp or HealthCheckTypes.Command ? type : null;
        }

        var given = (check.Http is null ? 0 : 1) + (check.Tcp is null ? 0 : 1) + (check.Command is null ? 0 : 1);
        return given != 1 ? null : check.Http is not null ? HealthCheckTypes.Http : check.Tcp is not null ? HealthCheckTypes.Tcp : HealthCheckTypes.Command;
    }

    /// <summary>Starts checking: the first check after <paramref name="firstDelay"/> (at once when zero or negative).</summary>
    public void Start(TimeSpan firstDelay)
    {
        lock (_lock)
        {
            if (_stopped || _timer is not null)
            {
                return;
            }

            _timer = _time.CreateTimer(static s => ((TaskHealthChecker)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (firstDelay > TimeSpan.Zero)
            {
                _timer.Change(firstDelay, Timeout.InfiniteTimeSpan);
                return;
            }
        }

        Fire();
    }

    /// <summary>Stops checking; a check in flight is cancelled and its result dropped.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            _timer?.Dispose();
            _timer = null;
            _stop.Cancel();
        }
    }

    private void Fire() => _ = Task.Run(RunOnceAsync);

    private async Task RunOnceAsync()
    {
        CancellationToken stopping;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            stopping = _stop.Token;
        }

        var timeout = TimeSpan.FromSeconds(_check.TimeoutSeconds);
        ProbeResult result;
        using (var deadline = timeout > TimeSpan.Zero ? new CancellationTokenSource(timeout, _time) : new CancellationTokenSource())
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, deadline.Token))
        {
            try
            {
                result = await _probe(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                result = ProbeResult.Fail($"timed out after {_check.TimeoutSeconds.ToString(CultureInfo.InvariantCulture)} s");
            }
#pragma warning disable CA1031 // a probe that throws is a failed check, never a crashed checker
            catch (Exception e)
#pragma warning restore CA1031
            {
                result = ProbeResult.Fail(e.Message);
            }
        }

        HealthVerdict? verdict;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            verdict = result.Healthy ? State.Success() : State.Failure(_time.GetUtcNow(), result.Detail);
        }

        if (!result.Healthy)
        {
            LogFailed(_taskId, State.ConsecutiveFailures, result.Detail);
        }

        if (verdict is not null)
        {
            try
            {
                if (!_report(verdict))
                {
                    LogNotReported(_taskId, verdict.Healthy);
                }
            }
#pragma warning disable CA1031 // reporting races with the agent stopping; the next check reports again
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogReportFailed(_taskId, e.Message);
            }
        }

        Interlocked.Increment(ref _checks);
        lock (_lock)
        {
            if (!_stopped)
            {
                var interval = TimeSpan.FromSeconds(_check.IntervalSeconds);
                _timer?.Change(interval < MinimumInterval ? MinimumInterval : interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Health check of task {TaskId} failed ({ConsecutiveFailures} counted in a row): {Detail}")]
    private partial void LogFailed(string taskId, int consecutiveFailures, string detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Health update of task {TaskId} (healthy {Healthy}) not reported: the task is no longer running")]
    private partial void LogNotReported(string taskId, bool healthy);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reporting the health of task {TaskId} failed: {Error}")]
    private partial void LogReportFailed(string taskId, string error);
}
