using System.Globalization;
using DatacenterOs.Apps.Core;
using DatacenterOs.Apps.Core.Deployment;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps;

/// <summary>
/// An app: <see cref="App"/> is its definition as the API shows it (the target of any running deployment);
/// <see cref="Applied"/> is what its instances are converged to now, which lags behind <see cref="App"/> while a
/// deployment works through its steps (null: registered by a deployment that has not started it yet).
/// </summary>
internal sealed class AppState(AppDefinition app, DateTimeOffset configVersion)
{
    public PathId Id { get; } = app.PathId.Canonicalize();

    /// <summary><see cref="Id"/> as text, e.g. <c>/prod/web</c>.</summary>
    public string IdText => field ??= Id.ToString();

    private AppDefinition _app = app;
    private byte[]? _definitionUtf8;

    public AppDefinition App
    {
        get => _app;
        set
        {
            _app = value;
            _definitionUtf8 = null;
        }
    }

    /// <summary>The definition's Marathon JSON (UTF-8), cached until <see cref="App"/> changes.</summary>
    public byte[] DefinitionUtf8 => _definitionUtf8 ??= AppDefinitionJson.SerializeToUtf8Bytes(_app);

    /// <summary>
    /// <see cref="DefinitionUtf8"/> without its closing brace, so listing thousands of apps appends only the fields that
    /// change (counts, deployments, tasks).
    /// </summary>
    public ReadOnlyMemory<byte> DefinitionPrefix => DefinitionUtf8.AsMemory(0, DefinitionUtf8.AsSpan().LastIndexOf((byte)'}'));

    public AppDefinition? Applied { get; set; }

    /// <summary>The last rendering of this app in <c>GET /v2/apps</c>, reused while its view is unchanged.</summary>
    public RenderedApp? Rendered { get; set; }

    /// <summary>Version of the last applied change that needs a restart (Marathon <c>lastConfigChangeAt</c>).</summary>
    public DateTimeOffset ConfigVersion { get; set; } = configVersion;

    /// <summary>Marathon <c>lastScalingAt</c>.</summary>
    public DateTimeOffset LastScalingAt { get; set; } = configVersion;

    public Dictionary<string, Instance> Instances { get; } = new(StringComparer.Ordinal);

    public LaunchBackoff Backoff { get; set; } = LaunchBackoff.For(app);

    public TaskFailure? LastTaskFailure { get; set; }

    /// <summary>Outcomes of the most recent offers considered for this app's waiting instances (for <c>/v2/queue</c>).</summary>
    public OfferStats Offers { get; } = new();

    /// <summary>When the oldest instance now waiting for an offer was scheduled.</summary>
    public DateTimeOffset? WaitingSince { get; set; }
}

/// <summary>An app's list JSON and the view it was rendered from (the view holds everything the JSON depends on).</summary>
internal sealed record RenderedApp(AppsService.AppView View, byte[] Json);

/// <summary>The last failed task of an app (Marathon <c>lastTaskFailure</c>).</summary>
internal sealed record TaskFailure(string TaskId, string State, string Message, string? AgentId, string? Host, DateTimeOffset At, DateTimeOffset Version);

/// <summary>Why recent offers were not used for an app: a bounded window of outcomes.</summary>
internal sealed class OfferStats
{
    public const int Window = 100;

    private readonly Queue<(DateTimeOffset At, string? Reason, string? Detail, string Agent)> _recent = new();

    public long Processed { get; private set; }

    public long Unused { get; private set; }

    public DateTimeOffset? LastUnusedAt { get; private set; }

    public DateTimeOffset? LastUsedAt { get; private set; }

    public IEnumerable<(DateTimeOffset At, string? Reason, string? Detail, string Agent)> Recent => _recent;

    /// <summary>Records one offer: whether it was used, and why (part of) the waiting instances did not fit on it.</summary>
    public void Record(DateTimeOffset at, string agent, bool used, string? reason, string? detail)
    {
        Processed++;
        if (used)
        {
            LastUsedAt = at;
        }
        else
        {
            Unused++;
            LastUnusedAt = at;
        }

        _recent.Enqueue((at, reason, detail, agent));
        while (_recent.Count > Window)
        {
            _recent.Dequeue();
        }
    }

    public void Clear()
    {
        _recent.Clear();
        Processed = 0;
        Unused = 0;
        LastUnusedAt = null;
        LastUsedAt = null;
    }
}

/// <summary>One instance (one Mesos task) of an app; <see cref="State"/> null while waiting for an offer.</summary>
internal sealed partial class Instance(string taskId, PathId appId)
{
    public string TaskId { get; } = taskId;

