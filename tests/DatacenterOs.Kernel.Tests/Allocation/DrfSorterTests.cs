using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Kernel.Tests.Allocation;

/// <summary>
/// Unit tests of <see cref="DrfSorter"/>, mostly ports of Mesos <c>src/tests/sorter_tests.cpp</c> (<c>DRFSorterTest.*</c>
/// and the DRF instantiation of <c>CommonSorterTest.*</c>) with the same numbers and expected orders.
/// Translation: resource-name index 0 = cpus, 1 = mem (MB), 2 = disk (MB), all in thousandths (cpus:3.5 → 3500);
/// Mesos <c>addSlave</c>/<c>removeSlave</c> become <see cref="SorterTotals.Set"/> with the cluster sum;
/// <c>add</c> + <c>activate</c> → <c>Add</c> + <c>Activate</c>; <c>allocated</c>/<c>unallocated</c> →
/// <c>Allocated</c>/<c>Unallocated</c> (no agent argument: our sorter keeps no per-agent allocation);
/// <c>update(old, new)</c> → <c>Unallocated(old - new)</c> (which, like Mesos <c>update</c>, does not count an allocation).
/// Mesos' <c>DRFSorter</c> is always hierarchical; clients without '/' behave the same in our flat sorter, so those
/// ports run on both kinds.
/// </summary>
public sealed class DrfSorterTests
{
    private const int Cpus = 0;
    private const int Mem = 1;
    private const int Disk = 2;

    // ---------------------------------------------------------------------------------------------------------------
    // Ports of Mesos sorter_tests.cpp
    // ---------------------------------------------------------------------------------------------------------------

    // Mesos: TEST(DRFSorterTest, DRF)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_DRF(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);
        s.AssertOrder();

        s.AddActive("a");
        s.Allocated("a", cpus: 5, mem: 5);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        // shares: a = .05, b = .06
        s.AssertOrder("a", "b");

        s.AddActive("c");
        s.Allocated("c", cpus: 1, mem: 1);

        s.AddActive("d");
        s.Allocated("d", cpus: 3, mem: 1);

        // shares: a = .05, b = .06, c = .01, d = .03
        s.AssertOrder("c", "d", "a", "b");

        s.Remove("a");
        s.Unallocated("b", cpus: 4, mem: 4);

        // shares: b = .02, c = .01, d = .03
        s.AssertOrder("c", "b", "d");

        s.AddActive("e");
        s.Allocated("e", cpus: 1, mem: 5);

        // Mesos: removeSlave + addSlave(cpus:50;mem:100).
        s.SetTotals(cpus: 50, mem: 100);

        // shares: b = .04, c = .02, d = .06, e = .05
        s.AssertOrder("c", "b", "e", "d");

        // Mesos: removeSlave + addSlave(cpus:50;mem:200).
        s.SetTotals(cpus: 50, mem: 200);

        s.AddActive("f");
        s.Allocated("f", cpus: 5, mem: 1);

        s.Allocated("c", cpus: 0, mem: 15);

        // shares: b = .04, c = .08, d = .06, e = .025, f = .1
        s.AssertOrder("e", "b", "d", "c", "f");

        Assert.True(s.Contains("b"));
        Assert.False(s.Contains("a"));
        Assert.Equal(5, s.Sorter.Count);

        s.Deactivate("d");

        Assert.True(s.Contains("d"));
        s.AssertOrder("e", "b", "c", "f");
        Assert.Equal(5, s.Sorter.Count);

        s.Activate("d");

