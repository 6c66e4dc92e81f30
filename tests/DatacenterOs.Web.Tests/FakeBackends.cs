using System.Text.Json.Nodes;
using DatacenterOs.Web.Backend;

namespace DatacenterOs.Web.Tests;

/// <summary>In-memory backends for rendering tests: set the data, or <see cref="Failure"/> to make every read fail.</summary>
internal sealed class FakeBackends : IClusterBackend, IAppsBackend, IJobsBackend, ISandboxFiles, IClusterFeed
{
    public string? Failure { get; set; }

    public ClusterState State { get; set; } = ClusterState.Empty;

    public List<AppDetail> Apps { get; } = [];

    public List<QueueEntry> Queue { get; } = [];

    public List<DeploymentView> Deployments { get; } = [];

    public List<JobView> Jobs { get; } = [];

    public Dictionary<string, List<JobRunView>> Runs { get; } = new(StringComparer.Ordinal);

    public string Dot { get; set; } = "digraph G {\n}\n";

    public List<string> Calls { get; } = [];

    public IReadOnlyList<AllocationSample> Samples { get; set; } = [];

    private void Check()
    {
        if (Failure is not null)
        {
            throw new BackendException(Failure);
        }
    }

    public Task<ClusterState> GetStateAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult(State);
    }

    public List<RoleQuota> Quota { get; } = [];

    public Task<IReadOnlyList<RoleQuota>> GetQuotaAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<RoleQuota>>(Quota);
    }

    public Task<ApiResult> UpdateWeightAsync(string role, double weight, CancellationToken cancellationToken)
    {
        Calls.Add($"weight {role} {weight}");
        return Task.FromResult(ApiResult.Success());
    }

    public Task<IReadOnlyList<AppView>> ListAppsAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<AppView>>([.. Apps.Select(a => a.App)]);
    }

    public Task<AppDetail?> GetAppAsync(string id, CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult(Apps.FirstOrDefault(a => a.App.Id == id));
    }

    public Task<IReadOnlyList<string>> GetVersionsAsync(string id, CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<string>>([.. Apps.Where(a => a.App.Id == id).Select(a => a.App.Version)]);
    }

    public Task<IReadOnlyList<QueueEntry>> GetQueueAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<QueueEntry>>(Queue);
    }

    public Task<IReadOnlyList<DeploymentView>> ListDeploymentsAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<DeploymentView>>(Deployments);
    }

    public Task<ApiResult> CreateAppAsync(string json, CancellationToken cancellationToken) => Record($"create {json}");

    public Task<ApiResult> ScaleAsync(string id, int instances, CancellationToken cancellationToken) => Record($"scale {id} {instances}");

    public Task<ApiResult> RestartAsync(string id, CancellationToken cancellationToken) => Record($"restart {id}");

    public Task<ApiResult> DestroyAsync(string id, CancellationToken cancellationToken) => Record($"destroy {id}");

    public Task<ApiResult> KillTaskAsync(string appId, string taskId, bool scale, CancellationToken cancellationToken) => Record($"kill {taskId}");

    public Task<ApiResult> CancelDeploymentAsync(string id, bool force, CancellationToken cancellationToken) => Record($"cancel {id} {force}");

    public Task<IReadOnlyList<JobView>> ListJobsAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<JobView>>(Jobs);
    }

    public Task<IReadOnlyList<JobRunView>?> GetRunsAsync(string name, int limit, CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult<IReadOnlyList<JobRunView>?>(Runs.TryGetValue(name, out var runs) ? runs.Take(limit).ToList() : Jobs.Any(j => j.Name == name) ? [] : null);
    }

    public Task<ApiResult> UpsertJobAsync(string json, bool dependent, CancellationToken cancellationToken) => Record($"upsert {dependent} {json}");

    public Task<ApiResult> RunNowAsync(string name, CancellationToken cancellationToken) => Record($"run {name}");

    public Task<ApiResult> DeleteJobAsync(string name, CancellationToken cancellationToken) => Record($"delete {name}");

    public Task<string> GetGraphDotAsync(CancellationToken cancellationToken)
    {
        Check();
        return Task.FromResult(Dot);
    }

    public Task<FileChunk?> ReadAsync(Uri agentBase, string path, long offset, long length, CancellationToken cancellationToken) =>
        Task.FromResult<FileChunk?>(offset < 0 ? new FileChunk("", 12) : new FileChunk("hello world\n"[(int)Math.Min(offset, 12)..], offset));

    public IDisposable Subscribe(ChangeKinds kinds, Func<ChangeKinds, Task> onChange) => new Nothing();

    private Task<ApiResult> Record(string call)
    {
        Calls.Add(call);
        return Task.FromResult(ApiResult.Success());
    }

    private sealed class Nothing : IDisposable
    {
        public void Dispose()
        {
        }
    }

    // ---- Sample data -----------------------------------------------------------------------------------------------

    public static ResourceAmounts R(double cpus, double mem, double disk = 0, double gpus = 0) => new(cpus, mem, disk, gpus);

    public static AppView App(string id, int instances, int running, int healthy = 0, bool checks = true, string[]? deployments = null) =>
        new(id, 0.5, 256, instances, running, 0, healthy, 0, checks, deployments ?? [], "2026-01-01T00:00:00.000Z", new JsonObject { ["id"] = id, ["instances"] = instances, ["cmd"] = "sleep 1000" });

    public static JobView Job(string name, string schedule = "", string[]? parents = null, DateTimeOffset? lastSuccess = null, DateTimeOffset? lastError = null, bool disabled = false) =>
        new(name, "echo " + name, schedule, parents ?? [], "ops@example.com", disabled, lastSuccess, lastError, lastSuccess is null ? 0 : 1, lastError is null ? 0 : 1, new JsonObject { ["name"] = name, ["command"] = "echo " + name });

    public static ClusterState Cluster() => new(
        "m1",
        [
            new AgentView("a1", "host-1", 5051, true, new Dictionary<string, string> { ["rack"] = "r1" }, R(8, 16384, 100000), R(2, 4096, 0), R(0, 0)),
            new AgentView("a2", "host-2", 5051, false, new Dictionary<string, string>(), R(4, 8192, 50000), R(0, 0, 0), R(0, 0)),
        ],
        [new FrameworkView("f1", "apps", ["web"], true, R(2, 4096)), new FrameworkView("f2", "jobs", ["*"], true, R(0, 0))],
        [
            new TaskView("web.1", "web", "a1", "f1", "TASK_RUNNING", "web", R(1, 2048)),
            new TaskView("web.2", "web", "a1", "f1", "TASK_RUNNING", "web", R(1, 2048)),
            new TaskView("job.1", "job", "a1", "f2", "TASK_FAILED", "*", R(0.1, 32)),
        ],
        [new RoleView("web", 2, 0.125, ["f1"]), new RoleView("*", 1, 0, ["f2"])]);
}
