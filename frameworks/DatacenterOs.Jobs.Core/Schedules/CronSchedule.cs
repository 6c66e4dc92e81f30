using NCrontab;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// A 5-field Unix cron schedule (<c>minute hour day-of-month month day-of-week</c>, parsed by NCrontab: ranges, lists,
/// steps, month and weekday names; day-of-week 0–6 with 0 = Sunday; when both day fields are restricted a day must
/// match both, as in Metronome), plus the macros <c>@yearly</c>/<c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>,
/// <c>@daily</c>/<c>@midnight</c> and <c>@hourly</c>. Evaluated in an IANA zone with DST handled like cron daemons:
/// <list type="bullet">
/// <item>a local time that does not exist (spring-forward gap, e.g. 02:30 in New York on the second Sunday of March)
/// runs once, at the first valid instant after the gap (03:00 local);</item>
/// <item>a local time that exists twice (fall-back overlap) runs once, at its first occurrence.</item>
/// </list>
/// </summary>
public sealed class CronSchedule : ISchedule
{
    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    private readonly CrontabSchedule crontab;

    private CronSchedule(string expression, CrontabSchedule crontab, TimeZoneInfo zone)
    {
        Expression = expression;
        this.crontab = crontab;
        TimeZone = zone;
    }

    /// <inheritdoc/>
    public string Expression { get; }

    /// <inheritdoc/>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>Parses <paramref name="expression"/> for evaluation in <paramref name="zone"/> (null: UTC).</summary>
    /// <exception cref="FormatException">Not a valid 5-field cron expression.</exception>
    public static CronSchedule Parse(string expression, TimeZoneInfo? zone = null) =>
        TryParse(expression, zone, out var schedule, out var error) ? schedule : throw new FormatException(error);

    /// <summary>Parses <paramref name="expression"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? expression, TimeZoneInfo? zone, out CronSchedule schedule, out string? error)
    {
        schedule = null!;
        error = null;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = "Cannot parse schedule: the cron expression is empty";
            return false;
        }

        var text = Macros.TryGetValue(expression.Trim(), out var expanded) ? expanded : expression.Trim();
        var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"Cannot parse schedule '{expression}': a cron expression has 5 fields (minute hour day-of-month month day-of-week), got {fields.Length}";
            return false;
        }

        CrontabSchedule crontab;
        try
        {
            crontab = CrontabSchedule.Parse(string.Join(' ', fields));
        }
        catch (CrontabException e)
        {
            error = $"Cannot parse schedule '{expression}': {FirstLine(e.Message)}";
            return false;
        }

        // Reject expressions that never match (e.g. 0 0 31 2 *): every date recurs within 8 years (leap days included).
        var probeStart = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        var probeEnd = probeStart.AddYears(9);
        if (crontab.GetNextOccurrence(probeStart, probeEnd) >= probeEnd)
        {
            error = $"Cannot parse schedule '{expression}': the expression never matches a date";
            return false;
        }

        schedule = new CronSchedule(expression, crontab, zone ?? TimeZoneInfo.Utc);
        return true;
    }

    /// <inheritdoc/>
    public DateTimeOffset? NextAfter(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime;
        if (local.Year >= 9990)
        {
            return null;
        }

        var limit = local.AddYears(9);

        // Each candidate is a local wall-clock time; it maps to one instant (gap: the end of the gap; overlap: the first
        // pass). Candidates whose instant is not after `instant` (the rest of an overlap already lived through, or the
        // minutes of a gap that all map to the same instant) are passed over.
        for (var i = 0; i < 1_000_000; i++)
        {
            var next = crontab.GetNextOccurrence(local, limit);
            if (next >= limit)
            {
                return null;
            }

            var at = ScheduleTimeZones.ToInstant(next, TimeZone, GapRule.GapEnd);
            if (at > instant)
            {
                return at;
            }

            local = next;
        }

        return null;
    }

    /// <inheritdoc/>
    public override string ToString() => Expression;

    private static string FirstLine(string message)
    {
        var newline = message.IndexOfAny(['\r', '\n']);
        return newline < 0 ? message : message[..newline];
    }
}
