using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// One violation: a Marathon-style path (<c>/healthChecks(0)/path</c>: fields as <c>/name</c>, array items as
/// <c>(i)</c> appended without a slash, map entries as <c>/key</c>, the whole object as <c>/</c>) and a message.
/// </summary>
/// <param name="Path">Where.</param>
/// <param name="Message">What is wrong.</param>
public sealed record ValidationError(string Path, string Message);

/// <summary>The violations at one path, as one entry of Marathon's <c>details</c> array.</summary>
/// <param name="Path">Where.</param>
/// <param name="Errors">The messages, in the order they were found.</param>
public sealed record ValidationDetail(string Path, IReadOnlyList<string> Errors);

/// <summary>
/// The result of <see cref="AppValidator.Validate"/>: the violations in the order found, and Marathon's 422 body
/// <c>{"message":"Object is not valid","details":[{"path":…,"errors":[…]}]}</c> with violations grouped by path.
/// </summary>
public sealed class ValidationResult
{
    /// <summary>Marathon's message for semantic validation failures.</summary>
    public const string ObjectIsNotValid = "Object is not valid";

    /// <summary>HTTP status of a failed validation: 422.</summary>
    public const int StatusCode = 422;

    internal ValidationResult(ImmutableArray<ValidationError> errors) => Errors = errors;

    /// <summary>A result without violations.</summary>
    public static ValidationResult Valid { get; } = new([]);

    /// <summary>The violations, in the order found.</summary>
    public IReadOnlyList<ValidationError> Errors { get; }

    /// <summary>True when there are no violations.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>The violations grouped by path, paths in order of first appearance (Marathon's <c>details</c>).</summary>
    public IReadOnlyList<ValidationDetail> Details =>
        Errors.GroupBy(e => e.Path, StringComparer.Ordinal)
            .Select(g => new ValidationDetail(g.Key, g.Select(e => e.Message).ToList()))
            .ToList();

    /// <summary>The paths with violations, in order of first appearance.</summary>
    public IReadOnlyList<string> Paths => Errors.Select(e => e.Path).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The messages reported at <paramref name="path"/>.</summary>
    public IReadOnlyList<string> MessagesAt(string path) =>
        Errors.Where(e => string.Equals(e.Path, path, StringComparison.Ordinal)).Select(e => e.Message).ToList();

    /// <summary>Marathon's 422 body.</summary>
    public string ToMarathonJson()
    {
        var details = new JsonArray();
        foreach (var detail in Details)
        {
            var errors = new JsonArray();
            foreach (var message in detail.Errors)
            {
                errors.Add(message);
            }

            details.Add(new JsonObject { ["path"] = detail.Path, ["errors"] = errors });
        }

        return new JsonObject { ["message"] = ObjectIsNotValid, ["details"] = details }.ToJsonString(AppsJson.Options);
    }

    /// <inheritdoc/>
    public override string ToString() => IsValid ? "valid" : string.Join("; ", Errors.Select(e => $"{e.Path}: {e.Message}"));
}

/// <summary>Settings of <see cref="AppValidator"/>.</summary>
public sealed record ValidationContext
{
    /// <summary>The defaults: no enclosing group check, all features enabled.</summary>
    public static ValidationContext Default { get; } = new();

    /// <summary>
    /// When set, the app's id must be a direct child of this group (apps inside a group update), as Marathon's
    /// <c>validNestedApp</c> requires.
    /// </summary>
    public PathId? EnclosingGroup { get; init; }

    /// <summary>
    /// Marathon's <c>--enable_features</c> (<c>secrets</c>, <c>gpu_resources</c>, <c>external_volumes</c>); null (the
    /// default) means every feature is enabled.
    /// </summary>
    public IReadOnlySet<string>? EnabledFeatures { get; init; }

    /// <summary>True when <paramref name="feature"/> is enabled.</summary>
    public bool IsEnabled(string feature) => EnabledFeatures is null || EnabledFeatures.Contains(feature);
}

/// <summary>
/// Marathon's semantic app validation (<c>AppValidation.validateCanonicalAppAPI</c>, <c>validateOldAppAPI</c>,
/// <c>SchedulingValidation</c>, <c>state/PathId.scala</c>, <c>state/UnreachableStrategy.scala</c>) with its paths and
/// messages. Numeric range checks use the wording of Marathon's validation library (<c>got -1, expected 0 or more</c>).
/// Expects a normalized app (<see cref="AppNormalizer"/>) but reports deprecated-field conflicts on raw input too.
/// DatacenterOs additions, stricter than Marathon, are marked as such in the code.
/// </summary>
public static class AppValidator
{
    /// <summary>Marathon's message when an app has nothing to run.</summary>
    public const string CmdArgsOrContainerMessage =
        "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.";

