using static DatacenterOs.Apps.Core.Tests.TestApps;

namespace DatacenterOs.Apps.Core.Tests;

public sealed class NormalizationTests
{
    private const string Minimal = """{"id":"/web","cmd":"sleep 1"}""";

    [Fact]
    public void Minimal_app_gets_Marathons_defaults_one_by_one()
    {
        var app = Normalized(Minimal);

        Assert.Equal("/web", app.Id);
        Assert.Equal("sleep 1", app.Cmd);
        Assert.Empty(app.Args);
        Assert.Null(app.User);
        Assert.Empty(app.Env);
        Assert.Equal(1, app.Instances);
        Assert.Equal(1.0, app.Cpus);
        Assert.Equal(128.0, app.Mem);
        Assert.Equal(0.0, app.Disk);
        Assert.Equal(0, app.Gpus);
        Assert.Equal(string.Empty, app.Executor);
        Assert.Empty(app.Constraints);
        Assert.Empty(app.Fetch);
        Assert.Null(app.Uris);
        Assert.Empty(app.StoreUrls);
        Assert.Null(app.Ports);
        Assert.False(app.RequirePorts);
        Assert.Equal(1, app.BackoffSeconds);
        Assert.Equal(1.15, app.BackoffFactor);
        Assert.Equal(300, app.MaxLaunchDelaySeconds);
        Assert.Null(app.Container);
        Assert.Empty(app.HealthChecks);
        Assert.Empty(app.ReadinessChecks);
        Assert.Empty(app.Dependencies);
        Assert.Equal(new UpgradeStrategy { MinimumHealthCapacity = 1, MaximumOverCapacity = 1 }, app.UpgradeStrategy);
        Assert.Empty(app.Labels);
        Assert.Null(app.AcceptedResourceRoles);
        Assert.Null(app.Version);
        Assert.Equal("YOUNGEST_FIRST", app.KillSelection);
        Assert.Null(app.TaskKillGracePeriodSeconds);
        Assert.Equal(new UnreachableStrategy { InactiveAfterSeconds = 0, ExpungeAfterSeconds = 0 }, app.UnreachableStrategy);
        Assert.Equal("*", app.Role);
        Assert.Equal([new Network { Mode = "host" }], app.Networks);
        Assert.Null(app.ProgressDeadlineSeconds);

        var port = Assert.Single(app.PortDefinitions!);
        Assert.Equal(0, port.Port);
        Assert.Equal("tcp", port.Protocol);
        Assert.Equal("default", port.Name);
        Assert.Null(port.Labels);
    }

    [Fact]
    public void Minimal_app_serializes_to_the_full_definition_Marathon_returns()
    {
        var json = AppDefinitionJson.Serialize(Normalized(Minimal));

        AssertJsonEqual(
            """
            {
              "id": "/web", "cmd": "sleep 1",
              "instances": 1, "cpus": 1, "mem": 128, "disk": 0, "gpus": 0, "executor": "",
              "portDefinitions": [{"port": 0, "protocol": "tcp", "name": "default"}],
              "requirePorts": false,
              "backoffSeconds": 1, "backoffFactor": 1.15, "maxLaunchDelaySeconds": 300,
              "upgradeStrategy": {"minimumHealthCapacity": 1, "maximumOverCapacity": 1},
              "labels": {},
              "killSelection": "YOUNGEST_FIRST",
              "unreachableStrategy": {"inactiveAfterSeconds": 0, "expungeAfterSeconds": 0},
              "role": "*",
              "networks": [{"mode": "host"}]
            }
            """,
            json);
    }

    [Fact]
    public void Minimal_app_is_valid()
    {
        var result = Validate(Minimal);

        Assert.True(result.IsValid, result.ToString());
    }

    [Fact]
    public void Normalization_is_idempotent()
    {
        string[] apps =
        [
            Minimal,
            """{"id":"web","ports":[80,0],"uris":["http://x/a.tgz"],"cmd":"x","healthChecks":[{"protocol":"http"}]}""",
            """{"id":"/d","container":{"type":"docker","docker":{"image":"nginx","network":"BRIDGE","portMappings":[{"containerPort":80}]}}}""",
            """{"id":"/r","cmd":"x","role":"r","container":{"type":"MESOS","volumes":[{"containerPath":"data","persistent":{"size":10}}]}}""",
        ];
        foreach (var json in apps)
        {
            var once = Normalized(json);
            Assert.Equal(once, AppNormalizer.Normalize(once));
        }
    }

