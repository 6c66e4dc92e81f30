using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Tests;

/// <summary>Deployments, events, groups, queue and persistence over real loopback HTTP against a real master.</summary>
public sealed class AppsDeploymentTests
{
    [Fact]
    public async Task Rolling_restart_keeps_minimum_health_capacity_at_every_event()
    {
        await using var f = await AppsFixture.StartAsync(agents: 3);
        await using var events = await EventRecorder.StartAsync(f);
        var (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/roll","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":4,
             "upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0}}
            """);
        Assert.Equal(201, status);
        await f.WaitForStableAsync("/roll", 4);
        var before = AppsFixture.TaskIds(await f.GetAppAsync("/roll"));
        var mark = events.Events.Count;

        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/roll", """{"cmd":"sleep 2000"}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/roll", 4, a => AppsFixture.TaskIds(a).All(id => !before.Contains(id)));
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(events.OfType("deployment_success").Count >= 2), "deployment_success event");

        // Replay the status updates after the change: never fewer than ceil(4 × 0.5) = 2 running, never more than
        // floor(4 × (1 + 0)) = 4 non-terminal.
        var latest = before.ToDictionary(id => id, _ => "TASK_RUNNING");
        var minRunning = int.MaxValue;
        var maxAlive = 0;
        foreach (var evt in events.Events.Skip(mark).Where(e => (string?)e["eventType"] == "status_update_event"))
        {
            latest[(string)evt["taskId"]!] = (string)evt["taskStatus"]!;
            minRunning = Math.Min(minRunning, latest.Values.Count(s => s == "TASK_RUNNING"));
            maxAlive = Math.Max(maxAlive, latest.Values.Count(s => s is "TASK_RUNNING" or "TASK_STAGING" or "TASK_STARTING" or "TASK_KILLING"));
        }

        Assert.True(minRunning >= 2, $"running instances fell to {minRunning}");
        Assert.True(maxAlive <= 4, $"{maxAlive} instances were alive at once");
        Assert.True(latest.Count >= 8, "every old instance was replaced by a new one");
        Assert.NotEmpty(events.OfType("deployment_info"));
        Assert.NotEmpty(events.OfType("api_post_event"));
        Assert.NotEmpty(events.OfType("instance_changed_event"));
    }

