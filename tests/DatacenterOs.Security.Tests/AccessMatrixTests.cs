using System.Diagnostics;
using System.Text.Json.Nodes;
using DatacenterOs.Testing;

namespace DatacenterOs.Security.Tests;

/// <summary>
/// The 401/403 matrix over real loopback HTTP against <see cref="SecuredCluster"/>: every endpoint family (scheduler,
/// operator, /master, /v2, /v1/scheduler, /scheduler, SignalR hub, UI, agent) for anonymous callers, principals
/// without the permission and principals with it. Expected: <c>401</c>, <c>403:PERMISSION</c> (the JSON names it) or
/// <c>ok</c> (anything but 401/403/5xx).
/// </summary>
[Collection(SecuredCollection.Name)]
public sealed class AccessMatrixTests(SecuredCluster cluster)
{
    private const string Subscribe = """{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"nobody","name":"matrix","roles":["ROLE"],"capabilities":[{"type":"MULTI_ROLE"}]}}}""";

    private static string App(string id) => $$"""{"id":"{{id}}","cmd":"sleep 1000","cpus":0.01,"mem":8,"instances":0}""";

    private static string Job(string name, string owner) => $$"""{"name":"{{name}}","command":"true","schedule":"R/2035-01-01T00:00:00Z/PT24H","owner":"{{owner}}"}""";

