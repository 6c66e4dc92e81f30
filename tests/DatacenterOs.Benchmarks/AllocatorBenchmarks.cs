using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel;

namespace DatacenterOs.Benchmarks;

/// <summary>Allocator workloads from Mesos <c>hierarchical_allocator_tests.cpp</c> / <c>hierarchical_allocator_benchmarks.cpp</c>.</summary>
internal static class AllocatorBenchmarks
{
    /// <summary>
    /// DeclineOffers (Mesos commit 86653356, MESOS-9249): agents <c>cpus:24;mem:4096;disk:4096;ports:[31000-32000]</c>,
    /// each with <c>cpus:16;mem:2014;disk:1024</c> and 16 port fragments allocated to one framework (round robin),
    /// all frameworks in role <c>*</c>. Each round every offer is declined with an infinite filter and one cycle is timed.
    /// Mesos anchor at 10,000 × 1,000: 1.06 s per cycle.
    /// </summary>
    public static int DeclineOffers(int agentCount, int frameworkCount, int rounds, int seed)
    {
        var setup = Stopwatch.StartNew();
        var allocator = new Allocator(seed: seed);
        var ids = Enumerable.Range(0, frameworkCount).Select(i => new FrameworkId($"framework-{i:D5}")).ToArray();
        foreach (var id in ids)
        {
            allocator.AddFramework(new FrameworkInfo(id, id.Value, ["*"]));
        }

        var total = Resources.Parse("cpus:24;mem:4096;disk:4096;ports:[31000-32000]");
        var used = Resources.Parse("cpus:16;mem:2014;disk:1024")
            + Resources.Of(Resource.CreateRanges("ports", ValueRanges.Of(Enumerable.Range(0, 16).Select(i => new ValueRange(31000 + (2 * i), 31000 + (2 * i))))));
        for (var i = 0; i < agentCount; i++)
        {
            var agent = new AgentId($"agent-{i:D6}");
            allocator.AddAgent(new AgentInfo(agent, agent.Value, total));
            allocator.AddAllocation(ids[i % frameworkCount], agent, "*", used);
        }

        var setupMs = setup.Elapsed.TotalMilliseconds;
        var times = new List<double>();
        var offerCounts = new List<int>();
        long frameworkVisits = 0;
        IReadOnlyList<Offer> outstanding = allocator.Allocate().Offers; // round 0: warm-up, not timed
        for (var round = 0; round < rounds; round++)
        {
            foreach (var offer in outstanding)
            {
                allocator.Decline(offer, refuseSeconds: int.MaxValue);
            }

            var sw = Stopwatch.StartNew();
            var result = allocator.Allocate();
            sw.Stop();
            times.Add(sw.Elapsed.TotalMilliseconds);
            offerCounts.Add(result.Offers.Count);
            frameworkVisits += result.Statistics.FrameworkVisits;
            outstanding = result.Offers;
        }

        var median = Median(times);
        var offers = (int)Median(offerCounts.Select(static c => (double)c).ToList());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"allocator agents={agentCount} frameworks={frameworkCount} offers_per_cycle={offers} ms_per_cycle_median={median:F2} us_per_offer={(offers == 0 ? 0 : median * 1000 / offers):F2} ms_per_cycle_min={times.Min():F2} ms_per_cycle_max={times.Max():F2} framework_visits_per_cycle={frameworkVisits / Math.Max(1, rounds)} setup_ms={setupMs:F0}"));
        return 0;
    }

    /// <summary>
    /// LargeAndSmallQuota (Mesos commit ec6b7b34): agents <c>cpus:2;mem:2048;disk:2048</c>; 5/6 of the roles have quota
    /// <c>cpus:1;mem:1024;disk:1024</c>, 1/6 have <c>cpus:4;mem:4096;disk:4096</c>; one framework per role. The first cycle
    /// is timed, then a second one that has nothing to allocate. Mesos anchor at 3,000 × 3,000: 15–17 s and 13–15 s.
    /// </summary>
    public static int LargeAndSmallQuota(int agentCount, int roleCount, int seed)
    {
        var allocator = new Allocator(seed: seed);
        var agentTotal = Resources.Parse("cpus:2;mem:2048;disk:2048");
        for (var i = 0; i < agentCount; i++)
        {
            var agent = new AgentId($"agent-{i:D6}");
            allocator.AddAgent(new AgentInfo(agent, agent.Value, agentTotal));
        }

        var small = ResourceQuantities.Parse("cpus:1;mem:1024;disk:1024");
        var large = ResourceQuantities.Parse("cpus:4;mem:4096;disk:4096");
        var smallCount = roleCount * 5 / 6;
        for (var i = 0; i < roleCount; i++)
        {
            var role = i < smallCount ? $"small-{i:D5}" : $"large-{i:D5}";
            allocator.SetQuota(role, i < smallCount ? small : large);
            allocator.AddFramework(new FrameworkInfo(new FrameworkId($"framework-{i:D5}"), role, [role]));
        }

        var first = Stopwatch.StartNew();
        var firstResult = allocator.Allocate();
        first.Stop();
        var empty = Stopwatch.StartNew();
        var emptyResult = allocator.Allocate();
        empty.Stop();
        var visits = (double)agentCount * roleCount;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"allocator-quota agents={agentCount} roles={roleCount} offers_first_cycle={firstResult.Offers.Count} first_cycle_ms={first.Elapsed.TotalMilliseconds:F2} empty_cycle_ms={empty.Elapsed.TotalMilliseconds:F2} offers_empty_cycle={emptyResult.Offers.Count} ns_per_agent_role_empty={empty.Elapsed.TotalMilliseconds * 1e6 / visits:F3}"));
        return 0;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? 0 : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