    [Fact]
    public async Task Restarting_apps_mid_deployment_resumes_it_without_extra_instances()
    {
        await using var f = await AppsFixture.StartAsync(agents: 3);
        var (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/resume","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":3,
             "upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":0}}
            """);
        Assert.Equal(201, status);
        await f.WaitForStableAsync("/resume", 3);
        var before = AppsFixture.TaskIds(await f.GetAppAsync("/resume"));

        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/resume", """{"cmd":"sleep 2000"}""");
        Assert.Equal(200, status);

        // Stop Apps in the middle of the one-at-a-time replacement; the tasks keep running on the master.
        await f.RestartAppsAsync();
        var (_, deployments, _) = await f.SendAsync(HttpMethod.Get, "/v2/deployments");
        Assert.True(deployments!.AsArray().Count <= 1);

        await f.WaitForStableAsync("/resume", 3, a => AppsFixture.TaskIds(a).All(id => !before.Contains(id)));
        var app = await f.GetAppAsync("/resume");
        Assert.Equal("sleep 2000", (string)app["cmd"]!);

        // Exactly 3 tasks of this app are alive on the master: nothing was over-scaled or left behind.
        var state = await f.MasterStateAsync();
        var alive = state["frameworks"]!.AsArray().SelectMany(fw => fw!["tasks"]!.AsArray())
            .Where(t => ((string)t!["id"]!).StartsWith("resume.", StringComparison.Ordinal))
            .Where(t => (string)t!["state"]! is "TASK_STAGING" or "TASK_STARTING" or "TASK_RUNNING" or "TASK_KILLING")
            .ToList();
        Assert.Equal(3, alive.Count(t => (string)t!["state"]! == "TASK_RUNNING"));
        Assert.All(alive, t => Assert.DoesNotContain((string)t!["id"]!, before));
    }

    [Fact]
    public async Task Restarting_apps_when_stable_adopts_running_tasks()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/adopt","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":2}""");
        await f.WaitForStableAsync("/adopt", 2);
        var before = AppsFixture.TaskIds(await f.GetAppAsync("/adopt"));
        var version = (string)(await f.GetAppAsync("/adopt"))["version"]!;

        await f.RestartAppsAsync();
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(!f.Apps.IsReconciling), "reconciliation");
        await f.WaitForStableAsync("/adopt", 2);
        var app = await f.GetAppAsync("/adopt");
        Assert.Equal(before, AppsFixture.TaskIds(app));
        Assert.Equal(version, (string)app["version"]!);
    }

    [Fact]
    public async Task Group_with_dependency_deploys_in_dependency_order()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await using var events = await EventRecorder.StartAsync(f, "?event_type=status_update_event");
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/groups", """
            {"id":"/shop","apps":[
              {"id":"web","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":2,"dependencies":["db"]},
              {"id":"db","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":1}]}
            """);
        Assert.Equal(201, status);
        Assert.NotNull(body!["deploymentId"]);
        await f.WaitForStableAsync("/shop/db", 1);
        await f.WaitForStableAsync("/shop/web", 2);

        var updates = events.Events.Where(e => (string?)e["eventType"] != "event_stream_attached").ToList();
        Assert.All(updates, e => Assert.Equal("status_update_event", (string)e["eventType"]!));
        var firstWeb = updates.FindIndex(e => (string)e["appId"]! == "/shop/web");
        var dbRunning = updates.FindIndex(e => (string)e["appId"]! == "/shop/db" && (string)e["taskStatus"]! == "TASK_RUNNING");
        Assert.True(dbRunning >= 0 && dbRunning < firstWeb, "db ran before web was launched");

        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/groups/shop");
        Assert.Equal(200, status);
        Assert.Equal("/shop", (string)body!["id"]!);
        Assert.Equal(["/shop/db", "/shop/web"], body["apps"]!.AsArray().Select(a => (string)a!["id"]!).Order().ToList());
        Assert.Equal(["/shop/db"], body["apps"]!.AsArray().Single(a => (string)a!["id"]! == "/shop/web")!["dependencies"]!.AsArray().Select(d => (string)d!).ToList());

        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/groups");
        Assert.Equal("/shop", (string)body!["groups"]![0]!["id"]!);

        (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/groups", """{"id":"/shop","apps":[]}""");
        Assert.Equal(409, status);

        // Deleting the group stops both apps.
        (status, _, _) = await f.SendAsync(HttpMethod.Delete, "/v2/groups/shop");
        Assert.Equal(200, status);
        await AppsFixture.WaitUntilAsync(async () => (await f.SendAsync(HttpMethod.Get, "/v2/groups/shop")).Status == 404, "group removed");
    }

    [Fact]
    public async Task Dependency_cycle_in_a_group_is_rejected_and_changes_nothing()
    {
        await using var f = await AppsFixture.StartAsync(agents: 1);
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/groups", """
            {"id":"/cyc","apps":[
              {"id":"a","cmd":"sleep 1","dependencies":["b"]},
              {"id":"b","cmd":"sleep 1","dependencies":["a"]}]}
            """);
        Assert.Equal(422, status);
        Assert.Contains("cyclic", (string)body!["message"]!, StringComparison.Ordinal);
        (status, _, _) = await f.SendAsync(HttpMethod.Get, "/v2/groups/cyc");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task Queue_explains_why_an_app_is_not_placed()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/huge","cmd":"sleep 1000","cpus":1000,"mem":16}""");
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/spread","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":3,"constraints":[["hostname","UNIQUE"]]}""");

        JsonNode? queue = null;
        await AppsFixture.WaitUntilAsync(async () =>
        {
            (_, queue, _) = await f.SendAsync(HttpMethod.Get, "/v2/queue");
            var items = queue!["queue"]!.AsArray();
            return items.Count == 2 && items.All(i => (long)i!["processedOffersSummary"]!["unusedOffersCount"]! >= 2);
        }, "both apps waiting with offers seen");

        var huge = queue!["queue"]!.AsArray().Single(i => (string)i!["app"]!["id"]! == "/huge")!;
        Assert.Equal(1, (int)huge["count"]!);
        Assert.Equal("InsufficientCpus", (string)huge["waitingReasons"]![0]!["reason"]!);
        Assert.True((int)huge["processedOffersSummary"]!["rejectSummaryLastOffers"]!.AsArray().Single(r => (string)r!["reason"]! == "InsufficientCpus")!["declined"]! > 0);

        var spread = queue["queue"]!.AsArray().Single(i => (string)i!["app"]!["id"]! == "/spread")!;
        Assert.Equal(1, (int)spread["count"]!);
        var why = spread["waitingReasons"]![0]!;
        Assert.Equal("UnfulfilledConstraint", (string)why["reason"]!);
        Assert.Contains("UNIQUE", (string)why["detail"]!, StringComparison.Ordinal);

        // The deployment of the unplaceable app stays open: it is listed, and the app is locked.
        var (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/huge", """{"cpus":2000}""");
        Assert.Equal(409, status);
    }

    [Fact]
    public async Task Deleting_a_deployment_rolls_back_and_force_cancels()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/rb","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":2}""");
        await f.WaitForStableAsync("/rb", 2);
        var before = AppsFixture.TaskIds(await f.GetAppAsync("/rb"));

        // An upgrade that cannot be placed: the deployment hangs (old instances keep running, minimumHealthCapacity 1).
        var (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/rb", """{"cpus":1000}""");
        Assert.Equal(200, status);
        var stuck = (string)body!["deploymentId"]!;
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/deployments");
        Assert.Equal(stuck, (string)body![0]!["id"]!);

        (status, body, _) = await f.SendAsync(HttpMethod.Delete, "/v2/deployments/" + stuck);
        Assert.Equal(200, status);
        Assert.NotEqual(stuck, (string)body!["deploymentId"]!);
        await f.WaitForStableAsync("/rb", 2);
        var app = await f.GetAppAsync("/rb");
        Assert.Equal(0.1, (double)app["cpus"]!);
        Assert.Equal(before, AppsFixture.TaskIds(app));

        // force=true cancels without reverting.
        (_, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/rb", """{"cpus":1000}""");
        var second = (string)body!["deploymentId"]!;
        (status, _, _) = await f.SendAsync(HttpMethod.Delete, "/v2/deployments/" + second + "?force=true");
        Assert.Equal(202, status);
        (_, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/deployments");
        Assert.Empty(body!.AsArray());
        Assert.Equal(1000, (double)(await f.GetAppAsync("/rb"))["cpus"]!);

        (status, _, _) = await f.SendAsync(HttpMethod.Delete, "/v2/deployments/nope");
        Assert.Equal(404, status);
    }

    [Fact]
    public async Task Progress_deadline_fails_the_deployment_and_rolls_back_when_asked()
    {
        await using var f = await AppsFixture.StartAsync(agents: 1);
        await using var events = await EventRecorder.StartAsync(f, "?event_type=deployment_failed");
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/dl","cmd":"sleep 1000","cpus":0.1,"mem":16,"progressDeadlineSeconds":1}""");
        await f.WaitForStableAsync("/dl", 1);

        var (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/dl?rollbackOnFailure=true", """{"cpus":1000}""");
        Assert.Equal(200, status);
        var failing = (string)body!["deploymentId"]!;
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(events.Events.Any(e => (string)e["id"]! == failing)), "deployment_failed");
        Assert.Contains("progressDeadlineSeconds", (string)events.Events.First(e => (string)e["id"]! == failing)["reason"]!, StringComparison.Ordinal);
        await f.WaitForStableAsync("/dl", 1, a => (double)a["cpus"]! == 0.1);
    }

    [Fact]
    public async Task Versions_kill_and_scale_dry_run_and_tasks_endpoints()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/v","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":3}""");
        await f.WaitForStableAsync("/v", 3);
        var first = (string)(await f.GetAppAsync("/v"))["version"]!;
        await f.SendAsync(HttpMethod.Put, "/v2/apps/v", """{"cmd":"sleep 1001"}""");
        await f.WaitForStableAsync("/v", 3, a => (string)a["cmd"]! == "sleep 1001");

        var (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/v/versions");
        Assert.Equal(200, status);
        var versions = body!["versions"]!.AsArray().Select(v => (string)v!).ToList();
        Assert.Equal(2, versions.Count);
        Assert.Equal(first, versions[1]);
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/v/versions/" + first);
        Assert.Equal(200, status);
        Assert.Equal("sleep 1000", (string)body!["cmd"]!);
        (status, _, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/v/versions/2001-01-01T00:00:00.000Z");
        Assert.Equal(404, status);

        // Dry run: the plan, and nothing changes.
        (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/v?dryRun=true", """{"instances":5}""");
        Assert.Equal(200, status);
        Assert.Equal("ScaleApplication", (string)body!["steps"]![0]!["actions"]![0]!["action"]!);
        Assert.Equal(3, (int)(await f.GetAppAsync("/v"))["instances"]!);
        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/plan", """{"id":"/v","cmd":"sleep 5","cpus":0.1,"mem":16,"instances":3}""");
        Assert.Equal(200, status);
        Assert.Equal("RestartApplication", (string)body!["steps"]![0]!["actions"]![0]!["action"]!);

        // /v2/tasks lists all running tasks; kill one with scale=true: instances drop to 2 and the others survive.
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/tasks?status=running");
        Assert.Equal(3, body!["tasks"]!.AsArray().Count);
        var ids = AppsFixture.TaskIds(await f.GetAppAsync("/v"));
        (status, body, _) = await f.SendAsync(HttpMethod.Delete, $"/v2/apps/v/tasks/{ids[0]}?scale=true");
        Assert.Equal(200, status);
        Assert.NotNull(body!["deploymentId"]);
        await f.WaitForStableAsync("/v", 2);
        Assert.Equal(ids.Skip(1).ToList(), AppsFixture.TaskIds(await f.GetAppAsync("/v")));

        // Without scale the killed task is replaced.
        (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/tasks/delete", $$"""{"ids":["{{ids[1]}}"]}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/v", 2, a => !AppsFixture.TaskIds(a).Contains(ids[1]));

        (status, _, _) = await f.SendAsync(HttpMethod.Get, "/v2/leader");
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Crashing_command_backs_off_and_queue_shows_the_delay()
    {
        await using var f = await AppsFixture.StartAsync(agents: 1);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/crash","cmd":"exit 1","cpus":0.1,"mem":16,"backoffSeconds":1,"backoffFactor":2,
             "labels":{"DCOS_SIMULATED_DURATION":"0"}}
            """);
        JsonNode? item = null;
        await AppsFixture.WaitUntilAsync(async () =>
        {
            var (_, queue, _) = await f.SendAsync(HttpMethod.Get, "/v2/queue");
            item = queue!["queue"]!.AsArray().FirstOrDefault();
            return item is not null && (long)item["delay"]!["timeLeftSeconds"]! >= 2;
        }, "a launch delay of at least 2 s (after 2 failures with factor 2)");
        Assert.False((bool)item!["delay"]!["overdue"]!);
        var app = await f.GetAppAsync("/crash");
        Assert.Equal("TASK_FINISHED", (string)app["lastTaskFailure"]!["state"]!);

        // DELETE /v2/queue/{id}/delay resets it.
        var (status, _, _) = await f.SendAsync(HttpMethod.Delete, "/v2/queue/crash/delay");
        Assert.Equal(204, status);
    }

    [Fact]
    public async Task Scale_suspend_resume_and_destroy_over_the_api()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);
        await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/life","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":1}""");
        await f.WaitForStableAsync("/life", 1);
        foreach (var n in new[] { 5, 2 })
        {
            var (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/life", $$"""{"instances":{{n}}}""");
            Assert.Equal(200, status);
            await f.WaitForStableAsync("/life", n);
        }

        var kept = AppsFixture.TaskIds(await f.GetAppAsync("/life"));

        // Suspend = instances 0 (every task killed, the app stays); resume = scale back up with new tasks.
        var (code, _, _) = await f.SendAsync(HttpMethod.Patch, "/v2/apps/life", """{"instances":0}""");
        Assert.Equal(200, code);
        await f.WaitForStableAsync("/life", 0);
        Assert.Equal(0, (int)(await f.GetAppAsync("/life"))["instances"]!);
        (code, _, _) = await f.SendAsync(HttpMethod.Patch, "/v2/apps/life", """{"instances":2}""");
        Assert.Equal(200, code);
        await f.WaitForStableAsync("/life", 2, a => AppsFixture.TaskIds(a).All(id => !kept.Contains(id)));

        (code, _, _) = await f.SendAsync(HttpMethod.Delete, "/v2/apps/life");
        Assert.Equal(200, code);
        await AppsFixture.WaitUntilAsync(async () => (await f.SendAsync(HttpMethod.Get, "/v2/apps/life")).Status == 404, "app removed");
        await AppsFixture.WaitUntilAsync(
            async () => !(await f.MasterStateAsync())["frameworks"]!.AsArray().SelectMany(fw => fw!["tasks"]!.AsArray()).Any(t => ((string)t!["id"]!).StartsWith("life.", StringComparison.Ordinal) && (string)t["state"]! == "TASK_RUNNING"),
            "tasks killed");
    }
}
