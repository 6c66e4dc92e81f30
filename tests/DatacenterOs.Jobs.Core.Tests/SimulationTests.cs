using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class SimulationTests
{
    [Fact]
    public void Over_seven_days_hourly_daily_and_weekly_jobs_run_168_7_and_1_times()
    {
        // Chronos's integration check (integration-tests/check-results.rb) expects exactly these counts.
        var start = At("2026-01-05T00:00:00Z");
        var shell = new SimulatedShell(
            start.AddSeconds(-30),
            Scheduled("hourly", "R/2026-01-05T00:00:00Z/PT1H"),
            Scheduled("daily", "R/2026-01-05T00:00:00Z/P1D"),
            Scheduled("weekly", "R/2026-01-05T00:00:00Z/P1W"),
            Scheduled("cron-hourly", "0 * * * *"),
            Scheduled("cron-daily", "0 0 * * *"),
            Scheduled("cron-weekly", "0 0 * * 1"));

        shell.RunUntil(start.AddDays(7));

        Assert.Equal(168, shell.Count("hourly", JobRunState.Succeeded));
        Assert.Equal(7, shell.Count("daily", JobRunState.Succeeded));
        Assert.Equal(1, shell.Count("weekly", JobRunState.Succeeded));
        Assert.Equal(168, shell.Count("cron-hourly", JobRunState.Succeeded));
        Assert.Equal(7, shell.Count("cron-daily", JobRunState.Succeeded));
        Assert.Equal(1, shell.Count("cron-weekly", JobRunState.Succeeded));
        Assert.All(shell.Runs.Values, r => Assert.Equal(r.ScheduledFor, r.StartedAt)); // launched on time, none skipped
        Assert.Equal(shell.Runs.Count, shell.Launched.Distinct().Count());
    }

    [Fact]
    public void Cron_in_New_York_runs_once_per_day_through_both_DST_changes_of_a_year()
    {
        var shell = new SimulatedShell(At("2026-01-01T00:00:00Z"), Scheduled("gap", "30 2 * * *", "America/New_York"), Scheduled("overlap", "30 1 * * *", "America/New_York"));

        shell.RunUntil(At("2027-01-01T00:00:00Z"));

        // 2026-01-01T00:00Z is still 2025-12-31 in New York, so 365 local days start in the window.
        Assert.Equal(365, shell.Count("gap", JobRunState.Succeeded));
        Assert.Equal(365, shell.Count("overlap", JobRunState.Succeeded));
        Assert.Contains(shell.RunsOf("gap"), r => r.ScheduledFor == At("2026-03-08T07:00:00Z"));
        Assert.Contains(shell.RunsOf("overlap"), r => r.ScheduledFor == At("2026-11-01T05:30:00Z"));
        Assert.DoesNotContain(shell.RunsOf("overlap"), r => r.ScheduledFor == At("2026-11-01T06:30:00Z"));
    }
}
