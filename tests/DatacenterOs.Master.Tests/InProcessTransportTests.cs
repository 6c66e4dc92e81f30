using System.Net;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

public sealed class InProcessTransportTests
{
    [Fact]
    public async Task A_framework_in_the_masters_process_gets_the_same_events_and_status_codes_without_HTTP()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();

        await using var connection = await TransportSchedulerConnection.SubscribeAsync(
            master.Runtime.InProcessTransport,
            new FrameworkInfoDto { User = "root", Name = "in-process", Roles = ["*"] });
        var events = connection.Events().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(SchedulerTypes.Offers, events.Current.Type);
        var offer = events.Current.Offers!.Offers.Single();

        var status = await connection.CallAsync(new SchedulerCall
        {
            Type = SchedulerTypes.Accept,
            Accept = new AcceptCall([offer.Id], [new OperationDto
            {
                Type = SchedulerTypes.Launch,
                Launch = new LaunchDto([new TaskInfoDto
                {
                    Name = "t",
                    TaskId = new IdDto("t"),
                    AgentId = offer.AgentId,
                    Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse("cpus:1;mem:64")),
                    Command = new CommandDto { Value = "true" },
                }]),
            }], null),
        });
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(TaskStates.Running, events.Current.Update!.Status.State);

        // Same rules as HTTP: an unknown subscribed role is a 400.
        Assert.Equal(HttpStatusCode.BadRequest, await connection.CallAsync(new SchedulerCall { Type = SchedulerTypes.Suppress, Suppress = new RolesCall(["other"]) }));
        await events.DisposeAsync();

        var refused = await Assert.ThrowsAsync<SchedulerException>(() => TransportSchedulerConnection.SubscribeAsync(
            master.Runtime.InProcessTransport,
            new FrameworkInfoDto { User = "root", Name = "bad", Roles = ["/bad"] }));
        Assert.Equal(400, refused.Status);
    }
}
