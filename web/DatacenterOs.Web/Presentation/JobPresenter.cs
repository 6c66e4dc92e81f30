using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DatacenterOs.Web.Backend;
using NCrontab;

namespace DatacenterOs.Web.Presentation;

/// <summary>Presentation logic of the Jobs pages: schedules in words, next runs, status, the coloured DAG.</summary>
public static partial class JobPresenter
{
    /// <summary>
    /// The schedule in words and its next run after <paramref name="now"/>: ISO 8601 repeating intervals
    /// (<c>R/2026-01-01T00:00:00Z/PT1H</c>: "every 1 hour") or five-field cron (<c>*/5 * * * *</c>); dependent jobs
    /// read "after a, b".
    /// </summary>
    public static (string Words, DateTimeOffset? Next) Describe(JobView job, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Schedule.Length == 0)
        {
            return (job.Parents.Count > 0 ? "after " + string.Join(", ", job.Parents) : "on demand", null);
        }

        if (job.Schedule.StartsWith('R'))
        {
            return DescribeIso(job.Schedule, now);
        }

        try
        {
            var cron = CrontabSchedule.Parse(job.Schedule);
            var next = cron.GetNextOccurrence(now.UtcDateTime);
            return ($"cron {job.Schedule}{CronWords(job.Schedule)}", new DateTimeOffset(DateTime.SpecifyKind(next, DateTimeKind.Utc)));
        }
        catch (CrontabException)
        {
            return (job.Schedule, null);
        }
    }

    private static string CronWords(string cron) => cron.Trim() switch
    {
        "* * * * *" => " (every minute)",
        "0 * * * *" => " (every hour)",
        "0 0 * * *" => " (every day at midnight)",
        _ when cron.StartsWith("*/", StringComparison.Ordinal) && cron.EndsWith(" * * * *", StringComparison.Ordinal) => $" (every {cron[2..cron.IndexOf(' ', StringComparison.Ordinal)]} minutes)",
        _ => "",
    };

    private static (string, DateTimeOffset?) DescribeIso(string schedule, DateTimeOffset now)
    {
        var parts = schedule.Split('/');
        if (parts.Length != 3)
        {
            return (schedule, null);
        }

        var repeats = parts[0].Length > 1 && int.TryParse(parts[0][1..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var r) ? r : -1;
        var period = ParsePeriod(parts[2]);
        if (period is not { } step || step <= TimeSpan.Zero)
        {
            return (schedule, null);
        }

        var start = DateTimeOffset.TryParse(parts[1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var s) ? s : now;
        var words = "every " + PeriodWords(parts[2]) + (repeats == 0 ? " (no repeats left)" : repeats > 0 ? $", {repeats} more times" : "");
        DateTimeOffset? next = start;
        if (start < now)
        {
            var steps = (long)Math.Ceiling((now - start).Ticks / (double)step.Ticks);
            next = repeats >= 0 && steps > repeats ? null : start + TimeSpan.FromTicks(step.Ticks * steps);
        }

        return (words, repeats == 0 && start < now ? null : next);
    }

    private static TimeSpan? ParsePeriod(string iso)
    {
        var m = PeriodRegex().Match(iso);
        if (!m.Success)
        {
            return null;
        }

        double Get(string g) => m.Groups[g].Success ? double.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture) : 0;
        return TimeSpan.FromDays((Get("y") * 365) + (Get("mo") * 30) + (Get("w") * 7) + Get("d")) + TimeSpan.FromHours(Get("h")) + TimeSpan.FromMinutes(Get("mi")) + TimeSpan.FromSeconds(Get("s"));
    }

    private static string PeriodWords(string iso)
    {
        var m = PeriodRegex().Match(iso);
        if (!m.Success)
        {
            return iso;
        }

        var parts = new List<string>();
        void Add(string g, string unit)
        {
            if (m.Groups[g].Success)
            {
                var v = m.Groups[g].Value;
                parts.Add($"{v} {unit}{(v == "1" ? "" : "s")}");
            }
        }

        Add("y", "year");
        Add("mo", "month");
        Add("w", "week");
        Add("d", "day");
        Add("h", "hour");
        Add("mi", "minute");
        Add("s", "second");
        return string.Join(" ", parts);
    }

    [GeneratedRegex(@"^P(?:(?<y>\d+)Y)?(?:(?<mo>\d+)M)?(?:(?<w>\d+)W)?(?:(?<d>\d+)D)?(?:T(?:(?<h>\d+)H)?(?:(?<mi>\d+)M)?(?:(?<s>\d+(?:\.\d+)?)S)?)?$")]
    private static partial Regex PeriodRegex();

    /// <summary>The last state of a job: its newest run's state, else from its success/failure instants, else <c>never run</c>.</summary>
    public static string LastState(JobView job, JobRunView? newestRun)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (newestRun is not null)
        {
            return newestRun.State;
        }

        return (job.LastSuccess, job.LastError) switch
        {
            (null, null) => "never run",
            ({ } ok, { } err) => ok >= err ? "succeeded" : "failed",
            (not null, null) => "succeeded",
            _ => "failed",
        };
    }

    /// <summary>Fill colour of a state in the DAG.</summary>
    public static string StateColor(string state) => state switch
    {
        "succeeded" or "success" => "#9be29b",
        "failed" or "killed" or "failure" => "#f3a0a0",
        "running" or "starting" or "launched" => "#9ec5fe",
        "queued" or "waiting" or "retrying" => "#ffe69c",
        _ => "#e9ecef",
    };

    /// <summary>
    /// Adds a fill colour to every node of <paramref name="dot"/> (as <c>/v1/scheduler/graph/dot</c> writes it:
    /// <c>1 [ label="a" ];</c>) from its job's state in <paramref name="states"/>.
    /// </summary>
    public static string ColorDot(string dot, IReadOnlyDictionary<string, string> states)
    {
        ArgumentNullException.ThrowIfNull(dot);
        ArgumentNullException.ThrowIfNull(states);
        var sb = new StringBuilder();
        foreach (var line in dot.Split('\n'))
        {
            var m = NodeRegex().Match(line);
            if (m.Success)
            {
                var label = m.Groups["label"].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
                var state = states.GetValueOrDefault(label, "never run");
                sb.Append(CultureInfo.InvariantCulture, $"{m.Groups["indent"].Value}{m.Groups["id"].Value} [ label=\"{m.Groups["label"].Value}\", style=filled, fillcolor=\"{StateColor(state)}\", tooltip=\"{m.Groups["label"].Value}: {state}\", id=\"job-{m.Groups["id"].Value}\", class=\"dag-{state.Replace(' ', '-')}\" ];\n");
            }
            else if (line.Length > 0)
            {
                sb.Append(line).Append('\n');
                if (line.StartsWith("digraph", StringComparison.Ordinal))
                {
                    sb.Append("  node [ shape=box, fontname=\"sans-serif\" ];\n");
                }
            }
        }

        return sb.ToString();
    }

    [GeneratedRegex("^(?<indent>\\s*)(?<id>\\d+) \\[ label=\"(?<label>(?:[^\"\\\\]|\\\\.)*)\" \\];$")]
    private static partial Regex NodeRegex();
}
