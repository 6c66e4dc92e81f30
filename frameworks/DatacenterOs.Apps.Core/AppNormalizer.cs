namespace DatacenterOs.Apps.Core;

/// <summary>Settings of <see cref="AppNormalizer"/> (Marathon <c>AppNormalization.Config</c>).</summary>
public sealed record NormalizationContext
{
    /// <summary>The defaults: apps resolved against the root group, role <c>*</c>, no default container network.</summary>
    public static NormalizationContext Default { get; } = new();

    /// <summary>Group relative ids are resolved against (the enclosing group of a group update; the root for <c>/v2/apps</c>).</summary>
    public PathId BaseGroup { get; init; } = PathId.Root;

    /// <summary>Role for apps that name none (the enclosing top-level group's role, else <c>--mesos_role</c>).</summary>
    public string DefaultRole { get; init; } = AppDefaults.Role;

    /// <summary>Name given to <c>container</c>-mode networks without one (<c>--default_network_name</c>).</summary>
    public string? DefaultNetworkName { get; init; }
}

/// <summary>
/// Applies Marathon's app normalization (<c>AppNormalization.forDeprecated</c> + <c>apply</c>): translates deprecated
/// fields, canonicalizes the id and dependencies, and fills in the defaults that depend on other fields. Pure and
/// idempotent; run it before <see cref="AppValidator"/>. Inputs that normalization cannot sensibly resolve (e.g. both
/// <c>ports</c> and different <c>portDefinitions</c>, an id with a trailing slash) are left as they are so that the
/// validator reports them.
/// </summary>
public static class AppNormalizer
{
    /// <summary>The default network list, <c>[{"mode":"host"}]</c>.</summary>
    public static ValueList<Network> DefaultNetworks { get; } = [new Network { Mode = NetworkModes.Host }];

    /// <summary>The default port definitions, <c>[{"port":0,"protocol":"tcp","name":"default"}]</c>.</summary>
    public static ValueList<PortDefinition> DefaultPortDefinitions { get; } =
        [new PortDefinition { Port = AppDefaults.RandomPort, Name = AppDefaults.DefaultPortName }];

    /// <summary>The default port mappings of non-host networking, <c>[{"containerPort":0,"name":"default"}]</c>.</summary>
    public static ValueList<ContainerPortMapping> DefaultPortMappings { get; } =
        [new ContainerPortMapping { Name = AppDefaults.DefaultPortName }];

    /// <summary>Returns <paramref name="app"/> in canonical form with defaults applied.</summary>
    public static AppDefinition Normalize(AppDefinition app, NormalizationContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        context ??= NormalizationContext.Default;

        var id = CanonicalId(app.Id, context.BaseGroup);
        var parentGroup = PathId.IsValid(id) && id.StartsWith('/') ? PathId.Parse(id).Parent : context.BaseGroup;

        var (networks, container) = NormalizeNetworks(app, context);
        var hostNetworking = networks.All(n => n.Mode == NetworkModes.Host);
        var bridged = networks.Any(n => n.Mode == NetworkModes.ContainerBridge);

        // Ports: deprecated `ports` become port definitions unless both are given and differ (the validator says so).
        var portDefinitions = app.PortDefinitions;
        var ports = app.Ports;
        if (ports is not null && (portDefinitions is null || portDefinitions.Select(p => p.Port).SequenceEqual(ports)))
        {
            portDefinitions ??= ports.Select(p => new PortDefinition { Port = p }).ToValueList();
            ports = null;
        }

        var declaredPortDefinitions = portDefinitions;
        portDefinitions = hostNetworking
            ? (portDefinitions ?? DefaultPortDefinitions).Select(NormalizePortDefinition).ToValueList()
            : null;

        container = container is null ? null : NormalizeContainer(container, networks, hostNetworking, bridged, declaredPortDefinitions);

        // Fetch: deprecated `uris` become artifacts unless both are given (the validator says so).
        var fetch = app.Fetch;
        var uris = app.Uris;
        if (uris is not null && (uris.IsEmpty || fetch.IsEmpty))
        {
            if (!uris.IsEmpty)
            {
                fetch = uris.Select(u => new FetchUri { Uri = u, Extract = FetchUri.IsExtract(u) }).ToValueList();
            }

            uris = null;
        }

        var normalized = app with
        {
            Id = id,
            Dependencies = app.Dependencies.Select(d => CanonicalId(d, parentGroup)).ToValueList(),
            Networks = networks,
            Container = container,
            PortDefinitions = portDefinitions,
            Ports = ports,
            RequirePorts = hostNetworking && app.RequirePorts,
            Fetch = fetch,
            Uris = uris,
            KillSelection = Canonical(app.KillSelection, KillSelections.All),
            Role = app.Role ?? context.DefaultRole,
            ReadinessChecks = app.ReadinessChecks.Select(NormalizeReadinessCheck).ToValueList(),
            Constraints = app.Constraints.Select(NormalizeConstraint).ToValueList(),
        };

        var resident = normalized.IsResident;
        var hasPorts = normalized.PortCount > 0;
        return normalized with
        {
            HealthChecks = app.HealthChecks.Select(h => NormalizeHealthCheck(h, hasPorts)).ToValueList(),
            UpgradeStrategy = app.UpgradeStrategy ?? DefaultUpgradeStrategy(normalized),
            UnreachableStrategy = app.UnreachableStrategy ?? UnreachableStrategy.DefaultFor(resident),
        };
    }

