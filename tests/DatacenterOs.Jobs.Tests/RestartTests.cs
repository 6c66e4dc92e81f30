using System.Text.Json.Nodes;

namespace DatacenterOs.Jobs.Tests;

/// <summary>Restarting the Jobs service over the same jobs.db while a DAG run is in flight.</summary>
public sealed class RestartTests
{
    private static readonly string[] Diamond = ["A", "B", "C", "D"];

    private static async Task PostDiamondAsync(JobsFixture f, string schedule)
    {
        await f.PostAsync("iso8601", $$"""{"name":"A","command":"echo A","schedule":"{{schedule}}"}""");
        // B runs long enough (wall clock) for the restart to happen while it runs.
        await f.PostAsync("dependency", """{"name":"B","command":"sleep 2","parents":["A"],"environmentVariables":[{"name":"SIM_DURATION","value":"2"}]}""");
        await f.PostAsync("dependency", """{"name":"C","command":"echo C","parents":["A"]}""");
        await f.PostAsync("dependency", """{"name":"D","command":"echo D","parents":["B","C"]}""");
    }

    private static void AssertOneSuccessfulRunEach(Dictionary<string, JsonArray> runs, JobsFixture f)
    {
        var dag = (string)runs["A"].Single()!["dagRunId"]!;
        foreach (var job in Diamond)
        {
            var run = Assert.Single(runs[job])!;
            Assert.Equal("succeeded", JobsFixture.State(run));
            Assert.Equal(dag, (string)run["dagRunId"]!);
        }

        // The master received exactly one launch per job.
        var launched = f.Agents.SelectMany(a => a.Launched).Select(t => t.TaskId.Value).ToList();
        Assert.Equal(4, launched.Count);
        Assert.Equal(4, launched.Distinct().Count());
    }

    [Fact]
    public async Task Restart_in_the_middle_of_a_DAG_run_completes_it_without_duplicates()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f, "R/2026-01-01T00:01:00Z/PT1H");

        f.Clock.AdvanceSeconds(30); // 00:01:00: A is due
        await f.WaitForRunsAsync(Diamond, r => r["B"].Count == 1 && JobsFixture.State(r["B"][0]!) == "running" && r["C"].Count == 1 && JobsFixture.State(r["C"][0]!) == "succeeded", "B running, C done");

        await f.RestartJobsAsync();

        var runs = await f.WaitForRunsAsync(Diamond, r => r["D"].Count == 1 && JobsFixture.State(r["D"][0]!) == "succeeded", "DAG completed after the restart");
        AssertOneSuccessfulRunEach(runs, f);
        Assert.Equal("schedule", (string)runs["A"][0]!["trigger"]!);

        // Another restart and an evaluation at the same instant create nothing new.
        await f.RestartJobsAsync();
        f.Clock.AdvanceSeconds(1);
        await f.SendAsync(HttpMethod.Post, "/v1/scheduler/dependency", """{"name":"D","command":"echo D","parents":["B","C"]}""");
        runs = await f.WaitForRunsAsync(Diamond, _ => true, "histories");
        AssertOneSuccessfulRunEach(runs, f);
    }

    [Fact]
    public async Task Restart_right_after_the_occurrence_is_persisted_launches_it_once()
    {
        await using var f = await JobsFixture.StartAsync();
        await PostDiamondAsync(f, "R/2026-01-01T00:01:00Z/PT1H");

        // The service goes down at once after the wake-up; the occurrence is due while it is away and handled once
        // (either already persisted, or caught up from the cursor after the restart).
        f.Clock.AdvanceSeconds(30);
        await f.RestartJobsAsync(whileStopped: () =>
        {
            f.Clock.AdvanceSeconds(5);
            return Task.CompletedTask;
        });

        var runs = await f.WaitForRunsAsync(Diamond, r => r["D"].Count == 1 && JobsFixture.State(r["D"][0]!) == "succeeded", "DAG completed");
        AssertOneSuccessfulRunEach(runs, f);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero), DateTimeOffset.Parse((string)runs["A"][0]!["scheduledFor"]!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
