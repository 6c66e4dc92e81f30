using System.Collections.Immutable;
using System.Globalization;

namespace DatacenterOs.Apps.Core.Health;

/// <summary>
/// The health of one instance as the agent last reported it (TASK_RUNNING updates with <c>healthy</c> set, see Mesos
/// <c>docs/health-checks.md</c>), plus what the kill policy needs to know about the instance.
/// </summary>
public sealed record InstanceHealth
{
    /// <summary>The instance id (unique per app).</summary>
    public required string InstanceId { get; init; }

    /// <summary>
    /// The agent-reported health: true healthy, false unhealthy, null not known yet (no result, or not reconciled after
    /// a scheduler restart). Only false makes an instance a kill candidate.
    /// </summary>
    public bool? Healthy { get; init; }

    /// <summary>Health-check failures in a row as last reported (0 when healthy or unknown).</summary>
    public int ConsecutiveFailures { get; init; }

    /// <summary>When the instance's task was launched on its agent: the start of its grace period.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>
    /// True while the task is running and its agent reachable. Instances that are staging, unreachable or already
    /// terminal are never killed for health (Marathon does not kill unreachable instances either).
    /// </summary>
    public bool Running { get; init; } = true;

    /// <summary>True when a kill was already ordered (for any reason); such an instance is not killed again.</summary>
    public bool KillRequested { get; init; }
}

/// <summary>An app whose instances the policy looks at: its health check settings and its instances' health.</summary>
public sealed record AppHealth
{
    /// <summary>The app id, e.g. <c>/prod/web</c>.</summary>
    public required string AppId { get; init; }

    /// <summary>
    /// The app's health check (Marathon <c>healthChecks[0]</c>): <see cref="HealthCheck.MaxConsecutiveFailures"/>
    /// (0 = never kill), <see cref="HealthCheck.GracePeriodSeconds"/> and <see cref="HealthCheck.IntervalSeconds"/>
    /// (the per-app spacing between health kills) are used.
    /// </summary>
    public required HealthCheck HealthCheck { get; init; }

    /// <summary>The app's instances with their health.</summary>
    public IReadOnlyList<InstanceHealth> Instances { get; init; } = [];
}

/// <summary>A health kill that was ordered (the history the rate limits are computed from).</summary>
/// <param name="AppId">App of the killed instance.</param>
/// <param name="InstanceId">The killed instance.</param>
/// <param name="At">When the kill was ordered.</param>
public sealed record HealthKillRecord(string AppId, string InstanceId, DateTimeOffset At);

/// <summary>What the policy decided for one unhealthy instance.</summary>
public enum HealthKillAction
{
    /// <summary>Not to be killed for health (not enough failures, never-kill setting, not running, kill already ordered).</summary>
    Keep,

    /// <summary>Kill it now.</summary>
    Kill,

    /// <summary>Killable, but not now (grace period, rate limit, circuit breaker); see <see cref="HealthKillVerdict.NotBefore"/>.</summary>
    Defer,
}

/// <summary>The verdict for one instance reported unhealthy.</summary>
/// <param name="AppId">The app.</param>
/// <param name="InstanceId">The instance.</param>
/// <param name="Action">Keep, kill or defer.</param>
/// <param name="Reason">Readable reason, for logs, events (<c>unhealthy_instance_kill_event.reason</c>) and the UI.</param>
/// <param name="NotBefore">For a deferral with a known end: the earliest instant the instance may be killed; null otherwise.</param>
public sealed record HealthKillVerdict(string AppId, string InstanceId, HealthKillAction Action, string Reason, DateTimeOffset? NotBefore);

/// <summary>The outcome of <see cref="HealthKillPolicy.Decide"/>.</summary>
/// <param name="Verdicts">One verdict per instance reported unhealthy, kills first in kill order, then by app and instance id.</param>
/// <param name="NextEvaluation">
/// The earliest instant a deferred instance may become killable without any new status update (end of a grace period
/// or of a rate-limit window); null when no deferral ends by time alone. The caller evaluates again then, and on every
/// health update.
/// </param>
public sealed record HealthKillDecision(ImmutableArray<HealthKillVerdict> Verdicts, DateTimeOffset? NextEvaluation)
{
    /// <summary>The instances to kill now.</summary>
    public ImmutableArray<HealthKillVerdict> Kills => [.. Verdicts.Where(v => v.Action == HealthKillAction.Kill)];
}

/// <summary>Limits of <see cref="HealthKillPolicy"/>; the defaults suit a cluster of a few hundred instances.</summary>
public sealed record HealthKillOptions
{
    /// <summary>At most this many health kills over all apps within <see cref="GlobalWindow"/>; default 10.</summary>
    public int GlobalKillLimit { get; init; } = 10;

