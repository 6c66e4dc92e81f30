using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;

namespace DatacenterOs.Agent.Tests;

/// <summary>The containerizer with real processes and files in a temporary work directory.</summary>
public sealed class ProcessContainerizerTests : IDisposable
{
    private readonly TempWorkDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private ProcessContainerizer NewContainerizer(TimeProvider? time = null) =>
        new(_dir.Options(), time ?? TimeProvider.System);

    [Fact]
    public async Task Echo_finishes_with_its_output_in_the_sandbox()
    {
        using var containerizer = NewContainerizer();
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "echo hi"));

        var end = await container.Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Finished, end.State);
        Assert.Equal(0, end.ExitStatus);
        Assert.Equal("hi\n", File.ReadAllText(Path.Combine(container.SandboxDirectory, "stdout")));
        Assert.Equal("", File.ReadAllText(Path.Combine(container.SandboxDirectory, "stderr")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(container.SandboxDirectory, ".exit_status")).Trim());
        Assert.Equal(Path.Combine(_dir.Path, "sandboxes", "fw-1", "t1", container.RunId), container.SandboxDirectory);
    }

    [Fact]
    public async Task Non_zero_exit_fails_with_the_status_in_the_message()
    {
        using var containerizer = NewContainerizer();
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "echo oops >&2; exit 3"));

        var end = await container.Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Failed, end.State);
        Assert.Equal(3, end.ExitStatus);
        Assert.Contains("Command exited with status 3", end.Message, StringComparison.Ordinal);
        Assert.Equal("oops\n", File.ReadAllText(Path.Combine(container.SandboxDirectory, "stderr")));
    }

    [Fact]
    public async Task Task_sees_ports_ids_sandbox_host_and_its_own_environment()
    {
        using var containerizer = NewContainerizer();
        var task = Tasks.Shell("web.1", "echo \"$PORT0|$PORT1|$PORT|$PORTS|$TASK_ID|$MESOS_TASK_ID|$MESOS_SANDBOX|$MESOS_FRAMEWORK_ID|$HOST|$FOO\"", "[31005-31006]");
        task = task with { Command = task.Command! with { Environment = new EnvironmentDto([new EnvironmentVariableDto("FOO", "bar baz")]) } };
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", task);

        var end = await container.Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Finished, end.State);
        Assert.Equal(
            $"31005|31006|31005|31005,31006|web.1|web.1|{container.SandboxDirectory}|fw-1|agent-host.test|bar baz\n",
            File.ReadAllText(Path.Combine(container.SandboxDirectory, "stdout")));
    }

    [Fact]
    public async Task Non_shell_command_runs_value_with_arguments_unexpanded()
    {
        using var containerizer = NewContainerizer();
        var task = Tasks.Shell("t1", "") with
        {
            Command = new CommandDto { Shell = false, Value = "/bin/echo", Arguments = ["echo", "a  b", "$HOME", "'q'"] },
        };
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", task);

        var end = await container.Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Finished, end.State);
        Assert.Equal("a  b $HOME 'q'\n", File.ReadAllText(Path.Combine(container.SandboxDirectory, "stdout")));
    }

    [Fact]
    public async Task Unknown_command_fails_with_127()
    {
        using var containerizer = NewContainerizer();
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "no-such-command-dcos"));

        var end = await container.Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Failed, end.State);
        Assert.Equal(127, end.ExitStatus);
        Assert.Contains("not found", File.ReadAllText(Path.Combine(container.SandboxDirectory, "stderr")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kill_reaches_every_process_of_the_group()
    {
        using var containerizer = NewContainerizer();
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "sleep 600 & sleep 600"));

        // The wrapper leads its own session and group; both sleeps join it.
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(container.ProcessGroup).Count >= 3));
        Assert.Equal(container.Pid, container.ProcessGroup);
        Assert.Equal(container.Pid, ProcFs.ReadStat(container.Pid)!.Value.ProcessGroup);

        var end = await containerizer.KillAsync("fw-1", "t1")!.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Killed, end.State);
        Assert.False(end.ForcedKill);
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(container.ProcessGroup).Count == 0));
        Assert.True(container.KillRequested);
    }

    [Fact]
    public async Task Task_that_traps_SIGTERM_and_exits_within_the_grace_period_is_killed_without_SIGKILL()
    {
        var time = new FakeTimeProvider(); // the grace period never runs out unless advanced
        using var containerizer = NewContainerizer(time);
        var container = await containerizer.LaunchAsync(
            Tasks.Framework, "*", Tasks.Shell("t1", "trap 'echo graceful > trapped; exit 0' TERM; touch ready; sleep 600 & wait"));
        Assert.True(await Tasks.EventuallyAsync(() => File.Exists(Path.Combine(container.SandboxDirectory, "ready"))));

        var end = await containerizer.KillAsync("fw-1", "t1")!.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Killed, end.State);
        Assert.False(end.ForcedKill);
        Assert.Equal("graceful\n", File.ReadAllText(Path.Combine(container.SandboxDirectory, "trapped")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(container.SandboxDirectory, ".exit_status")).Trim());
    }

    [Fact]
    public async Task Task_ignoring_SIGTERM_gets_SIGKILL_when_the_grace_period_ends()
    {
        var time = new FakeTimeProvider();
        using var containerizer = NewContainerizer(time);
        var container = await containerizer.LaunchAsync(
            Tasks.Framework, "*", Tasks.Shell("t1", "trap '' TERM; touch ready; sleep 600", graceNanos: 5_000_000_000));
        Assert.True(await Tasks.EventuallyAsync(() => File.Exists(Path.Combine(container.SandboxDirectory, "ready"))));

        var kill = containerizer.KillAsync("fw-1", "t1")!;
        time.AdvanceSeconds(4.9);
        Assert.False(kill.IsCompleted);
        time.AdvanceSeconds(0.1); // the task's kill policy: 5 s

        var end = await kill.WaitAsync(Tasks.Generous);
        Assert.Equal(TaskStates.Killed, end.State);
        Assert.True(end.ForcedKill);
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(container.ProcessGroup).Count == 0));
    }

    [Fact]
    public async Task Kill_of_an_unknown_task_returns_null()
    {
        using var containerizer = NewContainerizer();
        Assert.Null(containerizer.KillAsync("fw-1", "nope"));
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_new_containerizer_re_adopts_a_running_task_and_can_kill_it()
    {
        var first = NewContainerizer();
        var launched = await first.LaunchAsync(Tasks.Framework, "web", Tasks.Shell("t1", "sleep 600"));
        first.Dispose(); // the agent goes away; the task does not

        Assert.True(ProcFs.ReadStat(launched.Pid) is { IsEnded: false });
        using var second = NewContainerizer();
        var recovery = await second.RecoverAsync();

        var adopted = Assert.Single(recovery.Containers);
        Assert.Empty(recovery.Terminated);
        Assert.True(adopted.IsRecovered);
        Assert.Equal(launched.Pid, adopted.Pid);
        Assert.Equal(launched.SandboxDirectory, adopted.SandboxDirectory);
        Assert.Equal("web", adopted.Role);
        Assert.False(adopted.Termination.IsCompleted);

        var end = await second.KillAsync("fw-1", "t1")!.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Killed, end.State);
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.LiveProcessesInGroup(launched.ProcessGroup).Count == 0));
    }

    [Fact]
    public async Task Re_adopted_task_that_exits_on_its_own_is_reported_from_its_exit_status()
    {
        var first = NewContainerizer();
        var launched = await first.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "while [ ! -f go ]; do sleep 0.05; done; exit 4"));
        first.Dispose();

        using var second = NewContainerizer();
        var adopted = Assert.Single((await second.RecoverAsync()).Containers);
        Assert.False(adopted.Termination.IsCompleted);
        File.WriteAllText(Path.Combine(launched.SandboxDirectory, "go"), "");

        var end = await adopted.Termination.WaitAsync(Tasks.Generous);
        Assert.Equal(TaskStates.Failed, end.State);
        Assert.Equal(4, end.ExitStatus);
    }

    [Fact]
    public async Task Task_that_finished_while_the_agent_was_down_is_reported_finished()
    {
        var first = NewContainerizer();
        var launched = await first.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "while [ ! -f go ]; do sleep 0.05; done; echo done"));
        first.Dispose();
        File.WriteAllText(Path.Combine(launched.SandboxDirectory, "go"), "");
        Assert.True(await Tasks.EventuallyAsync(() => File.Exists(Path.Combine(launched.SandboxDirectory, ".exit_status"))));
        Assert.True(await Tasks.EventuallyAsync(() => !ProcFs.IsAlive(launched.Pid, launched.Checkpoint.ProcessStartTime)));

        using var second = NewContainerizer();
        var recovered = Assert.Single((await second.RecoverAsync()).Containers);

        Assert.True(recovered.Termination.IsCompleted);
        var end = await recovered.Termination;
        Assert.Equal(TaskStates.Finished, end.State);
        Assert.Equal("done\n", File.ReadAllText(Path.Combine(recovered.SandboxDirectory, "stdout")));
    }

    [Fact]
    public async Task Task_that_vanished_without_an_exit_status_is_reported_failed_process_gone()
    {
        var first = NewContainerizer();
        var launched = await first.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "sleep 600"));
        first.Dispose();
        Native.KillGroup(launched.ProcessGroup, Native.SigKill); // the wrapper dies too: no .exit_status
        Assert.True(await Tasks.EventuallyAsync(() => !ProcFs.IsAlive(launched.Pid, launched.Checkpoint.ProcessStartTime)));

        using var second = NewContainerizer();
        var end = await Assert.Single((await second.RecoverAsync()).Containers).Termination.WaitAsync(Tasks.Generous);

        Assert.Equal(TaskStates.Failed, end.State);
        Assert.Equal("Process gone", end.Message);
        Assert.Equal(TaskTermination.ReasonExecutorTerminated, end.Reason);
    }

    [Fact]
    public async Task Tasks_with_a_terminal_status_are_not_recovered_and_a_reused_pid_is_not_adopted()
    {
        using (var first = NewContainerizer())
        {
            var a = await first.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("a", "true"));
            await a.Termination.WaitAsync(Tasks.Generous);
            first.RecordStatus("fw-1", "a", new TaskStatusDto { TaskId = new IdDto("a"), State = TaskStates.Finished });

            var b = await first.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("b", "sleep 600"));
            var file = Path.Combine(_dir.Path, "meta", "frameworks", "fw-1", "tasks", "b", "task.json");
            var checkpoint = MesosJson.Deserialize<TaskCheckpoint>(File.ReadAllBytes(file));
            File.WriteAllBytes(file, MesosJson.Serialize(checkpoint with { ProcessStartTime = checkpoint.ProcessStartTime + 1 }));
        }

        using var second = NewContainerizer();
        var recovery = await second.RecoverAsync();

        Assert.Equal("a", Assert.Single(recovery.Terminated).Task.TaskId.Value);
        var b2 = Assert.Single(recovery.Containers);
        Assert.Equal("b", b2.TaskId);
        Assert.True(b2.Termination.IsCompleted); // pid "reused": not our process, so not adopted
    }

    [Fact]
    public async Task Forget_deletes_the_checkpoint_and_keeps_the_sandbox()
    {
        using var containerizer = NewContainerizer();
        var c = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "true"));
        await c.Termination.WaitAsync(Tasks.Generous);

        containerizer.Forget("fw-1", "t1");

        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "meta", "frameworks", "fw-1", "tasks", "t1")));
        Assert.True(File.Exists(Path.Combine(c.SandboxDirectory, "stdout")));
        Assert.Null(containerizer.Find("fw-1", "t1"));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("with space")]
    public async Task Invalid_task_ids_are_refused(string id)
    {
        using var containerizer = NewContainerizer();
        var e = await Assert.ThrowsAsync<ContainerLaunchException>(() => containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell(id, "true")));
        Assert.Equal(ContainerLaunchException.ReasonTaskInvalid, e.Reason);
    }

    [Fact]
    public async Task Task_without_a_command_is_refused()
    {
        using var containerizer = NewContainerizer();
        var e = await Assert.ThrowsAsync<ContainerLaunchException>(
            () => containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "true") with { Command = null }));
        Assert.Equal(ContainerLaunchException.ReasonTaskInvalid, e.Reason);
    }

    [Fact]
    public async Task Relaunching_a_running_task_is_refused()
    {
        using var containerizer = NewContainerizer();
        await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "sleep 600"));
        await Assert.ThrowsAsync<ContainerLaunchException>(() => containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "true")));
        await containerizer.KillAsync("fw-1", "t1")!.WaitAsync(Tasks.Generous);
    }

    [Fact]
    public async Task Relaunching_an_ended_task_gets_a_new_run_and_latest_points_at_it()
    {
        using var containerizer = NewContainerizer();
        var first = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "echo one"));
        await first.Termination.WaitAsync(Tasks.Generous);
        var second = await containerizer.LaunchAsync(Tasks.Framework, "*", Tasks.Shell("t1", "echo two"));
        await second.Termination.WaitAsync(Tasks.Generous);

        Assert.NotEqual(first.RunId, second.RunId);
        var files = new SandboxFiles(containerizer.SandboxesDirectory);
        Assert.Equal("two\n", files.Read("fw-1/t1/stdout", 0, null).Result!.Data);
        Assert.Equal("one\n", files.Read($"fw-1/t1/{first.RunId}/stdout", 0, null).Result!.Data);
    }

    [Fact]
    public async Task Memory_limit_kill_is_reported_with_the_memory_reason_when_cgroups_are_writable()
    {
        var root = "/sys/fs/cgroup/memory/dcos-agent-tests";
        try
        {
            Directory.CreateDirectory(root);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // no writable cgroup v1 memory hierarchy on this machine
        }

        try
        {
            using var containerizer = new ProcessContainerizer(_dir.Options() with { MemoryCgroupRoot = root }, TimeProvider.System);
            var task = Tasks.Shell("hog", "dd if=/dev/zero of=/dev/null bs=256M count=1") with
            {
                Resources = ResourceConversions.ToDtos(DatacenterOs.Kernel.Resources.Parse("cpus:0.1;mem:16")),
            };
            var container = await containerizer.LaunchAsync(Tasks.Framework, "*", task);
            Assert.NotNull(container.Checkpoint.MemoryCgroup);

            var end = await container.Termination.WaitAsync(Tasks.Generous);

            Assert.Equal(TaskStates.Failed, end.State);
            Assert.Equal(TaskTermination.ReasonMemoryLimit, end.Reason);
            Assert.False(Directory.Exists(container.Checkpoint.MemoryCgroup));
        }
        finally
        {
            try
            {
                Directory.Delete(root);
            }
            catch (IOException)
            {
            }
        }
    }
}
