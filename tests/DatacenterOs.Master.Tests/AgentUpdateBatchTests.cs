using System.Net;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>Batched status updates (one UPDATE call carrying <c>updates</c>): all applied in order, or none.</summary>
public sealed class AgentUpdateBatchTests
{
    [Fact]
    public async Task A_batch_is_applied_in_order_and_a_malformed_batch_changes_nothing()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:4;mem:4096");
        await agent.SubscribeAsync();
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("batch"));
        var offer = await fw.NextOfferAsync();
        var ids = new[] { "t-1", "t-2", "t-3" };
        await fw.CallAsync(new SchedulerCall
        {
            Type = SchedulerTypes.Accept,
            Accept = new AcceptCall([offer.Id], [new OperationDto
            {
                Type = SchedulerTypes.Launch,
                Launch = new LaunchDto([.. ids.Select(id => new TaskInfoDto
                {
                    Name = id,
                    TaskId = new IdDto(id),
                    AgentId = offer.AgentId,
                    Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse("cpus:1;mem:128")),
                    Command = new CommandDto { Value = "true" },
                })]),
            }], null),
        });
        foreach (var id in ids)
        {
            await fw.NextUpdateAsync(id, TaskStates.Running);
        }

        // One entry without a status: 400, and no task changes state.
        Assert.Equal(HttpStatusCode.BadRequest, await agent.SendBatchAsync(ids, TaskStates.Finished, malformedAt: 2));
        await master.Runtime.SettleAsync();
        var state = await SchedulerApiTests.GetStateAsync(master);
        Assert.Equal(3, state.GetTasks.Tasks.Count);
        Assert.All(state.GetTasks.Tasks, t => Assert.Equal(TaskStates.Running, t.State));

        // The whole batch: every task finishes, and the framework hears them in the batch's order.
        Assert.Equal(HttpStatusCode.Accepted, await agent.SendBatchAsync(ids, TaskStates.Finished));
        var heard = new List<string>();
        for (var i = 0; i < ids.Length; i++)
        {
            var update = (await fw.NextAsync(SchedulerTypes.Update, e => e.Update!.Status.State == TaskStates.Finished)).Update!.Status;
            heard.Add(update.TaskId.Value);
            await fw.AcknowledgeAsync(update);
        }

        Assert.Equal(ids, heard);
        await master.Runtime.SettleAsync();
        state = await SchedulerApiTests.GetStateAsync(master);
        Assert.Empty(state.GetTasks.Tasks);
        Assert.Equal(3, state.GetTasks.CompletedTasks.Count);
    }

    [Fact]
    public async Task A_burst_of_launches_on_a_simulated_agent_reports_every_task_running_in_launch_order()
    {
        await using var master = await MasterFixture.StartAsync();
        var agent = new SimulatedAgent("sim-burst", Kernel.Resources.Parse("cpus:100;mem:100000"), [master.Url.GetLeftPart(UriPartial.Authority)], master.Clock);
        agent.Start();
        try
        {
            await SchedulerApiTests.WaitUntilAsync(master, s => s.GetAgents.Agents.Count == 1);
            await using var fw = new FrameworkProbe(await master.SubscribeAsync("burst"));
            var offer = await fw.NextOfferAsync();
            var ids = Enumerable.Range(0, 200).Select(i => $"burst-{i:D3}").ToList();
            await fw.CallAsync(new SchedulerCall
            {
                Type = SchedulerTypes.Accept,
                Accept = new AcceptCall([offer.Id], [new OperationDto
                {
                    Type = SchedulerTypes.Launch,
                    Launch = new LaunchDto([.. ids.Select(id => new TaskInfoDto
                    {
                        Name = id,
                        TaskId = new IdDto(id),
                        AgentId = offer.AgentId,
                        Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse("cpus:0.1;mem:16")),
                        Command = new CommandDto { Value = "ignored" },
                    })]),
                }], null),
            });

            var heard = new List<string>();
            while (heard.Count < ids.Count)
            {
                heard.Add((await fw.NextAsync(SchedulerTypes.Update, e => e.Update!.Status.State == TaskStates.Running)).Update!.Status.TaskId.Value);
            }

            Assert.Equal(ids, heard);
            Assert.Equal(200, agent.RunningTasks);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }
}
