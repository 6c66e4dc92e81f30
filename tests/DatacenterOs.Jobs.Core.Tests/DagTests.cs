using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class DagTests
{
    private static readonly DateTimeOffset Start = At("2026-01-01T00:00:00Z");

    // A → B, A → C, {B, C} → D; A runs hourly from 00:00.
    private static SimulatedShell Diamond(Func<JobDefinition, JobDefinition>? tweak = null)
    {
        tweak ??= j => j;
        return new SimulatedShell(
            Start,
            tweak(Scheduled("A", "R/2026-01-01T00:00:00Z/PT1H")),
            tweak(Dependent("B", "A") with { Retries = 0 }),
            tweak(Dependent("C", "A")),
            tweak(Dependent("D", "B", "C")));
    }

    [Fact]
    public void Diamond_runs_D_exactly_once_per_run_of_A()
    {
        var shell = Diamond();
        shell.Duration = r => r.JobName == "B" ? TimeSpan.FromMinutes(5) : TimeSpan.FromMinutes(1);

        shell.RunUntil(Start.AddHours(3));

        Assert.Equal(3, shell.Count("A", JobRunState.Succeeded));
        var d = shell.RunsOf("D");
        Assert.Equal(3, d.Count);
        Assert.All(d, r => Assert.Equal(JobRunState.Succeeded, r.State));
        Assert.Equal(["A@20260101T000000Z", "A@20260101T010000Z", "A@20260101T020000Z"], d.Select(r => r.DagRunId));
        Assert.Equal("A@20260101T000000Z/D#0", d[0].RunId);
        // D starts only after the slower parent B (00:01 → 00:06) finished.
        Assert.Equal(Start.AddMinutes(6), d[0].StartedAt);
        Assert.All(shell.Runs.Values.Where(r => r.JobName != "A"), r => Assert.Equal(JobRunTrigger.Dependency, r.Trigger));
    }

    [Fact]
    public void A_failed_parent_blocks_its_descendants_naming_the_parent()
    {
        var shell = Diamond();
        shell.ExitCode = r => r.JobName == "B" ? 1 : 0;

        shell.RunUntil(Start.AddMinutes(30));

        Assert.Equal(JobRunState.Failed, Assert.Single(shell.RunsOf("B")).State);
        Assert.Equal(JobRunState.Succeeded, Assert.Single(shell.RunsOf("C")).State);
        var d = Assert.Single(shell.RunsOf("D"));
        Assert.Equal(JobRunState.Skipped, d.State);
        Assert.Equal("blocked: parent 'B' failed in this DAG run", d.Reason);
    }

    [Fact]
    public void SoftError_lets_the_children_run_after_a_final_failure()
    {
        var shell = Diamond(j => j.Name == "B" ? j with { SoftError = true } : j);
        shell.ExitCode = r => r.JobName == "B" ? 1 : 0;

        shell.RunUntil(Start.AddMinutes(30));

        Assert.Equal(JobRunState.Failed, Assert.Single(shell.RunsOf("B")).State);
        Assert.Equal(JobRunState.Succeeded, Assert.Single(shell.RunsOf("D")).State);
    }

    [Fact]
    public void Retries_stay_inside_the_DAG_run_and_D_waits_for_them()
    {
        var shell = Diamond(j => j.Name == "B" ? j with { Retries = 1, RetryDelaySeconds = 120 } : j);
        shell.ExitCode = r => r.JobName == "B" && r.Attempt == 0 ? 1 : 0;

        shell.RunUntil(Start.AddMinutes(30));

        var b = shell.RunsOf("B");
        Assert.Equal(["A@20260101T000000Z/B#0", "A@20260101T000000Z/B#1"], b.Select(r => r.RunId));
        Assert.Equal(b[0].FinishedAt!.Value.AddSeconds(120), b[1].StartedAt);
        var d = Assert.Single(shell.RunsOf("D"));
        Assert.Equal(JobRunState.Succeeded, d.State);
        Assert.True(d.StartedAt >= b[1].FinishedAt);
    }

    [Fact]
    public void A_skipped_root_blocks_the_whole_DAG_run()
    {
        var shell = Diamond(j => j.Name == "A" ? j with { StartingDeadlineSeconds = 60 } : j);
        shell.RunUntil(Start.AddMinutes(5)); // A@00:00 done, DAG run complete
        shell.Clock.Advance(At("2026-01-01T01:05:00Z") - shell.Now); // the 01:00 occurrence is 5 minutes late

        shell.Evaluate();

        var dag = shell.Runs.Values.Where(r => r.DagRunId == "A@20260101T010000Z").OrderBy(r => r.JobName).ToList();
        Assert.Equal(["A", "B", "C", "D"], dag.Select(r => r.JobName));
        Assert.All(dag, r => Assert.Equal(JobRunState.Skipped, r.State));
        Assert.Equal("blocked: parent 'A' was skipped in this DAG run", dag[1].Reason);
        Assert.Equal("blocked: parent 'B' was skipped in this DAG run; parent 'C' was skipped in this DAG run", dag[3].Reason);
    }

    [Fact]
    public void Manual_run_of_a_middle_job_runs_its_descendants_in_a_new_DAG_run()
    {
        var shell = Diamond();
        shell.Graph = JobGraph.Create(shell.Graph.Jobs.Select(j => j.Name == "A" ? j with { Disabled = true } : j));
        shell.Add(JobRuns.ManualRun(shell.Graph["C"], Start));

        shell.RunUntil(Start.AddMinutes(30));

        // C's DAG run covers C and D; D's other parent B is outside it and has never succeeded.
        Assert.Equal(JobRunState.Succeeded, Assert.Single(shell.RunsOf("C")).State);
        var d = Assert.Single(shell.RunsOf("D"));
        Assert.Equal("C@20260101T000000Z-manual", d.DagRunId);
        Assert.Equal("blocked: parent 'B' (outside this DAG run) has not succeeded in its latest run", d.Reason);
        Assert.Empty(shell.RunsOf("A"));
    }

    [Fact]
    public void Mark_success_fires_the_children()
    {
        var shell = Diamond(j => j.Name == "A" ? j with { Disabled = true } : j);
        shell.Add(JobRuns.MarkSucceeded(shell.Graph["A"], Start));

        shell.RunUntil(Start.AddMinutes(30));

        Assert.Equal(["B", "C", "D"], shell.Runs.Values.Where(r => r.JobName != "A" && r.State == JobRunState.Succeeded).Select(r => r.JobName).Order());
    }

    [Fact]
    public void Finished_DAG_runs_are_not_reopened_when_a_child_is_added_later()
    {
        var shell = Diamond();
        shell.RunUntil(Start.AddMinutes(30));
        var before = shell.Runs.Count;

        shell.Graph = shell.Graph.WithJob(Dependent("E", "D")).Graph!;
        shell.Clock.Advance(TimeSpan.FromMinutes(1));
        shell.Evaluate();

        Assert.Equal(before, shell.Runs.Count);
    }

    [Fact]
    public void Chronos_mode_runs_a_child_once_all_parents_succeeded_since_it_last_ran()
    {
        // A (every 10 min) and B (every 30 min) → C with Chronos's rule.
        var shell = new SimulatedShell(
            Start.AddSeconds(-1),
            Scheduled("A", "R/2026-01-01T00:00:00Z/PT10M"),
            Scheduled("B", "R/2026-01-01T00:05:00Z/PT30M"),
            Dependent("C", "A", "B") with { DependencyMode = "chronos" });

        shell.RunUntil(Start.AddMinutes(70));

        // A succeeds at 00:00, 00:10, …; B at 00:05 and 00:35 and 01:05: each B success finds an A success since C last
        // ran, so C runs once after each B, however many times A ran in between (edge counters with min()).
        var c = shell.RunsOf("C");
        Assert.Equal(3, c.Count);
        Assert.Equal([At("2026-01-01T00:05:01Z"), At("2026-01-01T00:35:01Z"), At("2026-01-01T01:05:01Z")], c.Select(r => r.ScheduledFor));
        Assert.All(c, r => Assert.Equal(JobRunTrigger.Dependency, r.Trigger));
        Assert.Equal("C@20260101T000501Z-dep#0", c[0].RunId);
    }

    [Fact]
    public void Chronos_mode_child_needs_every_parent_again_and_ignores_successes_before_it_existed()
    {
        var now = Start;
        var graph = JobGraph.Create([Scheduled("A", "@daily"), Scheduled("B", "@daily"), Dependent("C", "A", "B") with { DependencyMode = "chronos" }]);
        var history = new List<JobRun>
        {
            Succeeded(graph["A"], now.AddHours(-2)),
            Succeeded(graph["B"], now.AddHours(-1)),
        };

        // First sight of C: old successes do not count (Chronos's counters start at zero).
        var first = JobTrigger.Due(graph, history, now);
        Assert.DoesNotContain(first.NewRuns, r => r.JobName == "C");
        var cursors = first.CursorUpdates;

        history.Add(Succeeded(graph["A"], now.AddMinutes(10)));
        var onlyA = JobTrigger.Due(graph, history, now.AddMinutes(11), now, cursors);
        Assert.DoesNotContain(onlyA.NewRuns, r => r.JobName == "C");

        history.Add(Succeeded(graph["B"], now.AddMinutes(20)));
        var both = JobTrigger.Due(graph, history, now.AddMinutes(21), now.AddMinutes(11), cursors);
        var c = Assert.Single(both.NewRuns, r => r.JobName == "C");
        Assert.Equal(now.AddMinutes(20).AddSeconds(1), c.ScheduledFor);

        // After C ran, the same parent runs do not trigger it again.
        history.Add(c.Started(now.AddMinutes(21)).Finished(now.AddMinutes(22), 0));
        var again = JobTrigger.Due(graph, history, now.AddMinutes(23), now.AddMinutes(21), cursors);
        Assert.DoesNotContain(again.NewRuns, r => r.JobName == "C");
    }

    [Fact]
    public void DAG_child_with_a_parent_outside_the_DAG_run_uses_that_parents_latest_outcome()
    {
        var shell = new SimulatedShell(
            Start,
            Scheduled("hourly", "R/2026-01-01T00:00:00Z/PT1H"),
            Scheduled("daily", "R/2026-01-01T00:30:00Z/P1D") with { Retries = 0 },
            Dependent("join", "hourly", "daily"));
        shell.ExitCode = r => r.JobName == "daily" && r.ScheduledFor == At("2026-01-02T00:30:00Z") ? 1 : 0;

        shell.RunUntil(At("2026-01-02T02:00:00Z"));

        var join = shell.RunsOf("join");
        var byDag = join.ToDictionary(r => r.DagRunId, r => r.State);
        Assert.Equal(JobRunState.Skipped, byDag["hourly@20260101T000000Z"]); // daily has not run yet
        Assert.Equal(JobRunState.Succeeded, byDag["daily@20260101T003000Z"]);
        Assert.Equal(JobRunState.Succeeded, byDag["hourly@20260101T010000Z"]);
        Assert.Equal(JobRunState.Skipped, byDag["daily@20260102T003000Z"]); // daily itself failed
        Assert.Equal(JobRunState.Skipped, byDag["hourly@20260102T010000Z"]); // daily's latest run failed
    }

    private static JobRun Succeeded(JobDefinition job, DateTimeOffset at)
    {
        var run = JobRuns.ManualRun(job, at);
        return run.Started(at).Finished(at.AddSeconds(1), 0);
    }
}

