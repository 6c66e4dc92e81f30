using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using DatacenterOs.Agent.Simulation;
using DatacenterOs.Kernel;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// Master scale and master failover with a real <c>dcosd master</c> process (so its memory is its own) and, in this
/// process, <c>agents</c> simulated agents and one framework on the v1 scheduler HTTP API that places <c>tasks</c> tiny
/// tasks. Anchors (reference notes on Mesos §3.2): production masters with 35,000+ agents and 100,000+ tasks; Mesos 1.7
/// <c>/state</c> about 3 s per response at that scale; the Mesos 1.5 failover benchmark (time until all agents
/// re-registered, 1,000–40,000 agents, 10–400k tasks).
/// </summary>
internal static class MasterScaleBenchmark
{
    private const string TaskShape = "cpus:0.01;mem:32";

    /// <summary>
    /// <c>master-scale</c>: while the tasks launch, one client reads <c>GET /master/state</c> and another
    /// <c>POST /api/v1 GET_STATE</c> back to back, and <c>/metrics</c> is sampled for the allocation run time; then both
    /// reads are timed again at rest. Prints <c>master-scale agents=… tasks=… rss_mb=… state_p99_ms=…
    /// get_state_p99_ms=… state_mb=… alloc_ms_p50=… alloc_ms_max=… launch_s=…</c>.
    /// </summary>
    public static async Task<int> RunScaleAsync(int agents, int tasks, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("dcos-master-scale-bench-").FullName;
        await using var master = new MasterProcess(Path.Combine(root, "master"));
        List<SimulatedAgent> fleet = [];
        try
        {
            await master.StartAsync(cancellationToken).ConfigureAwait(false);
            fleet = await ScaleCluster.StartAgentsAsync("master-scale", master.Url, agents, AgentResources(agents, tasks), cancellationToken).ConfigureAwait(false);
            await using var framework = new PlacingFramework(master.Url, "scale", "*", tasks, 1_000, Resources.Parse(TaskShape), int.MaxValue);
            using var readers = new CancellationTokenSource();
            var stateBusy = new List<double>();
            var getStateBusy = new List<double>();
            var allocMs = new List<double>();
            long stateBytes = 0;
            var launchStart = Stopwatch.GetTimestamp();
            await framework.StartAsync(cancellationToken).ConfigureAwait(false);
            var reading = Task.WhenAll(
                ReadLoopAsync(master, false, stateBusy, b => stateBytes = b, readers.Token),
                ReadLoopAsync(master, true, getStateBusy, _ => { }, readers.Token),
                SampleLoopAsync(master, allocMs, readers.Token));
            if (!await WaitAsync(framework, tasks, "master-scale", cancellationToken).ConfigureAwait(false))
            {
                return 1;
            }

            var launchSeconds = Stopwatch.GetElapsedTime(launchStart).TotalSeconds;
            await readers.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);

            var stateRest = new List<double>();
            var getStateRest = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                stateRest.Add(await TimeReadAsync(master, false, cancellationToken).ConfigureAwait(false) is var (ms, _) ? ms : 0);
                getStateRest.Add(await TimeReadAsync(master, true, cancellationToken).ConfigureAwait(false) is var (ms2, _) ? ms2 : 0);
            }

