using System.Text.Json.Nodes;

namespace DatacenterOs.Cli.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AppCommandTests(ClusterFixture cluster)
{
    private static string WriteTemp(string json)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("dcos-cli-").FullName, "app.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public async Task Add_wait_list_scale_show_log_and_remove_an_app()
    {
        var file = WriteTemp("""{"id":"/cli/echo","cmd":"echo cli-marker-$((40+2)); echo to-stderr >&2; sleep 1000","cpus":0.1,"mem":32,"instances":1}""");

        var add = await cluster.RunAsync("app", "add", file, "--wait", "--timeout", "120");
        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Matches(@"^app /cli/echo version \S+\ncreated \(deployment [0-9a-f-]+\)\n", add.Out);
        Assert.Matches(@"deployment [0-9a-f-]+ succeeded\n$", add.Out);
        Assert.Equal("", add.Error);

        // Golden table: header and this app's row, plain aligned columns.
        var list = await cluster.RunAsync("app", "list");
        Assert.Equal(0, list.ExitCode);
        var lines = list.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+RUNNING  HEALTHY  CPUS  MEM  DEPLOYING  CMD$", lines[0]);
        var row = Assert.Single(lines, l => l.StartsWith("/cli/echo ", StringComparison.Ordinal));
        Assert.Matches(@"^/cli/echo\s+1/1      -        0\.1   32   no         echo cli-marker-\$\(\(40\+2\)\); echo to-stderr >&2; sl…$", row);

        var listJson = await cluster.RunAsync("app", "list", "--json");
        Assert.Equal(0, listJson.ExitCode);
        var app = JsonNode.Parse(listJson.Out)!.AsArray().Single(a => (string?)a!["id"] == "/cli/echo")!;
        Assert.Equal(1, (int)app["instances"]!);
        Assert.Equal(1, (int)app["tasksRunning"]!);
        Assert.Equal(0.1, (double)app["cpus"]!);

        var scale = await cluster.RunAsync("app", "scale", "/cli/echo", "2", "--wait", "--timeout", "120");
        Assert.True(scale.ExitCode == 0, scale.ToString());
        Assert.Contains("scaling /cli/echo to 2", scale.Out);
        Assert.Contains("succeeded", scale.Out);

        var show = await cluster.RunAsync("app", "show", "cli/echo", "--json");
        Assert.Equal(0, show.ExitCode);
        var shown = JsonNode.Parse(show.Out)!;
        Assert.Equal("/cli/echo", (string?)shown["id"]);
        Assert.Equal(2, (int)shown["instances"]!);
        Assert.Equal(2, (int)shown["tasksRunning"]!);
        var tasks = shown["tasks"]!.AsArray();
        Assert.Equal(2, tasks.Count);
        Assert.All(tasks, t => Assert.Equal("TASK_RUNNING", (string?)t!["state"]));

        var taskId = (string)tasks[0]!["id"]!;
        var log = await cluster.RunAsync("task", "log", taskId);
        Assert.True(log.ExitCode == 0, log.ToString());
        Assert.Equal("cli-marker-42\n", log.Out);
        var stderr = await cluster.RunAsync("task", "log", taskId[..^4], "--stderr", "--lines", "1");
        Assert.True(stderr.ExitCode == 0, stderr.ToString());
        Assert.Equal("to-stderr\n", stderr.Out);

        var taskList = await cluster.RunAsync("task", "list", "--app", "/cli/echo", "--state", "running", "--json");
        Assert.Equal(0, taskList.ExitCode);
        Assert.Equal(2, JsonNode.Parse(taskList.Out)!.AsArray().Count);

        var remove = await cluster.RunAsync("app", "remove", "/cli/echo", "--wait");
        Assert.True(remove.ExitCode == 0, remove.ToString());
        var gone = await cluster.RunAsync("app", "show", "/cli/echo");
        Assert.Equal(1, gone.ExitCode);
        Assert.Equal("dcos: 404 App '/cli/echo' does not exist\n", gone.Error);
    }

