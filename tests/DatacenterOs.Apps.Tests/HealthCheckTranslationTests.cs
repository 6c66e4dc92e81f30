using System.Text;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Apps.Tests;

public sealed class HealthCheckTranslationTests
{
    private static HealthCheck MarathonCheck(string json)
    {
        var app = AppNormalizer.Normalize(AppDefinitionJson.Parse(
            $$"""{"id":"/web","cmd":"sleep 1000","portDefinitions":[{"port":0},{"port":0}],"healthChecks":[{{json}}]}""").GetAppOrThrow());
        return Assert.Single(app.HealthChecks);
    }

    private static JsonNode? Wire(HealthCheckDto dto) => JsonNode.Parse(Encoding.UTF8.GetString(MesosJson.Serialize(dto)));

    private static void AssertWire(string expected, HealthCheckTranslationResult result)
    {
        Assert.Null(result.Problem);
        var actual = Wire(result.HealthCheck!);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), actual), actual!.ToJsonString());
    }

    [Fact]
    public void Http_defaults_map_to_a_mesos_http_check_on_the_first_host_port_with_no_delay()
    {
        var result = HealthCheckTranslation.Translate(MarathonCheck("""{"protocol":"HTTP"}"""), [31001, 31002]);

        AssertWire("""
            {"type":"HTTP","delay_seconds":0,"interval_seconds":60,"timeout_seconds":20,"consecutive_failures":3,
             "grace_period_seconds":300,"http":{"scheme":"http","port":31001,"path":"/"}}
            """, result);
    }

    [Fact]
    public void Mesos_https_with_port_index_and_timings()
    {
        var check = MarathonCheck("""
            {"protocol":"MESOS_HTTPS","path":"/health","portIndex":1,"gracePeriodSeconds":30,"intervalSeconds":5,
             "timeoutSeconds":2,"maxConsecutiveFailures":0}
            """);

        AssertWire("""
            {"type":"HTTP","delay_seconds":0,"interval_seconds":5,"timeout_seconds":2,"consecutive_failures":0,
             "grace_period_seconds":30,"http":{"scheme":"https","port":31002,"path":"/health"}}
            """, HealthCheckTranslation.Translate(check, [31001, 31002]));
    }

    [Theory]
    [InlineData("TCP")]
    [InlineData("MESOS_TCP")]
    public void Tcp_protocols_map_to_tcp_and_an_explicit_port_wins(string protocol)
    {
        var result = HealthCheckTranslation.Translate(new HealthCheck { Protocol = protocol, Port = 8080, PortIndex = null }, [31001]);

        Assert.Equal(HealthCheckTypes.Tcp, result.HealthCheck!.Type);
        Assert.Equal(8080, result.HealthCheck.Tcp!.Port);
        Assert.Null(result.HealthCheck.Http);
    }

    [Fact]
    public void Https_maps_to_http_with_the_https_scheme()
    {
        var result = HealthCheckTranslation.Translate(new HealthCheck { Protocol = HealthCheckProtocols.Https, PortIndex = 0 }, [443]);

        Assert.Equal(new HttpCheckInfoDto { Scheme = "https", Port = 443, Path = "/" }, result.HealthCheck!.Http);
    }

    [Fact]
    public void Command_maps_to_a_shell_command_without_a_port()
    {
        var result = HealthCheckTranslation.Translate(MarathonCheck("""{"protocol":"COMMAND","command":{"value":"curl -f localhost:$PORT0"}}"""), []);

        AssertWire("""
            {"type":"COMMAND","delay_seconds":0,"interval_seconds":60,"timeout_seconds":20,"consecutive_failures":3,
             "grace_period_seconds":300,"command":{"value":"curl -f localhost:$PORT0","shell":true}}
            """, result);
    }

    [Theory]
    [InlineData("""{"protocol":"MESOS_HTTP","portIndex":2}""", "health check portIndex 2 does not address one of the instance's 2 port(s)")]
    [InlineData("""{"protocol":"MESOS_TCP","port":70000}""", "health check port 70000 is not between 1 and 65535")]
    [InlineData("""{"protocol":"MESOS_HTTP","ipProtocol":"IPv6"}""", "ipProtocol IPv6 is not supported: health checks probe 127.0.0.1")]
    public void Untranslatable_checks_are_explained(string json, string problem)
    {
        var result = HealthCheckTranslation.Translate(MarathonCheck(json), [31001, 31002]);

        Assert.Null(result.HealthCheck);
        Assert.Equal(problem, result.Problem);
    }

    [Fact]
    public void Consecutive_failures_are_read_from_the_agent_update()
    {
        var unhealthy = new TaskStatusDto { State = TaskStates.Running, Healthy = false, Message = HealthCheckMessages.Failed(4, "refused") };

        Assert.Equal(4, HealthCheckTranslation.ConsecutiveFailuresOf(unhealthy));
        Assert.Equal(0, HealthCheckTranslation.ConsecutiveFailuresOf(unhealthy with { Healthy = true, Message = HealthCheckMessages.Passed }));
        Assert.Equal(0, HealthCheckTranslation.ConsecutiveFailuresOf(new TaskStatusDto { State = TaskStates.Running }));
    }
}
