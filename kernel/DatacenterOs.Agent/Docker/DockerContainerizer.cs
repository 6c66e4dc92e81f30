using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent.Docker;

/// <summary>
/// Runs tasks whose container type is <c>DOCKER</c> as Docker containers through the Docker Engine API. Each run gets
/// a sandbox like a process task (<c>stdout</c> and <c>stderr</c> hold the container's output, streamed from the
/// daemon; the sandbox is mounted at <c>/mnt/mesos/sandbox</c>). Containers carry labels
/// (<see cref="LabelTaskId"/>, <see cref="LabelAgentId"/>, <see cref="LabelWorkDir"/>, …) so a restarted agent
/// re-adopts its containers and removes the ones no task claims. Resource limits are Docker's: <c>mem</c> becomes a
/// hard memory limit (exceeding it: TASK_FAILED with <c>REASON_CONTAINER_LIMITATION_MEMORY</c>), <c>cpus</c> CPU shares
/// and a CFS quota. Disposing leaves containers running.
/// </summary>
public sealed partial class DockerContainerizer : IDisposable
{
    /// <summary>Label holding the task id.</summary>
    public const string LabelTaskId = "dcos.task_id";

    /// <summary>Label holding the framework id.</summary>
    public const string LabelFrameworkId = "dcos.framework_id";

    /// <summary>Label holding the agent id.</summary>
    public const string LabelAgentId = "dcos.agent_id";

    /// <summary>Label holding the agent's absolute work directory: which agent on the host owns the container.</summary>
    public const string LabelWorkDir = "dcos.work_dir";

    /// <summary>Label holding the run id (the sandbox).</summary>
    public const string LabelRunId = "dcos.run_id";

    /// <summary>Where the sandbox is mounted inside the container (as Mesos does).</summary>
    public const string SandboxMountPoint = "/mnt/mesos/sandbox";

    private static readonly string[] OutputFiles = ["stdout", "stderr"];

