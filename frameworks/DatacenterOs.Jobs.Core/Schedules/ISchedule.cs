namespace DatacenterOs.Jobs.Core;

/// <summary>
/// A job schedule: the instants at which a scheduled job is due. Implementations are immutable and pure; they never
/// look at the clock, the caller passes the instant to search from.
/// </summary>
public interface ISchedule
{
    /// <summary>The expression as written (ISO 8601 repeating interval or cron).</summary>
    string Expression { get; }

    /// <summary>The zone the schedule is evaluated in (a fixed-offset zone for an ISO schedule without <c>scheduleTimeZone</c>).</summary>
    TimeZoneInfo TimeZone { get; }

    /// <summary>The first occurrence strictly after <paramref name="instant"/>, or null when there is none (e.g. ISO repetitions exhausted).</summary>
    DateTimeOffset? NextAfter(DateTimeOffset instant);
}

/// <summary>Helpers over <see cref="ISchedule"/>.</summary>
public static class ScheduleExtensions
{
    /// <summary>
    /// The occurrences in the window (<paramref name="fromExclusive"/>, <paramref name="toInclusive"/>], in order, at
    /// most <paramref name="limit"/> of them.
    /// </summary>
    public static IEnumerable<DateTimeOffset> Occurrences(
        this ISchedule schedule, DateTimeOffset fromExclusive, DateTimeOffset toInclusive, int limit = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var cursor = fromExclusive;
        for (var count = 0; count < limit; count++)
        {
            var next = schedule.NextAfter(cursor);
            if (next is not { } at || at > toInclusive)
            {
                yield break;
            }

            yield return at;
            cursor = at;
        }
    }
}
