using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Threading.Channels;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// A framework on the Mesos v1 scheduler HTTP API that places <c>total</c> identical tasks (ids <c>PREFIX-GROUP-N</c>,
/// <c>groupSize</c> per group, like Nomad's jobs × count) into the offers it receives: as many per offer as fit, up to
/// <c>maxPerOffer</c>, in one ACCEPT with one LAUNCH operation; several ACCEPTs in flight at once. Offers it cannot use are
/// declined; once everything is placed it suppresses. Every status update is acknowledged. Stopwatch timestamps of the
/// first ACCEPT sent, the last ACCEPT answered and the last TASK_RUNNING received are kept.
/// </summary>
internal sealed class PlacingFramework : IAsyncDisposable
{
    private readonly Uri _master;
    private readonly string _name;
    private readonly string _role;
    private readonly int _total;
    private readonly int _groupSize;
    private readonly Resources _task;
    private readonly int _maxPerOffer;
    private readonly int _acceptWorkers;
    private readonly double _failoverTimeout;
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { Timeout = TimeSpan.FromMinutes(5) };
    private readonly Channel<OfferDto> _offers = Channel.CreateUnbounded<OfferDto>(new UnboundedChannelOptions { SingleReader = false });
    private readonly Channel<TaskStatusDto> _acks = Channel.CreateUnbounded<TaskStatusDto>();
    private readonly TaskCompletionSource _allRunning = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private readonly System.Collections.Concurrent.ConcurrentQueue<int> _retry = new();
    private readonly List<Task> _workers = [];
    private HttpSchedulerConnection? _connection;
    private int _next;
    private int _placed;
    private int _running;
    private int _failed;
    private int _retried;
    private int _accepts;
    private int _declines;
    private int _acceptErrors;
    private long _firstAccept;
    private long _lastAcceptAnswered;
    private long _lastRunning;
    private string? _firstFailure;

    public PlacingFramework(Uri master, string name, string role, int total, int groupSize, Resources task, int maxPerOffer, int acceptWorkers = 8, double failoverTimeoutSeconds = 0)
    {
        _failoverTimeout = failoverTimeoutSeconds;
        _master = master;
        _name = name;
        _role = role;
        _total = total;
        _groupSize = Math.Max(1, groupSize);
        _task = task;
        _maxPerOffer = maxPerOffer;
        _acceptWorkers = acceptWorkers;
    }

    /// <summary>Completes when every task reported TASK_RUNNING (or a terminal state).</summary>
    public Task AllRunning => _allRunning.Task;

    public int Placed => Volatile.Read(ref _placed);

    public int Running => Volatile.Read(ref _running);

    public int Failed => Volatile.Read(ref _failed);

    public int Accepts => Volatile.Read(ref _accepts);

    public int Declines => Volatile.Read(ref _declines);

    public long FirstAccept => Interlocked.Read(ref _firstAccept);

    public long LastAcceptAnswered => Interlocked.Read(ref _lastAcceptAnswered);

    public long LastRunning => Interlocked.Read(ref _lastRunning);

    public string? FirstFailure => _firstFailure;

    /// <summary>Subscribes and starts placing.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _connection = await HttpSchedulerConnection.SubscribeAsync(_http, _master, new FrameworkInfoDto
        {
            User = "bench",
            Name = _name,
            Roles = [_role],
            FailoverTimeout = _failoverTimeout,
            Capabilities = [new CapabilityDto("MULTI_ROLE")],
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        _workers.Add(Task.Run(() => ReadAsync(_stop.Token), CancellationToken.None));
        for (var i = 0; i < _acceptWorkers; i++)
        {
            _workers.Add(Task.Run(() => PlaceAsync(_stop.Token), CancellationToken.None));
        }

        for (var i = 0; i < 16; i++)
        {
            _workers.Add(Task.Run(() => AcknowledgeAsync(_stop.Token), CancellationToken.None));
        }
    }

    private async Task ReadAsync(CancellationToken cancellationToken)
    {
        await foreach (var evt in _connection!.Events(cancellationToken).ConfigureAwait(false))
        {
            switch (evt.Type)
            {
                case SchedulerTypes.Offers when evt.Offers is { } offers:
                    foreach (var offer in offers.Offers)
                    {
                        _offers.Writer.TryWrite(offer);
                    }

                    break;
                case SchedulerTypes.Update when evt.Update is { } update:
                    OnUpdate(update.Status);
                    break;
                case SchedulerTypes.Error:
                    _firstFailure ??= "ERROR event: " + evt.Error?.Message;
                    _allRunning.TrySetResult();
                    return;
            }
        }
    }

    private void OnUpdate(TaskStatusDto status)
    {
        if (status.Uuid is not null)
        {
            _acks.Writer.TryWrite(status);
        }

        int done;
        if (status.State == TaskStates.Running)
        {
            Interlocked.Increment(ref _running);
            Interlocked.Exchange(ref _lastRunning, Stopwatch.GetTimestamp());
            done = Volatile.Read(ref _running) + Volatile.Read(ref _failed);
        }
        else if (TaskStates.IsTerminal(status.State) && status.Reason == "REASON_INVALID_OFFERS" && IndexOf(status.TaskId.Value) is >= 0 and var index)
        {
            // Its offer was rescinded (offer timeout) before the ACCEPT arrived: place it again, as a real framework would.
            Interlocked.Increment(ref _retried);
            Interlocked.Add(ref _placed, -1);
            _retry.Enqueue(index);
            return;
        }
        else if (TaskStates.IsTerminal(status.State))
        {
            Interlocked.Increment(ref _failed);
            _firstFailure ??= $"{status.TaskId.Value} {status.State} {status.Reason} {status.Message}";
            done = Volatile.Read(ref _running) + Volatile.Read(ref _failed);
        }
        else
        {
            return;
        }

        if (done >= _total)
        {
            _allRunning.TrySetResult();
        }
    }

