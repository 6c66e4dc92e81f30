namespace DatacenterOs.Jobs.Tests;

public sealed class JobsApiTests
{
    private const string Never = "R/2030-01-01T00:00:00Z/P1D";

    private static string Scheduled(string name, string schedule = Never, string extra = "") =>
        $$"""{"name":"{{name}}","command":"echo {{name}}","schedule":"{{schedule}}"{{extra}}}""";

    private static string Dependent(string name, string parents, string extra = "") =>
        $$"""{"name":"{{name}}","command":"echo {{name}}","parents":[{{parents}}]{{extra}}}""";

    [Fact]
    public async Task Jobs_are_created_read_listed_updated_and_deleted_over_HTTP()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", Scheduled("extract", extra: """, "owner":"ops@example.com", "cpus": 0.5"""));
        await f.PostAsync("dependency", Dependent("load", "\"extract\""));

        var jobs = await f.AllJobsAsync();
        Assert.Equal(["extract", "load"], jobs.Select(j => (string)j!["name"]!).Order().ToArray());

        var (status, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/extract");
        Assert.Equal(200, status);
        Assert.Equal(Never, (string)body!["schedule"]!);
        Assert.Equal(0.5, (double)body["cpus"]!);
        Assert.Equal(128, (double)body["mem"]!); // Chronos default filled in
        Assert.Equal(2, (int)body["retries"]!);

        // Upsert: POST again replaces (204, like Chronos).
        await f.PostAsync("iso8601", Scheduled("extract", extra: """, "description":"nightly" """));
        (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/extract");
        Assert.Equal("nightly", (string)body!["description"]!);

        // The Chronos 2 alias serves the same jobs.
        (status, body, _, _) = await f.SendAsync(HttpMethod.Get, "/scheduler/jobs");
        Assert.Equal(200, status);
        Assert.Equal(2, body!.AsArray().Count);

        (status, _, _, _) = await f.SendAsync(HttpMethod.Delete, "/v1/scheduler/job/load");
        Assert.Equal(204, status);
        (status, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/load");
        Assert.Equal(404, status);
        Assert.Contains("load", (string)body!["message"]!);
        Assert.Single(await f.AllJobsAsync());

        (status, _, _, _) = await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/nope");
        Assert.Equal(404, status);
        (status, _, _, _) = await f.SendAsync(HttpMethod.Delete, "/v1/scheduler/job/nope");
        Assert.Equal(404, status);
    }

    public static TheoryData<string, string, string, string> InvalidJobs => new()
    {
        // endpoint, body, field, text the message must contain
        { "dependency", Dependent("child", "\"ghost\""), "parents", "ghost" },
        { "dependency", Dependent("a", "\"b\""), "parents", "a -> b -> a" },
        { "iso8601", """{"name":"both","command":"true","schedule":"R/2030-01-01T00:00:00Z/P1D","parents":["a"]}""", "schedule", "not both" },
        { "iso8601", Scheduled("bad", "R/2030-01-01T00:00:00Z/XYZ"), "schedule", "XYZ" },
        { "iso8601", Scheduled("tz", extra: """, "scheduleTimeZone":"Mars/Olympus_Mons" """), "scheduleTimeZone", "Mars/Olympus_Mons" },
        { "iso8601", Scheduled("zero", "R/2030-01-01T00:00:00Z/PT0S"), "schedule", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidJobs))]
    public async Task Invalid_jobs_get_400_naming_the_field_and_nothing_is_stored(string endpoint, string json, string field, string text)
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", Scheduled("a"));
        await f.PostAsync("dependency", Dependent("b", "\"a\""));
        var before = (await f.AllJobsAsync()).ToJsonString();

        var (status, body, raw, _) = await f.SendAsync(HttpMethod.Post, "/v1/scheduler/" + endpoint, json);

        Assert.True(status == 400, $"{status} {raw}");
        var errors = body!["errors"]!.AsArray();
        var messages = errors.Where(e => (string)e!["field"]! == field).Select(e => (string)e!["message"]!).ToList();
        Assert.True(messages.Count > 0, $"no error for field {field}: {raw}");
        Assert.Contains(messages, m => m.Contains(text, StringComparison.Ordinal));
        Assert.Equal(before, (await f.AllJobsAsync()).ToJsonString());
    }

    [Fact]
    public async Task Unreadable_json_gets_400_and_nothing_is_stored()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        var (status, body, _, _) = await f.SendAsync(HttpMethod.Post, "/v1/scheduler/iso8601", """{"name": "x", "retries": "many"}""");
        Assert.Equal(400, status);
        Assert.Equal("Bad Request", (string)body!["status"]!);
        Assert.Empty(await f.AllJobsAsync());
    }

    [Fact]
    public async Task Search_summary_and_graph_dot()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", Scheduled("A"));
        await f.PostAsync("dependency", Dependent("B", "\"A\""));
        await f.PostAsync("dependency", Dependent("C", "\"A\""));
        await f.PostAsync("dependency", Dependent("D", "\"B\",\"C\""));

        var (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/jobs/search?name=b");
        Assert.Equal(["B"], body!.AsArray().Select(j => (string)j!["name"]!).ToArray());
        (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/jobs/search?command=echo%20c");
        Assert.Equal(["C"], body!.AsArray().Select(j => (string)j!["name"]!).ToArray());
        (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/jobs/search?any=echo&limit=2&offset=1");
        Assert.Equal(["B", "C"], body!.AsArray().Select(j => (string)j!["name"]!).ToArray());

        (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/jobs/summary");
        var summary = body!["jobs"]!.AsArray();
        Assert.Equal(4, summary.Count);
        var d = summary.Single(j => (string)j!["name"]! == "D")!;
        Assert.Equal("fresh", (string)d["status"]!);
        Assert.Equal("idle", (string)d["state"]!);
        Assert.Equal(["B", "C"], d["parents"]!.AsArray().Select(p => (string)p!).ToArray());

        var (status, _, dot, response) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/graph/dot", accept: "text/vnd.graphviz");
        Assert.Equal(200, status);
        Assert.Equal("text/vnd.graphviz", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("digraph G {", dot);
        Assert.Equal([("A", "B"), ("A", "C"), ("B", "D"), ("C", "D")], DotEdges(dot));
        (_, _, _, response) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/graph/dot");
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
    }

    /// <summary>The (parent label, child label) edges of a DOT file in Chronos's format, sorted.</summary>
    internal static List<(string, string)> DotEdges(string dot)
    {
        var labels = new Dictionary<string, string>();
        var edges = new List<(string, string)>();
        foreach (var line in dot.Split('\n').Select(l => l.Trim()))
        {
            var m = System.Text.RegularExpressions.Regex.Match(line, "^(\\d+) \\[ label=\"(.*)\" \\];$");
            if (m.Success)
            {
                labels[m.Groups[1].Value] = m.Groups[2].Value;
            }

            var e = System.Text.RegularExpressions.Regex.Match(line, "^(\\d+) -> (\\d+);$");
            if (e.Success)
            {
                edges.Add((e.Groups[1].Value, e.Groups[2].Value));
            }
        }

        return [.. edges.Select(e => (labels[e.Item1], labels[e.Item2])).Order()];
    }

    [Fact]
    public async Task A_scheduled_job_runs_once_per_occurrence_as_the_clock_advances()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", Scheduled("minutely", "R/2026-01-01T00:01:00Z/PT1M"));
        Assert.Empty(await f.RunsAsync("minutely"));

        f.Clock.AdvanceSeconds(30); // 00:01:00
        await f.WaitForRunsAsync(["minutely"], r => r["minutely"].Count == 1 && JobsFixture.State(r["minutely"][0]!) == "succeeded", "first occurrence");

        f.Clock.AdvanceSeconds(60); // 00:02:00
        var runs = await f.WaitForRunsAsync(["minutely"], r => r["minutely"].Count == 2 && r["minutely"].All(x => JobsFixture.State(x!) == "succeeded"), "second occurrence");
        Assert.Equal(
            ["2026-01-01T00:01:00+00:00", "2026-01-01T00:02:00+00:00"],
            runs["minutely"].Select(r => DateTimeOffset.Parse((string)r!["scheduledFor"]!, System.Globalization.CultureInfo.InvariantCulture).ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray());

        var (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/minutely");
        Assert.Equal(2, (long)body!["successCount"]!);
        (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/stat/minutely");
        Assert.Equal(2, (int)body!["histogram"]!["count"]!);
        Assert.Equal(2, body["taskStatHistory"]!.AsArray().Count);
    }
}
