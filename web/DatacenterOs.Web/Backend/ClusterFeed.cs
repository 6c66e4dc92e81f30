using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Web.Backend;

/// <summary>What changed, for subscribers of <see cref="IClusterFeed"/>.</summary>
[Flags]
public enum ChangeKinds
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>Master state: agents, frameworks, tasks, roles, allocation.</summary>
    Cluster = 1,

    /// <summary>Apps and their instances.</summary>
    Apps = 2,

    /// <summary>Deployments.</summary>
    Deployments = 4,

    /// <summary>Jobs and their runs.</summary>
    Jobs = 8,

    /// <summary>Discovery: live endpoints and instances' model states (LEADER/STANDBY).</summary>
    Discovery = 16,

    /// <summary>Everything.</summary>
    All = Cluster | Apps | Deployments | Jobs | Discovery,
}

/// <summary>Cluster totals and allocation at one instant (cpus in cores, mem/disk in MiB).</summary>
/// <param name="At">When sampled.</param>
/// <param name="Total">Resources of active agents.</param>
/// <param name="Used">Resources allocated to tasks.</param>
/// <param name="Tasks">Tasks known to the master (any state).</param>
/// <param name="RunningTasks">Tasks in TASK_RUNNING.</param>
/// <param name="FailedTasks">Tasks in TASK_FAILED, TASK_ERROR or TASK_LOST.</param>
public sealed record AllocationSample(DateTimeOffset At, ResourceAmounts Total, ResourceAmounts Used, int Tasks, int RunningTasks, int FailedTasks);

/// <summary>Change notifications for the dashboard, fed by the Apps event stream and a once-a-second look at the master and Jobs.</summary>
public interface IClusterFeed
{
    /// <summary>Calls <paramref name="onChange"/> whenever something in <paramref name="kinds"/> changes, until disposed.</summary>
    IDisposable Subscribe(ChangeKinds kinds, Func<ChangeKinds, Task> onChange);

    /// <summary>Allocation samples of the last minutes, oldest first.</summary>
    IReadOnlyList<AllocationSample> Samples { get; }
}

/// <summary>
/// The dashboard's change feed. While anyone watches, it reads <c>GET /v2/events</c> (server-sent events) and, once a
/// second, the master state and the job list, raising a change when their content differs from the last look; each
/// look also records an <see cref="AllocationSample"/> (the last 10 minutes are kept).
/// </summary>
public sealed class ClusterFeed : BackgroundService, IClusterFeed
{
    private const int MaxSamples = 600;
    private readonly HttpClient _http;
    private readonly IClusterBackend _cluster;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly List<Subscription> _subscriptions = [];
    private readonly LinkedList<AllocationSample> _samples = new();
    private int _watchers;
    private string _clusterHash = "";
    private string _jobsHash = "";

    /// <summary>Creates the feed over the master's URL in <paramref name="http"/>.</summary>
    public ClusterFeed(HttpClient http, IClusterBackend cluster, TimeProvider time, ILogger<ClusterFeed> log)
    {
        _http = http;
        _cluster = cluster;
        _time = time;
        _log = log;
    }

    /// <summary>Raised (after subscribers) with every new sample.</summary>
    public event Action<AllocationSample>? Sampled;

    /// <summary>Raised with every change (for the hub); unlike <see cref="Subscribe"/>, does not count as a watcher.</summary>
    public event Func<ChangeKinds, Task>? Changed;

    /// <inheritdoc />
    public IReadOnlyList<AllocationSample> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    /// <inheritdoc />
    public IDisposable Subscribe(ChangeKinds kinds, Func<ChangeKinds, Task> onChange)
    {
        var subscription = new Subscription(this, kinds, onChange);
        lock (_gate)
        {
            _subscriptions.Add(subscription);
        }

        return subscription;
    }

    /// <summary>Counts a watcher that is not a subscriber (a hub connection): the feed looks only while someone watches.</summary>
    public IDisposable Watch()
    {
        Interlocked.Increment(ref _watchers);
        return new Watcher(this);
    }

    /// <summary>Tells subscribers that <paramref name="kinds"/> changed.</summary>
    public void Raise(ChangeKinds kinds)
    {
        List<Subscription> targets;
        lock (_gate)
        {
            targets = [.. _subscriptions.Where(s => (s.Kinds & kinds) != 0)];
        }

        foreach (var s in targets)
        {
            _ = InvokeAsync(s, kinds);
        }

        if (Changed is { } changed)
        {
            _ = ForwardAsync(changed, kinds);
        }
    }

