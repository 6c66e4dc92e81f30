using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Tests;

/// <summary>
/// LeaderStandby apps over simulated agents: one leader, standbys, failover on task kill and on agent loss, the
/// replacement joining as standby, never two leaders in the event stream.
/// </summary>
public sealed class LeaderStandbyTests
{
    private const string App = """
        {"id":"/db","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":3,"constraints":[["hostname","UNIQUE"]],
         "stateModel":{"type":"LeaderStandby","leaders":1}}
        """;

    private static async Task<Dictionary<string, string?>> ModelStatesAsync(AppsFixture f) =>
        (await f.SendAsync(HttpMethod.Get, "/v2/apps/db/tasks")).Body!["tasks"]!.AsArray()
            .ToDictionary(t => (string)t!["id"]!, t => (string?)t!["modelState"]);

    private static async Task<string> WaitForOneLeaderAndStandbysAsync(AppsFixture f, string? notLeader = null)
    {
        Dictionary<string, string?> states = [];
        await AppsFixture.WaitUntilAsync(
            async () =>
            {
                states = await ModelStatesAsync(f);
                return states.Count == 3 && states.Values.Count(s => s == "LEADER") == 1 && states.Values.Count(s => s == "STANDBY") == 2
                    && states.Single(kv => kv.Value == "LEADER").Key != notLeader;
            },
            "one LEADER and two STANDBY instances");
        return states.Single(kv => kv.Value == "LEADER").Key;
    }

    /// <summary>Replays the transitions in order: never two leaders; returns the states reached.</summary>
    private static Dictionary<string, string> Replay(IEnumerable<JsonObject> transitions)
    {
        var states = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var t in transitions)
        {
            var id = (string)t["instanceId"]!;
            Assert.Equal(states.GetValueOrDefault(id, "OFFLINE"), (string)t["from"]!);
            states[id] = (string)t["to"]!;
            Assert.True(states.Values.Count(s => s == "LEADER") <= 1, "two LEADERs in the event stream: " + string.Join(", ", states));
        }

