using System.Text.Json.Nodes;

namespace DatacenterOs.Jobs.Tests;

/// <summary>Run-scoped DAG instances over the HTTP API: A → B, A → C, {B, C} → D.</summary>
public sealed class DagTests
{
    private static readonly string[] Diamond = ["A", "B", "C", "D"];

    private static string Env(string? duration, string? exit) =>
        "[" + string.Join(",", new[] { ("SIM_DURATION", duration), ("SIM_EXIT", exit) }.Where(v => v.Item2 is not null).Select(v => $$"""{"name":"{{v.Item1}}","value":"{{v.Item2}}"}""")) + "]";

    /// <summary>Posts the diamond; <paramref name="b"/> is extra JSON for job B.</summary>
    private static async Task PostDiamondAsync(JobsFixture f, string b = "", string a = "")
    {
        await f.PostAsync("iso8601", $$"""{"name":"A","command":"echo A","schedule":"R/2030-01-01T00:00:00Z/P1D"{{a}}}""");
        await f.PostAsync("dependency", $$"""{"name":"B","command":"echo B","parents":["A"]{{b}}}""");
        await f.PostAsync("dependency", """{"name":"C","command":"echo C","parents":["A"]}""");
        await f.PostAsync("dependency", """{"name":"D","command":"echo D","parents":["B","C"]}""");
    }

    private static bool AllFinal(Dictionary<string, JsonArray> runs, int dagRuns) =>
        runs["A"].Count == dagRuns && runs.Values.All(list => list.All(r => JobsFixture.State(r!) is "succeeded" or "failed" or "skipped" or "killed"))
        && runs["D"].Count == dagRuns;

