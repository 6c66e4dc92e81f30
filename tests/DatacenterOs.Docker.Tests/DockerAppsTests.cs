using System.Text.Json.Nodes;
using DatacenterOs.Agent.Docker;
using DatacenterOs.Testing;

namespace DatacenterOs.Docker.Tests;

/// <summary>Apps in Docker containers on a real daemon, through the real dcosd (one at a time: they share host ports).</summary>
[Collection("docker")]
public sealed class DockerAppsTests
{
    private const string Image = DockerEnvironment.Image;

    [DockerFact]
    public async Task Seed_app_runs_in_a_container_with_its_read_only_volume_and_output_in_the_sandbox()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var hostDir = Directory.CreateDirectory(Path.Combine(cluster.WorkDir, "data-a")).FullName;

        // The seed's JSON, with the local test image and a host path inside the test's directory.
        var json = """{"container":{"type":"DOCKER","docker":{"image":"IMAGE"},"volumes":[{"containerPath":"/etc/a","hostPath":"HOSTPATH","mode":"RO"}]},"id":"ubuntu","instances":1,"cpus":0.5,"mem":512,"cmd":"while sleep 10; do date -u +%T; done"}"""
            .Replace("IMAGE", Image, StringComparison.Ordinal).Replace("HOSTPATH", hostDir, StringComparison.Ordinal);
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/ubuntu", a => (int)a["tasksRunning"]! == 1, "the seed app to run");
        var taskId = DockerCluster.TaskIds(app).Single();

        var summary = await cluster.ContainerOfAsync(taskId);
        Assert.Equal("running", summary.State);
        Assert.Equal(Image, summary.Image);
        Assert.False(string.IsNullOrEmpty(summary.Labels![DockerContainerizer.LabelAgentId]));
        var inspect = (await cluster.Docker.InspectContainerAsync(summary.Id))!;
        Assert.True(inspect.State.Running);

