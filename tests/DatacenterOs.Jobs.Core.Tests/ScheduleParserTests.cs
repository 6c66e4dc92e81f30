
namespace DatacenterOs.Jobs.Core.Tests;

public sealed class ScheduleParserTests
{
    [Fact]
    public void Dispatches_on_the_leading_R()
    {
        Assert.IsType<Iso8601Schedule>(ScheduleParser.Parse("R/2026-01-01T00:00:00Z/PT1H", null).Schedule);
        Assert.IsType<CronSchedule>(ScheduleParser.Parse("0 * * * *", null).Schedule);
    }

    [Theory]
    [InlineData("R/2026-01-01T00:00:00Z/PT0S")]
    [InlineData("R5/2026-01-01T00:00:00Z/P")]
    public void Zero_period_that_repeats_is_rejected(string schedule)
    {
        var result = ScheduleParser.Parse(schedule, null);

        Assert.False(result.IsSuccess);
        Assert.Equal(JobFields.Schedule, result.Field);
        Assert.Contains("period is zero", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_period_with_a_single_repetition_is_a_one_off_run()
    {
        var result = ScheduleParser.Parse("R1/2026-01-01T00:00:00Z/PT0S", null);

        var iso = Assert.IsType<Iso8601Schedule>(result.Schedule);
        Assert.Null(iso.NextAfter(iso.Start!.Value));
    }

    [Theory]
    [InlineData("Mars/Olympus_Mons")]
    [InlineData("PST")]
    [InlineData("BST")]
    [InlineData(" Europe/Berlin")]
    public void Unknown_time_zones_are_rejected_naming_the_field(string zone)
    {
        var result = ScheduleParser.Parse("0 * * * *", zone);

        Assert.False(result.IsSuccess);
        Assert.Equal(JobFields.ScheduleTimeZone, result.Field);
        Assert.Contains("Unknown time zone", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void IANA_zone_is_applied()
    {
        var schedule = ScheduleParser.Parse("0 12 * * *", "Asia/Tokyo").GetScheduleOrThrow();

        Assert.Equal("Asia/Tokyo", schedule.TimeZone.Id);
        Assert.Equal(T.At("2026-01-01T03:00:00Z"), schedule.NextAfter(T.At("2026-01-01T00:00:00Z")));
    }

    [Theory]
    [InlineData("UTC")]
    [InlineData("Etc/UTC")]
    [InlineData("")]
    public void UTC_spellings_are_accepted(string zone)
    {
        var schedule = ScheduleParser.Parse("0 12 * * *", zone).GetScheduleOrThrow();

        Assert.Equal(T.At("2026-01-01T12:00:00Z"), schedule.NextAfter(T.At("2026-01-01T00:00:00Z")));
    }

    [Fact]
    public void Empty_schedule_is_an_error()
    {
        Assert.False(ScheduleParser.Parse("  ", null).IsSuccess);
    }
}
