using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Mesos <c>BENCHMARK_HierarchicalAllocations.MultiFrameworkAllocations</c>
/// (<c>src/tests/hierarchical_allocator_benchmarks.cpp</c>): the allocator alone, as in Mesos (no master, network or
/// agents). 80 agents of <c>cpus:64;mem:488000</c>; 4 "Marathon" frameworks of 4,000 tasks (0.07 cpus, 400 MiB, at most
/// 100 per offer), 500 "Jenkins" frameworks of 5 tasks (0.1 cpus, 4,000 MiB, 1 per offer) and 50 "Spark" frameworks of 20
/// tasks (1 cpus, 1,000 MiB, 5 per offer): 19,500 tasks. Each round is one allocation cycle; every framework launches
/// what its offers hold (up to its per-offer limit) and returns the rest with no filter. Counts rounds and wall time
/// until every task launched (Mesos gives up after 30 s; no Mesos number is published, so ours is the baseline).
/// Prints <c>multi-framework tasks=19500 launched=… rounds=… wall_ms=… ms_per_round_p50=… ms_per_round_max=… offers=…</c>.
/// </summary>
internal static class MultiFrameworkBenchmark
{
    private sealed record Kind(string Name, int Frameworks, int Tasks, Resources Task, int PerOffer);

    private sealed class Demand(Kind kind)
    {
        public Kind Kind { get; } = kind;

        public int Left { get; set; } = kind.Tasks;
    }

    public static int Run(int seed)
    {
        var kinds = new[]
        {
            new Kind("marathon", 4, 4_000, Resources.Parse("cpus:0.07;mem:400"), 100),
            new Kind("jenkins", 500, 5, Resources.Parse("cpus:0.1;mem:4000"), 1),
            new Kind("spark", 50, 20, Resources.Parse("cpus:1;mem:1000"), 5),
        };
        var allocator = new Allocator(seed: seed);
        var agentTotal = Resources.Parse("cpus:64;mem:488000");
        for (var i = 0; i < 80; i++)
        {
            var agent = new AgentId($"agent-{i:D3}");
            allocator.AddAgent(new AgentInfo(agent, agent.Value, agentTotal));
        }

        var demands = new Dictionary<FrameworkId, Demand>();
        foreach (var kind in kinds)
        {
            for (var i = 0; i < kind.Frameworks; i++)
            {
                var id = new FrameworkId($"{kind.Name}-{i:D3}");
                allocator.AddFramework(new FrameworkInfo(id, id.Value, ["*"]));
                demands[id] = new Demand(kind);
            }
        }

        var total = kinds.Sum(k => k.Frameworks * k.Tasks);
        var launched = 0;
        var rounds = 0;
        var offers = 0;
        var roundTimes = new List<double>();
        var wall = Stopwatch.StartNew();
        while (launched < total && wall.Elapsed < TimeSpan.FromSeconds(30))
        {
            var round = Stopwatch.GetTimestamp();
            var result = allocator.Allocate();
            rounds++;
            offers += result.Offers.Count;
            foreach (var offer in result.Offers)
            {
                var demand = demands[offer.FrameworkId];
                var used = Resources.Empty;
                var left = offer.Resources;
                var n = 0;
                while (demand.Left > 0 && n < demand.Kind.PerOffer && left.Contains(demand.Kind.Task))
                {
                    left -= demand.Kind.Task;
                    used += demand.Kind.Task;
                    demand.Left--;
                    n++;
                }

                launched += n;
                if (demand.Left == 0 && n > 0)
                {
                    allocator.Suppress(offer.FrameworkId);
                }

                // The tasks keep what they use; the rest goes back with no filter (as the Mesos benchmark does).
                if (!left.IsEmpty)
                {
                    allocator.RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, left);
                }
            }

            roundTimes.Add(Stopwatch.GetElapsedTime(round).TotalMilliseconds);
            if (result.Offers.Count == 0 && launched < total)
            {
                break; // nothing more can be offered: the cluster is full
            }
        }

        wall.Stop();
        roundTimes.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"multi-framework tasks={total} launched={launched} rounds={rounds} wall_ms={wall.Elapsed.TotalMilliseconds:F1} ms_per_round_p50={roundTimes[roundTimes.Count / 2]:F2} ms_per_round_max={roundTimes[^1]:F2} offers={offers}"));
        return launched == total ? 0 : 1;
    }
}
