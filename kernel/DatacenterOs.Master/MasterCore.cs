using System.Globalization;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Allocation;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Master;

/// <summary>
/// The master's state machine: agents, frameworks, tasks, offers and the allocator. Every method here runs on the
/// <see cref="MasterActor"/> loop (single writer); HTTP handlers reach it through the master runtime.
/// </summary>
internal sealed partial class MasterCore
{
    private readonly MasterOptions _options;
    private readonly TimeProvider _time;
    private readonly IMasterRegistry _registry;
    private readonly ILogger _log;
    private readonly Func<string> _newId;
    private readonly Dictionary<string, FrameworkEntry> _frameworks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AgentEntry> _agents = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Framework, string Task), TaskEntry> _tasks = [];
    private readonly Dictionary<string, OfferEntry> _offers = new(StringComparer.Ordinal);
    private readonly LinkedList<TaskEntry> _completedTasks = new();
    private readonly Dictionary<string, string> _quotaText = new(StringComparer.Ordinal);
    private readonly string _bootId;
    private long _offerCounter;
    private bool _allocationQueued;

    public MasterCore(MasterOptions options, TimeProvider time, IMasterRegistry registry, ILogger log, Func<string> newId)
    {
        _options = options;
        _time = time;
        _registry = registry;
        _log = log;
        _newId = newId;
        _bootId = newId()[..8];
        Allocator = new Allocator(
            new AllocatorOptions
            {
                AllocationInterval = options.AllocationInterval,
                MinAllocatableResources = ResourceQuantities.ParseAlternatives(options.MinAllocatableResources),
            },
            time,
            options.AllocatorSeed);
    }

    public Allocator Allocator { get; }

    public MasterActor Actor { get; set; } = null!;

    public string MasterId { get; private set; } = "";

    public DateTimeOffset StartedAt { get; private set; }

    public MasterMetrics Metrics { get; } = new();

    /// <summary>Recovers the registry: frameworks come back inactive (waiting to re-subscribe), agents wait to re-register.</summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        StartedAt = _time.GetUtcNow();
        var recovered = await _registry.LoadAsync(cancellationToken).ConfigureAwait(false);
        MasterId = recovered.MasterId;
        foreach (var (role, weight) in recovered.Weights)
        {
            Allocator.UpdateWeight(role, weight);
        }

        foreach (var (role, text) in recovered.Quotas)
        {
            Allocator.SetQuota(role, ResourceQuantities.Parse(text));
            _quotaText[role] = text;
        }

        foreach (var f in recovered.Frameworks)
        {
            var entry = new FrameworkEntry(f.Id, f.Info, f.RegisteredAt) { Recovered = true };
            _frameworks[f.Id] = entry;
            Allocator.AddFramework(new FrameworkInfo(new FrameworkId(f.Id), f.Info.Name, f.Info.EffectiveRoles()));
            Allocator.SetFrameworkActive(new FrameworkId(f.Id), false);
            StartFailoverTimer(entry);
        }

        foreach (var a in recovered.Agents)
        {
            var total = ResourceConversions.ToResources(a.Info.Resources);
            var entry = new AgentEntry(a.Id, a.Info, total, a.RegisteredAt)
            {
                Recovered = true,
                DynamicReserved = a.DynamicReservations is { Length: > 0 } text ? Resources.Parse(text) : Resources.Empty,
            };
            _agents[a.Id] = entry;
            StartReregisterTimer(entry);
        }

        _log.LogInformation("master {MasterId} recovered {Frameworks} frameworks and {Agents} agents", MasterId, recovered.Frameworks.Count, recovered.Agents.Count);
    }

    // ------------------------------------------------------------------ allocation

    /// <summary>Asks for an allocation cycle; several requests before it runs make one cycle.</summary>
    public void RequestAllocation()
    {
        if (_allocationQueued)
        {
            return;
        }

        _allocationQueued = true;
        Actor.Post(() =>
        {
            _allocationQueued = false;
            RunAllocation();
            return Task.CompletedTask;
        });
    }

    /// <summary>The periodic tick: offer timeouts, then a cycle.</summary>
    public void Tick()
    {
        if (_options.OfferTimeout > TimeSpan.Zero)
        {
            var deadline = _time.GetUtcNow() - _options.OfferTimeout;
            foreach (var offer in _offers.Values.Where(o => o.CreatedAt <= deadline).ToList())
            {
                Rescind(offer, recover: true);
            }
        }

        RequestAllocation();
    }

    public void Heartbeat()
    {
        foreach (var f in _frameworks.Values)
        {
            f.Sink?.Send(new SchedulerEvent { Type = SchedulerTypes.Heartbeat });
        }

        foreach (var a in _agents.Values)
        {
            a.Sink?.Send(new AgentEvent { Type = AgentTypes.Heartbeat });
        }

        OperatorHeartbeat();
    }

    private void RunAllocation()
    {
        var start = _time.GetTimestamp();
        var result = Allocator.Allocate();
        Metrics.AllocationRuns++;
        Metrics.LastAllocationMs = _time.GetElapsedTime(start).TotalMilliseconds;
        Metrics.MaxAllocationMs = Math.Max(Metrics.MaxAllocationMs, Metrics.LastAllocationMs);
        var now = _time.GetUtcNow();
        foreach (var group in result.Offers.GroupBy(o => o.FrameworkId.Value))
        {
            if (!_frameworks.TryGetValue(group.Key, out var framework) || !framework.Connected)
            {
                foreach (var offer in group)
                {
                    Allocator.RecoverResources(offer.FrameworkId, offer.AgentId, offer.Role, offer.Resources);
                }

                continue;
            }

            var dtos = new List<OfferDto>();
            foreach (var offer in group)
            {
                var id = string.Create(CultureInfo.InvariantCulture, $"{MasterId}-O{_bootId}-{++_offerCounter}");
                _offers[id] = new OfferEntry(id, offer, now);
                dtos.Add(ToDto(id, offer));
            }

            Metrics.OffersSent += dtos.Count;
            framework.Sink!.Send(new SchedulerEvent { Type = SchedulerTypes.Offers, Offers = new OffersEvent(dtos) });
        }
    }

    private OfferDto ToDto(string id, Offer offer)
    {
        var agent = _agents[offer.AgentId.Value];
        return new OfferDto
        {
            Id = new IdDto(id),
            FrameworkId = new IdDto(offer.FrameworkId.Value),
            AgentId = new IdDto(offer.AgentId.Value),
            Hostname = agent.Info.Hostname,
            Url = new UrlDto("http", new AddressDto(agent.Info.Hostname, null, agent.Info.Port), "/"),
            AllocationInfo = new AllocationInfoDto(offer.Role),
            Resources = ResourceConversions.ToDtos(offer.Resources, offer.Role),
            Attributes = agent.Info.Attributes,
            Unavailability = offer.Unavailability is { } u
                ? new UnavailabilityDto(new NanosDto(u.Start.ToUnixTimeMilliseconds() * 1_000_000), u.Duration is { } d ? new NanosDto(d.Ticks * 100) : null)
                : null,
        };
    }

    /// <summary>Withdraws an offer: RESCIND to the framework; resources back to the allocator without a filter.</summary>
    private void Rescind(OfferEntry offer, bool recover)
    {
        _offers.Remove(offer.Id);
        if (recover)
        {
            Allocator.RecoverResources(offer.Offer.FrameworkId, offer.Offer.AgentId, offer.Offer.Role, offer.Offer.Resources);
        }

        if (_frameworks.TryGetValue(offer.Offer.FrameworkId.Value, out var framework))
        {
            framework.Sink?.Send(new SchedulerEvent { Type = SchedulerTypes.Rescind, Rescind = new RescindEvent(new IdDto(offer.Id)) });
        }
    }

    private void RescindWhere(Func<OfferEntry, bool> predicate)
    {
        foreach (var offer in _offers.Values.Where(predicate).ToList())
        {
            Rescind(offer, recover: true);
        }
    }

    // ------------------------------------------------------------------ timers

    private void StartFailoverTimer(FrameworkEntry framework)
    {
        framework.FailoverTimer?.Dispose();
        var timeout = TimeSpan.FromSeconds(Math.Max(0, framework.Info.FailoverTimeout ?? 0));
        framework.FailoverTimer = _time.CreateTimer(
            _ => Actor.Post(() => FailoverExpiredAsync(framework)),
            null,
            timeout,
            Timeout.InfiniteTimeSpan);
    }

    private async Task FailoverExpiredAsync(FrameworkEntry framework)
    {
        if (framework.Connected || !_frameworks.TryGetValue(framework.Id, out var current) || current != framework)
        {
            return;
        }

        _log.LogInformation("framework {FrameworkId} did not re-subscribe within its failover timeout: removing it", framework.Id);
        await RemoveFrameworkAsync(framework).ConfigureAwait(false);
    }

    private void StartReregisterTimer(AgentEntry agent)
    {
        agent.ReregisterTimer?.Dispose();
        agent.ReregisterTimer = _time.CreateTimer(
            _ => Actor.Post(() => ReregisterExpiredAsync(agent)),
            null,
            _options.AgentReregisterTimeout,
            Timeout.InfiniteTimeSpan);
    }

    private async Task ReregisterExpiredAsync(AgentEntry agent)
    {
        if (agent.Connected || !_agents.TryGetValue(agent.Id, out var current) || current != agent)
        {
            return;
        }

        _log.LogWarning("agent {AgentId} did not come back within {Timeout}: marking it unreachable", agent.Id, _options.AgentReregisterTimeout);
        await RemoveAgentAsync(agent, "agent unreachable").ConfigureAwait(false);
    }

    private static double Seconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;
}

/// <summary>Counters for <c>/metrics</c>.</summary>
internal sealed class MasterMetrics
{
    public long AllocationRuns { get; set; }

    public double LastAllocationMs { get; set; }

    /// <summary>Longest allocation cycle since start, in milliseconds.</summary>
    public double MaxAllocationMs { get; set; }

    /// <summary>Time the last read snapshot held the writer loop (capture only; rendering is elsewhere), in milliseconds.</summary>
    public double LastSnapshotCaptureMs { get; set; }

    /// <summary>Longest snapshot capture since start, in milliseconds.</summary>
    public double MaxSnapshotCaptureMs { get; set; }

    public long OffersSent { get; set; }

    public long OffersDeclined { get; set; }

    public long TasksLaunched { get; set; }

    public long StatusUpdates { get; set; }
}