            var rss = master.RssMiB();
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"master-scale-detail reads_while_launching={stateBusy.Count}+{getStateBusy.Count} state_busy_p50_ms={P(stateBusy, 0.5):F0} state_busy_p99_ms={P(stateBusy, 0.99):F0} get_state_busy_p99_ms={P(getStateBusy, 0.99):F0} alloc_samples={allocMs.Count} {framework.Detail()}")).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"master-scale agents={agents} tasks={tasks} rss_mb={rss:F0} state_p50_ms={P(stateRest, 0.5):F0} state_p99_ms={P(stateRest, 0.99):F0} get_state_p99_ms={P(getStateRest, 0.99):F0} state_mb={stateBytes / 1048576.0:F1} alloc_ms_p50={P(allocMs, 0.5):F1} alloc_ms_max={allocMs.DefaultIfEmpty(double.NaN).Max():F1} launch_s={launchSeconds:F1}"));
            return 0;
        }
        finally
        {
            await StopAsync(fleet).ConfigureAwait(false);
            TryDelete(root);
        }
    }

    /// <summary>
    /// <c>failover</c>: launches the tasks (framework failover timeout 1 h), kills the master with SIGKILL, starts it
    /// again on the same registry, and times until every agent re-registered (with its tasks) and until a new framework
    /// receives an offer and launches on it. Prints <c>failover agents=… tasks=… reregistered_s=… agents_per_s=…
    /// offers_s=… tasks_after=…</c>.
    /// </summary>
    public static async Task<int> RunFailoverAsync(int agents, int tasks, CancellationToken cancellationToken)
    {
        var root = Directory.CreateTempSubdirectory("dcos-failover-bench-").FullName;
        await using var master = new MasterProcess(Path.Combine(root, "master"));
        List<SimulatedAgent> fleet = [];
        try
        {
            await master.StartAsync(cancellationToken).ConfigureAwait(false);
            fleet = await ScaleCluster.StartAgentsAsync("failover", master.Url, agents, AgentResources(agents, tasks), cancellationToken).ConfigureAwait(false);
            await using (var framework = new PlacingFramework(master.Url, "failover", "*", tasks, 1_000, Resources.Parse(TaskShape), int.MaxValue, failoverTimeoutSeconds: 3600))
            {
                await framework.StartAsync(cancellationToken).ConfigureAwait(false);
                if (!await WaitAsync(framework, tasks, "failover", cancellationToken).ConfigureAwait(false))
                {
                    return 1;
                }

                await master.KillAsync().ConfigureAwait(false);
            }

            var restart = Stopwatch.GetTimestamp();
            await master.StartAsync(cancellationToken).ConfigureAwait(false);
            var up = Stopwatch.GetElapsedTime(restart).TotalSeconds;
            double connected;
            while ((connected = await master.GaugeAsync("dcos_master_agents_connected", cancellationToken).ConfigureAwait(false)) < agents)
            {
                if (Stopwatch.GetElapsedTime(restart) > TimeSpan.FromMinutes(10))
                {
                    await Console.Error.WriteLineAsync($"failover: FAILED: {connected} of {agents} agents re-registered within 10 min").ConfigureAwait(false);
                    return 1;
                }

                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }

            var reregistered = Stopwatch.GetElapsedTime(restart).TotalSeconds;
            await using var probe = new PlacingFramework(master.Url, "probe", "*", 1, 1, Resources.Parse(TaskShape), 1);
            await probe.StartAsync(cancellationToken).ConfigureAwait(false);
            if (!await WaitAsync(probe, 1, "failover", cancellationToken).ConfigureAwait(false))
            {
                return 1;
            }

            var offers = Stopwatch.GetElapsedTime(restart).TotalSeconds;
            var running = fleet.Sum(a => a.RunningTasks);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"failover agents={agents} tasks={tasks} process_up_s={up:F1} reregistered_s={reregistered:F1} agents_per_s={agents / reregistered:F0} offers_s={offers:F1} tasks_after={running - 1}"));
            return running - 1 == tasks ? 0 : 1;
        }
        finally
        {
            await StopAsync(fleet).ConfigureAwait(false);
            TryDelete(root);
        }
    }

    /// <summary>Room for 1.5 × the tasks spread evenly, plus some.</summary>
    private static string AgentResources(int agents, int tasks)
    {
        var perAgent = (int)Math.Ceiling(tasks * 1.5 / agents) + 10;
        return string.Create(CultureInfo.InvariantCulture, $"cpus:{(perAgent * 0.01) + 1:F2};mem:{(perAgent * 32) + 1024};disk:10000;ports:[31000-32000]");
    }

    private static async Task<bool> WaitAsync(PlacingFramework framework, int tasks, string name, CancellationToken cancellationToken)
    {
        var limit = TimeSpan.FromSeconds(120 + (tasks / 500.0));
        if (await Task.WhenAny(framework.AllRunning, Task.Delay(limit, cancellationToken)).ConfigureAwait(false) != framework.AllRunning
            || framework.Running < tasks)
        {
            await Console.Error.WriteLineAsync($"{name}: FAILED: not all tasks running within {limit.TotalSeconds:F0} s: {framework.Detail()}").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private static async Task ReadLoopAsync(MasterProcess master, bool operatorApi, List<double> latencies, Action<long> bytes, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var (ms, size) = await TimeReadAsync(master, operatorApi, cancellationToken).ConfigureAwait(false);
                latencies.Add(ms);
                bytes(size);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task SampleLoopAsync(MasterProcess master, List<double> samples, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                samples.Add(await master.GaugeAsync("dcos_master_allocation_run_ms", cancellationToken).ConfigureAwait(false));
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One full read (headers and the whole body, streamed and counted): milliseconds and bytes.</summary>
    private static async Task<(double Ms, long Bytes)> TimeReadAsync(MasterProcess master, bool operatorApi, CancellationToken cancellationToken)
    {
        using var request = operatorApi
            ? new HttpRequestMessage(HttpMethod.Post, new Uri(master.Url, "/api/v1")) { Content = new StringContent("""{"type":"GET_STATE"}""", new MediaTypeHeaderValue("application/json")) }
            : new HttpRequestMessage(HttpMethod.Get, new Uri(master.Url, "/master/state"));
        var started = Stopwatch.GetTimestamp();
        using var response = await master.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var counter = new CountingStream();
        await response.Content.CopyToAsync(counter, cancellationToken).ConfigureAwait(false);
        return (Stopwatch.GetElapsedTime(started).TotalMilliseconds, counter.Length);
    }

    private static double P(List<double> values, double p)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
    }

    private static async Task StopAsync(List<SimulatedAgent> fleet) =>
        await Parallel.ForEachAsync(fleet, async (agent, _) => await agent.DisposeAsync().ConfigureAwait(false)).ConfigureAwait(false);

    private static void TryDelete(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