    /// <summary>Marathon's message for a health-check port index that addresses no port.</summary>
    public const string HealthCheckPortIndexMessage =
        "Health check port indices must address an element of the ports array or container port mappings.";

    /// <summary>Marathon's executor pattern.</summary>
    public const string ExecutorPattern = "^(//cmd)|(/?[^/]+(/[^/]+)*)|$";

    private const string FeatureSecrets = "secrets";
    private const string FeatureGpuResources = "gpu_resources";
    private const string FeatureExternalVolumes = "external_volumes";

    /// <summary>Validates <paramref name="app"/>; an empty result means valid.</summary>
    public static ValidationResult Validate(AppDefinition app, ValidationContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        context ??= ValidationContext.Default;
        var v = new Collector();

        ValidateId(app, context, v);
        ValidateCommand(app, v);
        ValidateResources(app, context, v);
        ValidateNetworks(app, v);
        ValidatePorts(app, v);
        ValidateContainer(app, context, v);
        ValidateHealthChecks(app, v);
        ValidateReadinessChecks(app, v);
        ValidateConstraints(app, v);
        ValidateUpgradeStrategy(app, v);
        ValidateResidency(app, v);
        ValidateBackoff(app, v);
        ValidateFetch(app, v);
        ValidateEnvironment(app, context, v);
        ValidateLabels(app, v);
        ValidateDependencies(app, v);
        ValidateRoles(app, v);
        ValidateMisc(app, v);
        foreach (var error in StateModels.StateModelValidation.Errors(app))
        {
            v.Add(error.Path, error.Message);
        }

        return v.ToResult();
    }

    private static void ValidateId(AppDefinition app, ValidationContext context, Collector v)
    {
        if (string.IsNullOrEmpty(app.Id))
        {
            v.Add("/id", "must not be empty");
            return;
        }

        foreach (var error in PathId.Validate(app.Id))
        {
            v.Add("/id", error);
        }

        var id = PathId.Parse(app.Id);
        if (!id.IsAbsolute)
        {
            v.Add("/id", "Path needs to be absolute");
        }

        if (id.IsRoot)
        {
            v.Add("/id", "Path must contain at least one path element");
            v.Add("/", "must not be root");
            return;
        }

        if (context.EnclosingGroup is { } group && id.IsAbsolute && !id.Canonicalize().IsChildOf(group.Canonicalize()))
        {
            v.Add("/id", $"Identifier is not child of '{group}'. Hint: use relative paths.");
        }
    }

    private static void ValidateCommand(AppDefinition app, Collector v)
    {
        var cmd = app.Cmd is not null;
        var args = !app.Args.IsEmpty;
        var container = app.Container is { } c && c.Docker is not null && c.Type is ContainerTypes.Docker or ContainerTypes.Mesos;
        if (!((cmd ^ args) || (!(cmd && args) && container)))
        {
            v.Add("/", CmdArgsOrContainerMessage);
        }

        // Marathon rejects cmd.length <= 1 here; DatacenterOs only rejects the empty string (a one-letter command is legal).
        if (app.Cmd is { Length: 0 })
        {
            v.Add("/", "must not be an empty string");
        }
    }

    private static void ValidateResources(AppDefinition app, ValidationContext context, Collector v)
    {
        // The RAML minimum of cpus is 0.001 (Marathon's JSON layer rejects 0 before the model's ">= 0" check).
        v.AtLeast("/cpus", app.Cpus, AppDefaults.MinimumCpus);
        v.AtLeast("/mem", app.Mem, 0.0);
        v.AtLeast("/disk", app.Disk, 0.0);
        v.AtLeast("/gpus", app.Gpus, 0);
        v.AtLeast("/instances", app.Instances, 0);
        if (app.Instances > MaxInstances)
        {
            // Hostile-input limit (Marathon has none): a plan of millions of instances would hold the scheduler.
            v.Add("/instances", $"must be at most {MaxInstances}");
        }

        if (app.Gpus > 0)
        {
            if (app.Container?.Type == ContainerTypes.Docker)
            {
                v.Add("/", "GPU resources only work with the Mesos containerizer");
            }

            v.Feature(context, FeatureGpuResources, "/");
        }

        if (app.IsSingleInstance && app.Instances > 1)
        {
            v.Add("/", "Single instance app may only have one instance");
        }
    }

