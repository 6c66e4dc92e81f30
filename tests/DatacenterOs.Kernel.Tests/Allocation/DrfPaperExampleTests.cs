using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Kernel.Tests.Allocation;

/// <summary>
/// The example of Ghodsi et al., "Dominant Resource Fairness", NSDI 2011, §4: 9 CPUs and 18 GB; framework A runs tasks
/// of ⟨1 CPU, 4 GB⟩ (dominant: memory, 4/18 = 2/9 of the cluster per task), B runs ⟨3 CPU, 1 GB⟩ (dominant: CPU,
/// 3/9 = 1/3 per task). Progressive filling gives A 3 tasks and B 2, equal dominant shares of 2/3.
/// The cluster is one agent, so each cycle makes one coarse-grained offer to the lowest share; each framework
/// launches one task per offer and returns the rest (the simulation in <see cref="AllocatorFixture.RunOneTaskPerOffer"/>).
/// </summary>
public sealed class DrfPaperExampleTests
{
    private static readonly Resources TaskA = Resources.Parse("cpus:1;mem:4096");
    private static readonly Resources TaskB = Resources.Parse("cpus:3;mem:1024");

    [Fact]
    public void Paper_example_gives_A_three_tasks_and_B_two()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:9;mem:18432");
        var a = f.Framework("A", "a");
        var b = f.Framework("B", "b");

        var launches = f.RunOneTaskPerOffer(new Dictionary<FrameworkId, Resources> { [a] = TaskA, [b] = TaskB });

        // Shares after each launch: A 2/9, B 1/3, A 4/9, B 2/3, A 2/3 (ties go to the fewer offers, then the name).
        Assert.Equal(["A", "B", "A", "B", "A"], launches);
        Assert.Equal(2.0 / 3, f.Allocator.RoleShare("a"), 9);
        Assert.Equal(2.0 / 3, f.Allocator.RoleShare("b"), 9);
        Assert.Equal(TaskA + TaskA + TaskA, f.Allocator.AllocationOf(a, "a"));
        Assert.Equal(TaskB + TaskB, f.Allocator.AllocationOf(b, "b"));
    }

    [Fact]
    public void Weighted_example_gives_the_heavier_role_more_tasks()
    {
        // 18 CPUs, 36 GB; role a has weight 2, so A's share counts half.
        // Weighted shares (dominant share / weight) before each offer, lowest first:
        //   A 0      → A launches: mem 4/36 → 1/9 / 2 = 0.056
        //   B 0      → B launches: cpu 3/18 = 0.167
        //   A 0.056  → A: 8/36 / 2 = 0.111;  A 0.111 → A: 0.167 (tie with B; A has 3 offers vs B's 1 → B first? no:
        //              A reached 0.167 after its offer, B is at 0.167 with fewer offers, so B goes next)
        //   B 0.167  → B: 6/18 = 0.333;  then A 0.167 → 0.222, A 0.222 → 0.278, A 0.278 → 0.333
        //   B 0.333 (fewer offers than A at 0.333) → B: 9/18 = 0.5
        //   A 0.333 → 0.389, A 0.389 → 0.444 (A: 8 tasks = 8 CPU, 32 GB; B: 3 tasks = 9 CPU, 3 GB)
        //   A 0.444: free is 1 CPU, 1 GB: A's task does not fit, A declines; B 0.5: B's does not fit, B declines.
        // Unweighted, the same cluster gives A 6 and B 4 (checked below).
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:18;mem:36864");
        var a = f.Framework("A", "a");
        var b = f.Framework("B", "b");
        f.Allocator.UpdateWeight("a", 2);

        var launches = f.RunOneTaskPerOffer(new Dictionary<FrameworkId, Resources> { [a] = TaskA, [b] = TaskB });

        Assert.Equal(["A", "B", "A", "A", "B", "A", "A", "A", "B", "A", "A"], launches);
        Assert.Equal(8, launches.Count(static l => l == "A"));
        Assert.Equal(3, launches.Count(static l => l == "B"));
        Assert.Equal((32.0 / 36) / 2, f.Allocator.RoleShare("a"), 9);
        Assert.Equal(0.5, f.Allocator.RoleShare("b"), 9);

        var unweighted = new AllocatorFixture();
        unweighted.Agent("agent-1", "cpus:18;mem:36864");
        var ua = unweighted.Framework("A", "a");
        var ub = unweighted.Framework("B", "b");
        var plain = unweighted.RunOneTaskPerOffer(new Dictionary<FrameworkId, Resources> { [ua] = TaskA, [ub] = TaskB });
        Assert.Equal(6, plain.Count(static l => l == "A"));
        Assert.Equal(4, plain.Count(static l => l == "B"));
    }

    [Fact]
    public void Frameworks_within_one_role_share_by_DRF_too()
    {
        var f = new AllocatorFixture();
        f.Agent("agent-1", "cpus:9;mem:18432");
        var a = f.Framework("A", "shared");
        var b = f.Framework("B", "shared");

        var launches = f.RunOneTaskPerOffer(new Dictionary<FrameworkId, Resources> { [a] = TaskA, [b] = TaskB });

        Assert.Equal(3, launches.Count(static l => l == "A"));
        Assert.Equal(2, launches.Count(static l => l == "B"));
        Assert.Equal(2.0 / 3, f.Allocator.FrameworkShare(a, "shared"), 9);
        Assert.Equal(2.0 / 3, f.Allocator.FrameworkShare(b, "shared"), 9);
    }
}
