using System.Globalization;

namespace DatacenterOs.Storage;

/// <summary>
/// How times are stored: UTC ISO 8601 text with seven fractional digits and a <c>Z</c> suffix, e.g.
/// <c>2026-01-01T12:00:00.1234567Z</c>. Round-trips every <see cref="DateTimeOffset"/> to the tick (the offset is
/// normalized to UTC) and sorts lexically in chronological order.
/// </summary>
internal static class StorageTime
{
    private const string Format = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";

    public static string ToText(DateTimeOffset value) => value.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    public static DateTimeOffset FromText(string text) =>
        DateTimeOffset.ParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
