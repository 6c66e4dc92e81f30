using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Jobs;
using DatacenterOs.Kernel;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// The Jobs benchmark: a standalone cluster in this process (master, simulated agents, Jobs with its SQLite store and
/// Quartz wake-ups, the /v1/scheduler API on loopback HTTP, wall clock). Posts <c>jobs</c> cron jobs
/// <c>* * * * *</c> (each task finishes after 1 s on the simulated agents), waits for <c>minutes</c> minute
/// boundaries, then reads every run history and measures the lateness of each scheduled run: its scheduled instant to
/// the TASK_RUNNING the service received (<c>runningAt</c>). Also counts occurrences without a run (missed) and
/// occurrences run more than once (duplicates). Then, unless told not to, Debian <c>cron</c> fires the same number of every-minute entries for one minute
/// (<see cref="CronComparison"/>) and a second line prints its lateness. First line:
/// <c>jobs jobs=N minutes=M post_s=… runs=… missed=… duplicates=… lateness_p50_ms=… lateness_p99_ms=… lateness_max_ms=…
/// wakeup_p50_ms=… wakeup_p99_ms=… offer_p50_ms=… offer_p99_ms=… to_agent_p50_ms=… to_agent_p99_ms=… update_p50_ms=…
/// update_p99_ms=… rss_mb=…</c> (wake-up: scheduled instant to the run row's creation; offer: creation to launch; to agent:
/// launch to the simulated agent receiving LAUNCH; update: that to the service receiving TASK_RUNNING).
/// </summary>
internal static class JobsBenchmark
{
    public static async Task<int> RunAsync(int jobs, int minutes, int agents, bool compareCron, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("dcos-jobs-bench-").FullName;
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        using var registry = await SqlMasterRegistry.OpenAsync(Path.Combine(root, "master"), () => "bench-" + Guid.NewGuid().ToString("N")[..8], cancellationToken).ConfigureAwait(false);
        var master = await MasterRuntime.StartAsync(new MasterOptions { WorkDir = Path.Combine(root, "master"), AllocationInterval = TimeSpan.FromMilliseconds(200) }, registry, TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
        using var store = await JobsStore.OpenAsync(Path.Combine(root, "jobs.db"), null, cancellationToken).ConfigureAwait(false);
        var labels = new Dictionary<string, string> { [SimulatedAgent.DurationLabel] = "1" };
        var service = new JobsService(
            JobsService.ConnectOver(master.InProcessTransport),
            new JobsOptions { TaskLabels = _ => labels, FetchStdout = false },
            TimeProvider.System,
            store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        master.MapEndpoints(web);
        service.MapJobsEndpoints(web);
        await web.StartAsync(cancellationToken).ConfigureAwait(false);
        var url = new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var simulated = new List<SimulatedAgent>();
        var agentLaunch = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset>();
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
        try
        {
            var perAgent = Math.Max(100, jobs * 2 / agents);
            for (var i = 0; i < agents; i++)
            {
                var agent = new SimulatedAgent($"sim-{i}", Resources.Parse(string.Create(CultureInfo.InvariantCulture, $"cpus:{perAgent};mem:{perAgent * 16};disk:{perAgent * 16}")), [url.GetLeftPart(UriPartial.Authority)], TimeProvider.System)
                {
                    OnLaunch = (task, at) => agentLaunch[task] = at,
                };
                agent.Start();
                simulated.Add(agent);
            }

            while (simulated.Any(a => a.AgentId is null))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }

            await service.StartAsync(cancellationToken).ConfigureAwait(false);

            // Post the jobs (8 clients); keep clear of a minute boundary while posting, so every job sees the same ones.
            var now = DateTimeOffset.UtcNow;
            if (now.Second >= 45)
            {
                await Task.Delay(TimeSpan.FromSeconds(62 - now.Second), cancellationToken).ConfigureAwait(false);
            }

            var next = -1;
            var posting = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < jobs)
                {
                    var body = string.Create(CultureInfo.InvariantCulture, $$"""{"name":"bench-{{n:D5}}","command":"true","schedule":"* * * * *","cpus":0.01,"mem":1,"disk":1}""");
                    using var content = new StringContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync(new Uri("/v1/scheduler/iso8601", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
                    if ((int)response.StatusCode != 204)
                    {
                        throw new InvalidOperationException($"POST job {n}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
                    }
                }
            })).ConfigureAwait(false);
            var postSeconds = posting.Elapsed.TotalSeconds;

            // The minute boundaries after the last job was posted are the occurrences every job must run.
            var posted = DateTimeOffset.UtcNow;
            var first = new DateTimeOffset(posted.Year, posted.Month, posted.Day, posted.Hour, posted.Minute, 0, TimeSpan.Zero).AddMinutes(1);
            var expected = Enumerable.Range(0, minutes).Select(m => first.AddMinutes(m)).ToList();
            var until = expected[^1].AddSeconds(10);
            while (DateTimeOffset.UtcNow < until)
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }

            var lateness = new List<double>();
            var wake = new List<double>();
            var offer = new List<double>();
            var toAgent = new List<double>();
            var back = new List<double>();
            long missed = 0, duplicates = 0, runs = 0;
            for (var n = 0; n < jobs; n++)
            {
                var history = JsonNode.Parse(await http.GetStringAsync(new Uri(string.Create(CultureInfo.InvariantCulture, $"/v1/scheduler/job/bench-{n:D5}/runs?limit=1000"), UriKind.Relative), cancellationToken).ConfigureAwait(false))!.AsArray();
                var scheduled = history.Where(r => (string?)r!["trigger"] == "schedule").ToList();
                runs += scheduled.Count;
                foreach (var at in expected)
                {
                    var matching = scheduled.Where(r => Instant(r!["scheduledFor"]) == at).ToList();
                    if (matching.Count == 0 || matching[0]!["runningAt"] is null)
                    {
                        missed++;
                        continue;
                    }

                    duplicates += matching.Count - 1;
                    lateness.Add((Instant(matching[0]!["runningAt"]) - at).TotalMilliseconds);
                    wake.Add((Instant(matching[0]!["createdAt"]) - at).TotalMilliseconds);
                    offer.Add((Instant(matching[0]!["startedAt"]) - Instant(matching[0]!["createdAt"])).TotalMilliseconds);
                    if (matching[0]!["taskId"] is { } taskId && agentLaunch.TryGetValue((string)taskId!, out var launchedAt))
                    {
                        toAgent.Add((launchedAt - Instant(matching[0]!["startedAt"])).TotalMilliseconds);
                        back.Add((Instant(matching[0]!["runningAt"]) - launchedAt).TotalMilliseconds);
                    }
                }
            }

            lateness.Sort();
            wake.Sort();
            offer.Sort();
            toAgent.Sort();
            back.Sort();
            var rss = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024.0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"jobs jobs={jobs} minutes={minutes} post_s={postSeconds:F1} runs={runs} missed={missed} duplicates={duplicates} lateness_p50_ms={Percentile(lateness, 0.50):F1} lateness_p99_ms={Percentile(lateness, 0.99):F1} lateness_max_ms={(lateness.Count == 0 ? double.NaN : lateness[^1]):F1} wakeup_p50_ms={Percentile(wake, 0.50):F1} wakeup_p99_ms={Percentile(wake, 0.99):F1} offer_p50_ms={Percentile(offer, 0.50):F1} offer_p99_ms={Percentile(offer, 0.99):F1} to_agent_p50_ms={Percentile(toAgent, 0.50):F1} to_agent_p99_ms={Percentile(toAgent, 0.99):F1} update_p50_ms={Percentile(back, 0.50):F1} update_p99_ms={Percentile(back, 0.99):F1} rss_mb={rss:F0}"));
            var cron = compareCron ? await CronComparison.RunAsync(jobs, 1, cancellationToken).ConfigureAwait(false) : null;
            Console.WriteLine(cron is { } c
                ? string.Create(CultureInfo.InvariantCulture, $"cron jobs={jobs} minutes=1 missed={c.Missed} lateness_p50_ms={Percentile(c.Lateness, 0.50):F1} lateness_p99_ms={Percentile(c.Lateness, 0.99):F1} lateness_max_ms={(c.Lateness.Count == 0 ? double.NaN : c.Lateness[^1]):F1}")
                : compareCron ? "cron absent (needs /usr/sbin/cron and root)" : "cron skipped");
            return missed == 0 && duplicates == 0 ? 0 : 1;
        }
        finally
        {
            await service.DisposeAsync().ConfigureAwait(false);
            foreach (var agent in simulated)
            {
                await agent.DisposeAsync().ConfigureAwait(false);
            }

            await master.DisposeAsync().ConfigureAwait(false);
            await web.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await web.DisposeAsync().ConfigureAwait(false);
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static DateTimeOffset Instant(JsonNode? node) => DateTimeOffset.Parse((string)node!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
