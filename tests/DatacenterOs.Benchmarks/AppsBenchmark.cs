using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Apps;
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
/// The Apps benchmark: a standalone cluster in this process (master, simulated agents, Apps with its SQLite store, the
/// /v2 API on loopback HTTP). Creates <c>apps</c> one-instance apps over HTTP (16 clients in parallel), waits until all
/// run, times <c>GET /v2/apps</c>, then times a rolling restart of one 100-instance app (no health checks: an instance
/// counts once it runs). Prints
/// <c>apps apps=N create_per_s=… running_s=… list_p50_ms=… list_p99_ms=… list_bytes=… restart100_s=… rss_mb=…</c>.
/// </summary>
internal static class AppsBenchmark
{
    public static async Task<int> RunAsync(int apps, int agents, int listRounds, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("dcos-apps-bench-").FullName;
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning));
        using var registry = await SqlMasterRegistry.OpenAsync(Path.Combine(root, "master"), () => "bench-" + Guid.NewGuid().ToString("N")[..8], cancellationToken).ConfigureAwait(false);
        var master = await MasterRuntime.StartAsync(new MasterOptions { WorkDir = Path.Combine(root, "master"), AllocationInterval = TimeSpan.FromMilliseconds(200) }, registry, TimeProvider.System, loggers, cancellationToken).ConfigureAwait(false);
        using var store = await AppsStore.OpenAsync(Path.Combine(root, "apps.db"), null, cancellationToken).ConfigureAwait(false);
        var service = new AppsService(AppsService.ConnectOver(master.InProcessTransport), new AppsOptions(), TimeProvider.System, store: store);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var web = builder.Build();
        master.MapEndpoints(web);
        service.MapAppsEndpoints(web);
        await web.StartAsync(cancellationToken).ConfigureAwait(false);
        var url = new Uri(web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var simulated = new List<SimulatedAgent>();
        using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromMinutes(5) };
        try
        {
            var perAgent = Math.Max(200, (apps + 200) * 2 / agents);
            for (var i = 0; i < agents; i++)
            {
                var agent = new SimulatedAgent($"sim-{i}", Resources.Parse(string.Create(CultureInfo.InvariantCulture, $"cpus:{perAgent};mem:{perAgent * 64};ports:[10000-60000]")), [url.GetLeftPart(UriPartial.Authority)], TimeProvider.System);
                agent.Start();
                simulated.Add(agent);
            }

            while (simulated.Any(a => a.AgentId is null))
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }

            await service.StartAsync(cancellationToken).ConfigureAwait(false);

            // 1. Create.
            var created = Stopwatch.StartNew();
            var next = -1;
            var workers = Enumerable.Range(0, 16).Select(async _ =>
            {
                int n;
                while ((n = Interlocked.Increment(ref next)) < apps)
                {
                    var body = string.Create(CultureInfo.InvariantCulture, $$"""{"id":"/bench/g{{n / 100}}/app{{n}}","cmd":"sleep 3600","cpus":0.01,"mem":1,"instances":1}""");
                    using var content = new StringContent(body);
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    using var response = await http.PostAsync(new Uri("/v2/apps", UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
                    if ((int)response.StatusCode != 201)
                    {
                        throw new InvalidOperationException($"POST app {n}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
                    }
                }
            }).ToList();
            using (var progress = new Timer(_ => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"apps-progress created={Math.Min(apps, Volatile.Read(ref next))} elapsed_s={created.Elapsed.TotalSeconds:F0}")), null, 5000, 5000))
            {
                await Task.WhenAll(workers).ConfigureAwait(false);
            }

            var createPerSecond = apps / created.Elapsed.TotalSeconds;

            // 2. Wait until every app runs (the deployments are gone).
            while (true)
            {
                var deployments = JsonNode.Parse(await http.GetStringAsync(new Uri("/v2/deployments", UriKind.Relative), cancellationToken).ConfigureAwait(false))!.AsArray();
                if (deployments.Count == 0)
                {
                    break;
                }

                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"apps-progress deployments={deployments.Count} elapsed_s={created.Elapsed.TotalSeconds:F0}"));
                await Task.Delay(1000, cancellationToken).ConfigureAwait(false);
            }

            var runningSeconds = created.Elapsed.TotalSeconds;

            // 3. List.
            var latencies = new List<double>();
            long bytes = 0;
            for (var i = 0; i < listRounds + 3; i++)
            {
                // The client streams the body (as a JSON reader would) instead of buffering 7 MB per request.
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(new Uri("/v2/apps", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                var counter = new CountingStream();
                await response.Content.CopyToAsync(counter, cancellationToken).ConfigureAwait(false);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                bytes = counter.Length;
                if (i >= 3)
                {
                    latencies.Add(ms);
                }
            }

            latencies.Sort();

            // Where list time goes: time to the first byte (lock + per-app views + first chunk) vs the whole body.
            var firstByte = new List<double>();
            for (var i = 0; i < 10; i++)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(new Uri("/v2/apps", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                firstByte.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                await response.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
            }

            firstByte.Sort();
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"apps-detail list_first_byte_p50_ms={Percentile(firstByte, 0.5):F1}"));

            // 4. Rolling restart of 100 instances.
            await PostAsync(http, "/v2/apps", """{"id":"/bench-restart","cmd":"sleep 3600","cpus":0.01,"mem":1,"instances":100}""", cancellationToken).ConfigureAwait(false);
            await WaitForNoDeploymentsAsync(http, cancellationToken).ConfigureAwait(false);
            var restart = Stopwatch.StartNew();
            await PostAsync(http, "/v2/apps/bench-restart/restart", "", cancellationToken).ConfigureAwait(false);
            await WaitForNoDeploymentsAsync(http, cancellationToken).ConfigureAwait(false);
            var restartSeconds = restart.Elapsed.TotalSeconds;

            var rss = Process.GetCurrentProcess().WorkingSet64 / (1024.0 * 1024.0);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"apps apps={apps} create_per_s={createPerSecond:F0} running_s={runningSeconds:F1} list_p50_ms={Percentile(latencies, 0.50):F1} list_p99_ms={Percentile(latencies, 0.99):F1} list_bytes={bytes} restart100_s={restartSeconds:F2} rss_mb={rss:F0}"));
            return 0;
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

    private static async Task PostAsync(HttpClient http, string path, string body, CancellationToken cancellationToken)
    {
        using var content = new StringContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {path}: {(int)response.StatusCode}");
        }
    }

    private static async Task WaitForNoDeploymentsAsync(HttpClient http, CancellationToken cancellationToken)
    {
        while (JsonNode.Parse(await http.GetStringAsync(new Uri("/v2/deployments", UriKind.Relative), cancellationToken).ConfigureAwait(false))!.AsArray().Count > 0)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

/// <summary>A write-only stream that counts and discards what is written.</summary>
internal sealed class CountingStream : Stream
{
    private long _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => _length += count;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _length += buffer.Length;
        return ValueTask.CompletedTask;
    }
}
