using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Tests;

/// <summary>Discovery over simulated agents: the endpoint list follows scale, kill and rolling restart exactly.</summary>
public sealed class DiscoveryTests
{
    private static async Task<List<string>> EndpointIdsAsync(AppsFixture f, string id)
    {
        var (status, body, _) = await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps" + id);
        Assert.True(status == 200, $"{status} {body?.ToJsonString()}");
        return [.. body!["endpoints"]!.AsArray().Select(e => (string)e!["instanceId"]!).Order(StringComparer.Ordinal)];
    }

    private static async Task<List<string>> RunningIdsAsync(AppsFixture f, string id) =>
        [.. (await f.GetAppAsync(id))["tasks"]!.AsArray().Where(t => (string?)t!["state"] == "TASK_RUNNING").Select(t => (string)t!["id"]!).Order(StringComparer.Ordinal)];

    private static async Task AssertDiscoveryMatchesAsync(AppsFixture f, string id, int count)
    {
        await f.WaitForStableAsync(id, count);
        await AppsFixture.WaitUntilAsync(async () => (await EndpointIdsAsync(f, id)).SequenceEqual(await RunningIdsAsync(f, id)), $"discovery of {id} to list the {count} running instances");
        Assert.Equal(count, (await EndpointIdsAsync(f, id)).Count);
    }

