using DatacenterOs.Apps.Core.Discovery;
using DatacenterOs.Apps.Core.StateModels;

namespace DatacenterOs.Apps.Core.Tests.StateModels;

public sealed class DiscoveryCoreTests
{
    private static readonly AppDefinition Web = TestApps.Normalized("""
        {"id":"/prod/web","cmd":"x","portDefinitions":[{"port":10080,"name":"http"},{"port":0,"protocol":"udp"}],
         "healthChecks":[{"protocol":"MESOS_TCP"}]}
        """);

    private static DiscoveryInstance Instance(string id, bool running = true, bool? healthy = true, bool decommissioned = false) => new()
    {
        InstanceId = id,
        Host = "agent-1",
        Ip = "10.0.0.1",
        Ports = [31000, 31001],
        State = running ? "TASK_RUNNING" : "TASK_STAGING",
        Running = running,
        Healthy = healthy,
        Decommissioned = decommissioned,
        ModelState = ModelStates.Online,
    };

    [Fact]
    public void Endpoints_are_exactly_the_running_healthy_instances_not_being_killed()
    {
        var endpoints = EndpointSelector.Select(Web, [Instance("d"), Instance("a", healthy: null), Instance("b", running: false), Instance("c", decommissioned: true), Instance("e", healthy: false), Instance("f")]);
        Assert.Equal(["d", "f"], endpoints.Select(e => e.InstanceId));
        Assert.Equal(["http", "port1"], endpoints[0].Ports.Select(p => p.Name));
        Assert.Equal(31000, endpoints[0].Ports[0].Port);
        Assert.Equal(10080, endpoints[0].Ports[0].ServicePort);

        // Without health checks a running instance is enough.
        var noChecks = Web with { HealthChecks = [] };
        Assert.Equal(["a", "d", "e", "f"], EndpointSelector.Select(noChecks, [Instance("a", healthy: null), Instance("d"), Instance("e", healthy: false), Instance("f")]).Select(e => e.InstanceId));
    }

    [Theory]
    [InlineData("_http._tcp.web-prod", "web-prod", "http", "tcp")]
    [InlineData("_http._tcp.web-prod.marathon.mesos.", "web-prod", "http", "tcp")]
    [InlineData("_web-prod._tcp.marathon.mesos", "web-prod", null, "tcp")]
    [InlineData("_web-prod._udp", "web-prod", null, "udp")]
    public void Mesos_dns_service_names_parse(string service, string app, string? port, string protocol)
    {
        var name = MesosDnsNames.Parse(service);
        Assert.NotNull(name);
        Assert.Equal((app, port, protocol), (name.AppLabel, name.PortName, name.Protocol));
    }

    [Theory]
    [InlineData("web-prod")]
    [InlineData("_http._sctp.web")]
    [InlineData("marathon.mesos")]
    public void Other_names_do_not_parse(string service) => Assert.Null(MesosDnsNames.Parse(service));

    [Fact]
    public void Mesos_dns_records_have_its_string_shape_and_app_labels_reverse_the_path()
    {
        Assert.Equal("web-prod", MesosDnsNames.AppLabel(PathId.Parse("/prod/web")));
        var endpoints = EndpointSelector.Select(Web, [Instance("a"), Instance("b")]);
        var records = MesosDnsNames.Records("_http._tcp.web-prod", MesosDnsNames.Parse("_http._tcp.web-prod")!, endpoints);
        Assert.Equal([new MesosDnsRecord("_http._tcp.web-prod", "agent-1", "10.0.0.1", "31000"), new MesosDnsRecord("_http._tcp.web-prod", "agent-1", "10.0.0.1", "31000")], records);
        Assert.Equal(2, MesosDnsNames.Records("_web-prod._udp", MesosDnsNames.Parse("_web-prod._udp")!, endpoints).Count);
    }

    [Fact]
    public void Haproxy_config_has_a_backend_per_tcp_port_and_a_server_per_endpoint()
    {
        var endpoints = EndpointSelector.Select(Web, [Instance("prod.web.b"), Instance("prod.web.a")]);
        var config = HaproxyConfig.Render([new AppEndpoints("/prod/web", EndpointSelector.PortNames(Web), endpoints)], "127.0.0.1");
        Assert.Contains("frontend prod_web_0\n    bind 127.0.0.1:10080\n    default_backend prod_web_0\n", config, StringComparison.Ordinal);
        Assert.Contains("backend prod_web_0\n    balance roundrobin\n    server prod.web.a 10.0.0.1:31000\n    server prod.web.b 10.0.0.1:31000\n", config, StringComparison.Ordinal);
        Assert.DoesNotContain("prod_web_1", config, StringComparison.Ordinal); // UDP only
        Assert.Equal(config, HaproxyConfig.Render([new AppEndpoints("/prod/web", EndpointSelector.PortNames(Web), [.. endpoints.Reverse()])], "127.0.0.1"));
    }

    [Fact]
    public void State_model_is_validated_with_marathon_paths()
    {
        var ok = TestApps.Validate("""{"id":"/db","cmd":"x","instances":3,"stateModel":{"type":"LeaderStandby","leaders":1,"callbackPath":"/state"}}""");
        Assert.True(ok.IsValid, ok.ToString());
        var bad = TestApps.Validate("""{"id":"/db","cmd":"x","instances":2,"portDefinitions":[],"stateModel":{"type":"Primary","leaders":0,"callbackPath":"state"}}""");
        Assert.Equal(["/stateModel/type", "/stateModel/callbackPath"], bad.Paths);
        var tooMany = TestApps.Validate("""{"id":"/db","cmd":"x","instances":2,"stateModel":{"type":"LeaderStandby","leaders":3}}""");
        Assert.Equal(["/stateModel/leaders"], tooMany.Paths);
        var noPort = TestApps.Validate("""{"id":"/db","cmd":"x","portDefinitions":[],"stateModel":{"type":"LeaderStandby","callbackPath":"/state"}}""");
        Assert.Equal("needs a port: the callback is sent to the instance's first port", Assert.Single(noPort.MessagesAt("/stateModel/callbackPath")));
        var app = TestApps.Normalized("""{"id":"/db","cmd":"x","stateModel":{"type":"LeaderStandby"}}""");
        Assert.Equal(1, app.StateModel!.Leaders);
        Assert.Contains("\"stateModel\":{\"type\":\"LeaderStandby\",\"leaders\":1", AppDefinitionJson.Serialize(app), StringComparison.Ordinal);
    }
}