    private static void ValidateNetworks(AppDefinition app, Collector v)
    {
        var networks = app.Networks;
        for (var i = 0; i < networks.Count; i++)
        {
            var n = networks[i];
            if (!NetworkModes.All.Contains(n.Mode))
            {
                v.Add($"/networks({i})/mode", $"must be one of {string.Join(", ", NetworkModes.All)}");
            }
            else if (n.Mode == NetworkModes.Container && string.IsNullOrEmpty(n.Name))
            {
                v.Add($"/networks({i})/name", "container network name is not defined");
            }
        }

        var host = networks.Count(n => n.Mode == NetworkModes.Host);
        var bridge = networks.Count(n => n.Mode == NetworkModes.ContainerBridge);
        if ((host > 0 || bridge > 0) && networks.Count > 1)
        {
            v.Add("/networks", "Must specify either a single host network, a single bridge network, or only container networks");
        }

        var names = networks.Where(n => n.Mode == NetworkModes.Container && n.Name is not null).Select(n => n.Name!).ToList();
        if (names.Count != names.Distinct(StringComparer.Ordinal).Count())
        {
            v.Add("/networks", "Network names must be unique");
        }

        if (app.Container?.Type == ContainerTypes.Docker && networks.Count(n => n.Mode == NetworkModes.Container) > 1)
        {
            v.Add("/", "may only specify a single container network when using the Docker container engine");
        }

        if (app.Container?.Docker?.Network is { } dockerNetwork)
        {
            if (dockerNetwork is DockerNetworks.Host or DockerNetworks.Bridge or DockerNetworks.User)
            {
                v.Add("/", "must not specify both container.docker.network and networks");
            }
            else
            {
                v.Add("/container/docker/network", $"unsupported docker network type {dockerNetwork}");
            }
        }
    }

    private static void ValidatePorts(AppDefinition app, Collector v)
    {
        if (app.Ports is { } ports)
        {
            var nonRandom = ports.Where(p => p != AppDefaults.RandomPort).ToList();
            if (nonRandom.Count != nonRandom.Distinct().Count())
            {
                v.Add("/", "ports must be unique");
            }

            if (app.PortDefinitions is { } defs && !defs.Select(d => d.Port).SequenceEqual(ports))
            {
                v.Add("/", "cannot specify both ports and port definitions");
            }

            for (var i = 0; i < ports.Count; i++)
            {
                v.Port($"/ports({i})", ports[i]);
            }
        }

        if (app.PortDefinitions is { } definitions)
        {
            var named = definitions.Where(d => d.Name is not null).Select(d => d.Name!).ToList();
            if (named.Count != named.Distinct(StringComparer.Ordinal).Count())
            {
                v.Add("/portDefinitions", "Port names must be unique.");
            }

            var fixedPorts = definitions.Select(d => d.Port).Where(p => p != AppDefaults.RandomPort).ToList();
            if (fixedPorts.Count != fixedPorts.Distinct().Count())
            {
                v.Add("/portDefinitions", "Ports must be unique.");
            }

            for (var i = 0; i < definitions.Count; i++)
            {
                v.Port($"/portDefinitions({i})/port", definitions[i].Port);
                v.OneOf($"/portDefinitions({i})/protocol", definitions[i].Protocol, PortProtocols.All);
            }

            if (definitions.Count > 0 && !app.UsesHostNetworking)
            {
                v.Add("/", "portDefinitions are only allowed with host-networking");
            }
        }

        if (app.Container?.PortMappings is { } mappings)
        {
            var named = mappings.Where(m => m.Name is not null).Select(m => m.Name!).ToList();
            if (named.Count != named.Distinct(StringComparer.Ordinal).Count())
            {
                v.Add("/container/portMappings", "Port names must be unique.");
            }

            var containerNetworks = app.Networks.Where(n => n.Mode == NetworkModes.Container).ToList();
            var networkNames = containerNetworks.Select(n => n.Name).OfType<string>().ToList();
            for (var i = 0; i < mappings.Count; i++)
            {
                var m = mappings[i];
                var path = $"/container/portMappings({i})";
                v.Port(path + "/containerPort", m.ContainerPort);
                if (m.HostPort is { } hostPort)
                {
                    v.Port(path + "/hostPort", hostPort);
                }

                v.Port(path + "/servicePort", m.ServicePort);
                v.OneOf(path + "/protocol", m.Protocol, PortProtocols.All);
                if (m.NetworkNames is { } names)
                {
                    for (var j = 0; j < names.Count; j++)
                    {
                        if (!networkNames.Contains(names[j]))
                        {
                            v.Add($"{path}/networkNames({j})", $"is not one of ({string.Join(",", networkNames)})");
                        }
                    }
                }

                if (containerNetworks.Count > 1 && m.HostPort is not null && m.NetworkNames?.Count != 1)
                {
                    v.Add(path, "networkNames must be a single item list when hostPort is specified and more than 1 container network is defined");
                }
            }

            if (mappings.Count > 0 && app.Networks.Any(n => n.Mode == NetworkModes.Host))
            {
                v.Add("/", "portMappings are not allowed with host-networking");
            }
        }
    }