    private async Task ForwardAsync(Func<ChangeKinds, Task> changed, ChangeKinds kinds)
    {
        try
        {
            await changed(kinds).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogDebug(e, "dashboard hub broadcast failed");
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.WhenAll(EventsLoopAsync(stoppingToken), PollLoopAsync(stoppingToken)).ConfigureAwait(false);
    }

    private bool Watched
    {
        get
        {
            lock (_gate)
            {
                return _subscriptions.Count > 0 || Volatile.Read(ref _watchers) > 0;
            }
        }
    }

    private async Task InvokeAsync(Subscription s, ChangeKinds kinds)
    {
        try
        {
            await s.OnChange(kinds & s.Kinds).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogDebug(e, "dashboard subscriber failed");
        }
    }

    private async Task PollLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), _time);
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!Watched)
            {
                continue;
            }

            try
            {
                await PollOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is BackendException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _log.LogDebug(e, "dashboard poll failed");
            }
        }
    }

    /// <summary>One look at the master and Jobs: raises changes and records a sample.</summary>
    internal async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        var changed = ChangeKinds.None;
        var state = await _cluster.GetStateAsync(cancellationToken).ConfigureAwait(false);
        var clusterHash = Hash(string.Join('\n', state.Agents.Select(a => a.ToString()).Concat(state.Tasks.Select(t => t.ToString())).Concat(state.Roles.Select(r => $"{r.Name} {r.Weight} {r.Share}")).Concat(state.Frameworks.Select(f => f.ToString()))));
        if (clusterHash != _clusterHash)
        {
            _clusterHash = clusterHash;
            changed |= ChangeKinds.Cluster;
        }

        var active = state.Agents.Where(a => a.Active).ToList();
        var sample = new AllocationSample(
            _time.GetUtcNow(),
            active.Aggregate(ResourceAmounts.Zero, (sum, a) => sum + a.Total),
            active.Aggregate(ResourceAmounts.Zero, (sum, a) => sum + a.Used),
            state.Tasks.Count,
            state.Tasks.Count(t => t.State == "TASK_RUNNING"),
            state.Tasks.Count(t => t.State is "TASK_FAILED" or "TASK_ERROR" or "TASK_LOST"));
        lock (_gate)
        {
            _samples.AddLast(sample);
            while (_samples.Count > MaxSamples)
            {
                _samples.RemoveFirst();
            }
        }

        // Jobs answering badly must not stop the samples and cluster changes above.
        try
        {
            var jobs = await _http.GetStringAsync(new Uri("/v1/scheduler/jobs", UriKind.Relative), cancellationToken).ConfigureAwait(false);
            var jobsHash = Hash(jobs);
            if (jobsHash != _jobsHash)
            {
                _jobsHash = jobsHash;
                changed |= ChangeKinds.Jobs;
            }
        }
        catch (HttpRequestException e)
        {
            _log.LogDebug(e, "dashboard could not read the job list");
        }

        // Job runs change with their tasks: a task of the jobs framework changing state is a Jobs change too.
        if ((changed & ChangeKinds.Cluster) != 0)
        {
            changed |= ChangeKinds.Jobs;
        }

        if (changed != ChangeKinds.None)
        {
            Raise(changed);
        }

        Sampled?.Invoke(sample);
    }

    private async Task EventsLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/v2/events", UriKind.Relative));
                request.Headers.Accept.ParseAdd("text/event-stream");
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        var name = line[6..].Trim();
                        Raise(name.StartsWith("deployment", StringComparison.Ordinal) ? ChangeKinds.Apps | ChangeKinds.Deployments
                            : name is "discovery_changed_event" or "instance_model_state_changed_event" ? ChangeKinds.Apps | ChangeKinds.Discovery
                            : ChangeKinds.Apps);
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
            {
                _log.LogDebug(e, "dashboard event stream ended");
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string Hash(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private sealed class Subscription(ClusterFeed feed, ChangeKinds kinds, Func<ChangeKinds, Task> onChange) : IDisposable
    {
        public ChangeKinds Kinds { get; } = kinds;

        public Func<ChangeKinds, Task> OnChange { get; } = onChange;

        public void Dispose()
        {
            lock (feed._gate)
            {
                feed._subscriptions.Remove(this);
            }
        }
    }

    private sealed class Watcher(ClusterFeed feed) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref feed._watchers);
            }
        }
    }
}
