using DatacenterOs.Apps.Core.StateModels;
using DatacenterOs.Testing;

namespace DatacenterOs.Apps.Core.Tests.StateModels;

public sealed class StateModelAssignerTests
{
    private static readonly StateModelDefinition OneLeader = new() { Type = StateModelTypes.LeaderStandby, Leaders = 1 };
    private static readonly StateModelDefinition OneLeaderWithCallback = OneLeader with { CallbackPath = "/state", DemotionTimeoutSeconds = 10 };

    private static ModelInstance Live(string id, int startedSecond, string? state = null, DateTimeOffset? demotedAt = null) => new()
    {
        Id = id,
        Live = true,
        Running = true,
        Preferred = true,
        StartedAt = new DateTimeOffset(2026, 1, 1, 0, 0, startedSecond, TimeSpan.Zero),
        State = state,
        DemotedAt = demotedAt,
    };

    private static List<ModelInstance> Apply(IEnumerable<ModelInstance> instances, ModelAssignment result) =>
        [.. instances.Select(i => i with { State = result.States[i.Id].State, DemotedAt = result.States[i.Id].DemotedAt })];

    [Fact]
    public void First_live_instance_becomes_leader_the_others_standby_in_helix_order()
    {
        var time = new FakeTimeProvider();
        var result = StateModelAssigner.Assign(OneLeader, [Live("c", 3), Live("a", 1), Live("b", 2)], time.GetUtcNow());

        Assert.Equal(ModelStates.Leader, result.States["a"].State);
        Assert.Equal(ModelStates.Standby, result.States["b"].State);
        Assert.Equal(ModelStates.Standby, result.States["c"].State);

        // OFFLINE -> STANDBY for everyone first, then STANDBY -> LEADER (Helix's LeaderStandby transitions).
        Assert.Equal(
            ["a:OFFLINE>STANDBY", "b:OFFLINE>STANDBY", "c:OFFLINE>STANDBY", "a:STANDBY>LEADER"],
            result.Transitions.Select(t => $"{t.InstanceId}:{t.From}>{t.To}"));
        Assert.Null(result.Waiting);
    }

    [Fact]
    public void Killing_the_leader_promotes_the_oldest_standby_in_the_same_call()
    {
        var time = new FakeTimeProvider();
        var instances = Apply([Live("a", 1), Live("b", 2), Live("c", 3)], StateModelAssigner.Assign(OneLeader, [Live("a", 1), Live("b", 2), Live("c", 3)], time.GetUtcNow()));

        // The leader's task failed: it is gone from the snapshot.
        var result = StateModelAssigner.Assign(OneLeader, [.. instances.Where(i => i.Id != "a")], time.GetUtcNow());

        Assert.Equal(ModelStates.Leader, result.States["b"].State);
        Assert.Equal(ModelStates.Standby, result.States["c"].State);
        Assert.Equal(["b:STANDBY>LEADER"], result.Transitions.Select(t => $"{t.InstanceId}:{t.From}>{t.To}"));

        // A replacement joins as STANDBY.
        var next = Apply([.. instances.Where(i => i.Id != "a")], result);
        var joined = StateModelAssigner.Assign(OneLeader, [.. next, Live("d", 9)], time.GetUtcNow());
        Assert.Equal(ModelStates.Standby, joined.States["d"].State);
        Assert.Equal(ModelStates.Leader, joined.States["b"].State);
    }

    [Fact]
    public void A_leader_being_killed_with_a_callback_holds_its_slot_until_it_confirms_or_the_timeout_passes()
    {
        var time = new FakeTimeProvider();
        List<ModelInstance> instances = [Live("a", 1, ModelStates.Leader), Live("b", 2, ModelStates.Standby)];

        // A kill is ordered for the leader: it is no longer live, but its task still runs.
        instances[0] = instances[0] with { Live = false };
        var result = StateModelAssigner.Assign(OneLeaderWithCallback, instances, time.GetUtcNow());
        Assert.Equal(ModelStates.Offline, result.States["a"].State);
        Assert.NotNull(result.States["a"].DemotedAt);
        Assert.Equal(ModelStates.Standby, result.States["b"].State);
        Assert.Contains("confirm", result.Waiting, StringComparison.Ordinal);
        instances = Apply(instances, result);

        // 5 s later, still unconfirmed: nobody is promoted.
        time.Advance(TimeSpan.FromSeconds(5));
        result = StateModelAssigner.Assign(OneLeaderWithCallback, instances, time.GetUtcNow());
        Assert.Equal(ModelStates.Standby, result.States["b"].State);
        Assert.Empty(result.Transitions);

        // The timeout passes: b is promoted.
        time.Advance(TimeSpan.FromSeconds(5));
        result = StateModelAssigner.Assign(OneLeaderWithCallback, instances, time.GetUtcNow());
        Assert.Equal(ModelStates.Leader, result.States["b"].State);
        Assert.Null(result.States["a"].DemotedAt);
    }

    [Fact]
    public void A_confirmed_demotion_or_an_ended_task_frees_the_slot_at_once()
    {
        var time = new FakeTimeProvider();
        var demoted = time.GetUtcNow();
        List<ModelInstance> instances = [Live("a", 1, ModelStates.Offline, demoted) with { Live = false }, Live("b", 2, ModelStates.Standby)];

        // Confirmed (the shell clears DemotedAt on a 2xx answer).
        var confirmed = StateModelAssigner.Assign(OneLeaderWithCallback, [instances[0] with { DemotedAt = null }, instances[1]], time.GetUtcNow());
        Assert.Equal(ModelStates.Leader, confirmed.States["b"].State);

        // The task ended (not running any more) while unconfirmed.
        var ended = StateModelAssigner.Assign(OneLeaderWithCallback, [instances[0] with { Running = false }, instances[1]], time.GetUtcNow());
        Assert.Equal(ModelStates.Leader, ended.States["b"].State);
    }

