using System.Collections.Immutable;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// Where the trigger left a job: the instant up to which it has been evaluated and what it was evaluated against
/// (<see cref="Basis"/>: the schedule and zone, or the parents of a Chronos-mode job). When the basis changes (a new
/// schedule, a switch between scheduled and dependent) the cursor no longer applies and the job is treated as new.
/// </summary>
/// <param name="At">Schedule occurrences (or parent successes) at or before this instant have been handled.</param>
/// <param name="Basis">What the cursor was computed for.</param>
public sealed record JobCursor(DateTimeOffset At, string Basis);

/// <summary>Settings of <see cref="JobTrigger"/>.</summary>
public sealed record JobTriggerOptions
{
    /// <summary>The defaults.</summary>
    public static JobTriggerOptions Default { get; } = new();

    /// <summary>
    /// Missed-run window for jobs without <see cref="JobDefinition.StartingDeadlineSeconds"/>, seconds; null (default)
    /// means unbounded: the latest missed occurrence always runs once, as in Chronos 3 ("never skip a job").
    /// </summary>
    public long? DefaultStartingDeadlineSeconds { get; init; }

    /// <summary>Delay before a retry for jobs without <see cref="JobDefinition.RetryDelaySeconds"/>, seconds (Chronos <c>--failure_retry</c>: 60).</summary>
    public long DefaultRetryDelaySeconds { get; init; } = JobDefaults.RetryDelaySeconds;

    /// <summary>
    /// At most this many skipped rows are created per job and evaluation for occurrences missed while the scheduler was
    /// down (the latest ones); the rest are reported in <see cref="JobPlan.Notes"/> only, so a long outage of a
    /// minutely job cannot flood the run history.
    /// </summary>
    public int MaxMissedRunsRecorded { get; init; } = 100;

    /// <summary>Upper bound of schedule occurrences examined per job and evaluation (guards against pathological outages).</summary>
    public int MaxOccurrencesScanned { get; init; } = 1_000_000;
}

/// <summary>Everything <see cref="JobTrigger.Due(JobTriggerInput)"/> decides from: a snapshot of the persisted state plus the current instant.</summary>
public sealed record JobTriggerInput
{
    /// <summary>The jobs.</summary>
    public required JobGraph Graph { get; init; }

    /// <summary>
    /// The persisted runs: at least every non-terminal run, every run of a DAG run that is not finished, and the latest
    /// runs of each job (the trigger reads parents' last outcomes). Duplicated ids: the last one wins.
    /// </summary>
    public IReadOnlyCollection<JobRun> Runs { get; init; } = [];

    /// <summary>The persisted cursors by job name (from earlier plans' <see cref="JobPlan.CursorUpdates"/>).</summary>
    public IReadOnlyDictionary<string, JobCursor> Cursors { get; init; } = ImmutableDictionary<string, JobCursor>.Empty;

    /// <summary>
    /// <see cref="JobPlan.EvaluatedAt"/> of the last plan the shell persisted, null before the first. Runs that finished
    /// at or before it have already been followed up (retries, children), so finished DAG runs are not re-opened when
    /// the graph changes. The shell therefore records <see cref="JobRun.FinishedAt"/> with the clock that gives
    /// <see cref="Now"/>, and strictly after the last evaluation that did not see the outcome (e.g.
    /// <c>max(clock, LastEvaluated + 1 tick)</c>).
    /// </summary>
    public DateTimeOffset? LastEvaluated { get; init; }

    /// <summary>The current instant (from the shell's <see cref="TimeProvider"/>).</summary>
    public required DateTimeOffset Now { get; init; }

    /// <summary>Settings.</summary>
    public JobTriggerOptions Options { get; init; } = JobTriggerOptions.Default;
}

/// <summary>A request to kill a running run.</summary>
/// <param name="Run">The run (Running).</param>
/// <param name="Reason">Why: REPLACE, max run time exceeded, job deleted.</param>
public sealed record RunKill(JobRun Run, string Reason);

/// <summary>Something a person should know about a job that is not a run: an unusable schedule, unrecorded missed runs.</summary>
/// <param name="JobName">The job.</param>
/// <param name="Message">What.</param>
public sealed record JobPlanNote(string JobName, string Message);

/// <summary>
/// What <see cref="JobTrigger.Due(JobTriggerInput)"/> decided. Apply it in this order: persist <see cref="NewRuns"/>,
/// <see cref="UpdatedRuns"/>, the cursor changes and <see cref="EvaluatedAt"/> (as the next
/// <see cref="JobTriggerInput.LastEvaluated"/>) in one transaction; then launch <see cref="Start"/> (marking each run
/// Running) and send <see cref="Kill"/>; then wait until <see cref="NextWakeUp"/> or an event (a run ended, a job or
/// manual run was added). Kills are requests and may be repeated by later plans until the run is recorded as killed.
/// </summary>
public sealed class JobPlan
{
    internal JobPlan(
        DateTimeOffset evaluatedAt,
        IReadOnlyList<JobRun> newRuns,
        IReadOnlyList<JobRun> updatedRuns,
        IReadOnlyList<JobRun> start,
        IReadOnlyList<RunKill> kill,
        IReadOnlyDictionary<string, JobCursor> cursorUpdates,
        IReadOnlyList<string> cursorRemovals,
        DateTimeOffset? nextWakeUp,
        IReadOnlyList<JobPlanNote> notes)
    {
        EvaluatedAt = evaluatedAt;
        NewRuns = newRuns;
        UpdatedRuns = updatedRuns;
        Start = start;
        Kill = kill;
        CursorUpdates = cursorUpdates;
        CursorRemovals = cursorRemovals;
        NextWakeUp = nextWakeUp;
        Notes = notes;
    }

    /// <summary>The instant the plan was made for (<see cref="JobTriggerInput.Now"/>).</summary>
    public DateTimeOffset EvaluatedAt { get; }

    /// <summary>New rows to persist (Pending, or already Skipped with a reason).</summary>
    public IReadOnlyList<JobRun> NewRuns { get; }

    /// <summary>Existing rows whose state changed (Pending runs that are now Skipped).</summary>
    public IReadOnlyList<JobRun> UpdatedRuns { get; }

    /// <summary>Pending runs to launch now, in launch order (high-priority jobs first, then by due time).</summary>
    public IReadOnlyList<JobRun> Start { get; }

    /// <summary>Running runs to kill.</summary>
    public IReadOnlyList<RunKill> Kill { get; }

    /// <summary>Cursors to store (upsert by job name).</summary>
    public IReadOnlyDictionary<string, JobCursor> CursorUpdates { get; }

    /// <summary>Cursors to delete (jobs that no longer exist or no longer need one).</summary>
    public IReadOnlyList<string> CursorRemovals { get; }

    /// <summary>When to evaluate again at the latest (next occurrence, retry, deadline or run-time limit), or null when nothing is timed.</summary>
    public DateTimeOffset? NextWakeUp { get; }

    /// <summary>Notes for people.</summary>
    public IReadOnlyList<JobPlanNote> Notes { get; }

    /// <summary>Every run the plan marks skipped (new or updated).</summary>
    public IEnumerable<JobRun> Skipped => NewRuns.Concat(UpdatedRuns).Where(r => r.State == JobRunState.Skipped);

    /// <summary>True when the plan changes nothing (no runs, kills or cursor changes).</summary>
    public bool IsEmpty =>
        NewRuns.Count == 0 && UpdatedRuns.Count == 0 && Start.Count == 0 && Kill.Count == 0 && CursorUpdates.Count == 0 && CursorRemovals.Count == 0;
}
