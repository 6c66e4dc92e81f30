using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Jobs.Core;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// The pure trigger decision alone: <see cref="JobTrigger.Due(JobTriggerInput)"/> at a minute boundary for <c>jobs</c>
/// every-minute cron jobs, each with its cursor at the previous boundary and its previous run finished (what the Jobs
/// service evaluates when its wake-up fires). Warm, median and p99 of <c>rounds</c> evaluations, and the process CPU time
/// per evaluation (steadier than wall time on a busy machine). Prints
/// <c>jobs-trigger jobs=N rounds=R due_p50_ms=… due_p99_ms=… cpu_ms_per_due=… new_runs=…</c>.
/// </summary>
internal static class JobTriggerBenchmark
{
    public static int Run(int jobs, int rounds)
    {
        var boundary = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var definitions = Enumerable.Range(0, jobs)
            .Select(i => new JobDefinition { Name = string.Create(CultureInfo.InvariantCulture, $"bench-{i:D5}"), Command = "true", Schedule = "* * * * *" })
            .ToList();
        var graph = JobGraph.Create(definitions);
        var cursors = definitions.ToDictionary(j => j.Name, j => new JobCursor(boundary.AddMinutes(-1), JobTrigger.ScheduleBasis(j)), StringComparer.Ordinal);
        var previous = JobTrigger.Due(new JobTriggerInput
        {
            Graph = graph,
            Cursors = definitions.ToDictionary(j => j.Name, j => new JobCursor(boundary.AddMinutes(-2), JobTrigger.ScheduleBasis(j)), StringComparer.Ordinal),
            Now = boundary.AddMinutes(-1),
        });
        var history = previous.NewRuns.Select(r => r.Started(boundary.AddMinutes(-1), "t-" + r.RunId, "a").Finished(boundary.AddSeconds(-59), 0)).ToList();
        var input = new JobTriggerInput { Graph = graph, Runs = history, Cursors = cursors, Now = boundary.AddMilliseconds(2), LastEvaluated = boundary.AddMinutes(-1) };

        var times = new List<double>();
        var created = 0;
        var process = Process.GetCurrentProcess();
        var cpu = TimeSpan.Zero;
        for (var i = 0; i < rounds + 3; i++)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            var plan = JobTrigger.Due(input);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            process.Refresh();
            created = plan.NewRuns.Count;
            if (i >= 3)
            {
                times.Add(ms);
                cpu += process.TotalProcessorTime - cpuBefore;
            }
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"jobs-trigger jobs={jobs} rounds={rounds} due_p50_ms={times[times.Count / 2]:F2} due_p99_ms={times[Math.Min(times.Count - 1, (int)Math.Ceiling(0.99 * times.Count) - 1)]:F2} cpu_ms_per_due={cpu.TotalMilliseconds / rounds:F2} new_runs={created}"));
        return created == jobs ? 0 : 1;
    }
}
