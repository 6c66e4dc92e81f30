namespace DatacenterOs.Apps.Tests;

/// <summary>Health checks end to end: a real agent runs real processes and their checks; Apps acts on the results.</summary>
public sealed class AppsHealthTests
{
    [Fact]
    public async Task Command_health_check_makes_instances_healthy_and_a_failing_one_is_replaced()
    {
        await using var f = await AppsFixture.StartWithRealAgentAsync();
        await using var events = await EventRecorder.StartAsync(f, "?event_type=unhealthy_instance_kill_event&event_type=health_status_changed_event");

        // Healthy: the command creates the file the check looks for (in the sandbox, the check's working directory).
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/ok","cmd":"touch ok && sleep 1000","cpus":0.1,"mem":32,"instances":2,
             "healthChecks":[{"protocol":"COMMAND","command":{"value":"test -f ok"},"gracePeriodSeconds":30,"intervalSeconds":2,"timeoutSeconds":1}]}
            """);
        Assert.True(status == 201, body?.ToJsonString());
        await f.WaitForStableAsync("/ok", 2, a => (int)a["tasksHealthy"]! == 2);
        var task = (await f.GetAppAsync("/ok"))["tasks"]![0]!;
        Assert.True((bool)task["healthCheckResults"]![0]!["alive"]!);

        // Never healthy: killed after maxConsecutiveFailures once the grace period is over, and replaced.
        (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/sick","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":1,
             "healthChecks":[{"protocol":"COMMAND","command":{"value":"test -f ok"},"gracePeriodSeconds":0,"intervalSeconds":2,"timeoutSeconds":1,"maxConsecutiveFailures":2}]}
            """);
        Assert.Equal(201, status);
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(events.OfType("unhealthy_instance_kill_event").Count >= 1), "an unhealthy instance killed", seconds: 60);
        var kill = events.OfType("unhealthy_instance_kill_event")[0];
        Assert.Equal("/sick", (string)kill["appId"]!);
        Assert.Contains(events.OfType("health_status_changed_event"), e => (string)e["appId"]! == "/sick" && !(bool)e["alive"]!);
        await AppsFixture.WaitUntilAsync(
            async () => AppsFixture.TaskIds(await f.GetAppAsync("/sick")).Any(id => id != (string)kill["taskId"]!),
            "a replacement launched");
        await AppsFixture.WaitUntilAsync(async () => (await f.GetAppAsync("/sick"))["lastTaskFailure"] is not null, "the health kill recorded as the last failure");
        var app = await f.GetAppAsync("/sick");
        Assert.Equal(0, (int)app["tasksHealthy"]!);
        Assert.Equal((string)kill["taskId"]!, (string)app["lastTaskFailure"]!["taskId"]!);

        // The healthy app was never touched.
        Assert.DoesNotContain(events.OfType("unhealthy_instance_kill_event"), e => (string)e["appId"]! == "/ok");
    }

    [Fact]
    public async Task Http_health_checked_web_service_serves_and_turns_healthy()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "python3 is required for this test under CI");
            return;
        }

        await using var f = await AppsFixture.StartWithRealAgentAsync();
        var json = await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "examples", "apps", "web.json"));
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", json);
        Assert.True(status == 201, body?.ToJsonString());
        await f.WaitForStableAsync("/web", 1, a => (int)a["tasksHealthy"]! == 1);
        var port = (int)(await f.GetAppAsync("/web"))["tasks"]![0]!["ports"]![0]!;
        var page = await f.Http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/"));
        Assert.Contains("Directory listing", page, StringComparison.Ordinal);
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DatacenterOs.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
