using System.Net;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>Master restart, framework failover timeout and agent loss, with the real SQLite registry.</summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task After_a_master_restart_the_agent_re_registers_its_task_and_the_framework_reconciles_it_as_running()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        var fw = new FrameworkProbe(await master.SubscribeAsync("survivor", failoverTimeout: 3600));
        var frameworkId = fw.Id;
        var offer = await fw.NextOfferAsync();
        await fw.LaunchAsync(offer, "long-runner", "cpus:1;mem:256");
        await fw.AcknowledgeAsync(await fw.NextUpdateAsync("long-runner", TaskStates.Running));
        var agentId = agent.AgentId;

        // Restart the master on the same registry (new process state, same port).
        var port = master.Url.Port;
        agent.Disconnect();
        await fw.DisposeAsync();
        await master.StopMasterAsync();
        await master.StartMasterAsync(port);

        var recovered = await SchedulerApiTests.GetStateAsync(master);
        Assert.True(Assert.Single(recovered.GetFrameworks.Frameworks).Recovered);
        Assert.Single(recovered.GetAgents.RecoveredAgents);

        await agent.SubscribeAsync();
        Assert.Equal(agentId, agent.AgentId);
        await using var again = new FrameworkProbe(await master.SubscribeAsync("survivor", id: frameworkId));
        Assert.Equal(frameworkId, again.Id);

        // The task's resources are accounted again: the offer after re-subscribing is what is left.
        var next = await again.NextOfferAsync();
        Assert.Equal(Kernel.Resources.Parse("cpus:1;mem:768"), ResourceConversions.ToResources(next.Resources));

        await again.CallAsync(new SchedulerCall { Type = SchedulerTypes.Reconcile, Reconcile = new ReconcileCall([]) });
        var status = await again.NextUpdateAsync("long-runner");
        Assert.Equal(TaskStates.Running, status.State);
        Assert.Equal("REASON_RECONCILIATION", status.Reason);
    }

    [Fact]
    public async Task A_framework_that_does_not_come_back_within_its_failover_timeout_is_removed_and_its_tasks_killed()
    {
        await using var master = await MasterFixture.StartAsync();
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        var fw = new FrameworkProbe(await master.SubscribeAsync("short-lived", failoverTimeout: 30));
        var offer = await fw.NextOfferAsync();
        await fw.LaunchAsync(offer, "orphan", "cpus:1;mem:256");
        await fw.NextUpdateAsync("orphan", TaskStates.Running);
        await fw.DisposeAsync();
        await SchedulerApiTests.WaitUntilAsync(master, s => !s.GetFrameworks.Frameworks.Single().Connected);

        master.Clock.AdvanceSeconds(29);
        await master.Runtime.SettleAsync();
        Assert.Single((await SchedulerApiTests.GetStateAsync(master)).GetFrameworks.Frameworks);

        master.Clock.AdvanceSeconds(1);
        var shutdown = await agent.NextAsync(e => e.Type == AgentTypes.ShutdownFramework);
        Assert.Equal(fw.Id, shutdown.ShutdownFramework!.Value);
        await SchedulerApiTests.WaitUntilAsync(master, s => s.GetFrameworks.Frameworks.Count == 0 && s.GetTasks.Tasks.Count == 0);
    }

    [Fact]
    public async Task An_agent_that_stays_away_past_the_reregister_timeout_loses_its_tasks()
    {
        await using var master = await MasterFixture.StartAsync(new MasterOptions { AgentReregisterTimeout = TimeSpan.FromSeconds(75) });
        await using var agent = new FakeAgent(master.Http, master.Url, "agent-1.local", "cpus:2;mem:1024");
        await agent.SubscribeAsync();
        await using var fw = new FrameworkProbe(await master.SubscribeAsync("test"));
        var offer = await fw.NextOfferAsync();
        await fw.LaunchAsync(offer, "victim", "cpus:1;mem:256");
        await fw.AcknowledgeAsync(await fw.NextUpdateAsync("victim", TaskStates.Running));

        agent.Disconnect();
        await SchedulerApiTests.WaitUntilAsync(master, s => !s.GetAgents.Agents.Single().Active);
        master.Clock.AdvanceSeconds(75);
        var lost = await fw.NextUpdateAsync("victim", TaskStates.Lost);
        Assert.Equal("REASON_AGENT_REMOVED", lost.Reason);
        Assert.Null(lost.Uuid);
        await fw.NextAsync(SchedulerTypes.Failure);
        await SchedulerApiTests.WaitUntilAsync(master, s => s.GetAgents.Agents.Count == 0);
    }

    [Fact]
    public async Task Weights_and_quota_survive_a_master_restart_and_bad_updates_change_nothing()
    {
        await using var master = await MasterFixture.StartAsync();
        using (var ok = await master.PostAsync("/api/v1", "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"web\",\"weight\":2.5}]}}"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        using (var bad = await master.PostAsync("/api/v1", "{\"type\":\"UPDATE_WEIGHTS\",\"update_weights\":{\"weight_infos\":[{\"role\":\"web\",\"weight\":7},{\"role\":\"db\",\"weight\":0}]}}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains("'db'", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var quota = await master.PostAsync("/api/v1", "{\"type\":\"UPDATE_QUOTA\",\"update_quota\":{\"quota_configs\":[{\"role\":\"web\",\"limits\":{\"cpus\":{\"value\":4},\"mem\":{\"value\":2048}}}]}}"))
        {
            Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
        }

        var port = master.Url.Port;
        await master.StopMasterAsync();
        await master.StartMasterAsync(port);

        using var weights = await master.PostAsync("/api/v1", "{\"type\":\"GET_WEIGHTS\"}");
        var w = MesosJson.Deserialize<OperatorResponse>(await weights.Content.ReadAsByteArrayAsync()).GetWeights!.WeightInfos;
        Assert.Equal(2.5, Assert.Single(w).Weight);
        using var quotas = await master.PostAsync("/api/v1", "{\"type\":\"GET_QUOTA\"}");
        var q = MesosJson.Deserialize<OperatorResponse>(await quotas.Content.ReadAsByteArrayAsync()).GetQuota!.Status.Configs;
        Assert.Equal(4, Assert.Single(q).Limits!["cpus"].Value);
    }
}