    public PathId AppId { get; } = appId;

    public DateTimeOffset ConfigVersion { get; init; }

    public DateTimeOffset AppVersion { get; init; }

    public string? State { get; set; }

    public string? AgentId { get; set; }

    public AgentInfo? Agent { get; set; }

    public DateTimeOffset? StagedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    public bool? Healthy { get; set; }

    /// <summary>The agent's last health message (e.g. the consecutive failure count and cause).</summary>
    public string? HealthMessage { get; set; }

    /// <summary>Consecutive failed health checks reported by the agent (0 when healthy or unknown).</summary>
    public int ConsecutiveHealthFailures { get; set; }

    /// <summary>When this instance was killed for failing its health checks (it is being replaced).</summary>
    public DateTimeOffset? HealthKilledAt { get; set; }

    public bool Decommissioned { get; set; }

    /// <summary>When the last KILL for this instance was sent (kills are re-sent until the task ends).</summary>
    public DateTimeOffset? KillSentAt { get; set; }

    public IReadOnlyList<long> Ports { get; set; } = [];

    public bool IsScheduled => State is null;

    public bool IsRunning => State == TaskStates.Running;

    /// <summary>
    /// Health as deployments see it: running and, when the app has health checks (all run by the agent, next to the
    /// task), reported healthy by the first check.
    /// </summary>
    public bool IsConsideredHealthy(AppDefinition app) => IsRunning && (app.HealthChecks.Count == 0 || Healthy == true);

    public DeploymentInstance ToDeploymentInstance(AppDefinition app) => new()
    {
        Id = TaskId,
        Phase = State switch
        {
            null => InstancePhase.Scheduled,
            TaskStates.Staging => InstancePhase.Staging,
            TaskStates.Starting => InstancePhase.Starting,
            TaskStates.Running => InstancePhase.Running,
            TaskStates.Killing => InstancePhase.Killing,
            TaskStates.Unreachable => InstancePhase.Unreachable,
            _ => InstancePhase.Staging,
        },
        Healthy = IsConsideredHealthy(app),
        Ready = true,
        StartedAt = StartedAt ?? StagedAt,
        Decommissioned = Decommissioned,
    };
}

/// <summary>
/// A deployment in progress: its plan and how far it got. <see cref="CurrentStep"/> is 1-based (0: no step applied
/// yet); a step's actions are applied to the apps when the step starts, and the next step starts when they are done.
/// </summary>
internal sealed class RunningDeployment(DeploymentPlan plan, DateTimeOffset startedAt)
{
    public DeploymentPlan Plan { get; } = plan;

    public string Id => Plan.Id;

    public int CurrentStep { get; set; }

    public DateTimeOffset StartedAt { get; } = startedAt;

    /// <summary>When the deployment last made progress (a step started, or an instance of a current action became healthy).</summary>
    public DateTimeOffset LastProgressAt { get; set; } = startedAt;

    /// <summary>Healthy instances of the current step's apps at <see cref="LastProgressAt"/>.</summary>
    public int ProgressMark { get; set; }

    /// <summary>Roll back automatically when the progress deadline passes.</summary>
    public bool RollbackOnFailure { get; init; }

    /// <summary>Start order among deployments (persisted, so restored deployments keep their order).</summary>
    public long Seq { get; init; }

    /// <summary>
    /// Configuration versions the apps get when a restart action applies (a rollback restores the versions the apps had
    /// before, so instances still running the original configuration are kept); otherwise the target's version.
    /// </summary>
    public IReadOnlyDictionary<PathId, DateTimeOffset>? ConfigVersions { get; init; }

    /// <summary>The apps' configuration versions when this deployment started (what a rollback restores).</summary>
    public Dictionary<PathId, DateTimeOffset> OriginalConfigVersions { get; init; } = [];

    /// <summary>Instances the plan's scale actions must kill (<c>DELETE …/tasks?scale=true</c>).</summary>
    public IReadOnlyDictionary<PathId, IReadOnlyList<string>>? ToKill { get; init; }

    public bool Affects(PathId id) => Plan.Affects(id);

    /// <summary>True once the deployment finished, failed or was cancelled.</summary>
    public bool Removed { get; set; }
}

/// <summary>What is left of one offer while tasks are placed on it: unreserved scalars (in thousandths) and ports.</summary>
internal sealed class OfferPool
{
    private readonly Dictionary<string, long> _scalars = new(StringComparer.Ordinal);
    private readonly List<(long Begin, long End)> _ports = [];

