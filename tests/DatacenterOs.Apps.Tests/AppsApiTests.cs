namespace DatacenterOs.Apps.Tests;

public sealed class AppsApiTests
{
    [Fact]
    public async Task Post_scale_restart_and_delete_an_app()
    {
        await using var f = await AppsFixture.StartAsync();

        var (status, body, response) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/web/server","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":1}""");
        Assert.Equal(201, status);
        Assert.Equal("/web/server", (string)body!["id"]!);
        Assert.Equal(1, (int)body["instances"]!);
        Assert.NotNull(body["portDefinitions"]);
        var deploymentId = (string)body["deployments"]![0]!["id"]!;
        Assert.Equal(deploymentId, response.Headers.GetValues("Marathon-Deployment-Id").Single());

        await f.WaitForStableAsync("/web/server", 1);
        var app = await f.GetAppAsync("/web/server");
        var task = app["tasks"]![0]!;
        Assert.StartsWith("web.server.", (string)task["id"]!, StringComparison.Ordinal);
        Assert.Equal("TASK_RUNNING", (string)task["state"]!);
        Assert.Single(task["ports"]!.AsArray());

        // Scale 1 → 3 → 1.
        (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/web/server", """{"instances":3}""");
        Assert.Equal(200, status);
        Assert.NotNull(body!["deploymentId"]);
        Assert.NotNull(body["version"]);
        await f.WaitForStableAsync("/web/server", 3);
        var three = AppsFixture.TaskIds(await f.GetAppAsync("/web/server"));

        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/web/server", """{"instances":1}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/web/server", 1);
        var one = AppsFixture.TaskIds(await f.GetAppAsync("/web/server"));
        Assert.Contains(one[0], three);

        // A configuration change is a rolling restart: every instance is replaced.
        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/web/server", """{"instances":2}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/web/server", 2);
        var before = AppsFixture.TaskIds(await f.GetAppAsync("/web/server"));
        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/web/server", """{"cmd":"sleep 2000"}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/web/server", 2, a => AppsFixture.TaskIds(a).All(id => !before.Contains(id)));
        Assert.Equal("sleep 2000", (string)(await f.GetAppAsync("/web/server"))["cmd"]!);

        // POST /restart replaces them again.
        var afterUpdate = AppsFixture.TaskIds(await f.GetAppAsync("/web/server"));
        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps/web/server/restart");
        Assert.Equal(200, status);
        Assert.NotNull(body!["deploymentId"]);
        await f.WaitForStableAsync("/web/server", 2, a => AppsFixture.TaskIds(a).All(id => !afterUpdate.Contains(id)));

        // GET /v2/apps lists it with counts; the tasks endpoint lists the tasks.
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps?embed=apps.tasks");
        Assert.Equal(200, status);
        var listed = Assert.Single(body!["apps"]!.AsArray())!;
        Assert.Equal(2, (int)listed["tasksRunning"]!);
        Assert.Equal(0, (int)listed["tasksStaged"]!);
        Assert.Equal(2, listed["tasks"]!.AsArray().Count);
        (_, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps?id=nothing");
        Assert.Empty(body!["apps"]!.AsArray());
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/web/server/tasks");
        Assert.Equal(200, status);
        Assert.Equal(2, body!["tasks"]!.AsArray().Count);

        // DELETE kills the instances; the app is gone.
        (status, body, _) = await f.SendAsync(HttpMethod.Delete, "/v2/apps/web/server");
        Assert.Equal(200, status);
        Assert.NotNull(body!["deploymentId"]);
        (status, _, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/web/server");
        Assert.Equal(404, status);
        await AppsFixture.WaitUntilAsync(
            async () => (await f.SendAsync(HttpMethod.Get, "/v2/deployments")).Body!.AsArray().Count == 0,
            "the delete deployment to finish");
    }

    [Fact]
    public async Task Locked_apps_duplicates_unknown_apps_and_invalid_apps_are_refused()
    {
        await using var f = await AppsFixture.StartAsync(agents: 1);

        var (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/apps/nope");
        Assert.Equal(404, status);
        Assert.Equal("App '/nope' does not exist", (string)body!["message"]!);

        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", "{not json");
        Assert.Equal(400, status);
        Assert.Equal("Invalid JSON", (string)body!["message"]!);

        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/bad","cmd":"x","cpus":-1,"instances":-2}""");
        Assert.Equal(422, status);
        Assert.Equal("Object is not valid", (string)body!["message"]!);
        var paths = body["details"]!.AsArray().Select(d => (string)d!["path"]!).ToList();
        Assert.Contains("/cpus", paths);
        Assert.Contains("/instances", paths);

        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/nocmd"}""");
        Assert.Equal(422, status);
        Assert.Equal("/", (string)body!["details"]![0]!["path"]!);

        // A deployment that cannot finish (cpus beyond any agent) locks the app.
        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/big","cmd":"x","cpus":64,"mem":32}""");
        Assert.Equal(201, status);
        var deploymentId = (string)body!["deployments"]![0]!["id"]!;

        (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/big","cmd":"x","cpus":1,"mem":32}""");
        Assert.Equal(409, status);
        Assert.Equal("An app with id [/big] already exists.", (string)body!["message"]!);

        (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/big", """{"cpus":1}""");
        Assert.Equal(409, status);
        Assert.Equal(
            $"App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/{deploymentId}'.",
            (string)body!["message"]!);
        Assert.Equal(deploymentId, (string)body["deployments"]![0]!["id"]!);

        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/deployments");
        Assert.Equal(200, status);
        var deployment = Assert.Single(body!.AsArray())!;
        Assert.Equal(deploymentId, (string)deployment["id"]!);
        Assert.Equal("/big", (string)deployment["affectedApps"]![0]!);

        (status, _, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/big?force=true", """{"cpus":1}""");
        Assert.Equal(200, status);
        await f.WaitForStableAsync("/big", 1);

        (status, _, _) = await f.SendAsync(HttpMethod.Get, "/ping");
        Assert.Equal(200, status);
        (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v2/info");
        Assert.Equal(200, status);
        Assert.Equal(f.Apps.FrameworkId, (string)body!["frameworkId"]!);
    }

    [Fact]
    public async Task Unique_hostname_with_more_instances_than_agents_leaves_one_waiting()
    {
        await using var f = await AppsFixture.StartAsync(agents: 2);

        var (status, _, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/uniq","cmd":"x","cpus":0.1,"mem":32,"instances":3,"constraints":[["hostname","UNIQUE"]]}""");
        Assert.Equal(201, status);
        await AppsFixture.WaitUntilAsync(async () => (int)(await f.GetAppAsync("/uniq"))["tasksRunning"]! == 2, "two instances");

        // Give the allocator several rounds: the third instance must stay unplaced.
        await Task.Delay(1500);
        var app = await f.GetAppAsync("/uniq");
        Assert.Equal(2, (int)app["tasksRunning"]!);
        var hosts = app["tasks"]!.AsArray().Select(t => (string)t!["host"]!).ToList();
        Assert.Equal(2, hosts.Distinct().Count());
        Assert.Single(app["deployments"]!.AsArray());
    }

    [Fact]
    public async Task Put_creates_a_missing_app()
    {
        await using var f = await AppsFixture.StartAsync(agents: 1);
        var (status, body, _) = await f.SendAsync(HttpMethod.Put, "/v2/apps/made/by-put", """{"cmd":"x","cpus":0.1,"mem":32}""");
        Assert.Equal(201, status);
        Assert.NotNull(body!["deploymentId"]);
        await f.WaitForStableAsync("/made/by-put", 1);
    }
}
