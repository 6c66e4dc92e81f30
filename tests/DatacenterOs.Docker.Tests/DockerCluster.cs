using System.Globalization;
using System.Text.Json.Nodes;
using DatacenterOs.Agent.Docker;
using DatacenterOs.Testing;

namespace DatacenterOs.Docker.Tests;

/// <summary>
/// A real <c>dcosd standalone</c> whose agent runs Docker tasks on the machine's daemon, plus helpers to read apps,
/// sandboxes and the agent's containers. Disposing removes every container the agent left behind.
/// </summary>
internal sealed class DockerCluster : IAsyncDisposable
{
    private DockerCluster(string workDir)
    {
        WorkDir = workDir;
        Dcosd = new DcosdProcess(workDir, "[34000-34100]");
    }

    public string WorkDir { get; }

    public DcosdProcess Dcosd { get; }

    public DockerClient Docker { get; } = new();

    /// <summary>Starts dcosd and waits until its agent advertises Docker; fails (under CI or when forced) if Docker is unusable.</summary>
    public static async Task<DockerCluster> StartAsync()
    {
        Assert.True(DockerEnvironment.Unavailable is null, "Docker is required for this test: " + DockerEnvironment.Unavailable);
        var cluster = new DockerCluster(Directory.CreateTempSubdirectory("dcos-docker-").FullName);
        await cluster.Dcosd.StartAsync();
        await cluster.WaitForDockerAttributeAsync();
        return cluster;
    }

    public async Task WaitForDockerAttributeAsync() =>
        await DcosdProcess.WaitUntilAsync(
            async () =>
            {
                var (_, state) = await Dcosd.SendAsync(HttpMethod.Get, "/master/state");
                return state?["slaves"]?.AsArray().Any(a => (string?)a?["attributes"]?["docker"] == "true") == true;
            },
            "the agent to advertise Docker",
            60);

    public async Task<JsonNode> PostAppAsync(string json)
    {
        var (status, body) = await Dcosd.SendAsync(HttpMethod.Post, "/v2/apps", json);
        Assert.True(status == 201, $"POST /v2/apps answered {status}: {body?.ToJsonString()}");
        return body!;
    }

    public async Task<JsonNode> AppAsync(string id)
    {
        var (status, body) = await Dcosd.SendAsync(HttpMethod.Get, "/v2/apps" + id + "?embed=apps.tasks&embed=apps.lastTaskFailure");
        Assert.True(status == 200, $"GET /v2/apps{id} answered {status}");
        return body!["app"]!;
    }

    /// <summary>Waits until <paramref name="condition"/> holds for the app; the message shows the app's last state.</summary>
    public async Task<JsonNode> WaitForAppAsync(string id, Func<JsonNode, bool> condition, string what, int seconds = 60)
    {
        JsonNode? last = null;
        try
        {
            await DcosdProcess.WaitUntilAsync(
                async () =>
                {
                    last = await AppAsync(id);
                    return condition(last);
                },
                what,
                seconds);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "; app: " + last?.ToJsonString() + "; dcosd: " + string.Join('\n', Dcosd.Output.TakeLast(30)), e);
        }

        return last!;
    }

    public static List<string> TaskIds(JsonNode app) => [.. app["tasks"]!.AsArray().Select(t => (string)t!["id"]!)];

    /// <summary>Containers carrying this agent's work directory label (running or not).</summary>
    public async Task<IReadOnlyList<DockerContainerSummary>> ContainersAsync() =>
        await Docker.ListContainersAsync([DockerContainerizer.LabelWorkDir + "=" + Dcosd.AgentWorkDir]);

    public async Task<DockerContainerSummary> ContainerOfAsync(string taskId) =>
        (await ContainersAsync()).Single(c => c.Labels?.GetValueOrDefault(DockerContainerizer.LabelTaskId) == taskId);

    /// <summary>The latest run's <paramref name="file"/> (stdout or stderr) in the task's sandbox, or "" when it does not exist yet.</summary>
    public string SandboxFile(string taskId, string file = "stdout")
    {
        var sandboxes = Path.Combine(Dcosd.AgentWorkDir, "sandboxes");
        if (!Directory.Exists(sandboxes))
        {
            return "";
        }

        foreach (var framework in Directory.GetDirectories(sandboxes))
        {
            var path = Path.Combine(framework, taskId, "latest", file);
            if (File.Exists(path))
            {
                return File.ReadAllText(path);
            }
        }

        return "";
    }

    public async ValueTask DisposeAsync()
    {
        await Dcosd.DisposeAsync();
        try
        {
            foreach (var container in await ContainersAsync())
            {
                await Docker.RemoveContainerAsync(container.Id);
            }
        }
        catch (DockerException)
        {
        }

        Docker.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
}
