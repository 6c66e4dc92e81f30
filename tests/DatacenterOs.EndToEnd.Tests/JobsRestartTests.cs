using System.Globalization;
using System.Text.Json.Nodes;
using DatacenterOs.Testing;

namespace DatacenterOs.EndToEnd.Tests;

/// <summary>The real dcosd process: Jobs survives its restart in the middle of a DAG run (issue: no duplicate, no lost run).</summary>
public sealed class JobsRestartTests
{
    private static readonly string[] Diamond = ["A", "B", "C", "D"];

    [Fact]
    public async Task Restarting_dcosd_mid_DAG_run_completes_it_with_each_job_run_once()
    {
        var workDir = Directory.CreateTempSubdirectory("dcos-e2e-jobs-").FullName;
        var log = Path.Combine(workDir, "runs.log");
        var gate = Path.Combine(workDir, "b.gate");
        // The jobs append to a log in the test's own (owner-only) temporary directory: they run as the test's user,
        // not as dcosd's default task user.
        await using var dcosd = new DcosdProcess(Path.Combine(workDir, "state"), "[33000-33100]", "--task-user", "root", "--allow-root-tasks");
        await dcosd.StartAsync();

        // A is scheduled a few seconds from now on the real clock; B waits for a gate file, so dcosd is restarted while
        // B runs; D needs both B and C.
        var start = DateTimeOffset.UtcNow.AddSeconds(3);
        var schedule = "R1/" + start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) + "/PT1H";
        await PostAsync(dcosd, "iso8601", $$$"""{"name":"A","command":"echo A >> {{{log}}}","schedule":"{{{schedule}}}","cpus":0.1,"mem":16}""");
        await PostAsync(dcosd, "dependency", $$$"""{"name":"B","command":"while [ ! -e {{{gate}}} ]; do sleep 0.1; done; echo B >> {{{log}}}","parents":["A"],"cpus":0.1,"mem":16}""");
        await PostAsync(dcosd, "dependency", $$$"""{"name":"C","command":"echo C >> {{{log}}}","parents":["A"],"cpus":0.1,"mem":16}""");
        await PostAsync(dcosd, "dependency", $$$"""{"name":"D","command":"echo D >> {{{log}}}","parents":["B","C"],"cpus":0.1,"mem":16}""");

        await DcosdProcess.WaitUntilAsync(async () =>
        {
            var runs = await RunsAsync(dcosd);
            return runs["B"].Count == 1 && State(runs["B"][0]!) == "running" && runs["C"].Count == 1 && State(runs["C"][0]!) == "succeeded";
        }, "A done, B running, C done");

        // SIGTERM while B runs; B finishes while dcosd is down (its agent learns the exit status after the restart).
        await dcosd.StopAsync();
        await File.WriteAllTextAsync(gate, "go");
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(File.Exists(log) && File.ReadAllLines(log).Contains("B")), "B to finish while dcosd is down");

        await dcosd.StartAsync();
        var final = await WaitForDAsync(dcosd);

        // Each job ran exactly once, in dependency order, inside one DAG run, and its run row says so.
        var lines = File.ReadAllLines(log);
        Assert.Equal(4, lines.Length);
        Assert.Equal("A", lines[0]);
        Assert.Equal("D", lines[3]);
        Assert.Equal(["B", "C"], lines[1..3].Order());
        var dagRunId = (string)final["A"].Single()!["dagRunId"]!;
        foreach (var job in Diamond)
        {
            var run = Assert.Single(final[job])!;
            Assert.Equal("succeeded", State(run));
            Assert.Equal(dagRunId, (string)run["dagRunId"]!);
        }

        Assert.Equal("schedule", (string)final["A"][0]!["trigger"]!);
        var scheduledFor = DateTimeOffset.Parse((string)final["A"][0]!["scheduledFor"]!, CultureInfo.InvariantCulture);
        Assert.Equal(start.ToUnixTimeSeconds(), scheduledFor.ToUnixTimeSeconds());

        // A second restart adds nothing: the finished DAG run is not replayed.
        await dcosd.StopAsync();
        await dcosd.StartAsync();
        var again = await RunsAsync(dcosd);
        Assert.All(Diamond, job => Assert.Single(again[job]));
        await dcosd.StopAsync();

        try
        {
            Directory.Delete(workDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static async Task PostAsync(DcosdProcess dcosd, string kind, string json)
    {
        var (status, body) = await dcosd.SendAsync(HttpMethod.Post, "/v1/scheduler/" + kind, json);
        Assert.True(status is 200 or 201 or 204, $"POST {kind}: {status} {body?.ToJsonString()}");
    }

    private static async Task<Dictionary<string, JsonArray>> WaitForDAsync(DcosdProcess dcosd)
    {
        Dictionary<string, JsonArray> runs = [];
        await DcosdProcess.WaitUntilAsync(async () =>
        {
            runs = await RunsAsync(dcosd);
            return runs["D"].Count == 1 && State(runs["D"][0]!) == "succeeded";
        }, "D to succeed after the restart");
        return runs;
    }

    private static async Task<Dictionary<string, JsonArray>> RunsAsync(DcosdProcess dcosd)
    {
        var runs = new Dictionary<string, JsonArray>();
        foreach (var job in Diamond)
        {
            var (status, body) = await dcosd.SendAsync(HttpMethod.Get, $"/v1/scheduler/job/{job}/runs");
            Assert.Equal(200, status);
            runs[job] = body!.AsArray();
        }

        return runs;
    }

    private static string State(JsonNode run) => (string)run["state"]!;
}
