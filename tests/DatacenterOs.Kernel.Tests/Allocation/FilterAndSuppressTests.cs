using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Kernel.Tests.Allocation;

public sealed class FilterAndSuppressTests
{
    [Fact]
    public void Declined_resources_are_held_back_for_refuse_seconds_on_the_clock_and_then_offered_again()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        var fw = f.Framework("fw");

        f.DeclineAll(f.Cycle(), refuseSeconds: 10);
        Assert.Equal(1, f.Allocator.FilterCount(fw));

        f.Clock.AdvanceSeconds(9.999);
        var held = f.Cycle();
        Assert.Empty(held.Offers);
        Assert.Equal(NoOfferReasons.Filtered, Assert.Single(held.Unsatisfied).Reasons);

        f.Clock.AdvanceSeconds(0.001); // exactly 10 s after the decline: expired
        Assert.Single(f.Cycle().Offers);
        Assert.Equal(0, f.Allocator.FilterCount(fw));
    }

    [Fact]
    public void Decline_without_refuse_seconds_uses_the_5_second_default_and_zero_installs_no_filter()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        f.Framework("fw");

        f.DeclineAll(f.Cycle()); // default: 5 s
        f.Clock.AdvanceSeconds(4.9);
        Assert.Empty(f.Cycle().Offers);
        f.Clock.AdvanceSeconds(0.1);
        var again = f.Cycle();
        Assert.Single(again.Offers);

        f.DeclineAll(again, refuseSeconds: 0);
        Assert.Single(f.Cycle().Offers); // no filter: offered in the very next cycle
    }

    [Fact]
    public void Filters_last_at_least_one_allocation_interval()
    {
        var f = new AllocatorFixture(new AllocatorOptions { AllocationInterval = TimeSpan.FromSeconds(2) });
        f.Agent("agent-1", "cpus:4;mem:4096");
        f.Framework("fw");

        f.DeclineAll(f.Cycle(), refuseSeconds: 0.5); // MESOS-4302: max(refuse, interval) = 2 s
        f.Clock.AdvanceSeconds(1);
        Assert.Empty(f.Cycle().Offers);
        f.Clock.AdvanceSeconds(1);
        Assert.Single(f.Cycle().Offers);
    }

    [Fact]
    public void A_filter_holds_only_for_resources_no_larger_than_those_declined()
    {
        var f = new AllocatorFixture();
        var agent = f.Agent("agent-1", "cpus:4;mem:4096");
        var holder = f.Framework("holder", "a");
        var decliner = f.Framework("decliner", "b");
        var roles = new[] { "a" };

        // holder takes the whole agent first (name order), and keeps 2 cpus / 2048 MiB.
        var first = f.Cycle();
        var held = Assert.Single(first.Offers);
        Assert.Equal(holder, held.FrameworkId);
        f.Allocator.RecoverResources(holder, agent, "a", Resources.Parse("cpus:2;mem:2048"));

        // decliner is offered the free half and refuses it for an hour.
        var half = Assert.Single(f.Cycle().Offers, o => o.FrameworkId == decliner);
        Assert.Equal(Resources.Parse("cpus:2;mem:2048"), half.Resources);
        f.Allocator.Decline(half, 3600);
        f.Allocator.Suppress(holder, roles);
        Assert.Empty(f.Cycle().Offers);

        // The holder's task ends: the agent now has more than was declined, so the filter no longer matches.
        f.Allocator.RecoverResources(holder, agent, "a", Resources.Parse("cpus:2;mem:2048"));
        var bigger = Assert.Single(f.Cycle().Offers);
        Assert.Equal(decliner, bigger.FrameworkId);
        Assert.Equal(Resources.Parse("cpus:4;mem:4096"), bigger.Resources);
    }

    [Fact]
    public void Suppressed_frameworks_get_nothing_until_revive_which_also_clears_filters()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        var fw = f.Framework("fw", "r1", "r2");

        f.DeclineAll(f.Cycle(), refuseSeconds: 3600);
        Assert.True(f.Allocator.FilterCount(fw) > 0);
        f.Allocator.Suppress(fw);
        Assert.True(f.Allocator.IsSuppressed(fw, "r1"));
        var suppressed = f.Cycle();
        Assert.Empty(suppressed.Offers);
        Assert.Equal(NoOfferReasons.Suppressed, Assert.Single(suppressed.Unsatisfied).Reasons);

        f.Allocator.Revive(fw, ["r2"]);
        Assert.False(f.Allocator.IsSuppressed(fw, "r2"));
        var revived = Assert.Single(f.Cycle().Offers);
        Assert.Equal("r2", revived.Role);
        Assert.True(f.Allocator.IsSuppressed(fw, "r1"));
    }

    [Fact]
    public void Inactive_frameworks_get_no_offers_and_lose_their_filters()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        var fw = f.Framework("fw");
        f.DeclineAll(f.Cycle(), refuseSeconds: 3600);

        f.Allocator.SetFrameworkActive(fw, false);
        Assert.Equal(0, f.Allocator.FilterCount(fw));
        var inactive = f.Cycle();
        Assert.Empty(inactive.Offers);
        Assert.Equal(NoOfferReasons.Inactive, Assert.Single(inactive.Unsatisfied).Reasons);

        f.Allocator.SetFrameworkActive(fw, true);
        Assert.Single(f.Cycle().Offers);
    }

    [Fact]
    public void Agents_down_for_maintenance_are_offered_to_nobody_and_draining_ones_carry_unavailability()
    {
        var f = new AllocatorFixture();
        var down = f.Agent("agent-down", "cpus:4;mem:4096");
        var draining = f.Agent("agent-draining", "cpus:4;mem:4096");
        f.Framework("fw-1");
        f.Framework("fw-2");
        var window = new Unavailability(f.Clock.GetUtcNow().AddHours(1), TimeSpan.FromHours(2));
        f.Allocator.SetMaintenance(down, MaintenanceMode.Down);
        f.Allocator.SetMaintenance(draining, MaintenanceMode.Draining, window);

        var offer = Assert.Single(f.Cycle().Offers);
        Assert.Equal(draining, offer.AgentId);
        Assert.Equal(window, offer.Unavailability);

        f.Allocator.SetMaintenance(down, MaintenanceMode.Up);
        var up = Assert.Single(f.Cycle().Offers);
        Assert.Equal(down, up.AgentId);
        Assert.Null(up.Unavailability);
    }

    [Fact]
    public void Nothing_below_the_minimum_allocatable_is_offered_unless_a_framework_lowers_it()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:0.005;mem:16;disk:100");
        f.Framework("default");
        var small = f.Cycle();
        Assert.Empty(small.Offers);
        Assert.Equal(NoOfferReasons.BelowMinimumAllocatable, Assert.Single(small.Unsatisfied).Reasons);

        var g = new AllocatorFixture();
        g.Agent("agent-1", "cpus:0.005;mem:16;disk:100");
        var diskOnly = new FrameworkId("disk-only");
        g.Allocator.AddFramework(new FrameworkInfo(diskOnly, "disk-only", ["*"])
        {
            MinAllocatableResources = new Dictionary<string, IReadOnlyList<ResourceQuantities>>
            {
                ["*"] = ResourceQuantities.ParseAlternatives("disk:50"),
            },
        });
        Assert.Equal(diskOnly, Assert.Single(g.Cycle().Offers).FrameworkId);
    }

    [Fact]
    public void A_cycle_over_candidate_agents_only_visits_those()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        var second = f.Agent("agent-2", "cpus:4;mem:4096");
        f.Framework("fw");

        var result = f.Allocator.Allocate([second]);
        Assert.Equal(second, Assert.Single(result.Offers).AgentId);
        Assert.Equal(1, result.Statistics.AgentsConsidered);
    }

    [Fact]
    public void Removing_a_framework_or_an_agent_returns_resources_and_shares()
    {
        var f = new AllocatorFixture();
        var agent1 = f.Agent("agent-1", "cpus:4;mem:4096");
        f.Agent("agent-2", "cpus:4;mem:4096");
        var a = f.Framework("a");
        var b = f.Framework("b");
        var offers = f.Cycle().Offers;
        Assert.Equal(2, offers.Count);
        Assert.True(f.Allocator.FrameworkShare(a, "*") > 0);

        f.Allocator.RemoveFramework(a);
        Assert.Equal(1, f.Allocator.FrameworkCount);
        var toB = Assert.Single(f.Cycle().Offers);
        Assert.Equal(b, toB.FrameworkId);

        f.Allocator.RemoveAgent(agent1);
        Assert.Equal(1, f.Allocator.AgentCount);
        Assert.Equal(ResourceQuantities.Parse("cpus:4;mem:4096"), f.Allocator.ClusterTotal);
        Assert.Throws<KeyNotFoundException>(() => f.Allocator.AvailableOn(agent1));
    }

    [Fact]
    public void Invalid_calls_fail_with_clear_errors_and_change_nothing()
    {
        var f = new AllocatorFixture();
        var agent = f.Agent("agent-1", "cpus:4;mem:4096");
        var fw = f.Framework("fw");

        Assert.Throws<InvalidOperationException>(() => f.Agent("agent-1", "cpus:1"));
        Assert.Throws<InvalidOperationException>(() => f.Framework("fw"));
        Assert.Throws<ArgumentException>(() => f.Allocator.UpdateWeight("web", 0));
        Assert.Throws<ArgumentException>(() => f.Allocator.UpdateWeight("web", double.NaN));
        Assert.Throws<ArgumentException>(() => f.Allocator.UpdateWeight("/web", 2));
        Assert.Throws<ArgumentException>(() => f.Framework("bad", "a//b"));
        var ex = Assert.Throws<InvalidOperationException>(() => f.Allocator.RecoverResources(fw, agent, "*", Resources.Parse("cpus:1")));
        Assert.Contains("does not hold", ex.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => f.Allocator.AddAllocation(fw, agent, "*", Resources.Parse("cpus:5")));
        Assert.Equal(Resources.Parse("cpus:4;mem:4096"), f.Allocator.AvailableOn(agent));
    }
}
