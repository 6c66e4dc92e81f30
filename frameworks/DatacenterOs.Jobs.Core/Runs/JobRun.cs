using System.Globalization;
using System.Text.Json.Serialization;

namespace DatacenterOs.Jobs.Core;

/// <summary>The state of one run attempt.</summary>
public enum JobRunState
{
    /// <summary>Created (persisted) but not launched yet; launched once the trigger lists it in <see cref="JobPlan.Start"/> and the shell has started a task.</summary>
    Pending,

    /// <summary>A task was launched for it.</summary>
    Running,

    /// <summary>Finished with exit code 0.</summary>
    Succeeded,

    /// <summary>Finished with a non-zero exit code or was lost; retried while attempts remain.</summary>
    Failed,

    /// <summary>Never launched; <see cref="JobRun.Reason"/> says why (missed deadline, FORBID, blocked parent, disabled…).</summary>
    Skipped,

    /// <summary>Killed (REPLACE, max run time, job deleted or by request); never retried.</summary>
    Killed,
}

/// <summary>What created a run.</summary>
public enum JobRunTrigger
{
    /// <summary>An occurrence of the job's schedule.</summary>
    Schedule,

    /// <summary>Its parents (a DAG run, or Chronos's dependency rule).</summary>
    Dependency,

    /// <summary>A manual run or a mark-success request.</summary>
    Manual,
}

/// <summary>
/// One attempt of one run of a job: the row a shell persists <em>before</em> launching anything, so that after a
/// restart <see cref="JobTrigger.Due(JobTriggerInput)"/> sees it and never creates it twice. The id is derived from the job, its DAG run
/// (root job + scheduled instant + trigger) and the attempt (<see cref="JobRunIds"/>), so re-evaluating the same
/// situation gives the same ids. Retries are new rows with the next <see cref="Attempt"/> and the same
/// <see cref="ScheduledFor"/> and <see cref="DagRunId"/>.
/// </summary>
public sealed record JobRun
{
    /// <summary>Deterministic id (<see cref="JobRunIds.RunId"/>), e.g. <c>nightly@20260101T000000Z#0</c> or <c>nightly@20260101T000000Z/report#1</c>.</summary>
    public required string RunId { get; init; }

    /// <summary>The job.</summary>
    public required string JobName { get; init; }

    /// <summary>The DAG run this attempt belongs to (<see cref="JobRunIds.DagRunId"/>); every run roots or belongs to one.</summary>
    public required string DagRunId { get; init; }

    /// <summary>The job whose run started the DAG run (this job itself for a root run).</summary>
    public required string RootJob { get; init; }

    /// <summary>
    /// The instant the run is for: the schedule occurrence (scheduled runs and every run of their DAG run), the request
    /// instant (manual runs), or the instant the last parent succeeded (Chronos-mode dependency runs).
    /// </summary>
    public required DateTimeOffset ScheduledFor { get; init; }

    /// <summary>0 for the first attempt, n for the n-th retry.</summary>
    public int Attempt { get; init; }

    /// <summary>What created the run.</summary>
    public JobRunTrigger Trigger { get; init; }

    /// <summary>Current state.</summary>
    public JobRunState State { get; init; }

    /// <summary>When the trigger created the row.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>Earliest start (a retry waits <c>retryDelaySeconds</c> after the failed attempt finished).</summary>
    public required DateTimeOffset NotBefore { get; init; }

    /// <summary>When the task was launched.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the run reached a terminal state, as recorded by the shell (its clock, not the agent's).</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Exit code of the task, when known.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Agent the task ran on.</summary>
    public string? AgentId { get; init; }

    /// <summary>Mesos task id of the attempt.</summary>
    public string? TaskId { get; init; }

    /// <summary>Why the run was skipped, killed or failed, for people.</summary>
    public string? Reason { get; init; }

    /// <summary>Arguments of a manual run (appended to the command, as Chronos's <c>PUT /job/{name}?arguments=</c>).</summary>
    public string? Arguments { get; init; }

    /// <summary>True for Succeeded, Failed, Skipped and Killed.</summary>
    [JsonIgnore]
    public bool IsTerminal => State is JobRunState.Succeeded or JobRunState.Failed or JobRunState.Skipped or JobRunState.Killed;

    /// <summary>This run launched: Running, with its task and agent.</summary>
    public JobRun Started(DateTimeOffset at, string? taskId = null, string? agentId = null) =>
        this with { State = JobRunState.Running, StartedAt = at, TaskId = taskId ?? TaskId, AgentId = agentId ?? AgentId };

    /// <summary>This run finished with <paramref name="exitCode"/>: Succeeded when 0, else Failed.</summary>
    public JobRun Finished(DateTimeOffset at, int exitCode, string? reason = null) =>
        this with
        {
            State = exitCode == 0 ? JobRunState.Succeeded : JobRunState.Failed,
            ExitCode = exitCode,
            FinishedAt = at,
            Reason = exitCode == 0 ? Reason : reason ?? $"exited with code {exitCode.ToString(CultureInfo.InvariantCulture)}",
        };

    /// <summary>This run failed without an exit code (e.g. the task was lost).</summary>
    public JobRun Failed(DateTimeOffset at, string reason) => this with { State = JobRunState.Failed, FinishedAt = at, Reason = reason };

    /// <summary>This run was killed.</summary>
    public JobRun Killed(DateTimeOffset at, string reason) => this with { State = JobRunState.Killed, FinishedAt = at, Reason = reason };

