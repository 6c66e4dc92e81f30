namespace DatacenterOs.Kernel.Tests.Allocation;

public sealed class HierarchicalRoleTests
{
    [Fact]
    public void Roles_share_level_by_level_so_a_subtree_counts_as_one_at_its_level()
    {
        // Four equal agents; frameworks in eng/db, eng/web and ops.
        // Level 1 is eng against ops; inside eng, db against web. Agent by agent:
        //   eng 0 = ops 0 (tie, no allocations yet, "eng" < "ops") → eng; inside eng db 0 = web 0 → eng/db
        //   eng 1/4 > ops 0 → ops
        //   eng 1/4 = ops 1/4, one allocation each, "eng" < "ops" → eng; inside eng web 0 < db 1/4 → eng/web
        //   eng 2/4 > ops 1/4 → ops
        // So ops gets half the cluster; with flat roles it would get a third (checked below).
        var f = new AllocatorFixture();
        for (var i = 0; i < 4; i++)
        {
            f.Agent($"agent-{i}", "cpus:4;mem:4096");
        }

        f.Framework("db", "eng/db");
        f.Framework("web", "eng/web");
        f.Framework("ops", "ops");

        var offers = f.Cycle().Offers;
        Assert.Equal(4, offers.Count);
        Assert.Equal(2, offers.Count(o => o.Role == "ops"));
        Assert.Equal(1, offers.Count(o => o.Role == "eng/db"));
        Assert.Equal(1, offers.Count(o => o.Role == "eng/web"));
        Assert.Equal(0.5, f.Allocator.RoleShare("eng"), 9);
        Assert.Equal(0.5, f.Allocator.RoleShare("ops"), 9);
        Assert.Equal(0.25, f.Allocator.RoleShare("eng/db"), 9);

        var flat = new AllocatorFixture();
        for (var i = 0; i < 4; i++)
        {
            flat.Agent($"agent-{i}", "cpus:4;mem:4096");
        }

        flat.Framework("db", "db");
        flat.Framework("web", "web");
        flat.Framework("ops", "ops");
        Assert.Equal(1, flat.Cycle().Offers.Count(o => o.Role == "ops"));
    }

    [Fact]
    public void The_weight_of_a_parent_role_applies_to_its_whole_subtree()
    {
        // eng has weight 3: eng's subtree share is divided by 3, so eng takes 3 of 4 agents against ops.
        //   eng 0 = ops 0 → eng (name); eng (1/4)/3 = 0.083 < ops 0? no, ops 0 < 0.083 → ops;
        //   eng 0.083 < ops 0.25 → eng; eng (2/4)/3 = 0.167 < 0.25 → eng.
        var f = new AllocatorFixture();
        for (var i = 0; i < 4; i++)
        {
            f.Agent($"agent-{i}", "cpus:4;mem:4096");
        }

        f.Framework("web", "eng/web");
        f.Framework("ops", "ops");
        f.Allocator.UpdateWeight("eng", 3);

        var offers = f.Cycle().Offers;
        Assert.Equal(3, offers.Count(o => o.Role == "eng/web"));
        Assert.Equal(1, offers.Count(o => o.Role == "ops"));
        Assert.Equal(3.0, f.Allocator.WeightOf("eng"));
        Assert.Equal(0.75 / 3, f.Allocator.RoleShare("eng"), 9);
    }

    [Fact]
    public void A_role_that_is_also_a_parent_competes_with_its_children()
    {
        var f = new AllocatorFixture();
        for (var i = 0; i < 2; i++)
        {
            f.Agent($"agent-{i}", "cpus:4;mem:4096");
        }

        f.Framework("parent", "eng");
        f.Framework("child", "eng/web");

        var offers = f.Cycle().Offers;
        Assert.Equal(2, offers.Count);
        Assert.Single(offers, o => o.Role == "eng");
        Assert.Single(offers, o => o.Role == "eng/web");
        Assert.Equal(1.0, f.Allocator.RoleShare("eng"), 9); // the subtree holds the whole cluster
    }
}