    private async Task PlaceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var offer in _offers.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var fit = Math.Min(_maxPerOffer, Fit(ResourceConversions.ToResources(offer.Resources), _task));
                var numbers = new List<int>();
                while (numbers.Count < fit && _retry.TryDequeue(out var again))
                {
                    numbers.Add(again);
                }

                var wanted = fit - numbers.Count;
                var first = Claim(wanted);
                for (var i = first; first >= 0 && i < Math.Min(_total, first + wanted); i++)
                {
                    numbers.Add(i);
                }

                var n = numbers.Count;
                if (n <= 0)
                {
                    Interlocked.Increment(ref _declines);
                    var allClaimed = Volatile.Read(ref _next) >= _total && _retry.IsEmpty;
                    await CallAsync(new SchedulerCall { Type = SchedulerTypes.Decline, Decline = new DeclineCall([offer.Id], new FiltersDto(allClaimed ? 60 : 1)) }, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var role = offer.AllocationInfo?.Role ?? _role;
                var dtos = ResourceConversions.ToDtos(_task, role);
                var infos = new List<TaskInfoDto>(n);
                foreach (var i in numbers)
                {
                    var id = TaskId(i);
                    infos.Add(new TaskInfoDto
                    {
                        Name = id,
                        TaskId = new IdDto(id),
                        AgentId = offer.AgentId,
                        Resources = dtos,
                        Command = new CommandDto { Value = "sleep 3600" },
                    });
                }

                var sent = Stopwatch.GetTimestamp();
                Interlocked.CompareExchange(ref _firstAccept, sent, 0);
                var status = await CallAsync(new SchedulerCall
                {
                    Type = SchedulerTypes.Accept,
                    Accept = new AcceptCall([offer.Id], [new OperationDto { Type = SchedulerTypes.Launch, Launch = new LaunchDto(infos) }], new FiltersDto(0)),
                }, cancellationToken).ConfigureAwait(false);
                if (status != HttpStatusCode.Accepted)
                {
                    Interlocked.Increment(ref _acceptErrors);
                    _firstFailure ??= $"ACCEPT answered {(int)status}";
                    continue;
                }

                Interlocked.Add(ref _placed, n);
                Interlocked.Increment(ref _accepts);
                Interlocked.Exchange(ref _lastAcceptAnswered, Stopwatch.GetTimestamp());
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string TaskId(int i) => string.Create(CultureInfo.InvariantCulture, $"{_name}-{i / _groupSize:D4}-{i % _groupSize:D4}");

    private int IndexOf(string taskId)
    {
        var parts = taskId.Split('-');
        return parts.Length >= 3
            && int.TryParse(parts[^2], NumberStyles.None, CultureInfo.InvariantCulture, out var group)
            && int.TryParse(parts[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? (group * _groupSize) + n
            : -1;
    }

    /// <summary>Claims up to <paramref name="wanted"/> task numbers; returns the first, or -1 when all are claimed.</summary>
    private int Claim(int wanted)
    {
        if (wanted <= 0)
        {
            return -1;
        }

        while (true)
        {
            var next = Volatile.Read(ref _next);
            if (next >= _total)
            {
                return -1;
            }

            var end = Math.Min(_total, next + wanted);
            if (Interlocked.CompareExchange(ref _next, end, next) == next)
            {
                return next;
            }
        }
    }

    private async Task AcknowledgeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var status in _acks.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                await CallAsync(new SchedulerCall
                {
                    Type = SchedulerTypes.Acknowledge,
                    Acknowledge = new AcknowledgeCall(status.AgentId!, status.TaskId, status.Uuid!),
                }, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<HttpStatusCode> CallAsync(SchedulerCall call, CancellationToken cancellationToken)
    {
        try
        {
            return await _connection!.CallAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            _firstFailure ??= $"{call.Type}: {e.Message}";
            return 0;
        }
    }

    /// <summary>How many tasks of <paramref name="task"/> the scalars of <paramref name="offered"/> hold.</summary>
    public static int Fit(Resources offered, Resources task)
    {
        long fit = int.MaxValue;
        foreach (var r in task)
        {
            if (r.Type == ResourceType.Scalar && r.ScalarMillis > 0)
            {
                fit = Math.Min(fit, offered.ScalarMillis(r.Name) / r.ScalarMillis);
            }
        }

        return (int)fit;
    }

    public string Detail() => string.Create(CultureInfo.InvariantCulture,
        $"accepts={Accepts} declines={Declines} accept_errors={Volatile.Read(ref _acceptErrors)} replaced_after_offer_timeout={Volatile.Read(ref _retried)} placed={Placed} running={Running} failed={Failed} first_failure={FirstFailure ?? "none"}");

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _offers.Writer.TryComplete();
        _acks.Writer.TryComplete();
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_workers).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException)
        {
        }

        _stop.Dispose();
        _http.Dispose();
    }
}
