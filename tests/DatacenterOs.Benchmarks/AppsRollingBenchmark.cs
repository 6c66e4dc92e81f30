using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Rolling restart of one app of <c>instances</c> instances with a MESOS_HTTP health check that passes at once
/// (simulated agents report TASK_RUNNING healthy) and Marathon's default upgradeStrategy (minimumHealthCapacity 1,
/// maximumOverCapacity 1): time from <c>POST /v2/apps/{id}/restart</c> until the deployment is gone, every instance
/// replaced. Target 5 s for 100 instances. Prints <c>apps-rolling instances=… restart_s=… replaced=…</c>.
/// </summary>
internal static class AppsRollingBenchmark
{
    public static async Task<int> RunAsync(int instances, int agents, int rounds, CancellationToken cancellationToken)
    {
        await using var cluster = await AppsCluster.StartAsync("apps-rolling", agents, Math.Max(20, instances * 2 / agents + 10), cancellationToken).ConfigureAwait(false);
        var app = string.Create(CultureInfo.InvariantCulture, $$"""
            {"id":"/rolling","cmd":"sleep 3600","cpus":0.01,"mem":1,"instances":{{instances}},
             "portDefinitions":[{"port":0}],
             "healthChecks":[{"protocol":"MESOS_HTTP","path":"/","portIndex":0,"gracePeriodSeconds":30,"intervalSeconds":2,"timeoutSeconds":1,"maxConsecutiveFailures":3}]}
            """);
        await cluster.PostAsync("/v2/apps", app, cancellationToken).ConfigureAwait(false);
        await cluster.WaitForNoDeploymentsAsync(cancellationToken).ConfigureAwait(false);
        var times = new List<double>();
        var replaced = 0;
        for (var round = 0; round < rounds; round++)
        {
            var before = await TaskIdsAsync(cluster, cancellationToken).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            await cluster.PostAsync("/v2/apps/rolling/restart", "", cancellationToken).ConfigureAwait(false);
            await cluster.WaitForNoDeploymentsAsync(cancellationToken).ConfigureAwait(false);
            times.Add(Stopwatch.GetElapsedTime(started).TotalSeconds);
            var after = await TaskIdsAsync(cluster, cancellationToken).ConfigureAwait(false);
            replaced = after.Count(id => !before.Contains(id));
            if (replaced != instances || after.Count != instances)
            {
                await Console.Error.WriteLineAsync($"apps-rolling: FAILED: after the restart {after.Count} instances, {replaced} new (expected {instances})").ConfigureAwait(false);
                return 1;
            }
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"apps-rolling instances={instances} restart_s={times[times.Count / 2]:F2} restart_max_s={times[^1]:F2} rounds={rounds} replaced={replaced}"));
        return 0;
    }

    private static async Task<HashSet<string>> TaskIdsAsync(AppsCluster cluster, CancellationToken cancellationToken)
    {
        var tasks = JsonNode.Parse(await cluster.Http.GetStringAsync(new Uri("/v2/apps/rolling/tasks", UriKind.Relative), cancellationToken).ConfigureAwait(false))!["tasks"]!.AsArray();
        return [.. tasks.Select(t => t!["id"]!.GetValue<string>())];
    }
}