        s.AssertOrder("e", "b", "d", "c", "f");
    }

    // Mesos: TEST(DRFSorterTest, WDRF)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_WDRF(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 5, mem: 5);

        s.AddActive("b");
        s.Sorter.UpdateWeight("b", 2);
        s.Allocated("b", cpus: 6, mem: 6);

        // shares: a = .05, b = .03
        s.AssertOrder("b", "a");

        s.AddActive("c");
        s.Allocated("c", cpus: 4, mem: 4);

        // shares: a = .05, b = .03, c = .04
        s.AssertOrder("b", "c", "a");

        s.AddActive("d");
        s.Sorter.UpdateWeight("d", 10);
        s.Allocated("d", cpus: 10, mem: 20);

        // shares: a = .05, b = .03, c = .04, d = .02
        s.AssertOrder("d", "b", "c", "a");

        s.Remove("b");

        s.AssertOrder("d", "c", "a");

        s.Allocated("d", cpus: 10, mem: 25);

        // shares: a = .05, c = .04, d = .045
        s.AssertOrder("c", "d", "a");

        s.AddActive("e");
        s.Sorter.UpdateWeight("e", 0.1);
        s.Allocated("e", cpus: 1, mem: 1);

        // shares: a = .05, c = .04, d = .045, e = .1
        s.AssertOrder("c", "d", "a", "e");

        s.Remove("a");

        s.AssertOrder("c", "d", "e");
    }

    // Mesos: TEST(DRFSorterTest, UpdateWeight)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_UpdateWeight(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 5, mem: 5);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        // shares: a = .05, b = .06
        s.AssertOrder("a", "b");

        // Increase b's weight to flip the sort order.
        s.Sorter.UpdateWeight("b", 2);

        // shares: a = .05, b = .03
        s.AssertOrder("b", "a");
        Assert.Equal(0.03, s.Share("b"), 12);
    }

    // Mesos: TEST(DRFSorterTest, AllocationCountTieBreak)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_AllocationCountTieBreak(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);

        s.Add("a");
        s.Add("b");
        s.Add("c");
        s.Add("d");
        s.Add("e");
        s.Activate("a");
        s.Activate("b");
        s.Activate("c");
        s.Activate("d");
        s.Activate("e");

        // Everyone is allocated the same amount of resources; "c" gets three distinct allocations, "d" gets two, and
        // all other clients get one.
        s.Allocated("a", cpus: 3, mem: 3);
        s.Allocated("b", cpus: 3, mem: 3);
        s.Allocated("c", cpus: 1, mem: 1);
        s.Allocated("c", cpus: 1, mem: 1);
        s.Allocated("c", cpus: 1, mem: 1);
        s.Allocated("d", cpus: 2, mem: 2);
        s.Allocated("d", cpus: 1, mem: 1);
        s.Allocated("e", cpus: 3, mem: 3);

        // Allocation count: {a,b,e} = 1, {d} = 2, {c} = 3.
        s.AssertOrder("a", "b", "e", "d", "c");
        Assert.Equal(3, s.Sorter.AllocationCount(s.Id("c")));
        Assert.Equal(2, s.Sorter.AllocationCount(s.Id("d")));

        // Check that unallocating and re-allocating to a client does not reset the allocation count.
        s.Unallocated("c", cpus: 3, mem: 3);

        s.AssertOrder("c", "a", "b", "e", "d");

        s.Allocated("c", cpus: 3, mem: 3);

        // Allocation count: {a,b,e} = 1, {d} = 2, {c} = 4.
        s.AssertOrder("a", "b", "e", "d", "c");
        Assert.Equal(4, s.Sorter.AllocationCount(s.Id("c")));

        // Check that deactivating and then re-activating a client does not reset the allocation count.
        s.Deactivate("c");
        s.Activate("c");

        // Allocation count: {a,b,e} = 1, {d} = 2, {c} = 4.
        s.AssertOrder("a", "b", "e", "d", "c");

        s.Unallocated("c", cpus: 3, mem: 3);
        s.Allocated("c", cpus: 3, mem: 3);

        // Allocation count: {a,b,e} = 1, {d} = 2, {c} = 5.
        s.AssertOrder("a", "b", "e", "d", "c");

        // Check that allocations to an inactive client increase the allocation count.
        s.Deactivate("a");

        s.Unallocated("a", cpus: 1, mem: 3);
        s.Allocated("a", cpus: 1, mem: 3);

        // Allocation count: {b,e} = 1, {d} = 2, {c} = 5.
        s.AssertOrder("b", "e", "d", "c");

        s.Activate("a");

        // Allocation count: {b,e} = 1, {a,d} = 2, {c} = 5.
        s.AssertOrder("b", "e", "a", "d", "c");
        Assert.Equal(2, s.Sorter.AllocationCount(s.Id("a")));
    }

    // Mesos: TEST(DRFSorterTest, ShallowHierarchy) — the DRF sequence with every client in its own branch.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_ShallowHierarchy(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);

        s.AddActive("a/a");
        s.Allocated("a/a", cpus: 5, mem: 5);

        s.AddActive("b/b");
        s.Allocated("b/b", cpus: 6, mem: 6);

        // shares: a/a = .05, b/b = .06
        s.AssertOrder("a/a", "b/b");

        s.AddActive("c/c");
        s.Allocated("c/c", cpus: 1, mem: 1);

        s.AddActive("d/d");
        s.Allocated("d/d", cpus: 3, mem: 1);

        // shares: a/a = .05, b/b = .06, c/c = .01, d/d = .03
        s.AssertOrder("c/c", "d/d", "a/a", "b/b");

        s.Remove("a/a");
        s.Unallocated("b/b", cpus: 4, mem: 4);

        // shares: b/b = .02, c/c = .01, d/d = .03
        s.AssertOrder("c/c", "b/b", "d/d");

        s.AddActive("e/e");
        s.Allocated("e/e", cpus: 1, mem: 5);

        s.SetTotals(cpus: 50, mem: 100);

        // shares: b/b = .04, c/c = .02, d/d = .06, e/e = .05
        s.AssertOrder("c/c", "b/b", "e/e", "d/d");

        s.SetTotals(cpus: 50, mem: 200);

        s.AddActive("f/f");
        s.Allocated("f/f", cpus: 5, mem: 1);

        s.Allocated("c/c", cpus: 0, mem: 15);

        // shares: b = .04, c = .08, d = .06, e = .025, f = .1
        s.AssertOrder("e/e", "b/b", "d/d", "c/c", "f/f");

        Assert.True(s.Contains("b/b"));
        Assert.False(s.Contains("a/a"));
        Assert.Equal(5, s.Sorter.Count);

        s.Deactivate("d/d");

        Assert.True(s.Contains("d/d"));
        s.AssertOrder("e/e", "b/b", "c/c", "f/f");
        Assert.Equal(5, s.Sorter.Count);

        s.Activate("d/d");

        s.AssertOrder("e/e", "b/b", "d/d", "c/c", "f/f");
    }

    // Mesos: TEST(DRFSorterTest, DeepHierarchy) — the DRF sequence with clients at different depths.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_DeepHierarchy(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 100);

        s.AddActive("a/a/a/a/a");
        s.Allocated("a/a/a/a/a", cpus: 5, mem: 5);

        s.AddActive("b/b/b/b");
        s.Allocated("b/b/b/b", cpus: 6, mem: 6);

        // shares: a/a/a/a/a = .05, b/b/b/b = .06
        s.AssertOrder("a/a/a/a/a", "b/b/b/b");

        s.AddActive("c/c/c");
        s.Allocated("c/c/c", cpus: 1, mem: 1);

        s.AddActive("d/d");
        s.Allocated("d/d", cpus: 3, mem: 1);

        // shares: a/a/a/a/a = .05, b/b/b/b = .06, c/c/c = .01, d/d = .03
        s.AssertOrder("c/c/c", "d/d", "a/a/a/a/a", "b/b/b/b");

        s.Remove("a/a/a/a/a");
        s.Unallocated("b/b/b/b", cpus: 4, mem: 4);

        // shares: b/b/b/b = .02, c/c/c = .01, d/d = .03
        s.AssertOrder("c/c/c", "b/b/b/b", "d/d");

        s.AddActive("e/e/e/e/e/e");
        s.Allocated("e/e/e/e/e/e", cpus: 1, mem: 5);

        s.SetTotals(cpus: 50, mem: 100);

        // shares: b/b/b/b = .04, c/c/c = .02, d/d = .06, e/e/e/e/e/e = .05
        s.AssertOrder("c/c/c", "b/b/b/b", "e/e/e/e/e/e", "d/d");

        s.SetTotals(cpus: 50, mem: 200);

        s.AddActive("f/f");
        s.Allocated("f/f", cpus: 5, mem: 1);

        s.Allocated("c/c/c", cpus: 0, mem: 15);

        // shares: b = .04, c = .08, d = .06, e = .025, f = .1
        s.AssertOrder("e/e/e/e/e/e", "b/b/b/b", "d/d", "c/c/c", "f/f");

        Assert.True(s.Contains("b/b/b/b"));
        Assert.False(s.Contains("a/a/a/a/a"));
        Assert.Equal(5, s.Sorter.Count);

        s.Deactivate("d/d");

        Assert.True(s.Contains("d/d"));
        s.AssertOrder("e/e/e/e/e/e", "b/b/b/b", "c/c/c", "f/f");
        Assert.Equal(5, s.Sorter.Count);

        s.Activate("d/d");

        s.AssertOrder("e/e/e/e/e/e", "b/b/b/b", "d/d", "c/c/c", "f/f");
    }

    // Mesos: TEST(DRFSorterTest, HierarchicalAllocation)
    // Skipped part: the `allocation(client, agent)` / `allocationScalarQuantities` checks — our sorter keeps no
    // per-agent allocation; the subtree shares are checked through ShareOfPath instead.
    [Fact]
    public void Mesos_HierarchicalAllocation()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.Add("a");
        s.Add("b/c");
        s.Add("b/d");
        s.Activate("a");
        s.Activate("b/c");
        s.Activate("b/d");

        Assert.Equal(3, s.Sorter.Count);
        Assert.True(s.Contains("a"));
        Assert.False(s.Contains("b")); // an inner node, not a client
        Assert.True(s.Contains("b/c"));
        Assert.True(s.Contains("b/d"));

        // Shares: a = 0, b/c = 0, b/d = 0.
        s.AssertOrder("a", "b/c", "b/d");

        s.Allocated("a", cpus: 6, mem: 6);

        // Shares: a = 0.06, b/c = 0, b/d = 0.
        s.AssertOrder("b/c", "b/d", "a");

        s.Allocated("b/c", cpus: 4, mem: 4);
        s.Allocated("b/d", cpus: 3, mem: 3);

        // Shares: a = 0.06, b/d = 0.03, b/c = 0.04 (b = 0.07).
        s.AssertOrder("a", "b/d", "b/c");
        Assert.Equal(0.07, s.Sorter.ShareOfPath("b"), 12);

        s.Allocated("a", cpus: 2, mem: 2);

        // Shares: b/d = 0.03, b/c = 0.04, a = 0.08.
        s.AssertOrder("b/d", "b/c", "a");

        s.AddActive("b/e/f");

        Assert.False(s.Contains("b/e"));
        Assert.True(s.Contains("b/e/f"));

        // Shares: b/e/f = 0, b/d = 0.03, b/c = 0.04, a = 0.08.
        s.AssertOrder("b/e/f", "b/d", "b/c", "a");

        s.Allocated("b/e/f", cpus: 3.5, mem: 3.5);

        // Shares: a = 0.08, b/d = 0.03, b/e/f = 0.035, b/c = 0.04 (b = 0.105).
        s.AssertOrder("a", "b/d", "b/e/f", "b/c");
        Assert.Equal(0.105, s.Sorter.ShareOfPath("b"), 12);

        // Removing a client should result in updating the fair-share for the subtree that contains the removed client.
        s.Remove("b/e/f");

        Assert.False(s.Contains("b/e/f"));
        Assert.Equal(3, s.Sorter.Count);
        Assert.Equal(0.07, s.Sorter.ShareOfPath("b"), 12);
        Assert.Equal(0, s.Sorter.ShareOfPath("b/e"));

        // Shares: b/d = 0.03, b/c = 0.04, a = 0.08.
        s.AssertOrder("b/d", "b/c", "a");

        // Mesos: update("b/c", cpus:4;mem:4 → cpus:1;mem:1). Updating a client should result in updating the
        // fair-share for the subtree that contains the updated client.
        s.Unallocated("b/c", cpus: 3, mem: 3);

        // Shares: b/c = 0.01, b/d = 0.03, a = 0.08.
        s.AssertOrder("b/c", "b/d", "a");

        s.AddActive("b/e/f");
        s.Allocated("b/e/f", cpus: 3.5, mem: 3.5);

        // Shares: b/c = 0.01, b/d = 0.03, b/e/f = 0.035, a = 0.08.
        s.AssertOrder("b/c", "b/d", "b/e/f", "a");

        Assert.Equal(4, s.Sorter.Count);
    }

    // Mesos: TEST(DRFSorterTest, HierarchicalIterationOrder) — "d" is both a client and the parent of "d/e".
    [Fact]
    public void Mesos_HierarchicalIterationOrder()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.Add("a/b");
        s.Add("c");
        s.Add("d");
        s.Add("d/e");

        s.Activate("a/b");
        s.Activate("c");
        s.Activate("d");
        s.Activate("d/e");

        // Shares: a/b = 0, c = 0, d = 0, d/e = 0
        s.AssertOrder("a/b", "c", "d", "d/e");

        s.Allocated("c", cpus: 8, mem: 8);

        // Shares: a/b = 0, d = 0, d/e = 0, c = 0.08.
        s.AssertOrder("a/b", "d", "d/e", "c");

        s.Allocated("d", cpus: 3, mem: 3);
        s.Allocated("d/e", cpus: 2, mem: 2);

        // Shares: a/b = 0, d/e = 0.02, d = 0.03, c = 0.08.
        s.AssertOrder("a/b", "d/e", "d", "c");

        s.Allocated("a/b", cpus: 6, mem: 6);

        // Shares: d/e = 0.02, d = 0.03, a/b = 0.06, c = 0.08.
        s.AssertOrder("d/e", "d", "a/b", "c");
    }

    // Mesos: TEST(DRFSorterTest, AddChildToLeaf), up to and including `updateWeight("a/c", 0.2)`.
    // The rest (weights on "a" itself) is in AddChildToLeaf_weight_of_a_does_not_apply_to_client_a_within_its_subtree,
    // skipped as a bug.
    [Fact]
    public void Mesos_AddChildToLeaf()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        s.AssertOrder("b", "a");

        // Add a new client "a/c". The "a" subtree should now compete against the "b" subtree; within the "a" subtree,
        // "a" should compete (as a sibling) against "a/c".
        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);

        s.AssertOrder("b", "a/c", "a");
        Assert.Equal(0.15, s.Sorter.ShareOfPath("a"), 12);
        Assert.Equal(0.10, s.Share("a"), 12);

        // The new inner node "a" inherits the client's allocation count (Mesos copies the allocation).
        Assert.Equal(1, s.Sorter.AllocationCount(s.Id("a")));

        // Remove the "a" client; the "a/c" client should remain. Note that "a/c" now appears before "b" in the sort
        // order, because the "a" subtree is now farther below its fair-share than the "b" subtree.
        s.Remove("a");

        Assert.False(s.Contains("a"));
        s.AssertOrder("a/c", "b");
        Assert.Equal(0.05, s.Sorter.ShareOfPath("a"), 12);

        // Re-add the "a" client with the same resources. The client order should revert to its previous value.
        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);

        Assert.True(s.Contains("a"));
        s.AssertOrder("b", "a/c", "a");

        // Check that "a" is considered to have a weight of 1 when it competes against "a/c".
        s.Sorter.UpdateWeight("a/c", 0.2);

        s.AssertOrder("b", "a", "a/c");
    }

    // Mesos: TEST(DRFSorterTest, AddChildToLeaf), the last two steps.
    [Fact]
    public void AddChildToLeaf_weight_of_a_does_not_apply_to_client_a_within_its_subtree()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);
        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);
        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);
        s.Sorter.UpdateWeight("a/c", 0.2);
        s.AssertOrder("b", "a", "a/c");

        // Changing the weight "a" should change how it competes against its siblings (e.g., "b"), not its children
        // (e.g., "a/c").
        s.Sorter.UpdateWeight("a", 3);

        s.AssertOrder("a", "a/c", "b");

        s.Sorter.UpdateWeight("a/c", 1);

        s.AssertOrder("a/c", "a", "b");
        Assert.Equal(0.10, s.Share("a"), 12);
        Assert.Equal(0.05, s.Sorter.ShareOfPath("a"), 12);
    }

    // Same bug as above, reached through DrfSorter.GetOrAddInternal: the weight is set while "a" is still a plain leaf,
    // then "a/c" arrives and the leaf becomes the virtual "." child keeping weight 3.
    [Fact]
    public void Weight_of_a_leaf_that_becomes_a_parent_stays_on_the_subtree()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);
        s.Sorter.UpdateWeight("a", 3);
        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);
        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        // Subtree a: .15 / 3 = .05 < b .06. Inside a: client a .10 (weight 1) after a/c .05.
        s.AssertOrder("a/c", "a", "b");
    }

    // Same bug as above, reached through Add: "a/c" exists and "a" has a weight when client "a" is added.
    [Fact]
    public void Weight_of_an_inner_node_does_not_apply_to_a_client_added_at_its_path()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.Sorter.UpdateWeight("a", 3);
        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);
        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);
        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        s.AssertOrder("a/c", "a", "b");
    }

    // Mesos: TEST(DRFSorterTest, AddChildToInternal)
    [Fact]
    public void Mesos_AddChildToInternal()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.AddActive("x/a");
        s.Allocated("x/a", cpus: 10, mem: 10);

        s.AddActive("x/b");
        s.Allocated("x/b", cpus: 6, mem: 6);

        s.AssertOrder("x/b", "x/a");

        s.AddActive("x");
        s.Allocated("x", cpus: 7, mem: 7);

        s.AssertOrder("x/b", "x", "x/a");

        s.AddActive("z");
        s.Allocated("z", cpus: 20, mem: 20);

        s.AssertOrder("z", "x/b", "x", "x/a");

        s.Remove("x");

        s.AssertOrder("x/b", "x/a", "z");
    }

    // Mesos: TEST(DRFSorterTest, AddChildToInactiveLeaf)
    [Fact]
    public void Mesos_AddChildToInactiveLeaf()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        s.Deactivate("a");

        s.AssertOrder("b");

        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);

        s.AssertOrder("b", "a/c");

        // Not in Mesos: the inactive client "a" comes back inside its subtree.
        s.Activate("a");
        s.AssertOrder("b", "a/c", "a");
    }

    // Mesos: TYPED_TEST(CommonSorterTest, RemoveLeafCollapseParent). Mesos compares the sorted set only (the test is
    // shared with the random sorter); the DRF order is checked too.
    [Fact]
    public void Mesos_RemoveLeafCollapseParent()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);

        Assert.Equal(["a", "a/c", "b"], s.Sort().Order(StringComparer.Ordinal));
        s.AssertOrder("b", "a/c", "a");

        s.Remove("a/c");

        Assert.Equal(["a", "b"], s.Sort().Order(StringComparer.Ordinal));
        s.AssertOrder("b", "a");
        Assert.Equal(0.10, s.Sorter.ShareOfPath("a"), 12);
    }

    // Mesos: TYPED_TEST(CommonSorterTest, RemoveLeafCollapseParentInactive)
    [Fact]
    public void Mesos_RemoveLeafCollapseParentInactive()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.AddActive("a");
        s.Allocated("a", cpus: 10, mem: 10);

        s.AddActive("b");
        s.Allocated("b", cpus: 6, mem: 6);

        s.AddActive("a/c");
        s.Allocated("a/c", cpus: 5, mem: 5);

        s.Deactivate("a");

        Assert.Equal(["a/c", "b"], s.Sort().Order(StringComparer.Ordinal));
        s.AssertOrder("b", "a/c");

        s.Remove("a/c");

        s.AssertOrder("b");
        Assert.False(s.Sorter.IsActive(s.Id("a")));
    }

    // Mesos: TEST(DRFSorterTest, ChangeWeightOnSubtree)
    [Fact]
    public void Mesos_ChangeWeightOnSubtree()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);

        s.Sorter.UpdateWeight("b", 3);
        s.Sorter.UpdateWeight("a", 2);

        s.Add("a/x");
        s.Add("b/y");
        s.Activate("a/x");
        s.Activate("b/y");

        s.AssertOrder("a/x", "b/y");

        s.Allocated("a/x", cpus: 10, mem: 10);
        s.Allocated("b/y", cpus: 10, mem: 10);

        // a = .10 / 2 = .05, b = .10 / 3.
        s.AssertOrder("b/y", "a/x");

        s.AddActive("b/z");
        s.Allocated("b/z", cpus: 5, mem: 5);

        // b = .15 / 3 (just below .05 in floating point, as in Mesos), inside b: z .05, y .10.
        s.AssertOrder("b/z", "b/y", "a/x");

        s.AddActive("b");
        s.Allocated("b", cpus: 4, mem: 4);

        // b = .19 / 3 > a = .05; inside b: client b .04, b/z .05, b/y .10.
        s.AssertOrder("a/x", "b", "b/z", "b/y");

        s.AddActive("a/zz");
        s.Allocated("a/zz", cpus: 2, mem: 2);

        // a = .12 / 2 = .06 < b.
        s.AssertOrder("a/zz", "a/x", "b", "b/z", "b/y");
    }

    // Mesos: TEST(DRFSorterTest, SplitResourceShares). Our sorter sees scalar quantities only, so the two 5 MB
    // persistent-volume pieces of "b" are simply 10 MB of disk; what is checked is that they add up.
    [Fact]
    public void Mesos_SplitResourceShares()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 100, mem: 100);
        s.Totals.Set(Res(cpus: 100, mem: 100, disk: 100));

        s.AddActive("a");
        s.AddActive("b");

        s.Allocated("a", Res(cpus: 9, mem: 9, disk: 9));
        s.Allocated("b", Res(cpus: 9, mem: 9, disk: 5));
        s.Allocated("b", Res(cpus: 0, mem: 0, disk: 5));

        s.AssertOrder("a", "b");
        Assert.Equal(0.10, s.Share("b"), 12);
    }

    // Mesos: TEST(DRFSorterTest, UpdateTotal)
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Mesos_UpdateTotal(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 10, mem: 100);

        s.AddActive("a");
        s.AddActive("b");

        // Dominant share of "a" is 0.2 (cpus).
        s.Allocated("a", cpus: 2, mem: 1);

        // Dominant share of "b" is 0.1 (cpus).
        s.Allocated("b", cpus: 1, mem: 2);

        s.AssertOrder("b", "a");

        // Update the total resources by removing the previous total and adding back the new total.
        s.SetTotals(cpus: 100, mem: 10);

        // Now the dominant share of "a" is 0.1 (mem) and "b" is 0.2 (mem), which should change the sort order.
        s.AssertOrder("a", "b");
    }

    // Mesos: TEST(DRFSorterTest, MultipleSlavesUpdateTotal). Totals are the sum over agents: first 5+5 cpus,
    // 50+50 mem; then agent A becomes cpus:95;mem:50, i.e. 100 cpus, 100 mem.
    [Fact]
    public void Mesos_MultipleSlavesUpdateTotal()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 10, mem: 100);

        s.AddActive("a");
        s.AddActive("b");

        // Dominant share of "a" is 0.2 (cpus).
        s.Allocated("a", cpus: 2, mem: 1);

        // Dominant share of "b" is 0.1 (cpus).
        s.Allocated("b", cpus: 1, mem: 3);

        s.AssertOrder("b", "a");

        s.SetTotals(cpus: 100, mem: 100);

        // Now the dominant share of "a" is 0.02 (cpus) and "b" is 0.03 (mem), which should change the sort order.
        s.AssertOrder("a", "b");
    }

    // Mesos: TEST(DRFSorterTest, RemoveResources)
    [Fact]
    public void Mesos_RemoveResources()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 10, mem: 0);

        s.AddActive("a");
        s.AddActive("b");

        // Dominant share of "a" is 0.6 (cpus).
        s.Allocated("a", cpus: 6, mem: 0);

        // Dominant share of "b" is 0.4 (cpus).
        s.Allocated("b", cpus: 4, mem: 0);

        s.AssertOrder("b", "a");

        // Remove cpus from the total resources as well as the allocation of "a" (Mesos `update(a, 6 → 1)`).
        s.SetTotals(cpus: 5, mem: 0);
        s.Unallocated("a", cpus: 5, mem: 0);

        // Now the dominant share of "a" is 0.2 (cpus) and that of "b" is 0.8 (cpus), which should change the order.
        s.AssertOrder("a", "b");
        Assert.Equal(0.2, s.Share("a"), 12);
        Assert.Equal(0.8, s.Share("b"), 12);
    }

    // Mesos: TEST(DRFSorterTest, RevocableResources). Mesos' ResourceQuantities are keyed by name, so revocable cpus
    // are just more cpus there too: total cpus 10 + 10 revocable = 20, mem 100; b holds 1 + 9 revocable = 10 cpus.
    [Fact]
    public void Mesos_RevocableResources()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 20, mem: 100);

        s.AddActive("a");
        s.AddActive("b");

        // Dominant share of "a" is 0.1 (cpus).
        s.Allocated("a", cpus: 2, mem: 1);

        // Dominant share of "b" is 0.5 (cpus).
        s.Allocated("b", cpus: 1 + 9, mem: 1);

        s.AssertOrder("a", "b");
        Assert.Equal(0.5, s.Share("b"), 12);
    }

    // Not ported: DRFSorterTest.SharedResources, SameDominantSharedResourcesAcrossClients,
    // SameSharedResourcesSameClient, SharedResourcesUnallocated (shared-resource copy de-duplication is not done by
    // our sorter, which sees quantities only), CommonSorterTest.UpdateAllocation / UpdateAllocationNestedClient /
    // AllocationForInactiveClient / MultipleSlaves / MultipleSlavesUpdateAllocation (per-agent allocation
    // bookkeeping, which our sorter does not keep), the RandomSorter tests and the benchmarks.

    // ---------------------------------------------------------------------------------------------------------------
    // Additional behaviour
    // ---------------------------------------------------------------------------------------------------------------

    [Fact]
    public void Deactivated_clients_are_not_sorted_and_come_back_in_place_in_a_flat_sorter()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 100, mem: 100);
        foreach (var (name, cpus) in new[] { ("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0) })
        {
            s.AddActive(name);
            s.Allocated(name, cpus, mem: 0);
        }

        s.AssertOrder("a", "b", "c", "d");

        s.Deactivate("b");
        s.AssertOrder("a", "c", "d");
        Assert.False(s.Sorter.IsActive(s.Id("b")));
        Assert.Equal(4, s.Sorter.Count);

        // Allocations to the inactive client still move it: it comes back after "c".
        s.Allocated("b", cpus: 1.5, mem: 0);
        s.AssertOrder("a", "c", "d");

        s.Activate("b");
        Assert.True(s.Sorter.IsActive(s.Id("b")));
        s.AssertOrder("a", "c", "b", "d");

        // Deactivating twice or activating twice is harmless.
        s.Deactivate("a");
        s.Deactivate("a");
        s.AssertOrder("c", "b", "d");
        s.Activate("a");
        s.Activate("a");
        s.AssertOrder("a", "c", "b", "d");

        // Everyone inactive: nothing to sort.
        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            s.Deactivate(name);
        }

        s.AssertOrder();
        s.Activate("d");
        s.AssertOrder("d");
    }

    [Fact]
    public void Deactivated_clients_are_not_sorted_and_come_back_in_place_in_a_hierarchical_sorter()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.AddActive("x/a");
        s.Allocated("x/a", cpus: 1, mem: 1);
        s.AddActive("x/b");
        s.Allocated("x/b", cpus: 2, mem: 2);
        s.AddActive("y/c");
        s.Allocated("y/c", cpus: 4, mem: 4);
        s.AddActive("y/d");
        s.Allocated("y/d", cpus: 1, mem: 1);
        s.AddActive("z");
        s.Allocated("z", cpus: 6, mem: 6);

        // x = .03, y = .05, z = .06.
        s.AssertOrder("x/a", "x/b", "y/d", "y/c", "z");

        // An inactive client's allocation still counts for its subtree.
        s.Deactivate("x/a");
        s.AssertOrder("x/b", "y/d", "y/c", "z");
        Assert.Equal(0.03, s.Sorter.ShareOfPath("x"), 12);

        // A subtree with no active client disappears.
        s.Deactivate("x/b");
        s.AssertOrder("y/d", "y/c", "z");

        // x grows to .055 (between y and z) while inactive; reactivating x/b puts the subtree there.
        s.Allocated("x/a", cpus: 2.5, mem: 0);
        s.Activate("x/b");
        s.AssertOrder("y/d", "y/c", "x/b", "z");

        // x/a (.035) comes back after x/b (.02) inside x.
        s.Activate("x/a");
        s.AssertOrder("y/d", "y/c", "x/b", "x/a", "z");

        // A client that is also a parent: deactivating it keeps its children.
        // y grows to .054 (just below x), and client y (.004) leads inside y.
        s.AddActive("y");
        s.Allocated("y", cpus: 0.4, mem: 0.4);
        s.AssertOrder("y", "y/d", "y/c", "x/b", "x/a", "z");
        s.Deactivate("y");
        s.AssertOrder("y/d", "y/c", "x/b", "x/a", "z");
        s.Deactivate("y/d");
        s.Deactivate("y/c");
        s.AssertOrder("x/b", "x/a", "z");
        s.Activate("y");
        s.AssertOrder("y", "x/b", "x/a", "z");
    }

    [Fact]
    public void Remove_takes_the_clients_allocation_out_of_every_ancestor()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.AddActive("a/b/c");
        s.Allocated("a/b/c", cpus: 10, mem: 10);
        s.AddActive("a/b/d");
        s.Allocated("a/b/d", cpus: 5, mem: 5);
        s.AddActive("a/e");
        s.Allocated("a/e", cpus: 2, mem: 2);
        s.AddActive("f");
        s.Allocated("f", cpus: 16, mem: 16);

        Assert.Equal(0.17, s.Sorter.ShareOfPath("a"), 12);
        Assert.Equal(0.15, s.Sorter.ShareOfPath("a/b"), 12);
        s.AssertOrder("f", "a/e", "a/b/d", "a/b/c");

        s.Remove("a/b/c");

        Assert.Equal(0.07, s.Sorter.ShareOfPath("a"), 12);
        Assert.Equal(0.05, s.Sorter.ShareOfPath("a/b"), 12);
        s.AssertOrder("a/e", "a/b/d", "f");

        // Removing an inactive client also takes its allocation out.
        s.Deactivate("a/b/d");
        s.AssertOrder("a/e", "f");
        s.Remove("a/b/d");
        Assert.Equal(0.02, s.Sorter.ShareOfPath("a"), 12);
        Assert.Equal(0, s.Sorter.ShareOfPath("a/b")); // the empty inner node is gone
        Assert.Equal(2, s.Sorter.Count);

        // A client re-added at a removed path starts from nothing.
        s.AddActive("a/b/c");
        Assert.Equal(0, s.Share("a/b/c"));
        Assert.Equal(0, s.Sorter.AllocationCount(s.Id("a/b/c")));
        s.AssertOrder("a/b/c", "a/e", "f");

        // The ids of removed clients are unknown to the sorter.
        Assert.Throws<InvalidOperationException>(() => s.Sorter.Allocated(s.RemovedIdOf("a/b/d"), Res(1, 1)));
    }

    [Fact]
    public void Remove_in_a_flat_sorter_frees_the_id_for_reuse()
    {
        var totals = new SorterTotals();
        totals.Set(Res(cpus: 10, mem: 10));
        var sorter = new DrfSorter(totals, hierarchical: false);
        sorter.Add(3, "a");
        sorter.Activate(3);
        sorter.Allocated(3, Res(cpus: 5, mem: 5));
        Assert.True(sorter.Contains(3));

        sorter.Remove(3);
        Assert.False(sorter.Contains(3));
        Assert.Equal(0, sorter.Count);
        Assert.True(sorter.Sort().IsEmpty);

        sorter.Add(3, "b");
        sorter.Activate(3);
        Assert.Equal(0, sorter.Share(3));
        Assert.Equal([3], sorter.Sort().ToArray());
    }

    [Fact]
    public void Adding_a_client_twice_is_refused()
    {
        var totals = new SorterTotals();
        var flat = new DrfSorter(totals, hierarchical: false);
        flat.Add(0, "a");
        Assert.Throws<InvalidOperationException>(() => flat.Add(0, "b"));
        Assert.Throws<InvalidOperationException>(() => flat.Add(1, "a"));

        var tree = new DrfSorter(totals, hierarchical: true);
        tree.Add(0, "a/b");
        Assert.Throws<InvalidOperationException>(() => tree.Add(1, "a/b"));
        Assert.Throws<InvalidOperationException>(() => tree.Add(0, "c"));
        Assert.Throws<InvalidOperationException>(() => tree.Remove(7));
    }

    [Fact]
    public void Adding_a_second_client_at_a_parent_path_is_refused()
    {
        var totals = new SorterTotals();
        totals.Set(Res(cpus: 10, mem: 10));
        var tree = new DrfSorter(totals, hierarchical: true);
        tree.Add(0, "a/b");
        tree.Add(1, "a");
        Assert.Throws<InvalidOperationException>(() => tree.Add(2, "a"));
    }

    [Fact]
    public void Virtual_leaf_ties_are_broken_by_the_path_a_dot_as_in_Mesos()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 10, mem: 10);
        s.AddActive("a");
        s.AddActive("a/+b");

        s.AssertOrder("a/+b", "a");
    }

    [Fact]
    public void Live_gives_the_same_order_as_Sort_in_a_flat_sorter()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 100, mem: 100);
        for (var i = 0; i < 8; i++)
        {
            s.AddActive("c" + i);
            s.Allocated("c" + i, cpus: (i * 3) % 7, mem: (i * 5) % 4);
        }

        s.Deactivate("c2");
        s.Deactivate("c5");
        s.Sorter.UpdateWeight("c6", 4);

        var sorted = s.Sorter.Sort().ToArray();
        var live = new List<int>();
        foreach (var client in s.Sorter.Live())
        {
            live.Add(client);
        }

        Assert.Equal(6, sorted.Length);
        Assert.Equal(sorted, live);

        // Live reflects changes immediately, without a Sort() in between.
        s.Allocated("c0", cpus: 50, mem: 0);
        live.Clear();
        foreach (var client in s.Sorter.Live())
        {
            live.Add(client);
        }

        Assert.Equal(s.Id("c0"), live[^1]);
        Assert.Equal(s.Sorter.Sort().ToArray(), live);

        // An empty or all-inactive sorter enumerates nothing.
        var empty = new DrfSorter(new SorterTotals(), hierarchical: false);
        foreach (var client in empty.Live())
        {
            Assert.Fail($"unexpected client {client}");
        }
    }

    [Fact]
    public void Live_is_refused_for_a_hierarchical_sorter()
    {
        var sorter = new DrfSorter(new SorterTotals(), hierarchical: true);
        Assert.Throws<InvalidOperationException>(() => sorter.Live());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Changing_totals_resorts_every_level(bool hierarchical)
    {
        var s = new SorterFixture(hierarchical, cpus: 100, mem: 1000);

        // cpu-heavy: p/x, q/y; mem-heavy: p/y, q/x.
        s.AddActive("p/x");
        s.Allocated("p/x", cpus: 10, mem: 10);
        s.AddActive("p/y");
        s.Allocated("p/y", cpus: 1, mem: 200);
        s.AddActive("q/x");
        s.Allocated("q/x", cpus: 1, mem: 300);
        s.AddActive("q/y");
        s.Allocated("q/y", cpus: 25, mem: 10);

        // cpus 100, mem 1000: p/x .10, p/y .20, q/x .30, q/y .25; p = .21, q = .31.
        s.AssertOrder("p/x", "p/y", "q/y", "q/x");

        // cpus 20, mem 10000: p/x .50, p/y .05, q/x .05 (count tie → path), q/y 1.25; p = .55, q = 1.30.
        s.SetTotals(cpus: 20, mem: 10000);
        AssertEither(["p/y", "p/x", "q/x", "q/y"], ["p/y", "q/x", "p/x", "q/y"]);
        Assert.Equal(0.05, s.Share("q/x"), 12);

        // cpus 1000, mem 500: p/x .02, p/y .40, q/x .60, q/y .025; p = .42, q = .62.
        s.SetTotals(cpus: 1000, mem: 500);
        AssertEither(["p/x", "p/y", "q/y", "q/x"], ["p/x", "q/y", "p/y", "q/x"]);

        // A resource with total 0 is ignored: only cpus count (p/x .10, p/y .01, q/x .01, q/y .25).
        s.SetTotals(cpus: 100, mem: 0);
        AssertEither(["p/y", "p/x", "q/x", "q/y"], ["p/y", "q/x", "p/x", "q/y"]);

        void AssertEither(string[] whenHierarchical, string[] whenFlat) =>
            s.AssertOrder(hierarchical ? whenHierarchical : whenFlat);
    }

    [Fact]
    public void Excluded_resources_do_not_count_toward_shares()
    {
        var s = new SorterFixture(hierarchical: false, cpus: 100, mem: 100);
        s.Totals.Set(Res(cpus: 100, mem: 100, disk: 100));
        s.AddActive("a");
        s.Allocated("a", Res(cpus: 5, mem: 5, disk: 50));
        s.AddActive("b");
        s.Allocated("b", Res(cpus: 10, mem: 10, disk: 0));

        s.AssertOrder("b", "a");

        // Mesos --fair_sharing_excluded_resource_names=disk.
        s.Totals.SetExcluded([false, false, true]);
        s.AssertOrder("a", "b");
        Assert.Equal(0.05, s.Share("a"), 12);

        s.Totals.SetExcluded([]);
        s.AssertOrder("b", "a");
    }

    [Fact]
    public void Allocation_counts_include_descendants_and_survive_unallocation()
    {
        var s = new SorterFixture(hierarchical: true, cpus: 100, mem: 100);
        s.AddActive("r/a");
        s.AddActive("r/b");
        s.AddActive("s");

        s.Allocated("r/a", cpus: 1, mem: 1);
        s.Allocated("r/b", cpus: 1, mem: 1);
        s.Allocated("s", cpus: 2, mem: 2);

        // r = .02 with 2 allocations, s = .02 with 1: s first.
        s.AssertOrder("s", "r/a", "r/b");

        s.Unallocated("r/a", cpus: 1, mem: 1);
        s.Allocated("s", cpus: 0, mem: 0); // an empty allocation still counts (s: 2 allocations)
        s.Unallocated("r/b", cpus: 1, mem: 1);

        // r = 0 (2 allocations), s = .02 (2): r first; inside r both 0 with 1 allocation each → path.
        s.AssertOrder("r/a", "r/b", "s");
        Assert.Equal(2, s.Sorter.AllocationCount(s.Id("s")));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Randomised comparison against a brute-force order
    // ---------------------------------------------------------------------------------------------------------------

    // 20 clients; "a", "a/b", "c", "c/y", "f", "g/a/b", "h" are both clients and parents.
    private static readonly string[] RandomPaths =
    [
        "a", "a/b", "a/c", "a/b/d", "a/b/e", "b", "c", "c/x", "c/y", "c/y/z",
        "d/e/f", "d/e/g", "d/h", "e", "f", "f/a", "g/a/b", "g/a/b/c", "h", "h/h/h",
    ];

    public static TheoryData<bool, int> RandomCases()
    {
        var data = new TheoryData<bool, int>();
        foreach (var hierarchical in new[] { false, true })
        {
            for (var seed = 1; seed <= 6; seed++)
            {
                data.Add(hierarchical, seed);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RandomCases))]
    public void Random_operations_keep_the_brute_force_order(bool hierarchical, int seed) =>
        RunRandom(hierarchical, seed, weightParentClients: false, steps: 400);

    [Fact]
    public void Random_operations_keep_the_brute_force_order_with_weights_on_parent_clients()
    {
        for (var seed = 1; seed <= 6; seed++)
        {
            RunRandom(hierarchical: true, seed, weightParentClients: true, steps: 400);
        }
    }

    private static void RunRandom(bool hierarchical, int seed, bool weightParentClients, int steps)
    {
        var rng = new Random(seed);
        var totals = new SorterTotals();
        var sorter = new DrfSorter(totals, hierarchical);
        var model = new Model(hierarchical, RandomPaths);
        totals.Set(model.Totals);

        var prefixes = RandomPaths.SelectMany(ProperPrefixes).ToHashSet(StringComparer.Ordinal);
        var weightTargets = RandomPaths.Concat(prefixes).Distinct(StringComparer.Ordinal)
            .Where(p => !hierarchical || weightParentClients || !(prefixes.Contains(p) && RandomPaths.Contains(p)))
            .Append("zz/unknown")
            .ToArray();
        double[] weights = [0.25, 0.5, 1, 1.5, 2, 3, 4];
        var log = new List<string>();

        // Half the clients up front, the rest arrive (and some leave) on the way.
        for (var i = 0; i < RandomPaths.Length; i += 2)
        {
            sorter.Add(i, RandomPaths[i]);
            model.Add(i);
            log.Add($"add {RandomPaths[i]}");
        }

        for (var step = 0; step < steps; step++)
        {
            var added = Enumerable.Range(0, RandomPaths.Length).Where(model.IsAdded).ToArray();
            var missing = Enumerable.Range(0, RandomPaths.Length).Where(c => !model.IsAdded(c)).ToArray();
            var roll = rng.Next(100);
            string op;
            if (added.Length == 0 || (roll < 6 && missing.Length > 0))
            {
                var c = missing[rng.Next(missing.Length)];
                sorter.Add(c, RandomPaths[c]);
                model.Add(c);
                op = $"add {RandomPaths[c]}";
            }
            else if (roll < 10)
            {
                var c = added[rng.Next(added.Length)];
                sorter.Remove(c);
                model.Remove(c);
                op = $"remove {RandomPaths[c]}";
            }
            else if (roll < 45)
            {
                var c = added[rng.Next(added.Length)];
                long[] v = [rng.Next(0, 5) * 1000L, rng.Next(0, 5) * 10_000L, rng.Next(0, 3) * 5000L];
                sorter.Allocated(c, v);
                model.Allocated(c, v);
                op = $"allocated {RandomPaths[c]} [{string.Join(",", v)}]";
            }
            else if (roll < 62)
            {
                var c = added[rng.Next(added.Length)];
                var held = model.AllocationOf(c);
                var v = held.Select(h => rng.Next(3) == 0 ? h : rng.Next(0, (int)(h / 1000) + 1) * 1000L).ToArray();
                sorter.Unallocated(c, v);
                model.Unallocated(c, v);
                op = $"unallocated {RandomPaths[c]} [{string.Join(",", v)}]";
            }
            else if (roll < 74)
            {
                var c = added[rng.Next(added.Length)];
                sorter.Activate(c);
                model.SetActive(c, true);
                op = $"activate {RandomPaths[c]}";
            }
            else if (roll < 84)
            {
                var c = added[rng.Next(added.Length)];
                sorter.Deactivate(c);
                model.SetActive(c, false);
                op = $"deactivate {RandomPaths[c]}";
            }
            else if (roll < 95)
            {
                var path = weightTargets[rng.Next(weightTargets.Length)];
                var w = weights[rng.Next(weights.Length)];
                sorter.UpdateWeight(path, w);
                model.Weights[path] = w;
                op = $"weight {path} {w}";
            }
            else if (roll < 98)
            {
                long[] t = [rng.Next(20, 60) * 1000L, rng.Next(100, 400) * 1000L, rng.Next(3) == 0 ? 0 : rng.Next(10, 50) * 1000L];
                totals.Set(t);
                model.Totals = t;
                op = $"totals [{string.Join(",", t)}]";
            }
            else
            {
                bool[] excluded = rng.Next(2) == 0 ? [] : [false, rng.Next(2) == 0, rng.Next(2) == 0];
                totals.SetExcluded(excluded);
                model.Excluded = excluded;
                op = $"excluded [{string.Join(",", excluded)}]";
            }

            log.Add(op);
            var expected = model.Order();
            var actual = sorter.Sort().ToArray();
            if (!expected.SequenceEqual(actual))
            {
                Assert.Fail(
                    $"hierarchical={hierarchical} seed={seed} step={step} after '{op}':\n"
                    + $"  expected {Names(expected)}\n  actual   {Names(actual)}\n"
                    + $"  last operations: {string.Join("; ", log.TakeLast(12))}");
            }

            if (!hierarchical)
            {
                var live = new List<int>();
                foreach (var c in sorter.Live())
                {
                    live.Add(c);
                }

                Assert.Equal(actual, live);
            }

            Assert.Equal(Enumerable.Range(0, RandomPaths.Length).Count(model.IsAdded), sorter.Count);
            foreach (var c in Enumerable.Range(0, RandomPaths.Length).Where(model.IsAdded))
            {
                Assert.True(sorter.Contains(c));
                Assert.Equal(model.IsActive(c), sorter.IsActive(c));
                Assert.Equal(model.CountOf(c), sorter.AllocationCount(c));
                Assert.Equal(model.ClientShare(c), sorter.Share(c));
            }

            if (hierarchical)
            {
                foreach (var prefix in prefixes)
                {
                    Assert.Equal(model.NodeShare(prefix), sorter.ShareOfPath(prefix));
                }
            }
        }

        string Names(IEnumerable<int> ids) => "[" + string.Join(", ", ids.Select(i => RandomPaths[i])) + "]";
    }

    private static IEnumerable<string> ProperPrefixes(string path)
    {
        for (var i = path.IndexOf('/', StringComparison.Ordinal); i >= 0; i = path.IndexOf('/', i + 1))
        {
            yield return path[..i];
        }
    }

    /// <summary>
    /// Brute-force model: tracks each client's allocation, count and activity, and computes the order from scratch.
    /// Hierarchical: every level is sorted by (share, count, path) where an inner node's allocation is the sum over
    /// its current clients, its count is the number of allocations made in its subtree since the node last appeared
    /// (an inner node lives as long as some client is at or below its path), and a client that is also a parent
    /// competes inside its subtree as the virtual leaf "p/." with weight 1, as in Mesos.
    /// </summary>
    private sealed class Model(bool hierarchical, string[] paths)
    {
        private readonly bool[] _added = new bool[paths.Length];
        private readonly bool[] _active = new bool[paths.Length];
        private readonly long[][] _alloc = paths.Select(_ => new long[3]).ToArray();
        private readonly long[] _count = new long[paths.Length];
        private readonly Dictionary<string, long> _nodeCount = new(StringComparer.Ordinal);

        public Dictionary<string, double> Weights { get; } = new(StringComparer.Ordinal);

        public long[] Totals { get; set; } = [100_000, 1_000_000, 50_000];

        public bool[] Excluded { get; set; } = [];

        public bool IsAdded(int c) => _added[c];

        public bool IsActive(int c) => _active[c];

        /// <summary>The count of the node the client sits in: its leaf, or its virtual leaf "p/." when it is also a parent.</summary>
        public long CountOf(int c) => _nodeCount.GetValueOrDefault(IsParent(c) ? paths[c] + "/." : paths[c]);

        private bool IsParent(int c) =>
            hierarchical && Enumerable.Range(0, paths.Length).Any(o => _added[o] && paths[o].StartsWith(paths[c] + "/", StringComparison.Ordinal));

        private IEnumerable<int> AncestorClients(int c) =>
            Enumerable.Range(0, paths.Length).Where(a => a != c && _added[a] && hierarchical && paths[c].StartsWith(paths[a] + "/", StringComparison.Ordinal));

        public long[] AllocationOf(int c) => (long[])_alloc[c].Clone();

        public void Add(int c)
        {
            // Mesos: a leaf that gains its first child becomes an inner node, and its virtual leaf copies its count.
            foreach (var a in AncestorClients(c).Where(a => !IsParent(a)).ToList())
            {
                _nodeCount[paths[a] + "/."] = _nodeCount.GetValueOrDefault(paths[a]);
            }

            _added[c] = true;
            _active[c] = false;
            _alloc[c] = new long[3];
            _count[c] = 0;
        }

        public void Remove(int c)
        {
            _nodeCount.Remove(paths[c] + "/.");
            _added[c] = false;

            // Mesos: an inner node left with only its virtual leaf collapses into a leaf that keeps the node's count.
            foreach (var a in AncestorClients(c).Where(a => !IsParent(a)).ToList())
            {
                _nodeCount.Remove(paths[a] + "/.");
            }

            foreach (var node in Chain(paths[c]))
            {
                if (!Enumerable.Range(0, paths.Length).Any(o => _added[o] && Covers(node, paths[o])))
                {
                    _nodeCount.Remove(node);
                }
            }
        }

        public void SetActive(int c, bool active) => _active[c] = active;

        public void Allocated(int c, long[] v)
        {
            for (var i = 0; i < v.Length; i++)
            {
                _alloc[c][i] += v[i];
            }

            _count[c]++;
            foreach (var node in IsParent(c) ? Chain(paths[c]).Append(paths[c] + "/.") : Chain(paths[c]))
            {
                _nodeCount[node] = _nodeCount.GetValueOrDefault(node) + 1;
            }
        }

        public void Unallocated(int c, long[] v)
        {
            for (var i = 0; i < v.Length; i++)
            {
                _alloc[c][i] -= v[i];
            }
        }

        public double ClientShare(int c)
        {
            var isParent = hierarchical && Enumerable.Range(0, paths.Length)
                .Any(o => _added[o] && paths[o].StartsWith(paths[c] + "/", StringComparison.Ordinal));
            return Share(_alloc[c], isParent ? 1.0 : Weights.GetValueOrDefault(paths[c], 1.0));
        }

        public double NodeShare(string path)
        {
            var members = Members(path).ToArray();
            return members.Length == 0 ? 0 : Share(Sum(members), Weights.GetValueOrDefault(path, 1.0));
        }

        public int[] Order()
        {
            var result = new List<int>();
            if (!hierarchical)
            {
                result.AddRange(Enumerable.Range(0, paths.Length)
                    .Where(c => _added[c] && _active[c])
                    .Select(c => (Key: (Share(_alloc[c], Weights.GetValueOrDefault(paths[c], 1.0)), _count[c], paths[c]), Client: c))
                    .OrderBy(e => e.Key, KeyComparer.Instance)
                    .Select(e => e.Client));
                return [.. result];
            }

            Visit(string.Empty, result);
            return [.. result];
        }

        private void Visit(string node, List<int> result)
        {
            var depth = node.Length == 0 ? 0 : node.Split('/').Length;
            var clients = Enumerable.Range(0, paths.Length)
                .Where(c => _added[c] && (node.Length == 0 || paths[c].StartsWith(node + "/", StringComparison.Ordinal)))
                .ToArray();

            // Children: the virtual leaf of a client at `node`, and one entry per next path component.
            var children = new List<((double Share, long Count, string Path) Key, int Client, string? Inner)>();
            var self = Enumerable.Range(0, paths.Length).Where(c => _added[c] && node.Length > 0 && paths[c] == node).ToArray();
            foreach (var c in self)
            {
                children.Add(((Share(_alloc[c], 1.0), _nodeCount.GetValueOrDefault(node + "/."), node + "/."), c, null));
            }

            foreach (var group in clients.GroupBy(c => string.Join('/', paths[c].Split('/').Take(depth + 1)), StringComparer.Ordinal))
            {
                var childPath = group.Key;
                var members = Members(childPath).ToArray();
                var isLeaf = members.Length == 1 && paths[members[0]] == childPath;
                var share = Share(Sum(members), Weights.GetValueOrDefault(childPath, 1.0));
                var count = _nodeCount.GetValueOrDefault(childPath);
                children.Add(((share, count, childPath), isLeaf ? members[0] : -1, isLeaf ? null : childPath));
            }

            foreach (var child in children.OrderBy(ch => ch.Key, KeyComparer.Instance))
            {
                if (child.Inner is null)
                {
                    if (_active[child.Client])
                    {
                        result.Add(child.Client);
                    }
                }
                else
                {
                    Visit(child.Inner, result);
                }
            }
        }

        private IEnumerable<int> Members(string path) =>
            Enumerable.Range(0, paths.Length).Where(c => _added[c] && Covers(path, paths[c]));

        private long[] Sum(IEnumerable<int> members)
        {
            var sum = new long[3];
            foreach (var c in members)
            {
                for (var i = 0; i < 3; i++)
                {
                    sum[i] += _alloc[c][i];
                }
            }

            return sum;
        }

        private double Share(long[] alloc, double weight)
        {
            var share = 0.0;
            for (var i = 0; i < Math.Min(alloc.Length, Totals.Length); i++)
            {
                if (Totals[i] <= 0 || (i < Excluded.Length && Excluded[i]))
                {
                    continue;
                }

                share = Math.Max(share, alloc[i] / (double)Totals[i]);
            }

            return share / weight;
        }

        private IEnumerable<string> Chain(string path) =>
            hierarchical ? ProperPrefixes(path).Append(path) : [path];

        private bool Covers(string node, string clientPath) =>
            clientPath == node || (hierarchical && clientPath.StartsWith(node + "/", StringComparison.Ordinal));
    }

    private sealed class KeyComparer : IComparer<(double Share, long Count, string Path)>
    {
        public static readonly KeyComparer Instance = new();

        public int Compare((double Share, long Count, string Path) x, (double Share, long Count, string Path) y)
        {
            var c = x.Share.CompareTo(y.Share);
            if (c != 0)
            {
                return c;
            }

            c = x.Count.CompareTo(y.Count);
            return c != 0 ? c : string.CompareOrdinal(x.Path, y.Path);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------------

    /// <summary>A resource vector in thousandths: index 0 = cpus, 1 = mem (MB), 2 = disk (MB) when given.</summary>
    private static long[] Res(double cpus, double mem) => [Thousandths(cpus), Thousandths(mem)];

    private static long[] Res(double cpus, double mem, double disk)
    {
        var v = new long[3];
        v[Cpus] = Thousandths(cpus);
        v[Mem] = Thousandths(mem);
        v[Disk] = Thousandths(disk);
        return v;
    }

    private static long Thousandths(double value) => (long)Math.Round(value * 1000);

    /// <summary>A sorter addressed by client path, as the Mesos tests address it; ids are handed out in order.</summary>
    private sealed class SorterFixture
    {
        private readonly bool _hierarchical;
        private readonly List<string> _paths = [];
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _removed = new(StringComparer.Ordinal);

        public SorterFixture(bool hierarchical, double cpus, double mem)
        {
            _hierarchical = hierarchical;
            Totals.Set(Res(cpus, mem));
            Sorter = new DrfSorter(Totals, hierarchical);
        }

        public SorterTotals Totals { get; } = new();

        public DrfSorter Sorter { get; }

        public int Id(string path) => _ids[path];

        public int RemovedIdOf(string path) => _removed[path];

        public bool Contains(string path) => _ids.TryGetValue(path, out var id) && Sorter.Contains(id);

        public void SetTotals(double cpus, double mem) => Totals.Set(Res(cpus, mem));

        public int Add(string path)
        {
            var id = _paths.Count;
            _paths.Add(path);
            _ids[path] = id;
            Sorter.Add(id, path);
            return id;
        }

        public void AddActive(string path) => Sorter.Activate(Add(path));

        public void Activate(string path) => Sorter.Activate(_ids[path]);

        public void Deactivate(string path) => Sorter.Deactivate(_ids[path]);

        public void Remove(string path)
        {
            Sorter.Remove(_ids[path]);
            _removed[path] = _ids[path];
            _ids.Remove(path);
        }

        public void Allocated(string path, double cpus, double mem) => Sorter.Allocated(_ids[path], Res(cpus, mem));

        public void Allocated(string path, long[] resources) => Sorter.Allocated(_ids[path], resources);

        public void Unallocated(string path, double cpus, double mem) => Sorter.Unallocated(_ids[path], Res(cpus, mem));

        public double Share(string path) => Sorter.Share(_ids[path]);

        /// <summary>The sorted client paths; for a flat sorter, also checks that <see cref="DrfSorter.Live"/> agrees.</summary>
        public string[] Sort()
        {
            var order = Sorter.Sort().ToArray().Select(id => _paths[id]).ToArray();
            if (!_hierarchical)
            {
                var live = new List<string>();
                foreach (var id in Sorter.Live())
                {
                    live.Add(_paths[id]);
                }

                Assert.Equal(order, live);
            }

            return order;
        }

        public void AssertOrder(params string[] expected) => Assert.Equal(expected, Sort());
    }
}
