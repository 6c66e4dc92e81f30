namespace DatacenterOs.Jobs.Tests;

public sealed class RealAgentTests
{
    [Fact]
    public async Task A_real_job_runs_at_its_scheduled_second_and_its_run_shows_success_and_stdout()
    {
        await using var f = await JobsFixture.StartWithRealAgentAsync();
        await f.PostAsync("iso8601", """{"name":"clock","command":"sh -c 'date; echo hello-from-job; exit 0'","schedule":"R1/2026-01-01T00:01:00Z/PT1M","cpus":0.1,"mem":32,"disk":10}""");
        Assert.Empty(await f.RunsAsync("clock"));

        f.Clock.AdvanceSeconds(30); // the fake clock reaches the scheduled second
        var runs = await f.WaitForRunsAsync(["clock"], r => r["clock"].Count == 1 && JobsFixture.State(r["clock"][0]!) == "succeeded" && r["clock"][0]!["stdout"] is not null, "the real run and its stdout", seconds: 60);

        var run = runs["clock"][0]!;
        Assert.Equal(0, (int)run["exitCode"]!);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 1, 0, TimeSpan.Zero), DateTimeOffset.Parse((string)run["scheduledFor"]!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("hello-from-job", (string)run["stdout"]!);
        Assert.Matches(@"\d\d:\d\d:\d\d", (string)run["stdout"]!); // date's output
        Assert.Equal(f.RealAgent!.AgentId, (string)run["agentId"]!);
    }

    [Fact]
    public async Task A_real_failing_job_records_its_exit_code()
    {
        await using var f = await JobsFixture.StartWithRealAgentAsync();
        await f.PostAsync("iso8601", """{"name":"broken","command":"echo oops; exit 7","schedule":"R/2030-01-01T00:00:00Z/P1D","retries":0,"mem":32,"disk":10}""");
        await f.SendAsync(HttpMethod.Put, "/v1/scheduler/job/broken");
        var runs = await f.WaitForRunsAsync(["broken"], r => r["broken"].Count == 1 && JobsFixture.State(r["broken"][0]!) == "failed", "the failed run", seconds: 60);
        Assert.Equal(7, (int)runs["broken"][0]!["exitCode"]!);
        var (_, body, _, _) = await f.SendAsync(HttpMethod.Get, "/v1/scheduler/jobs/summary");
        Assert.Equal("failure", (string)body!["jobs"]![0]!["status"]!);
    }
}