    [Fact]
    public async Task Suspend_then_resume_restores_the_instances()
    {
        var file = WriteTemp("""{"id":"/cli/sus","cmd":"sleep 1000","cpus":0.05,"mem":16,"instances":2}""");
        Assert.Equal(0, (await cluster.RunAsync("app", "add", file, "--wait")).ExitCode);

        var suspend = await cluster.RunAsync("app", "suspend", "/cli/sus", "--wait");
        Assert.True(suspend.ExitCode == 0, suspend.ToString());
        var suspended = JsonNode.Parse((await cluster.RunAsync("app", "show", "/cli/sus", "--json")).Out)!;
        Assert.Equal(0, (int)suspended["instances"]!);

        var resume = await cluster.RunAsync("app", "resume", "/cli/sus", "--wait");
        Assert.True(resume.ExitCode == 0, resume.ToString());
        Assert.Contains("resuming /cli/sus with 2 instances", resume.Out);
        var resumed = JsonNode.Parse((await cluster.RunAsync("app", "show", "/cli/sus", "--json")).Out)!;
        Assert.Equal(2, (int)resumed["instances"]!);
        Assert.Null(resumed["labels"]?[Commands.SuspendedInstancesLabel]);

        Assert.Equal(0, (await cluster.RunAsync("app", "remove", "/cli/sus")).ExitCode);
    }

    [Fact]
    public async Task Invalid_app_gives_one_line_with_each_field_path_and_exit_1()
    {
        var result = await cluster.RunWithInputAsync(
            """{"id":"/cli/bad","cmd":"sleep 1","cpus":-1,"mem":16,"healthChecks":[{"protocol":"HTTP","portIndex":3}]}""",
            "app", "add", "-");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Out);
        Assert.Single(result.Error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("dcos: 422 Object is not valid: ", result.Error);
        Assert.Contains("/cpus: ", result.Error);
        Assert.Contains("/healthChecks(0): ", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task Bad_input_gives_exit_1_and_a_readable_line()
    {
        var missing = await cluster.RunAsync("app", "add", "/nonexistent/app.json");
        Assert.Equal((1, "dcos: /nonexistent/app.json: no such file\n"), (missing.ExitCode, missing.Error));

        var invalid = await cluster.RunWithInputAsync("{\"id\": ", "app", "add", "-");
        Assert.Equal(1, invalid.ExitCode);
        Assert.StartsWith("dcos: standard input is not valid JSON at line 1: ", invalid.Error);

        var unknown = await cluster.RunAsync("app", "scale", "/no/such/app", "3");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("does not exist", unknown.Error);

        var notNumber = await cluster.RunAsync("app", "scale", "/web", "many");
        Assert.Equal(1, notNumber.ExitCode);
        Assert.Single(notNumber.Error.TrimEnd('\n').Split('\n'));
        Assert.Contains("'many'", notNumber.Error);
        Assert.EndsWith("(see 'dcos app scale --help')\n", notNumber.Error);

        var unknownTask = await cluster.RunAsync("task", "log", "no-such-task");
        Assert.Equal((1, "dcos: task 'no-such-task' does not exist (see 'dcos task list --completed')\n"), (unknownTask.ExitCode, unknownTask.Error));
    }

    [Fact]
    public async Task Plan_shows_the_steps_without_changing_anything()
    {
        var file = WriteTemp("""{"id":"/cli/planned","cmd":"sleep 1000","cpus":0.1,"mem":16,"instances":3}""");
        var plan = await cluster.RunAsync("app", "plan", file);
        Assert.True(plan.ExitCode == 0, plan.ToString());
        Assert.Equal("step 1: StartApplication /cli/planned\nstep 2: ScaleApplication /cli/planned\n", plan.Out);
        Assert.Equal(1, (await cluster.RunAsync("app", "show", "/cli/planned")).ExitCode);
    }

    [Fact]
    public async Task Why_names_the_resource_an_app_waits_for()
    {
        var file = WriteTemp("""{"id":"/cli/huge","cmd":"sleep 1000","cpus":64,"mem":16,"instances":1}""");
        Assert.Equal(0, (await cluster.RunAsync("app", "add", file)).ExitCode);
        CliResult why = null!;
        await ClusterFixture.WaitUntilAsync(async () =>
        {
            why = await cluster.RunAsync("app", "why", "/cli/huge");
            return why.Out.Contains("InsufficientCpus", StringComparison.Ordinal);
        }, "a refused offer for /cli/huge", 30);
        Assert.Matches(@"^/cli/huge: 1 instance\(s\) waiting since \S+\nREASON\s+DETAIL\s+OFFERS\s+AGENTS\nInsufficientCpus\s+.*127\.0\.0\.1", why.Out);

        var deployments = await cluster.RunAsync("deployment", "list", "--json");
        var deployment = JsonNode.Parse(deployments.Out)!.AsArray().Single(d => d!["affectedApps"]!.AsArray().Any(a => (string?)a == "/cli/huge"))!;
        var stop = await cluster.RunAsync("deployment", "stop", (string)deployment["id"]!);
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal(0, (await cluster.RunAsync("app", "remove", "/cli/huge", "--force")).ExitCode);
    }
}