        return states;
    }

    /// <summary>
    /// The promotion is announced in the same turn that learned of the old leader's end: between the old leader's
    /// terminal status update and the promotion there is no other status update.
    /// </summary>
    private static void AssertPromotedInTheSameTurn(List<JsonObject> events, string oldLeader, string terminalState)
    {
        var end = events.FindIndex(e => (string?)e["eventType"] == "status_update_event" && (string?)e["taskId"] == oldLeader && (string?)e["taskStatus"] == terminalState);
        Assert.True(end >= 0, $"no {terminalState} for {oldLeader}");
        var promotion = events.FindIndex(end, e => (string?)e["eventType"] == "instance_model_state_changed_event" && (string?)e["to"] == "LEADER");
        Assert.True(promotion > end, "no promotion after the old leader ended");
        Assert.DoesNotContain(events.Skip(end + 1).Take(promotion - end - 1), e => (string?)e["eventType"] == "status_update_event");
    }

    [Fact]
    public async Task Killing_the_leader_promotes_a_standby_and_the_replacement_joins_as_standby()
    {
        await using var f = await AppsFixture.StartAsync();
        await using var events = await EventRecorder.StartAsync(f, "?event_type=instance_model_state_changed_event&event_type=status_update_event");
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", App);
        Assert.True(status == 201, body?.ToJsonString());
        await f.WaitForStableAsync("/db", 3);
        var leader = await WaitForOneLeaderAndStandbysAsync(f);

        // Discovery shows the same, and filters by model state.
        var leaders = (await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps/db?modelState=LEADER")).Body!["endpoints"]!.AsArray();
        Assert.Equal(leader, (string)Assert.Single(leaders)!["instanceId"]!);

        var before = (await ModelStatesAsync(f)).Keys.ToHashSet();
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Delete, "/v2/apps/db/tasks/" + leader)).Status);
        var newLeader = await WaitForOneLeaderAndStandbysAsync(f, notLeader: leader);
        // Without a callback a leader being killed is demoted at once: the promotion is announced in the turn that
        // ordered the kill, before the old task reports TASK_KILLED, and right after the old leader's demotion.
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(events.Events.Any(e => (string?)e["taskId"] == leader && (string?)e["taskStatus"] == "TASK_KILLED")), "TASK_KILLED of the old leader");
        var all = events.Events;
        var demoted = all.FindIndex(e => (string?)e["instanceId"] == leader && (string?)e["from"] == "LEADER");
        var promoted = all.FindIndex(e => (string?)e["instanceId"] == newLeader && (string?)e["to"] == "LEADER");
        var killed = all.FindIndex(e => (string?)e["taskId"] == leader && (string?)e["taskStatus"] == "TASK_KILLED");
        Assert.True(demoted >= 0 && demoted < promoted && promoted < killed, $"demoted {demoted}, promoted {promoted}, killed {killed}");
        var transitions = all.Where(e => (string?)e["eventType"] == "instance_model_state_changed_event").ToList();
        var final = Replay(transitions);
        Assert.Equal("LEADER", final[newLeader]);

        // The replacement (the instance started after the kill) joined as STANDBY and was never promoted.
        Assert.Contains(newLeader, before);
        var replacement = Assert.Single((await ModelStatesAsync(f)).Keys, id => !before.Contains(id));
        Assert.Equal("STANDBY", final[replacement]);
        Assert.DoesNotContain(transitions, t => (string)t["instanceId"]! == replacement && (string)t["to"]! == "LEADER");
    }

    [Fact]
    public async Task Losing_the_leaders_agent_promotes_a_standby_and_a_replacement_joins_as_standby()
    {
        await using var f = await AppsFixture.StartAsync(agents: 4, agentReregisterTimeout: TimeSpan.FromSeconds(1));
        await using var events = await EventRecorder.StartAsync(f, "?event_type=instance_model_state_changed_event&event_type=status_update_event");
        Assert.Equal(201, (await f.SendAsync(HttpMethod.Post, "/v2/apps", App)).Status);
        await f.WaitForStableAsync("/db", 3);
        var leader = await WaitForOneLeaderAndStandbysAsync(f);
        var host = (string)(await f.SendAsync(HttpMethod.Get, "/v2/apps/db/tasks")).Body!["tasks"]!.AsArray().Single(t => (string)t!["id"]! == leader)!["host"]!;
        var before = (await ModelStatesAsync(f)).Keys.ToHashSet();

        await f.StopAgentAsync(host);
        var newLeader = await WaitForOneLeaderAndStandbysAsync(f, notLeader: leader);
        Assert.DoesNotContain(leader, (await ModelStatesAsync(f)).Keys);
        AssertPromotedInTheSameTurn(events.Events, leader, "TASK_LOST");
        var final = Replay(events.Events.Where(e => (string?)e["eventType"] == "instance_model_state_changed_event"));
        Assert.Equal("LEADER", final[newLeader]);
        Assert.Contains(before, id => id == newLeader);
        var replacement = Assert.Single((await ModelStatesAsync(f)).Keys, id => !before.Contains(id));
        Assert.Equal("STANDBY", final[replacement]);

        // The constraint still holds: the three instances run on three different agents.
        var hosts = (await f.SendAsync(HttpMethod.Get, "/v2/apps/db/tasks")).Body!["tasks"]!.AsArray().Select(t => (string)t!["host"]!).ToList();
        Assert.Equal(3, hosts.Distinct().Count());
        Assert.DoesNotContain(host, hosts);
    }

    [Fact]
    public async Task The_leader_is_kept_across_a_restart_of_the_apps_service()
    {
        await using var f = await AppsFixture.StartAsync();
        Assert.Equal(201, (await f.SendAsync(HttpMethod.Post, "/v2/apps", App)).Status);
        await f.WaitForStableAsync("/db", 3);
        var leader = await WaitForOneLeaderAndStandbysAsync(f);

        await f.RestartAppsAsync();
        await using var events = await EventRecorder.StartAsync(f, "?event_type=instance_model_state_changed_event");
        Assert.Equal(leader, await WaitForOneLeaderAndStandbysAsync(f));
        Assert.Equal(leader, (string)(await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps/db?modelState=LEADER")).Body!["endpoints"]![0]!["instanceId"]!);
        Assert.DoesNotContain(events.Events, e => (string?)e["eventType"] == "instance_model_state_changed_event");
    }

    [Fact]
    public async Task Invalid_state_models_get_marathons_422()
    {
        await using var f = await AppsFixture.StartAsync(agents: 0);
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/x","cmd":"sleep 1","instances":2,"stateModel":{"type":"LeaderStandby","leaders":5}}""");
        Assert.Equal(422, status);
        Assert.Equal("/stateModel/leaders", (string)body!["details"]![0]!["path"]!);
        Assert.Equal(404, (await f.SendAsync(HttpMethod.Get, "/v2/apps/x")).Status);
    }
}