    /// <summary>The sliding window of <see cref="GlobalKillLimit"/>; default 1 minute.</summary>
    public TimeSpan GlobalWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Lower bound of the spacing between two health kills of one app, which is otherwise the app's
    /// <c>intervalSeconds</c>; default 0 (the interval alone).
    /// </summary>
    public TimeSpan MinimumAppKillSpacing { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Circuit breaker: when at least this fraction of all running, health-checked instances is reported unhealthy,
    /// no instance is killed for health (the failure is probably not in the instances). Default 0.5; null disables.
    /// </summary>
    public double? MassFailureFraction { get; init; } = 0.5;

    /// <summary>The circuit breaker only applies with at least this many running, health-checked instances; default 10.</summary>
    public int MassFailureMinimumInstances { get; init; } = 10;
}

/// <summary>
/// Decides which unhealthy instances to kill, and when. Pure: a function of the apps' reported health, the history of
/// health kills and <c>now</c>; the caller applies the kills, appends them to the history and calls again on every
/// health update and at <see cref="HealthKillDecision.NextEvaluation"/>.
/// </summary>
/// <remarks>
/// <para>
/// Why: with Marathon-level checks an overloaded or partitioned scheduler saw healthy tasks as unhealthy and killed
/// many services at once (Marathon issues #3317 "Marathon can kill lots of services at once if its host gets
/// overloaded", #2874, #3942). Here checks run on the agents next to the tasks (Mesos <c>docs/health-checks.md</c>),
/// which removes the overloaded checker, and the kill decision is rate-limited so that a systemic failure (network,
/// shared dependency) cannot take a whole app or cluster down at once.
/// </para>
/// <para>An instance reported unhealthy is <b>killable</b> when all of these hold (Marathon <c>docs/health-checks.md</c>):</para>
/// <list type="number">
/// <item>the app's <c>maxConsecutiveFailures</c> is not 0 (0 = never kill);</item>
/// <item>it is running (not staging, not unreachable) and no kill was ordered yet;</item>
/// <item>its consecutive failures are at least <c>maxConsecutiveFailures</c> (Marathon effectively kills one failure
/// later, a quirk we do not copy);</item>
/// <item>it is past its grace period: <c>now ≥ startedAt + gracePeriodSeconds</c>. Marathon also kills inside the
/// grace period after a first success; we always wait for the end of the grace period (fewer, later kills).</item>
/// </list>
/// <para>Killable instances are then <b>rate-limited</b>; those over a limit are deferred, not dropped:</para>
/// <list type="number">
/// <item>circuit breaker: no kill at all while at least <see cref="HealthKillOptions.MassFailureFraction"/> of the
/// running, health-checked instances (at least <see cref="HealthKillOptions.MassFailureMinimumInstances"/>) are
/// unhealthy — a mass failure points to a shared cause that kills do not fix;</item>
/// <item>per app: one health kill per <c>intervalSeconds</c> (at least <see cref="HealthKillOptions.MinimumAppKillSpacing"/>)
/// since the app's last one — time for the replacement to start and for a shared cause to show;</item>
/// <item>global: at most <see cref="HealthKillOptions.GlobalKillLimit"/> health kills per
/// <see cref="HealthKillOptions.GlobalWindow"/> over all apps (a sliding window over the history).</item>
/// </list>
/// <para>
/// Kill order among killable instances: most consecutive failures first, then earliest started, then app id and
/// instance id (ordinal), so the result never depends on input order.
/// </para>
/// </remarks>
public static class HealthKillPolicy
{
    /// <summary>Decides the health kills at <paramref name="now"/>.</summary>
    /// <param name="apps">Apps with a health check and their instances' health.</param>
    /// <param name="history">Health kills ordered earlier (at least those within the global window and each app's last one).</param>
    /// <param name="now">The current instant.</param>
    /// <param name="options">Limits; default <see cref="HealthKillOptions"/>'s defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A limit is negative, or the fraction is not in (0, 1].</exception>
    public static HealthKillDecision Decide(
        IReadOnlyList<AppHealth> apps,
        IReadOnlyList<HealthKillRecord> history,
        DateTimeOffset now,
        HealthKillOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(apps);
        ArgumentNullException.ThrowIfNull(history);
        options ??= new HealthKillOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.GlobalKillLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.GlobalWindow, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MinimumAppKillSpacing, TimeSpan.Zero);
        if (options.MassFailureFraction is { } f && (!double.IsFinite(f) || f <= 0 || f > 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), f, "MassFailureFraction must be in (0, 1]");
        }

        var verdicts = new List<HealthKillVerdict>();
        var killable = new List<(AppHealth App, InstanceHealth Instance)>();
        foreach (var app in apps)
        {
            var check = app.HealthCheck;
            foreach (var instance in app.Instances.Where(i => i.Healthy == false))
            {
                var keep = KeepReason(check, instance);
                if (keep is not null)
                {
                    verdicts.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Keep, keep, null));
                    continue;
                }

