using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent;

/// <summary>
/// Runs tasks as plain processes (Mesos's POSIX launcher with the command executor folded in). Each run gets a sandbox
/// <c>&lt;workdir&gt;/sandboxes/&lt;fw&gt;/&lt;task&gt;/&lt;run&gt;</c> with <c>stdout</c> and <c>stderr</c>, and runs in its
/// own session and process group under a small <c>/bin/sh</c> wrapper started through <c>setsid</c>. The wrapper writes
/// the command's status to <c>.exit_status</c> in the sandbox, so an agent that restarted (no longer the parent) still
/// learns how the task ended. Kills signal the whole group: SIGTERM, then SIGKILL after the grace period.
/// Disposing the containerizer leaves tasks running: they outlive the agent and are re-adopted by
/// <see cref="RecoverAsync"/>.
/// </summary>
public sealed partial class ProcessContainerizer : IDisposable
{
    /// <summary>Name of the file in the sandbox holding the command's status (exit code, or 128 + signal).</summary>
    public const string ExitStatusFile = ".exit_status";

    /// <summary>
    /// The wrapper run by <c>setsid /bin/sh -c WRAPPER CGROUP_PROCS ARGV…</c> in the sandbox. It points its own output at
    /// the sandbox files, joins the memory cgroup when one is given, defers TERM/INT/HUP until the command ended
    /// (a trap, not an ignore, so the command still gets default dispositions), runs the command and records its status.
    /// The command is passed as arguments (<c>"$@"</c>), never spliced into the script.
    /// </summary>
    internal const string WrapperScript =
        "exec </dev/null >>stdout 2>>stderr\n" +
        "if [ -n \"$0\" ]; then echo $$ >\"$0\" || echo \"dcos-agent: could not join cgroup $0\" >&2; fi\n" +
        "trap 'dcos_signalled=1' TERM INT HUP\n" +
        "\"$@\"\n" +
        "dcos_status=$?\n" +
        "echo \"$dcos_status\" >.exit_status.tmp && mv -f .exit_status.tmp .exit_status\n" +
        "exit \"$dcos_status\"\n";

    private const string SetprivPath = "/usr/bin/setpriv";

    private static readonly string[] SetsidLocations = ["/usr/bin/setsid", "/bin/setsid"];

    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private readonly AgentOptions _options;
    private readonly AgentPaths _paths;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<(string Framework, string Task), TaskContainer> _containers = new();
    private readonly CancellationTokenSource _disposed = new();
    private readonly string _setsid;
    private int _cgroupWarned;

    /// <summary>Creates a containerizer on <see cref="AgentOptions.WorkDir"/>.</summary>
    public ProcessContainerizer(AgentOptions options, TimeProvider timeProvider, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options;
        _paths = new AgentPaths(options.WorkDir);
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _setsid = SetsidLocations.FirstOrDefault(File.Exists) ?? "setsid";
    }

    /// <summary>How often re-adopted tasks (not children of this process) are checked for having ended.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Root of all sandboxes (<c>&lt;workdir&gt;/sandboxes</c>).</summary>
    public string SandboxesDirectory => _paths.SandboxesDir;

    /// <summary>Containers known to this instance (launched or recovered), including ended ones not yet forgotten.</summary>
    public IReadOnlyCollection<TaskContainer> Containers => [.. _containers.Values];

    /// <summary>The container of a task, or null.</summary>
    public TaskContainer? Find(string frameworkId, string taskId) => _containers.GetValueOrDefault((frameworkId, taskId));

    /// <summary>
    /// Launches <paramref name="task"/>'s command in a new sandbox and checkpoints it. Shell commands
    /// (<c>shell</c> true or absent) run as <c>/bin/sh -c value</c>; others run <c>value</c> with <c>arguments[1..]</c>.
    /// </summary>
    /// <exception cref="ContainerLaunchException">The task is invalid (<see cref="ContainerLaunchException.ReasonTaskInvalid"/>) or its process could not start.</exception>
    public Task<TaskContainer> LaunchAsync(IdDto frameworkId, string role, TaskInfoDto task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frameworkId);
        ArgumentNullException.ThrowIfNull(task);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        cancellationToken.ThrowIfCancellationRequested();

        var taskId = task.TaskId?.Value;
        if (IdValidation.Problem(frameworkId.Value) is { } fwProblem)
        {
            throw new ContainerLaunchException($"framework id '{frameworkId.Value}' {fwProblem}", ContainerLaunchException.ReasonTaskInvalid);
        }

