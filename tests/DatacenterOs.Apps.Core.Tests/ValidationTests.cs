using System.Text.Json.Nodes;
using static DatacenterOs.Apps.Core.Tests.TestApps;

namespace DatacenterOs.Apps.Core.Tests;

public sealed class ValidationTests
{
    /// <summary>
    /// Each case: an app body (parsed, normalized, validated), the exact set of paths with violations, and a fragment
    /// of the message expected at the first path.
    /// </summary>
    public static TheoryData<string, string[], string> Cases => new()
    {
        // id
        { """{"cmd":"x"}""", ["/id"], "must not be empty" },
        { """{"id":"/Web","cmd":"x"}""", ["/id"], "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*" },
        { """{"id":"/web/","cmd":"x"}""", ["/id"], "must not end with '/'" },
        { """{"id":"/a//b","cmd":"x"}""", ["/id"], "must not contain empty path segments" },
        { """{"id":"/","cmd":"x"}""", ["/id", "/"], "Path must contain at least one path element" },
        { """{"id":"/app/tasks","cmd":"x"}""", ["/id"], "must not end with any of the following reserved keywords" },

        // what to run
        { """{"id":"/web"}""", ["/"], "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'." },
        { """{"id":"/web","cmd":"x","args":["y"]}""", ["/"], "must either contain one of 'cmd' or 'args'" },
        { """{"id":"/web","cmd":""}""", ["/"], "must not be an empty string" },

        // resources
        { """{"id":"/web","cmd":"x","cpus":0}""", ["/cpus"], "got 0.0, expected 0.001 or more" },
        { """{"id":"/web","cmd":"x","mem":-1}""", ["/mem"], "got -1.0, expected 0.0 or more" },
        { """{"id":"/web","cmd":"x","disk":-0.5}""", ["/disk"], "got -0.5, expected 0.0 or more" },
        { """{"id":"/web","cmd":"x","gpus":-1}""", ["/gpus"], "got -1, expected 0 or more" },
        { """{"id":"/web","cmd":"x","instances":-1}""", ["/instances"], "got -1, expected 0 or more" },
        { """{"id":"/web","cmd":"x","gpus":1,"container":{"type":"DOCKER","docker":{"image":"cuda"}}}""", ["/"], "GPU resources only work with the Mesos containerizer" },

        // ports
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":8080},{"port":8080}]}""", ["/portDefinitions"], "Ports must be unique." },
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":0,"name":"http"},{"port":0,"name":"http"}]}""", ["/portDefinitions"], "Port names must be unique." },
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":70000}]}""", ["/portDefinitions(0)/port"], "got 70000, expected between 0 and 65535" },
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":80,"protocol":"sctp"}]}""", ["/portDefinitions(0)/protocol"], "must be one of tcp, udp" },
        { """{"id":"/web","cmd":"x","ports":[8080],"portDefinitions":[{"port":9090}]}""", ["/"], "cannot specify both ports and port definitions" },
        { """{"id":"/web","cmd":"x","ports":[8080,8080]}""", ["/portDefinitions"], "Ports must be unique." },

        // health checks
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"HTTP","portIndex":1}]}""", ["/healthChecks(0)"], "Health check port indices must address an element of the ports array or container port mappings." },
        { """{"id":"/web","cmd":"x","portDefinitions":[],"healthChecks":[{"protocol":"TCP"}]}""", ["/healthChecks(0)"], "Health check port indices must address" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"HTTP","port":8080,"portIndex":0}]}""", ["/healthChecks(0)"], "HealthCheck must specify either a port or a portIndex" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"path":"health"}]}""", ["/healthChecks(0)/path"], "must start with '/'" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"COMMAND"}]}""", ["/healthChecks(0)/command"], "not defined" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"COMMAND","command":{"value":" "}}]}""", ["/healthChecks(0)/command/value"], "must not be empty" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"timeoutSeconds":30,"intervalSeconds":30}]}""", ["/healthChecks(0)/timeoutSeconds"], "got 30, expected less than 30" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"maxConsecutiveFailures":-1}]}""", ["/healthChecks(0)/maxConsecutiveFailures"], "got -1, expected 0 or more" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"gracePeriodSeconds":-5}]}""", ["/healthChecks(0)/gracePeriodSeconds"], "got -5, expected 0 or more" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"FTP"}]}""", ["/healthChecks(0)/protocol"], "must be one of HTTP, HTTPS, TCP, COMMAND, MESOS_HTTP, MESOS_HTTPS, MESOS_TCP" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"MESOS_HTTP"},{"protocol":"MESOS_TCP"}]}""", ["/"], "AppDefinition can contain at most one Mesos health check" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"ipProtocol":"IPv6"}]}""", ["/healthChecks(0)"], "IPv6 can only be used for container type DOCKER" },

        // readiness checks
        { """{"id":"/web","cmd":"x","readinessChecks":[{}]}""", ["/readinessChecks(0)/portName"], "No port definition reference for portName http-api" },
        { """{"id":"/web","cmd":"x","readinessChecks":[{"portName":"default","timeoutSeconds":30}]}""", ["/readinessChecks(0)/timeoutSeconds"], "got 30, expected less than 30" },
        { """{"id":"/web","cmd":"x","readinessChecks":[{"portName":"default"},{"portName":"default"}]}""", ["/readinessChecks"], "got 2, expected 1 or less" },
        { """{"id":"/web","cmd":"x","readinessChecks":[{"portName":"default","httpStatusCodesForReady":[42]}]}""", ["/readinessChecks(0)/httpStatusCodesForReady(0)"], "got 42, expected between 100 and 999" },

        // constraints
        { """{"id":"/web","cmd":"x","constraints":[["hostname","FOO"]]}""", ["/constraints(0)"], "operator must be one of the following UNIQUE, CLUSTER, GROUP_BY, LIKE, MAX_PER, UNLIKE or IS" },
        { """{"id":"/web","cmd":"x","constraints":[["hostname"]]}""", ["/constraints(0)"], "Each constraint must have either 2 or 3 fields" },
        { """{"id":"/web","cmd":"x","constraints":[["hostname","UNIQUE"],["rack","LIKE","("]]}""", ["/constraints(1)"], "is not a valid regular expression" },
        { """{"id":"/web","cmd":"x","constraints":[["rack","LIKE"]]}""", ["/constraints(0)"], "LIKE and UNLIKE require a non-empty, regular expression value" },
        { """{"id":"/web","cmd":"x","constraints":[["rack","MAX_PER","two"]]}""", ["/constraints(0)"], "MAX_PER requires an integer value" },
        { """{"id":"/web","cmd":"x","constraints":[["hostname","UNIQUE","x"]]}""", ["/constraints(0)"], "UNIQUE does not accept a value" },
        { """{"id":"/web","cmd":"x","constraints":[["rack","GROUP_BY","many"]]}""", ["/constraints(0)"], "GROUP BY must define an integer value or else no value at all" },
        { """{"id":"/web","cmd":"x","constraints":[["os","IS","a b"]]}""", ["/constraints(0)"], "IS only supports Mesos text and float values" },
        { """{"id":"/web","cmd":"x","constraints":[["","UNIQUE"]]}""", ["/constraints(0)"], "illegal constraint specification" },

        // upgrade strategy and backoff
        { """{"id":"/web","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.2}}""", ["/upgradeStrategy/minimumHealthCapacity"], "got 1.2, expected between 0.0 and 1.0" },
        { """{"id":"/web","cmd":"x","upgradeStrategy":{"maximumOverCapacity":-0.5}}""", ["/upgradeStrategy/maximumOverCapacity"], "got -0.5, expected between 0.0 and 1.0" },
        { """{"id":"/web","cmd":"x","backoffFactor":0.5}""", ["/backoffFactor"], "got 0.5, expected 1.0 or more" },
        { """{"id":"/web","cmd":"x","backoffSeconds":-1}""", ["/backoffSeconds"], "got -1, expected 0 or more" },
        { """{"id":"/web","cmd":"x","maxLaunchDelaySeconds":-1}""", ["/maxLaunchDelaySeconds"], "got -1, expected 0 or more" },

        // fetch
        { """{"id":"/web","cmd":"x","fetch":[{"uri":""}]}""", ["/fetch(0)/uri"], "must not be empty" },
        { """{"id":"/web","cmd":"x","fetch":[{"uri":"http://x/a b"}]}""", ["/fetch(0)/uri"], "URI has invalid syntax." },
        { """{"id":"/web","cmd":"x","fetch":[{"uri":"http://x/a"}],"uris":["http://x/b"]}""", ["/uris"], "may not be set in conjunction with fetch" },

        // env, secrets, labels
        { """{"id":"/web","cmd":"x","env":{"":"v"}}""", ["/env"], "environment variable names must not be empty" },
        { """{"id":"/web","cmd":"x","env":{"DB_PASS":{"secret":"db"}}}""", ["/env/DB_PASS"], "references an undefined secret named 'db'" },
        { """{"id":"/web","cmd":"x","labels":{"":"v"}}""", ["/labels"], "label keys must not be empty" },
        { """{"id":"/web","cmd":"x","instances":2,"labels":{"MARATHON_SINGLE_INSTANCE_APP":"true"}}""", ["/"], "Single instance app may only have one instance" },

        // container
        { """{"id":"/web","cmd":"x","container":{"type":"DOCKER"}}""", ["/container/docker"], "not defined" },
        { """{"id":"/web","container":{"type":"DOCKER","docker":{"image":""}}}""", ["/container/docker/image"], "must not be empty" },
        { """{"id":"/web","cmd":"x","container":{"type":"RKT"}}""", ["/container/type"], "must be one of DOCKER, MESOS" },
        { """{"id":"/web","cmd":"x","container":{"type":"MESOS","volumes":[{"containerPath":"/d","hostPath":"/h","mode":"RX"}]}}""", ["/container/volumes(0)/mode"], "must be one of RO, RW" },
        { """{"id":"/web","cmd":"x","container":{"type":"MESOS","volumes":[{"containerPath":"data","hostPath":"/h","mode":"RW"}]}}""", ["/container/volumes(0)/containerPath"], "must be an absolute path" },
        { """{"id":"/web","cmd":"x","container":{"type":"DOCKER","docker":{"image":"i","network":"NONE"}}}""", ["/container/docker/network"], "unsupported docker network type NONE" },
        { """{"id":"/web","cmd":"x","networks":[{"mode":"container/bridge"}],"container":{"type":"DOCKER","docker":{"image":"i","network":"BRIDGE"}}}""", ["/"], "must not specify both container.docker.network and networks" },

        // networks
        { """{"id":"/web","cmd":"x","networks":[{"mode":"container"}]}""", ["/networks(0)/name"], "container network name is not defined" },
        { """{"id":"/web","cmd":"x","networks":[{"mode":"host"},{"mode":"container","name":"n"}]}""", ["/networks", "/"], "Must specify either a single host network" },

        // misc
        { """{"id":"/web","cmd":"x","dependencies":["/Bad"]}""", ["/dependencies(0)"], "must fully match regular expression" },
        { """{"id":"/web","cmd":"x","killSelection":"RANDOM"}""", ["/killSelection"], "must be one of YOUNGEST_FIRST, OLDEST_FIRST" },
        { """{"id":"/web","cmd":"x","progressDeadlineSeconds":0}""", ["/progressDeadlineSeconds"], "got 0, expected more than 0" },
        { """{"id":"/web","cmd":"x","taskKillGracePeriodSeconds":-1}""", ["/taskKillGracePeriodSeconds"], "got -1, expected 0 or more" },
        { """{"id":"/web","cmd":"x","unreachableStrategy":{"inactiveAfterSeconds":600,"expungeAfterSeconds":300}}""", ["/unreachableStrategy/inactiveAfterSeconds"], "inactiveAfterSeconds (600) must be less or equal to expungeAfterSeconds, which is 300" },
        { """{"id":"/web","cmd":"x","executor":"a//b"}""", ["/executor"], "must fully match regular expression '^(//cmd)|(/?[^/]+(/[^/]+)*)|$'" },
        { """{"id":"/web","cmd":"x","acceptedResourceRoles":["other"]}""", ["/acceptedResourceRoles"], "acceptedResourceRoles can only contain * and *" },
        { """{"id":"/web","cmd":"x","acceptedResourceRoles":[]}""", ["/acceptedResourceRoles"], "must not be empty" },
        { """{"id":"/web","cmd":"x","role":"-bad"}""", ["/role"], "A role name must not start with a '-'." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Invalid_apps_are_reported_at_Marathons_paths(string json, string[] expectedPaths, string fragment)
    {
        var result = Validate(json);

        Assert.False(result.IsValid);
        Assert.Equal(expectedPaths.Order(StringComparer.Ordinal), result.Paths.Order(StringComparer.Ordinal));
        Assert.Contains(result.MessagesAt(expectedPaths[0]), m => m.Contains(fragment, StringComparison.Ordinal));
    }

    [Fact]
    public void There_are_at_least_thirty_validation_cases()
    {
        Assert.True(Cases.Count >= 30);
    }

    [Fact]
    public void The_422_body_has_Marathons_exact_shape_with_errors_grouped_by_path()
    {
        var result = Validate("""{"id":"/","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.2,"maximumOverCapacity":2}}""");

        Assert.Equal(
            """{"message":"Object is not valid","details":[""" +
            """{"path":"/id","errors":["Path must contain at least one path element"]},""" +
            """{"path":"/","errors":["must not be root"]},""" +
            """{"path":"/upgradeStrategy/minimumHealthCapacity","errors":["got 1.2, expected between 0.0 and 1.0"]},""" +
            """{"path":"/upgradeStrategy/maximumOverCapacity","errors":["got 2.0, expected between 0.0 and 1.0"]}]}""",
            result.ToMarathonJson());
        Assert.Equal(422, ValidationResult.StatusCode);
    }

    [Fact]
    public void Several_errors_at_one_path_share_one_details_entry()
    {
        var result = Validate("""{"id":"/Web/tasks","cmd":"x"}""");

        var detail = Assert.Single(result.Details);
        Assert.Equal("/id", detail.Path);
        Assert.Equal(2, detail.Errors.Count);
        var body = JsonNode.Parse(result.ToMarathonJson())!;
        Assert.Equal(2, body["details"]![0]!["errors"]!.AsArray().Count);
    }

    [Fact]
    public void Apps_in_a_group_must_be_direct_children_of_the_group()
    {
        var context = new ValidationContext { EnclosingGroup = PathId.Parse("/foo/sub") };

        Assert.True(Validate("""{"id":"/foo/sub/app","cmd":"x"}""", context).IsValid);
        var result = Validate("""{"id":"/foo/other/app","cmd":"x"}""", context);
        Assert.Equal(["/id"], result.Paths);
        Assert.Contains("Identifier is not child of '/foo/sub'", result.MessagesAt("/id")[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_features_are_reported()
    {
        var context = new ValidationContext { EnabledFeatures = new HashSet<string>() };
        var result = Validate("""{"id":"/web","cmd":"x","env":{"P":{"secret":"s"}},"secrets":{"s":{"source":"a/b"}}}""", context);

        Assert.Equal(["/"], result.Paths);
        Assert.Equal("Feature secrets is not enabled. Enable with --enable_features secrets)", result.Errors[0].Message);
        Assert.True(Validate("""{"id":"/web","cmd":"x","env":{"P":{"secret":"s"}},"secrets":{"s":{"source":"a/b"}}}""").IsValid);
    }

    [Fact]
    public void Resident_app_rules()
    {
        var result = Validate("""
            {"id":"/db","cmd":"x","acceptedResourceRoles":["*","other"],"upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.5},
             "unreachableStrategy":{"inactiveAfterSeconds":1,"expungeAfterSeconds":2},
             "container":{"type":"MESOS","volumes":[{"containerPath":"a/b","mode":"RO","persistent":{"size":0,"maxSize":5}}]}}
            """);

        Assert.Equal(
            new[]
            {
                "/", "/acceptedResourceRoles", "/container/volumes(0)/containerPath", "/container/volumes(0)/mode",
                "/container/volumes(0)/persistent", "/container/volumes(0)/persistent/size", "/role",
                "/upgradeStrategy/maximumOverCapacity",
            }.Order(StringComparer.Ordinal),
            result.Paths.Order(StringComparer.Ordinal));
        Assert.Contains("unreachableStrategy must be disabled for resident tasks", result.MessagesAt("/"));
        Assert.Contains("Resident apps cannot have the role *", result.MessagesAt("/role"));
        Assert.Contains("A resident app must have `acceptedResourceRoles = [\"*\"]`.", result.MessagesAt("/acceptedResourceRoles"));
        Assert.Contains("value must not contain \"/\"", result.MessagesAt("/container/volumes(0)/containerPath"));
        Assert.Contains("got RO, expected RW", result.MessagesAt("/container/volumes(0)/mode"));
        Assert.Contains("Only mount volumes can have maxSize", result.MessagesAt("/container/volumes(0)/persistent"));
        Assert.Contains("got 0, expected more than 0", result.MessagesAt("/container/volumes(0)/persistent/size"));
        Assert.Contains("got 0.5, expected 0.0", result.MessagesAt("/upgradeStrategy/maximumOverCapacity"));
    }

    [Theory]
    [InlineData("""{"id":"/web","args":["serve"],"container":{"type":"DOCKER","docker":{"image":"nginx"}}}""")]
    [InlineData("""{"id":"/web","container":{"type":"DOCKER","docker":{"image":"nginx"}}}""")]
    [InlineData("""{"id":"/web","container":{"type":"MESOS","docker":{"image":"nginx"}}}""")]
    [InlineData("""{"id":"/web","cmd":"x","instances":0}""")]
    [InlineData("""{"id":"/web","cmd":"x","healthChecks":[{"protocol":"MESOS_HTTP","path":"/"},{"protocol":"COMMAND","command":{"value":"true"}}]}""")]
    [InlineData("""{"id":"/web","cmd":"x","constraints":[["hostname","UNIQUE"],["rack","GROUP_BY"],["rack","GROUP_BY","3"],["zone","CLUSTER"],["rack","LIKE","r[0-9]+"],["rack","UNLIKE","r9"],["rack","MAX_PER","2"],["os","IS","ubuntu-22.04"]]}""")]
    [InlineData("""{"id":"/web","cmd":"x","role":"web","acceptedResourceRoles":["*","web"]}""")]
    [InlineData("""{"id":"/web","cmd":"x","unreachableStrategy":"disabled","killSelection":"OLDEST_FIRST","progressDeadlineSeconds":60}""")]
    [InlineData("""{"id":"/web","cmd":"x","executor":"//cmd"}""")]
    [InlineData("""{"id":"/web","cmd":"x","networks":[{"mode":"container","name":"a"},{"mode":"container","name":"b"}],"container":{"type":"MESOS","portMappings":[{"containerPort":80,"hostPort":0,"networkNames":["a"]}]}}""")]
    public void Valid_apps_have_no_violations(string json)
    {
        var result = Validate(json);

        Assert.True(result.IsValid, result.ToString());
        Assert.Equal("""{"message":"Object is not valid","details":[]}""", result.ToMarathonJson());
    }
}
