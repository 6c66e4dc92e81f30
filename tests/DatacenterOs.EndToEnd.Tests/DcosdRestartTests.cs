using System.Diagnostics;
using DatacenterOs.Testing;

namespace DatacenterOs.EndToEnd.Tests;

/// <summary>The real dcosd process: Apps survives its restart in the middle of a rolling restart.</summary>
public sealed class DcosdRestartTests
{
    [Fact]
    public async Task Restarting_dcosd_mid_deployment_completes_it_without_extra_instances()
    {
        var workDir = Directory.CreateTempSubdirectory("dcos-e2e-").FullName;
        // Each generation runs `sleep 1000.<pid><generation>`: a valid duration that marks the processes as ours.
        var marker = "sleep 1000." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var dcosd = new DcosdProcess(workDir, "[33000-33100]");
        try
        {
            await dcosd.StartAsync();
            var (status, body) = await dcosd.SendAsync(HttpMethod.Post, "/v2/apps", $$$"""
                {"id":"/svc","cmd":"exec {{{marker}}}1","cpus":0.1,"mem":16,"instances":3,
                 "upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":0}}
                """);
            Assert.True(status == 201, body?.ToJsonString());
            await WaitForAsync(dcosd, 3, "1");
            Assert.Equal(3, Processes(marker + "1"));

            // One-at-a-time replacement; stop dcosd right after it starts.
            (status, _) = await dcosd.SendAsync(HttpMethod.Put, "/v2/apps/svc", $$$"""{"cmd":"exec {{{marker}}}2"}""");
            Assert.Equal(200, status);
            await dcosd.StopAsync();
            Assert.True(Processes(marker + "1") + Processes(marker + "2") <= 4, "never above instances + 1 (maximumOverCapacity 0)");

            await dcosd.StartAsync();
            await WaitForAsync(dcosd, 3, "2");
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Processes(marker + "1") == 0), "old processes gone");
            Assert.Equal(3, Processes(marker + "2"));

            (status, _) = await dcosd.SendAsync(HttpMethod.Delete, "/v2/apps/svc");
            Assert.Equal(200, status);
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Processes(marker) == 0), "all processes killed");
            await dcosd.StopAsync();
        }
        finally
        {
            foreach (var pid in Pids(marker))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }

            try
            {
                Directory.Delete(workDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Waits until the app runs <paramref name="instances"/> tasks of the given command suffix and no deployment.</summary>
    private static async Task WaitForAsync(DcosdProcess dcosd, int instances, string suffix)
    {
        try
        {
            await WaitForCoreAsync(dcosd, instances, suffix);
        }
        catch (TimeoutException e)
        {
            var (_, app) = await dcosd.SendAsync(HttpMethod.Get, "/v2/apps/svc");
            var (_, deployments) = await dcosd.SendAsync(HttpMethod.Get, "/v2/deployments");
            var (_, queue) = await dcosd.SendAsync(HttpMethod.Get, "/v2/queue");
            throw new TimeoutException(e.Message + "\napp: " + app?.ToJsonString() + "\ndeployments: " + deployments?.ToJsonString() + "\nqueue: " + queue?.ToJsonString() + "\nlog:\n" + string.Join("\n", dcosd.Output.TakeLast(40)), e);
        }
    }

    private static Task WaitForCoreAsync(DcosdProcess dcosd, int instances, string suffix) => DcosdProcess.WaitUntilAsync(async () =>
    {
        var (status, body) = await dcosd.SendAsync(HttpMethod.Get, "/v2/apps/svc");
        if (status != 200)
        {
            return false;
        }

        var app = body!["app"]!;
        return ((string)app["cmd"]!).EndsWith(suffix, StringComparison.Ordinal)
            && (int)app["tasksRunning"]! == instances
            && app["tasks"]!.AsArray().Count == instances
            && app["deployments"]!.AsArray().Count == 0;
    }, $"{instances} instances of *{suffix}");

    private static int Processes(string marker) => Pids(marker).Count;

    /// <summary>Live (not zombie) processes whose command line contains <paramref name="marker"/>.</summary>
    private static List<int> Pids(string marker)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..][0];
                if (state != 'Z' && cmdline.StartsWith(marker, StringComparison.Ordinal))
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
