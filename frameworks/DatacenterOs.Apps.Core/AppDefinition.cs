using System.Text.Json.Serialization;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// A Marathon app definition (RAML <c>types/app.raml</c> <c>App</c>), with Marathon's JSON field names. Scalar fields
/// carry Marathon's defaults as initial values; fields whose default depends on other fields (networks, port
/// definitions, upgrade and unreachable strategies, role, health-check port indices) stay <c>null</c>/empty until
/// <see cref="AppNormalizer.Normalize"/> fills them in. Deprecated inputs (<see cref="Ports"/>, <see cref="Uris"/>,
/// <c>container.docker.network</c>, <c>container.docker.portMappings</c>) are translated by the normalizer.
/// Collections are <see cref="ValueList{T}"/>/<see cref="ValueDictionary{TValue}"/>, so two definitions compare by content.
/// </summary>
public sealed record AppDefinition
{
    /// <summary>Path id (<c>/prod/web</c>); relative ids are resolved against the enclosing group by the normalizer.</summary>
    public string Id { get; init; } = string.Empty;

    /// <summary>Shell command, run via <c>/bin/sh -c</c>. Not together with <see cref="Args"/>.</summary>
    public string? Cmd { get; init; }

    /// <summary>Argv form of the command (e.g. arguments of a Docker entrypoint). Not together with <see cref="Cmd"/>.</summary>
    [OmitEmpty]
    public ValueList<string> Args { get; init; } = [];

    /// <summary>Unix user the task runs as.</summary>
    public string? User { get; init; }

    /// <summary>Environment: plain strings or <c>{"secret": "name"}</c> references into <see cref="Secrets"/>.</summary>
    [OmitEmpty]
    public ValueDictionary<EnvVarValue> Env { get; init; } = ValueDictionary<EnvVarValue>.Empty;

    /// <summary>Secrets by name, referenced from <see cref="Env"/>.</summary>
    [OmitEmpty]
    public ValueDictionary<SecretDef> Secrets { get; init; } = ValueDictionary<SecretDef>.Empty;

    /// <summary>Desired number of instances (0 = suspended).</summary>
    public int Instances { get; init; } = AppDefaults.Instances;

    /// <summary>CPU shares per instance.</summary>
    public double Cpus { get; init; } = AppDefaults.Cpus;

    /// <summary>Memory per instance, MiB.</summary>
    public double Mem { get; init; } = AppDefaults.Mem;

    /// <summary>Disk per instance, MiB.</summary>
    public double Disk { get; init; } = AppDefaults.Disk;

    /// <summary>GPUs per instance.</summary>
    public int Gpus { get; init; } = AppDefaults.Gpus;

    /// <summary>Executor; empty means the command executor.</summary>
    public string Executor { get; init; } = AppDefaults.Executor;

    /// <summary>Placement constraints, each <c>[field, OPERATOR]</c> or <c>[field, OPERATOR, value]</c> (see <see cref="Constraint"/>).</summary>
    [OmitEmpty]
    public ValueList<ValueList<string>> Constraints { get; init; } = [];

    /// <summary>Artifacts fetched into the sandbox before start.</summary>
    [OmitEmpty]
    public ValueList<FetchUri> Fetch { get; init; } = [];

    /// <summary>Deprecated form of <see cref="Fetch"/>; the normalizer converts it and clears this field.</summary>
    public ValueList<string>? Uris { get; init; }

    /// <summary>URLs put into the artifact store before start.</summary>
    [OmitEmpty]
    public ValueList<string> StoreUrls { get; init; } = [];

    /// <summary>Host ports (host networking only). Defaults to one port named <c>default</c> with port 0.</summary>
    public ValueList<PortDefinition>? PortDefinitions { get; init; }

    /// <summary>Deprecated form of <see cref="PortDefinitions"/>; the normalizer converts it and clears this field.</summary>
    public ValueList<int>? Ports { get; init; }

    /// <summary>When true, host ports must equal the declared ports (host networking only).</summary>
    public bool RequirePorts { get; init; }

