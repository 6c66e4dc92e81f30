using System.Collections.Immutable;

namespace DatacenterOs.Apps.Core;

/// <summary>
/// Marathon's app defaults (RAML <c>types/app.raml</c>, <c>AppNormalization</c>, <c>state/AppDefinition.scala</c>).
/// Where the RAML and the Scala code disagree the code wins (e.g. <see cref="MaxLaunchDelaySeconds"/> is 300 since
/// Marathon PR #6686; the RAML still says 3600).
/// </summary>
public static class AppDefaults
{
    /// <summary><c>instances</c>: 1.</summary>
    public const int Instances = 1;

    /// <summary><c>cpus</c>: 1.</summary>
    public const double Cpus = 1;

    /// <summary>RAML minimum of <c>cpus</c>: 0.001.</summary>
    public const double MinimumCpus = 0.001;

    /// <summary><c>mem</c> (MiB): 128.</summary>
    public const double Mem = 128;

    /// <summary><c>disk</c> (MiB): 0.</summary>
    public const double Disk = 0;

    /// <summary><c>gpus</c>: 0.</summary>
    public const int Gpus = 0;

    /// <summary><c>executor</c>: empty (the command executor).</summary>
    public const string Executor = "";

    /// <summary><c>backoffSeconds</c>: 1.</summary>
    public const int BackoffSeconds = 1;

    /// <summary><c>backoffFactor</c>: 1.15.</summary>
    public const double BackoffFactor = 1.15;

    /// <summary><c>maxLaunchDelaySeconds</c>: 300 (Marathon PR #6686 lowered it from 3600 in 2018).</summary>
    public const int MaxLaunchDelaySeconds = 300;

    /// <summary><c>killSelection</c>: <c>YOUNGEST_FIRST</c>.</summary>
    public const string KillSelection = KillSelections.YoungestFirst;

    /// <summary>The role used when an app names none and no group role applies (Marathon <c>--mesos_role</c> default).</summary>
    public const string Role = "*";

    /// <summary>The port Marathon replaces by a cluster-unique service port (<c>AppDefinition.RandomPortValue</c>).</summary>
    public const int RandomPort = 0;

    /// <summary>Name of the default port definition / port mapping (<c>Apps.DefaultPortDefinitions</c>).</summary>
    public const string DefaultPortName = "default";

    /// <summary>Label that makes an app single-instance (<c>MARATHON_SINGLE_INSTANCE_APP=true</c>).</summary>
    public const string SingleInstanceAppLabel = "MARATHON_SINGLE_INSTANCE_APP";

    /// <summary>DC/OS migration API label (requires the two below).</summary>
    public const string DcosMigrationApiVersionLabel = "DCOS_MIGRATION_API_VERSION";

    /// <summary>DC/OS package framework-name label.</summary>
    public const string DcosPackageFrameworkNameLabel = "DCOS_PACKAGE_FRAMEWORK_NAME";

    /// <summary>DC/OS migration API path label.</summary>
    public const string DcosMigrationApiPathLabel = "DCOS_MIGRATION_API_PATH";
}

/// <summary>Health-check protocols (RAML <c>AppHealthCheckProtocol</c>).</summary>
public static class HealthCheckProtocols
{
    /// <summary>HTTP probe by the scheduler (Marathon-level).</summary>
    public const string Http = "HTTP";

    /// <summary>HTTPS probe by the scheduler (Marathon-level).</summary>
    public const string Https = "HTTPS";

    /// <summary>TCP connect by the scheduler (Marathon-level).</summary>
    public const string Tcp = "TCP";

    /// <summary>Command run next to the task (Mesos-level).</summary>
    public const string Command = "COMMAND";

    /// <summary>HTTP probe by the executor (Mesos-level).</summary>
    public const string MesosHttp = "MESOS_HTTP";

    /// <summary>HTTPS probe by the executor (Mesos-level).</summary>
    public const string MesosHttps = "MESOS_HTTPS";

    /// <summary>TCP connect by the executor (Mesos-level).</summary>
    public const string MesosTcp = "MESOS_TCP";

    /// <summary>All protocols, in Marathon's order.</summary>
    public static readonly ImmutableArray<string> All = [Http, Https, Tcp, Command, MesosHttp, MesosHttps, MesosTcp];

    /// <summary>True for the protocols the scheduler itself executes (HTTP, HTTPS, TCP).</summary>
    public static bool IsMarathonLevel(string protocol) => protocol is Http or Https or Tcp;