    /// <summary>This run was skipped.</summary>
    public JobRun Skipped(DateTimeOffset at, string reason) => this with { State = JobRunState.Skipped, FinishedAt = at, Reason = reason };
}

/// <summary>
/// Deterministic ids of DAG runs and runs. Job names cannot contain <c>@</c>, <c>/</c> or <c>#</c>
/// (<see cref="JobValidator.NamePattern"/>), so the ids are unambiguous.
/// </summary>
public static class JobRunIds
{
    /// <summary>
    /// The DAG run started by <paramref name="rootJob"/> at <paramref name="scheduledFor"/>: <c>root@20260101T000000Z</c>
    /// for a schedule occurrence, with <c>-manual</c> or <c>-dep</c> appended for manual and dependency-triggered roots.
    /// </summary>
    public static string DagRunId(string rootJob, DateTimeOffset scheduledFor, JobRunTrigger trigger)
    {
        ArgumentException.ThrowIfNullOrEmpty(rootJob);
        var suffix = trigger switch
        {
            JobRunTrigger.Manual => "-manual",
            JobRunTrigger.Dependency => "-dep",
            _ => string.Empty,
        };
        return $"{rootJob}@{Stamp(scheduledFor)}{suffix}";
    }

    /// <summary>The run of <paramref name="jobName"/> in <paramref name="dagRunId"/>: <c>{dagRunId}#{attempt}</c> for the root job, <c>{dagRunId}/{job}#{attempt}</c> for the others.</summary>
    public static string RunId(string dagRunId, string rootJob, string jobName, int attempt) =>
        jobName == rootJob
            ? $"{dagRunId}#{attempt.ToString(CultureInfo.InvariantCulture)}"
            : $"{dagRunId}/{jobName}#{attempt.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The UTC stamp used in ids: <c>yyyyMMddTHHmmssZ</c>, with <c>.fff</c> before the Z when there are milliseconds.</summary>
    public static string Stamp(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        var text = utc.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture);
        return utc.Millisecond == 0 ? text + "Z" : text + "." + utc.ToString("fff", CultureInfo.InvariantCulture) + "Z";
    }
}

/// <summary>Helpers a shell uses to create runs outside the schedule and to keep Chronos's status counters.</summary>
public static class JobRuns
{
    /// <summary>
    /// A manual run of <paramref name="job"/> requested at <paramref name="now"/> (Chronos <c>PUT /v1/scheduler/job/{name}</c>):
    /// a Pending root run of a new DAG run, so the job's DAG-mode descendants follow it. Persist it; the next
    /// <see cref="JobTrigger.Due(JobTriggerInput)"/> starts it (subject to the concurrency policy). Manual runs never consume a repetition.
    /// </summary>
    public static JobRun ManualRun(JobDefinition job, DateTimeOffset now, string? arguments = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        var dag = JobRunIds.DagRunId(job.Name, now, JobRunTrigger.Manual);
        return new JobRun
        {
            RunId = JobRunIds.RunId(dag, job.Name, job.Name, 0),
            JobName = job.Name,
            DagRunId = dag,
            RootJob = job.Name,
            ScheduledFor = now,
            Trigger = JobRunTrigger.Manual,
            State = JobRunState.Pending,
            CreatedAt = now,
            NotBefore = now,
            Arguments = string.IsNullOrEmpty(arguments) ? null : arguments.Replace(";", string.Empty, StringComparison.Ordinal),
        };
    }

    /// <summary>
    /// A run recorded as succeeded without running anything (Chronos <c>PUT /v1/scheduler/job/success/{name}</c>, issue
    /// #600): the root of a new DAG run, so the job's children run as if it had succeeded.
    /// </summary>
    public static JobRun MarkSucceeded(JobDefinition job, DateTimeOffset now)
    {
        var run = ManualRun(job, now);
        return run with { State = JobRunState.Succeeded, StartedAt = now, FinishedAt = now, ExitCode = 0, Reason = "marked successful" };
    }

    /// <summary>
    /// True when <paramref name="run"/> is the last word of its run: succeeded, skipped, killed, or failed with no
    /// attempts left (<c>attempt ≥ retries</c>).
    /// </summary>
    public static bool IsFinal(JobRun run, JobDefinition? job)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.State switch
        {
            JobRunState.Succeeded or JobRunState.Skipped or JobRunState.Killed => true,
            JobRunState.Failed => job is null || job.Disabled || run.Attempt >= job.Retries,
            _ => false,
        };
    }

    /// <summary>
    /// Chronos's status counters after <paramref name="run"/> ended (<c>JobScheduler.handleFinishedTask</c> /
    /// <c>handleFailedTask</c>): a success increments <c>successCount</c>, sets <c>lastSuccess</c> and clears
    /// <c>errorsSinceLastSuccess</c>; a final failure (no attempts left) increments <c>errorCount</c> and
    /// <c>errorsSinceLastSuccess</c> and sets <c>lastError</c>. Other states leave the job unchanged.
    /// </summary>
    public static JobDefinition ApplyOutcome(JobDefinition job, JobRun run)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(run);
        var at = run.FinishedAt is { } f ? Iso8601Schedule.FormatInstant(f.ToUniversalTime()) : string.Empty;
        return run.State switch
        {
            JobRunState.Succeeded => job with { SuccessCount = job.SuccessCount + 1, LastSuccess = at, ErrorsSinceLastSuccess = 0 },
            JobRunState.Failed when IsFinal(run, job) =>
                job with { ErrorCount = job.ErrorCount + 1, ErrorsSinceLastSuccess = job.ErrorsSinceLastSuccess + 1, LastError = at },
            _ => job,
        };
    }
}
