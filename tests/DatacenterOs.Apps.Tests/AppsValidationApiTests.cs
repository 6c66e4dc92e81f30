namespace DatacenterOs.Apps.Tests;

/// <summary>
/// Rejected input over real HTTP: Marathon's 422 shape (<c>{"message":"Object is not valid","details":[{"path","errors"}]}</c>)
/// naming the field, 400 for malformed JSON, and nothing created or changed.
/// </summary>
public sealed class AppsValidationApiTests : IAsyncLifetime
{
    private AppsFixture _f = null!;

    public static TheoryData<string, string> Invalid => new()
    {
        { """{"cmd":"x"}""", "/id" },
        { """{"id":"/Web","cmd":"x"}""", "/id" },
        { """{"id":"/app/tasks","cmd":"x"}""", "/id" },
        { """{"id":"/web"}""", "/" },
        { """{"id":"/web","cmd":"x","args":["y"]}""", "/" },
        { """{"id":"/web","cmd":"x","cpus":0}""", "/cpus" },
        { """{"id":"/web","cmd":"x","mem":-1}""", "/mem" },
        { """{"id":"/web","cmd":"x","disk":-0.5}""", "/disk" },
        { """{"id":"/web","cmd":"x","instances":-1}""", "/instances" },
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":8080},{"port":8080}]}""", "/portDefinitions" },
        { """{"id":"/web","cmd":"x","portDefinitions":[{"port":70000}]}""", "/portDefinitions(0)/port" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"HTTP","portIndex":1}]}""", "/healthChecks(0)" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"path":"health"}]}""", "/healthChecks(0)/path" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"COMMAND"}]}""", "/healthChecks(0)/command" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"timeoutSeconds":30,"intervalSeconds":30}]}""", "/healthChecks(0)/timeoutSeconds" },
        { """{"id":"/web","cmd":"x","healthChecks":[{"protocol":"FTP"}]}""", "/healthChecks(0)/protocol" },
        { """{"id":"/web","cmd":"x","constraints":[["hostname","FOO"]]}""", "/constraints(0)" },
        { """{"id":"/web","cmd":"x","constraints":[["hostname","UNIQUE"],["rack","LIKE","("]]}""", "/constraints(1)" },
        { """{"id":"/web","cmd":"x","constraints":[["rack","MAX_PER","two"]]}""", "/constraints(0)" },
        { """{"id":"/web","cmd":"x","upgradeStrategy":{"minimumHealthCapacity":1.2}}""", "/upgradeStrategy/minimumHealthCapacity" },
        { """{"id":"/web","cmd":"x","upgradeStrategy":{"maximumOverCapacity":-0.5}}""", "/upgradeStrategy/maximumOverCapacity" },
        { """{"id":"/web","cmd":"x","backoffFactor":0.5}""", "/backoffFactor" },
        { """{"id":"/web","cmd":"x","fetch":[{"uri":""}]}""", "/fetch(0)/uri" },
        { """{"id":"/web","cmd":"x","env":{"":"v"}}""", "/env" },
        { """{"id":"/web","cmd":"x","labels":{"":"v"}}""", "/labels" },
        { """{"id":"/web","cmd":"x","container":{"type":"DOCKER"}}""", "/container/docker" },
        { """{"id":"/web","container":{"type":"DOCKER","docker":{"image":""}}}""", "/container/docker/image" },
        { """{"id":"/web","cmd":"x","killSelection":"RANDOM"}""", "/killSelection" },
        { """{"id":"/web","cmd":"x","progressDeadlineSeconds":0}""", "/progressDeadlineSeconds" },
    };

    public async Task InitializeAsync() => _f = await AppsFixture.StartAsync(agents: 1);

    public async Task DisposeAsync() => await _f.DisposeAsync();

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task Invalid_app_is_rejected_with_422_naming_the_field_and_nothing_is_created(string json, string path)
    {
        var (status, body, _) = await _f.SendAsync(HttpMethod.Post, "/v2/apps", json);
        Assert.Equal(422, status);
        Assert.Equal("Object is not valid", (string)body!["message"]!);
        var details = body["details"]!.AsArray();
        Assert.Contains(details, d => (string)d!["path"]! == path && d["errors"]!.AsArray().Count > 0);

        var (_, list, _) = await _f.SendAsync(HttpMethod.Get, "/v2/apps");
        Assert.Empty(list!["apps"]!.AsArray());
        var (_, deployments, _) = await _f.SendAsync(HttpMethod.Get, "/v2/deployments");
        Assert.Empty(deployments!.AsArray());
    }

    [Fact]
    public async Task Invalid_update_changes_nothing()
    {
        var (status, _, _) = await _f.SendAsync(HttpMethod.Post, "/v2/apps", """{"id":"/keep","cmd":"sleep 100","cpus":0.1,"mem":16,"instances":0}""");
        Assert.Equal(201, status);
        var before = (await _f.GetAppAsync("/keep")).ToJsonString();

        (status, var body, _) = await _f.SendAsync(HttpMethod.Put, "/v2/apps/keep", """{"cpus":-1}""");
        Assert.Equal(422, status);
        Assert.Equal("/cpus", (string)body!["details"]![0]!["path"]!);
        (status, _, _) = await _f.SendAsync(HttpMethod.Patch, "/v2/apps/keep", """{"upgradeStrategy":{"minimumHealthCapacity":7}}""");
        Assert.Equal(422, status);
        (status, body, _) = await _f.SendAsync(HttpMethod.Put, "/v2/apps/keep", """{"cpus": """);
        Assert.Equal(400, status);
        Assert.Equal("Invalid JSON", (string)body!["message"]!);

        Assert.Equal(before, (await _f.GetAppAsync("/keep")).ToJsonString());
        var (_, versions, _) = await _f.SendAsync(HttpMethod.Get, "/v2/apps/keep/versions");
        Assert.Single(versions!["versions"]!.AsArray());
    }

    [Fact]
    public async Task Malformed_bodies_get_400_and_unknown_ids_404()
    {
        var (status, body, _) = await _f.SendAsync(HttpMethod.Post, "/v2/apps", "{not json");
        Assert.Equal(400, status);
        Assert.Equal("Invalid JSON", (string)body!["message"]!);
        (status, _, _) = await _f.SendAsync(HttpMethod.Post, "/v2/groups", "[1,2]");
        Assert.Equal(400, status);
        (status, body, _) = await _f.SendAsync(HttpMethod.Post, "/v2/groups", """{"id":"/g","apps":[{"id":"a","cmd":"x","cpus":-1}]}""");
        Assert.Equal(422, status);
        Assert.Equal("/apps(0)/cpus", (string)body!["details"]![0]!["path"]!);
        (status, _, _) = await _f.SendAsync(HttpMethod.Get, "/v2/apps/missing");
        Assert.Equal(404, status);
        (status, _, _) = await _f.SendAsync(HttpMethod.Delete, "/v2/apps/missing");
        Assert.Equal(404, status);
        (status, _, _) = await _f.SendAsync(HttpMethod.Post, "/v2/apps/missing/restart");
        Assert.Equal(404, status);
        (status, _, _) = await _f.SendAsync(HttpMethod.Patch, "/v2/apps/missing", """{"instances":2}""");
        Assert.Equal(404, status);
        (status, _, _) = await _f.SendAsync(HttpMethod.Get, "/v2/groups/missing");
        Assert.Equal(404, status);

        var (_, list, _) = await _f.SendAsync(HttpMethod.Get, "/v2/apps");
        Assert.Empty(list!["apps"]!.AsArray());
    }
}
