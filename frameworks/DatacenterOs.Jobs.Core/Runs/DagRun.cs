using System.Globalization;

namespace DatacenterOs.Jobs.Core;

/// <summary>Where a DAG run stands, as recorded in its runs.</summary>
public enum DagRunState
{
    /// <summary>Some run in it is pending, running or waiting for a retry.</summary>
    Running,

    /// <summary>Every recorded run ended well (succeeded, or failed with <c>softError</c>).</summary>
    Succeeded,

    /// <summary>Some run failed, was killed or was skipped because of a parent.</summary>
    Failed,

    /// <summary>The root run itself was skipped (missed deadline, FORBID…), so nothing ran.</summary>
    Skipped,
}

/// <summary>
/// A read-only view of one DAG run: the runs that share a <see cref="JobRun.DagRunId"/>, for APIs and the UI. DAG runs
/// are not stored separately; they are derived from the run rows.
/// </summary>
/// <param name="Id">The DAG run id.</param>
/// <param name="RootJob">The job whose run started it.</param>
/// <param name="ScheduledFor">Its instant.</param>
/// <param name="Trigger">What started the root run.</param>
/// <param name="State">Overall state.</param>
/// <param name="Runs">The latest attempt of each job in it, in topological order.</param>
/// <param name="NotReached">Jobs of its scope (in the current graph) without a run yet: waiting for parents, or added after it finished.</param>
public sealed record DagRun(
    string Id,
    string RootJob,
    DateTimeOffset ScheduledFor,
    JobRunTrigger Trigger,
    DagRunState State,
    IReadOnlyList<JobRun> Runs,
    IReadOnlyList<string> NotReached)
{
    /// <summary>The DAG runs found in <paramref name="runs"/>, newest first.</summary>
    public static IReadOnlyList<DagRun> From(JobGraph graph, IEnumerable<JobRun> runs)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(runs);
        return runs
            .GroupBy(r => r.DagRunId, StringComparer.Ordinal)
            .Select(g => Summarize(graph, g.Key, [.. g]))
            .OrderByDescending(d => d.ScheduledFor)
            .ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
    }

    private static DagRun Summarize(JobGraph graph, string id, List<JobRun> runs)
    {
        var latest = runs
            .GroupBy(r => r.JobName, StringComparer.Ordinal)
            .Select(g => g.MaxBy(r => r.Attempt)!)
            .OrderBy(r => graph.PositionOf(r.JobName))
            .ThenBy(r => r.JobName, StringComparer.Ordinal)
            .ToList();
        var rootRun = latest.FirstOrDefault(r => r.JobName == r.RootJob) ?? latest[0];
        var root = rootRun.RootJob;

        DagRunState state;
        if (latest.Any(r => !JobRuns.IsFinal(r, graph.Find(r.JobName))))
        {
            state = DagRunState.Running;
        }
        else if (rootRun.JobName == root && rootRun.State == JobRunState.Skipped)
        {
            state = DagRunState.Skipped;
        }
        else
        {
            var good = latest.All(r => r.State == JobRunState.Succeeded ||
                                       (r.State == JobRunState.Failed && graph.Find(r.JobName)?.SoftError == true));
            state = good ? DagRunState.Succeeded : DagRunState.Failed;
        }

        var recorded = latest.Select(r => r.JobName).ToHashSet(StringComparer.Ordinal);
        var notReached = graph.DagScope(root).Where(n => !recorded.Contains(n)).OrderBy(graph.PositionOf).ToList();
        return new DagRun(id, root, rootRun.ScheduledFor, rootRun.Trigger, state, latest, notReached);
    }
}

/// <summary>
/// One line of Chronos's <c>GET /v1/scheduler/jobs/summary</c> (<c>JobSummaryWrapperSerializer</c>): the last outcome
/// (<c>fresh</c>, <c>success</c> or <c>failure</c>, whichever of lastSuccess/lastError is newer) and the current
/// state (<c>idle</c>, <c>queued</c> or <c>"N running"</c>, computed from the persisted runs instead of Chronos's
/// in-memory map).
/// </summary>
/// <param name="Name">Job name.</param>
/// <param name="Status"><c>fresh</c>, <c>success</c> or <c>failure</c>.</param>
/// <param name="State"><c>idle</c>, <c>queued</c> or <c>N running</c>.</param>
/// <param name="Schedule">The schedule (empty for dependent jobs).</param>
/// <param name="Parents">The parents (empty for scheduled jobs).</param>
/// <param name="Disabled">Whether the job is disabled.</param>
public sealed record JobSummary(string Name, string Status, string State, string Schedule, IReadOnlyList<string> Parents, bool Disabled)
{
    /// <summary>The summary of <paramref name="job"/> given its runs (runs of other jobs are ignored).</summary>
    public static JobSummary For(JobDefinition job, IEnumerable<JobRun> runs)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(runs);
        var own = runs.Where(r => r.JobName == job.Name).ToList();
        var running = own.Count(r => r.State == JobRunState.Running);
        var state = running > 0
            ? running.ToString(CultureInfo.InvariantCulture) + " running"
            : own.Any(r => r.State == JobRunState.Pending) ? "queued" : "idle";

        var success = ParseInstant(job.LastSuccess);
        var error = ParseInstant(job.LastError);
        var status = (success, error) switch
        {
            (null, null) => "fresh",
            ({ } s, { } e) => s >= e ? "success" : "failure",
            ({ }, null) => "success",
            _ => "failure",
        };

        return new JobSummary(job.Name, status, state, job.Schedule ?? string.Empty, job.Parents ?? [], job.Disabled);
    }

    private static DateTimeOffset? ParseInstant(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;
}