    /// <summary>Initial launch delay after a failure, seconds.</summary>
    public int BackoffSeconds { get; init; } = AppDefaults.BackoffSeconds;

    /// <summary>Multiplier of the launch delay per consecutive failure.</summary>
    public double BackoffFactor { get; init; } = AppDefaults.BackoffFactor;

    /// <summary>Upper bound of the launch delay, seconds.</summary>
    public int MaxLaunchDelaySeconds { get; init; } = AppDefaults.MaxLaunchDelaySeconds;

    /// <summary>Container (Docker or Mesos), volumes and port mappings.</summary>
    public AppContainer? Container { get; init; }

    /// <summary>Health checks.</summary>
    [OmitEmpty]
    public ValueList<HealthCheck> HealthChecks { get; init; } = [];

    /// <summary>Readiness checks (at most one), evaluated during deployments.</summary>
    [OmitEmpty]
    public ValueList<ReadinessCheck> ReadinessChecks { get; init; } = [];

    /// <summary>Ids of apps/groups this app depends on (deployment ordering only).</summary>
    [OmitEmpty]
    public ValueList<string> Dependencies { get; init; } = [];

    /// <summary>Rolling-upgrade capacities; <c>{1, 1}</c> by default, <c>{0.5, 0}</c> for resident apps.</summary>
    public UpgradeStrategy? UpgradeStrategy { get; init; }

    /// <summary>Free-form labels.</summary>
    public ValueDictionary<string> Labels { get; init; } = ValueDictionary<string>.Empty;

    /// <summary>Resource roles whose offers may be used (<c>*</c> and/or the app's role).</summary>
    public ValueList<string>? AcceptedResourceRoles { get; init; }

    /// <summary>Version timestamp (set by the service on every change; a client-supplied one is kept).</summary>
    [JsonConverter(typeof(MarathonTimestampJsonConverter))]
    public DateTimeOffset? Version { get; init; }

    /// <summary>Order of instances killed when scaling down.</summary>
    public string KillSelection { get; init; } = AppDefaults.KillSelection;

    /// <summary>Seconds between SIGTERM and SIGKILL; null = the agent's default.</summary>
    public int? TaskKillGracePeriodSeconds { get; init; }

    /// <summary>Unreachable-instance handling: <c>{0, 0}</c> by default, disabled for resident apps.</summary>
    public UnreachableStrategy? UnreachableStrategy { get; init; }

    /// <summary>Mesos role the app's tasks are launched with.</summary>
    public string? Role { get; init; }

    /// <summary>Networks the app joins; the normalizer defaults it to <c>[{"mode":"host"}]</c>.</summary>
    public ValueList<Network> Networks { get; init; } = [];

    /// <summary>
    /// DatacenterOs addition (not in Marathon): a deployment step of this app that makes no progress for this many
    /// seconds fails the deployment. Null (the default) disables the deadline, as in Marathon.
    /// </summary>
    public int? ProgressDeadlineSeconds { get; init; }

    /// <summary>
    /// DatacenterOs addition (not in Marathon): the instances' state model, e.g.
    /// <c>{"type": "LeaderStandby", "leaders": 1, "callbackPath": "/state"}</c>. Null (the default) is OnlineOffline.
    /// </summary>
    public StateModels.StateModelDefinition? StateModel { get; init; }

    /// <summary>The id parsed as a <see cref="Core.PathId"/> (as written; canonical after normalization).</summary>
    [JsonIgnore]
    public PathId PathId => Core.PathId.Parse(Id);

    /// <summary>True when a persistent volume pins instances to their reservations ("resident" app).</summary>
    [JsonIgnore]
    public bool IsResident => Container?.Volumes.Any(v => v.Persistent is not null) == true;

    /// <summary>True when every network is in host mode (an empty list counts as host, as in Marathon).</summary>
    [JsonIgnore]
    public bool UsesHostNetworking => Networks.All(n => n.Mode == NetworkModes.Host);

