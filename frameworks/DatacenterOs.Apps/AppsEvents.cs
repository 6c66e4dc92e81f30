using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace DatacenterOs.Apps;

/// <summary>
/// Marathon's event bus (<c>docs/docs/event-bus.md</c>): events are JSON objects with <c>eventType</c> and
/// <c>timestamp</c>, served as server-sent events on <c>GET /v2/events</c> (<c>event: {eventType}</c>,
/// <c>data: {json}</c>). Each subscriber has a bounded buffer (<see cref="Capacity"/> events, default 1,024); a
/// subscriber that falls that far behind is disconnected (<see cref="AppsEventSubscription.Disconnected"/> fires, the
/// stream ends) rather than slowing the scheduler or growing its memory. Publishing never waits.
/// </summary>
public sealed class AppsEvents
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly List<Subscriber> _subscribers = [];

    /// <summary>Creates the bus.</summary>
    /// <param name="time">Clock for the <c>timestamp</c> field.</param>
    public AppsEvents(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    /// <summary>Events a subscriber may have queued before it is disconnected (default 1,024).</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>Number of attached subscribers.</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    /// <summary>
    /// Subscribes to every event published from now on (registered before this returns, so nothing published after
    /// the call is missed); dispose the subscription to end it.
    /// </summary>
    /// <param name="eventTypes">Only these <c>eventType</c>s (null or empty: all).</param>
    public AppsEventSubscription Subscribe(IReadOnlyCollection<string>? eventTypes = null)
    {
        var channel = Channel.CreateBounded<JsonObject>(new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        var subscriber = new Subscriber(channel, new CancellationTokenSource());
        lock (_lock)
        {
            _subscribers.Add(subscriber);
        }

        return new AppsEventSubscription(channel.Reader, eventTypes, () =>
        {
            lock (_lock)
            {
                _subscribers.Remove(subscriber);
            }

            channel.Writer.TryComplete();
            subscriber.Overflow.Dispose();
        }, subscriber.Overflow.Token);
    }

    /// <summary>
    /// Publishes an event built by <paramref name="build"/> only when somebody listens (events on a busy scheduler are
    /// not rendered for nobody).
    /// </summary>
    /// <param name="eventType">Marathon's event type, e.g. <c>status_update_event</c>.</param>
    /// <param name="build">Builds the event's fields.</param>
    public void Publish(string eventType, Func<JsonObject> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        if (SubscriberCount > 0)
        {
            Publish(eventType, build());
        }
    }

    /// <summary>Publishes an event: <paramref name="fields"/> plus <c>eventType</c> and <c>timestamp</c>.</summary>
    /// <param name="eventType">Marathon's event type, e.g. <c>status_update_event</c>.</param>
    /// <param name="fields">The event's fields (not modified).</param>
    public void Publish(string eventType, JsonObject fields)
    {
        ArgumentNullException.ThrowIfNull(eventType);
        ArgumentNullException.ThrowIfNull(fields);
        Subscriber[] subscribers;
        lock (_lock)
        {
            if (_subscribers.Count == 0)
            {
                return;
            }

            subscribers = [.. _subscribers];
        }

        var evt = (JsonObject)fields.DeepClone();
        evt["eventType"] = eventType;
        evt["timestamp"] = AppsJsonWriter.Timestamp(_time.GetUtcNow());
        foreach (var subscriber in subscribers)
        {
            // Each subscriber gets its own copy: JsonNode trees cannot be shared between readers that serialize concurrently.
            if (!subscriber.Channel.Writer.TryWrite(subscribers.Length == 1 ? evt : (JsonObject)evt.DeepClone()))
            {
                Disconnect(subscriber);
            }
        }
    }

    /// <summary>Detaches a subscriber that fell <see cref="Capacity"/> events behind and ends its stream at once.</summary>
    private void Disconnect(Subscriber subscriber)
    {
        lock (_lock)
        {
            if (!_subscribers.Remove(subscriber))
            {
                return;
            }
        }

        subscriber.Channel.Writer.TryComplete();
        try
        {
            subscriber.Overflow.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // detached by its reader meanwhile
        }
    }

    private sealed record Subscriber(Channel<JsonObject> Channel, CancellationTokenSource Overflow);
}

/// <summary>One subscriber of <see cref="AppsEvents"/>; dispose to detach.</summary>
public sealed class AppsEventSubscription : IDisposable
{
    private readonly ChannelReader<JsonObject> _reader;
    private readonly IReadOnlyCollection<string>? _eventTypes;
    private readonly Action _detach;
    private int _disposed;

    internal AppsEventSubscription(ChannelReader<JsonObject> reader, IReadOnlyCollection<string>? eventTypes, Action detach, CancellationToken disconnected)
    {
        Disconnected = disconnected;
        _reader = reader;
        _eventTypes = eventTypes;
        _detach = detach;
    }

    /// <summary>Cancelled when the bus disconnected this subscriber for falling too far behind.</summary>
    public CancellationToken Disconnected { get; }

    /// <summary>The events, in publication order, until the subscription is disposed or the token is cancelled.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    public async IAsyncEnumerable<JsonObject> ReadAllAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var evt in _reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (_eventTypes is not { Count: > 0 } || _eventTypes.Contains((string?)evt["eventType"] ?? ""))
            {
                yield return evt;
            }
        }
    }

    /// <summary>Detaches from the bus.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _detach();
        }
    }
}