        if (IdValidation.Problem(taskId) is { } taskProblem)
        {
            throw new ContainerLaunchException($"task id '{taskId}' {taskProblem}", ContainerLaunchException.ReasonTaskInvalid);
        }

        var argv = CommandLine(task.Command)
            ?? throw new ContainerLaunchException("task has no command to run (command.value is empty)", ContainerLaunchException.ReasonTaskInvalid);

        var runAs = RunAs(task);
        if (runAs is { } user)
        {
            argv = [SetprivPath, "--reuid=" + user.Uid.ToString(CultureInfo.InvariantCulture), "--regid=" + user.Gid.ToString(CultureInfo.InvariantCulture), "--init-groups", "--", .. argv];
        }

        if (task.HealthCheck is { } healthCheck && TaskHealthChecker.Problem(healthCheck) is { } healthProblem)
        {
            throw new ContainerLaunchException("invalid health check: " + healthProblem, ContainerLaunchException.ReasonTaskInvalid);
        }

        var key = (frameworkId.Value, taskId!);
        if (_containers.TryGetValue(key, out var existing) && !existing.Termination.IsCompleted)
        {
            throw new ContainerLaunchException($"task '{taskId}' of framework '{frameworkId.Value}' is already running", ContainerLaunchException.ReasonTaskInvalid);
        }

        var runId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var taskDir = _paths.TaskSandboxDir(frameworkId.Value, taskId!);
        var sandbox = Path.Combine(taskDir, runId);
        string? cgroup;
        Process process;
        try
        {
            Directory.CreateDirectory(sandbox);
            File.WriteAllBytes(Path.Combine(sandbox, "stdout"), []);
            File.WriteAllBytes(Path.Combine(sandbox, "stderr"), []);
            PointLatestAt(taskDir, runId);
            if (runAs is { } owner)
            {
                // The task's own user owns its sandbox (it writes there); stdout/stderr are opened by the root wrapper.
                foreach (var path in new[] { sandbox, Path.Combine(sandbox, "stdout"), Path.Combine(sandbox, "stderr") })
                {
                    Native.Chown(path, owner.Uid, owner.Gid);
                }
            }

            cgroup = CreateMemoryCgroup(runId, task);

            var start = new ProcessStartInfo(_setsid)
            {
                UseShellExecute = false,
                WorkingDirectory = sandbox,
            };
            start.ArgumentList.Add("/bin/sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(WrapperScript);
            start.ArgumentList.Add(cgroup is null ? "" : Path.Combine(cgroup, "cgroup.procs"));
            foreach (var arg in argv)
            {
                start.ArgumentList.Add(arg);
            }

            start.Environment.Clear();
            foreach (var (name, value) in BuildEnvironment(frameworkId.Value, task, sandbox, _options.EffectiveHostname))
            {
                start.Environment[name] = value;
            }

            process = Process.Start(start) ?? throw new ContainerLaunchException("the process did not start");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Win32Exception or InvalidOperationException)
        {
            throw new ContainerLaunchException($"Failed to launch task '{taskId}': {e.Message}", e);
        }

        var pid = process.Id;
        var checkpoint = new TaskCheckpoint
        {
            FrameworkId = frameworkId,
            Role = role,
            Task = task,
            RunId = runId,
            SandboxDirectory = sandbox,
            Pid = pid,
            LaunchedAt = _time.GetUtcNow(),
            ProcessGroup = pid, // setsid makes the wrapper a session and group leader: pgid = sid = pid
            ProcessStartTime = ProcFs.ReadStat(pid)?.StartTime ?? 0,
            MemoryCgroup = cgroup,
        };

        var container = new TaskContainer(checkpoint, recovered: false) { Process = process };
        _containers[key] = container;
        WriteCheckpoint(container);
        LogLaunched(taskId!, frameworkId.Value, pid, sandbox);
        _ = WatchChildAsync(container, process);
        return Task.FromResult(container);
    }

