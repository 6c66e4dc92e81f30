using System.Globalization;
using System.Text.RegularExpressions;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// An ISO 8601 repeating interval <c>R[n]/[start]/period</c>, read exactly as Chronos 3 reads it
/// (<c>jobs/Iso8601Expressions.scala</c>): the whole string must match <c>(R[0-9]*)/(.*)/(P.*)</c>; <c>R</c> alone
/// repeats without bound, <c>Rn</c> gives n occurrences (<c>R0</c> never runs); the start is an ISO 8601 date or date-time
/// with optional offset (<c>2026-01-01</c>, <c>2026-01-01T09:30</c>, <c>2026-01-01T09:30:00.000+02:00</c>; no offset
/// means UTC); an empty start means "now" and must be anchored with <see cref="AnchoredAt"/> before use; the period is
/// an <see cref="IsoPeriod"/>.
/// <para>
/// Occurrence k (k = 0, 1, …, n − 1) is <c>start + k × period</c> (Joda <c>start.plus(period.multipliedBy(k))</c>): date
/// fields are added in the schedule's zone's local calendar (month ends clamp: 31 Jan + P1M = 28/29 Feb), time fields as
/// exact durations. With a <c>scheduleTimeZone</c> the start's wall-clock fields are kept and its written offset is
/// replaced (Joda <c>withZoneRetainFields</c>); without one the zone is the start's fixed offset. A local time that
/// falls into a DST gap moves forward by the gap's length (Joda's lenient rule); an ambiguous one takes the earlier
/// instant.
/// </para>
/// <para>
/// Unlike Chronos, repetitions are positions on this grid: an occurrence consumes its repetition whether it ran or was
/// skipped, and retries or manual runs never consume one (Chronos issue #814).
/// </para>
/// </summary>
public sealed partial class Iso8601Schedule : ISchedule
{
    /// <summary>The earliest start Chronos accepts (<c>Iso8601JobResource</c>: "is before 1970!").</summary>
    public static readonly DateTimeOffset MinimumStart = new(1970, 1, 1, 0, 0, 1, TimeSpan.Zero);

    private readonly DateTime? localStart;

    private Iso8601Schedule(string expression, long? repetitions, DateTimeOffset? start, DateTime? localStart, IsoPeriod period, TimeZoneInfo zone, bool zoneFromOffset)
    {
        Expression = expression;
        Repetitions = repetitions;
        Start = start;
        this.localStart = localStart;
        Period = period;
        TimeZone = zone;
        ZoneFromOffset = zoneFromOffset;
    }

    /// <inheritdoc/>
    public string Expression { get; }

    /// <summary>Number of occurrences; null means unbounded (<c>R/…</c>).</summary>
    public long? Repetitions { get; }

    /// <summary>The first occurrence; null when the expression has an empty start (<c>R1//PT24H</c>) and is not anchored.</summary>
    public DateTimeOffset? Start { get; }

    /// <summary>True when <see cref="Start"/> is known.</summary>
    public bool IsAnchored => Start is not null;

    /// <summary>The period between occurrences.</summary>
    public IsoPeriod Period { get; }

    /// <inheritdoc/>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>True when <see cref="TimeZone"/> is the fixed offset written in the start (no <c>scheduleTimeZone</c>).</summary>
    public bool ZoneFromOffset { get; }

    /// <summary>Parses <paramref name="expression"/> in <paramref name="zone"/> (null: the written offset, UTC when none).</summary>
    /// <exception cref="FormatException">The expression is not a valid repeating interval.</exception>
    public static Iso8601Schedule Parse(string expression, TimeZoneInfo? zone = null) =>
        TryParse(expression, zone, out var schedule, out var error) ? schedule : throw new FormatException(error);

