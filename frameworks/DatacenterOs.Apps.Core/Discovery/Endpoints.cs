using System.Globalization;
using System.Text;

namespace DatacenterOs.Apps.Core.Discovery;

/// <summary>One instance of an app as discovery sees it (a snapshot taken by the shell under its lock).</summary>
public sealed record DiscoveryInstance
{
    /// <summary>Instance (Mesos task) id.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Agent host name, null while waiting for an offer.</summary>
    public string? Host { get; init; }

    /// <summary>The agent's IP when known (the offer's address, or the host name when it is an IP literal).</summary>
    public string? Ip { get; init; }

    /// <summary>Agent id.</summary>
    public string? AgentId { get; init; }

    /// <summary>Host ports in port order (port definitions, or the mappings that have a host port).</summary>
    public IReadOnlyList<long> Ports { get; init; } = [];

    /// <summary>Mesos task state (<c>TASK_RUNNING</c>, …), null while waiting for an offer.</summary>
    public string? State { get; init; }

    /// <summary>True when the task state is <c>TASK_RUNNING</c>.</summary>
    public bool Running { get; init; }

    /// <summary>Health reported by the app's first health check; null when unknown or unchecked.</summary>
    public bool? Healthy { get; init; }

    /// <summary>True while a kill is ordered (scale down, restart, API kill): it must leave load balancers first.</summary>
    public bool Decommissioned { get; init; }

    /// <summary>The app version the instance runs.</summary>
    public DateTimeOffset Version { get; init; }

    /// <summary>The instance's model state (<see cref="StateModels.ModelStates"/>), null when none.</summary>
    public string? ModelState { get; init; }
}

/// <summary>One named port of an endpoint.</summary>
/// <param name="Name">The port's name in the app (<c>portDefinitions[i].name</c> or the mapping's), or <c>port{i}</c>.</param>
/// <param name="Port">Host port.</param>
/// <param name="Protocol"><c>tcp</c>, <c>udp</c> or both.</param>
/// <param name="ServicePort">The app's service port for this index (0 when none).</param>
public sealed record EndpointPort(string Name, long Port, string Protocol, int ServicePort);

/// <summary>A live endpoint: an instance that should receive traffic.</summary>
public sealed record Endpoint
{
    /// <summary>Instance (task) id.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Agent host name.</summary>
    public required string Host { get; init; }

    /// <summary>IP to connect to (the host name when no IP is known).</summary>
    public required string Ip { get; init; }

    /// <summary>Agent id.</summary>
    public string? AgentId { get; init; }

    /// <summary>Ports in port order, each with its name.</summary>
    public required IReadOnlyList<EndpointPort> Ports { get; init; }

    /// <summary>Mesos task state (always <c>TASK_RUNNING</c> for an endpoint).</summary>
    public required string State { get; init; }

    /// <summary>Health (null when the app has no health check).</summary>
    public bool? Healthy { get; init; }

    /// <summary>App version the instance runs.</summary>
    public DateTimeOffset Version { get; init; }

    /// <summary>Model state (<c>ONLINE</c>, <c>LEADER</c>, <c>STANDBY</c>).</summary>
    public string? ModelState { get; init; }
}

/// <summary>
/// Decides which instances are live endpoints (Helix's spectator view / Mesos-DNS records): a pure function of the app
/// and a snapshot of its instances. An instance is an endpoint while its task is <c>TASK_RUNNING</c>, it is healthy
/// when the app has health checks, and no kill is ordered for it (so load balancers drop it before it stops).
/// </summary>
public static class EndpointSelector
{
    /// <summary>True when <paramref name="instance"/> should receive traffic.</summary>
    public static bool IsLive(AppDefinition app, DiscoveryInstance instance)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(instance);
        return instance.Running
            && !instance.Decommissioned
            && instance.Host is not null
            && (app.HealthChecks.Count == 0 || instance.Healthy == true);
    }

    /// <summary>The app's endpoints, ordered by instance id.</summary>
    public static IReadOnlyList<Endpoint> Select(AppDefinition app, IEnumerable<DiscoveryInstance> instances)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(instances);
        var names = PortNames(app);
        return [.. instances
            .Where(i => IsLive(app, i))
            .OrderBy(i => i.InstanceId, StringComparer.Ordinal)
            .Select(i => new Endpoint
            {
                InstanceId = i.InstanceId,
                Host = i.Host!,
                Ip = i.Ip ?? i.Host!,
                AgentId = i.AgentId,
                Ports = [.. i.Ports.Select((p, index) => index < names.Count
                    ? names[index] with { Port = p }
                    : new EndpointPort("port" + index.ToString(CultureInfo.InvariantCulture), p, PortProtocols.Tcp, 0))],
                State = i.State!,
                Healthy = app.HealthChecks.Count == 0 ? null : i.Healthy,
                Version = i.Version,
                ModelState = i.ModelState,
            })];
    }

    /// <summary>The app's ports in index order: name (<c>port{i}</c> when unnamed), protocol and service port.</summary>
    public static IReadOnlyList<EndpointPort> PortNames(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.Container?.PortMappings is { Count: > 0 } mappings)
        {
            return [.. mappings.Where(m => m.HostPort is not null).Select((m, i) => new EndpointPort(m.Name ?? "port" + i.ToString(CultureInfo.InvariantCulture), 0, m.Protocol, m.ServicePort))];
        }

        return [.. (app.PortDefinitions ?? []).Select((d, i) => new EndpointPort(d.Name ?? "port" + i.ToString(CultureInfo.InvariantCulture), 0, d.Protocol, d.Port))];
    }
}

