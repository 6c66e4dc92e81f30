using System.Threading.Channels;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>A test framework: reads its event stream in the background and lets tests wait for events.</summary>
internal sealed class FrameworkProbe : IAsyncDisposable
{
    private readonly Channel<SchedulerEvent> _events = Channel.CreateUnbounded<SchedulerEvent>();
    private readonly CancellationTokenSource _cts = new();
    private readonly Task _reader;

    public FrameworkProbe(HttpSchedulerConnection connection)
    {
        Connection = connection;
        _reader = Task.Run(async () =>
        {
            await foreach (var evt in connection.Events(_cts.Token))
            {
                _events.Writer.TryWrite(evt);
            }

            _events.Writer.TryComplete();
        });
    }

    public HttpSchedulerConnection Connection { get; }

    public string Id => Connection.FrameworkId;

    public async Task<SchedulerEvent> NextAsync(string type, Func<SchedulerEvent, bool>? match = null, double timeoutSeconds = 30)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            var evt = await _events.Reader.ReadAsync(timeout.Token);
            if (evt.Type == type && (match is null || match(evt)))
            {
                return evt;
            }
        }
    }

    public async Task<OfferDto> NextOfferAsync() => (await NextAsync(SchedulerTypes.Offers)).Offers!.Offers[0];

    public async Task<TaskStatusDto> NextUpdateAsync(string taskId, string? state = null) =>
        (await NextAsync(SchedulerTypes.Update, e => e.Update!.Status.TaskId.Value == taskId && (state is null || e.Update.Status.State == state))).Update!.Status;

    /// <summary>True when an event of <paramref name="type"/> is already queued (no waiting).</summary>
    public bool TryTake(string type, out SchedulerEvent? found)
    {
        while (_events.Reader.TryRead(out var evt))
        {
            if (evt.Type == type)
            {
                found = evt;
                return true;
            }
        }

        found = null;
        return false;
    }

    public Task<System.Net.HttpStatusCode> CallAsync(SchedulerCall call) => Connection.CallAsync(call);

    public Task<System.Net.HttpStatusCode> LaunchAsync(OfferDto offer, string taskId, string resources, string command = "sleep 600", double? refuseSeconds = null) =>
        CallAsync(new SchedulerCall
        {
            Type = SchedulerTypes.Accept,
            Accept = new AcceptCall(
                [offer.Id],
                [new OperationDto
                {
                    Type = SchedulerTypes.Launch,
                    Launch = new LaunchDto([new TaskInfoDto
                    {
                        Name = taskId,
                        TaskId = new IdDto(taskId),
                        AgentId = offer.AgentId,
                        Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse(resources), offer.AllocationInfo?.Role),
                        Command = new CommandDto { Value = command },
                    }]),
                }],
                refuseSeconds is null ? null : new FiltersDto(refuseSeconds)),
        });

    public Task<System.Net.HttpStatusCode> AcknowledgeAsync(TaskStatusDto status) =>
        CallAsync(new SchedulerCall { Type = SchedulerTypes.Acknowledge, Acknowledge = new AcknowledgeCall(status.AgentId!, status.TaskId, status.Uuid!) });

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _cts.CancelAsync();
        await Connection.DisposeAsync();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }
}
