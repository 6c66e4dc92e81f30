namespace DatacenterOs.Web.Backend;

/// <summary>Finds a task's sandbox through the master's state and reads its stdout/stderr from the agent.</summary>
public static class TaskLogs
{
    /// <summary>
    /// Reads <paramref name="file"/> (<c>stdout</c>/<c>stderr</c>) of <paramref name="taskId"/> from
    /// <paramref name="offset"/> (-1: the last <paramref name="length"/> bytes). Returns the chunk, or null with a
    /// readable reason (unknown task, file not there yet, agent unreachable).
    /// </summary>
    /// <remarks>
    /// A task the master no longer lists (a finished job run) is found through <paramref name="agentHint"/> (agent id)
    /// and <paramref name="frameworkHint"/> (framework id or name, e.g. <c>jobs</c>).
    /// </remarks>
    public static async Task<(FileChunk? Chunk, string? Error)> ReadAsync(IClusterBackend cluster, ISandboxFiles files, string taskId, string file, long offset, long length, CancellationToken cancellationToken, string? agentHint = null, string? frameworkHint = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(files);
        var state = await cluster.GetStateAsync(cancellationToken).ConfigureAwait(false);
        var task = state.Tasks.FirstOrDefault(t => t.Id == taskId);
        var agentId = task?.AgentId ?? agentHint;
        var frameworkId = task?.FrameworkId ?? state.Frameworks.FirstOrDefault(f => f.Id == frameworkHint || f.Name == frameworkHint)?.Id;
        var agent = agentId is null ? null : state.Agents.FirstOrDefault(a => a.Id == agentId);
        if (agent is null || frameworkId is null)
        {
            return (null, $"Task {taskId} is not known to the master (finished tasks are kept for a while only).");
        }

        var agentBase = new Uri($"http://{agent.Hostname}:{agent.Port}");
        var path = $"{frameworkId}/{taskId}/{file}";
        try
        {
            if (offset < 0)
            {
                var size = await files.ReadAsync(agentBase, path, -1, 0, cancellationToken).ConfigureAwait(false);
                if (size is null)
                {
                    return (null, $"{file} does not exist in the sandbox yet.");
                }

                offset = Math.Max(0, size.Offset - length);
            }

            var chunk = await files.ReadAsync(agentBase, path, offset, length, cancellationToken).ConfigureAwait(false);
            return chunk is null ? (null, $"{file} does not exist in the sandbox yet.") : (chunk, null);
        }
        catch (BackendException e)
        {
            return (null, e.Message);
        }
    }
}