        // The first line arrives after ten seconds: the container's output streams into the sandbox.
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(cluster.SandboxFile(taskId).Contains(':', StringComparison.Ordinal)), "a date line in the sandbox's stdout", 30);
        Assert.Matches(@"^\d\d:\d\d:\d\d$", cluster.SandboxFile(taskId).Split('\n', StringSplitOptions.RemoveEmptyEntries)[0]);
    }

    [DockerFact]
    public async Task Bridge_mapped_httpd_passes_its_http_health_check_scales_and_restarts()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var json = $$"""
            {
              "id": "/web", "instances": 1, "cpus": 0.1, "mem": 32,
              "cmd": "echo hello-from-docker; exec httpd -f -p 8080 -h /www",
              "container": { "type": "DOCKER",
                "docker": { "image": "{{Image}}", "network": "BRIDGE", "portMappings": [ { "containerPort": 8080, "hostPort": 0, "protocol": "tcp", "name": "http" } ] } },
              "healthChecks": [ { "protocol": "MESOS_HTTP", "path": "/", "portIndex": 0, "gracePeriodSeconds": 20, "intervalSeconds": 2, "timeoutSeconds": 1, "maxConsecutiveFailures": 3 } ],
              "upgradeStrategy": { "minimumHealthCapacity": 1, "maximumOverCapacity": 1 }
            }
            """;
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/web", a => (int)a["tasksHealthy"]! == 1, "httpd to turn healthy");
        var task = app["tasks"]![0]!;
        var hostPort = (int)task["ports"]![0]!;
        Assert.InRange(hostPort, 34000, 34100);
        Assert.Equal("ok", (await cluster.Dcosd.Http.GetStringAsync(new Uri($"http://127.0.0.1:{hostPort}/"))).Trim());
        Assert.Contains("hello-from-docker", cluster.SandboxFile((string)task["id"]!), StringComparison.Ordinal);

        // The container port is published on the host port from the offer.
        var inspect = (await cluster.Docker.InspectContainerAsync((await cluster.ContainerOfAsync((string)task["id"]!)).Id))!;
        Assert.Equal(DockerCluster.Num(hostPort), inspect.NetworkSettings!.Ports!["8080/tcp"]![0].HostPort);

        // Scale to three.
        var (status, body) = await cluster.Dcosd.SendAsync(HttpMethod.Put, "/v2/apps/web", """{"instances":3}""");
        Assert.True(status == 200, body?.ToJsonString());
        app = await cluster.WaitForAppAsync("/web", a => (int)a["tasksHealthy"]! == 3 && (int)a["tasksRunning"]! == 3, "three healthy instances");
        Assert.Equal(3, app["tasks"]!.AsArray().Select(t => (int)t!["ports"]![0]!).Distinct().Count());
        Assert.Equal(3, (await cluster.ContainersAsync()).Count(c => c.State == "running"));

        // Rolling restart: every instance replaced, all healthy again, the old containers gone.
        var before = DockerCluster.TaskIds(app);
        (status, body) = await cluster.Dcosd.SendAsync(HttpMethod.Post, "/v2/apps/web/restart", "{}");
        Assert.True(status == 200, body?.ToJsonString());
        await cluster.WaitForAppAsync(
            "/web",
            a => DockerCluster.TaskIds(a).Count == 3 && !DockerCluster.TaskIds(a).Intersect(before).Any() && (int)a["tasksHealthy"]! == 3,
            "the restart to replace every instance",
            120);
        await DcosdProcess.WaitUntilAsync(async () => (await cluster.ContainersAsync()).Count == 3, "old containers to be removed", 30);
        Assert.DoesNotContain(await cluster.ContainersAsync(), c => before.Contains(c.Labels![DockerContainerizer.LabelTaskId]));
    }

    [DockerFact]
    public async Task A_command_health_check_runs_inside_the_container()
    {
        await using var cluster = await DockerCluster.StartAsync();

        // /www/index.html exists only in the image, not on the agent: healthy proves the check ran in the container.
        var json = $$"""
            {
              "id": "/cmdcheck", "cpus": 0.1, "mem": 32, "cmd": "sleep 1000",
              "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" } },
              "healthChecks": [ { "protocol": "COMMAND", "command": { "value": "test -f /www/index.html" }, "gracePeriodSeconds": 20, "intervalSeconds": 2, "timeoutSeconds": 1, "maxConsecutiveFailures": 3 } ]
            }
            """;
        Assert.False(File.Exists("/www/index.html"));
        await cluster.PostAppAsync(json);
        await cluster.WaitForAppAsync("/cmdcheck", a => (int)a["tasksHealthy"]! == 1, "the command check to pass inside the container");
    }

    [DockerFact]
    public async Task Volumes_are_mounted_read_only_and_read_write()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var ro = Directory.CreateDirectory(Path.Combine(cluster.WorkDir, "ro")).FullName;
        var rw = Directory.CreateDirectory(Path.Combine(cluster.WorkDir, "rw")).FullName;
        await File.WriteAllTextAsync(Path.Combine(ro, "in.txt"), "from-host\n");
        var json = $$"""
            {
              "id": "/vol", "cpus": 0.1, "mem": 32,
              "cmd": "echo written > /rw/out.txt; cat /ro/in.txt > /rw/copy.txt; if echo x > /ro/new.txt; then echo ro-writable > /rw/ro.txt; else echo ro-refused > /rw/ro.txt; fi; sleep 1000",
              "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" },
                "volumes": [ { "containerPath": "/ro", "hostPath": "{{ro}}", "mode": "RO" }, { "containerPath": "/rw", "hostPath": "{{rw}}", "mode": "RW" } ] }
            }
            """;
        await cluster.PostAppAsync(json);
        await cluster.WaitForAppAsync("/vol", a => (int)a["tasksRunning"]! == 1, "the app to run");
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(File.Exists(Path.Combine(rw, "ro.txt"))), "the container to write into the RW volume", 30);
        Assert.Equal("written", (await File.ReadAllTextAsync(Path.Combine(rw, "out.txt"))).Trim());
        Assert.Equal("from-host", (await File.ReadAllTextAsync(Path.Combine(rw, "copy.txt"))).Trim());
        Assert.Equal("ro-refused", (await File.ReadAllTextAsync(Path.Combine(rw, "ro.txt"))).Trim());
        Assert.False(File.Exists(Path.Combine(ro, "new.txt")));
    }

    [DockerFact]
    public async Task A_container_over_its_memory_limit_fails_with_the_memory_reason()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var json = $$"""
            { "id": "/hog", "cpus": 0.5, "mem": 16, "cmd": "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
              "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" } } }
            """;
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/hog", a => a["lastTaskFailure"] is not null, "the memory hog to fail", 90);
        var failure = app["lastTaskFailure"]!;
        Assert.Equal("TASK_FAILED", (string)failure["state"]!);
        Assert.Contains("Memory limit exceeded", (string)failure["message"]!, StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task A_missing_image_fails_the_task_with_image_not_found()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var json = """
            { "id": "/missing", "cpus": 0.1, "mem": 32, "cmd": "sleep 1000",
              "container": { "type": "DOCKER", "docker": { "image": "dcos-test/does-not-exist:1" } } }
            """;
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/missing", a => a["lastTaskFailure"] is not null, "the launch to fail");
        var failure = app["lastTaskFailure"]!;
        Assert.Equal("TASK_FAILED", (string)failure["state"]!);
        Assert.Contains("image 'dcos-test/does-not-exist:1' not found", (string)failure["message"]!, StringComparison.Ordinal);
        Assert.Empty(await cluster.ContainersAsync());
    }

    [DockerFact]
    public async Task Killing_sends_sigterm_and_waits_the_grace_period()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var json = $$"""
            { "id": "/graceful", "cpus": 0.1, "mem": 32, "taskKillGracePeriodSeconds": 20,
              "cmd": "trap 'echo got-sigterm; exit 0' TERM; echo started; while true; do sleep 1; done",
              "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" } } }
            """;
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/graceful", a => (int)a["tasksRunning"]! == 1, "the app to run");
        var taskId = DockerCluster.TaskIds(app).Single();
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(cluster.SandboxFile(taskId).Contains("started", StringComparison.Ordinal)), "the task to start", 30);

        var (status, _) = await cluster.Dcosd.SendAsync(HttpMethod.Delete, "/v2/apps/graceful");
        Assert.Equal(200, status);

        // The trap ran (SIGTERM first) and the container went away well before the 20 s grace period would force it.
        await DcosdProcess.WaitUntilAsync(async () => (await cluster.ContainersAsync()).Count == 0, "the container to be stopped and removed", 15);
        Assert.Contains("got-sigterm", cluster.SandboxFile(taskId), StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task Agent_restart_re_adopts_running_containers_and_removes_orphans()
    {
        await using var cluster = await DockerCluster.StartAsync();
        var json = $$"""
            { "id": "/survivor", "cpus": 0.1, "mem": 32, "cmd": "i=0; while true; do i=$((i+1)); echo tick-$i; sleep 1; done",
              "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" } } }
            """;
        await cluster.PostAppAsync(json);
        var app = await cluster.WaitForAppAsync("/survivor", a => (int)a["tasksRunning"]! == 1, "the app to run");
        var taskId = DockerCluster.TaskIds(app).Single();
        var container = await cluster.ContainerOfAsync(taskId);

        await cluster.Dcosd.StopAsync();
        Assert.True((await cluster.Docker.InspectContainerAsync(container.Id))!.State.Running, "the container outlives the agent");

        // A container of this agent that no task claims (as if the agent died between create and checkpoint).
        var orphan = await cluster.Docker.CreateContainerAsync(null, new DockerCreateContainer
        {
            Image = DockerEnvironment.Image,
            Cmd = ["sleep", "1000"],
            Labels = new() { [DockerContainerizer.LabelWorkDir] = cluster.Dcosd.AgentWorkDir, [DockerContainerizer.LabelTaskId] = "nobody" },
        });
        await cluster.Docker.StartContainerAsync(orphan);

        await cluster.Dcosd.StartAsync();
        await cluster.WaitForDockerAttributeAsync();
        await DcosdProcess.WaitUntilAsync(async () => await cluster.Docker.InspectContainerAsync(orphan) is null, "the orphan to be removed", 30);

        // Same task, same container, still running; its output keeps reaching the sandbox.
        app = await cluster.WaitForAppAsync("/survivor", a => (int)a["tasksRunning"]! == 1, "the app to run after the restart");
        Assert.Equal([taskId], DockerCluster.TaskIds(app));
        var after = await cluster.ContainerOfAsync(taskId);
        Assert.Equal(container.Id, after.Id);
        Assert.Equal("running", after.State);
        var length = cluster.SandboxFile(taskId).Length;
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(cluster.SandboxFile(taskId).Length > length), "more output after the restart", 15);
    }

    [DockerFact]
    public async Task Apps_say_so_in_the_queue_when_no_agent_has_docker()
    {
        Assert.True(DockerEnvironment.Unavailable is null, "Docker is required for this test: " + DockerEnvironment.Unavailable);
        var workDir = Directory.CreateTempSubdirectory("dcos-nodocker-").FullName;
        await using var dcosd = new DcosdProcess(workDir, "[34000-34100]", "--docker-endpoint", "unix:///nonexistent/docker.sock");
        await dcosd.StartAsync();
        var json = $$"""{ "id": "/nodocker", "cpus": 0.1, "mem": 32, "cmd": "sleep 100", "container": { "type": "DOCKER", "docker": { "image": "{{Image}}" } } }""";
        var (status, body) = await dcosd.SendAsync(HttpMethod.Post, "/v2/apps", json);
        Assert.True(status == 201, body?.ToJsonString());
        JsonNode? queue = null;
        await DcosdProcess.WaitUntilAsync(
            async () =>
            {
                (_, queue) = await dcosd.SendAsync(HttpMethod.Get, "/v2/queue");
                return queue?["queue"]?.AsArray().SelectMany(q => q!["waitingReasons"]!.AsArray()).Any(r => (string?)r!["reason"] == "NoDockerOnAgent") == true;
            },
            "the queue to name the missing Docker",
            30);
        Assert.Contains("does not advertise Docker", queue!.ToJsonString(), StringComparison.Ordinal);
        using var docker = DockerEnvironment.Client();
        Assert.Empty(await docker.ListContainersAsync([DockerContainerizer.LabelWorkDir + "=" + dcosd.AgentWorkDir]));
    }
}
