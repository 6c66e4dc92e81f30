using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Kernel;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Nomad C1M's shape (1,000 jobs × 1,000 tasks on 5,000 hosts; Nomad 0.3.1: 3,750 placements/s, hashicorp.com/c1m) on
/// this kernel: a real master in this process, <c>agents</c> simulated agents (each its own agent protocol stream over
/// loopback HTTP; TASK_RUNNING at once, no processes) and one framework on the v1 scheduler HTTP API placing
/// <c>tasks</c> tiny tasks (0.01 cpus, 32 MiB) in groups of <c>group</c> through the real offer loop: as many per offer
/// as fit, one ACCEPT per offer, and acknowledging every update. Prints
/// <c>placements agents=… tasks=… placements_per_s=… time_to_last_running_s=… rss_mb=…</c>: placements per second
/// counts tasks in ACCEPTs the master answered 202, from the first ACCEPT sent to the last answered; the time to the
/// last TASK_RUNNING counts from the framework's SUBSCRIBE.
/// </summary>
internal static class PlacementsBenchmark
{
    public static async Task<int> RunAsync(int agents, int tasks, int groupSize, CancellationToken cancellationToken)
    {
        var perAgent = (int)Math.Ceiling(tasks * 1.5 / agents) + 10;
        var agentResources = string.Create(CultureInfo.InvariantCulture, $"cpus:{perAgent * 0.01 + 1:F2};mem:{(perAgent * 32) + 1024};disk:10000;ports:[31000-32000]");
        await using var cluster = await ScaleCluster.StartAsync("placements", agents, agentResources, TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        await using var framework = new PlacingFramework(cluster.Url, "c1m", "*", tasks, groupSize, Resources.Parse("cpus:0.01;mem:32"), int.MaxValue);
        var subscribe = Stopwatch.GetTimestamp();
        await framework.StartAsync(cancellationToken).ConfigureAwait(false);
        var limit = TimeSpan.FromSeconds(120 + (tasks / 500.0));
        using (new Timer(_ => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"placements-progress elapsed_s={Stopwatch.GetElapsedTime(subscribe).TotalSeconds:F0} placed={framework.Placed} running={framework.Running} rss_mb={ScaleCluster.RssMiB():F0}")), null, 5000, 5000))
        {
            if (await Task.WhenAny(framework.AllRunning, Task.Delay(limit, cancellationToken)).ConfigureAwait(false) != framework.AllRunning)
            {
                await Console.Error.WriteLineAsync($"placements: FAILED: not all tasks running within {limit.TotalSeconds:F0} s: {framework.Detail()}").ConfigureAwait(false);
                return 1;
            }
        }

        if (framework.Failed > 0 || framework.Running < tasks)
        {
            await Console.Error.WriteLineAsync("placements: FAILED: " + framework.Detail()).ConfigureAwait(false);
            return 1;
        }

        var placeSeconds = (framework.LastAcceptAnswered - framework.FirstAccept) / (double)Stopwatch.Frequency;
        var lastRunning = (framework.LastRunning - subscribe) / (double)Stopwatch.Frequency;
        await Console.Error.WriteLineAsync("placements-detail " + framework.Detail() + string.Create(CultureInfo.InvariantCulture,
            $" subscribe_to_first_accept_s={(framework.FirstAccept - subscribe) / (double)Stopwatch.Frequency:F2} place_s={placeSeconds:F2}")).ConfigureAwait(false);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"placements agents={agents} tasks={tasks} placements_per_s={tasks / Math.Max(placeSeconds, 1e-3):F0} time_to_last_running_s={lastRunning:F2} rss_mb={ScaleCluster.RssMiB():F0}"));
        return 0;
    }
}
