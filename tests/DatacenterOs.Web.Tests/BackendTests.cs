using DatacenterOs.Web.Backend;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Web.Tests;

/// <summary>The HTTP backends and the change feed against the real dcosd process (no browser needed).</summary>
public sealed class BackendTests
{
    [Fact]
    public async Task Backends_read_and_change_apps_jobs_and_the_master_over_http_and_the_feed_reports_changes()
    {
        var workDir = Directory.CreateTempSubdirectory("dcos-web-").FullName;
        var marker = "backend" + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var dcosd = new DcosdProcess(workDir);
        using var http = new HttpClient { BaseAddress = dcosd.Url };
        var backends = new HttpBackends(http);
        using var feed = new ClusterFeed(http, backends, TimeProvider.System, NullLogger<ClusterFeed>.Instance);
        try
        {
            await dcosd.StartAsync();
            await feed.StartAsync(CancellationToken.None);
            var changes = new List<ChangeKinds>();
            using var subscription = feed.Subscribe(ChangeKinds.Apps | ChangeKinds.Cluster | ChangeKinds.Jobs, k =>
            {
                lock (changes)
                {
                    changes.Add(k);
                }

                return Task.CompletedTask;
            });
            bool Saw(ChangeKinds kind)
            {
                lock (changes)
                {
                    return changes.Any(c => (c & kind) != 0);
                }
            }

            // Validation errors come back per field.
            var invalid = await backends.CreateAppAsync("""{"id":"/bad","cpus":-1}""", CancellationToken.None);
            Assert.Equal(422, invalid.Status);
            Assert.Contains(invalid.FieldErrors, e => e.Path == "/cpus");

            var created = await backends.CreateAppAsync($$"""{"id":"/{{marker}}","cmd":"echo out-{{marker}}; sleep 1000 # {{marker}}","cpus":0.1,"mem":32,"instances":2}""", CancellationToken.None);
            Assert.True(created.Ok, created.Message);
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Saw(ChangeKinds.Apps)), "an Apps change from /v2/events");
            await DcosdProcess.WaitUntilAsync(async () => (await backends.GetAppAsync("/" + marker, CancellationToken.None))?.Tasks.Count(t => t.State == "TASK_RUNNING") == 2, "2 running tasks");

            var detail = (await backends.GetAppAsync("/" + marker, CancellationToken.None))!;
            Assert.All(detail.Tasks, t => Assert.Single(t.Ports));
            Assert.Contains(await backends.ListAppsAsync(CancellationToken.None), a => a.Id == "/" + marker && a.Instances == 2);
            Assert.Single(await backends.GetVersionsAsync("/" + marker, CancellationToken.None));
            Assert.Null(await backends.GetAppAsync("/nope", CancellationToken.None));

