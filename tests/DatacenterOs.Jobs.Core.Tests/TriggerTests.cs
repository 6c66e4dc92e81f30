using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class TriggerTests
{
    [Fact]
    public void Scheduled_occurrence_creates_one_pending_run_with_a_deterministic_id_and_starts_it()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R/2026-01-01T01:00:00Z/PT1H"));
        var first = shell.Evaluate();
        Assert.Empty(first.NewRuns);
        Assert.Equal(At("2026-01-01T01:00:00Z"), first.NextWakeUp);

        shell.Clock.Advance(TimeSpan.FromHours(1));
        var plan = shell.Evaluate();

        var run = Assert.Single(plan.NewRuns);
        Assert.Equal("job@20260101T010000Z#0", run.RunId);
        Assert.Equal("job@20260101T010000Z", run.DagRunId);
        Assert.Equal(JobRunState.Pending, run.State);
        Assert.Equal(JobRunTrigger.Schedule, run.Trigger);
        Assert.Equal([run.RunId], plan.Start.Select(r => r.RunId));
        Assert.Equal(At("2026-01-01T02:00:00Z"), plan.NextWakeUp);
    }

    [Fact]
    public void Evaluating_again_is_idempotent_and_a_crash_before_launch_restarts_the_same_run()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:59:00Z"), Scheduled("job", "0 * * * *"));
        shell.Evaluate();
        shell.Clock.Advance(TimeSpan.FromMinutes(1));
        var input = shell.Input();

        var plan = JobTrigger.Due(input);
        var replay = JobTrigger.Due(input);
        Assert.Equal(plan.NewRuns, replay.NewRuns);

        // The shell persisted the plan but crashed before launching: the same run is started, nothing new created.
        var afterCrash = JobTrigger.Due(input with
        {
            Runs = plan.NewRuns,
            Cursors = plan.CursorUpdates,
            LastEvaluated = plan.EvaluatedAt,
            Now = input.Now.AddSeconds(5),
        });
        Assert.Empty(afterCrash.NewRuns);
        Assert.Equal(plan.Start.Select(r => r.RunId), afterCrash.Start.Select(r => r.RunId));

        // Once launched, nothing more happens until the next occurrence.
        shell.Evaluate();
        var quiet = shell.Evaluate();
        Assert.True(quiet.IsEmpty);
    }

    [Fact]
    public void New_ISO_job_with_a_past_start_runs_once_right_away_then_follows_the_grid()
    {
        var shell = new SimulatedShell(At("2026-01-01T10:20:00Z"), Scheduled("job", "R/2026-01-01T00:00:00Z/PT1H"));

        var plan = shell.Evaluate();

        var run = Assert.Single(plan.NewRuns);
        Assert.Equal(At("2026-01-01T10:00:00Z"), run.ScheduledFor);
        Assert.Single(plan.Start);
        Assert.Equal(At("2026-01-01T11:00:00Z"), plan.NextWakeUp);
    }

    [Fact]
    public void Missed_runs_after_downtime_catch_up_once_and_record_the_rest_as_skipped()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:30:00Z"), Scheduled("job", "0 * * * *"));
        shell.RunUntil(At("2026-01-01T01:30:00Z")); // ran at 01:00

        shell.Clock.Advance(TimeSpan.FromHours(5)); // down from 01:30 until 06:30
        var plan = shell.Evaluate();

        var pending = Assert.Single(plan.NewRuns, r => r.State == JobRunState.Pending);
        Assert.Equal(At("2026-01-01T06:00:00Z"), pending.ScheduledFor);
        var skipped = plan.Skipped.ToList();
        Assert.Equal([At("2026-01-01T02:00:00Z"), At("2026-01-01T03:00:00Z"), At("2026-01-01T04:00:00Z"), At("2026-01-01T05:00:00Z")], skipped.Select(r => r.ScheduledFor));
        Assert.All(skipped, r => Assert.StartsWith("missed:", r.Reason, StringComparison.Ordinal));
        Assert.Single(plan.Start);
    }

    [Fact]
    public void Missed_run_beyond_startingDeadlineSeconds_is_skipped_with_the_reason()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:30:00Z"), Scheduled("job", "0 * * * *") with { StartingDeadlineSeconds = 300 });
        shell.Evaluate();

        shell.Clock.Advance(TimeSpan.FromMinutes(40)); // 01:10, ten minutes late
        var plan = shell.Evaluate();

        var skipped = Assert.Single(plan.NewRuns);
        Assert.Equal(JobRunState.Skipped, skipped.State);
        Assert.Equal("missed by 600 s, beyond startingDeadlineSeconds (300 s)", skipped.Reason);
        Assert.Empty(plan.Start);
    }

    [Fact]
    public void Trigger_default_deadline_applies_to_jobs_without_one()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:30:00Z"), Scheduled("job", "0 * * * *"))
        {
            Options = new JobTriggerOptions { DefaultStartingDeadlineSeconds = 60 },
        };
        shell.Evaluate();

        shell.Clock.Advance(TimeSpan.FromMinutes(32)); // 01:02, 120 s late

        Assert.Equal(JobRunState.Skipped, Assert.Single(shell.Evaluate().NewRuns).State);
    }

    [Fact]
    public void Long_outage_records_a_bounded_number_of_skipped_runs_and_notes_the_rest()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:30Z"), Scheduled("job", "* * * * *"))
        {
            Options = new JobTriggerOptions { MaxMissedRunsRecorded = 10 },
        };
        shell.Evaluate();

        shell.Clock.Advance(TimeSpan.FromDays(2));
        var plan = shell.Evaluate();

        Assert.Equal(10, plan.Skipped.Count());
        Assert.Single(plan.Start);
        var note = Assert.Single(plan.Notes);
        Assert.Contains("2869 more missed occurrences", note.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ISO_repetitions_are_exhausted()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R3/2026-01-01T01:00:00Z/PT1H"));

        shell.RunUntil(At("2026-01-02T00:00:00Z"));

        Assert.Equal(3, shell.Count("job", JobRunState.Succeeded));
        Assert.Null(shell.Plans[^1].NextWakeUp);
    }

    [Fact]
    public void Retries_wait_retryDelaySeconds_and_do_not_consume_repetitions()
    {
        var job = Scheduled("job", "R2/2026-01-01T01:00:00Z/PT1H") with { Retries = 2, RetryDelaySeconds = 30 };
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), job)
        {
            ExitCode = r => r.ScheduledFor == At("2026-01-01T01:00:00Z") && r.Attempt < 2 ? 1 : 0,
            Duration = _ => TimeSpan.FromSeconds(10),
        };

        shell.RunUntil(At("2026-01-02T00:00:00Z"));

        var runs = shell.RunsOf("job");
        Assert.Equal(
            [("job@20260101T010000Z#0", JobRunState.Failed), ("job@20260101T010000Z#1", JobRunState.Failed), ("job@20260101T010000Z#2", JobRunState.Succeeded), ("job@20260101T020000Z#0", JobRunState.Succeeded)],
            runs.Select(r => (r.RunId, r.State)));
        Assert.Equal(At("2026-01-01T01:00:40Z"), runs[1].NotBefore); // finished at 01:00:10, +30 s
        Assert.Equal(At("2026-01-01T01:00:40Z"), runs[1].StartedAt);
        Assert.Equal(At("2026-01-01T01:01:20Z"), runs[2].StartedAt);
    }

    [Fact]
    public void Exhausted_retries_leave_the_run_failed_and_count_one_error()
    {
        var job = Scheduled("job", "R1/2026-01-01T01:00:00Z/PT1H") with { Retries = 1, RetryDelaySeconds = 0 };
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), job) { ExitCode = _ => 3 };

        shell.RunUntil(At("2026-01-02T00:00:00Z"));

        var runs = shell.RunsOf("job");
        Assert.Equal([0, 1], runs.Select(r => r.Attempt));
        Assert.All(runs, r => Assert.Equal(JobRunState.Failed, r.State));
        var counted = runs.Aggregate(shell.Graph["job"], JobRuns.ApplyOutcome);
        Assert.Equal(1, counted.ErrorCount);
        Assert.Equal(0, counted.SuccessCount);
        Assert.Equal("2026-01-01T01:00:02.000Z", counted.LastError); // the retry ran 01:00:01–01:00:02
    }

    [Fact]
    public void Killed_runs_are_not_retried()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R1/2026-01-01T00:00:00Z/PT1H") with { Retries = 3 });
        var plan = shell.Evaluate();
        var id = plan.Start[0].RunId;
        shell.Runs[id] = shell.Runs[id].Killed(shell.Now, "by request");
        shell.Clock.Advance(TimeSpan.FromMinutes(1));

        var after = shell.Evaluate();

        Assert.Empty(after.NewRuns);
    }

    [Fact]
    public void FORBID_skips_a_run_while_the_previous_one_is_still_running()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R/2026-01-01T00:00:00Z/PT1H") with { Concurrent = false })
        {
            Duration = _ => TimeSpan.FromMinutes(90),
        };

        shell.RunUntil(At("2026-01-01T03:30:00Z"));

        var runs = shell.RunsOf("job");
        // 00:00 runs until 01:30, so 01:00 is skipped; 02:00 runs until 03:30, so 03:00 is skipped.
        Assert.Equal([JobRunState.Succeeded, JobRunState.Skipped, JobRunState.Running, JobRunState.Skipped], runs.Select(r => r.State));
        Assert.Equal("run job@20260101T000000Z#0 of this job is still running (concurrencyPolicy FORBID)", runs[1].Reason);
    }

    [Fact]
    public void ALLOW_starts_another_run_while_one_is_running()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R/2026-01-01T00:00:00Z/PT1H") with { Concurrent = true })
        {
            Duration = _ => TimeSpan.FromMinutes(90),
        };

        shell.RunUntil(At("2026-01-01T01:30:00Z"));

        Assert.Equal(2, shell.Count("job", JobRunState.Running));
    }

    [Fact]
    public void REPLACE_kills_the_running_run_and_starts_the_new_one()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R/2026-01-01T00:00:00Z/PT1H") with { ConcurrencyPolicy = "REPLACE" })
        {
            Duration = _ => TimeSpan.FromMinutes(90),
        };
        shell.RunUntil(At("2026-01-01T00:59:00Z"));

        shell.Clock.Advance(TimeSpan.FromHours(1));
        var plan = shell.Evaluate();

        var kill = Assert.Single(plan.Kill);
        Assert.Equal("job@20260101T000000Z#0", kill.Run.RunId);
        Assert.Equal("replaced by run job@20260101T010000Z#0 (concurrencyPolicy REPLACE)", kill.Reason);
        Assert.Equal(["job@20260101T010000Z#0"], plan.Start.Select(r => r.RunId));
    }

    [Fact]
    public void Runs_longer_than_maxRunSeconds_are_killed()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R1/2026-01-01T00:00:00Z/PT1H") with { MaxRunSeconds = 600 })
        {
            Duration = _ => TimeSpan.FromHours(2),
        };
        var first = shell.Evaluate();
        Assert.Equal(At("2026-01-01T00:10:00Z"), first.NextWakeUp);

        shell.Clock.Advance(TimeSpan.FromMinutes(10));
        var plan = shell.Evaluate();

        Assert.Equal("ran longer than maxRunSeconds (600 s)", Assert.Single(plan.Kill).Reason);
    }

    [Fact]
    public void Disabled_jobs_do_not_run_and_their_pending_runs_are_skipped()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "0 * * * *") with { Disabled = true });
        shell.Add(JobRuns.ManualRun(shell.Graph["job"], shell.Now));

        shell.RunUntil(At("2026-01-01T05:00:00Z"));

        var run = Assert.Single(shell.Runs.Values);
        Assert.Equal(JobRunState.Skipped, run.State);
        Assert.Equal("job 'job' is disabled", run.Reason);
    }

    [Fact]
    public void Runs_of_deleted_jobs_are_killed_or_skipped()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R/2026-01-01T00:00:00Z/PT1H") with { Concurrent = true }, Scheduled("other", "@daily"))
        {
            Duration = _ => TimeSpan.FromDays(1),
        };
        shell.Evaluate();
        var pending = JobRuns.ManualRun(shell.Graph["job"], shell.Now.AddSeconds(1));
        shell.Add(pending);

        shell.Graph = shell.Graph.WithoutJob("job").Graph;
        var plan = shell.Evaluate();

        Assert.Equal("job 'job' no longer exists", Assert.Single(plan.Kill).Reason);
        Assert.Equal(JobRunState.Skipped, Assert.Single(plan.UpdatedRuns).State);
        Assert.Contains("job", plan.CursorRemovals);
    }

    [Fact]
    public void Manual_runs_start_with_arguments_and_do_not_consume_repetitions()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "R1/2026-01-02T00:00:00Z/P1D"));
        var manual = JobRuns.ManualRun(shell.Graph["job"], shell.Now, "--full; rm -rf /");
        shell.Add(manual);

        shell.RunUntil(At("2026-01-03T00:00:00Z"));

        Assert.Equal("--full rm -rf /", manual.Arguments);
        Assert.Equal("job@20260101T000000Z-manual#0", manual.RunId);
        Assert.Equal(2, shell.Count("job", JobRunState.Succeeded));
    }

    [Fact]
    public void High_priority_jobs_start_first()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("a", "R/2026-01-01T00:00:00Z/PT1H"), Scheduled("b", "R/2026-01-01T00:00:00Z/PT1H") with { HighPriority = true });

        var plan = shell.Evaluate();

        Assert.Equal(["b", "a"], plan.Start.Select(r => r.JobName));
    }

    [Fact]
    public void Changing_the_schedule_resets_the_cursor()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("job", "0 0 * * *"));
        shell.Evaluate();
        shell.Clock.Advance(TimeSpan.FromHours(10));
        shell.Graph = JobGraph.Create([Scheduled("job", "0 * * * *")]);

        var plan = shell.Evaluate();

        Assert.Empty(plan.NewRuns); // the new schedule starts from now: no backlog from the old cursor
        Assert.Equal(JobTrigger.ScheduleBasis(shell.Graph["job"]), plan.CursorUpdates["job"].Basis);
        Assert.Equal(At("2026-01-01T11:00:00Z"), plan.NextWakeUp);
    }

    [Fact]
    public void Unanchored_schedule_is_reported_not_run()
    {
        var graph = JobGraph.Create([Scheduled("job", "R1//PT1H")]);

        var plan = JobTrigger.Due(graph, [], At("2026-01-01T00:00:00Z"));

        Assert.Empty(plan.NewRuns);
        Assert.Contains("has no start", Assert.Single(plan.Notes).Message, StringComparison.Ordinal);
    }
}