                var graceEnd = instance.StartedAt + TimeSpan.FromSeconds(check.GracePeriodSeconds);
                if (now < graceEnd)
                {
                    verdicts.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Defer,
                        $"in its grace period of {Seconds(check.GracePeriodSeconds)} s until {Instant(graceEnd)}", graceEnd));
                    continue;
                }

                killable.Add((app, instance));
            }
        }

        killable.Sort(static (a, b) =>
        {
            var byFailures = b.Instance.ConsecutiveFailures.CompareTo(a.Instance.ConsecutiveFailures);
            if (byFailures != 0)
            {
                return byFailures;
            }

            var byStart = a.Instance.StartedAt.CompareTo(b.Instance.StartedAt);
            if (byStart != 0)
            {
                return byStart;
            }

            var byApp = string.CompareOrdinal(a.App.AppId, b.App.AppId);
            return byApp != 0 ? byApp : string.CompareOrdinal(a.Instance.InstanceId, b.Instance.InstanceId);
        });

        var breaker = BreakerReason(apps, options);
        var windowStart = now - options.GlobalWindow;
        var recentKills = history.Where(k => k.At > windowStart && k.At <= now).Select(k => k.At).ToList();
        var lastKillOfApp = history
            .Where(k => k.At <= now)
            .GroupBy(k => k.AppId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Max(k => k.At), StringComparer.Ordinal);
        var kills = new List<HealthKillVerdict>();
        foreach (var (app, instance) in killable)
        {
            var failures = instance.ConsecutiveFailures;
            if (breaker is not null)
            {
                verdicts.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Defer, breaker, null));
                continue;
            }

            var spacing = TimeSpan.FromSeconds(Math.Max(0, app.HealthCheck.IntervalSeconds));
            if (spacing < options.MinimumAppKillSpacing)
            {
                spacing = options.MinimumAppKillSpacing;
            }

            if (lastKillOfApp.TryGetValue(app.AppId, out var last) && now < last + spacing)
            {
                verdicts.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Defer,
                    $"app rate limit: one health kill per {Seconds(spacing.TotalSeconds)} s, the last at {Instant(last)}", last + spacing));
                continue;
            }

            if (recentKills.Count >= options.GlobalKillLimit)
            {
                // The slot frees up when the oldest kill counted leaves the window.
                recentKills.Sort();
                DateTimeOffset? freed = options.GlobalKillLimit == 0 ? null : recentKills[recentKills.Count - options.GlobalKillLimit] + options.GlobalWindow;
                verdicts.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Defer,
                    $"global rate limit: at most {options.GlobalKillLimit.ToString(CultureInfo.InvariantCulture)} health kills per {Seconds(options.GlobalWindow.TotalSeconds)} s",
                    freed is { } at && at > now ? at : null));
                continue;
            }

            kills.Add(new(app.AppId, instance.InstanceId, HealthKillAction.Kill,
                $"unhealthy: {failures.ToString(CultureInfo.InvariantCulture)} consecutive health check failures (maxConsecutiveFailures {app.HealthCheck.MaxConsecutiveFailures.ToString(CultureInfo.InvariantCulture)})",
                null));
            recentKills.Add(now);
            lastKillOfApp[app.AppId] = now;
        }

        var ordered = kills
            .Concat(verdicts
                .OrderBy(v => v.AppId, StringComparer.Ordinal)
                .ThenBy(v => v.InstanceId, StringComparer.Ordinal))
            .ToImmutableArray();
        var next = ordered.Where(v => v.Action == HealthKillAction.Defer).Min(v => v.NotBefore);
        return new HealthKillDecision(ordered, next);
    }

    private static string? KeepReason(HealthCheck check, InstanceHealth instance)
    {
        if (check.MaxConsecutiveFailures <= 0)
        {
            return "maxConsecutiveFailures is 0: never killed for health";
        }

        if (!instance.Running)
        {
            return "not running (staging or unreachable)";
        }

        if (instance.KillRequested)
        {
            return "a kill was already ordered";
        }

        return instance.ConsecutiveFailures < check.MaxConsecutiveFailures
            ? $"{instance.ConsecutiveFailures.ToString(CultureInfo.InvariantCulture)} of {check.MaxConsecutiveFailures.ToString(CultureInfo.InvariantCulture)} consecutive failures"
            : null;
    }

    private static string? BreakerReason(IReadOnlyList<AppHealth> apps, HealthKillOptions options)
    {
        if (options.MassFailureFraction is not { } fraction)
        {
            return null;
        }

        var checkedInstances = apps.SelectMany(a => a.Instances).Where(i => i.Running).ToList();
        var unhealthy = checkedInstances.Count(i => i.Healthy == false);
        if (checkedInstances.Count < options.MassFailureMinimumInstances || unhealthy < fraction * checkedInstances.Count)
        {
            return null;
        }

        return $"circuit breaker: {unhealthy.ToString(CultureInfo.InvariantCulture)} of {checkedInstances.Count.ToString(CultureInfo.InvariantCulture)} running health-checked instances are unhealthy, a shared cause is likely; no health kills until fewer than {(fraction * 100).ToString("0.#", CultureInfo.InvariantCulture)} % are";
    }

    private static string Seconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
