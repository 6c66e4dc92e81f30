using System.Text;
using System.Text.Json.Nodes;
using static DatacenterOs.Apps.Core.Tests.TestApps;

namespace DatacenterOs.Apps.Core.Tests;

public sealed class JsonTests
{
    private const string Full = """
        {
          "id": "/prod/web",
          "cmd": "python3 -m http.server $PORT0",
          "user": "nobody",
          "env": {"MODE": "prod", "DB_PASSWORD": {"secret": "db"}, "GREETING": "héllo \"world\" <b>"},
          "secrets": {"db": {"source": "prod/db/password"}},
          "instances": 3, "cpus": 0.25, "mem": 64.5, "disk": 10, "gpus": 0, "executor": "",
          "constraints": [["hostname", "UNIQUE"], ["rack", "GROUP_BY", "3"]],
          "fetch": [{"uri": "https://example.com/app.tgz", "extract": true, "executable": false, "cache": true, "destPath": "app"}],
          "storeUrls": ["https://example.com/store"],
          "portDefinitions": [{"port": 0, "protocol": "tcp", "name": "http", "labels": {"VIP_0": "/web:80"}}],
          "requirePorts": false,
          "backoffSeconds": 2, "backoffFactor": 1.5, "maxLaunchDelaySeconds": 120,
          "container": {
            "type": "DOCKER",
            "docker": {"image": "python:3", "privileged": false, "parameters": [{"key": "label", "value": "a=b"}], "forcePullImage": true},
            "volumes": [{"containerPath": "/data", "hostPath": "/srv/data", "mode": "RO"}]
          },
          "healthChecks": [{"protocol": "HTTP", "path": "/health", "portIndex": 0, "gracePeriodSeconds": 30, "intervalSeconds": 10,
                            "timeoutSeconds": 5, "maxConsecutiveFailures": 2, "delaySeconds": 15, "ignoreHttp1xx": true, "ipProtocol": "IPv4"}],
          "readinessChecks": [{"name": "ready", "protocol": "HTTP", "path": "/ready", "portName": "http", "intervalSeconds": 5,
                               "timeoutSeconds": 2, "httpStatusCodesForReady": [200, 204], "preserveLastResponse": true}],
          "dependencies": ["/prod/db"],
          "upgradeStrategy": {"minimumHealthCapacity": 0.5, "maximumOverCapacity": 0.2},
          "labels": {"owner": "team-a"},
          "acceptedResourceRoles": ["*"],
          "version": "2024-05-01T12:30:00.123Z",
          "killSelection": "OLDEST_FIRST",
          "taskKillGracePeriodSeconds": 30,
          "unreachableStrategy": {"inactiveAfterSeconds": 60, "expungeAfterSeconds": 600},
          "role": "*",
          "networks": [{"mode": "host"}],
          "progressDeadlineSeconds": 600
        }
        """;

    [Fact]
    public void A_full_app_round_trips_through_JSON()
    {
        var app = Parse(Full);
        var json = AppDefinitionJson.Serialize(app);
        var again = Parse(json);

        Assert.Equal(app, again);
        AssertJsonEqual(Full, json);
        Assert.True(AppValidator.Validate(AppNormalizer.Normalize(app)).IsValid, AppValidator.Validate(AppNormalizer.Normalize(app)).ToString());
        Assert.Equal(app, AppNormalizer.Normalize(app)); // already canonical
    }

    [Fact]
    public void Typed_values_are_read()
    {
        var app = Parse(Full);

        Assert.Equal(EnvVarValue.Of("prod"), app.Env["MODE"]);
        Assert.True(app.Env["DB_PASSWORD"].IsSecretRef);
        Assert.Equal("db", app.Env["DB_PASSWORD"].Secret);
        Assert.Equal("prod/db/password", app.Secrets["db"].Source);
        Assert.Equal(new DateTimeOffset(2024, 5, 1, 12, 30, 0, 123, TimeSpan.Zero), app.Version);
        Assert.Equal(600, app.ProgressDeadlineSeconds);
        Assert.Equal(60, app.UnreachableStrategy!.InactiveAfterSeconds);
        Assert.Equal(["rack", "GROUP_BY", "3"], app.Constraints[1]);
    }

