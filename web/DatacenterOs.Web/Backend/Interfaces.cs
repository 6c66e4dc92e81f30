namespace DatacenterOs.Web.Backend;

/// <summary>The master's state and operator calls the dashboard uses.</summary>
public interface IClusterBackend
{
    /// <summary>Current state. Throws <see cref="BackendException"/> when the master does not answer.</summary>
    Task<ClusterState> GetStateAsync(CancellationToken cancellationToken);

    /// <summary>Quota of every role that has one (GET_QUOTA).</summary>
    Task<IReadOnlyList<RoleQuota>> GetQuotaAsync(CancellationToken cancellationToken);

    /// <summary>Sets a role's weight (UPDATE_WEIGHTS).</summary>
    Task<ApiResult> UpdateWeightAsync(string role, double weight, CancellationToken cancellationToken);
}

/// <summary>The Apps API (<c>/v2</c>) calls the dashboard uses.</summary>
public interface IAppsBackend
{
    /// <summary>All apps. Throws <see cref="BackendException"/> when Apps does not answer.</summary>
    Task<IReadOnlyList<AppView>> ListAppsAsync(CancellationToken cancellationToken);

    /// <summary>One app with its tasks, null if unknown.</summary>
    Task<AppDetail?> GetAppAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stored versions of an app, newest first.</summary>
    Task<IReadOnlyList<string>> GetVersionsAsync(string id, CancellationToken cancellationToken);

    /// <summary>The launch queue.</summary>
    Task<IReadOnlyList<QueueEntry>> GetQueueAsync(CancellationToken cancellationToken);

    /// <summary>Deployments in progress.</summary>
    Task<IReadOnlyList<DeploymentView>> ListDeploymentsAsync(CancellationToken cancellationToken);

    /// <summary>Creates an app from its JSON definition (422 with field errors when invalid).</summary>
    Task<ApiResult> CreateAppAsync(string json, CancellationToken cancellationToken);

    /// <summary>Sets the instance count (0 suspends).</summary>
    Task<ApiResult> ScaleAsync(string id, int instances, CancellationToken cancellationToken);

    /// <summary>Restarts every instance with a rolling deployment.</summary>
    Task<ApiResult> RestartAsync(string id, CancellationToken cancellationToken);

    /// <summary>Destroys the app and kills its instances.</summary>
    Task<ApiResult> DestroyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Kills one instance; with <paramref name="scale"/> the app's instance count is lowered too.</summary>
    Task<ApiResult> KillTaskAsync(string appId, string taskId, bool scale, CancellationToken cancellationToken);

    /// <summary>Cancels a deployment: rollback (a new deployment back to the old state) or, with <paramref name="force"/>, stops it where it is.</summary>
    Task<ApiResult> CancelDeploymentAsync(string id, bool force, CancellationToken cancellationToken);
}

/// <summary>The Jobs API (<c>/v1/scheduler</c>) calls the dashboard uses.</summary>
public interface IJobsBackend
{
    /// <summary>All jobs. Throws <see cref="BackendException"/> when Jobs does not answer.</summary>
    Task<IReadOnlyList<JobView>> ListJobsAsync(CancellationToken cancellationToken);

    /// <summary>Runs of a job, newest first (null if the job is unknown).</summary>
    Task<IReadOnlyList<JobRunView>?> GetRunsAsync(string name, int limit, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a job: scheduled (<c>/iso8601</c>) or, with <paramref name="dependent"/>, dependent (<c>/dependency</c>).</summary>
    Task<ApiResult> UpsertJobAsync(string json, bool dependent, CancellationToken cancellationToken);

    /// <summary>Starts a run now.</summary>
    Task<ApiResult> RunNowAsync(string name, CancellationToken cancellationToken);

    /// <summary>Deletes a job.</summary>
    Task<ApiResult> DeleteJobAsync(string name, CancellationToken cancellationToken);

    /// <summary>The dependency graph in DOT.</summary>
    Task<string> GetGraphDotAsync(CancellationToken cancellationToken);
}

/// <summary>Sandbox files on agents (<c>/files/read</c>).</summary>
public interface ISandboxFiles
{
    /// <summary>
    /// Reads up to <paramref name="length"/> bytes of <paramref name="path"/> (sandbox-relative,
    /// <c>FRAMEWORK/TASK/stdout</c>) from <paramref name="offset"/> on the agent at <paramref name="agentBase"/>;
    /// offset -1 asks for the file's size only. Null when the file does not exist.
    /// </summary>
    Task<FileChunk?> ReadAsync(Uri agentBase, string path, long offset, long length, CancellationToken cancellationToken);
}

/// <summary>A backend did not answer or answered with something unexpected.</summary>
public sealed class BackendException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackendException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BackendException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and cause.</summary>
    public BackendException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