    [Fact]
    public void Unhealthy_leader_is_demoted_and_new_configuration_is_preferred()
    {
        var time = new FakeTimeProvider();
        List<ModelInstance> instances =
        [
            Live("a", 1, ModelStates.Leader) with { Live = false },
            Live("old", 2, ModelStates.Standby) with { Preferred = false },
            Live("new", 5, ModelStates.Standby),
        ];
        var result = StateModelAssigner.Assign(OneLeader, instances, time.GetUtcNow());
        Assert.Equal(ModelStates.Leader, result.States["new"].State);
        Assert.Equal(ModelStates.Offline, result.States["a"].State);
        var order = result.Transitions.Select(t => $"{t.InstanceId}:{t.From}>{t.To}").ToList();
        Assert.True(order.IndexOf("a:LEADER>STANDBY") < order.IndexOf("new:STANDBY>LEADER"), string.Join(", ", order));
    }

    [Fact]
    public void Fewer_leaders_wanted_demotes_the_youngest_and_online_offline_is_the_default()
    {
        var time = new FakeTimeProvider();
        var two = OneLeader with { Leaders = 2 };
        var instances = Apply([Live("a", 1), Live("b", 2), Live("c", 3)], StateModelAssigner.Assign(two, [Live("a", 1), Live("b", 2), Live("c", 3)], time.GetUtcNow()));
        Assert.Equal(2, instances.Count(i => i.State == ModelStates.Leader));

        var result = StateModelAssigner.Assign(OneLeader, instances, time.GetUtcNow());
        Assert.Equal(ModelStates.Leader, result.States["a"].State);
        Assert.Equal(ModelStates.Standby, result.States["b"].State);

        var online = StateModelAssigner.Assign(null, [Live("a", 1), Live("b", 2) with { Live = false }], time.GetUtcNow());
        Assert.Equal(ModelStates.Online, online.States["a"].State);
        Assert.Equal(ModelStates.Offline, online.States["b"].State);
    }

    /// <summary>
    /// Seeded random event sequences (instances start, turn unhealthy and healthy, are killed, die, demotions are
    /// confirmed, time passes): after every step, and at every point while its transitions are applied in order, there
    /// are never more leaders than wanted; and a free slot with a live standby and no pending demotion is always filled.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void Never_more_leaders_than_wanted_over_random_event_sequences(int seed, bool callback)
    {
        var random = new Random(seed);
        var time = new FakeTimeProvider();
        var wanted = 1 + (seed % 2);
        var model = new StateModelDefinition { Type = StateModelTypes.LeaderStandby, Leaders = wanted, CallbackPath = callback ? "/state" : null, DemotionTimeoutSeconds = 10 };
        var instances = new List<ModelInstance>();
        var next = 0;
        var promotions = 0;
        for (var step = 0; step < 2000; step++)
        {
            var roll = random.Next(100);
            if (roll < 20 || instances.Count == 0)
            {
                instances.Add(new ModelInstance { Id = $"i{next++:D4}", Live = random.Next(3) > 0, Running = true, Preferred = random.Next(2) == 0, StartedAt = time.GetUtcNow() });
            }
            else
            {
                var index = random.Next(instances.Count);
                var i = instances[index];
                switch (roll % 5)
                {
                    case 0: instances.RemoveAt(index); break;                                         // task ended
                    case 1: instances[index] = i with { Live = false }; break;                        // unhealthy or kill ordered
                    case 2: instances[index] = i with { Live = i.Running }; break;                    // healthy again
                    case 3: instances[index] = i with { DemotedAt = null }; break;                    // demotion confirmed
                    default: time.Advance(TimeSpan.FromSeconds(random.Next(1, 6))); break;            // time passes
                }
            }

            var before = instances.ToDictionary(i => i.Id, i => i.State ?? ModelStates.Offline);
            var result = StateModelAssigner.Assign(model, instances, time.GetUtcNow());

            // Replay the transitions in order: never more than `wanted` leaders at any point.
            var current = new Dictionary<string, string>(before);
            foreach (var t in result.Transitions)
            {
                Assert.Equal(current[t.InstanceId], t.From);
                current[t.InstanceId] = t.To;
                Assert.True(current.Values.Count(s => s == ModelStates.Leader) <= wanted, $"seed {seed} step {step}: too many leaders");
                promotions += t.To == ModelStates.Leader ? 1 : 0;
            }

            instances = Apply(instances, result);
            var leaders = instances.Count(i => i.State == ModelStates.Leader);
            var pending = instances.Count(i => i.DemotedAt is not null);
            Assert.True(leaders + pending <= wanted, $"seed {seed} step {step}: {leaders} leaders + {pending} pending demotions");
            Assert.All(instances.Where(i => i.State == ModelStates.Leader), i => Assert.True(i.Live));

            // Liveness: a free slot is filled whenever a live standby waits and no demotion is pending.
            if (leaders < wanted && pending == 0)
            {
                Assert.DoesNotContain(instances, i => i.Live && i.State == ModelStates.Standby);
            }
        }

        Assert.True(promotions > 10, $"only {promotions} promotions: the sequence did not exercise failover");
    }
}