    [Fact]
    public void Escaping_is_readable()
    {
        var json = AppDefinitionJson.Serialize(Parse(Full));

        Assert.Contains("\"GREETING\":\"héllo \\\"world\\\" <b>\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_fields_are_ignored_like_Marathon()
    {
        var app = Parse("""{"id":"/a","cmd":"x","tasksRunning":3,"deployments":[{"id":"1"}],"versionInfo":{"lastScalingAt":"x"},"residency":{}}""");

        Assert.Equal("/a", app.Id);
    }

    [Fact]
    public void Unreachable_strategy_disabled_is_a_string()
    {
        var app = Parse("""{"id":"/a","cmd":"x","unreachableStrategy":"disabled"}""");

        Assert.True(app.UnreachableStrategy!.IsDisabled);
        Assert.Contains("\"unreachableStrategy\":\"disabled\"", AppDefinitionJson.Serialize(app), StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_omit_empty_collections_and_nulls_are_left_out()
    {
        var node = ToNode(AppNormalizer.Normalize(Parse("""{"id":"/a","cmd":"x","args":null,"env":{},"user":null}"""))).AsObject();

        foreach (var name in new[] { "args", "env", "secrets", "constraints", "fetch", "storeUrls", "healthChecks", "readinessChecks", "dependencies", "user", "container", "version", "uris", "ports" })
        {
            Assert.False(node.ContainsKey(name), name);
        }

        Assert.True(node.ContainsKey("labels"));
    }

    [Fact]
    public void Null_means_absent_like_Marathons_optional_fields()
    {
        var app = AppNormalizer.Normalize(Parse(
            """{"id":"/a","cmd":"x","args":null,"acceptedResourceRoles":null,"portDefinitions":null,"container":null,"labels":null,"executor":null}"""));

        Assert.Empty(app.Args);
        Assert.Null(app.AcceptedResourceRoles);
        Assert.Equal(AppNormalizer.DefaultPortDefinitions, app.PortDefinitions);
        Assert.Null(app.Container);
        Assert.Empty(app.Labels);
        Assert.Equal(string.Empty, app.Executor);
        Assert.True(AppValidator.Validate(app).IsValid);

        // A null id is an absent id: a 422 at /id rather than a 400.
        Assert.Equal(["/id"], AppValidator.Validate(Parse("""{"id":null,"cmd":"x"}""")).Paths);
    }

    [Fact]
    public void Parse_from_bytes_matches_parse_from_string()
    {
        var fromBytes = AppDefinitionJson.Parse(Encoding.UTF8.GetBytes(Full)).GetAppOrThrow();

        Assert.Equal(Parse(Full), fromBytes);
        Assert.Equal(AppDefinitionJson.Serialize(fromBytes), Encoding.UTF8.GetString(AppDefinitionJson.SerializeToUtf8Bytes(fromBytes)));
    }

    [Theory]
    [InlineData("""{"id":"/a","cmd":"x" """)]
    [InlineData("""{"id":"/a",,}""")]
    [InlineData("""not json""")]
    [InlineData("""{"id":"/a","cpus":"lots"}""")]
    [InlineData("""{"id":123}""")]
    [InlineData("""{"id":"/a","instances":1.5}""")]
    [InlineData("""{"id":"/a","env":{"A":1}}""")]
    [InlineData("""{"id":"/a","constraints":"hostname:UNIQUE"}""")]
    [InlineData("""[{"id":"/a"}]""")]
    [InlineData("""null""")]
    [InlineData("""{"id":"/a","version":"yesterday"}""")]
    public void Malformed_bodies_are_400_Invalid_JSON(string body)
    {
        var result = AppDefinitionJson.Parse(body);

        Assert.False(result.IsSuccess);
        Assert.Null(result.App);
        Assert.Equal("Invalid JSON", result.Error!.Message);
        Assert.False(string.IsNullOrWhiteSpace(result.Error.Details));
        Assert.Equal(400, AppJsonError.StatusCode);
        var body400 = JsonNode.Parse(result.Error.ToMarathonJson())!;
        Assert.Equal("Invalid JSON", (string?)body400["message"]);
        Assert.Equal(result.Error.Details, (string?)body400["details"]);
    }

    [Fact]
    public void Invalid_JSON_details_carry_the_parser_message()
    {
        var error = AppDefinitionJson.Parse("""{"id":"/a","cpus":"lots"}""").Error!;

        Assert.Contains("$.cpus", error.Details, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n ")]
    public void Empty_bodies_ask_for_JSON(string body)
    {
        var error = AppDefinitionJson.Parse(body).Error!;

        Assert.Equal("Please specify data in JSON format", error.Message);
        Assert.Equal("""{"message":"Please specify data in JSON format","details":"No content to map due to end-of-input"}""", error.ToMarathonJson());
    }

    [Fact]
    public void Values_compare_structurally()
    {
        Assert.Equal(Parse(Full), Parse(Full));
        Assert.Equal(Parse(Full).GetHashCode(), Parse(Full).GetHashCode());
        Assert.NotEqual(Parse(Full), Parse(Full) with { Labels = ValueDictionary.Of(("owner", "team-b")) });
        Assert.Equal(
            ValueDictionary.Of(("a", "1"), ("b", "2")),
            ValueDictionary.Of(("b", "2"), ("a", "1")));
    }
}
