using System.Net;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>The Mesos v1 scheduler API over real loopback HTTP, with agents speaking the real agent protocol.</summary>
public sealed class SchedulerApiTests
{
    [Fact]
    public async Task A_framework_is_offered_an_agent_launches_a_task_and_sees_it_run_and_finish()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:4;mem:4096;disk:1000;ports:[31000-32000]");
        await agent.SubscribeAsync();
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("test"));

        var offer = await fw.NextOfferAsync();
        Assert.Equal(agent.AgentId, offer.AgentId.Value);
        Assert.Equal("agent-1.local", offer.Hostname);
        Assert.Equal(4, ResourceConversions.ToResources(offer.Resources).Cpus);

        Assert.Equal(HttpStatusCode.Accepted, await fw.LaunchAsync(offer, "task-1", "cpus:1;mem:128;ports:[31000-31000]", "echo hi"));
        var launch = await agent.NextAsync(e => e.Type == AgentTypes.Launch);
        Assert.Equal("echo hi", launch.Launch!.Task.Command!.Value);

        var running = await fw.NextUpdateAsync("task-1", TaskStates.Running);
        Assert.NotNull(running.Uuid);
        Assert.Equal(HttpStatusCode.Accepted, await fw.AcknowledgeAsync(running));
        var ack = await agent.NextAsync(e => e.Type == AgentTypes.Acknowledge);
        Assert.Equal(running.Uuid, ack.Acknowledge!.Uuid);

        await agent.FinishAsync("task-1");
        var finished = await fw.NextUpdateAsync("task-1", TaskStates.Finished);
        await fw.AcknowledgeAsync(finished);
        await master.Runtime.SettleAsync();

        var state = await GetStateAsync(master);
        Assert.Empty(state.GetTasks.Tasks);
        Assert.Single(state.GetTasks.CompletedTasks);
        Assert.Equal(TaskStates.Finished, state.GetTasks.CompletedTasks[0].State);
    }

    [Fact]
    public async Task Calls_follow_the_Mesos_status_codes_and_bad_input_changes_nothing()
    {
        await using var master = await MasterFixture.StartAsync(new MasterOptions { MaxCallBytes = 64 * 1024 });
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("test"));
        var streamId = fw.Connection.StreamId;
        Assert.False(string.IsNullOrEmpty(streamId));

        // Malformed JSON: 400 with a JSON message.
        using (var r = await master.PostAsync("/api/v1/scheduler", "{\"type\": \"REVIVE\", \"framework_id\": ", streamId))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Contains("malformed JSON", body.RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // Missing or wrong stream id: 400. Unknown framework: 400.
        var revive = $"{{\"type\":\"REVIVE\",\"framework_id\":{{\"value\":\"{fw.Id}\"}}}}";
        using (var r = await master.PostAsync("/api/v1/scheduler", revive))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await master.PostAsync("/api/v1/scheduler", revive, "not-the-stream"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await master.PostAsync("/api/v1/scheduler", "{\"type\":\"REVIVE\",\"framework_id\":{\"value\":\"nope\"}}", streamId))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await master.PostAsync("/api/v1/scheduler", revive, streamId))
        {
            Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        }

        // SUBSCRIBE must not carry a stream id; an invalid role is refused.
        using (var r = await master.PostAsync("/api/v1/scheduler", "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\",\"name\":\"n\"}}}", streamId))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }

        using (var r = await master.PostAsync("/api/v1/scheduler", "{\"type\":\"SUBSCRIBE\",\"subscribe\":{\"framework_info\":{\"user\":\"u\",\"name\":\"n\",\"roles\":[\"a//b\"]}}}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("roles", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Over-sized body: 413.
        using (var r = await master.PostAsync("/api/v1/scheduler", "{\"type\":\"REVIVE\",\"pad\":\"" + new string('x', 100_000) + "\"}", streamId))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        // A framework that is not subscribed any more: 403.
        var id = fw.Id;
        await fw.DisposeAsync();
        await WaitUntilAsync(master, s => s.GetFrameworks.Frameworks.Single().Connected == false);
        using (var r = await master.PostAsync("/api/v1/scheduler", revive, streamId))
        {
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        }

        var state = await GetStateAsync(master);
        Assert.Equal(id, Assert.Single(state.GetFrameworks.Frameworks).FrameworkInfo.Id!.Value);
    }

    [Fact]
    public async Task An_invalid_launch_gets_TASK_ERROR_and_leaves_the_offer_resources_free()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("test"));
        var offer = await fw.NextOfferAsync();

        await fw.LaunchAsync(offer, "too-big", "cpus:3;mem:128", "true", refuseSeconds: 0);
        var error = await fw.NextUpdateAsync("too-big", TaskStates.Error);
        Assert.Contains("not within the offered resources", error.Message, StringComparison.Ordinal);
        Assert.Null(error.Uuid);

        await fw.LaunchAsync(offer, "again", "cpus:1;mem:128", "true");
        var stale = await fw.NextUpdateAsync("again", TaskStates.Lost);
        Assert.Equal("REASON_INVALID_OFFERS", stale.Reason);

        master.Clock.AdvanceSeconds(1);
        var reoffer = await fw.NextOfferAsync();
        Assert.Equal(ResourceConversions.ToResources(offer.Resources), ResourceConversions.ToResources(reoffer.Resources));
        await master.Runtime.SettleAsync();
        Assert.Empty((await GetStateAsync(master)).GetTasks.Tasks);
        Assert.DoesNotContain(agent.Received, e => e.Type == AgentTypes.Launch);
    }

    [Fact]
    public async Task Kill_reaches_the_agent_and_reconciliation_reports_the_latest_state()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("test"));
        var offer = await fw.NextOfferAsync();
        await fw.LaunchAsync(offer, "sleeper", "cpus:1;mem:128");
        var running = await fw.NextUpdateAsync("sleeper", TaskStates.Running);
        await fw.AcknowledgeAsync(running);

        await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([new ReconcileTask(new IdDto("sleeper"), null), new ReconcileTask(new IdDto("ghost"), new IdDto(agent.AgentId!))]) });
        var reconciled = await fw.NextUpdateAsync("sleeper");
        Assert.Equal(TaskStates.Running, reconciled.State);
        Assert.Equal("REASON_RECONCILIATION", reconciled.Reason);
        Assert.Null(reconciled.Uuid);
        Assert.Equal(TaskStates.Lost, (await fw.NextUpdateAsync("ghost")).State);

        await fw.CallAsync(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(new IdDto("sleeper"), null, null) });
        await agent.NextAsync(e => e.Type == AgentTypes.Kill && e.Kill!.TaskId.Value == "sleeper");
        var killed = await fw.NextUpdateAsync("sleeper", TaskStates.Killed);
        Assert.NotNull(killed.Uuid);
    }

    [Fact]
    public async Task Two_roles_with_weights_1_and_3_converge_to_a_1_to_3_split_on_a_saturated_cluster()
    {
        await using var master = await MasterFixture.StartAsync();
        using (var r = await master.PostAsync("/api/v1", "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"light\",\"weight\":1},{\"role\":\"heavy\",\"weight\":3}]}}"))
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }

        await using var light = new FrameworkProbe(await master.SubscribeAsync("light", ["light"]));
        await using var heavy = new FrameworkProbe(await master.SubscribeAsync("heavy", ["heavy"]));

        // Eight one-cpu agents join one by one; each join runs a cycle, and each framework launches a whole-agent
        // task on every offer. Weighted shares (allocation / total / weight) pick: heavy (tie, name), light, heavy,
        // heavy, light (tie at 0.2, fewer offers), heavy, heavy, heavy: 6 to 2.
        var agents = new List<FakeAgent>();
        var launched = new Dictionary<string, int> { ["light"] = 0, ["heavy"] = 0 };
        for (var i = 0; i < 8; i++)
        {
            var a = new FakeAgent(master.Http, master.Url, $"agent-{i}.local", "cpus:1;mem:1024");
            await a.SubscribeAsync();
            agents.Add(a);
            var (probe, role, offer) = await NextOfferOfEitherAsync(light, heavy);
            Assert.Equal(HttpStatusCode.Accepted, await probe.LaunchAsync(offer, $"{role}-{i}", "cpus:1;mem:1024"));
            launched[role]++;
            await master.Runtime.SettleAsync();
        }

        Assert.Equal(2, launched["light"]);
        Assert.Equal(6, launched["heavy"]);
        using (var r = await master.PostAsync("/api/v1", "{\"type\":\"GET_ROLES\"}"))
        {
            var roles = MesosJson.Deserialize<OperatorResponse>(await r.Content.ReadAsByteArrayAsync()).GetRoles!.Roles;
            Assert.Equal(0.25, roles.Single(x => x.Name == "light").Share, 6);
            Assert.Equal(0.25, roles.Single(x => x.Name == "heavy").Share, 6);
        }

        foreach (var a in agents)
        {
            await a.DisposeAsync();
        }
    }

    private static async Task<(FrameworkProbe Probe, string Role, OfferDto Offer)> NextOfferOfEitherAsync(FrameworkProbe light, FrameworkProbe heavy)
    {
        for (var i = 0; i < 300; i++)
        {
            if (light.TryTake(SchedulerTypes.Offers, out var l))
            {
                return (light, "light", l!.Offers!.Offers.Single());
            }

            if (heavy.TryTake(SchedulerTypes.Offers, out var h))
            {
                return (heavy, "heavy", h!.Offers!.Offers.Single());
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("no offer in 30 s");
    }

    internal static async Task<GetStateDto> GetStateAsync(MasterFixture master)
    {
        using var r = await master.PostAsync("/api/v1", "{\"type\":\"GET_STATE\"}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return MesosJson.Deserialize<OperatorResponse>(await r.Content.ReadAsByteArrayAsync()).GetState!;
    }

    internal static async Task WaitUntilAsync(MasterFixture master, Func<GetStateDto, bool> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            await master.Runtime.SettleAsync();
            if (condition(await GetStateAsync(master)))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("condition not reached in 30 s");
    }
}
