using System.Net.Http.Headers;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

public sealed class OperatorApiTests
{
    [Fact]
    public async Task Operator_subscribe_streams_the_state_then_framework_agent_and_task_events()
    {
        await using var master = await MasterFixture.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(master.Url, "/api/v1")) { Content = new StringContent("{\"type\":\"SUBSCRIBE\"}") };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await master.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        async Task<OperatorEvent> NextAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return MesosJson.Deserialize<OperatorEvent>((await RecordIo.ReadAsync(stream, timeout.Token))!);
        }

        var subscribed = await NextAsync();
        Assert.Equal(OperatorEventTypes.Subscribed, subscribed.Type);
        Assert.Empty(subscribed.Subscribed!.GetState.GetAgents.Agents);

        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        var added = await NextAsync();
        Assert.Equal(OperatorEventTypes.AgentAdded, added.Type);
        Assert.Equal(agent.AgentId, added.AgentAdded!.Agent.AgentInfo.Id!.Value);

        await using var fw = new FrameworkProbe(await master.SubscribeAsync("watched"));
        var fwAdded = await NextAsync();
        Assert.Equal(OperatorEventTypes.FrameworkAdded, fwAdded.Type);
        Assert.Equal(fw.Id, fwAdded.FrameworkAdded!.Framework.FrameworkInfo.Id!.Value);

        var offer = await fw.NextOfferAsync();
        await fw.LaunchAsync(offer, "watched-task", "cpus:1;mem:64");
        var taskAdded = await NextAsync();
        Assert.Equal(OperatorEventTypes.TaskAdded, taskAdded.Type);
        Assert.Equal(TaskStates.Staging, taskAdded.TaskAdded!.Task.State);
        var taskUpdated = await NextAsync();
        Assert.Equal(OperatorEventTypes.TaskUpdated, taskUpdated.Type);
        Assert.Equal(TaskStates.Running, taskUpdated.TaskUpdated!.State);
    }

    [Fact]
    public async Task Read_endpoints_answer_from_the_snapshot_and_bad_operator_calls_are_400s()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        await master.Runtime.SettleAsync();

        var state = await master.Http.GetStringAsync(new Uri(master.Url, "/master/state"));
        Assert.Contains("\"activated_slaves\":1", state, StringComparison.Ordinal);
        var metrics = await master.Http.GetStringAsync(new Uri(master.Url, "/metrics"));
        Assert.Contains("dcos_master_agents_connected 1", metrics, StringComparison.Ordinal);
        Assert.Contains("healthy", await master.Http.GetStringAsync(new Uri(master.Url, "/health")), StringComparison.Ordinal);

        using var unknown = await master.PostAsync("/api/v1", "{\"type\":\"NOPE\"}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, unknown.StatusCode);
        using var badReserve = await master.PostAsync("/api/v1", $"{{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{{\"agent_id\":{{\"value\":\"{agent.AgentId}\"}},\"resources\":[{{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{{\"value\":5}},\"reservations\":[{{\"type\":\"DYNAMIC\",\"role\":\"db\"}}]}}]}}}}");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, badReserve.StatusCode);
        using var goodReserve = await master.PostAsync("/api/v1", $"{{\"type\":\"RESERVE_RESOURCES\",\"reserve_resources\":{{\"agent_id\":{{\"value\":\"{agent.AgentId}\"}},\"resources\":[{{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{{\"value\":1}},\"reservations\":[{{\"type\":\"DYNAMIC\",\"role\":\"db\"}}]}}]}}}}");
        Assert.Equal(System.Net.HttpStatusCode.Accepted, goodReserve.StatusCode);
        await SchedulerApiTests.WaitUntilAsync(master, s => s.GetAgents.Agents.Single().TotalResources.Any(r => r.Role == "db"));
    }
}