    public static TheoryData<string?, string, string, string?, string> Cases => new()
    {
        // Open to anyone.
        { null, "GET", "/health", null, "ok" },
        { null, "GET", "/ping", null, "ok" },
        { null, "GET", "/login", null, "ok" },

        // Anonymous: 401 on every family.
        { null, "GET", "/v2/apps", null, "401" },
        { null, "POST", "/v2/apps", App("/team-a/anon"), "401" },
        { null, "GET", "/master/state", null, "401" },
        { null, "GET", "/metrics", null, "401" },
        { null, "POST", "/api/v1", """{"type":"GET_STATE"}""", "401" },
        { null, "POST", "/api/v1/scheduler", Subscribe.Replace("ROLE", "analytics"), "401" },
        { null, "POST", "/api/v1/agent", "{}", "401" },
        { null, "GET", "/v1/scheduler/jobs", null, "401" },
        { null, "GET", "/scheduler/jobs", null, "401" },
        { null, "POST", "/hubs/cluster/negotiate?negotiateVersion=1", null, "401" },
        { null, "GET", "/auth/whoami", null, "401" },

        // Authenticated without any permission: 403 naming viewer.
        { "nobody", "GET", "/v2/apps", null, "403:viewer" },
        { "nobody", "GET", "/master/state", null, "403:viewer" },
        { "nobody", "GET", "/v1/scheduler/jobs", null, "403:viewer" },
        { "nobody", "POST", "/hubs/cluster/negotiate?negotiateVersion=1", null, "403:viewer" },
        { "nobody", "POST", "/api/v1", """{"type":"GET_STATE"}""", "403:viewer" },

        // Viewer: reads everything, changes nothing.
        { "viewer", "GET", "/v2/apps", null, "ok" },
        { "viewer", "GET", "/v2/deployments", null, "ok" },
        { "viewer", "GET", "/master/state", null, "ok" },
        { "viewer", "GET", "/metrics", null, "ok" },
        { "viewer", "GET", "/v1/scheduler/jobs", null, "ok" },
        { "viewer", "GET", "/scheduler/jobs", null, "ok" },
        { "viewer", "POST", "/api/v1", """{"type":"GET_STATE"}""", "ok" },
        { "viewer", "POST", "/hubs/cluster/negotiate?negotiateVersion=1", null, "ok" },
        { "viewer", "GET", "/", null, "ok" },
        { "viewer", "POST", "/api/v1", """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"x","weight":2}]}}""", "403:operator" },
        { "viewer", "POST", "/v2/apps", App("/team-a/v"), "403:apps:/team-a/v" },
        { "viewer", "DELETE", "/v2/deployments/nope", null, "403:operator" },
        { "viewer", "POST", "/v2/tasks/delete", """{"ids":[]}""", "403:operator" },
        { "viewer", "POST", "/v1/scheduler/iso8601", Job("vjob", "a@example.com"), "403:jobs:owner:a@example.com" },
        { "viewer", "PUT", "/v1/scheduler/job/bjob", null, "403:jobs:owner:b@example.com" },
        { "viewer", "POST", "/api/v1/scheduler", Subscribe.Replace("ROLE", "analytics"), "403:scheduler" },
        { "viewer", "POST", "/api/v1/agent", "{}", "403:agent" },

        // Team A: its own apps and jobs only.
        { "teama", "POST", "/v2/apps", App("/team-a/web"), "ok" },
        { "teama", "PUT", "/v2/apps/team-a/web", """{"instances":0,"cmd":"sleep 2000"}""", "ok" },
        { "teama", "POST", "/v2/apps", App("/team-b/web"), "403:apps:/team-b/web" },
        { "teama", "POST", "/v2/apps", App("team-b/rel"), "403:apps:/team-b/rel" },
        { "teama", "PUT", "/v2/apps/team-b/web", """{"instances":1}""", "403:apps:/team-b/web" },
        { "teama", "DELETE", "/v2/groups/team-b", null, "403:apps:/team-b" },
        { "teama", "POST", "/v2/groups", """{"id":"/team-a/g","apps":[{"id":"/team-b/evil","cmd":"sleep 1","instances":0}]}""", "403:apps:/team-b/evil" },
        { "teama", "POST", "/v1/scheduler/iso8601", Job("ajob", "a@example.com"), "ok" },
        { "teama", "POST", "/scheduler/iso8601", Job("ajob2", "b@example.com"), "403:jobs:owner:b@example.com" },
        { "teama", "POST", "/v1/scheduler/iso8601", Job("bjob", "a@example.com"), "403:jobs:owner:b@example.com" },
        { "teama", "PUT", "/v1/scheduler/job/bjob", null, "403:jobs:owner:b@example.com" },
        { "teama", "DELETE", "/scheduler/job/bjob", null, "403:jobs:owner:b@example.com" },
        { "teama", "POST", "/api/v1", """{"type":"UPDATE_QUOTA"}""", "403:operator" },

        // A framework principal: the scheduler API with its roles only.
        { "sched", "POST", "/api/v1/scheduler", Subscribe.Replace("ROLE", "analytics"), "ok" },
        { "sched", "POST", "/api/v1/scheduler", Subscribe.Replace("ROLE", "web"), "403:role:web" },
        { "sched", "GET", "/v2/apps", null, "403:viewer" },

        // The operator: everything.
        { "admin", "POST", "/api/v1/scheduler", Subscribe.Replace("ROLE", "web"), "ok" },
        { "admin", "POST", "/v2/apps", App("/team-b/admin"), "ok" },
        { "admin", "POST", "/api/v1", """{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"x","weight":2}]}}""", "ok" },
        { "admin", "GET", "/auth/whoami", null, "ok" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_family_answers_401_403_or_serves(string? who, string method, string path, string? body, string expected)
    {
        var (status, text, response) = await cluster.SendAsync(who, new HttpMethod(method), path, body);
        var what = $"{who ?? "anonymous"} {method} {path} -> {status} {text}";
        switch (expected)
        {
            case "ok":
                Assert.True(status is not (401 or 403) && status < 500, what);
                break;
            case "401":
                Assert.True(status == 401, what);
                Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Basic");
                Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
                Assert.NotNull(JsonNode.Parse(text)?["message"]);
                break;
            default:
                Assert.True(status == 403, what);
                var json = JsonNode.Parse(text)!;
                var permission = expected["403:".Length..];
                Assert.Equal(permission, (string?)json["missingPermission"]);
                Assert.Contains($"'{permission}'", (string?)json["message"], StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public async Task Wrong_credentials_get_401_saying_so()
    {
        var (status, text, _) = await cluster.SendAsync(null, HttpMethod.Get, "/v2/apps", authorization: "Basic " + Convert.ToBase64String("admin:wrong"u8.ToArray()));
        Assert.Equal(401, status);
        Assert.Contains("invalid credentials", text, StringComparison.Ordinal);
        (status, _, _) = await cluster.SendAsync(null, HttpMethod.Get, "/v2/apps", authorization: "Bearer not-a-token");
        Assert.Equal(401, status);
    }

    [Fact]
    public async Task Agents_register_with_the_shared_secret_and_are_refused_without_it()
    {
        // The local agent registered with the secret.
        await DcosdProcess.WaitUntilAsync(async () =>
        {
            var (_, text, _) = await cluster.SendAsync("admin", HttpMethod.Get, "/master/state");
            return JsonNode.Parse(text)?["activated_slaves"]?.GetValue<int>() == 1;
        }, "the local agent to register", 90);

        const string agentSubscribe = """{"type":"SUBSCRIBE","subscribe":{"agent_info":{"hostname":"intruder","resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":64}}]},"secret":"SECRET"}}""";
        var (status, _, _) = await cluster.SendAsync(null, HttpMethod.Post, "/api/v1/agent", agentSubscribe.Replace("SECRET", "guess"), authorization: "Bearer guess");
        Assert.Equal(401, status);
        (status, _, _) = await cluster.SendAsync(null, HttpMethod.Post, "/api/v1/agent", agentSubscribe.Replace("SECRET", "guess"));
        Assert.Equal(401, status);

        // The right bearer but a wrong secret in the call: the master refuses the registration too.
        (status, _, _) = await cluster.SendAsync(null, HttpMethod.Post, "/api/v1/agent", agentSubscribe.Replace("SECRET", "guess"), authorization: "Bearer " + SecuredCluster.AgentSecret);
        Assert.True(status is 401 or 403, $"status {status}");
        var (_, state, _) = await cluster.SendAsync("admin", HttpMethod.Get, "/master/state");
        Assert.DoesNotContain("intruder", state, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_beyond_the_rate_limit_get_429_with_json()
    {
        var statuses = new List<(int, string)>();
        for (var i = 0; i < 60; i++)
        {
            var (status, text, _) = await cluster.SendAsync("spammer", HttpMethod.Post, "/v2/apps", "{malformed");
            statuses.Add((status, text));
        }

        var limited = statuses.Where(s => s.Item1 == 429).ToList();
        Assert.NotEmpty(limited);
        Assert.Contains("too many writes by 'spammer'", limited[0].Item2, StringComparison.Ordinal);
        Assert.All(statuses, s => Assert.True(s.Item1 is 400 or 429, $"{s.Item1} {s.Item2}"));

        // Reads and other principals are not limited by the spammer's writes.
        Assert.Equal(200, (await cluster.SendAsync("spammer", HttpMethod.Get, "/v2/apps")).Status);
        Assert.NotEqual(429, (await cluster.SendAsync("admin", HttpMethod.Post, "/v2/apps", "{malformed")).Status);
    }

    [Fact]
    public async Task Oversized_bodies_get_413_with_json()
    {
        // Announced as too large: refused before the body is sent (Expect: 100-continue, as curl does for large bodies).
        var big = "{\"id\":\"/team-a/big\",\"cmd\":\"" + new string('x', 2 * 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.Dcosd.Url, "/v2/apps")) { Content = new StringContent(big) };
        request.Headers.ExpectContinue = true;
        request.Headers.TryAddWithoutValidation("Authorization", SecuredCluster.AuthorizationOf("admin"));
        using var response = await cluster.Dcosd.Http.SendAsync(request);
        var (status, text) = ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(413, status);
        Assert.Contains("exceeds", (string?)JsonNode.Parse(text)!["message"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dcosd_refuses_a_non_loopback_listen_address_without_an_auth_file()
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { DcosdProcess.DcosdDll(), "master", "--listen", $"http://0.0.0.0:{DcosdProcess.FreePort()}", "--work-dir", Path.Combine(cluster.WorkDir, "refused") })
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, process.ExitCode);
        var lines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("refusing", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.Contains("--auth-file", lines[0], StringComparison.Ordinal);
    }
}
