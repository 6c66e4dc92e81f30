using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class Iso8601ScheduleTests
{
    [Fact]
    public void Parses_repetitions_start_and_period()
    {
        var s = Iso8601Schedule.Parse("R5/2026-01-01T00:00:00Z/PT1H");

        Assert.Equal(5, s.Repetitions);
        Assert.Equal(At("2026-01-01T00:00:00Z"), s.Start);
        Assert.Equal(new IsoPeriod(0, 0, 0, 0, 1, 0, 0, 0), s.Period);
        Assert.Equal("R5/2026-01-01T00:00:00.000Z/PT1H", s.ToChronosString());
    }

    [Fact]
    public void Finite_repetitions_are_exhausted_after_n_occurrences()
    {
        var s = Iso8601Schedule.Parse("R5/2026-01-01T00:00:00Z/PT1H");

        var all = s.Occurrences(At("2025-12-31T00:00:00Z"), At("2026-02-01T00:00:00Z")).ToList();

        Assert.Equal(
            [At("2026-01-01T00:00:00Z"), At("2026-01-01T01:00:00Z"), At("2026-01-01T02:00:00Z"), At("2026-01-01T03:00:00Z"), At("2026-01-01T04:00:00Z")],
            all);
        Assert.Null(s.NextAfter(At("2026-01-01T04:00:00Z")));
        Assert.Equal(At("2026-01-01T04:00:00Z"), s.PreviousAtOrBefore(At("2026-06-01T00:00:00Z")));
    }

    [Fact]
    public void Bare_R_repeats_without_bound_and_R0_never_runs()
    {
        var unbounded = Iso8601Schedule.Parse("R/2026-01-01T00:00:00Z/P1D");
        var never = Iso8601Schedule.Parse("R0/2026-01-01T00:00:00Z/P1D");

        Assert.Null(unbounded.Repetitions);
        Assert.Equal(At("2036-01-02T00:00:00Z"), unbounded.NextAfter(At("2036-01-01T12:00:00Z")));
        Assert.Equal(0, never.Repetitions);
        Assert.Null(never.NextAfter(At("2000-01-01T00:00:00Z")));
    }

    [Fact]
    public void NextAfter_is_strictly_after_and_aligned_to_the_grid()
    {
        var s = Iso8601Schedule.Parse("R/2026-01-01T00:00:00Z/PT15M");

        Assert.Equal(At("2026-01-01T00:00:00Z"), s.NextAfter(At("2025-12-31T23:59:59Z")));
        Assert.Equal(At("2026-01-01T00:15:00Z"), s.NextAfter(At("2026-01-01T00:00:00Z")));
        Assert.Equal(At("2026-03-04T05:15:00Z"), s.NextAfter(At("2026-03-04T05:07:30Z")));
    }

    [Fact]
    public void Offset_in_the_start_is_honoured()
    {
        var s = Iso8601Schedule.Parse("R/2026-01-01T09:00:00+02:00/P1D");

        Assert.Equal(At("2026-01-01T07:00:00Z"), s.Start);
        Assert.Equal(At("2026-01-02T07:00:00Z"), s.NextAfter(At("2026-01-01T07:00:00Z")));
        Assert.Equal("R/2026-01-01T09:00:00.000+02:00/P1D", s.ToChronosString());
    }

    [Theory]
    [InlineData("R/2026-01-01T09:00:00-0530/PT1H", "2026-01-01T14:30:00Z")]
    [InlineData("R/2026-01-01T09:00-05/PT1H", "2026-01-01T14:00:00Z")]
    [InlineData("R/2026-01-01T09:00:00.250Z/PT1H", "2026-01-01T09:00:00.25Z")]
    [InlineData("R/2026-01-01T09:00:00/PT1H", "2026-01-01T09:00:00Z")]
    [InlineData("R/2026-01-01/PT1H", "2026-01-01T00:00:00Z")]
    public void Start_forms_as_Joda_reads_them(string expression, string expectedStart)
    {
        Assert.Equal(At(expectedStart), Iso8601Schedule.Parse(expression).Start);
    }

    [Fact]
    public void ScheduleTimeZone_overrides_the_written_offset_keeping_wall_clock_fields()
    {
        // Chronos's Iso8601ExpressionParserSpec: 13:00 written with an EDT offset, evaluated in Pacific time, is 13:00-08:00.
        var s = Iso8601Schedule.Parse("R/2012-01-01T13:00:00-04:00/P1D", Zone("America/Los_Angeles"));

        Assert.Equal(At("2012-01-01T13:00:00-08:00"), s.Start);
        Assert.False(s.ZoneFromOffset);
    }

    [Fact]
    public void Date_only_start_in_a_zone_is_local_midnight()
    {
        var s = Iso8601Schedule.Parse("R/2008-03-01/P1D", Zone("America/Los_Angeles"));

        Assert.Equal(At("2008-03-01T00:00:00-08:00"), s.Start);
    }

    [Fact]
    public void P1D_keeps_local_time_across_DST_while_PT24H_is_exactly_24_hours()
    {
        var ny = Zone("America/New_York");
        var days = Iso8601Schedule.Parse("R/2026-03-07T09:00:00/P1D", ny);
        var hours = Iso8601Schedule.Parse("R/2026-03-07T09:00:00/PT24H", ny);

        // 2026-03-08 is the spring-forward day in New York (EST -5 → EDT -4).
        Assert.Equal(At("2026-03-07T14:00:00Z"), days.Start);
        Assert.Equal(At("2026-03-08T13:00:00Z"), days.OccurrenceAt(1)); // 09:00 EDT
        Assert.Equal(At("2026-03-08T14:00:00Z"), hours.OccurrenceAt(1)); // 10:00 EDT
    }

    [Fact]
    public void Calendar_months_clamp_at_month_end_and_do_not_drift()
    {
        var s = Iso8601Schedule.Parse("R/2026-01-31T12:00:00Z/P1M");

        Assert.Equal(At("2026-02-28T12:00:00Z"), s.OccurrenceAt(1));
        Assert.Equal(At("2026-03-31T12:00:00Z"), s.OccurrenceAt(2));
        Assert.Equal(At("2026-04-30T12:00:00Z"), s.NextAfter(At("2026-03-31T12:00:00Z")));
        Assert.Equal(At("2027-01-31T12:00:00Z"), s.NextAfter(At("2026-12-31T12:00:00Z")));
    }

    [Fact]
    public void Local_start_in_a_DST_gap_moves_forward_by_the_gap_as_Joda_does()
    {
        var s = Iso8601Schedule.Parse("R/2026-03-08T02:30:00/P1D", Zone("America/New_York"));

        Assert.Equal(At("2026-03-08T03:30:00-04:00"), s.Start);
    }

    [Fact]
    public void Empty_start_is_unanchored_until_anchored_at_now_minus_one_second()
    {
        var s = Iso8601Schedule.Parse("R1//PT24H");

        Assert.False(s.IsAnchored);
        Assert.Throws<InvalidOperationException>(() => s.NextAfter(At("2026-01-01T00:00:00Z")));

        var anchored = s.AnchoredAt(At("2026-05-01T10:00:00Z"));
        Assert.Equal(At("2026-05-01T09:59:59Z"), anchored.Start);
        Assert.Equal("R1/2026-05-01T09:59:59.000Z/PT24H", anchored.Expression);
        Assert.Null(anchored.NextAfter(At("2026-05-01T10:00:00Z")));
    }

    [Theory]
    [InlineData("R5/2026-01-01T00:00:00Z/1H")]
    [InlineData("5/2026-01-01T00:00:00Z/PT1H")]
    [InlineData("R5/2026-01-01T00:00:00Z")]
    [InlineData("R5/yesterday/PT1H")]
    [InlineData("R5/2026-13-01T00:00:00Z/PT1H")]
    [InlineData("R5/2026-01-01T00:00:00Z/PT")]
    [InlineData("R5/2026-01-01T00:00:00Z/P1H")]
    [InlineData("Rx/2026-01-01T00:00:00Z/PT1H")]
    public void Malformed_expressions_are_rejected(string expression)
    {
        Assert.False(Iso8601Schedule.TryParse(expression, null, out _, out var error));
        Assert.Contains("Cannot parse schedule", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Periods_parse_and_print_like_Joda()
    {
        var p = IsoPeriod.Parse("P1Y2M3W4DT5H6M7.5S");

        Assert.Equal(new IsoPeriod(1, 2, 3, 4, 5, 6, 7, 500), p);
        Assert.Equal("P1Y2M3W4DT5H6M7.500S", p.ToString());
        Assert.Equal("PT0S", IsoPeriod.Parse("P").ToString());
        Assert.True(IsoPeriod.Parse("PT0S").IsZero);
        Assert.Equal(90061L, IsoPeriod.Parse("P1DT1H1M1S").ToStandardSeconds());
        Assert.Null(IsoPeriod.Parse("P1M").ToStandardSeconds());
        Assert.Null(IsoPeriod.TryParse("PT-1S"));
    }
}
