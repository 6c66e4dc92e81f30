namespace DatacenterOs.Jobs.Core;

/// <summary>
/// Resolves <c>scheduleTimeZone</c> values: IANA ids through <see cref="TimeZoneInfo.FindSystemTimeZoneById"/> (the
/// platform's tz database). Unknown ids are errors: Chronos's <c>TimeZone.getTimeZone</c> silently fell back to GMT,
/// and Java's three-letter ids (<c>PST</c>, <c>BST</c> = Bangladesh) surprised users, so only ids the tz database knows
/// are accepted. An empty id means UTC.
/// </summary>
public static class ScheduleTimeZones
{
    /// <summary>Finds the zone <paramref name="id"/>; null or empty gives <see cref="TimeZoneInfo.Utc"/>.</summary>
    /// <param name="id">IANA id such as <c>Europe/Berlin</c>.</param>
    /// <param name="zone">The zone, when found.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>True when found.</returns>
    public static bool TryResolve(string? id, out TimeZoneInfo zone, out string? error)
    {
        zone = TimeZoneInfo.Utc;
        error = null;
        if (string.IsNullOrEmpty(id))
        {
            return true;
        }

        if (id.Trim() != id || id.Length > 64)
        {
            error = $"Unknown time zone '{id}': use an IANA time zone id such as 'America/New_York'";
            return false;
        }

        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            return true;
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            error = $"Unknown time zone '{id}': use an IANA time zone id such as 'America/New_York'";
            return false;
        }
    }

    /// <summary>
    /// The instant of local wall-clock time <paramref name="local"/> in <paramref name="zone"/>. Ambiguous times (DST
    /// fall-back overlap) give the first occurrence (the earlier instant). Invalid times (in a spring-forward gap) are
    /// resolved by <paramref name="gapRule"/>.
    /// </summary>
    internal static DateTimeOffset ToInstant(DateTime local, TimeZoneInfo zone, GapRule gapRule)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            return gapRule == GapRule.ShiftByGap ? ShiftByGap(local, zone) : GapEnd(local, zone);
        }

        var offset = zone.IsAmbiguousTime(local) ? zone.GetAmbiguousTimeOffsets(local).Max() : zone.GetUtcOffset(local);
        return new DateTimeOffset(local, offset);
    }

    // The first valid local minute at or after `local` is the end of the gap (transitions are minute-aligned).
    private static DateTimeOffset GapEnd(DateTime local, TimeZoneInfo zone)
    {
        var probe = new DateTime(local.Year, local.Month, local.Day, local.Hour, local.Minute, 0, DateTimeKind.Unspecified);
        for (var i = 0; i < 48 * 60 && zone.IsInvalidTime(probe); i++)
        {
            probe = probe.AddMinutes(1);
        }

        return new DateTimeOffset(probe, zone.GetUtcOffset(probe));
    }

    // Joda-Time's lenient rule: the local time is read with the offset in force before the gap, which moves it forward
    // by the gap's length (02:30 in a one-hour gap becomes 03:30).
    private static DateTimeOffset ShiftByGap(DateTime local, TimeZoneInfo zone)
    {
        var gapEnd = GapEnd(local, zone);
        var before = zone.GetUtcOffset(gapEnd.UtcDateTime.AddTicks(-1));
        var utc = DateTime.SpecifyKind(local, DateTimeKind.Utc) - before;
        return new DateTimeOffset(utc, TimeSpan.Zero).ToOffset(zone.GetUtcOffset(utc));
    }
}

/// <summary>How a local time inside a DST gap becomes an instant.</summary>
internal enum GapRule
{
    /// <summary>The first valid instant after the gap (cron).</summary>
    GapEnd,

    /// <summary>Read with the offset before the gap, i.e. moved forward by the gap's length (Joda-Time, ISO schedules).</summary>
    ShiftByGap,
}
