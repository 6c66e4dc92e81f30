using System.Net;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;

namespace DatacenterOs.Agent.Tests;

/// <summary>The whole agent against a fake master, with real processes.</summary>
public sealed class AgentRuntimeTests : IAsyncLifetime, IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<AgentRuntime> _agents = [];
    private FakeMaster _master = null!;

    public async Task InitializeAsync() => _master = await FakeMaster.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        await _master.DisposeAsync();
    }

    public void Dispose() => _dir.Dispose(); // after DisposeAsync: kills whatever the checkpoints name

    private async Task<AgentRuntime> StartAgentAsync(Func<AgentOptions, AgentOptions>? configure = null)
    {
        var options = _dir.Options() with { MasterUrls = [_master.Url], Secret = "s3cret", Attributes = AgentOptions.ParseAttributes("rack:r1") };
        var agent = new AgentRuntime(configure?.Invoke(options) ?? options, _time);
        _agents.Add(agent);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    [Fact]
    public async Task Subscribes_with_its_info_and_stores_the_agent_id()
    {
        var agent = await StartAgentAsync(o => o with { ResourcesText = "cpus:2;mem:1024;disk:500;cpus(web):1" });

        Assert.True(await Tasks.EventuallyAsync(() => agent.AgentId == "agent-1" && agent.IsSubscribed));
        var subscribe = Assert.Single(_master.Subscribes).Subscribe!;
        Assert.Null(subscribe.AgentInfo.Id);
        Assert.Equal("agent-host.test", subscribe.AgentInfo.Hostname);
        Assert.Equal(AgentOptions.DefaultPort, subscribe.AgentInfo.Port);
        Assert.Equal("s3cret", subscribe.Secret);
        Assert.Empty(subscribe.Tasks!);
        var resources = ResourceConversions.ToResources(subscribe.AgentInfo.Resources);
        Assert.Equal(3, resources.Cpus);
        Assert.Equal(1, resources.ReservedTo("web").Cpus);
        Assert.Equal(1024, resources.Mem);
        Assert.Equal("r1", ResourceConversions.FromAttributes(subscribe.AgentInfo.Attributes)["rack"]);
        Assert.Equal("agent-1", File.ReadAllText(Path.Combine(_dir.Path, "meta", "agent_id")));
    }

    [Fact]
    public async Task Launch_echo_reports_running_then_finished_reliably_and_acknowledgements_stop_retries()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));

        _master.Launch(Tasks.Shell("t1", "echo hi"));

        var running = await _master.WaitForUpdateAsync("t1", TaskStates.Running);
        Assert.Equal(AgentTypes.Update, running.Type);
        Assert.Equal("agent-1", running.AgentId!.Value);
        Assert.Equal("fw-1", running.Update!.FrameworkId.Value);
        Assert.Equal("agent-1", running.Update.Status.AgentId!.Value);
        Assert.Equal(16, Convert.FromBase64String(running.Update.Status.Uuid!).Length);

        // Unacknowledged: the same update is sent again after 10 s; FINISHED waits behind it.
        Assert.True(await Tasks.EventuallyAsync(() => agent.Tasks.Single().State == TaskStates.Finished));
        _time.AdvanceSeconds(10);
        Assert.True(await Tasks.EventuallyAsync(() => _master.UpdatesOf("t1").Count == 2));
        Assert.All(_master.UpdatesOf("t1"), u => Assert.Equal(running.Update.Status.Uuid, u.Update!.Status.Uuid));

        _master.Acknowledge(running);
        var finished = await _master.WaitForUpdateAsync("t1", TaskStates.Finished);
        Assert.NotEqual(running.Update.Status.Uuid, finished.Update!.Status.Uuid);
        Assert.Contains("status 0", finished.Update.Status.Message, StringComparison.Ordinal);

        _master.Acknowledge(finished);
        Assert.True(await Tasks.EventuallyAsync(() => agent.Tasks.Count == 0));
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "meta", "frameworks", "fw-1", "tasks", "t1")));
        Assert.Equal("hi\n", File.ReadAllText(Path.Combine(_dir.Path, "sandboxes", "fw-1", "t1", "latest", "stdout")));

        var count = _master.Updates.Count;
        _time.AdvanceSeconds(3600);
        await Task.Delay(200);
        Assert.Equal(count, _master.Updates.Count);
        Assert.Equal(0, agent.StatusUpdates.PendingCount);
    }

    [Fact]
    public async Task Kill_reports_killed_and_an_unknown_task_is_reported_lost()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "sleep 600"));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));

        _master.Kill("t1");
        var killed = await _master.WaitForUpdateAsync("t1", TaskStates.Killed);
        _master.Kill("ghost");
        var lost = await _master.WaitForUpdateAsync("ghost", TaskStates.Lost);

        Assert.NotNull(killed.Update!.Status.Uuid);
        Assert.Equal("unknown task", lost.Update!.Status.Message);
        var pid = agent.Containerizer.Find("fw-1", "t1")!.ProcessGroup;
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(pid).Count == 0));
    }

    [Fact]
    public async Task Launch_that_cannot_start_is_reported_with_a_readable_message()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));

        _master.Launch(Tasks.Shell("t1", "true") with { Command = null });

        var error = await _master.WaitForUpdateAsync("t1", TaskStates.Error);
        Assert.Contains("no command", error.Update!.Status.Message, StringComparison.Ordinal);
        Assert.Equal(ContainerLaunchException.ReasonTaskInvalid, error.Update.Status.Reason);
        _master.Acknowledge(error);
        Assert.True(await Tasks.EventuallyAsync(() => agent.Tasks.Count == 0));
    }

    [Fact]
    public async Task Shutdown_framework_kills_all_its_tasks()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));
        _master.Launch(Tasks.Shell("a", "sleep 600"));
        _master.Launch(Tasks.Shell("b", "sleep 600"));
        await _master.WaitForUpdateAsync("a", TaskStates.Running);
        await _master.WaitForUpdateAsync("b", TaskStates.Running);
        _master.Acknowledge(_master.UpdatesOf("a", TaskStates.Running)[0]);
        _master.Acknowledge(_master.UpdatesOf("b", TaskStates.Running)[0]);

        _master.Send(new AgentEvent { Type = AgentTypes.ShutdownFramework, ShutdownFramework = Tasks.Framework });

        await _master.WaitForUpdateAsync("a", TaskStates.Killed);
        await _master.WaitForUpdateAsync("b", TaskStates.Killed);
    }

    [Fact]
    public async Task Tasks_outlive_the_agent_and_a_new_agent_resubscribes_with_them_under_the_same_id()
    {
        var first = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => first.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "sleep 600"));
        var running = await _master.WaitForUpdateAsync("t1", TaskStates.Running);
        _master.Acknowledge(running);
        Assert.True(await Tasks.EventuallyAsync(() => first.StatusUpdates.PendingCount == 0));
        var pid = first.Tasks.Single().Pid!.Value;

        await first.StopAsync(CancellationToken.None);
        Assert.True(ProcFs.ReadStat(pid) is { IsEnded: false });

        var second = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => _master.Subscribes.Count == 2 && second.IsSubscribed));
        var subscribe = _master.Subscribes[1].Subscribe!;
        Assert.Equal("agent-1", subscribe.AgentInfo.Id!.Value);
        var task = Assert.Single(subscribe.Tasks!);
        Assert.Equal("t1", task.Task.TaskId.Value);
        Assert.Equal("fw-1", task.FrameworkId.Value);
        Assert.Equal(TaskStates.Running, task.Status.State);
        Assert.Equal(pid, second.Tasks.Single().Pid);

        // A re-adopted task is not a child: its end is found by polling /proc on the agent's clock.
        _master.Kill("t1");
        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(0.2);
            return _master.UpdatesOf("t1", TaskStates.Killed).Count > 0;
        }));
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(pid).Count == 0));
    }

    [Fact]
    public async Task A_task_launched_as_the_agent_stopped_is_reported_running_by_the_next_agent()
    {
        var first = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => first.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "sleep 600"));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        Assert.True(await Tasks.EventuallyAsync(() => first.StatusUpdates.PendingCount == 0));
        var pid = first.Tasks.Single().Pid!.Value;
        await first.StopAsync(CancellationToken.None);

        // The checkpoint as it is when the agent stops between starting the process and reporting TASK_RUNNING: no status.
        var checkpoint = Directory.EnumerateFiles(Path.Combine(_dir.Path, "meta"), "task.json", SearchOption.AllDirectories).Single();
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(checkpoint))!;
        json.AsObject().Remove("latest_status");
        File.WriteAllText(checkpoint, json.ToJsonString());

        var second = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => _master.UpdatesOf("t1", TaskStates.Running).Count == 2));
        Assert.Equal(TaskStates.Running, second.Tasks.Single().State);
        Assert.Equal(pid, second.Tasks.Single().Pid);

        // Updates of a task go out in order: the new TASK_RUNNING is acknowledged before the kill's update can follow.
        _master.Acknowledge(_master.UpdatesOf("t1", TaskStates.Running)[1]);
        _master.Kill("t1");
        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(0.2);
            return _master.UpdatesOf("t1", TaskStates.Killed).Count > 0;
        }));
    }

    [Fact]
    public async Task Unacknowledged_updates_are_resent_by_the_next_agent()
    {
        var first = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => first.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "exit 3"));
        var running = await _master.WaitForUpdateAsync("t1", TaskStates.Running);
        Assert.True(await Tasks.EventuallyAsync(() => first.StatusUpdates.PendingCount == 2));
        await first.StopAsync(CancellationToken.None);

        var second = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => _master.Subscribes.Count == 2));
        Assert.True(await Tasks.EventuallyAsync(() => _master.UpdatesOf("t1", TaskStates.Running).Count == 2));
        Assert.Equal(running.Update!.Status.Uuid, _master.UpdatesOf("t1", TaskStates.Running)[1].Update!.Status.Uuid);
        Assert.Equal(TaskStates.Failed, Assert.Single(_master.Subscribes[1].Subscribe!.Tasks!).Status.State);

        _master.Acknowledge(running);
        var failed = await _master.WaitForUpdateAsync("t1", TaskStates.Failed);
        Assert.Contains("status 3", failed.Update!.Status.Message, StringComparison.Ordinal);
        _master.Acknowledge(failed);
        Assert.True(await Tasks.EventuallyAsync(() => second.Tasks.Count == 0));
    }

    [Fact]
    public async Task Task_that_ended_while_the_agent_was_down_is_reported_after_restart()
    {
        var first = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => first.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "while [ ! -f go ]; do sleep 0.05; done; exit 0"));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        Assert.True(await Tasks.EventuallyAsync(() => first.StatusUpdates.PendingCount == 0));
        var sandbox = first.Tasks.Single().SandboxDirectory!;
        await first.StopAsync(CancellationToken.None);

        File.WriteAllText(Path.Combine(sandbox, "go"), "");
        Assert.True(await Tasks.EventuallyAsync(() => File.Exists(Path.Combine(sandbox, ".exit_status"))));

        await StartAgentAsync();
        var finished = await _master.WaitForUpdateAsync("t1", TaskStates.Finished);
        Assert.Equal("agent-1", finished.Update!.Status.AgentId!.Value);
    }

    [Fact]
    public async Task Lost_stream_resubscribes_after_backoff_and_tasks_keep_running()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));
        _master.Launch(Tasks.Shell("t1", "sleep 600"));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        var pid = (await Tasks.EventuallyAsync(() => agent.Tasks.Count == 1)) ? agent.Tasks[0].Pid!.Value : 0;

        _master.EndStream();
        Assert.True(await Tasks.EventuallyAsync(() => !agent.IsSubscribed));
        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(1);
            return _master.Subscribes.Count == 2;
        }));

        var again = _master.Subscribes[1].Subscribe!;
        Assert.Equal("agent-1", again.AgentInfo.Id!.Value);
        Assert.Equal(TaskStates.Running, Assert.Single(again.Tasks!).Status.State);
        Assert.True(ProcFs.ReadStat(pid) is { IsEnded: false });
        Assert.Equal(TaskStates.Running, agent.Tasks.Single().State);
    }

    [Fact]
    public async Task Silence_for_five_heartbeat_intervals_resubscribes()
    {
        _master.HeartbeatIntervalSeconds = 2;
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));

        _master.Send(new AgentEvent { Type = AgentTypes.Heartbeat });
        Assert.True(await Tasks.EventuallyAsync(() => agent.LastHeartbeatAt is not null));
        _time.AdvanceSeconds(9); // 4.5 intervals: still subscribed
        await Task.Delay(100);
        Assert.Single(_master.Subscribes);

        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(1);
            return _master.Subscribes.Count >= 2;
        }));
    }

    [Fact]
    public async Task Error_event_ends_the_subscription_and_the_agent_subscribes_again()
    {
        var agent = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));

        _master.Send(new AgentEvent { Type = AgentTypes.Error, Error = new ErrorEvent("go away") });

        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(1);
            return _master.Subscribes.Count >= 2;
        }));
    }

    [Fact]
    public async Task Serves_sandbox_files_and_state_over_http()
    {
        var agent = await StartAgentAsync(o => o with { MasterUrls = [], ServeHttp = true, Port = 0, ListenAddress = "127.0.0.1" });
        Assert.NotNull(agent.HttpPort);
        await agent.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "echo hello; echo oops >&2"), CancellationToken.None);
        Assert.True(await Tasks.EventuallyAsync(() => agent.Tasks.Single().State == TaskStates.Finished));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{agent.HttpPort}") };
        using var read = JsonDocument.Parse(await http.GetStringAsync("/files/read?path=fw-1/t1/stdout&offset=0"));
        Assert.Equal("hello\n", read.RootElement.GetProperty("data").GetString());
        Assert.Equal(0, read.RootElement.GetProperty("offset").GetInt64());
        using var size = JsonDocument.Parse(await http.GetStringAsync("/files/read?path=fw-1/t1/stderr&offset=-1"));
        Assert.Equal(5, size.RootElement.GetProperty("offset").GetInt64());
        Assert.Equal("", size.RootElement.GetProperty("data").GetString());
        using var part = JsonDocument.Parse(await http.GetStringAsync("/files/read?path=fw-1/t1/stdout&offset=1&length=3"));
        Assert.Equal("ell", part.RootElement.GetProperty("data").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/files/read?path=fw-1/t1/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/files/read?path=fw-1/../../meta/agent_id")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/files/read?path=fw-1/t1")).StatusCode);

        using var browse = JsonDocument.Parse(await http.GetStringAsync("/files/browse?path=fw-1/t1"));
        var paths = browse.RootElement.EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("fw-1/t1/stdout", paths);
        Assert.Contains("fw-1/t1/stderr", paths);

        using var state = JsonDocument.Parse(await http.GetStringAsync("/state"));
        var task = state.RootElement.GetProperty("tasks").EnumerateArray().Single();
        Assert.Equal("t1", task.GetProperty("id").GetString());
        Assert.Equal(TaskStates.Finished, task.GetProperty("state").GetString());
        Assert.Equal("fw-1/t1", task.GetProperty("sandbox").GetString());
        Assert.Equal("agent-host.test", state.RootElement.GetProperty("hostname").GetString());
        Assert.True(state.RootElement.GetProperty("resources").GetArrayLength() > 0);
    }
}
