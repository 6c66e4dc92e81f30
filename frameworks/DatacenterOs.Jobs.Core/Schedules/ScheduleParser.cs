using System.Collections.Concurrent;

namespace DatacenterOs.Jobs.Core;

/// <summary>Either a parsed schedule or the reason it could not be parsed.</summary>
public sealed class ScheduleParseResult
{
    private ScheduleParseResult(ISchedule? schedule, string? error, string? field)
    {
        Schedule = schedule;
        Error = error;
        Field = field;
    }

    /// <summary>The schedule, on success.</summary>
    public ISchedule? Schedule { get; }

    /// <summary>The message, on failure.</summary>
    public string? Error { get; }

    /// <summary>The job field the error is about (<c>schedule</c> or <c>scheduleTimeZone</c>), on failure.</summary>
    public string? Field { get; }

    /// <summary>True when <see cref="Schedule"/> is set.</summary>
    public bool IsSuccess => Schedule is not null;

    /// <summary>A success.</summary>
    public static ScheduleParseResult Success(ISchedule schedule) => new(schedule ?? throw new ArgumentNullException(nameof(schedule)), null, null);

    /// <summary>A failure.</summary>
    public static ScheduleParseResult Failure(string error, string field = JobFields.Schedule) => new(null, error, field);

    /// <summary>The schedule, or throws with the error.</summary>
    /// <exception cref="FormatException">Parsing failed.</exception>
    public ISchedule GetScheduleOrThrow() => Schedule ?? throw new FormatException(Error);
}

/// <summary>
/// Parses a job's <c>schedule</c> with its <c>scheduleTimeZone</c>: an ISO 8601 repeating interval when it starts with
/// <c>R</c> (<see cref="Iso8601Schedule"/>, Chronos's format), otherwise a cron expression (<see cref="CronSchedule"/>).
/// Beyond Chronos's parser it rejects what Chronos accepted and then mis-ran: unknown time zones (Chronos used GMT)
/// and a zero period that would repeat (<c>R/…/PT0S</c> re-ran back-to-back forever).
/// </summary>
public static class ScheduleParser
{
    /// <summary>Most (schedule, zone) pairs <see cref="Parse"/> remembers; the memo starts over when full.</summary>
    private const int MemoLimit = 4096;

    private static readonly ConcurrentDictionary<(string Schedule, string TimeZone), ScheduleParseResult> Memo = new();

    /// <summary>
    /// Parses <paramref name="schedule"/> in the IANA zone <paramref name="timeZone"/> (null or empty: UTC / the written
    /// offset). Results are immutable and memoized per (schedule, zone), so evaluating many jobs at each wake-up does not
    /// parse their schedules again.
    /// </summary>
    public static ScheduleParseResult Parse(string? schedule, string? timeZone)
    {
        if (schedule is null)
        {
            return ParseUncached(schedule, timeZone);
        }

        var key = (schedule, timeZone ?? string.Empty);
        if (Memo.TryGetValue(key, out var known))
        {
            return known;
        }

        var result = ParseUncached(schedule, timeZone);
        if (Memo.Count >= MemoLimit)
        {
            Memo.Clear();
        }

        Memo[key] = result;
        return result;
    }

    private static ScheduleParseResult ParseUncached(string? schedule, string? timeZone)
    {
        if (!ScheduleTimeZones.TryResolve(timeZone, out var zone, out var zoneError))
        {
            return ScheduleParseResult.Failure(zoneError!, JobFields.ScheduleTimeZone);
        }

        return ParseInZone(schedule, string.IsNullOrEmpty(timeZone) ? null : zone);
    }

    /// <summary>Parses <paramref name="schedule"/> in <paramref name="zone"/> (null: UTC / the written offset).</summary>
    public static ScheduleParseResult ParseInZone(string? schedule, TimeZoneInfo? zone)
    {
        if (string.IsNullOrWhiteSpace(schedule))
        {
            return ScheduleParseResult.Failure("Cannot parse schedule: the schedule is empty");
        }

        if (schedule.StartsWith('R'))
        {
            if (!Iso8601Schedule.TryParse(schedule, zone, out var iso, out var error))
            {
                return ScheduleParseResult.Failure(error!);
            }

            if (iso.Period.IsZero && (iso.Repetitions is null || iso.Repetitions > 1))
            {
                return ScheduleParseResult.Failure(
                    $"Invalid schedule '{schedule}': the period is zero, so the job would repeat back-to-back; use a positive period (or R1 for a single run)");
            }

            return ScheduleParseResult.Success(iso);
        }

        return CronSchedule.TryParse(schedule, zone, out var cron, out var cronError)
            ? ScheduleParseResult.Success(cron)
            : ScheduleParseResult.Failure(cronError!);
    }
}