    [Fact]
    public async Task D_runs_exactly_once_per_run_of_A()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f);

        for (var i = 1; i <= 2; i++)
        {
            var (status, _, _, _) = await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/A");
            Assert.Equal(204, status);
            await f.WaitForRunsAsync(Diamond, r => AllFinal(r, i), $"DAG run {i}");
            f.Clock.AdvanceSeconds(1);
        }

        var runs = await f.WaitForRunsAsync(Diamond, r => AllFinal(r, 2), "two DAG runs");
        var dagRuns = runs["A"].Select(r => (string)r!["dagRunId"]!).Order().ToList();
        foreach (var job in Diamond)
        {
            Assert.Equal(2, runs[job].Count);
            Assert.All(runs[job], r => Assert.Equal("succeeded", JobsFixture.State(r!)));
            Assert.Equal(dagRuns, runs[job].Select(r => (string)r!["dagRunId"]!).Order().ToList());
        }

        // D started only after both of its parents finished in the same DAG run.
        foreach (var dag in dagRuns)
        {
            var d = runs["D"].Single(r => (string)r!["dagRunId"]! == dag)!;
            foreach (var parent in new[] { "B", "C" })
            {
                var p = runs[parent].Single(r => (string)r!["dagRunId"]! == dag)!;
                Assert.True(DateTimeOffset.Parse((string)p["finishedAt"]!, System.Globalization.CultureInfo.InvariantCulture) <= DateTimeOffset.Parse((string)d["startedAt"]!, System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        // Every launch reached an agent once: 8 runs, 8 tasks.
        Assert.Equal(8, f.Agents.Sum(a => a.Launched.Count));
    }

    [Fact]
    public async Task A_failing_B_is_retried_after_its_delay_inside_the_DAG_run_and_then_blocks_D()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f, b: $$""", "retries": 1, "retryDelaySeconds": 30, "environmentVariables": {{Env(null, "3")}}""");

        await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/A");
        var runs = await f.WaitForRunsAsync(Diamond, r => r["B"].Count == 2 && r["C"].Count == 1 && JobsFixture.State(r["C"][0]!) == "succeeded", "B's first attempt failed and its retry waits");
        var retry = runs["B"].Single(r => (int)r!["attempt"]! == 1)!;
        Assert.Equal("pending", JobsFixture.State(retry));
        var first = runs["B"].Single(r => (int)r!["attempt"]! == 0)!;
        Assert.Equal("failed", JobsFixture.State(first));
        Assert.Equal(3, (int)first["exitCode"]!);
        Assert.Empty(runs["D"]);

        f.Clock.AdvanceSeconds(29);
        await Task.Delay(300);
        Assert.Equal("pending", JobsFixture.State((await f.RunsAsync("B")).Single(r => (int)r!["attempt"]! == 1)!));
        f.Clock.AdvanceSeconds(1.1); // the retry is due retryDelaySeconds after the failure
        // Histories are read one job at a time: wait until B's rows (read before D's) show the decision too.
        runs = await f.WaitForRunsAsync(Diamond, r => r["D"].Count == 1 && r["B"].All(b => JobsFixture.State(b!) != "running" && JobsFixture.State(b!) != "pending"), "D decided");
        Assert.All(runs["B"], r => Assert.Equal("failed", JobsFixture.State(r!)));
        Assert.All(runs["B"], r => Assert.Equal((string)runs["A"][0]!["dagRunId"]!, (string)r!["dagRunId"]!));
        var d = runs["D"][0]!;
        Assert.Equal("skipped", JobsFixture.State(d));
        Assert.Contains("parent 'B' failed", (string)d["reason"]!);

        var (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/job/B");
        Assert.Equal(1, (long)body!["errorCount"]!);
        Assert.Equal(0, (long)body["successCount"]!);
        // 3 launches: A, B twice, C (D never launched).
        Assert.Equal(4, f.Agents.Sum(a => a.Launched.Count));
    }

    [Fact]
    public async Task SoftError_lets_D_run_after_B_failed()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f, b: $$""", "retries": 0, "softError": true, "environmentVariables": {{Env(null, "1")}}""");

        await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/A");
        var runs = await f.WaitForRunsAsync(Diamond, r => AllFinal(r, 1), "DAG run");
        Assert.Equal("failed", JobsFixture.State(runs["B"].Single()!));
        Assert.Equal("succeeded", JobsFixture.State(runs["D"].Single()!));
    }

    [Fact]
    public async Task Run_now_passes_arguments_from_the_query_or_the_body()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", """{"name":"report","command":"echo report","schedule":"R/2030-01-01T00:00:00Z/P1D","arguments":["--fast"],"concurrent":true}""");

        Assert.Equal(204, (await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/report?arguments=--day%3D2026-01-01")).Status);
        Assert.Equal(204, (await f.SendAsync(HttpMethod.Put, "/scheduler/job/report", """{"arguments":["--day=2026-01-02","--dry;run"]}""")).Status);
        var runs = await f.WaitForRunsAsync(["report"], r => r["report"].Count == 2 && r["report"].All(x => JobsFixture.State(x!) == "succeeded"), "two manual runs");

        Assert.Equal(["--day=2026-01-01", "--day=2026-01-02 --dryrun"], runs["report"].Select(r => (string)r!["arguments"]!).Order().ToArray());
        Assert.All(runs["report"], r => Assert.Equal("manual", (string)r!["trigger"]!));
        var commands = f.Agents[0].Launched.Select(t => t.Command!.Value!).Order().ToArray();
        Assert.Equal(["echo report --fast --day=2026-01-01", "echo report --fast --day=2026-01-02 --dryrun"], commands);
        var env = f.Agents[0].Launched.First().Command!.Environment!.Variables;
        Assert.Contains(env, v => v.Name == "CHRONOS_JOB_NAME" && v.Value == "report");
        Assert.Contains(env, v => v.Name == "mesos_task_id" && v.Value!.StartsWith("ct:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Mark_success_runs_the_children()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f);

        var (status, _, text, _) = await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/success/A");
        Assert.Equal(200, status);
        Assert.Equal("marked job A as successful: true", text);
        var runs = await f.WaitForRunsAsync(Diamond, r => AllFinal(r, 1), "children of the marked run");
        Assert.Equal("marked successful", (string)runs["A"][0]!["reason"]!);
        Assert.All(Diamond.Skip(1), j => Assert.Equal("succeeded", JobsFixture.State(runs[j].Single()!)));
        Assert.Equal(3, f.Agents.Sum(a => a.Launched.Count));
    }

    [Fact]
    public async Task Kill_and_max_run_seconds_end_running_runs()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await f.PostAsync("iso8601", $$"""{"name":"slow","command":"sleep 300","schedule":"R/2030-01-01T00:00:00Z/P1D","environmentVariables":{{Env("300", null)}}}""");
        await f.PostAsync("iso8601", $$"""{"name":"capped","command":"sleep 300","schedule":"R/2030-01-01T00:00:00Z/P1D","maxRunSeconds":10,"environmentVariables":{{Env("300", null)}}}""");

        await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/slow");
        await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/capped");
        await f.WaitForRunsAsync(["slow", "capped"], r => r.Values.All(l => l.Count == 1 && JobsFixture.State(l[0]!) == "running" && l[0]!["runningAt"] is not null), "both running");

        Assert.Equal(204, (await f.SendAsync(HttpMethod.Delete, "/v1/scheduler/task/kill/slow")).Status);
        var runs = await f.WaitForRunsAsync(["slow"], r => JobsFixture.State(r["slow"][0]!) == "killed", "slow killed");
        Assert.Contains("killed by request", (string)runs["slow"][0]!["reason"]!);

        f.Clock.AdvanceSeconds(11);
        runs = await f.WaitForRunsAsync(["capped"], r => JobsFixture.State(r["capped"][0]!) == "killed", "capped killed after maxRunSeconds");
        Assert.Contains("maxRunSeconds", (string)runs["capped"][0]!["reason"]!);
        Assert.Single(runs["capped"]); // killed runs are not retried
    }

    [Fact]
    public async Task Deleting_a_scheduled_parent_makes_its_only_child_scheduled_as_Chronos_does()
    {
        await using var f = await JobsFixture.StartAsync(agents: 1);
        await PostDiamondAsync(f);
        Assert.Equal(204, (await f.SendAsync(HttpMethod.Delete, "/v1/scheduler/job/A")).Status);

        var jobs = (await f.AllJobsAsync()).ToDictionary(j => (string)j!["name"]!, j => j!);
        Assert.Equal(["B", "C", "D"], jobs.Keys.Order().ToArray());
        Assert.Equal("R/2030-01-01T00:00:00Z/P1D", (string)jobs["B"]["schedule"]!);
        Assert.Null(jobs["B"]["parents"]);
        Assert.Equal(["B", "C"], jobs["D"]["parents"]!.AsArray().Select(p => (string)p!).ToArray());
    }
}
