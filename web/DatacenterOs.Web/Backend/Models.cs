using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Backend;

/// <summary>Scalar resource amounts: cpus in fractional cores, mem and disk in MiB, gpus in devices.</summary>
/// <param name="Cpus">Cores.</param>
/// <param name="Mem">MiB.</param>
/// <param name="Disk">MiB.</param>
/// <param name="Gpus">Devices.</param>
public sealed record ResourceAmounts(double Cpus, double Mem, double Disk, double Gpus)
{
    /// <summary>No resources.</summary>
    public static ResourceAmounts Zero { get; } = new(0, 0, 0, 0);

    /// <summary>Sum of two amounts.</summary>
    public static ResourceAmounts operator +(ResourceAmounts a, ResourceAmounts b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return new(a.Cpus + b.Cpus, a.Mem + b.Mem, a.Disk + b.Disk, a.Gpus + b.Gpus);
    }

    /// <summary>Sum of two amounts (for languages without operators).</summary>
    public static ResourceAmounts Add(ResourceAmounts left, ResourceAmounts right) => left + right;
}

/// <summary>One agent as the master sees it.</summary>
/// <param name="Id">Agent id.</param>
/// <param name="Hostname">Hostname the agent advertises.</param>
/// <param name="Port">Port of the agent's HTTP API (sandbox files).</param>
/// <param name="Active">False while unreachable or draining.</param>
/// <param name="Attributes">Attributes such as <c>rack:r1</c>.</param>
/// <param name="Total">Total resources.</param>
/// <param name="Used">Resources allocated to tasks.</param>
/// <param name="Offered">Resources out in offers.</param>
public sealed record AgentView(string Id, string Hostname, int Port, bool Active, IReadOnlyDictionary<string, string> Attributes, ResourceAmounts Total, ResourceAmounts Used, ResourceAmounts Offered);

/// <summary>One task as the master sees it.</summary>
/// <param name="Id">Task id.</param>
/// <param name="Name">Task name.</param>
/// <param name="AgentId">Agent running it.</param>
/// <param name="FrameworkId">Framework that launched it.</param>
/// <param name="State">Mesos state, e.g. <c>TASK_RUNNING</c>.</param>
/// <param name="Role">Role its resources are allocated to.</param>
/// <param name="Resources">Resources it holds.</param>
public sealed record TaskView(string Id, string Name, string AgentId, string FrameworkId, string State, string Role, ResourceAmounts Resources);

/// <summary>One framework as the master sees it.</summary>
/// <param name="Id">Framework id.</param>
/// <param name="Name">Framework name (apps, jobs, …).</param>
/// <param name="Roles">Roles it subscribed in.</param>
/// <param name="Active">Whether it is subscribed now.</param>
/// <param name="Used">Resources allocated to it.</param>
public sealed record FrameworkView(string Id, string Name, IReadOnlyList<string> Roles, bool Active, ResourceAmounts Used);

/// <summary>One role and its weighted DRF state.</summary>
/// <param name="Name">Role name (<c>*</c> is the default role).</param>
/// <param name="Weight">Weight (default 1).</param>
/// <param name="Share">Weighted dominant share the master reports (0..1, divided by weight).</param>
/// <param name="FrameworkIds">Frameworks subscribed in the role.</param>
public sealed record RoleView(string Name, double Weight, double Share, IReadOnlyList<string> FrameworkIds);

/// <summary>The master's state at one instant (from <c>GET /master/state</c>).</summary>
/// <param name="MasterId">The cluster's id.</param>
/// <param name="Agents">Agents.</param>
/// <param name="Frameworks">Frameworks.</param>
/// <param name="Tasks">Tasks of every framework.</param>
/// <param name="Roles">Roles.</param>
public sealed record ClusterState(string MasterId, IReadOnlyList<AgentView> Agents, IReadOnlyList<FrameworkView> Frameworks, IReadOnlyList<TaskView> Tasks, IReadOnlyList<RoleView> Roles)
{
    /// <summary>An empty cluster.</summary>
    public static ClusterState Empty { get; } = new("", [], [], [], []);
}

/// <summary>Outcome of a change request: success, or the status and message plus field errors to show.</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Message">Error message (empty on success).</param>
/// <param name="FieldErrors">Errors per field path (e.g. <c>/cpus</c>).</param>
/// <param name="Body">Response body (e.g. a deployment id).</param>
public sealed record ApiResult(int Status, string Message, IReadOnlyList<FieldError> FieldErrors, JsonNode? Body = null)
{
    /// <summary>True for 2xx.</summary>
    public bool Ok => Status is >= 200 and < 300;

    /// <summary>A successful result.</summary>
    public static ApiResult Success(JsonNode? body = null) => new(200, "", [], body);

    /// <summary>A failure without a response (e.g. unreachable).</summary>
    public static ApiResult Failure(string message) => new(0, message, []);
}

/// <summary>A validation error on one field.</summary>
/// <param name="Path">Field path as the API names it (<c>/cpus</c>, <c>schedule</c>).</param>
/// <param name="Message">What is wrong.</param>
public sealed record FieldError(string Path, string Message);

