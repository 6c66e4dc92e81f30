using System.Text;
using System.Text.Json.Nodes;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent.Tests;

/// <summary>The health state machine (Mesos health checker rules) at explicit instants, and the wire shape of health checks.</summary>
public sealed class HealthCheckStateTests
{
    private static readonly DateTimeOffset Launched = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double seconds) => Launched.AddSeconds(seconds);

    [Fact]
    public void Failures_within_the_grace_period_are_ignored_until_the_first_success()
    {
        var state = new HealthCheckState(Launched, TimeSpan.FromSeconds(10), failureThreshold: 3);

        Assert.Null(state.Failure(At(1), "refused"));
        Assert.Null(state.Failure(At(10), "refused")); // the grace period includes its end, as in Mesos
        Assert.Equal(2, state.IgnoredFailures);
        Assert.Equal(0, state.ConsecutiveFailures);
        Assert.Null(state.Healthy);

        var first = state.Failure(At(10.5), "refused");
        Assert.Equal(new HealthVerdict(false, 1, "health check failed 1 consecutive time: refused"), first);
    }

    [Fact]
    public void After_a_success_the_grace_period_no_longer_applies()
    {
        var state = new HealthCheckState(Launched, TimeSpan.FromSeconds(300), failureThreshold: 3);

        Assert.Equal(new HealthVerdict(true, 0, HealthCheckMessages.Passed), state.Success());
        var failed = state.Failure(At(5), "HTTP 500");

        Assert.NotNull(failed);
        Assert.False(failed.Healthy);
        Assert.Equal(1, failed.ConsecutiveFailures);
    }

    [Fact]
    public void Updates_on_health_changes_and_when_the_failure_threshold_is_reached()
    {
        var state = new HealthCheckState(Launched, TimeSpan.Zero, failureThreshold: 3);

        Assert.True(state.Success()!.Healthy);          // first result
        Assert.Null(state.Success());                    // unchanged
        Assert.Equal(1, state.Failure(At(1), "x")!.ConsecutiveFailures); // healthy → unhealthy
        Assert.Null(state.Failure(At(2), "x"));
        var threshold = state.Failure(At(3), "x");       // reached consecutive_failures
        Assert.Equal(new HealthVerdict(false, 3, "health check failed 3 consecutive times: x"), threshold);
        Assert.Null(state.Failure(At(4), "x"));
        Assert.Equal(4, state.ConsecutiveFailures);
        Assert.True(state.Success()!.Healthy);           // unhealthy → healthy resets the count
        Assert.Equal(0, state.ConsecutiveFailures);
        Assert.Equal(1, state.Failure(At(6), "y")!.ConsecutiveFailures);
    }

    [Fact]
    public void Threshold_zero_reports_only_changes()
    {
        var state = new HealthCheckState(Launched, TimeSpan.Zero, failureThreshold: 0);

        Assert.NotNull(state.Failure(At(1), "x"));
        for (var i = 2; i < 10; i++)
        {
            Assert.Null(state.Failure(At(i), "x"));
        }
    }

    [Fact]
    public void Restore_continues_from_the_latest_reported_health()
    {
        var unhealthy = new TaskStatusDto { State = TaskStates.Running, Healthy = false, Message = HealthCheckMessages.Failed(3, "refused") };
        var state = HealthCheckState.Restore(Launched, TimeSpan.FromSeconds(600), 3, unhealthy);

        Assert.False(state.Healthy);
        Assert.Equal(3, state.ConsecutiveFailures);
        Assert.False(state.Initializing);
        Assert.Null(state.Failure(At(1), "refused")); // no repeat: already reported unhealthy and past the threshold
        Assert.True(state.Success()!.Healthy);

        var fresh = HealthCheckState.Restore(Launched, TimeSpan.FromSeconds(600), 3, new TaskStatusDto { State = TaskStates.Running });
        Assert.True(fresh.Initializing);
        Assert.Null(fresh.Failure(At(1), "refused"));
    }

    [Theory]
    [InlineData("health check failed 1 consecutive time: refused", true, 1)]
    [InlineData("health check failed 12 consecutive times: HTTP GET http://127.0.0.1:80/ returned status 500", true, 12)]
    [InlineData("health check passed", false, 0)]
    [InlineData("health check failed x consecutive times: y", false, 0)]
    [InlineData(null, false, 0)]
    public void Failure_count_is_read_back_from_the_message(string? message, bool parsed, int count)
    {
        Assert.Equal(parsed, HealthCheckMessages.TryParseConsecutiveFailures(message, out var failures));
        Assert.Equal(count, failures);
    }

    [Fact]
    public void Health_check_json_has_the_mesos_v1_shape_and_defaults()
    {
        var check = MesosJson.Deserialize<HealthCheckDto>("""{"type":"HTTP","http":{"scheme":"http","port":8080,"path":"/ping","statuses":[200,204]}}"""u8);

        Assert.Equal(15, check.DelaySeconds);
        Assert.Equal(10, check.IntervalSeconds);
        Assert.Equal(20, check.TimeoutSeconds);
        Assert.Equal(3, check.ConsecutiveFailures);
        Assert.Equal(10, check.GracePeriodSeconds);
        Assert.Equal(8080, check.Http!.Port);
        Assert.Equal([200, 204], check.Http.Statuses);

        var task = new TaskInfoDto
        {
            TaskId = new IdDto("t"),
            HealthCheck = new HealthCheckDto { Type = HealthCheckTypes.Tcp, Tcp = new TcpCheckInfoDto { Port = 31000 }, DelaySeconds = 0 },
        };
        var json = JsonNode.Parse(Encoding.UTF8.GetString(MesosJson.Serialize(task)))!["health_check"]!;
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"type":"TCP","delay_seconds":0,"interval_seconds":10,"timeout_seconds":20,"consecutive_failures":3,"grace_period_seconds":10,"tcp":{"port":31000}}"""),
            json), json.ToJsonString());

        var command = MesosJson.Deserialize<HealthCheckDto>("""{"type":"COMMAND","command":{"value":"curl -f localhost:$PORT0"},"grace_period_seconds":300}"""u8);
        Assert.Equal("curl -f localhost:$PORT0", command.Command!.Value);
        Assert.Equal(300, command.GracePeriodSeconds);
    }

    [Theory]
    [InlineData("""{"type":"HTTP","http":{"port":80}}""", null)]
    [InlineData("""{"tcp":{"port":80}}""", null)]
    [InlineData("""{"type":"COMMAND","command":{"value":"true"}}""", null)]
    [InlineData("""{"type":"GRPC"}""", "unknown type 'GRPC' (expected COMMAND, HTTP or TCP)")]
    [InlineData("""{"http":{"port":80},"tcp":{"port":80}}""", "'type' is missing and cannot be inferred (give exactly one of 'http', 'tcp', 'command')")]
    [InlineData("""{"type":"TCP","tcp":{"port":0}}""", "'tcp.port' must be between 1 and 65535")]
    [InlineData("""{"type":"HTTP","http":{"port":80,"scheme":"ftp"}}""", "'http.scheme' must be http or https, not 'ftp'")]
    [InlineData("""{"type":"COMMAND","command":{}}""", "a COMMAND check needs 'command.value'")]
    [InlineData("""{"type":"TCP","tcp":{"port":80},"interval_seconds":-1}""", "'interval_seconds' must be a number of seconds between 0 and one year")]
    [InlineData("""{"type":"TCP","tcp":{"port":80},"consecutive_failures":-1}""", "'consecutive_failures' must not be negative")]
    public void Invalid_checks_are_explained(string json, string? problem) =>
        Assert.Equal(problem, TaskHealthChecker.Problem(MesosJson.Deserialize<HealthCheckDto>(Encoding.UTF8.GetBytes(json))));
}
