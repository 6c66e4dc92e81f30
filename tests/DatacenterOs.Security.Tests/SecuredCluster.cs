using System.Net.Http.Headers;
using System.Text;
using DatacenterOs.Testing;

namespace DatacenterOs.Security.Tests;

/// <summary>
/// A real <c>dcosd</c> (standalone, real local agent) on loopback with an auth file: principals <c>admin</c>
/// (operator), <c>viewer</c> (token), <c>teama</c> (viewer + <c>apps:/team-a/*</c> + <c>jobs:owner:a@example.com</c>),
/// <c>sched</c> (scheduler, role <c>analytics</c>), <c>nobody</c> (no permission), <c>spammer</c> (operator, for the
/// rate limit: 5 writes/s, burst 20), a shared agent secret, and a job <c>bjob</c> owned by <c>b@example.com</c>.
/// </summary>
public sealed class SecuredCluster : IAsyncLifetime
{
    public const string AgentSecret = "agent-secret-for-tests";
    public static readonly string ViewerToken = SecretHasher.NewToken();

    public DcosdProcess Dcosd { get; private set; } = null!;

    public string WorkDir { get; } = Directory.CreateTempSubdirectory("dcos-sec-").FullName;

    public static string Password(string name) => name + "-pw";

    public async Task InitializeAsync()
    {
        string Hash(string name) => SecretHasher.HashSecret(Password(name), 1000);
        var auth = Path.Combine(WorkDir, "auth.yaml");
        await File.WriteAllTextAsync(auth, $"""
            principals:
              - name: admin
                secretHash: "{Hash("admin")}"
                permissions: [operator]
              - name: viewer
                tokenHashes: ["{SecretHasher.HashToken(ViewerToken)}"]
                permissions: [viewer]
              - name: teama
                secretHash: "{Hash("teama")}"
                permissions: [viewer, "apps:/team-a/*", "jobs:owner:a@example.com"]
              - name: sched
                secretHash: "{Hash("sched")}"
                permissions: [scheduler]
                roles: [analytics]
              - name: nobody
                secretHash: "{Hash("nobody")}"
              - name: spammer
                secretHash: "{Hash("spammer")}"
                permissions: [operator]
            """);
        var secret = Path.Combine(WorkDir, "agent-secret");
        await File.WriteAllTextAsync(secret, AgentSecret + "\n");
        Dcosd = new DcosdProcess(Path.Combine(WorkDir, "dcos"), "[34100-34150]", "--auth-file", auth, "--agent-secret-file", secret, "--write-rate-limit", "5", "--docker-endpoint", "none");
        await Dcosd.StartAsync();
        var (status, _, _) = await SendAsync("admin", HttpMethod.Post, "/v1/scheduler/iso8601", """{"name":"bjob","command":"true","schedule":"R/2035-01-01T00:00:00Z/PT24H","owner":"b@example.com"}""");
        Assert.True(status is 204 or 200, $"creating bjob answered {status}");
    }

    public async Task DisposeAsync()
    {
        await Dcosd.DisposeAsync();
    }

    /// <summary>The Authorization header of a principal: Basic for those with secrets, Bearer for <c>viewer</c>; null for anonymous.</summary>
    public static string? AuthorizationOf(string? who) => who switch
    {
        null => null,
        "viewer" => "Bearer " + ViewerToken,
        _ => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(who + ":" + Password(who))),
    };

    /// <summary>Sends a request as <paramref name="who"/>; reads the body unless it is an event stream.</summary>
    public async Task<(int Status, string Body, HttpResponseMessage Response)> SendAsync(string? who, HttpMethod method, string path, string? json = null, string? authorization = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Dcosd.Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if ((authorization ?? AuthorizationOf(who)) is { } value)
        {
            request.Headers.TryAddWithoutValidation("Authorization", value);
        }

        var response = await Dcosd.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var streaming = response.Content.Headers.ContentType?.MediaType is "text/event-stream" || response.Headers.Contains("Mesos-Stream-Id");
        var body = streaming ? "" : await response.Content.ReadAsStringAsync();
        if (streaming)
        {
            response.Dispose();
        }

        return ((int)response.StatusCode, body, response);
    }
}

/// <summary>One <see cref="SecuredCluster"/> shared by the classes that probe it.</summary>
[CollectionDefinition(Name)]
public sealed class SecuredCollection : ICollectionFixture<SecuredCluster>
{
    public const string Name = "secured dcosd";
}
