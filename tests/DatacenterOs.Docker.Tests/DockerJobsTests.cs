using System.Text.Json.Nodes;
using DatacenterOs.Testing;

namespace DatacenterOs.Docker.Tests;

/// <summary>Jobs (Chronos API) whose container is Docker, through the real dcosd.</summary>
[Collection("docker")]
public sealed class DockerJobsTests
{
    [DockerFact]
    public async Task A_job_with_a_docker_container_runs_in_it_and_its_output_lands_in_the_run_history()
    {
        await using var cluster = await DockerCluster.StartAsync();
        // Next scheduled run in a day: only the manual run below happens during the test.
        var start = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var job = $$"""
            { "name": "in-docker", "command": "echo hello-from-container; cat /etc/hostname >/dev/null; ls /bin/busybox",
              "schedule": "R/{{start}}/P1D", "cpus": 0.1, "mem": 32, "retries": 0,
              "container": { "type": "DOCKER", "image": "{{DockerEnvironment.Image}}" } }
            """;
        var (status, body) = await cluster.Dcosd.SendAsync(HttpMethod.Post, "/v1/scheduler/iso8601", job);
        Assert.True(status is 200 or 201 or 204, $"POST iso8601 answered {status}: {body?.ToJsonString()}");
        (status, _) = await cluster.Dcosd.SendAsync(HttpMethod.Put, "/v1/scheduler/job/in-docker");
        Assert.True(status is 200 or 202 or 204, $"PUT job answered {status}");

        JsonNode? run = null;
        await DcosdProcess.WaitUntilAsync(
            async () =>
            {
                var (_, runs) = await cluster.Dcosd.SendAsync(HttpMethod.Get, "/v1/scheduler/job/in-docker/runs");
                run = runs?.AsArray().FirstOrDefault();
                return run is not null && (string?)run["state"] is "succeeded" or "failed" && run["stdout"] is not null;
            },
            "the run to finish with its output",
            90);
        Assert.True((string)run!["state"]! == "succeeded", run.ToJsonString());
        Assert.Contains("hello-from-container", (string)run["stdout"]!, StringComparison.Ordinal);
        Assert.Contains("/bin/busybox", (string)run["stdout"]!, StringComparison.Ordinal); // the image's file system, not the host's
        Assert.Empty(await cluster.ContainersAsync()); // removed once it ended
    }
}