    /// <summary>True when the <c>MARATHON_SINGLE_INSTANCE_APP</c> label is <c>true</c>.</summary>
    [JsonIgnore]
    public bool IsSingleInstance =>
        Labels.TryGetValue(AppDefaults.SingleInstanceAppLabel, out var v) && v == "true";

    /// <summary>
    /// Number of addressable ports: the container port mappings when there are any, else the port definitions
    /// (Marathon <c>AppValidation.portIndices</c>).
    /// </summary>
    [JsonIgnore]
    public int PortCount =>
        Container?.PortMappings is { Count: > 0 } mappings ? mappings.Count : PortDefinitions?.Count ?? 0;

    /// <summary>Port names of the mappings (when any) or definitions, in index order (null where unnamed).</summary>
    [JsonIgnore]
    public IReadOnlyList<string?> PortNames =>
        Container?.PortMappings is { Count: > 0 } mappings
            ? mappings.Select(m => m.Name).ToList()
            : (PortDefinitions ?? []).Select(p => p.Name).ToList();
}

/// <summary>
/// An environment variable value: either a plain string (<see cref="Value"/>) or a reference to a secret
/// (<see cref="Secret"/>, JSON <c>{"secret": "name"}</c>, Marathon <c>EnvVarSecretRef</c>). Exactly one is set.
/// </summary>
[JsonConverter(typeof(EnvVarValueJsonConverter))]
public sealed record EnvVarValue
{
    private EnvVarValue(string? value, string? secret)
    {
        Value = value;
        Secret = secret;
    }

    /// <summary>The plain value, or null for a secret reference.</summary>
    public string? Value { get; }

    /// <summary>The referenced secret's name, or null for a plain value.</summary>
    public string? Secret { get; }

    /// <summary>True for a secret reference.</summary>
    public bool IsSecretRef => Secret is not null;

    /// <summary>A plain value.</summary>
    public static EnvVarValue Of(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(value, null);
    }

    /// <summary>A reference to the secret named <paramref name="secretName"/>.</summary>
    public static EnvVarValue SecretRef(string secretName)
    {
        ArgumentNullException.ThrowIfNull(secretName);
        return new(null, secretName);
    }

    /// <inheritdoc/>
    public override string ToString() => Secret is null ? Value! : $"{{secret: {Secret}}}";
}

/// <summary>A secret definition (<c>{"source": "path/in/store"}</c>).</summary>
public sealed record SecretDef
{
    /// <summary>Where the secret store finds the secret.</summary>
    public string Source { get; init; } = string.Empty;
}

/// <summary>An artifact fetched into the sandbox (RAML <c>Artifact</c>, Marathon <c>FetchUri</c>).</summary>
public sealed record FetchUri
{
    /// <summary>The URI.</summary>
    public string Uri { get; init; } = string.Empty;

    /// <summary>Extract archives (default true).</summary>
    public bool Extract { get; init; } = true;

    /// <summary>Mark the file executable.</summary>
    public bool Executable { get; init; }

    /// <summary>Use the fetcher cache.</summary>
    public bool Cache { get; init; }

    /// <summary>Destination path in the sandbox.</summary>
    public string? DestPath { get; init; }

    /// <summary>
    /// Whether Marathon extracts a URI given in the deprecated <c>uris</c> list (<c>FetchUri.isExtract</c>): archives by
    /// extension.
    /// </summary>
    public static bool IsExtract(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        string[] extensions = [".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip"];
        return extensions.Any(e => uri.EndsWith(e, StringComparison.Ordinal));
    }
}

/// <summary>A host port of an app on host networking (RAML <c>PortDefinition</c>).</summary>
public sealed record PortDefinition
{
    /// <summary>Port number; 0 lets the service assign a cluster-unique service port.</summary>
    public int Port { get; init; }

    /// <summary><c>tcp</c>, <c>udp</c> or <c>udp,tcp</c>.</summary>
    public string Protocol { get; init; } = PortProtocols.Tcp;

    /// <summary>Optional name (exposed as <c>PORT_NAME</c>).</summary>
    public string? Name { get; init; }

