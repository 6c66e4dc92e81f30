using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>
/// One subscriber's outgoing RecordIO event stream: the master enqueues serialized events without blocking; the
/// HTTP response loop writes them. Closing completes the stream.
/// </summary>
internal sealed class EventSink
{
    private readonly Channel<byte[]> _channel = Channel.CreateUnbounded<byte[]>();

    public EventSink(string streamId) => StreamId = streamId;

    /// <summary>The <c>Mesos-Stream-Id</c> of this subscription.</summary>
    public string StreamId { get; }

    /// <summary>True once closed.</summary>
    public bool IsClosed { get; private set; }

    /// <summary>Queues an event (serialized with <see cref="MesosJson"/>).</summary>
    public void Send<T>(T evt)
    {
        if (!IsClosed)
        {
            _channel.Writer.TryWrite(MesosJson.Serialize(evt));
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
    public async Task PumpAsync(Stream body, CancellationToken cancellationToken)
    {
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
