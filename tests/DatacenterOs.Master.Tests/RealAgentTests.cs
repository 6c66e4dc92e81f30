using System.Text.Json;
using DatacenterOs.Agent;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>The whole kernel: real master, real agent running real processes, a framework over the scheduler API.</summary>
public sealed class RealAgentTests
{
    private static AgentRuntime StartAgent(MasterFixture master, string workDir) =>
        new(new AgentOptions
        {
            WorkDir = workDir,
            MasterUrls = [master.Url.GetLeftPart(UriPartial.Authority)],
            Hostname = "127.0.0.1",
            ListenAddress = "127.0.0.1",
            Port = 0,
            ResourcesText = "cpus:2;mem:2048;disk:1024;ports:[31000-31100]",
            MemoryCgroupRoot = null,
        });

    private static async Task<AgentRuntime> StartedAgentAsync(MasterFixture master, string workDir)
    {
        var agent = StartAgent(master, workDir);
        await agent.StartAsync(CancellationToken.None);
        return agent;
    }

    [Fact]
    public async Task Echo_hi_runs_finishes_and_leaves_hi_in_the_sandbox_stdout()
    {
        await using var master = await MasterFixture.StartAsync();
        var agent = await StartedAgentAsync(master, Path.Combine(master.WorkDir, "agent"));
        try
        {
            await using var fw = new FrameworkProbe(await master.SubscribeAsync("echo"));
            var offer = await fw.NextOfferAsync();
            await fw.LaunchAsync(offer, "hello", "cpus:0.1;mem:32", "echo hi");
            await fw.AcknowledgeAsync(await fw.NextUpdateAsync("hello", TaskStates.Running));
            var finished = await fw.NextUpdateAsync("hello", TaskStates.Finished);
            await fw.AcknowledgeAsync(finished);

            using var http = new HttpClient();
            var read = await http.GetStringAsync(new Uri($"http://127.0.0.1:{agent.HttpPort}/files/read?path={fw.Id}/hello/stdout&offset=0&length=100"));
            Assert.Equal("hi\n", JsonDocument.Parse(read).RootElement.GetProperty("data").GetString());
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task Kill_of_sleep_600_yields_TASK_KILLED_and_leaves_no_process()
    {
        await using var master = await MasterFixture.StartAsync();
        var agent = await StartedAgentAsync(master, Path.Combine(master.WorkDir, "agent"));
        try
        {
            await using var fw = new FrameworkProbe(await master.SubscribeAsync("killer"));
            var offer = await fw.NextOfferAsync();
            await fw.LaunchAsync(offer, "sleeper", "cpus:0.1;mem:32", "sleep 600 & sleep 600");
            await fw.AcknowledgeAsync(await fw.NextUpdateAsync("sleeper", TaskStates.Running));
            var pid = agent.Tasks.Single(t => t.TaskId == "sleeper").Pid!.Value;
            Assert.True(Directory.Exists($"/proc/{pid}"));

            await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(new IdDto("sleeper"), null, null) });
            var killed = await fw.NextUpdateAsync("sleeper", TaskStates.Killed);
            await fw.AcknowledgeAsync(killed);
            Assert.False(Directory.Exists($"/proc/{pid}"), "the task's process is still there");
            Assert.DoesNotContain(ProcessGroupMembers(pid), _ => true);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_task_survives_a_master_restart_and_an_agent_restart_with_the_same_pid()
    {
        await using var master = await MasterFixture.StartAsync();
        var agentDir = Path.Combine(master.WorkDir, "agent");
        var agent = await StartedAgentAsync(master, agentDir);
        int pid;
        string frameworkId;
        {
            var fw = new FrameworkProbe(await master.SubscribeAsync("durable", failoverTimeout: 3600));
            frameworkId = fw.Id;
            var offer = await fw.NextOfferAsync();
            await fw.LaunchAsync(offer, "durable-task", "cpus:0.1;mem:32", "sleep 600");
            await fw.AcknowledgeAsync(await fw.NextUpdateAsync("durable-task", TaskStates.Running));
            pid = agent.Tasks.Single().Pid!.Value;
            await fw.DisposeAsync();
        }

        try
        {
            // Master restart: the agent re-subscribes by itself and reports the task.
            var port = master.Url.Port;
            await master.StopMasterAsync();
            await master.StartMasterAsync(port);
            await SchedulerApiTests.WaitUntilAsync(master, s => s.GetTasks.Tasks.Any(t => t.TaskId.Value == "durable-task"));
            await using (var fw = new FrameworkProbe(await master.SubscribeAsync("durable", id: frameworkId)))
            {
                await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([new ReconcileTask(new IdDto("durable-task"), null)]) });
                Assert.Equal(TaskStates.Running, (await fw.NextUpdateAsync("durable-task")).State);
            }

            Assert.Equal(pid, agent.Tasks.Single().Pid);

            // Agent restart: a new agent on the same work dir re-adopts the process.
            await agent.StopAsync(CancellationToken.None);
            await agent.DisposeAsync();
            Assert.True(Directory.Exists($"/proc/{pid}"), "stopping the agent must not kill tasks");
            agent = await StartedAgentAsync(master, agentDir);
            Assert.Equal(pid, agent.Tasks.Single().Pid);
            await SchedulerApiTests.WaitUntilAsync(master, s => s.GetAgents.Agents.SingleOrDefault()?.Active == true);
            await using (var fw = new FrameworkProbe(await master.SubscribeAsync("durable", id: frameworkId)))
            {
                await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([]) });
                Assert.Equal(TaskStates.Running, (await fw.NextUpdateAsync("durable-task")).State);
                await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(new IdDto("durable-task"), null, null) });
                await fw.NextUpdateAsync("durable-task", TaskStates.Killed);
            }

            Assert.False(Directory.Exists($"/proc/{pid}"));
        }
        finally
        {
            await agent.DisposeAsync();
            if (Directory.Exists($"/proc/{pid}"))
            {
                System.Diagnostics.Process.GetProcessById(pid).Kill(entireProcessTree: true);
            }
        }
    }

    private static IEnumerable<int> ProcessGroupMembers(int pgid)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var p))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // Fields after the command: state, ppid, pgrp. Zombies (Z) have exited; only their parent can reap them.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] != "Z" && int.TryParse(fields[2], out var group) && group == pgid)
            {
                yield return p;
            }
        }
    }
}