            // The master's state and a sandbox file of a task, found through it.
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Saw(ChangeKinds.Cluster)), "a Cluster change");
            var state = await backends.GetStateAsync(CancellationToken.None);
            Assert.Single(state.Agents);
            Assert.Equal(2, state.Tasks.Count(t => t.State == "TASK_RUNNING"));
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(feed.Samples.Any(s => s.Total.Cpus == 4 && s.RunningTasks == 2 && s.Used.Mem >= 64)), "an allocation sample with the agent's 4 cpus and the 2 tasks");
            (FileChunk? Chunk, string? Error) log = default;
            await DcosdProcess.WaitUntilAsync(async () => (log = await TaskLogs.ReadAsync(backends, backends, detail.Tasks[0].Id, "stdout", -1, 4096, CancellationToken.None)).Chunk?.Data.Contains("out-" + marker, StringComparison.Ordinal) == true, "the task's stdout");
            Assert.Null(log.Error);

            // Actions: kill one task with scale, weights.
            Assert.True((await backends.KillTaskAsync("/" + marker, detail.Tasks[0].Id, scale: true, CancellationToken.None)).Ok);
            await DcosdProcess.WaitUntilAsync(async () => (await backends.GetAppAsync("/" + marker, CancellationToken.None))?.App.Instances == 1, "instances lowered to 1");
            Assert.True((await backends.UpdateWeightAsync("analytics", 3, CancellationToken.None)).Ok);
            Assert.Contains((await backends.GetStateAsync(CancellationToken.None)).Roles, r => r.Name == "analytics" && r.Weight == 3);
            Assert.Empty(await backends.GetQuotaAsync(CancellationToken.None));
            var quota = await dcosd.SendAsync(HttpMethod.Post, "/api/v1", """{"type":"UPDATE_QUOTA","update_quota":{"quota_configs":[{"role":"analytics","limits":{"cpus":{"value":2}}}]}}""");
            Assert.Equal(200, quota.Status);
            Assert.Equal(2, (await backends.GetQuotaAsync(CancellationToken.None)).Single(q => q.Role == "analytics").Limits["cpus"]);
            Assert.All(await backends.ListDeploymentsAsync(CancellationToken.None), d => Assert.Contains("/" + marker, d.AffectedApps));
            Assert.All(await backends.GetQueueAsync(CancellationToken.None), q => Assert.Equal("/" + marker, q.AppId));
            Assert.True((await backends.DestroyAsync("/" + marker, CancellationToken.None)).Ok);

            // Jobs: validation errors per field, a job and its dependent, a manual run, the graph.
            var badJob = await backends.UpsertJobAsync("""{"name":"","command":"x","schedule":"R/bad"}""", dependent: false, CancellationToken.None);
            Assert.Equal(400, badJob.Status);
            Assert.NotEmpty(badJob.FieldErrors);
            var tomorrow = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
            Assert.True((await backends.UpsertJobAsync($$"""{"name":"a","command":"echo a","schedule":"R/{{tomorrow}}/PT1H","cpus":0.1,"mem":32}""", dependent: false, CancellationToken.None)).Ok);
            Assert.True((await backends.UpsertJobAsync("""{"name":"b","command":"echo b","parents":["a"],"cpus":0.1,"mem":32}""", dependent: true, CancellationToken.None)).Ok);
            await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Saw(ChangeKinds.Jobs)), "a Jobs change");
            Assert.True((await backends.RunNowAsync("a", CancellationToken.None)).Ok);
            await DcosdProcess.WaitUntilAsync(async () => (await backends.GetRunsAsync("b", 10, CancellationToken.None))?.Any(r => r.State == "succeeded") == true, "b to succeed after a");
            var jobs = await backends.ListJobsAsync(CancellationToken.None);
            Assert.Equal(["a"], jobs.Single(j => j.Name == "b").Parents);
            Assert.NotNull(jobs.Single(j => j.Name == "a").LastSuccess);
            Assert.Contains("->", await backends.GetGraphDotAsync(CancellationToken.None), StringComparison.Ordinal);
            Assert.Null(await backends.GetRunsAsync("nope", 10, CancellationToken.None));
            Assert.True((await backends.DeleteJobAsync("b", CancellationToken.None)).Ok);
        }
        catch
        {
            Console.WriteLine(dcosd.Log);
            throw;
        }
        finally
        {
            await feed.StopAsync(CancellationToken.None);
            await dcosd.DisposeAsync();
            DcosdProcess.KillProcesses(marker, workDir);
            Directory.Delete(workDir, recursive: true);
        }
    }

    [Fact]
    public async Task An_unreachable_master_is_a_backend_error_with_a_message()
    {
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:1/") };
        var backends = new HttpBackends(http);
        var e = await Assert.ThrowsAsync<BackendException>(() => backends.GetStateAsync(CancellationToken.None));
        Assert.Contains("/master/state", e.Message, StringComparison.Ordinal);
        var result = await backends.ScaleAsync("/web", 2, CancellationToken.None);
        Assert.False(result.Ok);
        Assert.Contains("PUT /v2/apps/web failed", result.Message, StringComparison.Ordinal);
    }
}