    private static void ValidateContainer(AppDefinition app, ValidationContext context, Collector v)
    {
        if (app.Container is not { } container)
        {
            return;
        }

        if (!ContainerTypes.All.Contains(container.Type))
        {
            v.Add("/container/type", $"must be one of {string.Join(", ", ContainerTypes.All)}");
        }

        if (container.Type == ContainerTypes.Docker && container.Docker is null)
        {
            v.Add("/container/docker", "not defined");
        }

        if (container.Docker is { } docker)
        {
            if (string.IsNullOrWhiteSpace(docker.Image))
            {
                v.Add("/container/docker/image", "must not be empty");
            }

            for (var i = 0; i < docker.Parameters.Count; i++)
            {
                if (string.IsNullOrEmpty(docker.Parameters[i].Key))
                {
                    v.Add($"/container/docker/parameters({i})/key", "must not be empty");
                }
            }
        }

        for (var i = 0; i < container.Volumes.Count; i++)
        {
            ValidateVolume(container.Volumes[i], $"/container/volumes({i})", context, v);
        }
    }

    private static void ValidateVolume(AppVolume volume, string path, ValidationContext context, Collector v)
    {
        if (volume.Mode is not null && !VolumeModes.All.Contains(volume.Mode))
        {
            v.Add(path + "/mode", $"must be one of {string.Join(", ", VolumeModes.All)}");
        }

        var kinds = (volume.HostPath is not null ? 1 : 0) + (volume.Persistent is not null ? 1 : 0) + (volume.External is not null ? 1 : 0);
        if (kinds != 1)
        {
            v.Add(path, "a volume must define exactly one of hostPath, persistent or external");
        }

        if (string.IsNullOrEmpty(volume.ContainerPath))
        {
            v.Add(path + "/containerPath", "must not be empty");
        }

        if (volume.Persistent is { } persistent)
        {
            if (volume.ContainerPath is "." or "..")
            {
                v.Add(path + "/containerPath", "can not be one of (.,..)");
            }

            if (volume.ContainerPath.Contains('/', StringComparison.Ordinal))
            {
                v.Add(path + "/containerPath", "value must not contain \"/\"");
            }

            if (volume.Mode is not null && volume.Mode != VolumeModes.ReadWrite && VolumeModes.All.Contains(volume.Mode))
            {
                v.Add(path + "/mode", $"got {volume.Mode}, expected {VolumeModes.ReadWrite}");
            }

            v.MoreThan(path + "/persistent/size", persistent.Size, 0L);
            v.OneOf(path + "/persistent/type", persistent.Type, PersistentVolumeTypes.All);
            if (persistent.MaxSize is not null && persistent.Type != PersistentVolumeTypes.Mount)
            {
                v.Add(path + "/persistent", "Only mount volumes can have maxSize");
            }

            if (persistent.MaxSize is { } maxSize && maxSize <= persistent.Size)
            {
                v.Add(path + "/persistent", "Max size must be larger than size");
            }

            if (persistent.Type == PersistentVolumeTypes.Root && persistent.Constraints is { Count: > 0 })
            {
                v.Add(path + "/persistent", "Constraints on root volumes are not supported");
            }
        }
        else if (volume.HostPath is not null)
        {
            if (volume.HostPath.Length == 0)
            {
                v.Add(path + "/hostPath", "must not be empty");
            }

            // DatacenterOs addition: a host volume is bind-mounted at an absolute path of the container.
            if (volume.ContainerPath.Length > 0 && !volume.ContainerPath.StartsWith('/'))
            {
                v.Add(path + "/containerPath", "must be an absolute path");
            }
        }
        else if (volume.External is { } external)
        {
            if (string.IsNullOrEmpty(external.Name))
            {
                v.Add(path + "/external/name", "not defined");
            }

            if (string.IsNullOrEmpty(external.Provider))
            {
                v.Add(path + "/external/provider", "not defined");
            }

            v.Feature(context, FeatureExternalVolumes, path);
        }
    }