    /// <summary>Optional labels (e.g. VIP definitions).</summary>
    public ValueDictionary<string>? Labels { get; init; }
}

/// <summary>The app's container (RAML <c>appContainer.raml</c> <c>Container</c>).</summary>
public sealed record AppContainer
{
    /// <summary><c>DOCKER</c> (default) or <c>MESOS</c>.</summary>
    public string Type { get; init; } = ContainerTypes.Docker;

    /// <summary>Docker image settings (required for <c>DOCKER</c>; optional image for <c>MESOS</c>).</summary>
    public DockerContainer? Docker { get; init; }

    /// <summary>Volumes: host, persistent or external.</summary>
    public ValueList<AppVolume> Volumes { get; init; } = [];

    /// <summary>Port mappings (non-host networking only).</summary>
    public ValueList<ContainerPortMapping>? PortMappings { get; init; }
}

/// <summary>Docker settings of a container (RAML <c>DockerContainer</c>).</summary>
public sealed record DockerContainer
{
    /// <summary>Image reference (required, non-empty).</summary>
    public string Image { get; init; } = string.Empty;

    /// <summary>Deprecated network mode (<c>BRIDGE</c>, <c>HOST</c>, <c>USER</c>, <c>NONE</c>); translated into <c>networks</c>.</summary>
    public string? Network { get; init; }

    /// <summary>Deprecated location of port mappings; moved to <c>container.portMappings</c> by the normalizer.</summary>
    public ValueList<ContainerPortMapping>? PortMappings { get; init; }

    /// <summary>Run privileged.</summary>
    public bool Privileged { get; init; }

    /// <summary>Extra <c>docker run</c> parameters.</summary>
    public ValueList<DockerParameter> Parameters { get; init; } = [];

    /// <summary>Pull the image even when present.</summary>
    public bool ForcePullImage { get; init; }
}

/// <summary>A <c>docker run</c> parameter (<c>{"key": "label", "value": "a=b"}</c>).</summary>
public sealed record DockerParameter
{
    /// <summary>Parameter name without leading dashes.</summary>
    public string Key { get; init; } = string.Empty;

    /// <summary>Parameter value.</summary>
    public string Value { get; init; } = string.Empty;
}

/// <summary>A container port mapping (RAML <c>ContainerPortMapping</c>).</summary>
public sealed record ContainerPortMapping
{
    /// <summary>Port inside the container (0 = same as the host port).</summary>
    public int ContainerPort { get; init; }

    /// <summary>Host port (0 = any); absent means no host port, except in bridge mode where it defaults to 0.</summary>
    public int? HostPort { get; init; }

    /// <summary>Service port (0 = assigned by the service).</summary>
    public int ServicePort { get; init; }

    /// <summary><c>tcp</c>, <c>udp</c> or <c>udp,tcp</c>.</summary>
    public string Protocol { get; init; } = PortProtocols.Tcp;

    /// <summary>Optional name.</summary>
    public string? Name { get; init; }

    /// <summary>Optional labels.</summary>
    public ValueDictionary<string>? Labels { get; init; }

    /// <summary>Container networks this mapping applies to.</summary>
    public ValueList<string>? NetworkNames { get; init; }
}

/// <summary>
/// A container volume (RAML <c>AppVolume</c>): a host volume (<see cref="HostPath"/>), a local persistent volume
/// (<see cref="Persistent"/>, makes the app resident) or an external volume (<see cref="External"/>).
/// </summary>
public sealed record AppVolume
{
    /// <summary>Path inside the container (absolute for host volumes; a plain name for persistent volumes).</summary>
    public string ContainerPath { get; init; } = string.Empty;

    /// <summary>Host path of a host volume.</summary>
    public string? HostPath { get; init; }

    /// <summary><c>RO</c> or <c>RW</c> (the normalizer defaults it to <c>RW</c>).</summary>
    public string? Mode { get; init; }

    /// <summary>Local persistent volume settings.</summary>
    public PersistentVolumeInfo? Persistent { get; init; }

