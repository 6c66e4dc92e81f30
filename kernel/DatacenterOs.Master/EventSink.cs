using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>
/// One subscriber's outgoing RecordIO event stream: the master enqueues serialized events without blocking; the
/// HTTP response loop writes them. Closing completes the stream. The queue is bounded by size
/// (<see cref="DefaultMaxQueuedBytes"/> of serialized events): a subscriber that falls that far behind is disconnected
/// (its stream ends at once, queued events are dropped) rather than letting the master's memory grow or the master wait
/// for it; a framework then re-subscribes and reconciles. Bytes rather than events, so a framework receiving a burst of
/// small updates (a million task launches) is not cut off while a stalled one still is.
/// </summary>
internal sealed class EventSink
{
    /// <summary>Serialized bytes a subscriber may have queued before it is disconnected (64 MiB).</summary>
    public const long DefaultMaxQueuedBytes = 64L * 1024 * 1024;

    private readonly Channel<byte[]> _channel = Channel.CreateUnbounded<byte[]>();
    private readonly long _maxQueuedBytes;
    private long _queuedBytes;
    private volatile Action? _cancelPump;

    /// <summary>A stream with id <paramref name="streamId"/> holding at most <paramref name="maxQueuedBytes"/> unsent bytes.</summary>
    public EventSink(string streamId, long maxQueuedBytes = DefaultMaxQueuedBytes)
    {
        StreamId = streamId;
        _maxQueuedBytes = maxQueuedBytes;
    }

    /// <summary>True once the subscriber fell <c>maxQueuedBytes</c> behind and was disconnected.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>The <c>Mesos-Stream-Id</c> of this subscription.</summary>
    public string StreamId { get; }

    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Queues an event (serialized with <see cref="MesosJson"/>).</summary>
    public void Send<T>(T evt)
    {
        if (IsClosed)
        {
            return;
        }

        var json = MesosJson.Serialize(evt);
        if (Interlocked.Add(ref _queuedBytes, json.Length) > _maxQueuedBytes || !_channel.Writer.TryWrite(json))
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
    public async IAsyncEnumerable<byte[]> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var json in _channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            Interlocked.Add(ref _queuedBytes, -json.Length);
            yield return json;
        }
    }

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
        await foreach (var json in ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await body.WriteAsync(RecordIo.Frame(json), cancellationToken).ConfigureAwait(false);
            if (_channel.Reader.Count == 0)
            {
                await body.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
