using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Kernel.Tests.Allocation;

public sealed class ReservationAndQuotaTests
{
    [Fact]
    public void Static_reservations_are_offered_only_to_their_role()
    {
        var f = new AllocatorFixture();
        var agent = f.Agent("agent-1", "cpus(web):2;mem(web):1024;cpus(*):4;mem(*):4096;ports(*):[31000-32000]");
        var web = f.Framework("web-fw", "web");
        var batch = f.Framework("batch-fw", "batch");

        // Lowest share first: both 0, tie broken by name ("batch" < "web"), so batch takes the unreserved part.
        var first = f.Cycle();
        var batchOffer = Assert.Single(first.Offers, o => o.FrameworkId == batch);
        Assert.Equal(Resources.Parse("cpus:4;mem:4096;ports:[31000-32000]"), batchOffer.Resources);
        var webOffer = Assert.Single(first.Offers, o => o.FrameworkId == web);
        Assert.Equal(Resources.Parse("cpus(web):2;mem(web):1024"), webOffer.Resources);

        // batch declines everything; the reserved part never reaches it.
        f.DeclineAll(first, refuseSeconds: 0);
        f.Allocator.Suppress(web);
        var second = f.Cycle();
        var only = Assert.Single(second.Offers);
        Assert.Equal(batch, only.FrameworkId);
        Assert.False(only.Resources.Contains(Resources.Parse("cpus(web):1")));
        Assert.Equal(agent, only.AgentId);
    }

    [Fact]
    public void Reservations_of_a_parent_role_reach_its_sub_roles_but_not_the_reverse()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus(eng):2;mem(eng):512;cpus(eng/web):1;mem(eng/web):256");
        var child = f.Framework("child", "eng/web");

        var offer = Assert.Single(f.Cycle().Offers);
        Assert.Equal(child, offer.FrameworkId);
        Assert.Equal("eng/web", offer.Role);
        Assert.Equal(Resources.Parse("cpus(eng):2;mem(eng):512;cpus(eng/web):1;mem(eng/web):256"), offer.Resources);

        var g = new AllocatorFixture();
        g.Agent("agent-1", "cpus(eng/web):1;mem(eng/web):256");
        g.Framework("parent", "eng");
        g.Framework("other", "engineering");
        Assert.Empty(g.Cycle().Offers);
    }

    [Fact]
    public void Dynamic_reservation_moves_offered_resources_to_the_role_and_unreserve_returns_them()
    {
        var f = new AllocatorFixture();
        var agent = f.Agent("agent-1", "cpus:4;mem:4096");
        var fw = f.Framework("fw", "db");

        var offer = Assert.Single(f.Cycle().Offers);
        var reserved = Resources.Parse("cpus(db):2;mem(db):1024");
        f.Allocator.Reserve(agent, reserved, fw);
        Assert.Equal(Resources.Parse("cpus:2;mem:3072;cpus(db):2;mem(db):1024"), f.Allocator.TotalOf(agent));
        Assert.Equal(Resources.Parse("cpus:2;mem:3072;cpus(db):2;mem(db):1024"), f.Allocator.AllocationOf(fw, "db"));

        // The framework returns everything: the reserved part is offered to role db only.
        f.Allocator.RecoverResources(fw, agent, "db", f.Allocator.AllocationOf(fw, "db"));
        var other = f.Framework("other", "analytics");
        f.Allocator.Suppress(fw);
        var toOther = Assert.Single(f.Cycle().Offers);
        Assert.Equal(other, toOther.FrameworkId);
        Assert.Equal(Resources.Parse("cpus:2;mem:3072"), toOther.Resources);
        Assert.Equal(offer.AgentId, toOther.AgentId);

        // Operator unreserve of what is available: the agent is whole again.
        f.Allocator.Unreserve(agent, reserved);
        Assert.Equal(Resources.Parse("cpus:4;mem:4096"), f.Allocator.TotalOf(agent));
    }

    [Fact]
    public void Static_reservations_cannot_be_unreserved_and_bad_reservations_are_rejected()
    {
        var f = new AllocatorFixture();
        var agent = f.Agent("agent-1", "cpus(web):2;cpus:2");

        var ex = Assert.Throws<InvalidOperationException>(() => f.Allocator.Unreserve(agent, Resources.Parse("cpus(web):1")));
        Assert.Contains("not dynamically reserved", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => f.Allocator.Reserve(agent, Resources.Parse("cpus:1")));
        Assert.Throws<ArgumentException>(() => f.Allocator.Reserve(agent, Resources.Parse("cpus(a):1;cpus(b):1")));
        Assert.Throws<InvalidOperationException>(() => f.Allocator.Reserve(agent, Resources.Parse("cpus(db):3")));
        Assert.Equal(Resources.Parse("cpus(web):2;cpus:2"), f.Allocator.TotalOf(agent)); // nothing half-applied
    }

    [Fact]
    public void Quota_limit_cuts_offers_to_the_remaining_room()
    {
        // Mesos QuotaProvidesLimit: a 2 cpu / 1024 MiB agent, limit cpus:1;mem:512 → the role gets half.
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:2;mem:1024;disk:1024");
        var fw = f.Framework("fw", "limited");
        f.Allocator.SetQuota("limited", ResourceQuantities.Parse("cpus:1;mem:512"));

        var offer = Assert.Single(f.Cycle().Offers);
        Assert.Equal(fw, offer.FrameworkId);
        Assert.Equal(Resources.Parse("cpus:1;mem:512;disk:1024"), offer.Resources); // disk is not limited

        var second = f.Cycle();
        Assert.Empty(second.Offers);
        var why = Assert.Single(second.Unsatisfied);
        Assert.True(why.Reasons.HasFlag(NoOfferReasons.QuotaLimit), why.Message);
        Assert.Equal(ResourceQuantities.Parse("cpus:1;mem:512;disk:1024"), f.Allocator.QuotaConsumedBy("limited"));
    }

    [Fact]
    public void Quota_of_a_parent_role_caps_its_sub_roles_together_and_counts_reservations()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:8;mem:8192");
        f.Agent("agent-2", "cpus(eng/db):1;mem(eng/db):1024;cpus:8;mem:8192");
        f.Framework("web", "eng/web");
        f.Framework("db", "eng/db");
        f.Allocator.SetQuota("eng", ResourceQuantities.Parse("cpus:4;mem:4096"));

        var result = f.Cycle();
        var unreservedCpus = result.Offers.Sum(o => o.Resources.Unreserved().Cpus);
        var unreservedMem = result.Offers.Sum(o => o.Resources.Unreserved().Mem);

        // The 1-cpu reservation counts toward eng's consumption, leaving 3 cpus and 3072 MiB unreserved.
        Assert.Equal(3, unreservedCpus, 3);
        Assert.Equal(3072, unreservedMem, 3);
        Assert.Equal(ResourceQuantities.Parse("cpus:4;mem:4096"), f.Allocator.QuotaConsumedBy("eng"));
    }

    [Fact]
    public void Removing_quota_lets_the_role_grow_again()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:4;mem:4096");
        f.Framework("fw", "r");
        f.Allocator.SetQuota("r", ResourceQuantities.Parse("cpus:1"));
        var first = Assert.Single(f.Cycle().Offers);
        Assert.Equal(1, first.Resources.Cpus, 3);

        f.Allocator.SetQuota("r", null);
        var second = Assert.Single(f.Cycle().Offers);
        Assert.Equal(3, second.Resources.Cpus, 3);
        Assert.Null(f.Allocator.QuotaOf("r"));
    }
}
