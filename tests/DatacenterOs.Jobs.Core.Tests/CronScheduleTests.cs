using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class CronScheduleTests
{
    [Fact]
    public void Five_field_cron_in_UTC()
    {
        var s = CronSchedule.Parse("*/15 9-17 * * 1-5");

        Assert.Equal(At("2026-01-05T09:00:00Z"), s.NextAfter(At("2026-01-03T12:00:00Z"))); // Saturday → Monday 09:00
        Assert.Equal(At("2026-01-05T09:15:00Z"), s.NextAfter(At("2026-01-05T09:00:00Z")));
        Assert.Equal(At("2026-01-06T09:00:00Z"), s.NextAfter(At("2026-01-05T17:45:00Z")));
    }

    [Fact]
    public void Macros_expand()
    {
        Assert.Equal(At("2026-01-01T01:00:00Z"), CronSchedule.Parse("@hourly").NextAfter(At("2026-01-01T00:00:00Z")));
        Assert.Equal(At("2026-01-02T00:00:00Z"), CronSchedule.Parse("@daily").NextAfter(At("2026-01-01T00:00:00Z")));
        Assert.Equal(At("2026-01-04T00:00:00Z"), CronSchedule.Parse("@weekly").NextAfter(At("2026-01-01T00:00:00Z")));
        Assert.Equal(At("2027-01-01T00:00:00Z"), CronSchedule.Parse("@yearly").NextAfter(At("2026-01-01T00:00:00Z")));
    }

    [Fact]
    public void Evaluated_in_the_job_time_zone()
    {
        var s = CronSchedule.Parse("0 9 * * *", Zone("Europe/Berlin"));

        Assert.Equal(At("2026-01-10T08:00:00Z"), s.NextAfter(At("2026-01-10T00:00:00Z"))); // CET +1
        Assert.Equal(At("2026-07-10T07:00:00Z"), s.NextAfter(At("2026-07-10T00:00:00Z"))); // CEST +2
    }

    [Fact]
    public void New_York_spring_forward_runs_a_gap_time_once_at_the_end_of_the_gap()
    {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist.
        var s = CronSchedule.Parse("30 2 * * *", Zone("America/New_York"));

        var runs = s.Occurrences(At("2026-03-07T00:00:00Z"), At("2026-03-10T00:00:00Z")).ToList();

        Assert.Equal([At("2026-03-07T07:30:00Z"), At("2026-03-08T07:00:00Z"), At("2026-03-09T06:30:00Z")], runs);
        Assert.Equal(At("2026-03-08T03:00:00-04:00"), runs[1]);
    }

    [Fact]
    public void New_York_fall_back_runs_an_ambiguous_time_once_at_its_first_occurrence()
    {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice (05:30Z and 06:30Z).
        var s = CronSchedule.Parse("30 1 * * *", Zone("America/New_York"));

        var runs = s.Occurrences(At("2026-10-31T12:00:00Z"), At("2026-11-03T00:00:00Z")).ToList();

        Assert.Equal([At("2026-11-01T05:30:00Z"), At("2026-11-02T06:30:00Z")], runs);
        Assert.Equal(At("2026-11-02T06:30:00Z"), s.NextAfter(At("2026-11-01T06:00:00Z"))); // from inside the repeated hour
    }

    [Fact]
    public void Every_half_hour_across_both_New_York_transitions_never_repeats_or_goes_backwards()
    {
        var s = CronSchedule.Parse("*/30 * * * *", Zone("America/New_York"));

        var spring = s.Occurrences(At("2026-03-08T05:00:00Z"), At("2026-03-09T04:00:00Z")).ToList(); // local day of 23 h
        var fall = s.Occurrences(At("2026-11-01T03:30:00Z"), At("2026-11-02T04:30:00Z")).ToList(); // local day of 25 h

        Assert.Equal(46, spring.Count); // 48 local slots; 02:00 and 02:30 collapse into 03:00 EDT
        Assert.Single(spring, t => t == At("2026-03-08T07:00:00Z"));
        Assert.Equal(48, fall.Count); // every local slot once, the repeated 01:00 and 01:30 only in their first pass
        Assert.DoesNotContain(At("2026-11-01T06:00:00Z"), fall);
        Assert.DoesNotContain(At("2026-11-01T06:30:00Z"), fall);
        Assert.True(spring.Zip(spring.Skip(1)).All(p => p.First < p.Second));
        Assert.True(fall.Zip(fall.Skip(1)).All(p => p.First < p.Second));
    }

    [Fact]
    public void Berlin_spring_forward_and_fall_back()
    {
        var s = CronSchedule.Parse("30 2 * * *", Zone("Europe/Berlin"));

        // 2026-03-29: 02:00 CET → 03:00 CEST (gap); 2026-10-25: 03:00 CEST → 02:00 CET (02:30 twice).
        Assert.Equal(At("2026-03-29T01:00:00Z"), s.NextAfter(At("2026-03-28T02:00:00Z")));
        Assert.Equal(At("2026-03-30T00:30:00Z"), s.NextAfter(At("2026-03-29T01:00:00Z")));
        Assert.Equal(At("2026-10-25T00:30:00Z"), s.NextAfter(At("2026-10-24T12:00:00Z")));
        Assert.Equal(At("2026-10-26T01:30:00Z"), s.NextAfter(At("2026-10-25T00:30:00Z")));
    }

    [Fact]
    public void Metronome_DST_regression_next_execution_is_never_in_the_past()
    {
        // Metronome ScheduleSpecTest (DCOS_OSS-2509): 55 23 * * * Europe/Rome after 2019-03-30T22:55Z.
        var s = CronSchedule.Parse("55 23 * * *", Zone("Europe/Rome"));

        Assert.Equal(At("2019-03-31T21:55:00Z"), s.NextAfter(At("2019-03-30T22:55:00Z")));
    }

    [Theory]
    [InlineData("* * * *")]
    [InlineData("0 0 * * * *")]
    [InlineData("61 * * * *")]
    [InlineData("every hour")]
    [InlineData("0 0 31 2 *")]
    public void Invalid_cron_is_rejected(string expression)
    {
        Assert.False(CronSchedule.TryParse(expression, null, out _, out var error));
        Assert.Contains(expression, error, StringComparison.Ordinal);
    }
}