    [Fact]
    public void Relative_ids_resolve_against_the_base_group_and_dependencies_against_the_parent()
    {
        var context = new NormalizationContext { BaseGroup = PathId.Parse("/prod") };
        var app = Normalized("""{"id":"web/frontend","cmd":"x","dependencies":["../db","api","/abs/svc"]}""", context);

        Assert.Equal("/prod/web/frontend", app.Id);
        Assert.Equal(["/prod/db", "/prod/web/api", "/abs/svc"], app.Dependencies);
        Assert.Equal("/basic-0", Normalized("""{"id":"basic-0","cmd":"x"}""").Id);
    }

    [Fact]
    public void Ids_with_a_trailing_slash_are_left_for_the_validator()
    {
        Assert.Equal("/web/", Normalized("""{"id":"/web/","cmd":"x"}""").Id);
    }

    [Fact]
    public void Deprecated_ports_become_port_definitions()
    {
        var app = Normalized("""{"id":"/web","cmd":"x","ports":[8080,0]}""");

        Assert.Null(app.Ports);
        Assert.Equal([new PortDefinition { Port = 8080 }, new PortDefinition { Port = 0 }], app.PortDefinitions);
    }

    [Fact]
    public void Deprecated_uris_become_fetch_with_extract_by_extension()
    {
        var app = Normalized("""{"id":"/web","cmd":"x","uris":["http://h/a.tar.gz","http://h/run.sh"]}""");

        Assert.Null(app.Uris);
        Assert.Equal(
            [new FetchUri { Uri = "http://h/a.tar.gz", Extract = true }, new FetchUri { Uri = "http://h/run.sh", Extract = false }],
            app.Fetch);
    }

    [Fact]
    public void Docker_bridge_network_translates_to_networks_and_port_mappings()
    {
        var app = Normalized("""
            {"id":"/nginx","container":{"type":"DOCKER","docker":{"image":"nginx","network":"BRIDGE",
              "portMappings":[{"containerPort":80,"name":"http"}]}}}
            """);

        Assert.Equal([new Network { Mode = "container/bridge" }], app.Networks);
        Assert.Null(app.PortDefinitions);
        Assert.Null(app.Container!.Docker!.Network);
        Assert.Null(app.Container.Docker.PortMappings);
        var mapping = Assert.Single(app.Container.PortMappings!);
        Assert.Equal(80, mapping.ContainerPort);
        Assert.Equal(0, mapping.HostPort); // bridge mode: missing host port means "any"
        Assert.Equal("http", mapping.Name);
        Assert.True(AppValidator.Validate(app).IsValid, AppValidator.Validate(app).ToString());
    }

    [Fact]
    public void Container_networks_take_the_default_network_name_and_get_default_port_mappings()
    {
        var context = new NormalizationContext { DefaultNetworkName = "dcos" };
        var app = Normalized("""{"id":"/a","cmd":"x","networks":[{"mode":"container"}],"portDefinitions":[{"port":0},{"port":0}]}""", context);

        Assert.Equal([new Network { Mode = "container", Name = "dcos" }], app.Networks);
        Assert.Equal(ContainerTypes.Mesos, app.Container!.Type); // non-host networking implies a Mesos container
        Assert.Null(app.PortDefinitions);
        Assert.Equal(2, app.Container.PortMappings!.Count); // one per declared port definition
        Assert.Equal("default", app.Container.PortMappings[0].Name);
    }