public sealed class DagRunViewTests
{
    [Fact]
    public void DAG_runs_are_summarized_from_their_rows()
    {
        var start = At("2026-01-01T00:00:00Z");
        var shell = new SimulatedShell(start, Scheduled("A", "R2/2026-01-01T00:00:00Z/PT1H"), Dependent("B", "A") with { Retries = 0 }, Dependent("C", "B"));
        shell.ExitCode = r => r.JobName == "B" && r.ScheduledFor == start ? 1 : 0;
        shell.RunUntil(start.AddHours(1).AddSeconds(1)); // second DAG run: A finished at 01:00:01, B not created yet

        var views = DagRun.From(shell.Graph, shell.Runs.Values);

        Assert.Equal(["A@20260101T010000Z", "A@20260101T000000Z"], views.Select(v => v.Id));
        var failed = views[1];
        Assert.Equal(DagRunState.Failed, failed.State);
        Assert.Equal(["A", "B", "C"], failed.Runs.Select(r => r.JobName));
        Assert.Equal(JobRunState.Skipped, failed.Runs[2].State);
        Assert.Empty(failed.NotReached);
        Assert.Equal(["B", "C"], views[0].NotReached);
    }

    [Fact]
    public void Job_summary_shows_last_outcome_and_current_state()
    {
        var job = Scheduled("a", "@daily") with { LastSuccess = "2026-01-01T00:00:00.000Z", LastError = "2026-01-02T00:00:00.000Z" };
        var run = JobRuns.ManualRun(job, At("2026-01-03T00:00:00Z"));

        var summary = JobSummary.For(job, [run]);
        Assert.Equal(("a", "failure", "queued", "@daily", false), (summary.Name, summary.Status, summary.State, summary.Schedule, summary.Disabled));
        Assert.Empty(summary.Parents);
        Assert.Equal("1 running", JobSummary.For(job, [run.Started(At("2026-01-03T00:00:01Z"))]).State);
        Assert.Equal("fresh", JobSummary.For(Dependent("b", "a"), []).Status);
        Assert.Equal("idle", JobSummary.For(Dependent("b", "a"), []).State);
        Assert.Equal(["a"], JobSummary.For(Dependent("b", "a"), []).Parents);
    }
}

public sealed class DagConcurrencyTests
{
    [Fact]
    public void A_root_skipped_by_FORBID_blocks_its_DAG_run_in_the_same_plan()
    {
        var start = At("2026-01-01T00:00:00Z");
        var shell = new SimulatedShell(start, Scheduled("A", "R/2026-01-01T00:00:00Z/PT1H"), Dependent("B", "A"))
        {
            Duration = r => r.JobName == "A" ? TimeSpan.FromMinutes(90) : TimeSpan.FromSeconds(1),
        };
        shell.RunUntil(start.AddMinutes(59));
        shell.Clock.Advance(start.AddHours(1) - shell.Now);

        var plan = shell.Evaluate();

        Assert.Equal(
            [("A@20260101T010000Z#0", "run A@20260101T000000Z#0 of this job is still running (concurrencyPolicy FORBID)"), ("A@20260101T010000Z/B#0", "blocked: parent 'A' was skipped in this DAG run")],
            plan.Skipped.Select(r => (r.RunId, r.Reason!)));
        Assert.Empty(plan.Start);
    }
}
