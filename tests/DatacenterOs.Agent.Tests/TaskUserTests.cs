using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent.Tests;

/// <summary>
/// Which user a task runs as when the agent is root (as in CI): the configured task user by default, the task's own
/// <c>user</c> when it names one, root only with <see cref="AgentOptions.AllowRootTasks"/>.
/// </summary>
public sealed class TaskUserTests : IDisposable
{
    private readonly TempWorkDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static bool NotRoot()
    {
        if (Native.IsRoot)
        {
            return false;
        }

        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", "the task-user tests need the agent to run as root, as CI does");
        return true;
    }

    private static TaskInfoDto As(string id, string command, string? user)
    {
        var task = Tasks.Shell(id, command);
        return task with { Command = task.Command! with { User = user } };
    }

    private static async Task<string> RunAsync(AgentOptions options, TaskInfoDto task)
    {
        using var containerizer = new ProcessContainerizer(options, TimeProvider.System);
        var container = await containerizer.LaunchAsync(Tasks.Framework, "*", task);
        var end = await container.Termination.WaitAsync(Tasks.Generous);
        Assert.Equal(TaskStates.Finished, end.State);
        return File.ReadAllText(Path.Combine(container.SandboxDirectory, "stdout")).Trim();
    }

    [Fact]
    public async Task Tasks_that_name_no_user_run_as_the_configured_task_user_and_may_write_their_sandbox()
    {
        if (NotRoot())
        {
            return;
        }

        var nobody = Native.LookUpUser("nobody")!.Value.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var output = await RunAsync(_dir.Options() with { TaskUser = "nobody" }, Tasks.Shell("t1", "id -u; echo x > mine && cat mine"));
        Assert.Equal($"{nobody}\nx", output);
    }

    [Fact]
    public async Task Root_is_refused_unless_the_agent_allows_root_tasks()
    {
        if (NotRoot())
        {
            return;
        }

        using (var containerizer = new ProcessContainerizer(_dir.Options() with { TaskUser = "nobody" }, TimeProvider.System))
        {
            var e = await Assert.ThrowsAsync<ContainerLaunchException>(() => containerizer.LaunchAsync(Tasks.Framework, "*", As("t2", "id -u", "root")));
            Assert.Equal(ContainerLaunchException.ReasonTaskInvalid, e.Reason);
            Assert.Contains("--allow-root-tasks", e.Message, StringComparison.Ordinal);

            e = await Assert.ThrowsAsync<ContainerLaunchException>(() => containerizer.LaunchAsync(Tasks.Framework, "*", As("t3", "id -u", "no-such-user-x")));
            Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal("0", await RunAsync(_dir.Options() with { TaskUser = "nobody", AllowRootTasks = true }, As("t4", "id -u", "root")));
    }
}