    /// <summary>Parses <paramref name="expression"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? expression, TimeZoneInfo? zone, out Iso8601Schedule schedule, out string? error)
    {
        schedule = null!;
        error = null;
        var m = expression is null ? Match.Empty : ExpressionRegex().Match(expression);
        if (!m.Success)
        {
            error = $"Cannot parse schedule '{expression}': expected an ISO 8601 repeating interval R[n]/[start]/period";
            return false;
        }

        long? repetitions = null;
        var r = m.Groups["r"].Value;
        if (r.Length > 1)
        {
            if (!long.TryParse(r.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                error = $"Cannot parse schedule '{expression}': repetition count '{r[1..]}' is too large";
                return false;
            }

            repetitions = n;
        }

        var period = IsoPeriod.TryParse(m.Groups["p"].Value);
        if (period is null)
        {
            error = $"Cannot parse schedule '{expression}': '{m.Groups["p"].Value}' is not an ISO 8601 period (PnYnMnWnDTnHnMnS)";
            return false;
        }

        var startText = m.Groups["s"].Value;
        if (startText.Length == 0)
        {
            var z = zone ?? TimeZoneInfo.Utc;
            schedule = new Iso8601Schedule(expression!, repetitions, null, null, period, z, zone is null);
            return true;
        }

        if (!TryParseStart(startText, out var local, out var offset))
        {
            error = $"Cannot parse schedule '{expression}': '{startText}' is not an ISO 8601 date-time (yyyy-MM-dd[THH:mm[:ss[.fff]]][Z|±hh:mm])";
            return false;
        }

        schedule = Create(expression!, repetitions, local, offset ?? TimeSpan.Zero, period, zone);
        return true;
    }

    private static Iso8601Schedule Create(string expression, long? repetitions, DateTime local, TimeSpan offset, IsoPeriod period, TimeZoneInfo? zone)
    {
        if (zone is null)
        {
            var fixedZone = offset == TimeSpan.Zero
                ? TimeZoneInfo.Utc
                : TimeZoneInfo.CreateCustomTimeZone(FormatOffset(offset), offset, FormatOffset(offset), FormatOffset(offset));
            return new Iso8601Schedule(expression, repetitions, new DateTimeOffset(local, offset), local, period, fixedZone, true);
        }

        var start = ScheduleTimeZones.ToInstant(local, zone, GapRule.ShiftByGap);
        return new Iso8601Schedule(expression, repetitions, start, local, period, zone, false);
    }

    /// <summary>
    /// This schedule with an empty start replaced by <c>now − 1 s</c>, as Chronos evaluates an empty start
    /// (<c>DateTime.now(UTC).minusSeconds(1)</c>); an anchored schedule is returned unchanged. Persist the result
    /// (<see cref="ToChronosString"/>) so the start does not move on every evaluation.
    /// </summary>
    public Iso8601Schedule AnchoredAt(DateTimeOffset now)
    {
        if (IsAnchored)
        {
            return this;
        }

        var start = TimeZoneInfo.ConvertTime(now.AddSeconds(-1), TimeZone);
        var partial = new Iso8601Schedule(Expression, Repetitions, start, start.DateTime, Period, TimeZone, ZoneFromOffset);
        return new Iso8601Schedule(partial.ToChronosString(), Repetitions, start, start.DateTime, Period, TimeZone, ZoneFromOffset);
    }

    /// <summary>
    /// Occurrence number <paramref name="index"/> (0-based) ignoring the repetition limit: <c>start + index × period</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The schedule is not anchored.</exception>
    public DateTimeOffset OccurrenceAt(long index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var start = Start ?? throw new InvalidOperationException($"schedule '{Expression}' has no start: anchor it with AnchoredAt(now) first");
        if (index == 0)
        {
            return start;
        }

        if (!Period.HasDatePart)
        {
            return start.AddTicks(checked(Period.TimePart.Ticks * index));
        }

        var scaled = Period.MultipliedBy(checked((int)index));
        var local = localStart!.Value
            .AddYears(scaled.Years)
            .AddMonths(scaled.Months)
            .AddDays((scaled.Weeks * 7L) + scaled.Days);
        var at = ZoneFromOffset
            ? new DateTimeOffset(local, start.Offset)
            : ScheduleTimeZones.ToInstant(local, TimeZone, GapRule.ShiftByGap);
        return at + scaled.TimePart;
    }

    /// <summary>True when occurrence <paramref name="index"/> exists (within the repetitions; a zero period has only occurrence 0).</summary>
    public bool HasOccurrence(long index) =>
        index >= 0 && (Repetitions is not { } n || index < n) && (index == 0 || !Period.IsZero);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The schedule is not anchored.</exception>
    public DateTimeOffset? NextAfter(DateTimeOffset instant)
    {
        var start = Start ?? throw new InvalidOperationException($"schedule '{Expression}' has no start: anchor it with AnchoredAt(now) first");
        if (!HasOccurrence(0))
        {
            return null;
        }

        if (start > instant)
        {
            return start;
        }

        try
        {
            var k = IndexAtOrBefore(instant) + 1;
            return HasOccurrence(k) ? OccurrenceAt(k) : null;
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException)
        {
            return null; // beyond the representable calendar
        }
    }

    /// <summary>
    /// The latest occurrence at or before <paramref name="instant"/> (the last one when the repetitions ran out before
    /// it), or null when the first occurrence is after it or there are none.
    /// </summary>
    /// <exception cref="InvalidOperationException">The schedule is not anchored.</exception>
    public DateTimeOffset? PreviousAtOrBefore(DateTimeOffset instant)
    {
        var start = Start ?? throw new InvalidOperationException($"schedule '{Expression}' has no start: anchor it with AnchoredAt(now) first");
        if (!HasOccurrence(0) || start > instant)
        {
            return null;
        }

        var k = IndexAtOrBefore(instant);
        if (Repetitions is { } n && k >= n)
        {
            k = n - 1;
        }

        return OccurrenceAt(k);
    }

    // Largest k with OccurrenceAt(k) <= instant (instant >= start); for a zero period always 0.
    private long IndexAtOrBefore(DateTimeOffset instant)
    {
        if (Period.IsZero)
        {
            return 0;
        }

        var start = Start!.Value;
        if (!Period.HasDatePart)
        {
            return (instant - start).Ticks / Period.TimePart.Ticks;
        }

        var k = (long)Math.Floor((instant - start).Ticks / (double)Period.ApproximateLength.Ticks);
        k = Math.Clamp(k, 0, int.MaxValue - 1);
        while (k > 0 && OccurrenceAt(k) > instant)
        {
            k--;
        }

        while (k < int.MaxValue - 1 && OccurrenceAt(k + 1) <= instant)
        {
            k++;
        }

        return k;
    }

    /// <summary>
    /// The expression in Chronos's output form: <c>R5/2026-01-01T00:00:00.000Z/PT1H</c> (Joda
    /// <c>ISODateTimeFormat.dateTime</c> start, <c>R/</c> when unbounded).
    /// </summary>
    public string ToChronosString()
    {
        var r = Repetitions is { } n ? "R" + n.ToString(CultureInfo.InvariantCulture) : "R";
        var start = Start is { } s ? FormatInstant(s) : string.Empty;
        return $"{r}/{start}/{Period}";
    }

    /// <inheritdoc/>
    public override string ToString() => Expression;

    internal static string FormatInstant(DateTimeOffset instant)
    {
        var text = instant.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture);
        return text + (instant.Offset == TimeSpan.Zero ? "Z" : FormatOffset(instant.Offset));
    }

