using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Frameworks.Client;

/// <summary>
/// Keeps a scheduler subscribed to the master (the driver loop of the Mesos scheduler API): subscribes, reports the
/// new connection, hands over the events in batches (whatever arrived while the previous batch was handled, so a burst
/// of status updates costs the framework one store write), and when the stream ends reports the disconnection,
/// disposes the connection and subscribes again after a delay, until cancelled. A failed subscription is retried after
/// the same delay.
/// </summary>
public static class SubscriptionLoop
{
    /// <summary>Runs the loop until <paramref name="cancellationToken"/> is cancelled.</summary>
    /// <param name="subscribe">Subscribes (e.g. with the framework info carrying the id from the last subscription).</param>
    /// <param name="subscribed">Called with each new connection before its first event is handed over.</param>
    /// <param name="handle">Called with each batch of events, in stream order; never concurrently.</param>
    /// <param name="disconnected">Called when the stream ended, before the connection is disposed.</param>
    /// <param name="resubscribeDelay">Wait before subscribing again after a failure or the end of a stream.</param>
    /// <param name="time">Clock for the delay.</param>
    /// <param name="maxBatch">Largest batch handed to <paramref name="handle"/> (at least 1).</param>
    /// <param name="cancellationToken">Stops the loop.</param>
    public static async Task RunAsync(
        Func<CancellationToken, Task<ISchedulerConnection>> subscribe,
        Func<ISchedulerConnection, Task> subscribed,
        Func<IReadOnlyList<SchedulerEvent>, Task> handle,
        Func<Task> disconnected,
        TimeSpan resubscribeDelay,
        TimeProvider time,
        int maxBatch,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscribe);
        ArgumentNullException.ThrowIfNull(subscribed);
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(disconnected);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        while (!cancellationToken.IsCancellationRequested)
        {
            ISchedulerConnection connection;
            try
            {
                connection = await subscribe(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (Exception e) when (e is SchedulerException or HttpRequestException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                await DelayAsync(resubscribeDelay, time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                await subscribed(connection).ConfigureAwait(false);
                var events = Channel.CreateUnbounded<SchedulerEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
                var pump = PumpAsync(connection, events.Writer, cancellationToken);
                var batch = new List<SchedulerEvent>(maxBatch);
                while (await events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    batch.Clear();
                    while (batch.Count < maxBatch && events.Reader.TryRead(out var evt))
                    {
                        batch.Add(evt);
                    }

                    await handle(batch).ConfigureAwait(false);
                }

                await pump.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                await disconnected().ConfigureAwait(false);
                try
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception e) when (e is ObjectDisposedException or NotSupportedException)
                {
                    // The in-process connection refuses to dispose an enumerator with a pending cancelled read; the
                    // subscription itself was closed first.
                }
            }

            await DelayAsync(resubscribeDelay, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task PumpAsync(ISchedulerConnection connection, ChannelWriter<SchedulerEvent> writer, CancellationToken ct)
    {
        try
        {
            await foreach (var evt in connection.Events(ct).ConfigureAwait(false))
            {
                await writer.WriteAsync(evt, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or ObjectDisposedException or SchedulerException or System.Text.Json.JsonException)
        {
            // The stream ended; the loop subscribes again.
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private static async Task DelayAsync(TimeSpan delay, TimeProvider time, CancellationToken ct)
    {
        try
        {
            await Task.Delay(delay, time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
