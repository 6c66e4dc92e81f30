using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent;

/// <summary>
/// What the agent checkpoints for each task (<c>meta/frameworks/&lt;fw&gt;/tasks/&lt;task&gt;/task.json</c>) so that a
/// restarted agent can find, re-adopt or report it.
/// </summary>
public sealed record TaskCheckpoint
{
    /// <summary>Framework the task belongs to.</summary>
    public IdDto FrameworkId { get; init; } = new("");

    /// <summary>Role the task's resources were allocated to.</summary>
    public string Role { get; init; } = "*";

    /// <summary>The task as launched.</summary>
    public TaskInfoDto Task { get; init; } = new();

    /// <summary>Id of this run (a sandbox per run).</summary>
    public string RunId { get; init; } = "";

    /// <summary>Absolute sandbox directory of the run.</summary>
    public string SandboxDirectory { get; init; } = "";

    /// <summary>Pid of the task's wrapper process (the session leader).</summary>
    public int Pid { get; init; }

    /// <summary>Process group (= session) of the task; signals go to the whole group.</summary>
    public int ProcessGroup { get; init; }

    /// <summary>When the agent launched the task (its clock); the start of a health check's grace period. Null in checkpoints written before this field existed.</summary>
    public DateTimeOffset? LaunchedAt { get; init; }

    /// <summary>Start time of <see cref="Pid"/> in clock ticks after boot (<c>/proc/&lt;pid&gt;/stat</c> field 22), to detect pid reuse.</summary>
    public ulong ProcessStartTime { get; init; }

    /// <summary>A kill was requested: when the process ends it is reported TASK_KILLED.</summary>
    public bool KillRequested { get; init; }

    /// <summary>Memory cgroup of the task, when limits are on.</summary>
    public string? MemoryCgroup { get; init; }

    /// <summary>Id of the task's Docker container (Docker tasks only; <see cref="Pid"/> is then the container's main process).</summary>
    public string? DockerContainerId { get; init; }

    /// <summary>Latest status reported for the task; terminal means the task needs no recovery.</summary>
    public TaskStatusDto? LatestStatus { get; init; }
}

/// <summary>How a task's process ended, as a Mesos terminal state.</summary>
/// <param name="State"><c>TASK_FINISHED</c>, <c>TASK_FAILED</c> or <c>TASK_KILLED</c>.</param>
/// <param name="Message">Readable detail, e.g. <c>Command exited with status 3</c>.</param>
/// <param name="Reason">Mesos reason, e.g. <c>REASON_CONTAINER_LIMITATION_MEMORY</c>; null when none applies.</param>
/// <param name="ExitStatus">Exit status of the command, when it exited normally.</param>
/// <param name="Signal">Signal that ended the command, when known.</param>
/// <param name="ForcedKill">SIGKILL was sent because the grace period ran out.</param>
public sealed record TaskTermination(string State, string Message, string? Reason, int? ExitStatus, int? Signal, bool ForcedKill)
{
    /// <summary>Mesos reason for a task that outgrew its memory limit.</summary>
    public const string ReasonMemoryLimit = "REASON_CONTAINER_LIMITATION_MEMORY";

    /// <summary>Mesos reason for a task whose process vanished without an exit status.</summary>
    public const string ReasonExecutorTerminated = "REASON_EXECUTOR_TERMINATED";

    /// <summary>
    /// Maps a wrapper status (the command's <c>$?</c>: exit code, or 128 + signal) to a terminal state: a requested
    /// kill is KILLED, a memory-limit kill FAILED with <see cref="ReasonMemoryLimit"/>, 0 FINISHED, anything else FAILED;
    /// null (no status recorded, the process is gone) FAILED "Process gone".
    /// </summary>
    public static TaskTermination Interpret(int? status, bool killRequested, bool forcedKill, bool memoryLimitExceeded)
    {
        int? exit = null, signal = null;
        string detail;
        if (status is null)
        {
            detail = "Process gone";
        }
        else if (status.Value is > 128 and <= 128 + 64)
        {
            signal = status.Value - 128;
            detail = "Command terminated with signal " + SignalName(signal.Value);
        }
        else
        {
            exit = status.Value;
            detail = "Command exited with status " + status.Value.ToString(CultureInfo.InvariantCulture);
        }

        if (killRequested)
        {
            var how = forcedKill ? "killed with SIGKILL after the grace period" : "killed";
            return new(TaskStates.Killed, $"Task {how} ({detail})", null, exit, signal, forcedKill);
        }

        if (memoryLimitExceeded)
        {
            return new(TaskStates.Failed, "Memory limit exceeded: " + detail, ReasonMemoryLimit, exit, signal, false);
        }

        if (status is null)
        {
            return new(TaskStates.Failed, detail, ReasonExecutorTerminated, null, null, false);
        }

        return new(exit == 0 ? TaskStates.Finished : TaskStates.Failed, detail, null, exit, signal, false);
    }