    /// <summary>
    /// Kills a task: SIGTERM to its process group, then SIGKILL to the group if it has not ended after
    /// <paramref name="gracePeriod"/> (default: the task's <c>kill_policy.grace_period</c>, else
    /// <see cref="AgentOptions.DefaultKillGrace"/>). The result is TASK_KILLED. Null when the task is unknown.
    /// Calling it again while a kill is under way returns the same result.
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
    /// Reads the checkpoints and re-adopts tasks whose process still runs (same pid and start time), watching them by
    /// polling <c>/proc</c> every <see cref="PollInterval"/>. Tasks whose process ended while the agent was down get
    /// their termination from <c>.exit_status</c>, or FAILED "Process gone" when there is none.
    /// </summary>
    public Task<ContainerRecovery> RecoverAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var containers = new List<TaskContainer>();
        var terminated = new List<TaskCheckpoint>();
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
                LogBadCheckpoint(file, e.Message);
                continue;
            }

            if (ContainerInfoTypes.IsDocker(checkpoint.Task) || checkpoint.DockerContainerId is not null)
            {
                continue; // the Docker containerizer recovers these
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
            if (ProcFs.IsAlive(checkpoint.Pid, checkpoint.ProcessStartTime))
            {
                LogAdopted(taskId, fw, checkpoint.Pid);
                if (checkpoint.KillRequested)
                {
                    // The agent stopped in the middle of a kill: finish it.
                    var grace = GraceOf(checkpoint.Task) ?? _options.DefaultKillGrace;
                    lock (container.Gate)
                    {
                        container.KillTask = KillCoreAsync(container, grace);
                    }
                }

                container.Poller = _time.CreateTimer(PollCallback, container, PollInterval, PollInterval);
            }
            else
            {
                Ended(container, processStatus: null);
            }
        }

        return Task.FromResult(new ContainerRecovery(containers, terminated));
    }

    /// <summary>Records the latest status of a task in its checkpoint (a terminal one means: nothing to recover).</summary>
    public void RecordStatus(string frameworkId, string taskId, TaskStatusDto status)
    {
        if (_containers.TryGetValue((frameworkId, taskId), out var container))
        {
            lock (container.Gate)
            {
                container.Checkpoint = container.Checkpoint with { LatestStatus = status };
                WriteCheckpoint(container);
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

        _containers.TryRemove((frameworkId, taskId), out _);
        if (IdValidation.Problem(frameworkId) is null && IdValidation.Problem(taskId) is null)
        {
            var dir = _paths.TaskMetaDir(frameworkId, taskId);
            try
            {
                if (Directory.Exists(dir))
                {
                    Directory.Delete(dir, recursive: true);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Stops watching; the tasks keep running (they outlive the agent).</summary>
    public void Dispose()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        _disposed.Cancel();
        foreach (var c in _containers.Values)
        {
            c.Poller?.Dispose();
        }

        _disposed.Dispose();
    }

    /// <summary>
    /// The user a task runs as when the agent is root: <c>command.user</c>, else <see cref="AgentOptions.TaskUser"/>;
    /// null to run it as the agent's user (not root, or no user configured). Root is refused unless
    /// <see cref="AgentOptions.AllowRootTasks"/>. The switch is made by util-linux <c>setpriv</c> between the (root)
    /// wrapper, which keeps writing the exit status and joining the cgroup, and the command.
    /// </summary>
    /// <exception cref="ContainerLaunchException">Root without permission, an unknown user, or no setpriv.</exception>
    private (string Name, uint Uid, uint Gid)? RunAs(TaskInfoDto task)
    {
        var wanted = task.Command?.User is { Length: > 0 } u ? u.Trim() : null;
        if (!Native.IsRoot)
        {
            return null;
        }

        var name = wanted ?? _options.TaskUser;
        if (name is null)
        {
            return null;
        }

        var user = Native.LookUpUser(name)
            ?? throw new ContainerLaunchException($"user '{name}' does not exist on this agent", ContainerLaunchException.ReasonTaskInvalid);
        if (user.Uid == 0)
        {
            if (!_options.AllowRootTasks)
            {
                throw new ContainerLaunchException($"task asks to run as '{name}' (root); this agent refuses root tasks (start it with --allow-root-tasks)", ContainerLaunchException.ReasonTaskInvalid);
            }

            return null;
        }

        if (!File.Exists(SetprivPath))
        {
            throw new ContainerLaunchException($"cannot run the task as '{name}': {SetprivPath} (util-linux) is missing", ContainerLaunchException.ReasonTaskInvalid);
        }

        return (name, user.Uid, user.Gid);
    }

    /// <summary>argv for a command: <c>/bin/sh -c value</c> for shell commands, else <c>value</c> + <c>arguments[1..]</c>; null when there is nothing to run.</summary>
    internal static IReadOnlyList<string>? CommandLine(CommandDto? command)
    {
        if (command is null || string.IsNullOrEmpty(command.Value))
        {
            return null;
        }

        if (command.Shell ?? true)
        {
            return ["/bin/sh", "-c", command.Value];
        }

        return [command.Value, .. (command.Arguments ?? []).Skip(1)];
    }

    /// <summary>
    /// The task's environment: PATH, HOME and LANG of the agent, <c>PORT0…n</c>, <c>PORTS</c> and <c>PORT</c> from its
    /// <c>ports</c> resource, <c>HOST</c>, <c>TASK_ID</c>, <c>MESOS_TASK_ID</c>, <c>MESOS_SANDBOX</c>,
    /// <c>MESOS_FRAMEWORK_ID</c>, then <c>command.environment</c> (which wins).
    /// </summary>
    internal static Dictionary<string, string> BuildEnvironment(string frameworkId, TaskInfoDto task, string sandbox, string hostname)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : DefaultPath,
            ["HOME"] = Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home ? home : "/",
        };
        if (Environment.GetEnvironmentVariable("LANG") is { Length: > 0 } lang)
        {
            env["LANG"] = lang;
        }

        var ports = PortsOf(task);
        for (var i = 0; i < ports.Count; i++)
        {
            env["PORT" + i.ToString(CultureInfo.InvariantCulture)] = ports[i].ToString(CultureInfo.InvariantCulture);
        }

        if (ports.Count > 0)
        {
            env["PORT"] = ports[0].ToString(CultureInfo.InvariantCulture);
            env["PORTS"] = string.Join(',', ports.Select(p => p.ToString(CultureInfo.InvariantCulture)));
        }

        env["HOST"] = hostname;
        env["TASK_ID"] = task.TaskId.Value;
        env["MESOS_TASK_ID"] = task.TaskId.Value;
        env["MESOS_SANDBOX"] = sandbox;
        env["MESOS_FRAMEWORK_ID"] = frameworkId;

        foreach (var variable in task.Command?.Environment?.Variables ?? [])
        {
            if (!string.IsNullOrEmpty(variable.Name) && !variable.Name.Contains('=', StringComparison.Ordinal))
            {
                env[variable.Name] = variable.Value ?? "";
            }
        }

        return env;
    }

    /// <summary>The task's ports in resource order (at most 1000).</summary>
    internal static List<long> PortsOf(TaskInfoDto task)
    {
        var result = new List<long>();
        Resources resources;
        try
        {
            resources = ResourceConversions.ToResources(task.Resources);
        }
        catch (FormatException)
        {
            return result;
        }

        foreach (var range in resources.Ports.Ranges)
        {
            for (var p = range.Begin; p <= range.End && result.Count < 1000; p++)
            {
                result.Add(p);
            }
        }

        return result;
    }

    /// <summary>Reads the status the wrapper recorded, or null.</summary>
    internal static int? ReadExitStatus(string sandbox)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(sandbox, ExitStatusFile)).Trim();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var status) ? status : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
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

    private void PollCallback(object? state)
    {
        var container = (TaskContainer)state!;
        if (!ProcFs.IsAlive(container.Pid, container.Checkpoint.ProcessStartTime))
        {
            Ended(container, processStatus: null);
        }
    }

    private async Task WatchChildAsync(TaskContainer container, Process process)
    {
        int? status = null;
        try
        {
            await process.WaitForExitAsync(_disposed.Token).ConfigureAwait(false);
            status = process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return; // the containerizer was disposed: the task lives on, a later recovery watches it
        }
        catch (InvalidOperationException)
        {
        }
        finally
        {
            process.Dispose();
        }

        Ended(container, status);
    }

    private async Task<TaskTermination> KillCoreAsync(TaskContainer container, TimeSpan grace)
    {
        if (container.Termination.IsCompleted)
        {
            return await container.Termination.ConfigureAwait(false);
        }

        LogKilling(container.TaskId, container.ProcessGroup, grace.TotalSeconds);
        Native.Signal(container.Pid, container.ProcessGroup, Native.SigTerm);
        if (grace > TimeSpan.Zero)
        {
            using var cancel = new CancellationTokenSource();
            var delay = Task.Delay(grace, _time, cancel.Token);
            var first = await Task.WhenAny(container.Termination, delay).ConfigureAwait(false);
            await cancel.CancelAsync().ConfigureAwait(false);
            if (first == container.Termination)
            {
                return await container.Termination.ConfigureAwait(false);
            }
        }

        container.ForcedKill = true;
        Native.Signal(container.Pid, container.ProcessGroup, Native.SigKill);
        return await container.Termination.ConfigureAwait(false);
    }

    private void Ended(TaskContainer container, int? processStatus)
    {
        if (_disposed.IsCancellationRequested || !container.TryMarkEnded())
        {
            return;
        }

        container.Poller?.Dispose();

        // Whatever is left of the group (daemonized children) goes with the task, as when Mesos destroys a container.
        Native.KillGroup(container.ProcessGroup, Native.SigKill);

        var status = ReadExitStatus(container.SandboxDirectory) ?? processStatus;
        var oom = container.Checkpoint.MemoryCgroup is { } cgroup && MemoryLimitHit(cgroup, status);
        bool killRequested;
        lock (container.Gate)
        {
            killRequested = container.Checkpoint.KillRequested;
        }

        var termination = TaskTermination.Interpret(status, killRequested, container.ForcedKill, oom);
        LogEnded(container.TaskId, container.FrameworkId, termination.State, termination.Message);
        container.Complete(termination);
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
            LogCheckpointFailed(container.TaskId, e.Message);
        }
    }

    private string? CreateMemoryCgroup(string runId, TaskInfoDto task)
    {
        var root = _options.MemoryCgroupRoot;
        double mem;
        try
        {
            mem = ResourceConversions.ToResources(task.Resources).Mem;
        }
        catch (FormatException)
        {
            return null;
        }

        if (string.IsNullOrEmpty(root) || mem <= 0)
        {
            return null;
        }

        // Only on a cgroup v1 memory hierarchy: the root or its parent must be a memory cgroup (on cgroup v2 a mkdir
        // under /sys/fs/cgroup would silently create unrelated cgroups).
        var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(root));
        if (!File.Exists(Path.Combine(root, "memory.limit_in_bytes"))
            && (parent is null || !File.Exists(Path.Combine(parent, "memory.limit_in_bytes"))))
        {
            if (Interlocked.Exchange(ref _cgroupWarned, 1) == 0)
            {
                LogNoCgroups(root, "not in a cgroup v1 memory hierarchy");
            }

            return null;
        }

        var dir = Path.Combine(root, runId);
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "memory.limit_in_bytes"), ((long)(mem * 1024 * 1024)).ToString(CultureInfo.InvariantCulture));
            return dir;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Interlocked.Exchange(ref _cgroupWarned, 1) == 0)
            {
                LogNoCgroups(root, e.Message);
            }

            TryRemoveCgroup(dir);
            return null;
        }
    }

    private static bool MemoryLimitHit(string cgroup, int? status)
    {
        var hit = false;
        try
        {
            var oomControl = Path.Combine(cgroup, "memory.oom_control");
            if (File.Exists(oomControl))
            {
                foreach (var line in File.ReadAllLines(oomControl))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts is ["oom_kill", var count] && long.TryParse(count, CultureInfo.InvariantCulture, out var n))
                    {
                        hit = n > 0;
                    }
                }
            }

            var failcnt = Path.Combine(cgroup, "memory.failcnt");
            if (!hit && status == 128 + Native.SigKill && File.Exists(failcnt)
                && long.TryParse(File.ReadAllText(failcnt).Trim(), CultureInfo.InvariantCulture, out var failures))
            {
                hit = failures > 0;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        TryRemoveCgroup(cgroup);
        return hit;
    }

    private static void TryRemoveCgroup(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: false);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Launched task {TaskId} of framework {FrameworkId}: pid {Pid}, sandbox {Sandbox}")]
    private partial void LogLaunched(string taskId, string frameworkId, int pid, string sandbox);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-adopted task {TaskId} of framework {FrameworkId}: pid {Pid} still runs")]
    private partial void LogAdopted(string taskId, string frameworkId, int pid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Killing task {TaskId}: SIGTERM to process group {Pgid}, SIGKILL after {GraceSeconds} s")]
    private partial void LogKilling(string taskId, int pgid, double graceSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Task {TaskId} of framework {FrameworkId} ended: {State} ({Message})")]
    private partial void LogEnded(string taskId, string frameworkId, string state, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignoring unreadable checkpoint {File}: {Error}")]
    private partial void LogBadCheckpoint(string file, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not checkpoint task {TaskId}: {Error}")]
    private partial void LogCheckpointFailed(string taskId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Memory cgroups under {Root} are not usable ({Error}); tasks run without memory limits")]
    private partial void LogNoCgroups(string root, string error);
}