    /// <summary>True for the protocols executed on the agent (COMMAND and MESOS_*).</summary>
    public static bool IsMesosLevel(string protocol) => protocol is Command or MesosHttp or MesosHttps or MesosTcp;

    /// <summary>True for the protocols that probe a port (all but COMMAND).</summary>
    public static bool UsesPort(string protocol) => protocol is not Command;

    /// <summary>True for the HTTP-like protocols that take a <c>path</c>.</summary>
    public static bool IsHttp(string protocol) => protocol is Http or Https or MesosHttp or MesosHttps;
}

/// <summary>Container engines (RAML <c>EngineType</c>).</summary>
public static class ContainerTypes
{
    /// <summary>The Docker containerizer (Marathon's default when <c>type</c> is omitted).</summary>
    public const string Docker = "DOCKER";

    /// <summary>The Mesos (universal) containerizer.</summary>
    public const string Mesos = "MESOS";

    /// <summary>All types.</summary>
    public static readonly ImmutableArray<string> All = [Docker, Mesos];
}

/// <summary>Deprecated <c>container.docker.network</c> values (RAML <c>DockerNetwork</c>).</summary>
public static class DockerNetworks
{
    /// <summary>Host networking.</summary>
    public const string Host = "HOST";

    /// <summary>Docker bridge networking.</summary>
    public const string Bridge = "BRIDGE";

    /// <summary>A user-defined (CNI) network.</summary>
    public const string User = "USER";

    /// <summary>No network (not translatable to <c>networks</c>).</summary>
    public const string None = "NONE";

    /// <summary>All values.</summary>
    public static readonly ImmutableArray<string> All = [Bridge, Host, None, User];
}

/// <summary>Network modes of <c>networks[].mode</c> (RAML <c>NetworkMode</c>).</summary>
public static class NetworkModes
{
    /// <summary>Host networking (the default network).</summary>
    public const string Host = "host";

    /// <summary>A named container network.</summary>
    public const string Container = "container";

    /// <summary>The container bridge network.</summary>
    public const string ContainerBridge = "container/bridge";

    /// <summary>All modes.</summary>
    public static readonly ImmutableArray<string> All = [Host, Container, ContainerBridge];
}

/// <summary>Volume access modes (RAML <c>ReadMode</c>).</summary>
public static class VolumeModes
{
    /// <summary>Read-only.</summary>
    public const string ReadOnly = "RO";

    /// <summary>Read-write (the default).</summary>
    public const string ReadWrite = "RW";

    /// <summary>All modes.</summary>
    public static readonly ImmutableArray<string> All = [ReadOnly, ReadWrite];
}

/// <summary>Persistent volume types (RAML <c>PersistentVolumeType</c>).</summary>
public static class PersistentVolumeTypes
{
    /// <summary>A directory on the agent's root disk (the default).</summary>
    public const string Root = "root";

    /// <summary>A path disk.</summary>
    public const string Path = "path";

    /// <summary>A mount disk (the only type that may have <c>maxSize</c>).</summary>
    public const string Mount = "mount";

    /// <summary>All types.</summary>
    public static readonly ImmutableArray<string> All = [Root, Path, Mount];
}

/// <summary>Which instances go first when scaling down (RAML <c>KillSelection</c>).</summary>
public static class KillSelections
{
    /// <summary>Kill the most recently started instances first (the default).</summary>
    public const string YoungestFirst = "YOUNGEST_FIRST";

    /// <summary>Kill the oldest instances first.</summary>
    public const string OldestFirst = "OLDEST_FIRST";

    /// <summary>All values.</summary>
    public static readonly ImmutableArray<string> All = [YoungestFirst, OldestFirst];
}

/// <summary>Port protocols (RAML <c>NetworkProtocol</c>).</summary>
public static class PortProtocols
{
    /// <summary>TCP (the default).</summary>
    public const string Tcp = "tcp";

    /// <summary>UDP.</summary>
    public const string Udp = "udp";

    /// <summary>All values (both orders of the combined form are accepted, as Marathon does).</summary>
    public static readonly ImmutableArray<string> All = [Tcp, Udp, "udp,tcp", "tcp,udp"];
}

/// <summary>Protocols of readiness checks (RAML <c>HttpScheme</c>).</summary>
public static class ReadinessCheckProtocols
{
    /// <summary>HTTP (the default).</summary>
    public const string Http = "HTTP";

    /// <summary>HTTPS.</summary>
    public const string Https = "HTTPS";

    /// <summary>All values.</summary>
    public static readonly ImmutableArray<string> All = [Http, Https];
}
