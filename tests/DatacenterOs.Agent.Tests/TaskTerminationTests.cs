using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent.Tests;

public sealed class TaskTerminationTests
{
    [Fact]
    public void Zero_is_finished()
    {
        var t = TaskTermination.Interpret(0, false, false, false);
        Assert.Equal(TaskStates.Finished, t.State);
        Assert.Equal("Command exited with status 0", t.Message);
    }

    [Fact]
    public void Non_zero_is_failed_with_the_status()
    {
        var t = TaskTermination.Interpret(3, false, false, false);
        Assert.Equal(TaskStates.Failed, t.State);
        Assert.Equal("Command exited with status 3", t.Message);
        Assert.Null(t.Reason);
    }

    [Fact]
    public void Signal_is_failed_with_the_signal_unless_a_kill_was_requested()
    {
        var t = TaskTermination.Interpret(128 + 9, false, false, false);
        Assert.Equal(TaskStates.Failed, t.State);
        Assert.Equal(9, t.Signal);
        Assert.Contains("SIGKILL", t.Message, StringComparison.Ordinal);

        var k = TaskTermination.Interpret(128 + 15, true, false, false);
        Assert.Equal(TaskStates.Killed, k.State);
        Assert.Equal(15, k.Signal);
    }

    [Fact]
    public void Requested_kill_is_killed_whatever_the_status()
    {
        Assert.Equal(TaskStates.Killed, TaskTermination.Interpret(0, true, false, false).State);
        Assert.Equal(TaskStates.Killed, TaskTermination.Interpret(null, true, true, false).State);
        Assert.True(TaskTermination.Interpret(137, true, true, false).ForcedKill);
    }

    [Fact]
    public void Memory_limit_is_failed_with_the_memory_reason()
    {
        var t = TaskTermination.Interpret(137, false, false, true);
        Assert.Equal(TaskStates.Failed, t.State);
        Assert.Equal(TaskTermination.ReasonMemoryLimit, t.Reason);
    }

    [Fact]
    public void No_status_is_process_gone()
    {
        var t = TaskTermination.Interpret(null, false, false, false);
        Assert.Equal(TaskStates.Failed, t.State);
        Assert.Equal("Process gone", t.Message);
    }

    [Fact]
    public void Proc_stat_parsing_handles_parentheses_in_the_command_name()
    {
        var stat = ProcFs.ParseStat(42, "42 (a) b (c)) S 1 40 40 0 -1 4194304 99 0 0 0 0 0 0 0 20 0 1 0 213169 3133440 381 18446744073709551615 0");
        Assert.NotNull(stat);
        Assert.Equal('S', stat.Value.State);
        Assert.Equal(40, stat.Value.ProcessGroup);
        Assert.Equal(213169UL, stat.Value.StartTime);
        Assert.Null(ProcFs.ParseStat(1, "garbage"));
    }

    [Fact]
    public void Command_lines()
    {
        Assert.Equal(["/bin/sh", "-c", "echo hi"], ProcessContainerizer.CommandLine(new CommandDto { Value = "echo hi" }));
        Assert.Equal(["/bin/sh", "-c", "echo hi"], ProcessContainerizer.CommandLine(new CommandDto { Value = "echo hi", Shell = true }));
        Assert.Equal(["/bin/ls", "-l"], ProcessContainerizer.CommandLine(new CommandDto { Value = "/bin/ls", Shell = false, Arguments = ["ls", "-l"] }));
        Assert.Equal(["/bin/ls"], ProcessContainerizer.CommandLine(new CommandDto { Value = "/bin/ls", Shell = false }));
        Assert.Null(ProcessContainerizer.CommandLine(new CommandDto()));
        Assert.Null(ProcessContainerizer.CommandLine(null));
    }
}