    private static string FormatOffset(TimeSpan offset) =>
        (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture);

    private static bool TryParseStart(string text, out DateTime local, out TimeSpan? offset)
    {
        local = default;
        offset = null;
        var m = StartRegex().Match(text);
        if (!m.Success)
        {
            return false;
        }

        static int Int(Group g) => g.Success ? int.Parse(g.Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            var fraction = m.Groups["f"].Success ? m.Groups["f"].Value.PadRight(7, '0')[..7] : "0";
            local = new DateTime(Int(m.Groups["y"]), Int(m.Groups["mo"]), Int(m.Groups["d"]), Int(m.Groups["h"]), Int(m.Groups["mi"]), Int(m.Groups["s"]), DateTimeKind.Unspecified)
                .AddTicks(long.Parse(fraction, CultureInfo.InvariantCulture));
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }

        if (m.Groups["z"].Success)
        {
            var z = m.Groups["z"].Value;
            if (z == "Z")
            {
                offset = TimeSpan.Zero;
            }
            else
            {
                var hours = Int(m.Groups["oh"]);
                var minutes = Int(m.Groups["om"]);
                if (hours > 18 || minutes > 59)
                {
                    return false;
                }

                var value = new TimeSpan(hours, minutes, 0);
                offset = z[0] == '-' ? -value : value;
            }
        }

        return true;
    }

    [GeneratedRegex(@"^(?<r>R[0-9]*)/(?<s>.*)/(?<p>P.*)$", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex ExpressionRegex();

    [GeneratedRegex(@"^(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2})(?:T(?<h>\d{2})(?::(?<mi>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?)?(?<z>Z|[+-](?<oh>\d{2})(?::?(?<om>\d{2}))?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex StartRegex();
}
