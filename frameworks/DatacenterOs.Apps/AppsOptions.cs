namespace DatacenterOs.Apps;

/// <summary>Settings of the Apps framework.</summary>
public sealed record AppsOptions
{
    /// <summary>Framework name the master shows (<c>apps</c>).</summary>
    public string FrameworkName { get; init; } = "apps";

    /// <summary>Role the framework subscribes with (<c>*</c>).</summary>
    public string Role { get; init; } = "*";

    /// <summary>Unix user tasks run as by default.</summary>
    public string User { get; init; } = "root";

    /// <summary>Failover timeout: how long the master keeps the tasks while Apps is away (one week).</summary>
    public TimeSpan FailoverTimeout { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Filter sent with declined and accepted offers (5 s).</summary>
    public TimeSpan RefuseOffers { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait before re-subscribing after the event stream ends or a subscription fails.</summary>
    public TimeSpan ResubscribeDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After subscribing, how long to wait for the master's answers to the reconciliation of known instances before
    /// acting anyway (10 s). Unanswered instances are kept as they were.
    /// </summary>
    public TimeSpan ReconciliationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Health-check kills allowed across all apps per minute (10): a checker that sees everything fail at once (an
    /// overloaded host, a partition) replaces a few instances, not every app (Marathon issue #3317).
    /// </summary>
    public int HealthKillsPerMinute { get; init; } = 10;

    /// <summary>How long a killed instance may stay alive before its KILL is sent again (30 s).</summary>
    public TimeSpan KillRetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Framework id to re-subscribe with (e.g. loaded from storage); null registers a new framework.</summary>
    public string? FrameworkId { get; init; }

    /// <summary>Discovery settings: the URL given to instances, the generated HAProxy configuration, callbacks.</summary>
    public DiscoveryOptions Discovery { get; init; } = new();
}