    private readonly AgentOptions _options;
    private readonly AgentPaths _paths;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Framework, string Task), TaskContainer> _containers = new();
    private readonly CancellationTokenSource _disposed = new();
    private int _available = -1; // -1 unknown, 0 no, 1 yes

    /// <summary>Creates a containerizer on <see cref="AgentOptions.WorkDir"/> talking to <see cref="AgentOptions.DockerEndpoint"/>.</summary>
    /// <exception cref="ArgumentException">The endpoint is malformed.</exception>
    public DockerContainerizer(AgentOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _paths = new AgentPaths(options.WorkDir);
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        Client = new DockerClient(options.DockerEndpoint);
    }

    /// <summary>The Docker Engine API client.</summary>
    public DockerClient Client { get; }

    /// <summary>Supplies the agent id for the <see cref="LabelAgentId"/> label (null before the first subscription).</summary>
    public Func<string?> AgentId { get; init; } = () => null;

    /// <summary>True when the last probe reached the daemon.</summary>
    public bool IsAvailable => Volatile.Read(ref _available) == 1;

    /// <summary>Daemon version found by the last successful probe, e.g. <c>20.10.24</c>.</summary>
    public string? DaemonVersion { get; private set; }

    /// <summary>Containers known to this instance (launched or recovered), including ended ones not yet forgotten.</summary>
    public IReadOnlyCollection<TaskContainer> Containers => [.. _containers.Values];

    /// <summary>The container of a task, or null.</summary>
    public TaskContainer? Find(string frameworkId, string taskId) => _containers.GetValueOrDefault((frameworkId, taskId));

    /// <summary>Checks the daemon (<c>/_ping</c>, then <c>/version</c> the first time); returns true when availability changed.</summary>
    public async Task<bool> ProbeAsync(CancellationToken cancellationToken = default)
    {
        var up = await Client.PingAsync(cancellationToken).ConfigureAwait(false);
        if (up && DaemonVersion is null)
        {
            try
            {
                DaemonVersion = (await Client.VersionAsync(cancellationToken).ConfigureAwait(false)).Version;
            }
            catch (DockerException)
            {
                up = false;
            }
        }

        var previous = Interlocked.Exchange(ref _available, up ? 1 : 0);
        if (previous != (up ? 1 : 0))
        {
            if (up)
            {
                LogDaemonUp(Client.Endpoint, DaemonVersion ?? "?");
            }
            else
            {
                LogDaemonDown(Client.Endpoint);
            }

            return true;
        }

        return false;
    }

    /// <summary>
    /// Launches <paramref name="task"/> in a Docker container: pulls the image when the daemon lacks it (or when
    /// <c>force_pull_image</c>), creates the container with the task's command, environment, limits, ports and volumes,
    /// starts it and streams its output into the sandbox.
    /// </summary>
    /// <exception cref="ContainerLaunchException">
    /// The task is invalid or Docker is not available (<see cref="ContainerLaunchException.TaskState"/> TASK_ERROR), or the
    /// image is not found / the container did not start (TASK_FAILED).
    /// </exception>
    public async Task<TaskContainer> LaunchAsync(IdDto frameworkId, string role, TaskInfoDto task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frameworkId);
        ArgumentNullException.ThrowIfNull(task);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var taskId = task.TaskId?.Value ?? "";
        if ((IdValidation.Problem(frameworkId.Value) ?? IdValidation.Problem(taskId)) is { } idProblem)
        {
            throw new ContainerLaunchException($"task id '{taskId}' {idProblem}", ContainerLaunchException.ReasonTaskInvalid);
        }

        var docker = task.Container?.Docker;
        if (docker is null || string.IsNullOrWhiteSpace(docker.Image))
        {
            throw new ContainerLaunchException("container.docker.image is required for a DOCKER container", ContainerLaunchException.ReasonTaskInvalid);
        }

        if (task.HealthCheck is { } healthCheck && TaskHealthChecker.Problem(healthCheck) is { } healthProblem)
        {
            throw new ContainerLaunchException("invalid health check: " + healthProblem, ContainerLaunchException.ReasonTaskInvalid);
        }

        var key = (frameworkId.Value, taskId);
        if (_containers.TryGetValue(key, out var existing) && !existing.Termination.IsCompleted)
        {
            throw new ContainerLaunchException($"task '{taskId}' of framework '{frameworkId.Value}' is already running", ContainerLaunchException.ReasonTaskInvalid);
        }

        if (!IsAvailable)
        {
            await ProbeAsync(cancellationToken).ConfigureAwait(false);
            if (!IsAvailable)
            {
                throw new ContainerLaunchException($"Docker is not available on this agent (daemon at {Client.Endpoint} does not answer)") { IsError = true };
            }
        }

        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var taskDir = _paths.TaskSandboxDir(frameworkId.Value, taskId);
        var sandbox = Path.Combine(taskDir, runId);
        DockerCreateContainer body;
        try
        {
            body = BuildCreateRequest(frameworkId.Value, task, runId, sandbox);
        }
        catch (ArgumentException e)
        {
            throw new ContainerLaunchException(e.Message, ContainerLaunchException.ReasonTaskInvalid);
        }

        try
        {
            Directory.CreateDirectory(sandbox);
            File.WriteAllBytes(Path.Combine(sandbox, "stdout"), []);
            File.WriteAllBytes(Path.Combine(sandbox, "stderr"), []);
            PointLatestAt(taskDir, runId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ContainerLaunchException($"Failed to create the sandbox of task '{taskId}': {e.Message}", e);
        }

        await EnsureImageAsync(docker.Image, docker.ForcePullImage ?? false, cancellationToken).ConfigureAwait(false);

        string id;
        try
        {
            id = await Client.CreateContainerAsync(ContainerName(taskId, runId), body, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e)
        {
            throw LaunchFailure(e, docker.Image, "create the container");
        }

        try
        {
            await Client.StartContainerAsync(id, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e)
        {
            await TryRemoveAsync(id).ConfigureAwait(false);
            throw LaunchFailure(e, docker.Image, "start the container");
        }

        var checkpoint = new TaskCheckpoint
        {
            FrameworkId = frameworkId,
            Role = role,
            Task = task,
            RunId = runId,
            SandboxDirectory = sandbox,
            LaunchedAt = _time.GetUtcNow(),
            DockerContainerId = id,
        };
        var container = new TaskContainer(checkpoint, recovered: false);
        _containers[key] = container;
        WriteCheckpoint(container);
        LogLaunched(taskId, frameworkId.Value, docker.Image, id[..Math.Min(12, id.Length)], sandbox);
        Follow(container, since: null);
        return container;
    }

    /// <summary>
    /// Kills a task: <c>docker stop</c> with the grace period (SIGTERM, then SIGKILL), default the task's
    /// <c>kill_policy.grace_period</c>, else <see cref="AgentOptions.DefaultKillGrace"/>. The result is TASK_KILLED.
    /// Null when the task is unknown. Calling it again while a kill is under way returns the same result.
    /// </summary>
    public Task<TaskTermination>? KillAsync(string frameworkId, string taskId, TimeSpan? gracePeriod = null)
    {
        if (!_containers.TryGetValue((frameworkId, taskId), out var container))
        {
            return null;
        }

        lock (container.Gate)
        {
            if (container.KillTask is { } running)
            {
                return running;
            }

            if (container.Termination.IsCompleted)
            {
                return container.Termination;
            }

            container.Checkpoint = container.Checkpoint with { KillRequested = true };
            WriteCheckpoint(container);
            var grace = gracePeriod ?? GraceOf(container.Task) ?? _options.DefaultKillGrace;
            container.KillTask = KillCoreAsync(container, grace);
            return container.KillTask;
        }
    }

    /// <summary>
    /// Reads the checkpoints of Docker tasks and re-adopts their containers: running ones are followed again (output
    /// from the time the sandbox files were last written), ones that stopped while the agent was down are reported
    /// from their exit status, missing ones FAILED. Then removes containers of this agent (same work directory label)
    /// that no task claims. When the daemon does not answer, containers are watched until it does.
    /// </summary>
    public async Task<ContainerRecovery> RecoverAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        await ProbeAsync(cancellationToken).ConfigureAwait(false);
        var containers = new List<TaskContainer>();
        var terminated = new List<TaskCheckpoint>();
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (fw, taskId, dir) in _paths.TaskMetaDirs())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var file = Path.Combine(dir, "task.json");
            if (!File.Exists(file))
            {
                continue;
            }

            TaskCheckpoint checkpoint;
            try
            {
                checkpoint = MesosJson.Deserialize<TaskCheckpoint>(File.ReadAllBytes(file));
            }
            catch (Exception e) when (e is IOException or JsonException)
            {
                continue; // the process containerizer reports unreadable checkpoints
            }

            if (!ContainerInfoTypes.IsDocker(checkpoint.Task) && checkpoint.DockerContainerId is null)
            {
                continue;
            }

            if (checkpoint.DockerContainerId is { } cid)
            {
                claimed.Add(cid);
            }

            if (_containers.TryGetValue((fw, taskId), out var known))
            {
                containers.Add(known);
                continue;
            }

            if (checkpoint.LatestStatus is { } latest && TaskStates.IsTerminal(latest.State))
            {
                terminated.Add(checkpoint);
                continue;
            }

            var container = new TaskContainer(checkpoint, recovered: true);
            _containers[(fw, taskId)] = container;
            containers.Add(container);
            if (checkpoint.DockerContainerId is null)
            {
                _ = EndAsync(container, null); // the agent stopped between checkpoint and create
                continue;
            }

            LogAdopted(taskId, fw, checkpoint.DockerContainerId[..Math.Min(12, checkpoint.DockerContainerId.Length)]);
            if (checkpoint.KillRequested)
            {
                var grace = GraceOf(checkpoint.Task) ?? _options.DefaultKillGrace;
                lock (container.Gate)
                {
                    container.KillTask = KillCoreAsync(container, grace);
                }
            }

            Follow(container, since: LastOutputTime(checkpoint.SandboxDirectory));
        }

        if (IsAvailable)
        {
            try
            {
                var mine = await Client.ListContainersAsync([LabelWorkDir + "=" + _paths.WorkDir], cancellationToken).ConfigureAwait(false);
                foreach (var orphan in mine.Where(c => !claimed.Contains(c.Id)))
                {
                    LogOrphan(orphan.Id[..Math.Min(12, orphan.Id.Length)], orphan.Labels?.GetValueOrDefault(LabelTaskId) ?? "?");
                    await TryRemoveAsync(orphan.Id).ConfigureAwait(false);
                }
            }
            catch (DockerException e)
            {
                LogDockerFailed("list containers", e.Message);
            }
        }

        return new ContainerRecovery(containers, terminated);
    }

    /// <summary>Records the latest status of a task in its checkpoint.</summary>
    public void RecordStatus(string frameworkId, string taskId, TaskStatusDto status)
    {
        if (_containers.TryGetValue((frameworkId, taskId), out var container))
        {
            lock (container.Gate)
            {
                container.Checkpoint = container.Checkpoint with { LatestStatus = status };
                if (!container.Forgotten)
                {
                    WriteCheckpoint(container);
                }
            }
        }
    }

    /// <summary>Drops an ended task: forgets it and deletes its checkpoint directory. The sandbox is kept.</summary>
    public void Forget(string frameworkId, string taskId)
    {
        if (_containers.TryGetValue((frameworkId, taskId), out var container) && !container.Termination.IsCompleted)
        {
            return;
        }

        if (_containers.TryRemove((frameworkId, taskId), out var removed))
        {
            // A checkpoint write under way finishes first; none follows (the caller deletes the checkpoint directory).
            lock (removed.Gate)
            {
                removed.Forgotten = true;
            }
        }
    }

    /// <summary>
    /// Runs a health check command inside the task's container (<c>docker exec</c>): healthy on exit status 0. The
    /// detail names the status and the last line of output.
    /// </summary>
    internal async Task<ProbeResult> ExecProbeAsync(TaskContainer container, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        if (container.Checkpoint.DockerContainerId is not { } id)
        {
            return ProbeResult.Fail("the task has no container");
        }

        try
        {
            var (exit, output) = await Client.ExecAsync(id, argv, environment, cancellationToken).ConfigureAwait(false);
            if (exit == 0)
            {
                return ProbeResult.Pass;
            }

            var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
            var detail = "command exited with status " + exit.ToString(CultureInfo.InvariantCulture);
            return ProbeResult.Fail(last is null ? detail : detail + " (" + last + ")");
        }
        catch (DockerException e)
        {
            return ProbeResult.Fail("docker exec failed: " + e.Message);
        }
    }

    /// <summary>Stops watching; the containers keep running.</summary>
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        Client.Dispose();
        _disposed.Dispose();
    }

    /// <summary>
    /// The body of <c>POST /containers/create</c> for a task: command (shell: entrypoint <c>/bin/sh -c</c>), environment
    /// (task env with <c>PORT0…</c>, <c>MESOS_SANDBOX</c> = <see cref="SandboxMountPoint"/>), labels, limits, ports,
    /// volumes, network, user and the supported <c>docker run</c> parameters.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid or unsupported (message names it).</exception>
    internal DockerCreateContainer BuildCreateRequest(string frameworkId, TaskInfoDto task, string runId, string sandbox)
    {
        var info = task.Container!;
        var docker = info.Docker!;
        if (docker.Privileged == true && !_options.DockerAllowPrivileged)
        {
            throw new ArgumentException("privileged containers are not allowed on this agent (container.docker.privileged)");
        }

        var network = (docker.Network ?? DockerNetworkModes.Host).ToUpperInvariant();
        var networkMode = network switch
        {
            DockerNetworkModes.Host => "host",
            DockerNetworkModes.Bridge => "bridge",
            DockerNetworkModes.None => "none",
            _ => throw new ArgumentException($"container.docker.network {docker.Network} is not supported (HOST, BRIDGE or NONE)"),
        };

        // Command: a shell command runs as /bin/sh -c value (entrypoint overridden); otherwise the arguments (or value)
        // are the image's command, so its entrypoint still applies.
        List<string>? entrypoint = null;
        List<string>? cmd = null;
        var command = task.Command;
        if (command is not null && (command.Shell ?? true) && !string.IsNullOrEmpty(command.Value))
        {
            entrypoint = ["/bin/sh", "-c"];
            cmd = [command.Value];
        }
        else if (command is not null && command.Shell == false)
        {
            cmd = command.Arguments is { Count: > 0 } args ? [.. args] : string.IsNullOrEmpty(command.Value) ? null : [command.Value];
        }

        var env = ProcessContainerizer.BuildEnvironment(frameworkId, task, SandboxMountPoint, _options.EffectiveHostname);
        env.Remove("PATH");
        env.Remove("HOME");
        env.Remove("LANG");
        foreach (var variable in command?.Environment?.Variables ?? [])
        {
            if (variable.Name is "PATH" or "HOME" or "LANG")
            {
                env[variable.Name] = variable.Value ?? "";
            }
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in task.Labels?.Labels ?? [])
        {
            if (!string.IsNullOrEmpty(label.Key))
            {
                labels[label.Key] = label.Value ?? "";
            }
        }

        labels[LabelTaskId] = task.TaskId.Value;
        labels[LabelFrameworkId] = frameworkId;
        labels[LabelAgentId] = AgentId() ?? "";
        labels[LabelWorkDir] = _paths.WorkDir;
        labels[LabelRunId] = runId;

        Resources resources;
        try
        {
            resources = ResourceConversions.ToResources(task.Resources);
        }
        catch (FormatException e)
        {
            throw new ArgumentException("resources: " + e.Message);
        }

        long? memory = resources.Mem > 0 ? Math.Max(6L * 1024 * 1024, (long)(resources.Mem * 1024 * 1024)) : null;
        long? shares = resources.Cpus > 0 ? Math.Max(2L, (long)(resources.Cpus * 1024)) : null;
        long? quota = resources.Cpus > 0 ? Math.Max(1000L, (long)(resources.Cpus * 100_000)) : null;

        // Host volumes as binds (Docker creates a missing host directory, as Mesos's docker containerizer relies on);
        // the sandbox as a mount, since its path holds the task id, which may contain ':'.
        var binds = new List<string>();
        for (var i = 0; i < (info.Volumes?.Count ?? 0); i++)
        {
            var volume = info.Volumes![i];
            if (string.IsNullOrEmpty(volume.ContainerPath) || !volume.ContainerPath.StartsWith('/'))
            {
                throw new ArgumentException($"container.volumes[{i}].container_path must be an absolute path");
            }

            if (string.IsNullOrEmpty(volume.HostPath))
            {
                throw new ArgumentException($"container.volumes[{i}].host_path is required (only host volumes are supported)");
            }

            var host = Path.IsPathRooted(volume.HostPath) ? volume.HostPath : Path.GetFullPath(Path.Combine(sandbox, volume.HostPath));
            if (host.Contains(':', StringComparison.Ordinal) || volume.ContainerPath.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"container.volumes[{i}]: paths must not contain ':'");
            }

            var mode = (volume.Mode ?? "RW").ToUpperInvariant() switch
            {
                "RO" => "ro",
                "RW" => "rw",
                _ => throw new ArgumentException($"container.volumes[{i}].mode must be RO or RW"),
            };
            binds.Add(host + ":" + volume.ContainerPath + ":" + mode);
        }

        Dictionary<string, object>? exposed = null;
        Dictionary<string, List<DockerPortBinding>>? bindings = null;
        if (networkMode == "bridge" && docker.PortMappings is { Count: > 0 } mappings)
        {
            exposed = new(StringComparer.Ordinal);
            bindings = new(StringComparer.Ordinal);
            foreach (var mapping in mappings)
            {
                if (mapping.HostPort is < 1 or > 65535)
                {
                    throw new ArgumentException($"container.docker.port_mappings: host_port {mapping.HostPort.ToString(CultureInfo.InvariantCulture)} is not a port");
                }

                var containerPort = mapping.ContainerPort == 0 ? mapping.HostPort : mapping.ContainerPort;
                foreach (var protocol in (mapping.Protocol ?? "tcp").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var portKey = containerPort.ToString(CultureInfo.InvariantCulture) + "/" + protocol.ToLowerInvariant();
                    exposed[portKey] = new Dictionary<string, string>();
                    if (!bindings.TryGetValue(portKey, out var list))
                    {
                        bindings[portKey] = list = [];
                    }

                    list.Add(new DockerPortBinding { HostPort = mapping.HostPort.ToString(CultureInfo.InvariantCulture) });
                }
            }
        }

        var hostConfig = new DockerHostConfig
        {
            Binds = binds.Count == 0 ? null : binds,
            Mounts = [new DockerMount { Source = sandbox, Target = SandboxMountPoint }],
            Memory = memory,
            MemorySwap = memory,
            CpuShares = shares,
            CpuPeriod = quota is null ? null : 100_000,
            CpuQuota = quota,
            NetworkMode = networkMode,
            PortBindings = bindings,
            Privileged = docker.Privileged == true ? true : null,
        };
        var request = new DockerCreateContainer
        {
            Image = docker.Image,
            Cmd = cmd,
            Entrypoint = entrypoint,
            Env = [.. env.Select(kv => kv.Key + "=" + kv.Value)],
            Labels = labels,
            User = string.IsNullOrEmpty(command?.User) ? null : command.User,
            Hostname = networkMode == "host" ? null : info.Hostname,
            ExposedPorts = exposed,
            HostConfig = hostConfig,
        };
        return ApplyParameters(request, docker.Parameters ?? []);
    }

    /// <summary>The supported <c>docker run</c> parameters applied to a create request.</summary>
    /// <exception cref="ArgumentException">An unsupported parameter or a malformed value.</exception>
    internal DockerCreateContainer ApplyParameters(DockerCreateContainer request, IReadOnlyList<ParameterDto> parameters)
    {
        var env = request.Env ?? [];
        var labels = request.Labels ?? [];
        var host = request.HostConfig;
        List<string> Add(List<string>? list, string value) => [.. list ?? [], value];
        foreach (var p in parameters)
        {
            var key = (p.Key ?? "").TrimStart('-');
            var value = p.Value ?? "";
            switch (key)
            {
                case "label" or "l":
                    var eq = value.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0 || value[..eq].StartsWith("dcos.", StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"docker parameter label '{value}' must be key=value (keys starting with dcos. are reserved)");
                    }

                    labels[value[..eq]] = value[(eq + 1)..];
                    break;
                case "env" or "e":
                    env.Add(value);
                    break;
                case "user" or "u":
                    request = request with { User = value };
                    break;
                case "workdir" or "w":
                    request = request with { WorkingDir = value };
                    break;
                case "hostname" or "h":
                    request = request with { Hostname = value };
                    break;
                case "entrypoint":
                    request = request with { Entrypoint = value.Length == 0 ? [] : [value] };
                    break;
                case "add-host":
                    host = host with { ExtraHosts = Add(host.ExtraHosts, value) };
                    break;
                case "dns":
                    host = host with { Dns = Add(host.Dns, value) };
                    break;
                case "cap-add" when _options.DockerAllowPrivileged:
                    host = host with { CapAdd = Add(host.CapAdd, value) };
                    break;
                case "cap-drop":
                    host = host with { CapDrop = Add(host.CapDrop, value) };
                    break;
                case "init":
                    host = host with { Init = value is "" or "true" };
                    break;
                case "read-only":
                    host = host with { ReadonlyRootfs = value is "" or "true" };
                    break;
                default:
                    throw new ArgumentException($"docker parameter '{p.Key}' is not supported on this agent");
            }
        }

        return request with { Env = env, Labels = labels, HostConfig = host };
    }

    /// <summary>Docker container name for a run: <c>dcos-&lt;task id&gt;-&lt;run id&gt;</c> with characters Docker refuses replaced.</summary>
    internal static string ContainerName(string taskId, string runId)
    {
        var sb = new StringBuilder("dcos-", taskId.Length + runId.Length + 6);
        foreach (var c in taskId)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        }

        return sb.Append('-').Append(runId).ToString();
    }

    private async Task EnsureImageAsync(string image, bool forcePull, CancellationToken cancellationToken)
    {
        try
        {
            if (!forcePull && await Client.InspectImageAsync(image, cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }

            LogPulling(image);
            await Client.PullImageAsync(image, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e) when (e.IsUnreachable)
        {
            Interlocked.Exchange(ref _available, 0);
            throw new ContainerLaunchException($"Docker is not available on this agent: {e.Message}") { IsError = true };
        }
        catch (DockerException e)
        {
            throw new ContainerLaunchException($"image '{image}' not found: could not pull it ({e.Message})", e);
        }
    }

    private ContainerLaunchException LaunchFailure(DockerException e, string image, string what)
    {
        if (e.IsUnreachable)
        {
            Interlocked.Exchange(ref _available, 0);
            return new ContainerLaunchException($"Docker is not available on this agent: {e.Message}") { IsError = true };
        }

        if (e.IsNotFound && e.Message.Contains("image", StringComparison.OrdinalIgnoreCase))
        {
            return new ContainerLaunchException($"image '{image}' not found ({e.Message})", e);
        }

        return new ContainerLaunchException($"Failed to {what}: {e.Message}", e);
    }

    /// <summary>Streams the container's output into the sandbox and waits for it to stop, then ends the task.</summary>
    private void Follow(TaskContainer container, double? since)
    {
        var id = container.Checkpoint.DockerContainerId!;
        var token = _disposed.Token;
        container.LogPump = Task.Run(() => PumpLogsAsync(container, id, since, token), CancellationToken.None);
        _ = Task.Run(() => WaitAsync(container, id, token), CancellationToken.None);
    }

    private async Task PumpLogsAsync(TaskContainer container, string id, double? since, CancellationToken cancellationToken)
    {
        for (var attempt = 0; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var stdout = new FileStream(Path.Combine(container.SandboxDirectory, "stdout"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                await using (stdout.ConfigureAwait(false))
                {
                    var stderr = new FileStream(Path.Combine(container.SandboxDirectory, "stderr"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                    await using (stderr.ConfigureAwait(false))
                    {
                        await Client.CopyLogsAsync(id, stdout, stderr, follow: true, since, cancellationToken).ConfigureAwait(false);
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (DockerException e) when (e.IsUnreachable)
            {
                // daemon gone for now: resume from what was last written
                since = LastOutputTime(container.SandboxDirectory);
                await DelayAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DockerException or IOException or InvalidDataException or HttpRequestException or UnauthorizedAccessException)
            {
                LogDockerFailed("stream logs of " + container.TaskId, e.Message);
                return;
            }
        }
    }

    private async Task WaitAsync(TaskContainer container, string id, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Client.WaitContainerAsync(id, cancellationToken).ConfigureAwait(false);
                var inspect = await Client.InspectContainerAsync(id, cancellationToken).ConfigureAwait(false);
                if (inspect is { State.Running: true })
                {
                    continue; // restarted by someone: keep watching
                }

                await EndAsync(container, inspect).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException)
            {
                return; // disposed: the container lives on, a later recovery watches it
            }
            catch (DockerException e) when (e.IsNotFound)
            {
                await EndAsync(container, null).ConfigureAwait(false);
                return;
            }
            catch (DockerException e)
            {
                LogDockerFailed("wait for " + container.TaskId, e.Message);
                await DelayAsync(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task EndAsync(TaskContainer container, DockerContainerInspect? inspect)
    {
        if (_disposed.IsCancellationRequested || !container.TryMarkEnded())
        {
            return;
        }

        if (container.LogPump is { } pump)
        {
            // Let the output drain into the sandbox before the task is reported (and its container removed).
            await Task.WhenAny(pump, Task.Delay(TimeSpan.FromSeconds(5), _time)).ConfigureAwait(false);
        }

        bool killRequested;
        lock (container.Gate)
        {
            killRequested = container.Checkpoint.KillRequested;
        }

        TaskTermination termination;
        if (inspect is null)
        {
            termination = new TaskTermination(
                killRequested ? TaskStates.Killed : TaskStates.Failed,
                "Container gone (removed outside the agent)",
                killRequested ? null : TaskTermination.ReasonExecutorTerminated,
                null,
                null,
                false);
        }
        else
        {
            var status = inspect.State.ExitCode;
            var oom = inspect.State.OOMKilled;
            termination = TaskTermination.Interpret(status, killRequested, container.ForcedKill, oom);
            if (oom && !killRequested)
            {
                termination = termination with { Message = "Memory limit exceeded: container was OOM-killed (" + termination.Message["Memory limit exceeded: ".Length..] + ")" };
            }
        }

        LogEnded(container.TaskId, container.FrameworkId, termination.State, termination.Message);
        container.Complete(termination);
        if (container.Checkpoint.DockerContainerId is { } id)
        {
            await TryRemoveAsync(id).ConfigureAwait(false);
        }
    }

    private async Task<TaskTermination> KillCoreAsync(TaskContainer container, TimeSpan grace)
    {
        if (container.Termination.IsCompleted)
        {
            return await container.Termination.ConfigureAwait(false);
        }

        var id = container.Checkpoint.DockerContainerId;
        if (id is null)
        {
            return await container.Termination.ConfigureAwait(false);
        }

        LogKilling(container.TaskId, grace.TotalSeconds);
        var started = _time.GetTimestamp();
        try
        {
            await Client.StopContainerAsync(id, grace.TotalSeconds).ConfigureAwait(false);
        }
        catch (DockerException e) when (e.IsNotFound)
        {
        }

        if (grace > TimeSpan.Zero && _time.GetElapsedTime(started) >= grace)
        {
            container.ForcedKill = true;
        }
        else if (grace == TimeSpan.Zero)
        {
            container.ForcedKill = true;
        }

        return await container.Termination.ConfigureAwait(false);
    }

    private async Task TryRemoveAsync(string id)
    {
        try
        {
            await Client.RemoveContainerAsync(id).ConfigureAwait(false);
        }
        catch (DockerException e)
        {
            LogDockerFailed("remove container " + id[..Math.Min(12, id.Length)], e.Message);
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static double? LastOutputTime(string sandbox)
    {
        try
        {
            var times = OutputFiles
                .Select(f => Path.Combine(sandbox, f))
                .Where(File.Exists)
                .Select(f => File.GetLastWriteTimeUtc(f))
                .ToList();
            if (times.Count == 0)
            {
                return null;
            }

            return (times.Max() - DateTime.UnixEpoch).TotalSeconds;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static TimeSpan? GraceOf(TaskInfoDto task) =>
        task.KillPolicy?.GracePeriod is { } grace ? TimeSpan.FromTicks(Math.Max(0, grace.Nanoseconds / 100)) : null;

    private static void PointLatestAt(string taskDir, string runId)
    {
        var latest = Path.Combine(taskDir, "latest");
        if (File.Exists(latest) || Directory.Exists(latest) || new FileInfo(latest).LinkTarget is not null)
        {
            File.Delete(latest);
        }

        File.CreateSymbolicLink(latest, runId);
    }

    private void WriteCheckpoint(TaskContainer container)
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        try
        {
            AtomicFile.WriteAllBytes(_paths.TaskCheckpointFile(container.FrameworkId, container.TaskId), MesosJson.Serialize(container.Checkpoint));
        }
        catch (IOException e)
        {
            LogDockerFailed("checkpoint " + container.TaskId, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Docker daemon at {Endpoint} answers (version {Version}): advertising Docker")]
    private partial void LogDaemonUp(string endpoint, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Docker daemon at {Endpoint} does not answer: Docker tasks get TASK_ERROR until it does")]
    private partial void LogDaemonDown(string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "Launched task {TaskId} of framework {FrameworkId} in Docker: image {Image}, container {ContainerId}, sandbox {Sandbox}")]
    private partial void LogLaunched(string taskId, string frameworkId, string image, string containerId, string sandbox);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pulling image {Image}")]
    private partial void LogPulling(string image);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-adopted task {TaskId} of framework {FrameworkId}: container {ContainerId}")]
    private partial void LogAdopted(string taskId, string frameworkId, string containerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removing orphan container {ContainerId} (task {TaskId}): no task of this agent claims it")]
    private partial void LogOrphan(string containerId, string taskId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Killing task {TaskId}: docker stop, SIGKILL after {GraceSeconds} s")]
    private partial void LogKilling(string taskId, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} of framework {FrameworkId} ended: {State} ({Message})")]
    private partial void LogEnded(string taskId, string frameworkId, string state, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Docker: could not {What}: {Error}")]
    private partial void LogDockerFailed(string what, string error);
}