    private static void ValidateHealthChecks(AppDefinition app, Collector v)
    {
        var checks = app.HealthChecks;
        var mesosChecksWithoutCommand = checks.Count(c => c.Command is null && HealthCheckProtocols.IsMesosLevel(c.Protocol));
        if (mesosChecksWithoutCommand > 1)
        {
            v.Add("/", "AppDefinition can contain at most one Mesos health check");
        }

        var portCount = app.PortCount;
        for (var i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            var path = $"/healthChecks({i})";
            if (!HealthCheckProtocols.All.Contains(check.Protocol))
            {
                v.Add(path + "/protocol", $"must be one of {string.Join(", ", HealthCheckProtocols.All)}");
                continue;
            }

            if (HealthCheckProtocols.UsesPort(check.Protocol) && check.Command is null)
            {
                if (check.Port is not null && check.PortIndex is not null)
                {
                    v.Add(path, "HealthCheck must specify either a port or a portIndex");
                }

                // Marathon checks this for its own HTTP/HTTPS/TCP checks; DatacenterOs also for MESOS_* (a dangling
                // index would only fail at launch).
                var addressable = check.PortIndex is { } index
                    ? index >= 0 && index < portCount
                    : check.Port is not null || portCount == 1;
                if (!addressable)
                {
                    v.Add(path, HealthCheckPortIndexMessage);
                }

                if (check.Port is { } port)
                {
                    v.Port(path + "/port", port);
                }
            }

            if (check.Protocol == HealthCheckProtocols.Command)
            {
                if (check.Command is null)
                {
                    v.Add(path + "/command", "not defined");
                }
                else if (string.IsNullOrWhiteSpace(check.Command.Value))
                {
                    v.Add(path + "/command/value", "must not be empty");
                }
            }

            // DatacenterOs addition: an HTTP path is absolute.
            if (HealthCheckProtocols.IsHttp(check.Protocol) && check.Path is { } httpPath && !httpPath.StartsWith('/'))
            {
                v.Add(path + "/path", "must start with '/'");
            }

            v.AtLeast(path + "/gracePeriodSeconds", check.GracePeriodSeconds, 0);
            v.AtLeast(path + "/intervalSeconds", check.IntervalSeconds, 0);
            v.AtLeast(path + "/timeoutSeconds", check.TimeoutSeconds, 0);
            v.AtLeast(path + "/maxConsecutiveFailures", check.MaxConsecutiveFailures, 0);
            v.AtLeast(path + "/delaySeconds", check.DelaySeconds, 0);

            // DatacenterOs addition (Marathon enforces it for readiness checks only): a probe must end before the next.
            if (check.TimeoutSeconds >= check.IntervalSeconds)
            {
                v.Add(path + "/timeoutSeconds", $"got {check.TimeoutSeconds}, expected less than {check.IntervalSeconds}");
            }

            if (check.IpProtocol is not ("IPv4" or "IPv6"))
            {
                v.Add(path + "/ipProtocol", "must be one of IPv4, IPv6");
            }
            else if (check.IpProtocol == "IPv6"
                && !(check.Protocol is HealthCheckProtocols.MesosHttp or HealthCheckProtocols.MesosHttps or HealthCheckProtocols.MesosTcp
                    && app.Container?.Type == ContainerTypes.Docker))
            {
                v.Add(path, "IPv6 can only be used for container type DOCKER and Mesos http/https/tcp health checks");
            }
        }
    }

