using System.Globalization;

namespace DatacenterOs.Web.Presentation;

/// <summary>How the dashboard writes numbers, sizes and instants.</summary>
public static class Formats
{
    /// <summary>Cores, e.g. <c>0.5</c>, <c>4</c>.</summary>
    public static string Cpus(double cores) => cores.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>MiB as <c>512 MiB</c> or <c>1.5 GiB</c>.</summary>
    public static string Mib(double mib) => mib >= 1024
        ? (mib / 1024).ToString("0.#", CultureInfo.InvariantCulture) + " GiB"
        : mib.ToString("0.#", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>A 0..1 fraction as <c>42%</c>.</summary>
    public static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>0..100 for progress bars (0 when the total is 0).</summary>
    public static double Fraction(double used, double total) => total <= 0 ? 0 : Math.Clamp(used / total, 0, 1);

    /// <summary>An instant relative to <paramref name="now"/>: <c>5 s ago</c>, <c>in 3 min</c>, or <c>—</c> for none.</summary>
    public static string Relative(DateTimeOffset? instant, DateTimeOffset now)
    {
        if (instant is not { } at)
        {
            return "—";
        }

        var delta = now - at;
        var future = delta < TimeSpan.Zero;
        var span = future ? -delta : delta;
        var text = span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds} s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours} h"
            : $"{(int)span.TotalDays} d";
        return future ? "in " + text : text + " ago";
    }

    /// <summary>UTC instant as <c>2026-01-01 12:00:00Z</c>.</summary>
    public static string Utc(DateTimeOffset? instant) => instant is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : "—";

    /// <summary><c>TASK_RUNNING</c> → <c>Running</c>.</summary>
    public static string TaskState(string state) => state.StartsWith("TASK_", StringComparison.Ordinal)
        ? string.Concat(state[5], state[6..].ToLowerInvariant())
        : state;

    /// <summary>Bootstrap colour for a task state.</summary>
    public static string TaskStateColor(string state) => state switch
    {
        "TASK_RUNNING" => "success",
        "TASK_STAGING" or "TASK_STARTING" or "TASK_KILLING" => "info",
        "TASK_FINISHED" => "secondary",
        "TASK_KILLED" => "secondary",
        "TASK_UNREACHABLE" => "warning",
        _ => "danger",
    };
}