    /// <summary>External volume settings.</summary>
    public ExternalVolumeInfo? External { get; init; }
}

/// <summary>A local persistent volume (RAML <c>PersistentVolumeInfo</c>).</summary>
public sealed record PersistentVolumeInfo
{
    /// <summary><c>root</c> (default), <c>path</c> or <c>mount</c>.</summary>
    public string Type { get; init; } = PersistentVolumeTypes.Root;

    /// <summary>Size in MiB (&gt; 0).</summary>
    public long Size { get; init; }

    /// <summary>Maximum size in MiB (mount volumes only).</summary>
    public long? MaxSize { get; init; }

    /// <summary>Disk constraints (<c>["path", "LIKE", regex]</c>).</summary>
    public ValueList<ValueList<string>>? Constraints { get; init; }
}

/// <summary>An external volume (RAML <c>ExternalVolumeInfo</c>).</summary>
public sealed record ExternalVolumeInfo
{
    /// <summary>Volume name.</summary>
    public string? Name { get; init; }

    /// <summary>Provider (e.g. <c>dvdi</c>).</summary>
    public string? Provider { get; init; }

    /// <summary>Provider options.</summary>
    public ValueDictionary<string>? Options { get; init; }
}

/// <summary>
/// A health check (RAML <c>AppHealthCheck</c>). HTTP(S)/TCP are executed by the scheduler, COMMAND and MESOS_* on the
/// agent. <see cref="Path"/> stays null when not given (probes use <c>/</c>, see <see cref="EffectivePath"/>).
/// </summary>
public sealed record HealthCheck
{
    /// <summary>One of <see cref="HealthCheckProtocols.All"/> (default HTTP).</summary>
    public string Protocol { get; init; } = HealthCheckProtocols.Http;

    /// <summary>HTTP path (HTTP-like protocols only).</summary>
    public string? Path { get; init; }

    /// <summary>Index into the app's ports (defaulted to 0 by the normalizer when the app has ports and no <see cref="Port"/>).</summary>
    public int? PortIndex { get; init; }

    /// <summary>Fixed port (overrides <see cref="PortIndex"/>; exclusive with it).</summary>
    public int? Port { get; init; }

    /// <summary>The command of a COMMAND check.</summary>
    public CommandCheck? Command { get; init; }

    /// <summary>Failures are ignored for this long after start, until the first success.</summary>
    public int GracePeriodSeconds { get; init; } = 300;

    /// <summary>Seconds between checks.</summary>
    public int IntervalSeconds { get; init; } = 60;

    /// <summary>Seconds after which a check counts as failed.</summary>
    public int TimeoutSeconds { get; init; } = 20;

    /// <summary>Consecutive failures before the task is killed (0 = never, for scheduler-level checks).</summary>
    public int MaxConsecutiveFailures { get; init; } = 3;

    /// <summary>Seconds before the first check (agent-level checks).</summary>
    public int DelaySeconds { get; init; } = 15;

    /// <summary>Ignore 1xx responses (scheduler-level HTTP(S) checks; the normalizer sets it to false there).</summary>
    public bool? IgnoreHttp1xx { get; init; }

    /// <summary><c>IPv4</c> (default) or <c>IPv6</c>.</summary>
    public string IpProtocol { get; init; } = "IPv4";

    /// <summary>The path probed by HTTP-like checks: <see cref="Path"/> or <c>/</c>.</summary>
    [JsonIgnore]
    public string EffectivePath => Path ?? "/";
}

/// <summary>The command of a COMMAND health check (<c>{"value": "curl -f localhost:$PORT0"}</c>).</summary>
public sealed record CommandCheck
{
    /// <summary>Shell command; exit code 0 means healthy.</summary>
    public string Value { get; init; } = string.Empty;
}

/// <summary>A readiness check (RAML <c>readinessCheck.raml</c>); defaults per the RAML.</summary>
public sealed record ReadinessCheck
{
    /// <summary>Name.</summary>
    public string Name { get; init; } = "readinessCheck";