    private static void ValidateReadinessChecks(AppDefinition app, Collector v)
    {
        var checks = app.ReadinessChecks;
        if (checks.Count > 1)
        {
            v.Add("/readinessChecks", $"got {checks.Count}, expected 1 or less");
        }

        var portNames = app.PortNames.OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < checks.Count; i++)
        {
            var check = checks[i];
            var path = $"/readinessChecks({i})";
            v.OneOf(path + "/protocol", check.Protocol, ReadinessCheckProtocols.All);
            if (string.IsNullOrEmpty(check.Path))
            {
                v.Add(path + "/path", "must not be empty");
            }

            if (!portNames.Contains(check.PortName))
            {
                v.Add(path + "/portName", $"No port definition reference for portName {check.PortName}");
            }

            v.AtLeast(path + "/intervalSeconds", check.IntervalSeconds, 0);
            if (check.TimeoutSeconds >= check.IntervalSeconds)
            {
                v.Add(path + "/timeoutSeconds", $"got {check.TimeoutSeconds}, expected less than {check.IntervalSeconds}");
            }

            for (var j = 0; j < check.HttpStatusCodesForReady.Count; j++)
            {
                v.Between($"{path}/httpStatusCodesForReady({j})", check.HttpStatusCodesForReady[j], 100, 999);
            }
        }
    }

    private static void ValidateConstraints(AppDefinition app, Collector v)
    {
        for (var i = 0; i < app.Constraints.Count; i++)
        {
            if (!Constraint.TryParse(app.Constraints[i], out _, out var error))
            {
                v.Add($"/constraints({i})", error);
            }
        }
    }

    private static void ValidateUpgradeStrategy(AppDefinition app, Collector v)
    {
        if (app.UpgradeStrategy is not { } strategy)
        {
            return;
        }

        v.Between("/upgradeStrategy/minimumHealthCapacity", strategy.MinimumHealthCapacity, 0.0, 1.0);
        v.Between("/upgradeStrategy/maximumOverCapacity", strategy.MaximumOverCapacity, 0.0, 1.0);
        if (app.IsSingleInstance)
        {
            v.EqualTo("/upgradeStrategy/minimumHealthCapacity", strategy.MinimumHealthCapacity, 0.0);
            v.EqualTo("/upgradeStrategy/maximumOverCapacity", strategy.MaximumOverCapacity, 0.0);
        }
    }

    private static void ValidateResidency(AppDefinition app, Collector v)
    {
        if (!app.IsResident)
        {
            return;
        }

        if (app.UpgradeStrategy is { } strategy)
        {
            v.EqualTo("/upgradeStrategy/maximumOverCapacity", strategy.MaximumOverCapacity, 0.0);
        }

        if (app.UnreachableStrategy is { IsDisabled: false })
        {
            v.Add("/", "unreachableStrategy must be disabled for resident tasks");
        }

        if (app.AcceptedResourceRoles is { } roles && !(roles.Count == 1 && roles[0] == AppDefaults.Role))
        {
            v.Add("/acceptedResourceRoles", "A resident app must have `acceptedResourceRoles = [\"*\"]`.");
        }

        if (app.Role == AppDefaults.Role)
        {
            v.Add("/role", "Resident apps cannot have the role *");
        }
    }

    private static void ValidateBackoff(AppDefinition app, Collector v)
    {
        v.AtLeast("/backoffSeconds", app.BackoffSeconds, 0);
        v.AtLeast("/backoffFactor", app.BackoffFactor, 1.0);
        v.AtLeast("/maxLaunchDelaySeconds", app.MaxLaunchDelaySeconds, 0);
    }

    private static void ValidateFetch(AppDefinition app, Collector v)
    {
        if (app.Uris is { } uris)
        {
            if (!uris.IsEmpty && !app.Fetch.IsEmpty)
            {
                v.Add("/uris", "may not be set in conjunction with fetch");
            }

            for (var i = 0; i < uris.Count; i++)
            {
                if (!IsValidUri(uris[i]))
                {
                    v.Add($"/uris({i})", "URI has invalid syntax.");
                }
            }
        }

        for (var i = 0; i < app.Fetch.Count; i++)
        {
            var fetch = app.Fetch[i];
            if (string.IsNullOrEmpty(fetch.Uri))
            {
                v.Add($"/fetch({i})/uri", "must not be empty");
            }
            else if (!IsValidUri(fetch.Uri))
            {
                v.Add($"/fetch({i})/uri", "URI has invalid syntax.");
            }

            if (fetch.DestPath is { Length: 0 })
            {
                v.Add($"/fetch({i})/destPath", "must not be empty");
            }
        }

        for (var i = 0; i < app.StoreUrls.Count; i++)
        {
            if (string.IsNullOrEmpty(app.StoreUrls[i]))
            {
                v.Add($"/storeUrls({i})", "must not be empty");
            }
        }
    }

    private static void ValidateEnvironment(AppDefinition app, ValidationContext context, Collector v)
    {
        var usesSecrets = !app.Secrets.IsEmpty;
        foreach (var (name, value) in app.Env)
        {
            if (name.Length == 0)
            {
                v.Add("/env", "environment variable names must not be empty");
                continue;
            }

            if (value.Secret is { } secret)
            {
                usesSecrets = true;
                if (!app.Secrets.ContainsKey(secret))
                {
                    v.Add("/env/" + name, $"references an undefined secret named '{secret}'");
                }
            }
        }

        foreach (var (name, secret) in app.Secrets)
        {
            if (string.IsNullOrEmpty(secret.Source))
            {
                v.Add($"/secrets/{name}/source", "must not be empty");
            }
        }

        if (usesSecrets)
        {
            v.Feature(context, FeatureSecrets, "/");
        }
    }

    /// <summary>Most instances an app may ask for.</summary>
    public const int MaxInstances = 10_000;

    /// <summary>Most labels an app may have.</summary>
    public const int MaxLabels = 256;

    /// <summary>Longest label key, characters.</summary>
    public const int MaxLabelKeyLength = 256;

    /// <summary>Longest label value, characters.</summary>
    public const int MaxLabelValueLength = 4096;

    private static void ValidateLabels(AppDefinition app, Collector v)
    {
        if (app.Labels.Keys.Any(k => k.Length == 0))
        {
            v.Add("/labels", "label keys must not be empty");
        }

        // Hostile-input limits: labels are copied into tasks, events and the UI.
        if (app.Labels.Count > MaxLabels)
        {
            v.Add("/labels", $"must have at most {MaxLabels} labels");
        }

        foreach (var (key, value) in app.Labels)
        {
            if (key.Length > MaxLabelKeyLength)
            {
                v.Add("/labels", $"label key '{key[..32]}…' is longer than {MaxLabelKeyLength} characters");
            }
            else if (value.Length > MaxLabelValueLength)
            {
                v.Add($"/labels/{key}", $"must be at most {MaxLabelValueLength} characters long");
            }
        }

        if (app.Labels.TryGetValue(AppDefaults.DcosMigrationApiVersionLabel, out var version) && version.Length > 0)
        {
            var complies = version == "v1"
                && app.Labels.TryGetValue(AppDefaults.DcosPackageFrameworkNameLabel, out var framework) && framework.Length > 0
                && app.Labels.TryGetValue(AppDefaults.DcosMigrationApiPathLabel, out var apiPath) && apiPath.Length > 0;
            if (!complies)
            {
                v.Add("/", "DCOS_PACKAGE_FRAMEWORK_NAME and DCOS_MIGRATION_API_PATH must be defined when using DCOS_MIGRATION_API_VERSION");
            }
        }
    }

    private static void ValidateDependencies(AppDefinition app, Collector v)
    {
        for (var i = 0; i < app.Dependencies.Count; i++)
        {
            var dependency = app.Dependencies[i];
            var path = $"/dependencies({i})";
            if (string.IsNullOrEmpty(dependency) || PathId.Parse(dependency).IsRoot)
            {
                v.Add(path, "Path must contain at least one path element");
                continue;
            }

            foreach (var error in PathId.Validate(dependency))
            {
                v.Add(path, error);
            }
        }
    }

    private static void ValidateRoles(AppDefinition app, Collector v)
    {
        if (app.Role is { } role)
        {
            foreach (var error in RoleErrors(role))
            {
                v.Add("/role", error);
            }
        }

        if (app.AcceptedResourceRoles is not { } accepted)
        {
            return;
        }

        if (accepted.IsEmpty)
        {
            v.Add("/acceptedResourceRoles", "must not be empty");
            return;
        }

        for (var i = 0; i < accepted.Count; i++)
        {
            foreach (var error in RoleErrors(accepted[i]))
            {
                v.Add($"/acceptedResourceRoles({i})", error);
            }
        }

        var allowed = app.Role ?? AppDefaults.Role;
        if (accepted.Any(r => r != AppDefaults.Role && r != allowed))
        {
            v.Add("/acceptedResourceRoles", $"acceptedResourceRoles can only contain * and {allowed}");
        }
    }

    private static void ValidateMisc(AppDefinition app, Collector v)
    {
        if (!Constraint.FullMatch(app.Executor, ExecutorPattern))
        {
            v.Add("/executor", $"must fully match regular expression '{ExecutorPattern}'");
        }

        v.OneOf("/killSelection", app.KillSelection, KillSelections.All);

        if (app.UnreachableStrategy is { IsDisabled: false } unreachable)
        {
            if (unreachable.InactiveAfterSeconds < 0)
            {
                v.Add("/unreachableStrategy/inactiveAfterSeconds",
                    $"inactiveAfterSeconds ({unreachable.InactiveAfterSeconds}) must be greater than or equal to 0");
            }
            else if (unreachable.InactiveAfterSeconds > unreachable.ExpungeAfterSeconds)
            {
                v.Add("/unreachableStrategy/inactiveAfterSeconds",
                    $"inactiveAfterSeconds ({unreachable.InactiveAfterSeconds}) must be less or equal to expungeAfterSeconds, which is {unreachable.ExpungeAfterSeconds}");
            }
        }

        if (app.TaskKillGracePeriodSeconds is { } grace)
        {
            v.AtLeast("/taskKillGracePeriodSeconds", grace, 0);
        }

        // DatacenterOs addition.
        if (app.ProgressDeadlineSeconds is { } deadline)
        {
            v.MoreThan("/progressDeadlineSeconds", deadline, 0);
        }
    }

    // Marathon ResourceRole.validResourceRole.
    private static IEnumerable<string> RoleErrors(string role)
    {
        if (role.Length == 0)
        {
            yield return "A role name must not be \"\".";
            yield break;
        }

        if (role is "." or "..")
        {
            yield return $"A role name must not be \"{role}\".";
        }

        if (role.StartsWith('-'))
        {
            yield return "A role name must not start with a '-'.";
        }

        (char Char, string Name)[] forbidden =
        [
            ('\t', "horizontal tab (\\x09)"), ('\n', "line feed (\\x0a)"), ('\v', "vertical tab (\\x0b)"),
            ('\f', "form feed (\\x0c)"), ('\r', "carriage return (\\x0d)"), (' ', "space (\\x20)"),
            ('\u007f', "backspace (\\x7f)"),
        ];
        foreach (var (c, name) in forbidden)
        {
            if (role.Contains(c, StringComparison.Ordinal))
            {
                yield return $"A role name must not include a {name} character.";
            }
        }
    }

    // An approximation of java.net.URI's syntax check: no whitespace, control or excluded characters, well-formed
    // percent escapes, and a well-formed scheme when one is present.
    private static bool IsValidUri(string uri)
    {
        if (uri.Length == 0 || uri[0] == ':')
        {
            return false;
        }

        for (var i = 0; i < uri.Length; i++)
        {
            var c = uri[i];
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '<' or '>' or '\\' or '^' or '`' or '{' or '|' or '}')
            {
                return false;
            }

            if (c == '%' && (i + 2 >= uri.Length || !char.IsAsciiHexDigit(uri[i + 1]) || !char.IsAsciiHexDigit(uri[i + 2])))
            {
                return false;
            }
        }

        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        var slash = uri.IndexOf('/', StringComparison.Ordinal);
        if (colon > 0 && (slash < 0 || colon < slash))
        {
            var scheme = uri[..colon];
            return char.IsAsciiLetter(scheme[0]) && scheme.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '+' or '-' or '.');
        }

        return true;
    }

    private sealed class Collector
    {
        private readonly List<ValidationError> errors = [];
        private readonly HashSet<ValidationError> seen = [];

        public void Add(string path, string message)
        {
            var error = new ValidationError(path, message);
            if (seen.Add(error))
            {
                errors.Add(error);
            }
        }

        public void AtLeast(string path, int value, int minimum)
        {
            if (value < minimum)
            {
                Add(path, $"got {value}, expected {minimum} or more");
            }
        }

        public void AtLeast(string path, double value, double minimum)
        {
            if (!(value >= minimum))
            {
                Add(path, $"got {Format(value)}, expected {Format(minimum)} or more");
            }
        }

        public void MoreThan(string path, long value, long bound)
        {
            if (value <= bound)
            {
                Add(path, $"got {value}, expected more than {bound}");
            }
        }

        public void Between(string path, double value, double low, double high)
        {
            if (!(value >= low && value <= high))
            {
                Add(path, $"got {Format(value)}, expected between {Format(low)} and {Format(high)}");
            }
        }

        public void Between(string path, int value, int low, int high)
        {
            if (value < low || value > high)
            {
                Add(path, $"got {value}, expected between {low} and {high}");
            }
        }

        public void EqualTo(string path, double value, double expected)
        {
            if (value != expected)
            {
                Add(path, $"got {Format(value)}, expected {Format(expected)}");
            }
        }

        public void Port(string path, int port) => Between(path, port, 0, 65535);

        public void OneOf(string path, string value, IEnumerable<string> allowed)
        {
            var list = allowed.ToList();
            if (!list.Contains(value))
            {
                Add(path, $"must be one of {string.Join(", ", list)}");
            }
        }

        public void Feature(ValidationContext context, string feature, string path)
        {
            if (!context.IsEnabled(feature))
            {
                Add(path, $"Feature {feature} is not enabled. Enable with --enable_features {feature})");
            }
        }

        public ValidationResult ToResult() => errors.Count == 0 ? ValidationResult.Valid : new([.. errors]);

        // Scala prints doubles with at least one decimal ("1.0", "1.2", "0.001").
        private static string Format(double value) =>
            value == Math.Floor(value) && Math.Abs(value) < 1e15
                ? value.ToString("0.0", CultureInfo.InvariantCulture)
                : value.ToString("R", CultureInfo.InvariantCulture);
    }
}
