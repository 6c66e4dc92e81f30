using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using DatacenterOs.Agent;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Master;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Benchmarks;

internal sealed record LaunchResult(double P50Ms, double P99Ms, double TasksPerSecond);

/// <summary>
/// One run of the launch benchmark: master, agent and framework in this process, and per task the timestamps of its
/// ACCEPT, of the agent's TASK_RUNNING update and of the framework receiving it.
/// </summary>
internal sealed class LaunchRun : IAsyncDisposable
{
    private const string TaskResources = "cpus:0.01;mem:1";
    private const string TaskPrefix = "bench-";
    private static readonly TimeSpan AllocationInterval = TimeSpan.FromSeconds(1);

    private readonly string _root;
    private readonly int _count;
    private readonly int _batch;
    private readonly string _command;
    private readonly ILoggerFactory _loggers;
    private readonly HttpClient _frameworkHttp;
    private readonly TimingHandler _agentHandler;
    private readonly Lock _lock = new();

    // Per task (index = number in the task id), Stopwatch timestamps; 0 = not yet.
    private readonly long[] _acceptSent;
    private readonly long[] _acceptAnswered;
    private readonly long[] _agentRunning;
    private readonly long[] _running;
    private readonly string?[] _terminalState;
    private readonly Channel<OfferDto> _offers = Channel.CreateUnbounded<OfferDto>();
    private readonly ConcurrentDictionary<string, bool> _rescinded = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<Task> _acks = [];
    private readonly TaskCompletionSource _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allTerminal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _fatal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentBag<double> _updateRoundTrips = [];
    private int _startedOrFailed;
    private int _terminal;
    private int _failedToStart;
    private string? _firstFailure;
    private int _ackErrors;
    private bool _tearingDown;

    private SqlMasterRegistry? _registry;
    private MasterRuntime? _master;
    private WebApplication? _web;
    private AgentRuntime? _agent;
    private HttpSchedulerConnection? _framework;
    private CancellationTokenSource? _readerStop;
    private Task? _reader;
    private readonly HashSet<int> _taskGroups = [];
    private readonly ContainerInfoDto? _container;
    private readonly string _taskResources;

    public LaunchRun(string root, int count, int batch, string command, ContainerInfoDto? container = null, string taskResources = TaskResources)
    {
        _container = container;
        _taskResources = taskResources;
        _root = root;
        _count = count;
        _batch = batch;
        _command = command;
        _acceptSent = new long[count];
        _acceptAnswered = new long[count];
        _agentRunning = new long[count];
        _running = new long[count];
        _terminalState = new string?[count];
        // Warnings go to stderr while the benchmark runs; the disconnects of the teardown are expected and not shown.
        _loggers = LoggerFactory.Create(b => b
            .AddFilter((_, level) => level >= LogLevel.Warning && !Volatile.Read(ref _tearingDown))
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        _frameworkHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromSeconds(60) };
        _agentHandler = new TimingHandler(OnAgentUpdateSent);
    }

