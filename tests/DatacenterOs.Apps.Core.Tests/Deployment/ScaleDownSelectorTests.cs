using DatacenterOs.Apps.Core.Deployment;

namespace DatacenterOs.Apps.Core.Tests.Deployment;

public sealed class ScaleDownSelectorTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DeploymentInstance Running(string id, int minute, bool healthy = true) =>
        DeploymentInstance.RunningInstance(id, T0.AddMinutes(minute), healthy);

    private static DeploymentInstance In(string id, InstancePhase phase, int minute) =>
        new() { Id = id, Phase = phase, StartedAt = T0.AddMinutes(minute) };

    [Fact]
    public void Unreachable_then_scheduled_then_unhealthy_then_staging_then_starting_then_healthy()
    {
        List<DeploymentInstance> instances =
        [
            Running("healthy", 1),
            In("starting", InstancePhase.Starting, 2),
            In("staging", InstancePhase.Staging, 3),
            Running("unhealthy", 4, healthy: false),
            DeploymentInstance.ScheduledInstance("scheduled"),
            In("unreachable", InstancePhase.Unreachable, 5),
        ];

        var order = ScaleDownSelector.OrderForKill(instances, KillSelections.YoungestFirst).Select(i => i.Id);

        Assert.Equal(["unreachable", "scheduled", "unhealthy", "staging", "starting", "healthy"], order);
    }

    [Fact]
    public void Kill_selection_orders_instances_of_the_same_class_by_start_time()
    {
        List<DeploymentInstance> instances = [Running("a", 1), Running("b", 3), Running("c", 2)];

        Assert.Equal(["b", "c"], ScaleDownSelector.SelectToKill(instances, 1, KillSelections.YoungestFirst));
        Assert.Equal(["a", "c"], ScaleDownSelector.SelectToKill(instances, 1, KillSelections.OldestFirst));
    }

    [Fact]
    public void Unknown_start_time_goes_first_and_ties_go_by_id_whatever_the_input_order()
    {
        List<DeploymentInstance> instances = [Running("z", 1), Running("y", 1), new DeploymentInstance { Id = "x", Healthy = true }];

        var forward = ScaleDownSelector.OrderForKill(instances, KillSelections.OldestFirst).Select(i => i.Id).ToList();
        var backward = ScaleDownSelector.OrderForKill(Enumerable.Reverse(instances), KillSelections.OldestFirst).Select(i => i.Id).ToList();

        Assert.Equal(["x", "y", "z"], forward);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Scale_down_prefers_unhealthy_and_staging_instances()
    {
        List<DeploymentInstance> instances =
        [
            Running("old-healthy", 1),
            Running("young-healthy", 10),
            Running("sick", 2, healthy: false),
            In("staging", InstancePhase.Staging, 11),
        ];

        var proposition = ScaleDownSelector.Propose(instances, 2);

        Assert.Equal(["sick", "staging"], proposition.ToKill);
        Assert.Equal(0, proposition.ToStart);
    }

    [Fact]
    public void Sentenced_instances_are_killed_first_and_replaced_when_needed()
    {
        List<DeploymentInstance> instances = [Running("a", 1), Running("b", 2), Running("c", 3), Running("d", 4), Running("e", 5)];

        // Scale 5 -> 4 with two sentenced: kill max(1, 2) = 2, start 4 - 5 + 2 = 1.
        var proposition = ScaleDownSelector.Propose(instances, 4, sentenced: ["a", "c"]);

        Assert.Equal(["c", "a"], proposition.ToKill);
        Assert.Equal(1, proposition.ToStart);
    }

    [Fact]
    public void Instances_already_being_killed_or_replaced_do_not_count()
    {
        List<DeploymentInstance> instances =
        [
            Running("a", 1),
            Running("b", 2),
            Running("dying", 3).AsDecommissioned(),
            In("killing", InstancePhase.Killing, 4),
            In("inactive", InstancePhase.UnreachableInactive, 5),
        ];

        var proposition = ScaleDownSelector.Propose(instances, 3);

        Assert.Empty(proposition.ToKill);
        Assert.Equal(1, proposition.ToStart);
    }

    [Fact]
    public void Scale_up_starts_the_difference()
    {
        var proposition = ScaleDownSelector.Propose([Running("a", 1)], 4);

        Assert.Empty(proposition.ToKill);
        Assert.Equal(3, proposition.ToStart);
    }

    [Fact]
    public void Constraint_hook_chooses_after_sentenced_and_before_the_default_order()
    {
        List<DeploymentInstance> instances = [Running("a", 1), Running("b", 2), Running("c", 3), Running("d", 4)];
        var asked = -1;

        var proposition = ScaleDownSelector.Propose(
            instances,
            1,
            sentenced: ["b"],
            killToMeetConstraints: (candidates, count) =>
            {
                asked = count;
                return [candidates.Single(i => i.Id == "a")];
            });

        Assert.Equal(2, asked);
        Assert.Equal(["b", "a", "d"], proposition.ToKill);
        Assert.Equal(0, proposition.ToStart);
    }

    [Fact]
    public void Rejects_unknown_kill_selection_and_negative_target()
    {
        Assert.Throws<ArgumentException>(() => ScaleDownSelector.OrderForKill([Running("a", 1)], "RANDOM"));
        Assert.Throws<ArgumentOutOfRangeException>(() => ScaleDownSelector.Propose([Running("a", 1)], -1));
    }
}