/// <summary>One record of Mesos-DNS's HTTP API (<c>GET /v1/services/{service}</c>): every field a string.</summary>
/// <param name="Service">The service name asked for, e.g. <c>_web._tcp.marathon.mesos</c>.</param>
/// <param name="Host">Host name of the instance (<c>{app}-{instance}.{framework}.mesos.</c> in Mesos-DNS; the agent here).</param>
/// <param name="Ip">Its IP.</param>
/// <param name="Port">Its port, as a string (Mesos-DNS's shape).</param>
public sealed record MesosDnsRecord(string Service, string Host, string Ip, string Port);

/// <summary>
/// Mesos-DNS naming (<c>mesos-dns/records/generator.go</c>): an app <c>/prod/web</c> is the label <c>web-prod</c>
/// (segments reversed, joined by <c>-</c>, as Marathon's task name <c>web.prod</c> with dots made dashes), its SRV
/// names are <c>_web-prod._tcp.marathon.mesos</c> (every port) and, here, <c>_{portName}._tcp.web-prod[.marathon.mesos]</c>
/// (one named port). The trailing dot, and a <c>{framework}.mesos</c> domain, are optional when asking.
/// </summary>
public static class MesosDnsNames
{
    /// <summary>The DNS label of an app (<c>/prod/web</c> → <c>web-prod</c>).</summary>
    public static string AppLabel(PathId id)
    {
        ArgumentNullException.ThrowIfNull(id);
        var label = string.Join('-', id.Segments.Reverse()).ToLowerInvariant();
        var sb = new StringBuilder(label.Length);
        foreach (var c in label)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '-');
        }

        return sb.ToString();
    }

    /// <summary>A parsed service name.</summary>
    /// <param name="AppLabel">The app's label (<see cref="AppLabel"/>).</param>
    /// <param name="PortName">The port name asked for, or null for every port.</param>
    /// <param name="Protocol"><c>tcp</c> or <c>udp</c>.</param>
    public sealed record ServiceName(string AppLabel, string? PortName, string Protocol);

    /// <summary>
    /// Parses <c>_{port}._{tcp|udp}.{app}[.{framework}.mesos][.]</c> or <c>_{app}._{tcp|udp}[.{framework}.mesos][.]</c>;
    /// null when the name has neither form.
    /// </summary>
    public static ServiceName? Parse(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        var name = service.TrimEnd('.').ToLowerInvariant();
        if (name.EndsWith(".mesos", StringComparison.Ordinal))
        {
            name = name[..^".mesos".Length];
            var dot = name.LastIndexOf('.');
            name = dot < 0 ? "" : name[..dot]; // drop the framework label ("marathon", "apps")
            if (dot < 0)
            {
                return null;
            }
        }

        var labels = name.Split('.');
        if (labels.Length < 2 || labels[0].Length < 2 || labels[0][0] != '_' || labels[1] is not ("_tcp" or "_udp"))
        {
            return null;
        }

        var protocol = labels[1][1..];
        return labels.Length == 2
            ? new ServiceName(labels[0][1..], null, protocol)
            : new ServiceName(string.Join('.', labels[2..]), labels[0][1..], protocol);
    }

    /// <summary>
    /// The Mesos-DNS records for <paramref name="service"/> over <paramref name="endpoints"/> of the app it names:
    /// one per endpoint and matching port (protocol included). Empty when nothing matches; Mesos-DNS then answers
    /// <c>[{"service":"","host":"","ip":"","port":""}]</c>, which <see cref="NotFound"/> is.
    /// </summary>
    public static IReadOnlyList<MesosDnsRecord> Records(string service, ServiceName name, IReadOnlyList<Endpoint> endpoints)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(endpoints);
        var records = new List<MesosDnsRecord>();
        foreach (var e in endpoints)
        {
            foreach (var p in e.Ports)
            {
                if ((name.PortName is null || string.Equals(p.Name, name.PortName, StringComparison.OrdinalIgnoreCase))
                    && p.Protocol.Split(',').Contains(name.Protocol, StringComparer.Ordinal))
                {
                    records.Add(new MesosDnsRecord(service, e.Host, e.Ip, p.Port.ToString(CultureInfo.InvariantCulture)));
                }
            }
        }

        return records;
    }

    /// <summary>Mesos-DNS's answer for a name without records.</summary>
    public static MesosDnsRecord NotFound { get; } = new("", "", "", "");
}
