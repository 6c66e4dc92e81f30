using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// An ISO 8601 period <c>PnYnMnWnDTnHnMnS</c> as Joda-Time's <c>ISOPeriodFormat.standard</c> reads it (Chronos
/// parses schedule periods and <c>epsilon</c> with it): each field optional, non-negative integers, seconds may carry
/// up to three fraction digits (milliseconds). <c>P</c> and <c>PT0S</c> are the zero period.
/// Date fields (years, months, weeks, days) are added in local calendar time of the schedule's zone, so <c>P1D</c>
/// keeps the wall-clock time across DST changes; time fields are exact durations, so <c>PT24H</c> does not.
/// </summary>
public sealed partial record IsoPeriod(int Years, int Months, int Weeks, int Days, int Hours, int Minutes, int Seconds, int Milliseconds)
{
    /// <summary>The zero period.</summary>
    public static IsoPeriod Zero { get; } = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>True when every field is zero.</summary>
    public bool IsZero => this == Zero;

    /// <summary>True when the period has a years, months, weeks or days part (added in calendar time).</summary>
    public bool HasDatePart => Years != 0 || Months != 0 || Weeks != 0 || Days != 0;

    /// <summary>The exact duration of the hours, minutes, seconds and milliseconds parts.</summary>
    public TimeSpan TimePart =>
        TimeSpan.FromHours(Hours) + TimeSpan.FromMinutes(Minutes) + TimeSpan.FromSeconds(Seconds) + TimeSpan.FromMilliseconds(Milliseconds);

    /// <summary>
    /// Length with calendar parts approximated (year 365.2425 days, month 30.436875 days); exact when
    /// <see cref="HasDatePart"/> is false.
    /// </summary>
    public TimeSpan ApproximateLength =>
        TimeSpan.FromDays((Years * 365.2425) + (Months * 30.436875) + (Weeks * 7.0) + Days) + TimePart;

    /// <summary>Parses <paramref name="text"/>; null when it is not a valid period.</summary>
    public static IsoPeriod? TryParse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var m = PeriodRegex().Match(text);
        if (!m.Success || text.EndsWith('T'))
        {
            return null;
        }

        int Field(string name)
        {
            var g = m.Groups[name];
            return !g.Success ? 0 : int.TryParse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;
        }

        var fraction = m.Groups["f"].Success ? int.Parse(m.Groups["f"].Value.PadRight(3, '0'), CultureInfo.InvariantCulture) : 0;
        var period = new IsoPeriod(Field("y"), Field("mo"), Field("w"), Field("d"), Field("h"), Field("mi"), Field("s"), fraction);
        return period.Years < 0 || period.Months < 0 || period.Weeks < 0 || period.Days < 0 || period.Hours < 0 ||
               period.Minutes < 0 || period.Seconds < 0
            ? null
            : period;
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">Not a valid ISO 8601 period.</exception>
    public static IsoPeriod Parse(string text) =>
        TryParse(text) ?? throw new FormatException($"'{text}' is not an ISO 8601 period (PnYnMnWnDTnHnMnS)");

    /// <summary>A period of whole seconds, written <c>PT{n}S</c>.</summary>
    public static IsoPeriod FromSeconds(int seconds) => new(0, 0, 0, 0, 0, 0, seconds, 0);

    /// <summary>This period with every field multiplied by <paramref name="factor"/> (Joda <c>Period.multipliedBy</c>).</summary>
    public IsoPeriod MultipliedBy(int factor) =>
        new(checked(Years * factor), checked(Months * factor), checked(Weeks * factor), checked(Days * factor),
            checked(Hours * factor), checked(Minutes * factor), checked(Seconds * factor), checked(Milliseconds * factor));

    /// <summary>
    /// Total seconds when the period has no calendar part (years, months, weeks or days are not fixed lengths in a
    /// zone with DST); weeks and days count as 7 × 86 400 and 86 400 s here, as Joda's <c>toStandardSeconds</c>.
    /// Null when years or months are set.
    /// </summary>
    public long? ToStandardSeconds() =>
        Years != 0 || Months != 0
            ? null
            : (((((Weeks * 7L) + Days) * 24L) + Hours) * 3600L) + (Minutes * 60L) + Seconds;

    /// <summary>Joda's ISO form: <c>P1Y2M3W4DT5H6M7.008S</c>; the zero period is <c>PT0S</c>.</summary>
    public override string ToString()
    {
        if (IsZero)
        {
            return "PT0S";
        }

        var sb = new StringBuilder("P");
        Append(sb, Years, 'Y');
        Append(sb, Months, 'M');
        Append(sb, Weeks, 'W');
        Append(sb, Days, 'D');
        if (Hours != 0 || Minutes != 0 || Seconds != 0 || Milliseconds != 0)
        {
            sb.Append('T');
            Append(sb, Hours, 'H');
            Append(sb, Minutes, 'M');
            if (Milliseconds != 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{Seconds}.{Milliseconds:D3}S");
            }
            else
            {
                Append(sb, Seconds, 'S');
            }
        }

        return sb.ToString();
    }

    private static void Append(StringBuilder sb, int value, char unit)
    {
        if (value != 0)
        {
            sb.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
    }

    [GeneratedRegex(@"^P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+)H)?(?:(?<mi>\d+)M)?(?:(?<s>\d+)(?:[.,](?<f>\d{1,3}))?S)?)?$", RegexOptions.CultureInvariant)]
    private static partial Regex PeriodRegex();
}
