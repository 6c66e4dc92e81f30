namespace DatacenterOs.Kernel.Contracts;

/// <summary>
/// How a framework reaches a master's scheduler API: over HTTP (<c>POST /api/v1/scheduler</c>) or in-process for
/// frameworks hosted in the master's own process. Both carry the same calls and events with the same rules.
/// </summary>
public interface ISchedulerTransport
{
    /// <summary>SUBSCRIBE: on success the stream id and the events (SUBSCRIBED first), else the status and error.</summary>
    Task<SchedulerSubscription> SubscribeAsync(SchedulerCall subscribe, CancellationToken cancellationToken);

    /// <summary>Any other call on the subscription <paramref name="streamId"/>; returns the HTTP status (202 accepted) and error text.</summary>
    Task<(int Status, string? Error)> CallAsync(SchedulerCall call, string streamId, CancellationToken cancellationToken);
}

/// <summary>The outcome of SUBSCRIBE on a transport.</summary>
/// <param name="Status">HTTP status: 200 when subscribed.</param>
/// <param name="Error">Why the subscription was refused.</param>
/// <param name="StreamId">The <c>Mesos-Stream-Id</c>.</param>
/// <param name="Events">Events in order, SUBSCRIBED first; ends when the subscription ends.</param>
/// <param name="Close">Ends the subscription (the master then starts the framework's failover timeout).</param>
public sealed record SchedulerSubscription(int Status, string? Error, string? StreamId, IAsyncEnumerable<SchedulerEvent>? Events, Func<ValueTask> Close);
