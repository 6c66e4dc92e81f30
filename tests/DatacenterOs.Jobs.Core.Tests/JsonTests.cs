using System.Text.Json.Nodes;
using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class JsonTests
{
    // The scheduled-job example of Chronos's API documentation (docs/docs/api.md).
    private const string ChronosExample = """
        {
          "schedule": "R10/2012-10-01T05:52:00Z/PT2S",
          "name": "SAMPLE_JOB1",
          "epsilon": "PT15M",
          "command": "echo 'FOO' >> /tmp/JOB1_OUT",
          "owner": "bob@example.com",
          "async": false
        }
        """;

    [Fact]
    public void Chronos_example_parses_with_Chronos_defaults()
    {
        var job = JobJson.Parse(ChronosExample).GetValueOrThrow();

        Assert.Equal("SAMPLE_JOB1", job.Name);
        Assert.Equal("R10/2012-10-01T05:52:00Z/PT2S", job.Schedule);
        Assert.True(job.Shell);
        Assert.Equal(2, job.Retries);
        Assert.False(job.Disabled);
        Assert.Null(job.Parents);
        Assert.True(job.IsScheduled);
        Assert.Equal(ConcurrencyPolicies.Forbid, job.EffectiveConcurrencyPolicy);
        Assert.Equal(DependencyModes.Dag, job.DependencyMode);
    }

    [Fact]
    public void Normalized_Chronos_example_round_trips_through_Chronos_shaped_JSON()
    {
        var job = JobNormalizer.Normalize(JobJson.Parse(ChronosExample).GetValueOrThrow(), At("2026-01-01T00:00:00Z"));

        var json = JobJson.Serialize(job);
        var node = JsonNode.Parse(json)!.AsObject();
        var again = JobJson.Parse(json).GetValueOrThrow();

        Assert.Equal(job, again);
        Assert.Equal(
            ["name", "command", "shell", "epsilon", "executor", "executorFlags", "taskInfoData", "retries", "owner", "ownerName", "description", "async", "successCount", "errorCount", "lastSuccess", "lastError", "cpus", "disk", "mem", "disabled", "softError", "dataProcessingJobType", "errorsSinceLastSuccess", "fetch", "uris", "environmentVariables", "arguments", "highPriority", "runAsUser"],
            node.Select(p => p.Key).Take(29).ToList());
        Assert.Equal(0.1, (double)node["cpus"]!);
        Assert.Equal(128, (double)node["mem"]!);
        Assert.Equal(256, (double)node["disk"]!);
        Assert.Equal("root", (string)node["runAsUser"]!);
        Assert.Equal("PT15M", (string)node["epsilon"]!);
        Assert.Equal(900, (long)node["startingDeadlineSeconds"]!);
        Assert.Equal("FORBID", (string)node["concurrencyPolicy"]!);
        Assert.False((bool)node["concurrent"]!);
        Assert.Equal("", (string)node["scheduleTimeZone"]!);
        Assert.False(node.ContainsKey("parents"));
        Assert.False(node.ContainsKey("container"));
    }

    [Fact]
    public void Dependent_job_is_written_with_parents_and_without_schedule_fields()
    {
        var job = Dependent("child", "a", "b") with { ScheduleTimeZone = "Europe/Berlin" };

        var node = JsonNode.Parse(JobJson.Serialize(job))!.AsObject();

        Assert.Equal(["a", "b"], node["parents"]!.AsArray().Select(p => (string)p!).ToList());
        Assert.False(node.ContainsKey("schedule"));
        Assert.False(node.ContainsKey("scheduleTimeZone"));
    }

    [Fact]
    public void Full_job_with_container_fetch_and_constraints_round_trips()
    {
        const string json = """
            {
              "name": "etl.load-1", "command": "run.sh", "shell": false, "arguments": ["--day", "today"],
              "parents": ["extract"], "retries": 0, "softError": true, "cpus": 0.5, "mem": 512, "disk": 1024,
              "environmentVariables": [{"name": "MODE", "value": "full"}],
              "fetch": [{"uri": "https://example.com/run.sh", "executable": true, "output_file": "run.sh"}],
              "constraints": [["rack", "EQUALS", "r1"]],
              "container": {"type": "DOCKER", "image": "busybox:1", "network": "BRIDGE", "forcePullImage": true,
                            "volumes": [{"containerPath": "/data", "hostPath": "/srv/data", "mode": "RO"}],
                            "parameters": [{"key": "label", "value": "team=data"}]},
              "concurrencyPolicy": "REPLACE", "maxRunSeconds": 3600, "retryDelaySeconds": 10, "dependencyMode": "chronos",
              "someFutureField": {"ignored": true}
            }
            """;

        var job = JobJson.Parse(json).GetValueOrThrow();
        var again = JobJson.Parse(JobJson.Serialize(job, indented: true)).GetValueOrThrow();

        Assert.Equal(job, again);
        Assert.False(job.Shell);
        Assert.Equal(["--day", "today"], job.Arguments);
        Assert.True(job.Fetch[0].Executable);
        Assert.True(job.Fetch[0].Extract);
        Assert.Equal("run.sh", job.Fetch[0].OutputFile);
        Assert.Equal("busybox:1", job.Container!.Image);
        Assert.Equal("RO", job.Container.Volumes[0].Mode);
        Assert.Equal(ConcurrencyPolicies.Replace, job.EffectiveConcurrencyPolicy);
        Assert.True(job.UsesChronosDependencies);
        Assert.Equal(3600, job.EffectiveMaxRunSeconds);
    }

    [Fact]
    public void Null_means_absent_and_keeps_the_default()
    {
        var job = JobJson.Parse("""{"name":"a","command":"x","schedule":"@daily","arguments":null,"description":null,"container":null}""");

        Assert.True(job.IsSuccess, job.Error?.Message);
        Assert.Empty(job.Value!.Arguments);
        Assert.Equal(string.Empty, job.Value.Description);
        Assert.Null(job.Value.Container);
    }

    [Theory]
    [InlineData("{\"name\": \"a\",")]
    [InlineData("[]")]
    [InlineData("\"job\"")]
    [InlineData("{\"name\": \"a\", \"retries\": \"three\"}")]
    [InlineData("{\"name\": \"a\", \"parents\": \"b\"}")]
    [InlineData("null")]
    [InlineData("   ")]
    public void Malformed_bodies_give_an_error_result(string body)
    {
        var result = JobJson.Parse(body);

        Assert.False(result.IsSuccess);
        Assert.NotEmpty(result.Error!.Message);
        Assert.Equal("Bad Request", (string)JsonNode.Parse(result.Error.ToChronosJson())!["status"]!);
    }

    [Fact]
    public void Job_lists_round_trip()
    {
        var jobs = new[] { Scheduled("a", "@hourly"), Dependent("b", "a") };

        var parsed = JobJson.ParseMany(JobJson.SerializeMany(jobs)).GetValueOrThrow();

        Assert.Equal(jobs, parsed);
    }

    [Fact]
    public void Normalizer_fills_Chronos_defaults_and_anchors_an_empty_start()
    {
        var now = At("2026-04-01T12:00:00Z");

        var noSchedule = JobNormalizer.Normalize(new JobDefinition { Name = "once", Command = "x" }, now);
        var emptyStart = JobNormalizer.Normalize(Scheduled("s", "R/ /PT1H".Replace(" ", string.Empty, StringComparison.Ordinal)), now);
        var deadline = JobNormalizer.Normalize(Scheduled("d", "@daily") with { StartingDeadlineSeconds = 120, Concurrent = true }, now);

        Assert.Equal("R1/2026-04-01T11:59:59.000Z/PT24H", noSchedule.Schedule);
        Assert.Equal("R/2026-04-01T11:59:59.000Z/PT1H", emptyStart.Schedule);
        Assert.Equal("PT120S", deadline.Epsilon);
        Assert.Equal(ConcurrencyPolicies.Allow, deadline.ConcurrencyPolicy);
        Assert.Equal(JobNormalizer.Normalize(noSchedule, now.AddDays(1)), noSchedule);
    }
}
