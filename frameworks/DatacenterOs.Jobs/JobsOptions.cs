using DatacenterOs.Jobs.Core;

namespace DatacenterOs.Jobs;

/// <summary>Settings of the Jobs framework.</summary>
public sealed record JobsOptions
{
    /// <summary>Framework name the master shows (<c>jobs</c>).</summary>
    public string FrameworkName { get; init; } = "jobs";

    /// <summary>Role the framework subscribes with (<c>*</c>).</summary>
    public string Role { get; init; } = "*";

    /// <summary>Unix user of the framework (tasks run as the job's <c>runAsUser</c>).</summary>
    public string User { get; init; } = "root";

    /// <summary>Failover timeout: how long the master keeps the tasks while Jobs is away (one week, as Chronos).</summary>
    public TimeSpan FailoverTimeout { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Filter sent with declined offers (5 s); REVIVE clears it when runs are waiting.</summary>
    public TimeSpan RefuseOffers { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wait before re-subscribing after the event stream ends or a subscription fails (wall clock).</summary>
    public TimeSpan ResubscribeDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After subscribing, how long to wait (wall clock) for the master's answers to the reconciliation of running runs
    /// before acting anyway (10 s). Unanswered runs stay Running; nothing is launched in their place.
    /// </summary>
    public TimeSpan ReconciliationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long before a timed wake-up (e.g. the next schedule occurrence) the service asks for offers (REVIVE) and
    /// holds the ones it gets instead of declining them, so runs launch as soon as they are due instead of waiting for
    /// an allocation cycle (2 s). Held offers are declined when the wake-up passes without using them. Zero disables.
    /// </summary>
    public TimeSpan OfferHoldWindow { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Settings of <see cref="JobTrigger"/> (default retry delay, default starting deadline, …).</summary>
    public JobTriggerOptions Trigger { get; init; } = JobTriggerOptions.Default;

    /// <summary>Defaults filled into jobs that ask for 0 cpus/mem/disk or name no user (Chronos's flags).</summary>
    public JobServerDefaults Defaults { get; init; } = JobServerDefaults.Chronos;

    /// <summary>
    /// Terminal runs kept in memory per job for the trigger (the newest ones; the full history, up to
    /// <see cref="JobsStore.MaxRunsPerJob"/>, stays in <c>jobs.db</c> and is what the API serves).
    /// </summary>
    public int RunsInMemoryPerJob { get; init; } = 10;

    /// <summary>
    /// Use durable Quartz triggers (AdoJobStore in <c>jobs.db</c>) for the wake-ups when a store is given (default);
    /// false, or no store, uses a timer on the service's <see cref="TimeProvider"/>.
    /// </summary>
    public bool UseQuartz { get; init; } = true;

    /// <summary>
    /// Fetch the tail of a finished run's <c>stdout</c> from its agent (<c>GET /files/read</c>) into the run history.
    /// Needs an agent with an HTTP address in its offers; failures are ignored.
    /// </summary>
    public bool FetchStdout { get; init; } = true;

    /// <summary>Bytes of <c>stdout</c> kept per run (the tail; 4 KiB).</summary>
    public int StdoutTailBytes { get; init; } = 4096;

    /// <summary>
    /// Extra Mesos labels for a job's tasks (null: none), e.g. the simulated agents'
    /// <c>DCOS_SIMULATED_DURATION</c> in tests and benchmarks. Called under the service's lock; must be fast and pure.
    /// </summary>
    public Func<JobDefinition, IReadOnlyDictionary<string, string>>? TaskLabels { get; init; }

    /// <summary>Framework id to re-subscribe with; null uses the one stored in <c>jobs.db</c> (or registers anew).</summary>
    public string? FrameworkId { get; init; }
}