    public static OfferPool From(OfferDto offer)
    {
        var pool = new OfferPool();
        foreach (var r in offer.Resources)
        {
            var reserved = r.Reservations is { Count: > 0 } || (r.Role is not null && r.Role != "*");
            if (reserved)
            {
                continue;
            }

            if (r.Type == "SCALAR" && r.Scalar is not null)
            {
                pool._scalars[r.Name] = pool._scalars.GetValueOrDefault(r.Name) + Milli(r.Scalar.Value);
            }
            else if (r.Type == "RANGES" && r.Name == "ports" && r.Ranges is not null)
            {
                pool._ports.AddRange(r.Ranges.Range.Select(x => (x.Begin, x.End)));
            }
        }

        return pool;
    }

    /// <summary>
    /// Takes the resources of one instance of <paramref name="app"/>, or returns null (and takes nothing) with
    /// Marathon's reason (<c>InsufficientCpus</c>, <c>InsufficientMemory</c>, <c>InsufficientDisk</c>,
    /// <c>InsufficientGpus</c>, <c>InsufficientPorts</c>) in <paramref name="reason"/>.
    /// </summary>
    public Taken? TryTake(AppDefinition app, string role, out string? reason)
    {
        reason = null;
        var wanted = new List<(string Name, double Value)> { ("cpus", app.Cpus), ("mem", app.Mem) };
        if (app.Disk > 0)
        {
            wanted.Add(("disk", app.Disk));
        }

        if (app.Gpus > 0)
        {
            wanted.Add(("gpus", app.Gpus));
        }

        var missing = wanted.FirstOrDefault(w => _scalars.GetValueOrDefault(w.Name) < Milli(w.Value));
        if (missing.Name is not null)
        {
            reason = missing.Name switch
            {
                "cpus" => "InsufficientCpus",
                "mem" => "InsufficientMemory",
                "disk" => "InsufficientDisk",
                _ => "InsufficientGpus",
            };
            return null;
        }

        var ranges = _ports.ToList();
        var ports = new List<long>();

        // Host ports wanted, in index order: a fixed port, or null for any. Port definitions (host networking), else the
        // container's port mappings that have a host port (0 = any), as Marathon's PortsMatcher.
        var requests = app.PortDefinitions is { Count: > 0 } definitions
            ? definitions.Select(d => app.RequirePorts && d.Port != 0 ? (long?)d.Port : null).ToList()
            : (app.Container?.PortMappings ?? []).Where(m => m.HostPort is not null).Select(m => m.HostPort == 0 ? null : (long?)m.HostPort).ToList();
        foreach (var fixedPort in requests)
        {
            long? port = null;
            if (fixedPort is { } wantedPort)
            {
                if (ranges.Any(r => r.Begin <= wantedPort && wantedPort <= r.End))
                {
                    port = wantedPort;
                }
            }
            else if (ranges.Count > 0)
            {
                port = ranges.Min(r => r.Begin);
            }

            if (port is not { } p)
            {
                reason = "InsufficientPorts";
                return null;
            }

            ports.Add(p);
            var index = ranges.FindIndex(r => r.Begin <= p && p <= r.End);
            var (begin, end) = ranges[index];
            ranges.RemoveAt(index);
            if (begin < p)
            {
                ranges.Add((begin, p - 1));
            }

            if (p < end)
            {
                ranges.Add((p + 1, end));
            }
        }

        foreach (var (name, value) in wanted)
        {
            _scalars[name] -= Milli(value);
        }

        _ports.Clear();
        _ports.AddRange(ranges);

        var allocation = new AllocationInfoDto(role);
        var resources = wanted
            .Select(w => new ResourceDto { Name = w.Name, Type = "SCALAR", Scalar = new ScalarDto(w.Value), Role = "*", AllocationInfo = allocation })
            .ToList();
        if (ports.Count > 0)
        {
            resources.Add(new ResourceDto
            {
                Name = "ports",
                Type = "RANGES",
                Ranges = new RangesDto([.. ports.Order().Select(p => new RangeDto(p, p))]),
                Role = "*",
                AllocationInfo = allocation,
            });
        }

        return new Taken(resources, ports);
    }

    private static long Milli(double value) => (long)Math.Round(value * 1000, MidpointRounding.AwayFromZero);

    /// <summary>The resources of one placed instance, and its host ports in port-definition order.</summary>
    public sealed record Taken(List<ResourceDto> Resources, IReadOnlyList<long> Ports);
}

/// <summary>Marathon's timestamp format.</summary>
internal static class AppsJsonWriter
{
    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
