namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// The launch delay of one app after failed instances (Marathon <c>core/launchqueue/impl/RateLimiter.scala</c>).
/// Immutable value: every operation returns the new state, so it can be persisted and survives a scheduler restart.
/// </summary>
/// <remarks>
/// <para>
/// After the n-th consecutive failure the delay is <c>backoffSeconds × backoffFactor^(n−1)</c>, capped at
/// <c>maxLaunchDelaySeconds</c> (defaults 1 s, 1.15, 300 s). As in Marathon it is computed step by step
/// (<c>min(max, previous × factor)</c>, truncated to the clock's resolution), and no launch is allowed before
/// <c>last failure + delay</c>. Failures are what Marathon counts: <c>TASK_FAILED</c>, <c>TASK_FINISHED</c>, health-check
/// kills — not kills ordered by the scheduler.
/// </para>
/// <para>
/// Resets: <see cref="ForApp"/> with a changed app (any change: the service stamps every change with a new
/// version; Marathon keys delays by the last <i>configuration</i> change, so a pure scale keeps its delay there, and
/// additionally resets at the start of every rolling restart); <see cref="Reset"/> (<c>DELETE /v2/queue/{id}/delay</c>);
/// <see cref="RecordSuccess"/>; and, as Marathon's <c>cleanUpOverdueDelays</c>, a delay is forgotten once more than
/// <c>maxLaunchDelaySeconds</c> have passed since the last failure.
/// </para>
/// </remarks>
public sealed record LaunchBackoff
{
    /// <summary>Delay after the first failure (<c>backoffSeconds</c>).</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(AppDefaults.BackoffSeconds);

    /// <summary>Multiplier per further failure (<c>backoffFactor</c>, ≥ 1).</summary>
    public double Factor { get; init; } = AppDefaults.BackoffFactor;

    /// <summary>Upper bound of the delay (<c>maxLaunchDelaySeconds</c>).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(AppDefaults.MaxLaunchDelaySeconds);

    /// <summary>Version of the app definition this state belongs to (a different version resets it, see <see cref="ForApp"/>).</summary>
    public DateTimeOffset? AppVersion { get; init; }

    /// <summary>Consecutive failures counted (0 = no delay).</summary>
    public int Failures { get; init; }

    /// <summary>The delay after the last failure (zero without failures).</summary>
    public TimeSpan CurrentDelay { get; init; }

    /// <summary>When the last counted failure happened.</summary>
    public DateTimeOffset? LastFailureAt { get; init; }

    /// <summary>A state without failures using <paramref name="app"/>'s backoff settings.</summary>
    public static LaunchBackoff For(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return Create(app.BackoffSeconds, app.BackoffFactor, app.MaxLaunchDelaySeconds) with { AppVersion = app.Version };
    }

    /// <summary>A state without failures with the given settings.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is negative, or the factor is below 1 or not finite.</exception>
    public static LaunchBackoff Create(
        double backoffSeconds = AppDefaults.BackoffSeconds,
        double backoffFactor = AppDefaults.BackoffFactor,
        double maxLaunchDelaySeconds = AppDefaults.MaxLaunchDelaySeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(backoffSeconds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxLaunchDelaySeconds);
        if (!double.IsFinite(backoffFactor) || backoffFactor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(backoffFactor), backoffFactor, "backoffFactor must be a finite number ≥ 1");
        }

        return new LaunchBackoff
        {
            InitialDelay = TimeSpan.FromSeconds(backoffSeconds),
            Factor = backoffFactor,
            MaxDelay = TimeSpan.FromSeconds(maxLaunchDelaySeconds),
        };
    }

    /// <summary>
    /// The delay after <paramref name="failures"/> consecutive failures: zero for none, else
    /// <c>min(max, initial × factor^(failures−1))</c> computed step by step as Marathon does.
    /// </summary>
    public static TimeSpan DelayAfter(int failures, TimeSpan initial, double factor, TimeSpan max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(failures);
        var delay = TimeSpan.Zero;
        for (var i = 1; i <= failures; i++)
        {
            delay = Next(delay, i == 1, initial, factor, max);
            if (delay == max)
            {
                break;
            }
        }

        return delay;
    }

    /// <summary>True when the delay is forgotten: more than <see cref="MaxDelay"/> has passed since the last failure.</summary>
    public bool IsOverdue(DateTimeOffset now) => LastFailureAt is { } last && now > last + MaxDelay;

    /// <summary>The earliest time a new instance may be launched: <paramref name="now"/> when there is no pending delay.</summary>
    public DateTimeOffset NextLaunchAllowedAt(DateTimeOffset now)
    {
        if (Failures == 0 || LastFailureAt is not { } last || IsOverdue(now))
        {
            return now;
        }

        var deadline = last + CurrentDelay;
        return deadline > now ? deadline : now;
    }

    /// <summary>True when an instance may be launched at <paramref name="now"/>.</summary>
    public bool IsLaunchAllowed(DateTimeOffset now) => NextLaunchAllowedAt(now) <= now;

    /// <summary>How long launches must still wait at <paramref name="now"/> (zero when allowed).</summary>
    public TimeSpan RemainingDelay(DateTimeOffset now) => NextLaunchAllowedAt(now) - now;

    /// <summary>Counts a failed instance at <paramref name="at"/>: the delay grows by the factor (or starts at the initial delay).</summary>
    public LaunchBackoff RecordFailure(DateTimeOffset at)
    {
        var fresh = Failures == 0 || IsOverdue(at);
        return this with
        {
            Failures = fresh ? 1 : Failures + 1,
            CurrentDelay = Next(fresh ? TimeSpan.Zero : CurrentDelay, fresh, InitialDelay, Factor, MaxDelay),
            LastFailureAt = at,
        };
    }

    /// <summary>
    /// Clears the delay after an instance proved itself (DatacenterOs addition; Marathon only forgets delays once they
    /// are overdue). Call it when an instance has stayed healthy for a while — not merely on <c>TASK_RUNNING</c>, which
    /// would defeat the backoff of an app that crashes shortly after starting.
    /// </summary>
    public LaunchBackoff RecordSuccess() => Reset();

    /// <summary>Clears the delay (Marathon <c>resetDelay</c>, <c>DELETE /v2/queue/{id}/delay</c>).</summary>
    public LaunchBackoff Reset() => this with { Failures = 0, CurrentDelay = TimeSpan.Zero, LastFailureAt = null };

    /// <summary>
    /// This state for <paramref name="app"/>: unchanged when the app has the same version and backoff settings,
    /// otherwise a fresh state with the app's settings (any app change resets the delay).
    /// </summary>
    public LaunchBackoff ForApp(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var fresh = For(app);
        return fresh.AppVersion == AppVersion && fresh.InitialDelay == InitialDelay && fresh.Factor.Equals(Factor) && fresh.MaxDelay == MaxDelay
            ? this
            : fresh;
    }

    private static TimeSpan Next(TimeSpan previous, bool first, TimeSpan initial, double factor, TimeSpan max)
    {
        if (first)
        {
            return initial < max ? initial : max;
        }

        var grown = previous.Ticks * factor;
        return grown >= max.Ticks ? max : TimeSpan.FromTicks((long)grown);
    }
}
