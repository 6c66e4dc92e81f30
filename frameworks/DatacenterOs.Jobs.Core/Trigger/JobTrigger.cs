using System.Globalization;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// The Jobs framework's decision function: from the job graph, the persisted runs and cursors, the last evaluation
/// instant and now, it returns the runs to create, start, skip and kill and when to look again. Pure and idempotent:
/// run ids derive from the job, its DAG run and the attempt, and every decision first checks whether the row already
/// exists, so calling it again after a restart (with whatever was persisted) never duplicates a run.
/// <para>Rules:</para>
/// <list type="bullet">
/// <item><b>Schedules.</b> A scheduled job's occurrences after its cursor and up to now are due. Only the latest is
/// considered for a run; earlier ones (missed while the scheduler was down) are recorded as skipped. The latest runs
/// if it is at most <c>startingDeadlineSeconds</c> old (unbounded by default, Chronos 3's "never skip"), otherwise it
/// is skipped with the reason. A new job (no cursor) with an ISO start in the past runs its latest occurrence once
/// (Chronos: a past start "runs right away"); a new cron job starts from now. Disabled jobs advance silently.</item>
/// <item><b>DAG runs</b> (<c>dependencyMode: "dag"</c>, the default). Every root run (scheduled, manual, or a
/// Chronos-mode dependency run) starts a DAG run over its DAG-mode descendants. A descendant runs once per DAG run,
/// after all its parents inside the DAG run succeeded (a parent with <c>softError</c> counts as succeeded after its
/// final failure); a parent that failed, was killed or was skipped blocks it (recorded as skipped, naming the parent).
/// Parents outside the DAG run must have succeeded in their latest run.</item>
/// <item><b>Chronos dependencies</b> (<c>dependencyMode: "chronos"</c>). The job runs once every parent has succeeded
/// since the job last ran (Chronos <c>JobGraph.getExecutableChildren</c>, but persisted instead of in-memory
/// counters).</item>
/// <item><b>Retries.</b> A failed attempt with attempts left (<c>attempt &lt; retries</c>) gets a new attempt in the same
/// DAG run, <c>retryDelaySeconds</c> after it finished. Retries never consume a schedule repetition. Killed runs are
/// not retried.</item>
/// <item><b>Concurrency</b>, applied when a run is about to start: ALLOW starts it; FORBID (Chronos
/// <c>concurrent=false</c>) skips it while another run of the job is running; REPLACE kills the running ones and starts
/// it.</item>
/// <item><b>Limits.</b> Running runs older than <c>maxRunSeconds</c> are killed; runs of deleted jobs are killed, and
/// pending runs of deleted or disabled jobs skipped.</item>
/// </list>
/// </summary>
public static class JobTrigger
{
    /// <summary>Decides what is due at <see cref="JobTriggerInput.Now"/>.</summary>
    public static JobPlan Due(JobTriggerInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new Planner(input).Plan();
    }

    /// <summary>Convenience overload of <see cref="Due(JobTriggerInput)"/>.</summary>
    public static JobPlan Due(JobGraph graph, IReadOnlyCollection<JobRun> history, DateTimeOffset now, DateTimeOffset? lastEvaluated = null, IReadOnlyDictionary<string, JobCursor>? cursors = null, JobTriggerOptions? options = null) =>
        Due(new JobTriggerInput
        {
            Graph = graph,
            Runs = history,
            Now = now,
            LastEvaluated = lastEvaluated,
            Cursors = cursors ?? new Dictionary<string, JobCursor>(),
            Options = options ?? JobTriggerOptions.Default,
        });

    /// <summary>The cursor basis of a scheduled job: its schedule and zone.</summary>
    public static string ScheduleBasis(JobDefinition job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return $"schedule:{job.Schedule}|{job.ScheduleTimeZone}";
    }

    /// <summary>The cursor basis of a Chronos-mode dependent job: its parents.</summary>
    public static string DependencyBasis(JobDefinition job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return "chronos:" + string.Join(",", (job.Parents ?? []).Order(StringComparer.Ordinal));
    }

