using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>
/// One subscriber's outgoing RecordIO event stream: the master enqueues serialized events without blocking; the
/// HTTP response loop writes them. Closing completes the stream. The queue is bounded (<see cref="DefaultCapacity"/>
/// events): a subscriber that falls that far behind is disconnected (its stream ends at once, queued events are dropped)
/// rather than letting the master's memory grow or the master wait for it; a framework then re-subscribes and reconciles.
/// </summary>
internal sealed class EventSink
{
    /// <summary>Events a subscriber may have queued before it is disconnected.</summary>
    public const int DefaultCapacity = 16_384;

    private readonly Channel<byte[]> _channel;
    private volatile Action? _cancelPump;

    public EventSink(string streamId, int capacity = DefaultCapacity)
    {
        StreamId = streamId;
        _channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
    }

    /// <summary>True once the subscriber fell <c>capacity</c> events behind and was disconnected.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>The <c>Mesos-Stream-Id</c> of this subscription.</summary>
    public string StreamId { get; }

    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Queues an event (serialized with <see cref="MesosJson"/>).</summary>
    public void Send<T>(T evt)
    {
        if (!IsClosed && !_channel.Writer.TryWrite(MesosJson.Serialize(evt)))
        {
            Overflowed = true;
            Close();
            while (_channel.Reader.TryRead(out _))
            {
                // drop what the subscriber will never read
            }

            try
            {
                _cancelPump?.Invoke();
            }
            catch (ObjectDisposedException)
            {
                // the pump already ended
            }
        }
    }

    /// <summary>Ends the stream.</summary>
    public void Close()
    {
        IsClosed = true;
        _channel.Writer.TryComplete();
    }

    /// <summary>The queued events as JSON, for in-process subscribers.</summary>
    public IAsyncEnumerable<byte[]> ReadAllAsync(CancellationToken cancellationToken) => _channel.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Writes queued events to <paramref name="body"/> until closed or cancelled.</summary>
    /// <exception cref="OperationCanceledException">Cancelled, or the subscriber overflowed its queue.</exception>
    public async Task PumpAsync(Stream body, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _cancelPump = linked.Cancel;
        if (Overflowed)
        {
            return;
        }

        cancellationToken = linked.Token;
        await foreach (var json in _channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await body.WriteAsync(RecordIo.Frame(json), cancellationToken).ConfigureAwait(false);
            if (_channel.Reader.Count == 0)
            {
                await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
