using System.Net;
using System.Runtime.CompilerServices;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Frameworks.Client;

/// <summary>
/// A scheduler connection over any <see cref="ISchedulerTransport"/>, e.g. the master's in-process transport for
/// frameworks hosted in the master's process. Same interface and rules as <see cref="HttpSchedulerConnection"/>.
/// </summary>
public sealed class TransportSchedulerConnection : ISchedulerConnection
{
    private readonly ISchedulerTransport _transport;
    private readonly SchedulerSubscription _subscription;
    private readonly IAsyncEnumerator<SchedulerEvent> _events;
    private Task<bool>? _pendingMove;

    private TransportSchedulerConnection(ISchedulerTransport transport, SchedulerSubscription subscription, IAsyncEnumerator<SchedulerEvent> events, string frameworkId)
    {
        _transport = transport;
        _subscription = subscription;
        _events = events;
        FrameworkId = frameworkId;
    }

    /// <inheritdoc />
    public string FrameworkId { get; }

    /// <inheritdoc />
    public string StreamId => _subscription.StreamId!;

    /// <summary>Subscribes <paramref name="frameworkInfo"/> and waits for SUBSCRIBED.</summary>
    /// <exception cref="SchedulerException">The master refused the subscription.</exception>
    public static async Task<TransportSchedulerConnection> SubscribeAsync(ISchedulerTransport transport, FrameworkInfoDto frameworkInfo, IReadOnlyList<string>? suppressedRoles = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(frameworkInfo);
        var subscription = await transport.SubscribeAsync(
            new SchedulerCall
            {
                Type = SchedulerTypes.Subscribe,
                FrameworkId = frameworkInfo.Id,
                Subscribe = new SubscribeCall(frameworkInfo) { SuppressedRoles = suppressedRoles?.ToList() },
            },
            cancellationToken).ConfigureAwait(false);
        if (subscription.Events is null)
        {
            throw new SchedulerException(subscription.Status, $"SUBSCRIBE refused ({subscription.Status}): {subscription.Error}");
        }

        var events = subscription.Events.GetAsyncEnumerator(cancellationToken);
        if (!await events.MoveNextAsync().ConfigureAwait(false) || events.Current.Type != SchedulerTypes.Subscribed || events.Current.Subscribed is null)
        {
            await subscription.Close().ConfigureAwait(false);
            throw new SchedulerException(0, "expected SUBSCRIBED as the first event");
        }

        return new TransportSchedulerConnection(transport, subscription, events, events.Current.Subscribed.FrameworkId.Value);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SchedulerEvent> Events([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (true)
        {
            bool more;
            try
            {
                _pendingMove ??= _events.MoveNextAsync().AsTask();
                more = await _pendingMove.WaitAsync(cancellationToken).ConfigureAwait(false);
                _pendingMove = null;
            }
            catch (OperationCanceledException)
            {
                yield break;
            }

            if (!more)
            {
                yield break;
            }

            yield return _events.Current;
        }
    }

    /// <inheritdoc />
    public async Task<HttpStatusCode> CallAsync(SchedulerCall call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        var (status, _) = await _transport.CallAsync(call with { FrameworkId = new IdDto(FrameworkId) }, StreamId, cancellationToken).ConfigureAwait(false);
        return (HttpStatusCode)status;
    }

    /// <inheritdoc />
    /// <remarks>Closing ends the event stream first, so a read still pending completes before the enumerator is disposed.</remarks>
    public async ValueTask DisposeAsync()
    {
        await _subscription.Close().ConfigureAwait(false);
        if (_pendingMove is { } pending)
        {
            try
            {
                await pending.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or ObjectDisposedException)
            {
                return; // the read never completed: leave the enumerator to the garbage collector
            }
        }

        await _events.DisposeAsync().ConfigureAwait(false);
    }
}