/// <summary>One app from <c>/v2/apps</c>.</summary>
/// <param name="Id">App id, e.g. <c>/web</c>.</param>
/// <param name="Cpus">Cores per instance.</param>
/// <param name="Mem">MiB per instance.</param>
/// <param name="Instances">Desired instances.</param>
/// <param name="TasksRunning">Running instances.</param>
/// <param name="TasksStaged">Staged instances.</param>
/// <param name="TasksHealthy">Healthy instances.</param>
/// <param name="TasksUnhealthy">Unhealthy instances.</param>
/// <param name="HasHealthChecks">Whether health checks are defined.</param>
/// <param name="DeploymentIds">Deployments in progress that touch the app.</param>
/// <param name="Version">Current version timestamp.</param>
/// <param name="Json">The full definition as the API returned it.</param>
public sealed record AppView(string Id, double Cpus, double Mem, int Instances, int TasksRunning, int TasksStaged, int TasksHealthy, int TasksUnhealthy, bool HasHealthChecks, IReadOnlyList<string> DeploymentIds, string Version, JsonObject Json);

/// <summary>One instance of an app.</summary>
/// <param name="Id">Task id.</param>
/// <param name="AppId">App id.</param>
/// <param name="Host">Agent hostname.</param>
/// <param name="AgentId">Agent id.</param>
/// <param name="Ports">Host ports.</param>
/// <param name="State">Mesos state.</param>
/// <param name="Healthy">Health (null when no result yet or no checks).</param>
/// <param name="Version">App version it runs.</param>
/// <param name="StartedAt">When it started running (null before).</param>
/// <param name="ModelState">Its model state (<c>LEADER</c>, <c>STANDBY</c>, <c>ONLINE</c>, <c>OFFLINE</c>), null when none.</param>
public sealed record AppTaskView(string Id, string AppId, string Host, string AgentId, IReadOnlyList<int> Ports, string State, bool? Healthy, string Version, DateTimeOffset? StartedAt, string? ModelState = null);

/// <summary>An app with its tasks.</summary>
/// <param name="App">The app.</param>
/// <param name="Tasks">Its instances.</param>
/// <param name="LastTaskFailure">Last failure as JSON, if any.</param>
public sealed record AppDetail(AppView App, IReadOnlyList<AppTaskView> Tasks, JsonObject? LastTaskFailure);

/// <summary>One <c>/v2/queue</c> entry: an app waiting for offers, with why it is not starting.</summary>
/// <param name="AppId">App id.</param>
/// <param name="Count">Instances still to launch.</param>
/// <param name="Delayed">Whether the launch is in backoff.</param>
/// <param name="Reasons">Human-readable reasons (declined offers by reason).</param>
public sealed record QueueEntry(string AppId, int Count, bool Delayed, IReadOnlyList<string> Reasons);

/// <summary>One deployment in progress.</summary>
/// <param name="Id">Deployment id.</param>
/// <param name="AffectedApps">App ids.</param>
/// <param name="CurrentStep">1-based step in progress.</param>
/// <param name="TotalSteps">Number of steps.</param>
/// <param name="Steps">Each step's actions as text (<c>ScaleApplication /web</c>).</param>
/// <param name="Version">Target version.</param>
public sealed record DeploymentView(string Id, IReadOnlyList<string> AffectedApps, int CurrentStep, int TotalSteps, IReadOnlyList<string> Steps, string Version);

/// <summary>One job from <c>/v1/scheduler/jobs</c>.</summary>
/// <param name="Name">Job name.</param>
/// <param name="Command">Shell command.</param>
/// <param name="Schedule">ISO 8601 repeating interval or cron (empty for dependent jobs).</param>
/// <param name="Parents">Parents of a dependent job.</param>
/// <param name="Owner">Owner e-mail.</param>
/// <param name="Disabled">Disabled jobs are not scheduled.</param>
/// <param name="LastSuccess">Instant of the last success (null if none).</param>
/// <param name="LastError">Instant of the last failure (null if none).</param>
/// <param name="SuccessCount">Successful runs.</param>
/// <param name="ErrorCount">Failed runs.</param>
/// <param name="Json">The full definition.</param>
public sealed record JobView(string Name, string Command, string Schedule, IReadOnlyList<string> Parents, string Owner, bool Disabled, DateTimeOffset? LastSuccess, DateTimeOffset? LastError, int SuccessCount, int ErrorCount, JsonObject Json);

/// <summary>One run of a job.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="JobName">Job name.</param>
/// <param name="State">queued, running, succeeded, failed, killed, …</param>
/// <param name="Trigger">schedule, manual, dependency.</param>
/// <param name="Attempt">0 for the first attempt.</param>
/// <param name="CreatedAt">When the run was created.</param>
/// <param name="StartedAt">When it started.</param>
/// <param name="FinishedAt">When it finished.</param>
/// <param name="AgentId">Agent it ran on.</param>
/// <param name="TaskId">Task id (for logs).</param>
public sealed record JobRunView(string RunId, string JobName, string State, string Trigger, int Attempt, DateTimeOffset? CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, string AgentId, string TaskId);

/// <summary>A chunk of a sandbox file.</summary>
/// <param name="Data">Text read.</param>
/// <param name="Offset">Offset of <paramref name="Data"/> in bytes.</param>
public sealed record FileChunk(string Data, long Offset);

/// <summary>A role's quota from <c>GET_QUOTA</c>.</summary>
/// <param name="Role">Role.</param>
/// <param name="Limits">Upper limits by resource name (cpus in cores, mem/disk in MiB).</param>
/// <param name="Guarantees">Guaranteed amounts by resource name.</param>
public sealed record RoleQuota(string Role, IReadOnlyDictionary<string, double> Limits, IReadOnlyDictionary<string, double> Guarantees);