    /// <summary>
    /// The upgrade strategy of an app that names none: <c>{0.5, 0}</c> for resident apps
    /// (<c>UpgradeStrategy.forResidentTasks</c>), <c>{0, 0}</c> for single-instance apps (the only strategy their label
    /// allows), else <c>{1, 1}</c>.
    /// </summary>
    public static UpgradeStrategy DefaultUpgradeStrategy(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.IsResident ? UpgradeStrategy.ForResidentTasks
            : app.IsSingleInstance ? new UpgradeStrategy { MinimumHealthCapacity = 0, MaximumOverCapacity = 0 }
            : UpgradeStrategy.Default;
    }

    /// <summary>
    /// Canonical absolute form of a raw id relative to <paramref name="baseGroup"/>; ids with a trailing slash or empty
    /// segments are returned unchanged (the validator rejects them).
    /// </summary>
    public static string CanonicalId(string raw, PathId baseGroup)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(baseGroup);
        if (raw.Length == 0 || raw == "/" || (raw.Length > 1 && raw.EndsWith('/')) || raw.Contains("//", StringComparison.Ordinal))
        {
            return raw;
        }

        return PathId.Parse(raw).Canonicalize(baseGroup).ToString();
    }

    private static (ValueList<Network> Networks, AppContainer? Container) NormalizeNetworks(AppDefinition app, NormalizationContext context)
    {
        var container = app.Container;
        var networks = app.Networks;
        var dockerNetwork = container?.Docker?.Network?.ToUpperInvariant();

        // Deprecated container.docker.network (NetworkTranslation): only when `networks` is not given, and only for the
        // translatable modes; anything else stays for the validator to report.
        if (networks.IsEmpty && dockerNetwork is DockerNetworks.Host or DockerNetworks.Bridge or DockerNetworks.User)
        {
            networks = dockerNetwork switch
            {
                DockerNetworks.Host => [new Network { Mode = NetworkModes.Host }],
                DockerNetworks.Bridge => [new Network { Mode = NetworkModes.ContainerBridge }],
                _ => [new Network { Mode = NetworkModes.Container }],
            };
            container = container! with { Docker = container.Docker! with { Network = null } };
        }
        else if (dockerNetwork is not null && container!.Docker!.Network != dockerNetwork)
        {
            container = container with { Docker = container.Docker with { Network = dockerNetwork } };
        }

        if (networks.IsEmpty)
        {
            networks = DefaultNetworks;
        }

        networks = networks.Select(n =>
        {
            var mode = Canonical(n.Mode, NetworkModes.All);
            var name = mode == NetworkModes.Container ? n.Name ?? context.DefaultNetworkName : n.Name;
            return n with { Mode = mode, Name = name };
        }).ToValueList();

        // Non-host networking without a container implies an empty Mesos container (NetworkedContainer.maybeDefaultContainer).
        if (container is null && networks.Any(n => n.Mode != NetworkModes.Host))
        {
            container = new AppContainer { Type = ContainerTypes.Mesos };
        }

        return (networks, container);
    }

    private static AppContainer NormalizeContainer(
        AppContainer container,
        ValueList<Network> networks,
        bool hostNetworking,
        bool bridged,
        ValueList<PortDefinition>? declaredPortDefinitions)
    {
        var portMappings = container.PortMappings;
        var docker = container.Docker;

        // Deprecated container.docker.portMappings move to container.portMappings (migrateDockerPortMappings).
        if (docker?.PortMappings is { } dockerMappings)
        {
            if (portMappings is null || portMappings.IsEmpty)
            {
                portMappings = dockerMappings;
                docker = docker with { PortMappings = null };
            }
            else if (dockerMappings.IsEmpty)
            {
                docker = docker with { PortMappings = null };
            }
        }

        if (hostNetworking)
        {
            // maybeDropPortMappings: port mappings mean nothing on host networking.
            portMappings = null;
        }
        else
        {
            // applyDefaultPortMappings, then maybeAddPortMappings (one mapping per declared port definition).
            if (portMappings is null || portMappings.IsEmpty)
            {
                portMappings = DefaultPortMappings;
            }

            var missing = (declaredPortDefinitions?.Count ?? 0) - portMappings.Count;
            for (var i = 0; i < missing; i++)
            {
                portMappings = portMappings.Add(new ContainerPortMapping());
            }

            portMappings = portMappings.Select(m => m with
            {
                Protocol = Canonical(m.Protocol, PortProtocols.All),

                // Backwards compatibility: in bridge mode a missing host port means "any" (0).
                HostPort = bridged ? m.HostPort ?? 0 : m.HostPort,
            }).ToValueList();
        }

        return container with
        {
            Type = Canonical(container.Type, ContainerTypes.All),
            Docker = docker,
            PortMappings = portMappings,
            Volumes = container.Volumes.Select(v => v with
            {
                Mode = v.Mode is null ? VolumeModes.ReadWrite : Canonical(v.Mode, VolumeModes.All),
                Persistent = v.Persistent is null ? null : v.Persistent with { Type = Canonical(v.Persistent.Type, PersistentVolumeTypes.All) },
            }).ToValueList(),
        };
    }

    private static PortDefinition NormalizePortDefinition(PortDefinition p) =>
        p with { Protocol = Canonical(p.Protocol, PortProtocols.All) };

    private static HealthCheck NormalizeHealthCheck(HealthCheck check, bool appHasPorts)
    {
        var protocol = Canonical(check.Protocol, HealthCheckProtocols.All);
        var portIndex = check.PortIndex;

        // normalizeHealthChecks: re-add the historical portIndex default 0 when neither port nor portIndex is given.
        if (HealthCheckProtocols.UsesPort(protocol) && check.Port is null && portIndex is null && appHasPorts)
        {
            portIndex = 0;
        }

        var ignoreHttp1xx = protocol is HealthCheckProtocols.Http or HealthCheckProtocols.Https
            ? check.IgnoreHttp1xx ?? false
            : check.IgnoreHttp1xx;
        return check with { Protocol = protocol, PortIndex = portIndex, IgnoreHttp1xx = ignoreHttp1xx };
    }

    private static ReadinessCheck NormalizeReadinessCheck(ReadinessCheck check) => check with
    {
        Protocol = Canonical(check.Protocol, ReadinessCheckProtocols.All),
        HttpStatusCodesForReady = check.HttpStatusCodesForReady.IsEmpty ? [200] : check.HttpStatusCodesForReady,
    };

    // Operators are case-insensitive; store them as Marathon prints them.
    private static ValueList<string> NormalizeConstraint(ValueList<string> raw) =>
        raw.Count >= 2 && Constraint.TryParseOperator(raw[1], out var op) && raw[1] != Constraint.OperatorName(op)
            ? raw.SetItem(1, Constraint.OperatorName(op))
            : raw;

    // Enumerations are case-insensitive in Marathon; known values are stored in their canonical spelling, unknown ones
    // are kept for the validator.
    private static string Canonical(string value, IEnumerable<string> known) =>
        known.FirstOrDefault(k => string.Equals(k, value, StringComparison.OrdinalIgnoreCase)) ?? value;
}
