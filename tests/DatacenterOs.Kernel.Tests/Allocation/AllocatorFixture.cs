using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Testing;

namespace DatacenterOs.Kernel.Tests.Allocation;

/// <summary>Builds small clusters for allocator tests on a fake clock.</summary>
internal sealed class AllocatorFixture
{
    public AllocatorFixture(AllocatorOptions? options = null, int seed = 7)
    {
        Clock = new FakeTimeProvider();
        Allocator = new Allocator(options, Clock, seed);
    }

    public FakeTimeProvider Clock { get; }

    public Allocator Allocator { get; }

    public AgentId Agent(string id, string resources)
    {
        var agentId = new AgentId(id);
        Allocator.AddAgent(new AgentInfo(agentId, id + ".local", Resources.Parse(resources)));
        return agentId;
    }

    public FrameworkId Framework(string id, params string[] roles)
    {
        var fid = new FrameworkId(id);
        Allocator.AddFramework(new FrameworkInfo(fid, id, roles.Length == 0 ? ["*"] : roles));
        return fid;
    }

    public AllocationResult Cycle() => Allocator.Allocate();

    /// <summary>Declines every offer with <paramref name="refuseSeconds"/>.</summary>
    public void DeclineAll(AllocationResult result, double? refuseSeconds = null)
    {
        foreach (var offer in result.Offers)
        {
            Allocator.Decline(offer, refuseSeconds);
        }
    }

    /// <summary>
    /// Runs cycles where each framework launches one task of its demand per offer and returns the rest without a
    /// filter; a framework whose task does not fit declines with a one-hour filter. Stops when a cycle makes no offer.
    /// Returns the launches in order (framework id per task).
    /// </summary>
    public List<string> RunOneTaskPerOffer(IReadOnlyDictionary<FrameworkId, Resources> demands, int maxCycles = 1000)
    {
        var launches = new List<string>();
        for (var cycle = 0; cycle < maxCycles; cycle++)
        {
            var result = Cycle();
            if (result.Offers.Count == 0)
            {
                return launches;
            }

            foreach (var offer in result.Offers)
            {
                var task = demands[offer.FrameworkId];
                if (offer.Resources.Contains(task))
                {
                    launches.Add(offer.FrameworkId.Value);
                    Allocator.RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, offer.Resources - task);
                }
                else
                {
                    Allocator.Decline(offer, refuseSeconds: 3600);
                }
            }
        }

        throw new InvalidOperationException($"no quiescence after {maxCycles} cycles");
    }
}
