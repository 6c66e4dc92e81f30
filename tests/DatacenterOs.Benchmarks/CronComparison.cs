using System.Diagnostics;
using System.Globalization;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Debian <c>cron</c> firing the same number of every-minute entries, for comparison with the Jobs benchmark: writes
/// <c>/etc/cron.d/dcos-jobs-bench</c> with one <c>* * * * * root date +%s%N &gt;&gt; FILE</c> line per job, starts
/// <c>cron</c> if it is not running, waits for the minute boundaries, and measures each stamp against its boundary
/// (the instant cron started the command; our measure is the instant the task was reported running). Needs root and
/// <c>/usr/sbin/cron</c>; otherwise reports it is absent. Removes its file (and stops a cron it started) afterwards.
/// </summary>
internal static class CronComparison
{
    private const string CronBinary = "/usr/sbin/cron";
    private const string CronTab = "/etc/cron.d/dcos-jobs-bench";

    /// <summary>Lateness of each cron run in milliseconds (sorted) and the number of missed runs, or null when cron is absent.</summary>
    public static async Task<(List<double> Lateness, long Missed)?> RunAsync(int jobs, int minutes, CancellationToken cancellationToken)
    {
        if (!File.Exists(CronBinary) || !Directory.Exists("/etc/cron.d") || Environment.UserName != "root")
        {
            return null;
        }

        var dir = Directory.CreateTempSubdirectory("dcos-cron-bench-").FullName;
        var stamps = Path.Combine(dir, "stamps.log");
        var before = CronPids();
        var started = false;
        try
        {
            var line = $"* * * * * root date +\\%s\\%N >> {stamps}\n";
            await File.WriteAllTextAsync(CronTab, string.Concat(Enumerable.Repeat(line, jobs)), cancellationToken).ConfigureAwait(false);
            if (before.Count == 0)
            {
                using var start = Process.Start(CronBinary);
                await start!.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                started = true;
            }

            // cron reloads /etc/cron.d at a minute boundary: the boundary after the next is surely after the reload.
            var now = DateTimeOffset.UtcNow;
            var first = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(2);
            var expected = Enumerable.Range(0, minutes).Select(m => first.AddMinutes(m)).ToList();
            var until = expected[^1].AddSeconds(10);
            await Task.Delay(first.AddSeconds(-5) - DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            if (File.Exists(stamps))
            {
                File.Delete(stamps);
            }

            while (DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            File.Delete(CronTab);
            var lateness = new List<double>();
            var perMinute = expected.ToDictionary(e => e, _ => 0L);
            foreach (var text in File.Exists(stamps) ? await File.ReadAllLinesAsync(stamps, cancellationToken).ConfigureAwait(false) : [])
            {
                if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ns))
                {
                    continue;
                }

                var at = DateTimeOffset.FromUnixTimeMilliseconds(ns / 1_000_000).AddTicks(ns % 1_000_000 / 100);
                var boundary = new DateTimeOffset(at.Year, at.Month, at.Day, at.Hour, at.Minute, 0, TimeSpan.Zero);
                if (perMinute.TryGetValue(boundary, out var count))
                {
                    perMinute[boundary] = count + 1;
                    lateness.Add((at - boundary).TotalMilliseconds);
                }
            }

            lateness.Sort();
            return (lateness, perMinute.Values.Sum(c => Math.Max(0, jobs - c)));
        }
        finally
        {
            File.Delete(CronTab);
            // The cron started here (its pid file is locked by cron itself, so it is found by name).
            foreach (var pid in started ? CronPids().Except(before) : [])
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static HashSet<int> CronPids()
    {
        var pids = new HashSet<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            try
            {
                if (int.TryParse(Path.GetFileName(dir), out var pid) && File.ReadAllText(Path.Combine(dir, "comm")).Trim() == "cron")
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return pids;
    }
}
