using System.Globalization;
using DatacenterOs.Kernel.Allocation;

namespace DatacenterOs.Kernel.Tests.Allocation;

/// <summary>Properties of the allocation cycle over seeded random clusters (hundreds of cases each).</summary>
public sealed class AllocationPropertyTests
{
    private const int Cases = 300;
    private static readonly string[] RolePool = ["a", "b", "c", "a/x", "b/y", "*"];

    [Fact]
    public void Offers_never_exceed_what_an_agent_has_free_and_never_repeat_a_resource()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var f = RandomCluster(random, seed, out var agents, out var frameworks);
            for (var cycle = 0; cycle < 4; cycle++)
            {
                var before = agents.ToDictionary(a => a, a => f.Allocator.AvailableOn(a));
                var result = f.Cycle();
                foreach (var group in result.Offers.GroupBy(o => o.AgentId))
                {
                    var sum = group.Aggregate(Resources.Empty, (acc, o) => acc + o.Resources);
                    Assert.True(before[group.Key].Contains(sum), $"seed {seed}: offered {sum} on {group.Key}, free was {before[group.Key]}");
                    Assert.Equal(before[group.Key], f.Allocator.AvailableOn(group.Key) + sum);

                    // Union of ranges would hide a port offered twice: counts must add up.
                    var portCount = group.Sum(o => o.Resources.Ports.Count);
                    Assert.Equal(portCount, sum.Ports.Count);
                    Assert.Equal(group.Count(), group.Select(o => (o.FrameworkId, o.Role)).Distinct().Count());
                }

                foreach (var offer in result.Offers)
                {
                    Assert.False(offer.Resources.IsEmpty);
                    Assert.True(offer.Resources.All(r => r.Role is null || RolePath.IsWithin(offer.Role, r.Role)),
                        $"seed {seed}: reserved resources reached another role: {offer}");
                }

                ActRandomly(f, random, result);
            }
        }
    }

    [Fact]
    public void Same_state_and_seed_give_the_same_offers()
    {
        for (var seed = 0; seed < Cases; seed++)
        {
            var first = Replay(seed);
            var second = Replay(seed);
            Assert.Equal(first, second);
        }

        static List<string> Replay(int seed)
        {
            var random = new Random(seed);
            var f = RandomCluster(random, seed, out _, out _);
            var log = new List<string>();
            for (var cycle = 0; cycle < 4; cycle++)
            {
                var result = f.Cycle();
                log.AddRange(result.Offers.Select(o => o.ToString()));
                log.AddRange(result.Unsatisfied.Select(u => u.ToString()));
                ActRandomly(f, random, result);
                f.Clock.AdvanceSeconds(random.Next(0, 4));
            }

            return log;
        }
    }

    [Fact]
    public void A_framework_or_role_below_another_is_never_starved_while_the_other_receives_offers()
    {
        var comparisons = 0;
        for (var seed = 0; seed < Cases; seed++)
        {
            var random = new Random(seed);
            var f = new AllocatorFixture(seed: seed);
            var agentCount = random.Next(1, 10);
            for (var i = 0; i < agentCount; i++)
            {
                f.Agent($"agent-{i}", string.Create(CultureInfo.InvariantCulture, $"cpus:{random.Next(1, 17)};mem:{random.Next(1, 33) * 512}"));
            }

            string[] roles = ["r1", "r2", "r3"];
            foreach (var role in roles)
            {
                if (random.Next(2) == 0)
                {
                    f.Allocator.UpdateWeight(role, 0.5 + (random.Next(1, 8) * 0.5));
                }
            }

            var frameworks = new List<(FrameworkId Id, string Role)>();
            var frameworkCount = random.Next(2, 8);
            for (var i = 0; i < frameworkCount; i++)
            {
                var role = roles[random.Next(roles.Length)];
                frameworks.Add((f.Framework($"fw-{i}", role), role));
            }

            for (var cycle = 0; cycle < 6; cycle++)
            {
                var share = frameworks.ToDictionary(x => x.Id, x => f.Allocator.FrameworkShare(x.Id, x.Role));
                var roleShare = roles.ToDictionary(r => r, r => f.Allocator.RoleShare(r));
                var result = f.Cycle();
                var offered = result.Offers.Select(o => o.FrameworkId).ToHashSet();
                var offeredRoles = result.Offers.Select(o => o.Role).ToHashSet();

                foreach (var (starved, role) in frameworks.Where(x => !offered.Contains(x.Id)))
                {
                    foreach (var (winner, _) in frameworks.Where(x => x.Role == role && offered.Contains(x.Id)))
                    {
                        comparisons++;
                        Assert.True(share[winner] <= share[starved],
                            $"seed {seed} cycle {cycle}: {winner} (share {share[winner]}) got offers while {starved} (share {share[starved]}) in the same role got none");
                    }
                }

                foreach (var starvedRole in roles.Where(r => frameworks.Any(x => x.Role == r) && !offeredRoles.Contains(r)))
                {
                    foreach (var winnerRole in offeredRoles)
                    {
                        comparisons++;
                        Assert.True(roleShare[winnerRole] <= roleShare[starvedRole],
                            $"seed {seed} cycle {cycle}: role {winnerRole} ({roleShare[winnerRole]}) got offers while {starvedRole} ({roleShare[starvedRole]}) got none");
                    }
                }

                // Frameworks keep a random part (no filters, so everyone stays eligible) and some tasks end.
                foreach (var offer in result.Offers)
                {
                    var keep = random.Next(3) == 0 ? Resources.Empty : TakeSome(offer.Resources, random);
                    f.Allocator.RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, offer.Resources - keep);
                }
            }
        }

        Assert.True(comparisons > 500, $"only {comparisons} starved/served pairs were checked");
    }

    private static AllocatorFixture RandomCluster(Random random, int seed, out List<AgentId> agents, out List<(FrameworkId Id, string[] Roles)> frameworks)
    {
        var f = new AllocatorFixture(seed: seed);
        agents = [];
        var agentCount = random.Next(1, 13);
        for (var i = 0; i < agentCount; i++)
        {
            var text = string.Create(CultureInfo.InvariantCulture,
                $"cpus:{random.Next(1, 64) / 2.0};mem:{random.Next(1, 64) * 256};disk:{random.Next(0, 4) * 1024};ports:[{31000 + random.Next(0, 100)}-{31200 + random.Next(0, 800)}]");
            if (random.Next(3) == 0)
            {
                var role = RolePool[random.Next(RolePool.Length - 1)];
                text += string.Create(CultureInfo.InvariantCulture, $";cpus({role}):{random.Next(1, 8)};mem({role}):{random.Next(1, 8) * 256};ports({role}):[30000-{30000 + random.Next(0, 50)}]");
            }

            agents.Add(f.Agent($"agent-{i}", text));
        }

        frameworks = [];
        var frameworkCount = random.Next(1, 9);
        for (var i = 0; i < frameworkCount; i++)
        {
            var roles = Enumerable.Range(0, random.Next(1, 3)).Select(_ => RolePool[random.Next(RolePool.Length)]).Distinct().ToArray();
            frameworks.Add((f.Framework($"fw-{i}", roles), roles));
        }

        foreach (var role in RolePool.Where(r => r != "*"))
        {
            switch (random.Next(4))
            {
                case 0:
                    f.Allocator.UpdateWeight(role, random.Next(1, 5));
                    break;
                case 1:
                    f.Allocator.SetQuota(role, ResourceQuantities.Of(("cpus", random.Next(1, 20)), ("mem", random.Next(1, 20) * 512)));
                    break;
            }
        }

        return f;
    }

    /// <summary>Accepts part of some offers, declines others with or without filters, suppresses or revives now and then.</summary>
    private static void ActRandomly(AllocatorFixture f, Random random, AllocationResult result)
    {
        foreach (var offer in result.Offers)
        {
            switch (random.Next(4))
            {
                case 0:
                    f.Allocator.Decline(offer, random.Next(3) == 0 ? 0 : random.Next(1, 10));
                    break;
                case 1:
                    var keep = TakeSome(offer.Resources, random);
                    f.Allocator.RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, offer.Resources - keep, TimeSpan.FromSeconds(random.Next(0, 3)));
                    break;
                default:
                    break; // keep everything: running tasks
            }
        }

        var frameworks = result.Offers.Select(o => o.FrameworkId).Concat(result.Unsatisfied.Select(u => u.FrameworkId)).Distinct().ToList();
        if (frameworks.Count > 0 && random.Next(5) == 0)
        {
            var fw = frameworks[random.Next(frameworks.Count)];
            if (random.Next(2) == 0)
            {
                f.Allocator.Suppress(fw);
            }
            else
            {
                f.Allocator.Revive(fw);
            }
        }
    }

    /// <summary>A random part of the scalars (half, rounded to thousandths) and the first port, as a task would use.</summary>
    private static Resources TakeSome(Resources offered, Random random)
    {
        var parts = new List<Resource>();
        foreach (var r in offered)
        {
            if (r.Type == ResourceType.Scalar && random.Next(2) == 0)
            {
                parts.Add(Resource.CreateScalarMillis(r.Name, r.ScalarMillis / 2, r.Role));
            }
            else if (r.Type == ResourceType.Ranges && random.Next(2) == 0)
            {
                parts.Add(Resource.CreateRanges(r.Name, r.Ranges.Take(1), r.Role));
            }
        }

        return Resources.Of(parts);
    }
}
