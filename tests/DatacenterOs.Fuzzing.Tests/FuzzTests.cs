using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DatacenterOs.Fuzzing.Tests;

/// <summary>
/// Mutated app, group, job, scheduler-call and operator-call JSON against a live cluster over loopback HTTP. Every
/// answer must be 2xx, or 4xx with a JSON error body; never 5xx, never a hang (30 s). Afterwards the apps and jobs the
/// cluster holds equal those built from the accepted requests alone. Cases: <c>FUZZ_CASES</c> (default 100,000); seed:
/// <c>FUZZ_SEED</c> (default fixed); a failure prints the seed and case number, and <c>FUZZ_CASE=N</c> replays one case.
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Workers = 16;
    private const int PoolPerWorker = 12;

    private static readonly JsonNode AppSeed = JsonNode.Parse("""
        {"id":"/fz-W/aN","cmd":"sleep 1000","cpus":0.01,"mem":8,"disk":0,"instances":1,"labels":{"team":"fuzz"},"env":{"X":"1"},
         "portDefinitions":[{"port":0,"name":"http"}],"constraints":[["hostname","UNIQUE"]],
         "healthChecks":[{"protocol":"TCP","portIndex":0,"gracePeriodSeconds":5,"intervalSeconds":10,"timeoutSeconds":5,"maxConsecutiveFailures":3}],
         "upgradeStrategy":{"minimumHealthCapacity":0.5,"maximumOverCapacity":0.5},"backoffSeconds":1,"backoffFactor":1.15,"role":"*",
         "killSelection":"YOUNGEST_FIRST","user":"nobody","fetch":[],"dependencies":[]}
        """)!;

    private static readonly JsonNode GroupSeed = JsonNode.Parse("""
        {"apps":[{"id":"a","cmd":"sleep 1000","cpus":0.01,"mem":8,"instances":1,"labels":{"k":"v"}},
                 {"id":"b","cmd":"sleep 1000","cpus":0.01,"mem":8,"instances":0,"dependencies":["a"]}],
         "groups":[{"id":"sub","apps":[{"id":"c","cmd":"sleep 1","instances":0}]}],"dependencies":[]}
        """)!;

    private static readonly JsonNode JobSeed = JsonNode.Parse("""
        {"name":"fzWjN","command":"true","schedule":"R/2035-01-01T00:00:00Z/PT24H","scheduleTimeZone":"UTC","owner":"a@example.com",
         "ownerName":"A","description":"d","cpus":0.01,"mem":8,"disk":0,"retries":1,"epsilon":"PT30M","shell":true,"async":false,
         "environmentVariables":[{"name":"A","value":"b"}],"arguments":["x"],"uris":[],"constraints":[["hostname","LIKE","fuzz-.*"]],
         "disabled":false,"softError":false,"dataProcessingJobType":false,"highPriority":false}
        """)!;

    private static readonly JsonNode DependentSeed = JsonNode.Parse("""
        {"name":"fzWdN","command":"true","parents":["fzWj0"],"owner":"a@example.com","cpus":0.01,"mem":8,"retries":0}
        """)!;

    private static readonly JsonNode[] SchedulerSeeds =
    [
        JsonNode.Parse("""{"type":"DECLINE","framework_id":{"value":"fz-0001"},"decline":{"offer_ids":[{"value":"o-1"}],"filters":{"refuse_seconds":5}}}""")!,
        JsonNode.Parse("""{"type":"ACCEPT","framework_id":{"value":"fz-0001"},"accept":{"offer_ids":[{"value":"o-1"}],"operations":[{"type":"LAUNCH","launch":{"task_infos":[{"name":"t","task_id":{"value":"t1"},"agent_id":{"value":"a1"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":0.1}}],"command":{"value":"true"}}]}}],"filters":{}}}""")!,
        JsonNode.Parse("""{"type":"KILL","framework_id":{"value":"fz-0001"},"kill":{"task_id":{"value":"t1"},"agent_id":{"value":"a1"}}}""")!,
        JsonNode.Parse("""{"type":"RECONCILE","framework_id":{"value":"fz-0001"},"reconcile":{"tasks":[{"task_id":{"value":"t1"}}]}}""")!,
        JsonNode.Parse("""{"type":"ACKNOWLEDGE","framework_id":{"value":"fz-0001"},"acknowledge":{"agent_id":{"value":"a1"},"task_id":{"value":"t1"},"uuid":"AAAA"}}""")!,
        JsonNode.Parse("""{"type":"REVIVE","framework_id":{"value":"fz-0001"},"revive":{"roles":["*"]}}""")!,
        JsonNode.Parse("""{"type":"SUPPRESS","framework_id":{"value":"fz-0001"},"suppress":{"roles":["*"]}}""")!,
        JsonNode.Parse("""{"type":"TEARDOWN","framework_id":{"value":"fz-0001"}}""")!,
        JsonNode.Parse("""{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"nobody","name":"fuzz","roles":["fuzz"],"capabilities":[{"type":"MULTI_ROLE"}],"failover_timeout":0}}}""")!,
    ];

    private static readonly JsonNode[] OperatorSeeds =
    [
        JsonNode.Parse("""{"type":"GET_STATE"}""")!,
        JsonNode.Parse("""{"type":"GET_ROLES"}""")!,
        JsonNode.Parse("""{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"fuzz","weight":2.0}]}}""")!,
        JsonNode.Parse("""{"type":"UPDATE_QUOTA","update_quota":{"force":false,"quota_configs":[{"role":"fuzz","guarantees":{"cpus":{"value":1}},"limits":{"cpus":{"value":2}}}]}}""")!,
        JsonNode.Parse("""{"type":"RESERVE_RESOURCES","reserve_resources":{"agent_id":{"value":"x"},"resources":[{"name":"cpus","type":"SCALAR","scalar":{"value":1},"reservations":[{"type":"DYNAMIC","role":"fuzz"}]}]}}""")!,
    ];

    /// <summary>One request of a case.</summary>
    private sealed record Request(HttpMethod Method, string Path, string? Body, string Kind);

    /// <summary>What worker <c>w</c> believes exists: its apps (by id) and jobs (by name), from accepted requests only.</summary>
    private sealed class Model
    {
        public HashSet<string> Apps { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Jobs { get; } = new(StringComparer.Ordinal);
    }

    [Fact]
    public async Task Mutated_requests_get_2xx_or_a_json_4xx_and_the_state_is_what_the_accepted_ones_built()
    {
        var cases = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_CASES"), CultureInfo.InvariantCulture, out var n) ? n : 100_000;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261122;
        int? only = int.TryParse(Environment.GetEnvironmentVariable("FUZZ_CASE"), CultureInfo.InvariantCulture, out var c) ? c : null;
        output.WriteLine($"fuzz: FUZZ_SEED={seed} FUZZ_CASES={cases}");

        var workDir = Directory.CreateTempSubdirectory("dcos-fuzz-").FullName;
        await using var cluster = await FuzzCluster.StartAsync(workDir, agents: 4);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = Workers * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(10) })
        {
            BaseAddress = cluster.Url,
            Timeout = TimeSpan.FromSeconds(30),
        };

        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<(string Kind, int Status), int>();
        var models = Enumerable.Range(0, Workers).Select(_ => new Model()).ToArray();
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            for (var i = w; i < cases; i += Workers)
            {
                if (failures.Count >= 20 || (only is { } one && one != i))
                {
                    continue;
                }

                var random = new Random(HashCode.Combine(seed, i));
                var request = NextRequest(w, random);
                var (status, text, problem) = await SendAsync(http, request);
                statuses.AddOrUpdate((request.Kind, status), 1, (_, v) => v + 1);
                if (problem is not null)
                {
                    failures.Enqueue($"case {i} (FUZZ_SEED={seed} FUZZ_CASE={i}): {request.Method} {request.Path} -> {problem}\n  body: {Shorten(request.Body)}\n  answer: {Shorten(text)}");
                    continue;
                }

                if (status is >= 200 and < 300)
                {
                    Apply(models[w], request, text);
                }
            }
        })));
        var elapsed = Stopwatch.GetElapsedTime(started);
        output.WriteLine($"fuzz: {cases} cases in {elapsed.TotalSeconds:F1} s ({cases / elapsed.TotalSeconds:F0}/s)");
        foreach (var group in statuses.OrderBy(kv => kv.Key.Kind, StringComparer.Ordinal).ThenBy(kv => kv.Key.Status))
        {
            output.WriteLine($"  {group.Key.Kind} {group.Key.Status}: {group.Value}");
        }

        Assert.True(failures.IsEmpty, $"FUZZ_SEED={seed}: {failures.Count} bad answers:\n" + string.Join("\n", failures.Take(10)));
        Assert.Contains(statuses, kv => kv.Key.Kind == "app" && kv.Key.Status is >= 200 and < 300);
        Assert.Contains(statuses, kv => kv.Key.Kind == "job" && kv.Key.Status is >= 200 and < 300);

        if (only is null)
        {
            await AssertStateAsync(http, models);
        }
    }

    private static Request NextRequest(int w, Random random)
    {
        var pick = random.Next(100);
        var k = random.Next(PoolPerWorker);
        var appId = $"/fz-{w}/a{k}";
        var jobName = $"fz{w}j{k}";
        switch (pick)
        {
            case < 22:
                return new(HttpMethod.Post, "/v2/apps", Mutator.Mutate(Seed(AppSeed, w, k), random), "app");
            case < 32:
                return new(HttpMethod.Put, "/v2/apps" + appId + (random.Next(4) == 0 ? "?force=true" : ""), Mutator.Mutate(Seed(AppSeed, w, k), random, "id"), "app");
            case < 36:
                return new(HttpMethod.Patch, "/v2/apps" + appId, Mutator.Mutate(JsonNode.Parse("""{"instances":2,"labels":{"x":"y"}}""")!, random), "app");
            case < 38:
                return new(HttpMethod.Delete, "/v2/apps" + appId + "?force=true", null, "app");
            case < 45:
                return new(random.Next(2) == 0 ? HttpMethod.Post : HttpMethod.Put, $"/v2/groups/fzg-{w}/g{k}" + (random.Next(3) == 0 ? "?force=true" : ""), Mutator.Mutate(GroupSeed, random, "id"), "group");
            case < 47:
                return new(HttpMethod.Post, "/v2/plan", Mutator.Mutate(Seed(AppSeed, w, k), random), "plan");
            case < 62:
                return new(HttpMethod.Post, random.Next(2) == 0 ? "/v1/scheduler/iso8601" : "/scheduler/iso8601", Mutator.Mutate(Seed(JobSeed, w, k), random), "job");
            case < 68:
                return new(HttpMethod.Post, "/v1/scheduler/dependency", Mutator.Mutate(Seed(DependentSeed, w, k), random), "job");
            case < 70:
                return new(HttpMethod.Delete, $"/v1/scheduler/job/fz{w}d{k}", null, "job");
            case < 71:
                return new(HttpMethod.Put, $"/v1/scheduler/job/{jobName}", null, "job");
            case < 88:
            {
                var seed = SchedulerSeeds[random.Next(random.Next(10) == 0 ? SchedulerSeeds.Length : SchedulerSeeds.Length - 1)];
                return new(HttpMethod.Post, "/api/v1/scheduler", Mutator.Mutate(seed, random), "scheduler");
            }

            default:
                return new(HttpMethod.Post, "/api/v1", Mutator.Mutate(OperatorSeeds[random.Next(OperatorSeeds.Length)], random), "operator");
        }
    }

    private static JsonNode Seed(JsonNode template, int w, int k) =>
        JsonNode.Parse(template.ToJsonString().Replace("fz-W/aN", $"fz-{w}/a{k}", StringComparison.Ordinal)
            .Replace("fzWjN", $"fz{w}j{k}", StringComparison.Ordinal).Replace("fzWdN", $"fz{w}d{k}", StringComparison.Ordinal)
            .Replace("fzWj0", $"fz{w}j0", StringComparison.Ordinal))!;

    private static async Task<(int Status, string Text, string? Problem)> SendAsync(HttpClient http, Request request)
    {
        using var message = new HttpRequestMessage(request.Method, new Uri(request.Path, UriKind.Relative));
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body);
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (TaskCanceledException)
        {
            return (0, "", "no answer within 30 s");
        }
        catch (HttpRequestException e)
        {
            return (0, "", "connection failed: " + e.Message);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (response.Headers.Contains("Mesos-Stream-Id") && status == 200)
            {
                return (status, "", null); // a subscription: accepted; closing the response ends it
            }

            var text = await response.Content.ReadAsStringAsync();
            if (status >= 500 || status < 200 || status is >= 300 and < 400)
            {
                return (status, text, $"HTTP {status}");
            }

            if (status >= 400 && !IsJsonError(text))
            {
                return (status, text, $"HTTP {status} without a JSON error body");
            }

            return (status, text, null);
        }
    }

    private static bool IsJsonError(string text)
    {
        try
        {
            return JsonNode.Parse(text) is JsonObject o && (o.ContainsKey("message") || o.ContainsKey("details") || o.ContainsKey("errors") || o.ContainsKey("error"));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Updates the worker's model from an accepted request.</summary>
    private static void Apply(Model model, Request request, string answer)
    {
        var path = request.Path.Split('?')[0];
        switch (request.Kind)
        {
            case "app" when request.Method == HttpMethod.Post:
                var created = JsonNode.Parse(answer)?["id"]?.GetValue<string>();
                if (created is not null)
                {
                    model.Apps.Add(created);
                }

                break;
            case "app" when request.Method == HttpMethod.Put:
                model.Apps.Add(path["/v2/apps".Length..]);
                break;
            case "app" when request.Method == HttpMethod.Delete:
                model.Apps.Remove(path["/v2/apps".Length..]);
                break;
            case "job" when request.Method == HttpMethod.Post:
                if (JsonNode.Parse(request.Body!)?["name"]?.GetValue<string>() is { } name)
                {
                    model.Jobs.Add(name);
                }

                break;
            case "job" when request.Method == HttpMethod.Delete:
                model.Jobs.Remove(path[(path.LastIndexOf('/') + 1)..]);
                break;
        }
    }

    private async Task AssertStateAsync(HttpClient http, Model[] models)
    {
        // Removals finish with their deployments: compare until equal, for at most 60 s.
        var expectedApps = models.SelectMany(m => m.Apps).Where(id => id.StartsWith("/fz-", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var expectedJobs = models.SelectMany(m => m.Jobs).Where(n => n.StartsWith("fz", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        var waited = Stopwatch.GetTimestamp();
        HashSet<string> apps, jobs;
        while (true)
        {
            apps = JsonNode.Parse(await http.GetStringAsync(new Uri("/v2/apps", UriKind.Relative)))!["apps"]!.AsArray()
                .Select(a => (string)a!["id"]!).Where(id => id.StartsWith("/fz-", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            jobs = JsonNode.Parse(await http.GetStringAsync(new Uri("/v1/scheduler/jobs", UriKind.Relative)))!.AsArray()
                .Select(j => (string)j!["name"]!).Where(n => n.StartsWith("fz", StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
            if ((expectedApps.SetEquals(apps) && expectedJobs.SetEquals(jobs)) || Stopwatch.GetElapsedTime(waited) > TimeSpan.FromSeconds(60))
            {
                break;
            }

            await Task.Delay(200);
        }

        output.WriteLine($"state: {apps.Count} apps (expected {expectedApps.Count}), {jobs.Count} jobs (expected {expectedJobs.Count})");
        Assert.True(expectedApps.SetEquals(apps), $"apps differ: missing [{string.Join(", ", expectedApps.Except(apps))}], unexpected [{string.Join(", ", apps.Except(expectedApps))}]");
        Assert.True(expectedJobs.SetEquals(jobs), $"jobs differ: missing [{string.Join(", ", expectedJobs.Except(jobs))}], unexpected [{string.Join(", ", jobs.Except(expectedJobs))}]");
        Assert.NotEmpty(apps);
        Assert.NotEmpty(jobs);
    }

    private static string Shorten(string? text) => text is null ? "(none)" : text.Length > 400 ? text[..400] + $"… ({text.Length} chars)" : text;
}
