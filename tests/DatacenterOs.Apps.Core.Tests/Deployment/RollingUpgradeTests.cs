using DatacenterOs.Apps.Core.Deployment;

namespace DatacenterOs.Apps.Core.Tests.Deployment;

public sealed class RollingUpgradeTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static UpgradeParameters Params(int n, double minHealth, double maxOver, string killSelection = KillSelections.YoungestFirst, bool resident = false) =>
        new(n, new UpgradeStrategy { MinimumHealthCapacity = minHealth, MaximumOverCapacity = maxOver }, killSelection, resident);

    /// <summary>
    /// Runs an upgrade from <paramref name="simulation"/>'s state to completion, asserting after every action and every
    /// time step: healthy ≥ <paramref name="healthFloor"/>, total ≤ <paramref name="capacityCeiling"/>, and that a
    /// decision, once applied, is not repeated (the function is idempotent over the updated sets).
    /// </summary>
    private static int RunToCompletion(UpgradeSimulation simulation, int healthFloor, int capacityCeiling, int maxRounds = 200)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var decision = simulation.Decide();
            if (decision.Done)
            {
                Assert.True(decision.IsIdle);
                var n = simulation.Parameters.TargetInstances;
                Assert.Empty(simulation.Old);
                Assert.Equal(n, simulation.New.Count);
                Assert.All(simulation.New, i => Assert.True(i.IsHealthyAndReady && i.IsGoalRunning));
                return round;
            }

            simulation.Apply(decision);
            Assert.True(simulation.HealthyNow >= healthFloor, $"round {round}: healthy {simulation.HealthyNow} < {healthFloor} after applying");
            Assert.True(simulation.Total <= capacityCeiling, $"round {round}: total {simulation.Total} > {capacityCeiling} after applying");
            Assert.True(
                RollingUpgrade.Decide(simulation.Parameters, simulation.Old, simulation.New).IsIdle,
                $"round {round}: the applied decision is asked for again");

            simulation.Advance();
            Assert.True(simulation.HealthyNow >= healthFloor, $"round {round}: healthy {simulation.HealthyNow} < {healthFloor} after advancing");
            Assert.True(simulation.Total <= capacityCeiling, $"round {round}: total {simulation.Total} > {capacityCeiling} after advancing");
        }

        Assert.Fail($"not done after {maxRounds} rounds");
        return -1;
    }

    [Theory]
    [InlineData(5, 1.0, 0.0)]
    [InlineData(5, 0.5, 0.0)]
    [InlineData(5, 1.0, 1.0)]
    [InlineData(4, 0.5, 0.5)]
    [InlineData(1, 0.0, 0.0)]
    [InlineData(3, 0.6, 0.2)]
    [InlineData(3, 1.0, 0.7)]
    [InlineData(3, 0.0, 0.0)]
    [InlineData(1, 1.0, 0.0)]
    [InlineData(10, 0.9, 0.1)]
    [InlineData(7, 0.3, 0.4)]
    [InlineData(6, 1.0, 0.5)]
    public void Upgrade_keeps_both_invariants_at_every_step_and_ends_with_n_new_healthy(int n, double minHealth, double maxOver)
    {
        foreach (var killSelection in new[] { KillSelections.YoungestFirst, KillSelections.OldestFirst })
        {
            var parameters = Params(n, minHealth, maxOver, killSelection);
            var minHealthy = (int)Math.Ceiling(n * minHealth);
            var maxCapacity = (int)Math.Floor(n * (1 + maxOver));

            // Marathon's special case: minHealthy == maxCapacity allows one temporary extra instance.
            var ceiling = minHealthy == maxCapacity ? maxCapacity + 1 : maxCapacity;
            var simulation = new UpgradeSimulation(parameters, UpgradeSimulation.HealthyOld(n));

            var rounds = RunToCompletion(simulation, healthFloor: minHealthy, capacityCeiling: ceiling);

            Assert.InRange(rounds, 1, (2 * n) + 2);
            Assert.All(simulation.Trace, t => Assert.Equal(minHealthy, t.Decision.MinHealthy));
        }
    }

    [Theory]
    [InlineData(1.0, 1.0, 0, 3, 6)] // default: kill 0, start 3 at once
    [InlineData(1.0, 0.0, 0, 1, 4)] // special case: 3/3 becomes 3/4, start 1
    [InlineData(1.0, 0.7, 0, 2, 5)] // start 2, one more after the first old is gone
    [InlineData(0.5, 0.0, 1, 0, 3)] // kill 1 immediately, start when it is gone
    [InlineData(0.0, 0.0, 3, 0, 3)] // kill all, start as they disappear
    public void First_decision_matches_marathons_task_replace_examples_for_three_instances(
        double minHealth, double maxOver, int kill, int launch, int maxCapacity)
    {
        var decision = RollingUpgrade.Decide(Params(3, minHealth, maxOver), UpgradeSimulation.HealthyOld(3), []);

        Assert.Equal(kill, decision.Kill.Count);
        Assert.Equal(launch, decision.Launch);
        Assert.Equal(maxCapacity, decision.MaxCapacity);
        Assert.False(decision.Done);
    }

    [Fact]
    public void Minimum_health_one_without_over_capacity_replaces_one_at_a_time()
    {
        var simulation = new UpgradeSimulation(Params(5, 1, 0), UpgradeSimulation.HealthyOld(5));
        RunToCompletion(simulation, healthFloor: 5, capacityCeiling: 6);

        // Launch 1; new healthy -> kill 1; old gone -> launch 1; ... (Marathon "with minimal over-capacity").
        var actions = simulation.Trace.Where(t => !t.Decision.IsIdle).Select(t => (t.Decision.Launch, t.Decision.Kill.Count)).ToList();
        Assert.Equal([(1, 0), (0, 1), (1, 0), (0, 1), (1, 0), (0, 1), (1, 0), (0, 1), (1, 0), (0, 1)], actions);
        Assert.All(simulation.Trace.Where(t => !t.Decision.Done), t => Assert.True(t.Decision.ExtraInstanceAllowed));
    }

    [Fact]
    public void Old_instances_are_killed_in_kill_selection_order()
    {
        var old = UpgradeSimulation.HealthyOld(4); // old-0 started first, old-3 last

        var youngest = RollingUpgrade.Decide(Params(4, 0.5, 0), old, []);
        var oldest = RollingUpgrade.Decide(Params(4, 0.5, 0, KillSelections.OldestFirst), old, []);

        Assert.Equal(["old-3", "old-2"], youngest.Kill);
        Assert.Equal(["old-0", "old-1"], oldest.Kill);
    }

    [Fact]
    public void Unhealthy_old_instances_are_killed_first()
    {
        var old = UpgradeSimulation.HealthyOld(4);
        old[0] = old[0] with { Healthy = false };

        // healthy 3, minHealthy 2 -> budget 1, spent on the unhealthy one.
        var decision = RollingUpgrade.Decide(Params(4, 0.5, 0), old, []);

        Assert.Equal(["old-0"], decision.Kill);
        Assert.Equal(3, decision.HealthyNow);
    }

    [Fact]
    public void Unhealthy_old_instances_being_killed_use_up_the_kill_budget_until_gone()
    {
        var old = UpgradeSimulation.HealthyOld(4);
        old[0] = old[0] with { Healthy = false, Decommissioned = true };
        old[1] = old[1] with { Healthy = false };

        // healthy 2 (old-2, old-3), minHealthy 1 -> budget 1, already used by the dying unhealthy old-0.
        Assert.Empty(RollingUpgrade.Decide(Params(4, 0.25, 0), old, []).Kill);

        old.RemoveAt(0);
        Assert.Equal(["old-1"], RollingUpgrade.Decide(Params(4, 0.25, 0), old, []).Kill);
    }

    [Fact]
    public void Unknown_health_after_a_restart_never_kills_all_old_instances_at_once()
    {
        // After a failover, before health has been reconciled, every old instance reports "not healthy".
        var old = UpgradeSimulation.HealthyOld(3).Select(i => i with { Healthy = false }).ToList();

        var roomy = RollingUpgrade.Decide(Params(3, 1, 1), old, []);
        Assert.Empty(roomy.Kill);
        Assert.Equal(3, roomy.Launch);

        // No room and no budget: the stall breaker kills exactly one, and nothing more while it is in flight.
        var tight = RollingUpgrade.Decide(Params(3, 1, 0), old, []);
        Assert.Equal(["old-2"], tight.Kill);
        Assert.True(tight.StallBroken);
        old[2] = old[2].AsDecommissioned();
        Assert.True(RollingUpgrade.Decide(Params(3, 1, 0), old, []).IsIdle);
    }

    [Fact]
    public void An_old_instance_failing_its_checks_does_not_stall_a_tight_upgrade()
    {
        // {1, 0}: Marathon would wait for a health-check kill here; the stall breaker replaces the sick instance.
        var old = UpgradeSimulation.HealthyOld(5);
        old[4] = old[4] with { Healthy = false };
        var simulation = new UpgradeSimulation(Params(5, 1, 0), old);

        RunToCompletion(simulation, healthFloor: 4, capacityCeiling: 6);

        Assert.Equal(["old-4"], simulation.Trace[0].Decision.Kill);
        Assert.True(simulation.Trace[0].Decision.StallBroken);
    }

    [Fact]
    public void Resume_after_restart_from_persisted_sets_gives_the_same_continuation()
    {
        foreach (var (n, minHealth, maxOver) in new[] { (5, 1.0, 0.0), (5, 0.5, 0.0), (4, 0.5, 0.5), (3, 0.6, 0.2), (6, 1.0, 0.5) })
        {
            var parameters = Params(n, minHealth, maxOver);
            var original = new UpgradeSimulation(parameters, UpgradeSimulation.HealthyOld(n));
            RunToCompletion(original, healthFloor: 0, capacityCeiling: int.MaxValue);

            for (var k = 1; k < original.Trace.Count; k++)
            {
                var (old, @new, expected) = original.Trace[k];

                // A fresh process reads the sets back (in another order) and carries on.
                var resumed = new UpgradeSimulation(parameters, old.Reverse(), @new.Reverse());
                RunToCompletion(resumed, healthFloor: 0, capacityCeiling: int.MaxValue);

                var tail = original.Trace.Skip(k).Select(t => (t.Decision.Launch, string.Join(",", t.Decision.Kill), t.Decision.Done));
                var again = resumed.Trace.Select(t => (t.Decision.Launch, string.Join(",", t.Decision.Kill), t.Decision.Done));
                Assert.Equal(tail, again);
                Assert.Equal(expected.Kill, resumed.Trace[0].Decision.Kill);
            }
        }
    }

    [Fact]
    public void Resume_in_the_middle_with_new_instances_still_starting_does_not_kill_old_ones_early()
    {
        // Default {1, 1}, restarted while 3 new instances are still staging: nothing may be killed yet.
        var old = UpgradeSimulation.HealthyOld(3);
        List<DeploymentInstance> @new = [.. Enumerable.Range(0, 3).Select(i => DeploymentInstance.ScheduledInstance($"new-{i}") with { Phase = InstancePhase.Staging })];

        var decision = RollingUpgrade.Decide(Params(3, 1, 1), old, @new);

        Assert.True(decision.IsIdle);
        Assert.False(decision.Done);
    }

    [Fact]
    public void Resident_special_case_goes_one_below_minimum_health_instead_of_over_capacity()
    {
        var parameters = Params(5, 1, 0, resident: true);
        var first = RollingUpgrade.Decide(parameters, UpgradeSimulation.HealthyOld(5), []);
        Assert.Single(first.Kill);
        Assert.Equal(0, first.Launch);
        Assert.False(first.ExtraInstanceAllowed);

        var simulation = new UpgradeSimulation(parameters, UpgradeSimulation.HealthyOld(5));
        RunToCompletion(simulation, healthFloor: 4, capacityCeiling: 5);
    }

    [Fact]
    public void New_instance_needs_to_be_ready_as_well_as_healthy_before_an_old_one_goes()
    {
        var old = UpgradeSimulation.HealthyOld(2);
        var notReady = DeploymentInstance.RunningInstance("new-0", T0, healthy: true, ready: false);

        Assert.Empty(RollingUpgrade.Decide(Params(2, 1, 0), old, [notReady]).Kill);
        Assert.Single(RollingUpgrade.Decide(Params(2, 1, 0), old, [notReady with { Ready = true }]).Kill);
    }

    [Fact]
    public void A_failed_new_instance_dropped_from_the_set_is_launched_again()
    {
        var simulation = new UpgradeSimulation(Params(3, 1, 0), UpgradeSimulation.HealthyOld(3));
        simulation.Apply(simulation.Decide()); // launch new-0
        Assert.Single(simulation.New);

        simulation.New.Clear(); // new-0 failed (terminal)
        var decision = simulation.Decide();

        Assert.Equal(1, decision.Launch);
        Assert.Empty(decision.Kill);
    }

    [Fact]
    public void More_old_instances_than_target_are_reduced_right_away()
    {
        // Marathon's "extra instances after a forced update" rule; the health budget gives the same here.
        var decision = RollingUpgrade.Decide(Params(5, 1, 0), UpgradeSimulation.HealthyOld(10), []);

        Assert.Equal(5, decision.Kill.Count);
        Assert.Equal(0, decision.Launch);

        var simulation = new UpgradeSimulation(Params(5, 1, 0), UpgradeSimulation.HealthyOld(10));
        RunToCompletion(simulation, healthFloor: 5, capacityCeiling: 10);
    }

    [Fact]
    public void Upgrade_that_also_scales_up_never_loses_serving_capacity()
    {
        var simulation = new UpgradeSimulation(Params(6, 1, 0), UpgradeSimulation.HealthyOld(2));

        RunToCompletion(simulation, healthFloor: 2, capacityCeiling: 7);
    }

    [Fact]
    public void New_instances_beyond_target_are_killed_pending_ones_first()
    {
        List<DeploymentInstance> @new =
        [
            DeploymentInstance.RunningInstance("new-0", T0),
            DeploymentInstance.RunningInstance("new-1", T0.AddMinutes(1)),
            DeploymentInstance.ScheduledInstance("new-2"),
        ];

        var decision = RollingUpgrade.Decide(Params(2, 1, 0), [], @new);

        Assert.Equal(["new-2"], decision.Kill);
        Assert.Equal(0, decision.Launch);
        Assert.False(decision.Done);
        Assert.True(RollingUpgrade.Decide(Params(2, 1, 0), [], @new.Take(2).ToList()).Done);
    }

    [Fact]
    public void Zero_instances_kills_every_old_instance()
    {
        var simulation = new UpgradeSimulation(Params(0, 1, 1), UpgradeSimulation.HealthyOld(3));

        Assert.Equal(3, simulation.Decide().Kill.Count);
        RunToCompletion(simulation, healthFloor: 0, capacityCeiling: 3);
    }

    [Fact]
    public void Decision_does_not_depend_on_input_order()
    {
        var old = UpgradeSimulation.HealthyOld(6);
        var reversed = Enumerable.Reverse(old).ToList();

        Assert.Equal(
            RollingUpgrade.Decide(Params(6, 0.5, 0), old, []).Kill,
            RollingUpgrade.Decide(Params(6, 0.5, 0), reversed, []).Kill);
    }

    [Fact]
    public void Rejects_duplicate_ids_and_invalid_parameters()
    {
        var old = UpgradeSimulation.HealthyOld(2);

        Assert.Throws<ArgumentException>(() => RollingUpgrade.Decide(Params(2, 1, 1), old, [old[0]]));
        Assert.Throws<ArgumentException>(() => RollingUpgrade.Decide(Params(2, 1.5, 1), old, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => RollingUpgrade.Decide(Params(-1, 1, 1), old, []));
    }

    [Fact]
    public void Parameters_come_from_the_app_with_marathons_defaults()
    {
        var app = new AppDefinition { Id = "/web", Instances = 4, KillSelection = KillSelections.OldestFirst };
        var resident = app with
        {
            Container = new AppContainer { Type = ContainerTypes.Mesos, Volumes = [new AppVolume { ContainerPath = "data", Persistent = new PersistentVolumeInfo { Size = 10 } }] },
        };

        Assert.Equal(new UpgradeParameters(4, UpgradeStrategy.Default, KillSelections.OldestFirst), UpgradeParameters.For(app));
        Assert.Equal(new UpgradeParameters(4, UpgradeStrategy.ForResidentTasks, KillSelections.OldestFirst, IsResident: true), UpgradeParameters.For(resident));
        Assert.Equal(4, RollingUpgrade.Decide(app, [], []).Launch);
    }

    [Theory]
    [InlineData(3, 0.6, 2, 3)]
    [InlineData(5, 0.6, 3, 5)]
    [InlineData(10, 0.1, 1, 10)]
    [InlineData(3, 0.2, 1, 3)]
    public void Bounds_use_marathons_rounding(int n, double minHealth, int minHealthy, int maxCapacityWithoutOver)
    {
        var strategy = new UpgradeStrategy { MinimumHealthCapacity = minHealth, MaximumOverCapacity = 0 };

        Assert.Equal(minHealthy, RollingUpgrade.MinHealthy(n, strategy));
        Assert.Equal(maxCapacityWithoutOver, RollingUpgrade.MaxCapacity(n, strategy));
        Assert.Equal(3, RollingUpgrade.MaxCapacity(3, new UpgradeStrategy { MaximumOverCapacity = 0.2 })); // floor(3.6)
    }
}