    /// <summary><c>HTTP</c> or <c>HTTPS</c>.</summary>
    public string Protocol { get; init; } = ReadinessCheckProtocols.Http;

    /// <summary>Path probed.</summary>
    public string Path { get; init; } = "/";

    /// <summary>Name of the port (in port definitions or mappings) to probe.</summary>
    public string PortName { get; init; } = "http-api";

    /// <summary>Seconds between probes.</summary>
    public int IntervalSeconds { get; init; } = 30;

    /// <summary>Probe timeout; must be less than <see cref="IntervalSeconds"/>.</summary>
    public int TimeoutSeconds { get; init; } = 10;

    /// <summary>Status codes that mean ready.</summary>
    public ValueList<int> HttpStatusCodesForReady { get; init; } = [200];

    /// <summary>Keep the last response for the deployment API.</summary>
    public bool PreserveLastResponse { get; init; }
}

/// <summary>Rolling-upgrade capacities (RAML <c>UpgradeStrategy</c>, Marathon <c>state/UpgradeStrategy.scala</c>).</summary>
public sealed record UpgradeStrategy
{
    /// <summary>The default, <c>{1, 1}</c> (<c>UpgradeStrategy.empty</c>).</summary>
    public static UpgradeStrategy Default { get; } = new();

    /// <summary>The default of resident apps, <c>{0.5, 0}</c> (<c>UpgradeStrategy.forResidentTasks</c>).</summary>
    public static UpgradeStrategy ForResidentTasks { get; } = new() { MinimumHealthCapacity = 0.5, MaximumOverCapacity = 0 };

    /// <summary>Fraction of instances that must stay healthy during an upgrade, 0..1.</summary>
    public double MinimumHealthCapacity { get; init; } = 1;

    /// <summary>Fraction of extra instances allowed during an upgrade, 0..1.</summary>
    public double MaximumOverCapacity { get; init; } = 1;
}

/// <summary>
/// What happens to unreachable instances (RAML <c>unreachableStrategy.raml</c>): JSON <c>"disabled"</c>, or
/// <c>{"inactiveAfterSeconds": n, "expungeAfterSeconds": m}</c>. Marathon's code default is <c>{0, 0}</c>
/// (<c>UnreachableEnabled.Default*</c>); resident apps default to disabled.
/// </summary>
[JsonConverter(typeof(UnreachableStrategyJsonConverter))]
public sealed record UnreachableStrategy
{
    /// <summary>Unreachable instances are neither replaced nor expunged.</summary>
    public static UnreachableStrategy Disabled { get; } = new() { IsDisabled = true };

    /// <summary>The code default <c>{0, 0}</c>: replace and expunge right away.</summary>
    public static UnreachableStrategy Default { get; } = new();

    /// <summary>True for <c>"disabled"</c>.</summary>
    public bool IsDisabled { get; init; }

    /// <summary>Seconds unreachable before a replacement is launched.</summary>
    public long InactiveAfterSeconds { get; init; }

    /// <summary>Seconds unreachable before the instance is expunged.</summary>
    public long ExpungeAfterSeconds { get; init; }

    /// <summary>The strategy for the given resident-ness (<c>UnreachableStrategy.default</c>).</summary>
    public static UnreachableStrategy DefaultFor(bool resident) => resident ? Disabled : Default;
}

/// <summary>A network the app joins (RAML <c>Network</c>).</summary>
public sealed record Network
{
    /// <summary><c>host</c>, <c>container</c> (RAML default) or <c>container/bridge</c>.</summary>
    public string Mode { get; init; } = NetworkModes.Container;

    /// <summary>Container network name (required for <c>container</c> mode).</summary>
    public string? Name { get; init; }

    /// <summary>Labels passed to the network.</summary>
    public ValueDictionary<string>? Labels { get; init; }
}

/// <summary>
/// Marks a collection property that Marathon omits from JSON when it is empty (RAML <c>pragma.omitEmpty</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OmitEmptyAttribute : Attribute;
