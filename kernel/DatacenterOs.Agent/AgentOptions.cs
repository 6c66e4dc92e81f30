namespace DatacenterOs.Agent;

/// <summary>
/// Configuration of one agent (Mesos <c>mesos-agent</c> flags). Units: cpus in cores, mem and disk in MiB.
/// </summary>
public sealed record AgentOptions
{
    /// <summary>Default work directory (Mesos <c>--work_dir</c>).</summary>
    public const string DefaultWorkDir = "./.dcos/agent";

    /// <summary>Default agent HTTP port (Mesos 5051).</summary>
    public const int DefaultPort = 5051;

    /// <summary>Work directory holding <c>meta/</c> (checkpoints) and <c>sandboxes/</c>.</summary>
    public string WorkDir { get; init; } = DefaultWorkDir;

    /// <summary>Master base URLs such as <c>http://10.0.0.1:5050</c>; tried in turn when (re)subscribing. Empty: run without a master.</summary>
    public IReadOnlyList<string> MasterUrls { get; init; } = [];

    /// <summary>Host name reported to the master and given to tasks as <c>HOST</c>; null: the machine's host name.</summary>
    public string? Hostname { get; init; }

    /// <summary>IP address to advertise; used as the host name when <see cref="Hostname"/> is not set.</summary>
    public string? AdvertiseIp { get; init; }

    /// <summary>Agent HTTP port (sandbox files, <c>/state</c>); 0 picks a free port when <see cref="ServeHttp"/> is on.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Address the agent's HTTP server listens on; null: all interfaces (<c>0.0.0.0</c>).</summary>
    public string? ListenAddress { get; init; }

    /// <summary>Whether <see cref="AgentRuntime"/> runs its own HTTP server on <see cref="Port"/>; off when the host maps the endpoints itself.</summary>
    public bool ServeHttp { get; init; } = true;

    /// <summary>
    /// Resource override in Mesos text form (<c>cpus:4;mem:4096;ports:[31000-32000];cpus(web):2</c>), including static
    /// reservations. Every resource name present replaces the detected value of that name.
    /// </summary>
    public string? ResourcesText { get; init; }

    /// <summary>Agent attributes (name → value), e.g. parsed from <c>rack:r1;zone:a</c> by <see cref="ParseAttributes"/>.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Shared secret sent with SUBSCRIBE when the master requires one.</summary>
    public string? Secret { get; init; }

    /// <summary>Memory kept back from tasks, in MiB; null: half of a machine under 2 GiB, otherwise 1 GiB.</summary>
    public double? MemoryReserveMiB { get; init; }

    /// <summary>Time between SIGTERM and SIGKILL when the task has no kill policy (Mesos 3 s).</summary>
    public TimeSpan DefaultKillGrace { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Parent cgroup (v1 memory hierarchy) under which each task gets a memory limit from its <c>mem</c>;
    /// null turns memory limits off. When it is not writable the agent logs one warning and runs without limits.
    /// </summary>
    public string? MemoryCgroupRoot { get; init; } = "/sys/fs/cgroup/memory/dcos";

    /// <summary>Run tasks whose container type is <c>DOCKER</c> through the Docker daemon at <see cref="DockerEndpoint"/>; off: such tasks get TASK_ERROR.</summary>
    public bool DockerEnabled { get; init; } = true;

    /// <summary>Docker Engine API endpoint: <c>unix:///var/run/docker.sock</c> (default) or <c>tcp://host:port</c>.</summary>
    public string DockerEndpoint { get; init; } = "unix:///var/run/docker.sock";

    /// <summary>Allow tasks to ask for privileged Docker containers (off: such tasks get TASK_ERROR).</summary>
    public bool DockerAllowPrivileged { get; init; }

    /// <summary>
    /// User tasks run as when the agent runs as root and the task names no <c>command.user</c> (dcosd passes
    /// <c>nobody</c>); null keeps them under the agent's own user. Ignored when the agent is not root (it cannot switch).
    /// </summary>
    public string? TaskUser { get; init; }

    /// <summary>Let a task whose <c>command.user</c> is <c>root</c> run as root (off: such tasks fail with TASK_ERROR).</summary>
    public bool AllowRootTasks { get; init; }

    /// <summary>How often the agent checks that the Docker daemon still answers (and advertises Docker or stops).</summary>
    public TimeSpan DockerProbeInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The host name to use: <see cref="Hostname"/>, else <see cref="AdvertiseIp"/>, else the machine name.</summary>
    public string EffectiveHostname =>
        !string.IsNullOrWhiteSpace(Hostname) ? Hostname : !string.IsNullOrWhiteSpace(AdvertiseIp) ? AdvertiseIp : Environment.MachineName;

    /// <summary>Parses Mesos attribute text <c>rack:r1;zone:a</c> into name → value (later duplicates win).</summary>
    /// <exception cref="FormatException">An entry has no <c>:</c> or an empty name.</exception>
    public static Dictionary<string, string> ParseAttributes(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text))
        {
            return result;
        }

        foreach (var raw in text.Split(';'))
        {
            var entry = raw.Trim();
            if (entry.Length == 0)
            {
                continue;
            }

            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new FormatException($"attribute '{entry}' is not of the form name:value");
            }

            result[entry[..colon].Trim()] = entry[(colon + 1)..].Trim();
        }

        return result;
    }
}