    [Fact]
    public async Task Discovery_lists_exactly_the_live_instances_through_scale_kill_and_rolling_restart()
    {
        await using var f = await AppsFixture.StartAsync();
        await using var stream = await DiscoveryStream.StartAsync(f);
        var (status, body, _) = await f.SendAsync(HttpMethod.Post, "/v2/apps", """
            {"id":"/prod/web","cmd":"sleep 1000","cpus":0.1,"mem":32,"instances":3,
             "portDefinitions":[{"port":0,"name":"http"},{"port":0,"name":"admin"}]}
            """);
        Assert.True(status == 201, body?.ToJsonString());
        await AssertDiscoveryMatchesAsync(f, "/prod/web", 3);

        // The endpoint document: host, ports by name, state, version, model state.
        var app = (await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps/prod/web")).Body!;
        Assert.Equal("web-prod", (string)app["label"]!);
        Assert.Equal("OnlineOffline", (string)app["stateModel"]!["type"]!);
        var endpoint = app["endpoints"]![0]!;
        Assert.StartsWith("host-", (string)endpoint["host"]!, StringComparison.Ordinal);
        Assert.Equal("TASK_RUNNING", (string)endpoint["state"]!);
        Assert.Equal("ONLINE", (string)endpoint["modelState"]!);
        Assert.InRange((int)endpoint["ports"]!["http"]!, 31000, 31100);
        Assert.InRange((int)endpoint["ports"]!["admin"]!, 31000, 31100);

        // Mesos-DNS shape: every field a string; one record per instance for a named port, two per instance for all ports.
        var records = (await f.SendAsync(HttpMethod.Get, "/v1/discovery/services/_http._tcp.web-prod.marathon.mesos")).Body!.AsArray();
        Assert.Equal(3, records.Count);
        Assert.All(records, r => Assert.Equal(System.Text.Json.JsonValueKind.String, r!["port"]!.GetValueKind()));
        Assert.Equal(6, (await f.SendAsync(HttpMethod.Get, "/v1/discovery/services/_web-prod._tcp.marathon.mesos")).Body!.AsArray().Count);
        var none = (await f.SendAsync(HttpMethod.Get, "/v1/discovery/services/_http._tcp.nothing")).Body!.AsArray();
        Assert.Equal("", (string)Assert.Single(none)!["service"]!);
        Assert.Equal(400, (await f.SendAsync(HttpMethod.Get, "/v1/discovery/services/web")).Status);
        Assert.Equal(404, (await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps/nothing")).Status);

        // Scale up and down.
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Put, "/v2/apps/prod/web", """{"instances":5}""")).Status);
        await AssertDiscoveryMatchesAsync(f, "/prod/web", 5);
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Put, "/v2/apps/prod/web", """{"instances":2}""")).Status);
        await AssertDiscoveryMatchesAsync(f, "/prod/web", 2);

        // Kill one: it leaves discovery as soon as the kill is ordered (before its task ends); a replacement joins.
        var victim = (await EndpointIdsAsync(f, "/prod/web"))[0];
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Delete, "/v2/apps/prod/web/tasks/" + victim)).Status);
        Assert.DoesNotContain(victim, await EndpointIdsAsync(f, "/prod/web"));
        await AssertDiscoveryMatchesAsync(f, "/prod/web", 2);
        Assert.DoesNotContain(victim, await EndpointIdsAsync(f, "/prod/web"));

        // Rolling restart: at the end only new instances are listed.
        var before = await EndpointIdsAsync(f, "/prod/web");
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Post, "/v2/apps/prod/web/restart")).Status);
        await AppsFixture.WaitUntilAsync(async () => !(await RunningIdsAsync(f, "/prod/web")).Intersect(before).Any(), "the restart to replace every instance");
        await AssertDiscoveryMatchesAsync(f, "/prod/web", 2);
        Assert.Empty((await EndpointIdsAsync(f, "/prod/web")).Intersect(before));

        // The change stream: a snapshot first, then one full endpoint list per change; never a killed instance after its kill.
        Assert.Equal("discovery_snapshot", (string)stream.Events[0]["eventType"]!);
        var changes = stream.OfType("endpoints_changed").Where(e => (string)e["appId"]! == "/prod/web").ToList();
        Assert.True(changes.Count >= 6, $"{changes.Count} endpoints_changed events");
        var lastListing = changes[^1]["endpoints"]!.AsArray().Select(e => (string)e!["instanceId"]!).Order(StringComparer.Ordinal);
        Assert.Equal(await EndpointIdsAsync(f, "/prod/web"), lastListing);
        bool Lists(JsonObject e) => e["endpoints"]!.AsArray().Any(x => (string)x!["instanceId"]! == victim);
        var listed = changes.FindIndex(Lists);
        var removed = changes.FindIndex(listed + 1, e => !Lists(e));
        Assert.True(listed >= 0 && removed > listed, "the victim was listed, then removed");
        Assert.DoesNotContain(changes.Skip(removed), Lists);

        // Deleting the app removes it from discovery.
        Assert.Equal(200, (await f.SendAsync(HttpMethod.Delete, "/v2/apps/prod/web")).Status);
        await AppsFixture.WaitUntilAsync(async () => (await f.SendAsync(HttpMethod.Get, "/v1/discovery/apps/prod/web")).Status == 404, "the app to leave discovery");
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(stream.OfType("app_removed").Count == 1), "app_removed event");
    }
}

/// <summary>Reads <c>/v1/discovery/events</c> in the background and keeps every event.</summary>
internal sealed class DiscoveryStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<JsonObject> _events = [];
    private readonly TaskCompletionSource _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _run;

    public static async Task<DiscoveryStream> StartAsync(AppsFixture fixture)
    {
        var stream = new DiscoveryStream();
        stream._run = stream.RunAsync(fixture.Http, new Uri(fixture.Url, "/v1/discovery/events"));
        await stream._attached.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return stream;
    }

    public List<JsonObject> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public List<JsonObject> OfType(string eventType) => [.. Events.Where(e => (string?)e["eventType"] == eventType)];

    private async Task RunAsync(HttpClient http, Uri uri)
    {
        try
        {
            using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_cts.Token));
            while (await reader.ReadLineAsync(_cts.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    lock (_events)
                    {
                        _events.Add(JsonNode.Parse(line["data: ".Length..])!.AsObject());
                    }

                    _attached.TrySetResult();
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        if (_run is not null)
        {
            await _run;
        }

        _cts.Dispose();
    }
}
