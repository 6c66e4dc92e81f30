using System.Text.Json.Nodes;
using static DatacenterOs.Apps.Core.Tests.TestApps;

namespace DatacenterOs.Apps.Core.Tests;

public sealed class UpdateTests
{
    private static readonly AppDefinition Existing = Normalized("""
        {"id":"/web","cmd":"sleep 1","instances":2,"cpus":0.5,
         "env":{"A":"1","B":"2"},
         "labels":{"team":"a"},
         "container":{"type":"DOCKER","docker":{"image":"busybox","privileged":true}},
         "healthChecks":[{"protocol":"COMMAND","command":{"value":"true"}}],
         "upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.5},
         "version":"2024-01-01T00:00:00.000Z"}
        """);

    private static AppDefinition Apply(string body, AppUpdateMode mode) =>
        AppUpdate.ApplyUpdate(Existing, body, mode).GetAppOrThrow();

    [Fact]
    public void Partial_update_replaces_present_fields_and_keeps_absent_ones()
    {
        var app = Apply("""{"instances":5,"env":{"C":"3"}}""", AppUpdateMode.PartialUpdate);

        Assert.Equal(5, app.Instances);
        Assert.Equal(ValueDictionary.Of(("C", EnvVarValue.Of("3"))), app.Env); // env replaced as a whole, not merged
        Assert.Equal(0.5, app.Cpus);
        Assert.Equal("sleep 1", app.Cmd);
        Assert.Equal(Existing.Container, app.Container);
        Assert.Equal(Existing.HealthChecks, app.HealthChecks);
        Assert.Equal(Existing.UpgradeStrategy, app.UpgradeStrategy);
    }

    [Fact]
    public void Partial_update_replaces_nested_objects_wholesale()
    {
        var app = Apply("""{"container":{"docker":{"image":"nginx"}}}""", AppUpdateMode.PartialUpdate);

        Assert.Equal("nginx", app.Container!.Docker!.Image);
        Assert.False(app.Container.Docker.Privileged); // not merged with the old docker object
        Assert.Equal("DOCKER", app.Container.Type);
    }

    [Fact]
    public void Partial_update_cannot_remove_fields_null_keeps_the_value()
    {
        var app = Apply("""{"cmd":null,"env":null,"instances":3}""", AppUpdateMode.PartialUpdate);

        Assert.Equal("sleep 1", app.Cmd);
        Assert.Equal(Existing.Env, app.Env);
        Assert.Equal(3, app.Instances);
    }

    [Fact]
    public void Merge_patch_merges_objects_recursively_and_null_removes()
    {
        var app = Apply("""{"env":{"B":null,"C":"3"},"container":{"docker":{"image":"nginx"}},"cmd":null,"args":["run"]}""", AppUpdateMode.MergePatch);

        Assert.Equal(ValueDictionary.Of(("A", EnvVarValue.Of("1")), ("C", EnvVarValue.Of("3"))), app.Env);
        Assert.Equal("nginx", app.Container!.Docker!.Image);
        Assert.True(app.Container.Docker.Privileged); // merged, so the old flag survives
        Assert.Null(app.Cmd);
        Assert.Equal(["run"], app.Args);
        Assert.Equal(2, app.Instances);
    }

    [Fact]
    public void Merge_patch_null_resets_a_field_to_its_default()
    {
        var app = Apply("""{"upgradeStrategy":null,"cpus":null,"labels":null}""", AppUpdateMode.MergePatch);

        Assert.Equal(UpgradeStrategy.Default, app.UpgradeStrategy);
        Assert.Equal(1.0, app.Cpus);
        Assert.Empty(app.Labels);
    }

    [Fact]
    public void Merge_patch_replaces_arrays()
    {
        var app = Apply("""{"healthChecks":[{"protocol":"TCP"}]}""", AppUpdateMode.MergePatch);

        var check = Assert.Single(app.HealthChecks);
        Assert.Equal("TCP", check.Protocol);
        Assert.Equal(0, check.PortIndex); // re-normalized
    }

    [Fact]
    public void Replace_takes_the_body_as_the_whole_definition()
    {
        var app = Apply("""{"cmd":"sleep 2"}""", AppUpdateMode.Replace);

        Assert.Equal("/web", app.Id);
        Assert.Equal("sleep 2", app.Cmd);
        Assert.Equal(1, app.Instances);
        Assert.Equal(1.0, app.Cpus);
        Assert.Empty(app.Env);
        Assert.Null(app.Container);
        Assert.Equal(UpgradeStrategy.Default, app.UpgradeStrategy);
        Assert.Equal(AppNormalizer.DefaultPortDefinitions, app.PortDefinitions);
    }

    [Theory]
    [InlineData(AppUpdateMode.PartialUpdate)]
    [InlineData(AppUpdateMode.Replace)]
    [InlineData(AppUpdateMode.MergePatch)]
    public void The_path_id_and_the_stored_version_win_over_the_body(AppUpdateMode mode)
    {
        var app = Apply("""{"id":"/other","cmd":"x","version":"2030-01-01T00:00:00.000Z"}""", mode);

        Assert.Equal("/web", app.Id);
        Assert.Equal(Existing.Version, app.Version);
    }

    [Fact]
    public void Scale_only_partial_update_changes_nothing_else()
    {
        var app = Apply("""{"instances":7}""", AppUpdateMode.PartialUpdate);

        Assert.Equal(Existing with { Instances = 7 }, app);
    }

    [Fact]
    public void Deprecated_ports_in_a_partial_update_become_port_definitions()
    {
        var app = Apply("""{"ports":[8080]}""", AppUpdateMode.PartialUpdate);

        Assert.Equal([new PortDefinition { Port = 8080 }], app.PortDefinitions);
        Assert.Null(app.Ports);
        Assert.True(AppValidator.Validate(app).IsValid, AppValidator.Validate(app).ToString());
    }

    [Fact]
    public void Switching_to_bridge_networking_drops_the_port_definitions()
    {
        var app = Apply("""{"networks":[{"mode":"container/bridge"}]}""", AppUpdateMode.PartialUpdate);

        Assert.Null(app.PortDefinitions);
        Assert.Equal(AppNormalizer.DefaultPortMappings.Select(m => m with { HostPort = 0 }), app.Container!.PortMappings!);
    }

    [Theory]
    [InlineData("""{"instances":""", "Invalid JSON")]
    [InlineData("""[1,2]""", "Invalid JSON")]
    [InlineData("""{"instances":"many"}""", "Invalid JSON")]
    [InlineData("", "Please specify data in JSON format")]
    public void Bad_update_bodies_are_400(string body, string message)
    {
        var result = AppUpdate.ApplyUpdate(Existing, body, AppUpdateMode.PartialUpdate);

        Assert.False(result.IsSuccess);
        Assert.Equal(message, result.Error!.Message);
    }

    // RFC 7386 appendix A examples.
    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""["a","b"]""", """["c","d"]""", """["c","d"]""")]
    [InlineData("""{"a":"b"}""", """["c"]""", """["c"]""")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""[1,2]""", """{"a":"b","c":null}""", """{"a":"b"}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public void Merge_patch_follows_RFC_7386(string target, string patch, string expected)
    {
        var targetNode = JsonNode.Parse(target);
        var before = targetNode?.ToJsonString();

        var result = AppUpdate.MergePatch(targetNode, JsonNode.Parse(patch));

        AssertJsonEqual(expected, result!.ToJsonString());
        Assert.Equal(before, targetNode?.ToJsonString()); // input untouched
    }
}