    internal static string Seconds(TimeSpan span) => ((long)Math.Floor(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + " s";

    private sealed class Planner
    {
        private readonly JobTriggerInput input;
        private readonly JobGraph graph;
        private readonly DateTimeOffset now;
        private readonly Dictionary<string, JobRun> existing = new(StringComparer.Ordinal);
        private readonly List<JobRun> newRuns = [];
        private readonly Dictionary<string, int> newIndex = new(StringComparer.Ordinal);
        private readonly Dictionary<string, JobRun> updates = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Dag, string Job), List<string>> attempts = [];
        private readonly List<RunKill> kills = [];
        private readonly HashSet<string> killed = new(StringComparer.Ordinal);
        private readonly Dictionary<string, JobCursor> cursorUpdates = new(StringComparer.Ordinal);
        private readonly List<JobPlanNote> notes = [];
        private readonly List<DateTimeOffset> wakeUps = [];

        public Planner(JobTriggerInput input)
        {
            this.input = input;
            graph = input.Graph;
            now = input.Now;
            foreach (var run in input.Runs)
            {
                existing[run.RunId] = run;
            }

            foreach (var run in existing.Values)
            {
                Index(run);
            }
        }

        public JobPlan Plan()
        {
            CleanUpOrphans();
            KillOverdue();
            CreateRetries();
            TriggerSchedules();
            TriggerChronosDependencies();
            FollowDagRuns();
            var start = SelectStarts();

            // Runs the concurrency policy just skipped block their DAG descendants: record that now, not on the next
            // evaluation. This pass can only add skipped rows (no outcome became a success).
            FollowDagRuns();

            var removals = input.Cursors.Keys
                .Where(name => graph.Find(name) is not { } job || !(job.IsScheduled || job.UsesChronosDependencies))
                .Order(StringComparer.Ordinal)
                .ToList();

            return new JobPlan(
                now,
                [.. newRuns],
                updates.Values.Where(u => existing.ContainsKey(u.RunId)).OrderBy(u => u.RunId, StringComparer.Ordinal).ToList(),
                start,
                [.. kills],
                cursorUpdates,
                removals,
                wakeUps.Count == 0 ? null : wakeUps.Min(),
                [.. notes]);
        }

        // ---- state helpers --------------------------------------------------------------------------------------

        private IEnumerable<JobRun> AllRuns =>
            existing.Values.Select(r => updates.GetValueOrDefault(r.RunId, r)).Concat(newRuns);

        private bool Exists(string runId) => existing.ContainsKey(runId) || newIndex.ContainsKey(runId);

        private JobRun Current(string runId) =>
            newIndex.TryGetValue(runId, out var i) ? newRuns[i] : updates.GetValueOrDefault(runId) ?? existing[runId];

        private void Index(JobRun run)
        {
            var key = (run.DagRunId, run.JobName);
            if (!attempts.TryGetValue(key, out var list))
            {
                attempts[key] = list = [];
            }

            list.Add(run.RunId);
        }

        private void AddNew(JobRun run)
        {
            newIndex[run.RunId] = newRuns.Count;
            newRuns.Add(run);
            Index(run);
        }

        private void Replace(JobRun run)
        {
            if (newIndex.TryGetValue(run.RunId, out var i))
            {
                newRuns[i] = run;
            }
            else
            {
                updates[run.RunId] = run;
            }
        }

        private void AddKill(JobRun run, string reason)
        {
            if (killed.Add(run.RunId))
            {
                kills.Add(new RunKill(run, reason));
            }
        }

        private JobRun? LatestAttempt(string dagRunId, string jobName) =>
            attempts.TryGetValue((dagRunId, jobName), out var ids)
                ? ids.Select(Current).MaxBy(r => r.Attempt)
                : null;

        private bool IsRecent(JobRun run) =>
            !run.IsTerminal || input.LastEvaluated is not { } last || (run.FinishedAt ?? run.CreatedAt) > last;

        private JobRun NewRun(JobDefinition job, string dagRunId, string rootJob, DateTimeOffset scheduledFor, JobRunTrigger trigger, int attempt, DateTimeOffset notBefore) =>
            new()
            {
                RunId = JobRunIds.RunId(dagRunId, rootJob, job.Name, attempt),
                JobName = job.Name,
                DagRunId = dagRunId,
                RootJob = rootJob,
                ScheduledFor = scheduledFor,
                Attempt = attempt,
                Trigger = trigger,
                State = JobRunState.Pending,
                CreatedAt = now,
                NotBefore = notBefore,
            };

        private long? DeadlineSeconds(JobDefinition job) => job.StartingDeadlineSeconds ?? input.Options.DefaultStartingDeadlineSeconds;

        // ---- steps ----------------------------------------------------------------------------------------------

        // Pending runs of deleted or disabled jobs are skipped; running runs of deleted jobs are killed.
        private void CleanUpOrphans()
        {
            foreach (var run in existing.Values.OrderBy(r => r.RunId, StringComparer.Ordinal))
            {
                var job = graph.Find(run.JobName);
                if (run.State == JobRunState.Pending && job is null)
                {
                    Replace(run.Skipped(now, $"job '{run.JobName}' no longer exists"));
                }
                else if (run.State == JobRunState.Pending && job!.Disabled)
                {
                    Replace(run.Skipped(now, $"job '{run.JobName}' is disabled"));
                }
                else if (run.State == JobRunState.Running && job is null)
                {
                    AddKill(run, $"job '{run.JobName}' no longer exists");
                }
            }
        }

        private void KillOverdue()
        {
            foreach (var run in existing.Values.Where(r => r.State == JobRunState.Running).OrderBy(r => r.RunId, StringComparer.Ordinal))
            {
                if (graph.Find(run.JobName)?.EffectiveMaxRunSeconds is not { } limit || run.StartedAt is not { } started)
                {
                    continue;
                }

                var deadline = started.AddSeconds(limit);
                if (deadline <= now)
                {
                    AddKill(run, $"ran longer than maxRunSeconds ({limit.ToString(CultureInfo.InvariantCulture)} s)");
                }
                else
                {
                    wakeUps.Add(deadline);
                }
            }
        }

        private void CreateRetries()
        {
            var failed = attempts.Keys
                .Select(k => LatestAttempt(k.Dag, k.Job)!)
                .Where(r => r.State == JobRunState.Failed && IsRecent(r))
                .OrderBy(r => r.RunId, StringComparer.Ordinal)
                .ToList();
            foreach (var run in failed)
            {
                if (graph.Find(run.JobName) is not { } job || JobRuns.IsFinal(run, job))
                {
                    continue;
                }

                var delay = job.RetryDelaySeconds ?? input.Options.DefaultRetryDelaySeconds;
                var retry = NewRun(job, run.DagRunId, run.RootJob, run.ScheduledFor, run.Trigger, run.Attempt + 1, (run.FinishedAt ?? now).AddSeconds(delay)) with
                {
                    Arguments = run.Arguments,
                };
                if (!Exists(retry.RunId))
                {
                    AddNew(retry);
                }
            }
        }

        private void TriggerSchedules()
        {
            foreach (var job in graph.Jobs.Where(j => j.IsScheduled))
            {
                var parsed = ScheduleParser.Parse(job.Schedule, job.ScheduleTimeZone);
                if (parsed.Schedule is not { } schedule)
                {
                    notes.Add(new JobPlanNote(job.Name, $"not scheduled: {parsed.Error}"));
                    continue;
                }

                if (schedule is Iso8601Schedule { IsAnchored: false })
                {
                    notes.Add(new JobPlanNote(job.Name, $"not scheduled: schedule '{job.Schedule}' has no start; normalize the job (JobNormalizer) to anchor it"));
                    continue;
                }

                var basis = ScheduleBasis(job);
                DateTimeOffset? cursor = input.Cursors.TryGetValue(job.Name, out var c) && c.Basis == basis ? c.At : null;

                if (job.Disabled)
                {
                    if (cursor is null || schedule.NextAfter(cursor.Value) is { } n && n <= now)
                    {
                        cursorUpdates[job.Name] = new JobCursor(now, basis);
                    }

                    continue;
                }

                var due = new List<DateTimeOffset>();
                long unrecorded = 0;
                if (cursor is null)
                {
                    if (schedule is Iso8601Schedule iso && iso.PreviousAtOrBefore(now) is { } previous)
                    {
                        due.Add(previous);
                    }

                    cursorUpdates[job.Name] = new JobCursor(now, basis);
                }
                else
                {
                    var keep = Math.Max(1, input.Options.MaxMissedRunsRecorded + 1);
                    var window = new Queue<DateTimeOffset>();
                    long total = 0;
                    foreach (var at in schedule.Occurrences(cursor.Value, now, input.Options.MaxOccurrencesScanned))
                    {
                        total++;
                        window.Enqueue(at);
                        if (window.Count > keep)
                        {
                            window.Dequeue();
                        }
                    }

                    if (total > 0)
                    {
                        cursorUpdates[job.Name] = new JobCursor(now, basis);
                    }

                    due.AddRange(window);
                    unrecorded = total - window.Count;
                }

                if (schedule.NextAfter(now) is { } next)
                {
                    wakeUps.Add(next);
                }

                if (due.Count == 0)
                {
                    continue;
                }

                var latest = due[^1];
                foreach (var missed in due.Take(due.Count - 1))
                {
                    var dag = JobRunIds.DagRunId(job.Name, missed, JobRunTrigger.Schedule);
                    var row = NewRun(job, dag, job.Name, missed, JobRunTrigger.Schedule, 0, missed);
                    if (!Exists(row.RunId))
                    {
                        AddNew(row.Skipped(now, $"missed: the scheduler was not running at {Iso8601Schedule.FormatInstant(missed)}; only the latest missed occurrence ({Iso8601Schedule.FormatInstant(latest)}) is caught up"));
                    }
                }

                if (unrecorded > 0)
                {
                    notes.Add(new JobPlanNote(job.Name, $"{unrecorded.ToString(CultureInfo.InvariantCulture)} more missed occurrences before {Iso8601Schedule.FormatInstant(due[0])} were not recorded"));
                }

                var dagRunId = JobRunIds.DagRunId(job.Name, latest, JobRunTrigger.Schedule);
                var run = NewRun(job, dagRunId, job.Name, latest, JobRunTrigger.Schedule, 0, latest);
                if (Exists(run.RunId))
                {
                    continue;
                }

                var lateness = now - latest;
                if (DeadlineSeconds(job) is { } deadline && lateness > TimeSpan.FromSeconds(deadline))
                {
                    AddNew(run.Skipped(now, $"missed by {Seconds(lateness)}, beyond startingDeadlineSeconds ({deadline.ToString(CultureInfo.InvariantCulture)} s)"));
                }
                else
                {
                    AddNew(run);
                }
            }
        }

        // Chronos's rule, persisted: the job runs when every parent has a successful final run that finished after the
        // job's reset point (its cursor when new, its last run otherwise). The run roots a new DAG run.
        private void TriggerChronosDependencies()
        {
            var runsByJob = AllRuns.GroupBy(r => r.JobName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            foreach (var job in graph.Jobs.Where(j => j.UsesChronosDependencies))
            {
                var basis = DependencyBasis(job);
                if (!input.Cursors.TryGetValue(job.Name, out var cursor) || cursor.Basis != basis)
                {
                    // New (or re-parented) job: parent successes from now on count, as Chronos's counters start at zero.
                    cursorUpdates[job.Name] = new JobCursor(now, basis);
                    continue;
                }

                var own = runsByJob.GetValueOrDefault(job.Name) ?? [];
                var reset = own.Select(r => r.Trigger == JobRunTrigger.Dependency ? r.ScheduledFor : r.StartedAt ?? r.CreatedAt)
                    .Append(cursor.At)
                    .Max();

                DateTimeOffset? triggerAt = null;
                var ready = true;
                foreach (var parentName in graph.ParentsOf(job.Name))
                {
                    var parent = graph[parentName];
                    var first = (runsByJob.GetValueOrDefault(parentName) ?? [])
                        .Where(r => r.FinishedAt is { } f && f > reset && CountsAsSuccess(r, parent))
                        .Select(r => r.FinishedAt!.Value)
                        .DefaultIfEmpty(DateTimeOffset.MaxValue)
                        .Min();
                    if (first == DateTimeOffset.MaxValue)
                    {
                        ready = false;
                        break;
                    }

                    triggerAt = triggerAt is { } t && t > first ? t : first;
                }

                if (!ready || triggerAt is not { } at || job.Disabled)
                {
                    continue;
                }

                var dag = JobRunIds.DagRunId(job.Name, at, JobRunTrigger.Dependency);
                var run = NewRun(job, dag, job.Name, at, JobRunTrigger.Dependency, 0, now);
                if (!Exists(run.RunId))
                {
                    AddNew(run);
                }
            }
        }

        private static bool CountsAsSuccess(JobRun run, JobDefinition job) =>
            run.State == JobRunState.Succeeded || (run.State == JobRunState.Failed && job.SoftError && JobRuns.IsFinal(run, job));

        private void FollowDagRuns()
        {
            // Built on first need: most DAG runs (a root without DAG-mode children) never look outside themselves.
            Dictionary<string, JobRun>? latestFinalRuns = null;
            Dictionary<string, JobRun> LatestFinal() => latestFinalRuns ??= AllRuns
                .Where(r => r.IsTerminal && JobRuns.IsFinal(r, graph.Find(r.JobName)))
                .GroupBy(r => r.JobName, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.MaxBy(r => (r.FinishedAt ?? r.CreatedAt, r.Attempt))!, StringComparer.Ordinal);

            var dagRuns = AllRuns
                .Where(r => graph.ChildrenOf(r.RootJob).Count > 0)
                .GroupBy(r => r.DagRunId, StringComparer.Ordinal)
                .Where(g => g.Any(IsRecent))
                .Select(g => (Id: g.Key, Root: g.First().RootJob, ScheduledFor: g.First().ScheduledFor))
                .OrderBy(d => d.ScheduledFor)
                .ThenBy(d => d.Id, StringComparer.Ordinal)
                .ToList();

            foreach (var (dagRunId, root, scheduledFor) in dagRuns)
            {
                if (!graph.Contains(root))
                {
                    continue;
                }

                var scope = graph.DagScope(root);
                foreach (var name in scope.Where(n => n != root).OrderBy(graph.PositionOf))
                {
                    if (LatestAttempt(dagRunId, name) is not null)
                    {
                        continue;
                    }

                    var job = graph[name];
                    var blocked = new List<string>();
                    var waiting = false;
                    foreach (var parentName in graph.ParentsOf(name))
                    {
                        var parent = graph[parentName];
                        if (scope.Contains(parentName))
                        {
                            var outcome = LatestAttempt(dagRunId, parentName);
                            if (outcome is null || !JobRuns.IsFinal(outcome, parent))
                            {
                                waiting = true;
                                break;
                            }

                            if (!CountsAsSuccess(outcome, parent))
                            {
                                blocked.Add($"parent '{parentName}' {Describe(outcome)} in this DAG run");
                            }
                        }
                        else if (!LatestFinal().TryGetValue(parentName, out var last) || !CountsAsSuccess(last, parent))
                        {
                            blocked.Add($"parent '{parentName}' (outside this DAG run) has not succeeded in its latest run");
                        }
                    }

                    if (waiting)
                    {
                        continue;
                    }

                    var run = NewRun(job, dagRunId, root, scheduledFor, JobRunTrigger.Dependency, 0, now);
                    if (blocked.Count > 0)
                    {
                        AddNew(run.Skipped(now, "blocked: " + string.Join("; ", blocked)));
                    }
                    else if (job.Disabled)
                    {
                        AddNew(run.Skipped(now, $"job '{name}' is disabled"));
                    }
                    else
                    {
                        AddNew(run);
                    }
                }
            }
        }

        private static string Describe(JobRun run) => run.State switch
        {
            JobRunState.Failed => "failed",
            JobRunState.Killed => "was killed",
            JobRunState.Skipped => "was skipped",
            _ => run.State.ToString().ToLowerInvariant(),
        };

        private List<JobRun> SelectStarts()
        {
            var pending = AllRuns.Where(r => r.State == JobRunState.Pending && graph.Find(r.JobName) is { Disabled: false }).ToList();

            // Scheduled first attempts that were persisted but never launched within the deadline are skipped.
            var ready = new List<JobRun>();
            foreach (var run in pending)
            {
                var job = graph[run.JobName];
                if (run.Trigger == JobRunTrigger.Schedule && run.Attempt == 0 && existing.ContainsKey(run.RunId)
                    && DeadlineSeconds(job) is { } deadline)
                {
                    var expires = run.ScheduledFor.AddSeconds(deadline);
                    if (expires < now)
                    {
                        Replace(run.Skipped(now, $"not started within startingDeadlineSeconds ({deadline.ToString(CultureInfo.InvariantCulture)} s) of {Iso8601Schedule.FormatInstant(run.ScheduledFor)}"));
                        continue;
                    }

                    wakeUps.Add(expires);
                }

                if (run.NotBefore <= now)
                {
                    ready.Add(run);
                }
                else
                {
                    wakeUps.Add(run.NotBefore);
                }
            }

            var running = existing.Values
                .Where(r => r.State == JobRunState.Running)
                .GroupBy(r => r.JobName, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.OrderBy(r => r.RunId, StringComparer.Ordinal).ToList(), StringComparer.Ordinal);

            var start = new List<JobRun>();
            foreach (var group in ready.GroupBy(r => r.JobName, StringComparer.Ordinal))
            {
                var job = graph[group.Key];
                var candidates = group.OrderBy(r => r.NotBefore).ThenBy(r => r.ScheduledFor).ThenBy(r => r.RunId, StringComparer.Ordinal).ToList();
                var active = running.GetValueOrDefault(job.Name) ?? [];
                switch (job.EffectiveConcurrencyPolicy)
                {
                    case ConcurrencyPolicies.Allow:
                        start.AddRange(candidates);
                        break;

                    case ConcurrencyPolicies.Replace:
                        var winner = candidates[^1];
                        foreach (var loser in candidates.Take(candidates.Count - 1))
                        {
                            Replace(loser.Skipped(now, $"superseded by run {winner.RunId} (concurrencyPolicy REPLACE)"));
                        }

                        foreach (var old in active)
                        {
                            AddKill(old, $"replaced by run {winner.RunId} (concurrencyPolicy REPLACE)");
                        }

                        start.Add(winner);
                        break;

                    default: // FORBID
                        var blocker = active.FirstOrDefault()?.RunId;
                        foreach (var candidate in candidates)
                        {
                            if (blocker is null)
                            {
                                start.Add(candidate);
                                blocker = candidate.RunId;
                            }
                            else
                            {
                                Replace(candidate.Skipped(now, $"run {blocker} of this job is still running (concurrencyPolicy FORBID)"));
                            }
                        }

                        break;
                }
            }

            foreach (var run in start)
            {
                if (graph[run.JobName].EffectiveMaxRunSeconds is { } limit)
                {
                    wakeUps.Add(now.AddSeconds(limit));
                }
            }

            return start
                .OrderByDescending(r => graph[r.JobName].HighPriority)
                .ThenBy(r => r.NotBefore)
                .ThenBy(r => r.ScheduledFor)
                .ThenBy(r => graph.PositionOf(r.JobName))
                .ThenBy(r => r.RunId, StringComparer.Ordinal)
                .ToList();
        }
    }
}