    /// <summary>Name of a signal number, e.g. <c>SIGTERM</c>.</summary>
    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(CultureInfo.InvariantCulture),
    };
}

/// <summary>A launched (or re-adopted) task: its process, sandbox and eventual termination.</summary>
public sealed class TaskContainer
{
    private readonly TaskCompletionSource<TaskTermination> _termination = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ended;

    internal TaskContainer(TaskCheckpoint checkpoint, bool recovered)
    {
        Checkpoint = checkpoint;
        IsRecovered = recovered;
    }

    /// <summary>Framework id.</summary>
    public string FrameworkId => Checkpoint.FrameworkId.Value;

    /// <summary>Task id.</summary>
    public string TaskId => Checkpoint.Task.TaskId.Value;

    /// <summary>Role of the task's allocation.</summary>
    public string Role => Checkpoint.Role;

    /// <summary>The task as launched.</summary>
    public TaskInfoDto Task => Checkpoint.Task;

    /// <summary>Run id (sandbox per run).</summary>
    public string RunId => Checkpoint.RunId;

    /// <summary>Absolute sandbox directory (holds <c>stdout</c>, <c>stderr</c>, <c>.exit_status</c>).</summary>
    public string SandboxDirectory => Checkpoint.SandboxDirectory;

    /// <summary>Pid of the wrapper process, leader of the task's session and process group.</summary>
    public int Pid => Checkpoint.Pid;

    /// <summary>Process group of the task.</summary>
    public int ProcessGroup => Checkpoint.ProcessGroup;

    /// <summary>True when this container was found by recovery rather than launched by this instance.</summary>
    public bool IsRecovered { get; }

    /// <summary>True once a kill was requested.</summary>
    public bool KillRequested => Checkpoint.KillRequested;

    /// <summary>Completes when the task's process has ended (never faults).</summary>
    public Task<TaskTermination> Termination => _termination.Task;

    /// <summary>The current checkpoint of the task.</summary>
    public TaskCheckpoint Checkpoint { get; internal set; }

    internal Lock Gate { get; } = new();

    internal Process? Process { get; set; }

    internal ITimer? Poller { get; set; }

    internal Task<TaskTermination>? KillTask { get; set; }

    internal bool ForcedKill { get; set; }

    internal Task? LogPump { get; set; }

    internal bool Forgotten { get; set; }

    /// <summary>Marks the process ended exactly once; false if it already was.</summary>
    internal bool TryMarkEnded() => Interlocked.Exchange(ref _ended, 1) == 0;

    internal void Complete(TaskTermination termination) => _termination.TrySetResult(termination);
}

/// <summary>What <see cref="ProcessContainerizer.RecoverAsync"/> found in the checkpoints.</summary>
/// <param name="Containers">
/// Tasks that were not terminal: re-adopted ones (process still alive, <see cref="TaskContainer.Termination"/> pending)
/// and ones whose process ended while the agent was down (termination already completed from <c>.exit_status</c>).
/// </param>
/// <param name="Terminated">Checkpoints of tasks already reported terminal (kept until their update is acknowledged).</param>
public sealed record ContainerRecovery(IReadOnlyList<TaskContainer> Containers, IReadOnlyList<TaskCheckpoint> Terminated);

/// <summary>A task could not be launched.</summary>
public sealed class ContainerLaunchException : Exception
{
    /// <summary>Mesos reason for a task description that cannot run (bad id, no command).</summary>
    public const string ReasonTaskInvalid = "REASON_TASK_INVALID";

    /// <summary>Mesos reason for a launch that failed on the agent.</summary>
    public const string ReasonLaunchFailed = "REASON_CONTAINER_LAUNCH_FAILED";

    /// <summary>Creates the exception.</summary>
    public ContainerLaunchException()
        : this("launch failed")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ContainerLaunchException(string message)
        : this(message, ReasonLaunchFailed)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public ContainerLaunchException(string message, Exception innerException)
        : base(message, innerException) => Reason = ReasonLaunchFailed;

    /// <summary>Creates the exception with a message and a Mesos reason.</summary>
    public ContainerLaunchException(string message, string reason, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    /// <summary>Mesos reason: <see cref="ReasonTaskInvalid"/> (report TASK_ERROR) or <see cref="ReasonLaunchFailed"/> (TASK_FAILED).</summary>
    public string Reason { get; }

    /// <summary>Report TASK_ERROR rather than TASK_FAILED (set for invalid tasks, and for Docker tasks on an agent without a working Docker daemon).</summary>
    public bool IsError { get; init; }

    /// <summary>The state to report: TASK_ERROR for <see cref="ReasonTaskInvalid"/> or <see cref="IsError"/>, else TASK_FAILED.</summary>
    public string TaskState => IsError || Reason == ReasonTaskInvalid ? TaskStates.Error : TaskStates.Failed;
}
