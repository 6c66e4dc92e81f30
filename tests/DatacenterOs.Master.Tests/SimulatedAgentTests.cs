using DatacenterOs.Agent.Simulation;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

public sealed class SimulatedAgentTests
{
    [Fact]
    public async Task Simulated_agents_register_run_tasks_at_once_and_finish_them_after_their_duration_label()
    {
        await using var master = await MasterFixture.StartAsync();
        var agents = new List<SimulatedAgent>();
        for (var i = 0; i < 3; i++)
        {
            var a = new SimulatedAgent($"sim-{i}", Kernel.Resources.Parse("cpus:4;mem:4096"), [master.Url.GetLeftPart(UriPartial.Authority)], master.Clock);
            a.Start();
            agents.Add(a);
        }

        try
        {
            await SchedulerApiTests.WaitUntilAsync(master, s => s.GetAgents.Agents.Count == 3);
            await using var fw = new FrameworkProbe(await master.SubscribeAsync("sim"));
            var offers = (await fw.NextAsync(SchedulerTypes.Offers)).Offers!.Offers;
            Assert.Equal(3, offers.Count);

            var offer = offers[0];
            await fw.CallAsync(new SchedulerCall
            {
                Type = SchedulerTypes.Accept,
                Accept = new AcceptCall([offer.Id], [new OperationDto
                {
                    Type = SchedulerTypes.Launch,
                    Launch = new LaunchDto([new TaskInfoDto
                    {
                        Name = "short",
                        TaskId = new IdDto("short"),
                        AgentId = offer.AgentId,
                        Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse("cpus:1;mem:128")),
                        Command = new CommandDto { Value = "ignored" },
                        Labels = new LabelsDto([new LabelDto(SimulatedAgent.DurationLabel, "30")]),
                    }]),
                }], null),
            });
            await fw.AcknowledgeAsync(await fw.NextUpdateAsync("short", TaskStates.Running));
            master.Clock.AdvanceSeconds(30);
            var finished = await fw.NextUpdateAsync("short", TaskStates.Finished);
            Assert.NotNull(finished.Uuid);
            await fw.AcknowledgeAsync(finished);
        }
        finally
        {
            foreach (var a in agents)
            {
                await a.DisposeAsync();
            }
        }
    }
}