    public async Task<LaunchResult?> ExecuteAsync(CancellationToken cancellationToken)
    {
        var setup = Stopwatch.GetTimestamp();
        var masterUrl = await StartMasterAsync(cancellationToken).ConfigureAwait(false);
        var agentId = await StartAgentAsync(masterUrl, cancellationToken).ConfigureAwait(false);
        var setupMs = LaunchBenchmark.Ms(setup, Stopwatch.GetTimestamp());
        var fsyncMs = MeasureFsync(Path.Combine(_root, "agent", "fsync-probe"));

        _framework = await HttpSchedulerConnection.SubscribeAsync(_frameworkHttp, masterUrl, new FrameworkInfoDto
        {
            User = Environment.UserName,
            Name = "launch-benchmark",
            Roles = ["*"],
            FailoverTimeout = 0,
            Capabilities = [new CapabilityDto("MULTI_ROLE")],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        _readerStop = new CancellationTokenSource();
        _reader = Task.Run(() => ReadEventsAsync(_framework, _readerStop.Token), CancellationToken.None);

        // ---- launch
        var subscribed = Stopwatch.GetTimestamp();
        var launch = await LaunchAllAsync(agentId, cancellationToken).ConfigureAwait(false);
        var startTimeout = TimeSpan.FromSeconds(120 + (_count * 0.1));
        var started = await Task.WhenAny(_allStarted.Task, _fatal.Task, Task.Delay(startTimeout, cancellationToken)).ConfigureAwait(false);
        if (started != _allStarted.Task)
        {
            await ReportProblemAsync(_fatal.Task.IsCompleted
                ? "framework stream failed: " + await _fatal.Task.ConfigureAwait(false)
                : $"only {Volatile.Read(ref _startedOrFailed)} of {_count} tasks reached TASK_RUNNING (or failed) within {startTimeout.TotalSeconds:F0} s").ConfigureAwait(false);
            await KillAllAsync(cancellationToken).ConfigureAwait(false);
            return null;
        }

        RememberTaskGroups();
        var stats = Summarize(launch);
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"launch-detail setup_ms={setupMs:F0} subscribe_to_first_accept_ms={LaunchBenchmark.Ms(subscribed, launch.FirstAccept):F0}")).ConfigureAwait(false);

        // ---- kill
        var killStart = Stopwatch.GetTimestamp();
        var killed = await KillAllAsync(cancellationToken).ConfigureAwait(false);
        var killMs = LaunchBenchmark.Ms(killStart, Stopwatch.GetTimestamp());
        var states = _terminalState.GroupBy(s => s ?? "(none)").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Count()}");
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"launch-detail kill_calls={killed.Calls} kill_phase_ms={killMs:F0} agent_tasks_left={killed.AgentTasksLeft} processes_left={killed.ProcessesLeft} final_states=[{string.Join(',', states)}] ack_errors={Volatile.Read(ref _ackErrors)} fsync_p50_ms={fsyncMs:F3}")).ConfigureAwait(false);

        if (Volatile.Read(ref _failedToStart) > 0)
        {
            var hint = _firstFailure?.Contains("Resource temporarily unavailable", StringComparison.Ordinal) == true
                || _firstFailure?.Contains("Too many", StringComparison.Ordinal) == true
                ? " (out of processes or file descriptors: check ulimit -u, ulimit -n, kernel.pid_max and the cgroup's pids.max)"
                : "";
            await ReportProblemAsync($"{_failedToStart} of {_count} tasks did not start{hint}; first failure: {_firstFailure}").ConfigureAwait(false);
            return null;
        }

        if (!killed.Clean)
        {
            await ReportProblemAsync("tasks did not all end cleanly (see launch-detail)").ConfigureAwait(false);
            return null;
        }

        return stats;
    }

    private async Task<Uri> StartMasterAsync(CancellationToken cancellationToken)
    {
        var masterDir = Directory.CreateDirectory(Path.Combine(_root, "master")).FullName;
        _registry = await SqlMasterRegistry.OpenAsync(masterDir, () => "bench-" + Guid.NewGuid().ToString("N")[..8], cancellationToken).ConfigureAwait(false);
        var options = new MasterOptions { WorkDir = masterDir, AllocationInterval = AllocationInterval };
        _master = await MasterRuntime.StartAsync(options, _registry, TimeProvider.System, _loggers, cancellationToken).ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _web = builder.Build();
        _master.MapEndpoints(_web);
        await _web.StartAsync(cancellationToken).ConfigureAwait(false);
        return new Uri(_web.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    private async Task<string> StartAgentAsync(Uri masterUrl, CancellationToken cancellationToken)
    {
        var cpus = Math.Max(1000, Math.Ceiling(_count * 0.01) + 10);
        var mem = Math.Max(1_000_000, _count + 1000);
        _agent = new AgentRuntime(
            new AgentOptions
            {
                WorkDir = Path.Combine(_root, "agent"),
                MasterUrls = [masterUrl.GetLeftPart(UriPartial.Authority)],
                Hostname = "127.0.0.1",
                ListenAddress = "127.0.0.1",
                Port = 0,
                ResourcesText = string.Create(CultureInfo.InvariantCulture, $"cpus:{cpus};mem:{mem};disk:100000;ports:[31000-32000]"),
                MemoryCgroupRoot = null,
            },
            TimeProvider.System,
            _loggers,
            _agentHandler);
        await _agent.StartAsync(cancellationToken).ConfigureAwait(false);
        var deadline = Stopwatch.GetTimestamp() + (30 * Stopwatch.Frequency);
        while (!_agent.IsSubscribed || _agent.AgentId is null)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new InvalidOperationException("the agent did not subscribe to the master within 30 s");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        return _agent.AgentId;
    }

    /// <summary>Write + fsync + rename of a small file, as the agent's checkpoints do; median of 50.</summary>
    private static double MeasureFsync(string dir)
    {
        Directory.CreateDirectory(dir);
        var times = new double[50];
        var payload = new byte[600];
        for (var i = 0; i < times.Length; i++)
        {
            var temp = Path.Combine(dir, "probe.tmp");
            var before = Stopwatch.GetTimestamp();
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(payload);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(dir, "probe.json"), overwrite: true);
            times[i] = LaunchBenchmark.Ms(before, Stopwatch.GetTimestamp());
        }

        Directory.Delete(dir, recursive: true);
        Array.Sort(times);
        return LaunchBenchmark.Percentile(times, 0.5);
    }

    private sealed record LaunchStats(long FirstAccept, int Offers, int Accepts, int Declines, int Revives, List<int> BatchSizes);

    private async Task<LaunchStats> LaunchAllAsync(string agentId, CancellationToken cancellationToken)
    {
        var taskResources = Resources.Parse(_taskResources);
        var next = 0;
        var offers = 0;
        var accepts = 0;
        var declines = 0;
        var revives = 0;
        var idleWaits = 0;
        long firstAccept = 0;
        var batchSizes = new List<int>();
        while (next < _count)
        {
            if (_fatal.Task.IsCompleted)
            {
                throw new InvalidOperationException("framework stream failed: " + await _fatal.Task.ConfigureAwait(false));
            }

            OfferDto offer;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                wait.CancelAfter(AllocationInterval * 3);
                try
                {
                    offer = await _offers.Reader.ReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // No offer for three allocation intervals: ask for offers again.
                    if (++idleWaits > 20)
                    {
                        throw new InvalidOperationException($"no offer for {idleWaits * 3} s with {_count - next} tasks left to launch");
                    }

                    revives++;
                    await CallAsync(new SchedulerCall { Type = SchedulerTypes.Revive, Revive = new RolesCall(null) }).ConfigureAwait(false);
                    continue;
                }
            }

            idleWaits = 0;
            offers++;
            if (_rescinded.ContainsKey(offer.Id.Value))
            {
                continue;
            }

            var n = Math.Min(_batch, Math.Min(_count - next, PlacingFramework.Fit(ResourceConversions.ToResources(offer.Resources), taskResources)));
            if (n <= 0 || offer.AgentId.Value != agentId)
            {
                declines++;
                await CallAsync(new SchedulerCall { Type = SchedulerTypes.Decline, Decline = new DeclineCall([offer.Id], new FiltersDto(0)) }).ConfigureAwait(false);
                continue;
            }

            var role = offer.AllocationInfo?.Role;
            var infos = new List<TaskInfoDto>(n);
            for (var i = next; i < next + n; i++)
            {
                var id = TaskId(i);
                infos.Add(new TaskInfoDto
                {
                    Name = id,
                    TaskId = new IdDto(id),
                    AgentId = offer.AgentId,
                    Resources = ResourceConversions.ToDtos(taskResources, role),
                    Command = new CommandDto { Value = _command },
                    Container = _container,
                });
            }

            var call = new SchedulerCall
            {
                Type = SchedulerTypes.Accept,
                Accept = new AcceptCall([offer.Id], [new OperationDto { Type = SchedulerTypes.Launch, Launch = new LaunchDto(infos) }], new FiltersDto(0)),
            };
            var sent = Stopwatch.GetTimestamp();
            if (firstAccept == 0)
            {
                firstAccept = sent;
            }

            for (var i = next; i < next + n; i++)
            {
                Volatile.Write(ref _acceptSent[i], sent);
            }

            var status = await _framework!.CallAsync(call, cancellationToken).ConfigureAwait(false);
            var answered = Stopwatch.GetTimestamp();
            if (status != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"ACCEPT answered {(int)status}");
            }

            for (var i = next; i < next + n; i++)
            {
                _acceptAnswered[i] = answered;
            }

            accepts++;
            batchSizes.Add(n);
            next += n;
        }

        return new LaunchStats(firstAccept, offers, accepts, declines, revives, batchSizes);
    }

    private async Task ReadEventsAsync(HttpSchedulerConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var evt in connection.Events(cancellationToken).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                switch (evt.Type)
                {
                    case SchedulerTypes.Offers when evt.Offers is { } offers:
                        foreach (var offer in offers.Offers)
                        {
                            _offers.Writer.TryWrite(offer);
                        }

                        break;
                    case SchedulerTypes.Rescind when evt.Rescind is { } rescind:
                        _rescinded[rescind.OfferId.Value] = true;
                        break;
                    case SchedulerTypes.Update when evt.Update is { } update:
                        OnUpdate(update.Status, now);
                        break;
                    case SchedulerTypes.Error:
                        _fatal.TrySetResult("ERROR event: " + evt.Error?.Message);
                        return;
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or System.Text.Json.JsonException)
        {
            _fatal.TrySetResult(e.Message);
            return;
        }

        if (!cancellationToken.IsCancellationRequested)
        {
            _fatal.TrySetResult("the event stream ended");
        }
    }

    private void OnUpdate(TaskStatusDto status, long now)
    {
        if (status.Uuid is not null)
        {
            _acks.Add(AcknowledgeAsync(status));
        }

        var index = IndexOf(status.TaskId.Value);
        if (index < 0)
        {
            return;
        }

        lock (_lock)
        {
            if (status.State == TaskStates.Running && _running[index] == 0 && _terminalState[index] is null)
            {
                _running[index] = now;
                Started();
            }
            else if (TaskStates.IsTerminal(status.State) && _terminalState[index] is null)
            {
                _terminalState[index] = status.State;
                if (_running[index] == 0)
                {
                    _failedToStart++;
                    _firstFailure ??= $"{status.TaskId.Value} {status.State} {status.Reason} {status.Message}";
                    Started();
                }

                if (++_terminal == _count)
                {
                    _allTerminal.TrySetResult();
                }
            }
        }
    }

    /// <summary>Under the lock: one more task is running or will never run.</summary>
    private void Started()
    {
        if (++_startedOrFailed == _count)
        {
            _allStarted.TrySetResult();
        }
    }

    /// <summary>The agent sends (answered 0) or the master answered an UPDATE; sending TASK_RUNNING is when the agent had started the task.</summary>
    private void OnAgentUpdateSent(AgentCall call, long sent, long answered)
    {
        if (answered != 0)
        {
            _updateRoundTrips.Add(LaunchBenchmark.Ms(sent, answered));
        }
        else
        {
            foreach (var update in call.Updates ?? (call.Update is null ? [] : [call.Update]))
            {
                if (update.Status is { State: TaskStates.Running } status && IndexOf(status.TaskId.Value) is >= 0 and var index)
                {
                    Interlocked.CompareExchange(ref _agentRunning[index], sent, 0);
                }
            }
        }
    }

    private async Task AcknowledgeAsync(TaskStatusDto status)
    {
        try
        {
            var code = await CallAsync(new SchedulerCall
            {
                Type = SchedulerTypes.Acknowledge,
                Acknowledge = new AcknowledgeCall(status.AgentId!, status.TaskId, status.Uuid!),
            }).ConfigureAwait(false);
            if (code != HttpStatusCode.Accepted)
            {
                Interlocked.Increment(ref _ackErrors);
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            Interlocked.Increment(ref _ackErrors);
        }
    }

    private Task<HttpStatusCode> CallAsync(SchedulerCall call) => _framework!.CallAsync(call);

    private static string TaskId(int index) => TaskPrefix + index.ToString("D6", CultureInfo.InvariantCulture);

    private int IndexOf(string taskId) =>
        taskId.StartsWith(TaskPrefix, StringComparison.Ordinal)
        && int.TryParse(taskId.AsSpan(TaskPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < _count
            ? i
            : -1;

    private void RememberTaskGroups()
    {
        foreach (var task in _agent!.Tasks)
        {
            if (task.Pid is { } pid)
            {
                _taskGroups.Add(pid); // the wrapper is its session's and group's leader
            }
        }
    }

    private LaunchResult Summarize(LaunchStats launch)
    {
        var latencies = new List<double>(_count);
        var toAgent = new List<double>();
        var agentToFramework = new List<double>();
        var acceptRtt = new List<double>();
        var gaps = new List<double>();
        long lastRunning = 0;
        for (var i = 0; i < _count; i++)
        {
            if (_running[i] == 0)
            {
                continue;
            }

            latencies.Add(LaunchBenchmark.Ms(_acceptSent[i], _running[i]));
            lastRunning = Math.Max(lastRunning, _running[i]);
            if (_agentRunning[i] != 0)
            {
                toAgent.Add(LaunchBenchmark.Ms(_acceptSent[i], _agentRunning[i]));
                agentToFramework.Add(LaunchBenchmark.Ms(_agentRunning[i], _running[i]));
                if (i > 0 && _acceptSent[i - 1] == _acceptSent[i] && _agentRunning[i - 1] != 0)
                {
                    gaps.Add(LaunchBenchmark.Ms(_agentRunning[i - 1], _agentRunning[i]));
                }
            }
        }

        // Per ACCEPT: time until its first task ran on the agent, and from its first to its last.
        var batchFirst = new List<double>();
        var batchSpan = new List<double>();
        foreach (var group in Enumerable.Range(0, _count).Where(i => _agentRunning[i] != 0).GroupBy(i => _acceptSent[i]))
        {
            var first = group.Min(i => _agentRunning[i]);
            batchFirst.Add(LaunchBenchmark.Ms(group.Key, first));
            batchSpan.Add(LaunchBenchmark.Ms(first, group.Max(i => _agentRunning[i])));
        }

        for (var i = 0; i < _count; i++)
        {
            if (i == 0 || _acceptSent[i - 1] != _acceptSent[i])
            {
                acceptRtt.Add(LaunchBenchmark.Ms(_acceptSent[i], _acceptAnswered[i]));
            }
        }

        var sorted = latencies.Order().ToArray();
        var wallSeconds = LaunchBenchmark.Ms(launch.FirstAccept, lastRunning) / 1000.0;
        var perSecond = wallSeconds > 0 ? _count / wallSeconds : double.NaN;
        // Where the time goes: ACCEPT handling in the master (accept_rtt), waiting for and launching on the agent
        // (to_agent; batch_wait = ACCEPT until the agent started its first task, agent_per_task = between two tasks of
        // one ACCEPT), and the TASK_RUNNING update from the agent through the master to the framework (agent_to_fw).
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"launch-detail offers={launch.Offers} accepts={launch.Accepts} declines={launch.Declines} revives={launch.Revives} batch_max={launch.BatchSizes.DefaultIfEmpty().Max()} wall_s={wallSeconds:F2} " +
            $"accept_rtt_p50_ms={P(acceptRtt, 0.5):F2} accept_rtt_p99_ms={P(acceptRtt, 0.99):F2} " +
            $"to_agent_p50_ms={P(toAgent, 0.5):F2} to_agent_p99_ms={P(toAgent, 0.99):F2} " +
            $"batch_wait_p50_ms={P(batchFirst, 0.5):F2} batch_wait_max_ms={batchFirst.DefaultIfEmpty().Max():F2} batch_span_p50_ms={P(batchSpan, 0.5):F2} batch_span_max_ms={batchSpan.DefaultIfEmpty().Max():F2} " +
            $"agent_per_task_p50_ms={P(gaps, 0.5):F2} agent_per_task_mean_ms={gaps.DefaultIfEmpty().Average():F2} agent_per_task_p99_ms={P(gaps, 0.99):F2} " +
            $"agent_to_fw_p50_ms={P(agentToFramework, 0.5):F2} agent_to_fw_p99_ms={P(agentToFramework, 0.99):F2} " +
            $"update_post_rtt_p50_ms={P([.. _updateRoundTrips], 0.5):F2} update_post_rtt_p99_ms={P([.. _updateRoundTrips], 0.99):F2}"));
        return new LaunchResult(LaunchBenchmark.Percentile(sorted, 0.5), LaunchBenchmark.Percentile(sorted, 0.99), perSecond);
    }

    private static double P(List<double> values, double p) => LaunchBenchmark.Percentile([.. values.Order()], p);

    private sealed record KillOutcome(int Calls, int AgentTasksLeft, int ProcessesLeft, bool Clean);

    /// <summary>KILLs every task not yet terminal, waits for their terminal updates and for the agent to forget them.</summary>
    private async Task<KillOutcome> KillAllAsync(CancellationToken cancellationToken)
    {
        var toKill = new List<string>();
        lock (_lock)
        {
            for (var i = 0; i < _count; i++)
            {
                if (_terminalState[i] is null && Volatile.Read(ref _acceptSent[i]) != 0)
                {
                    toKill.Add(TaskId(i));
                }
            }
        }

        var clean = true;
        await Parallel.ForEachAsync(toKill, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (id, _) =>
            await CallAsync(new SchedulerCall { Type = SchedulerTypes.Kill, Kill = new KillCall(new IdDto(id), null, null) }).ConfigureAwait(false)).ConfigureAwait(false);

        var launched = _acceptSent.Count(t => t != 0);
        var timeout = TimeSpan.FromSeconds(60 + (_count * 0.05));
        if (launched == _count && await Task.WhenAny(_allTerminal.Task, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false) != _allTerminal.Task)
        {
            await Console.Error.WriteLineAsync($"launch: only {Volatile.Read(ref _terminal)} of {_count} tasks reached a terminal state within {timeout.TotalSeconds:F0} s of the KILLs").ConfigureAwait(false);
            clean = false;
        }

        // The agent forgets a task once its terminal update is acknowledged.
        var deadline = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        var left = _agent!.Tasks.Count;
        while (left > 0 && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            left = _agent.Tasks.Count;
        }

        clean &= left == 0;
        foreach (var task in _agent.Tasks)
        {
            if (task.Pid is { } pid)
            {
                _taskGroups.Add(pid);
            }
        }

        var processesLeft = KillLeftovers(_taskGroups);
        clean &= processesLeft == 0;
        return new KillOutcome(toKill.Count, left, processesLeft, clean);
    }

    /// <summary>Kills (and counts) live processes in the given process groups; zombies are not counted.</summary>
    private static int KillLeftovers(HashSet<int> groups)
    {
        if (groups.Count == 0)
        {
            return 0;
        }

        var found = 0;
        foreach (var proc in ProcTable.Read())
        {
            if (proc.State != 'Z' && groups.Contains(proc.Group))
            {
                found++;
                ProcTable.Kill(proc.Pid);
            }
        }

        return found;
    }

    private static async Task ReportProblemAsync(string message) =>
        await Console.Error.WriteLineAsync("launch: FAILED: " + message).ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _tearingDown, true);
        if (_readerStop is not null)
        {
            await _readerStop.CancelAsync().ConfigureAwait(false);
        }

        if (_framework is not null)
        {
            await _framework.DisposeAsync().ConfigureAwait(false);
        }

        if (_reader is not null)
        {
            try
            {
                await _reader.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        try
        {
            await Task.WhenAll(_acks).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
        }

        if (_agent is not null)
        {
            // Last resort when the run failed part-way: nothing the agent started may outlive the benchmark.
            foreach (var task in _agent.Tasks)
            {
                if (task.Pid is { } pid)
                {
                    _taskGroups.Add(pid);
                }
            }

            await _agent.DisposeAsync().ConfigureAwait(false);
            KillLeftovers(_taskGroups);
        }

        if (_web is not null)
        {
            await _web.StopAsync().ConfigureAwait(false);
            await _web.DisposeAsync().ConfigureAwait(false);
        }

        if (_master is not null)
        {
            await _master.DisposeAsync().ConfigureAwait(false);
        }

        _registry?.Dispose();
        _readerStop?.Dispose();
        _frameworkHttp.Dispose();
        _agentHandler.Dispose();
        _loggers.Dispose();
    }
}

/// <summary>
/// The agent's HTTP handler to the master: reports every UPDATE call when it is sent (answered timestamp 0) and
/// again when the master answered.
/// </summary>
internal sealed class TimingHandler(Action<AgentCall, long, long> onUpdate) : DelegatingHandler(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var before = Stopwatch.GetTimestamp();
        AgentCall? call = null;
        if (request.Content is ByteArrayContent content)
        {
            try
            {
                call = MesosJson.Deserialize<AgentCall>(await content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }

        if (call?.Type == AgentTypes.Update)
        {
            onUpdate(call, before, 0);
        }

        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (call?.Type == AgentTypes.Update)
        {
            onUpdate(call, before, Stopwatch.GetTimestamp());
        }

        return response;
    }
}
