using System.Security.Cryptography;
using System.Text;

namespace DatacenterOs.Agent;

/// <summary>
/// Layout of the agent work directory:
/// <c>meta/agent_id</c>, <c>meta/frameworks/&lt;fw&gt;/tasks/&lt;task&gt;/task.json</c> (task checkpoint),
/// <c>…/updates.json</c> (unacknowledged status updates) and <c>sandboxes/&lt;fw&gt;/&lt;task&gt;/&lt;run&gt;</c>.
/// </summary>
internal sealed class AgentPaths(string workDir)
{
    public string WorkDir { get; } = Path.GetFullPath(workDir);

    public string MetaDir => Path.Combine(WorkDir, "meta");

    public string AgentIdFile => Path.Combine(MetaDir, "agent_id");

    public string FrameworksMetaDir => Path.Combine(MetaDir, "frameworks");

    public string SandboxesDir => Path.Combine(WorkDir, "sandboxes");

    public string TaskMetaDir(string frameworkId, string taskId) =>
        Path.Combine(FrameworksMetaDir, IdValidation.Require(frameworkId, "framework id"), "tasks", IdValidation.Require(taskId, "task id"));

    public string TaskCheckpointFile(string frameworkId, string taskId) => Path.Combine(TaskMetaDir(frameworkId, taskId), "task.json");

    public string UpdatesFile(string frameworkId, string taskId) => Path.Combine(TaskMetaDir(frameworkId, taskId), "updates.json");

    public string TaskSandboxDir(string frameworkId, string taskId) =>
        Path.Combine(SandboxesDir, IdValidation.Require(frameworkId, "framework id"), IdValidation.Require(taskId, "task id"));

    /// <summary>Every (framework id, task id) that has a metadata directory.</summary>
    public IEnumerable<(string FrameworkId, string TaskId, string Dir)> TaskMetaDirs()
    {
        if (!Directory.Exists(FrameworksMetaDir))
        {
            yield break;
        }

        foreach (var fw in Directory.EnumerateDirectories(FrameworksMetaDir))
        {
            var tasks = Path.Combine(fw, "tasks");
            if (!Directory.Exists(tasks))
            {
                continue;
            }

            foreach (var task in Directory.EnumerateDirectories(tasks))
            {
                yield return (Path.GetFileName(fw), Path.GetFileName(task), task);
            }
        }
    }
}

/// <summary>Ids become directory names, so they must be safe path components (Mesos <c>common::validation::validateID</c>).</summary>
internal static class IdValidation
{
    /// <summary>Why <paramref name="id"/> is not a valid id, or null when it is.</summary>
    public static string? Problem(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return "is empty";
        }

        if (id.Length > 255)
        {
            return "is longer than 255 characters";
        }

        if (id is "." or "..")
        {
            return "is '.' or '..'";
        }

        foreach (var c in id)
        {
            if (c is '/' or '\\' || char.IsControl(c) || char.IsWhiteSpace(c))
            {
                return "contains '/', '\\', whitespace or a control character";
            }
        }

        return null;
    }

    /// <summary>Returns <paramref name="id"/> when valid.</summary>
    /// <exception cref="ArgumentException">The id is not a safe path component.</exception>
    public static string Require(string? id, string what) =>
        Problem(id) is { } problem ? throw new ArgumentException($"{what} '{id}' {problem}") : id!;
}

/// <summary>Crash-safe file writes: write a temporary file, flush it to disk, rename over the target.</summary>
internal static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + ".tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