    [Fact]
    public void Health_checks_get_port_index_zero_when_the_app_has_ports()
    {
        var app = Normalized("""
            {"id":"/web","cmd":"x","healthChecks":[{"path":"/health"},{"protocol":"tcp","port":8080},{"protocol":"COMMAND","command":{"value":"true"}}]}
            """);

        Assert.Equal(0, app.HealthChecks[0].PortIndex);
        Assert.Equal("HTTP", app.HealthChecks[0].Protocol);
        Assert.False(app.HealthChecks[0].IgnoreHttp1xx);
        Assert.Equal(300, app.HealthChecks[0].GracePeriodSeconds);
        Assert.Equal(60, app.HealthChecks[0].IntervalSeconds);
        Assert.Equal(20, app.HealthChecks[0].TimeoutSeconds);
        Assert.Equal(3, app.HealthChecks[0].MaxConsecutiveFailures);
        Assert.Equal(15, app.HealthChecks[0].DelaySeconds);
        Assert.Null(app.HealthChecks[1].PortIndex);
        Assert.Equal("TCP", app.HealthChecks[1].Protocol);
        Assert.Null(app.HealthChecks[2].PortIndex);
        Assert.Null(app.HealthChecks[2].IgnoreHttp1xx);
    }

    [Fact]
    public void Readiness_checks_get_their_RAML_defaults()
    {
        var check = Assert.Single(Normalized("""{"id":"/web","cmd":"x","readinessChecks":[{"httpStatusCodesForReady":[]}]}""").ReadinessChecks);

        Assert.Equal("readinessCheck", check.Name);
        Assert.Equal("HTTP", check.Protocol);
        Assert.Equal("/", check.Path);
        Assert.Equal("http-api", check.PortName);
        Assert.Equal(30, check.IntervalSeconds);
        Assert.Equal(10, check.TimeoutSeconds);
        Assert.Equal([200], check.HttpStatusCodesForReady);
        Assert.False(check.PreserveLastResponse);
    }

    [Fact]
    public void Resident_apps_default_to_resident_upgrade_and_disabled_unreachable_strategies()
    {
        var app = Normalized("""
            {"id":"/db","cmd":"x","role":"db","container":{"type":"MESOS","volumes":[{"containerPath":"data","persistent":{"size":10}}]}}
            """);

        Assert.True(app.IsResident);
        Assert.Equal(UpgradeStrategy.ForResidentTasks, app.UpgradeStrategy);
        Assert.Equal(UnreachableStrategy.Disabled, app.UnreachableStrategy);
        Assert.Equal("RW", app.Container!.Volumes[0].Mode);
        Assert.Equal("root", app.Container.Volumes[0].Persistent!.Type);
        Assert.True(AppValidator.Validate(app).IsValid, AppValidator.Validate(app).ToString());
    }

    [Fact]
    public void Single_instance_apps_default_to_a_stop_then_start_upgrade_strategy()
    {
        var app = Normalized("""{"id":"/one","cmd":"x","labels":{"MARATHON_SINGLE_INSTANCE_APP":"true"}}""");

        Assert.Equal(new UpgradeStrategy { MinimumHealthCapacity = 0, MaximumOverCapacity = 0 }, app.UpgradeStrategy);
        Assert.True(AppValidator.Validate(app).IsValid);
    }

    [Fact]
    public void Enumerations_are_case_insensitive_and_stored_canonically()
    {
        var app = Normalized("""
            {"id":"/a","cmd":"x","killSelection":"oldest_first","constraints":[["hostname","unique"]],
             "portDefinitions":[{"port":0,"protocol":"UDP"}],
             "container":{"type":"mesos","volumes":[{"containerPath":"/d","hostPath":"/h","mode":"ro"}]}}
            """);

        Assert.Equal("OLDEST_FIRST", app.KillSelection);
        Assert.Equal(["hostname", "UNIQUE"], app.Constraints[0]);
        Assert.Equal("udp", app.PortDefinitions![0].Protocol);
        Assert.Equal("MESOS", app.Container!.Type);
        Assert.Equal("RO", app.Container.Volumes[0].Mode);
    }

    [Fact]
    public void The_role_defaults_to_the_context_role_and_an_explicit_role_is_kept()
    {
        var context = new NormalizationContext { DefaultRole = "prod" };

        Assert.Equal("prod", Normalized(Minimal, context).Role);
        Assert.Equal("dev", Normalized("""{"id":"/a","cmd":"x","role":"dev"}""", context).Role);
    }

    [Fact]
    public void Require_ports_only_applies_to_host_networking()
    {
        var app = Normalized("""{"id":"/a","cmd":"x","requirePorts":true,"networks":[{"mode":"container/bridge"}]}""");

        Assert.False(app.RequirePorts);
        Assert.True(Normalized("""{"id":"/a","cmd":"x","requirePorts":true}""").RequirePorts);
    }
}
