using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Agent;

/// <summary>Batched status updates: one UPDATE call carries whatever queued up while the previous one was in flight.</summary>
public sealed partial class MasterConnection
{
    private readonly Channel<PendingUpdate> _updates = Channel.CreateUnbounded<PendingUpdate>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _senderLock = new();
    private Task? _updateSender;

    /// <summary>Most status updates one UPDATE call carries (500).</summary>
    public int MaxUpdateBatch { get; init; } = 500;

    /// <summary>
    /// Queues a status update of agent <paramref name="agentId"/> for the master. Updates queued while an UPDATE call is in
    /// flight go together in the next call (<see cref="AgentCall.Updates"/>), in queue order, so a burst of launches
    /// costs a few HTTP calls rather than one each. Completes with true when the master accepted the call that carried
    /// it; false when it refused it, could not be reached, or the agent is not subscribed (the caller retries, as with
    /// <see cref="SendAsync"/>).
    /// </summary>
    public Task<bool> SendUpdateAsync(IdDto agentId, AgentUpdateCall update, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agentId);
        ArgumentNullException.ThrowIfNull(update);
        var pending = new PendingUpdate(agentId, update, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (_closing.IsCancellationRequested || !_updates.Writer.TryWrite(pending))
        {
            return Task.FromResult(false);
        }

        lock (_senderLock)
        {
            _updateSender ??= Task.Run(SendUpdatesAsync, CancellationToken.None);
        }

        return cancellationToken.CanBeCanceled ? pending.Done.Task.WaitAsync(cancellationToken) : pending.Done.Task;
    }

    private async Task SendUpdatesAsync()
    {
        var batch = new List<PendingUpdate>();
        try
        {
            var closing = _closing.Token;
            while (await _updates.Reader.WaitToReadAsync(closing).ConfigureAwait(false))
            {
                batch.Clear();
                while (batch.Count < MaxUpdateBatch && _updates.Reader.TryRead(out var next))
                {
                    // One call carries one agent's updates (an agent has one id; a change of id starts a new call).
                    if (batch.Count > 0 && batch[0].AgentId.Value != next.AgentId.Value)
                    {
                        await SendBatchAsync(batch, closing).ConfigureAwait(false);
                        batch.Clear();
                    }

                    batch.Add(next);
                }

                await SendBatchAsync(batch, closing).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }

        foreach (var pending in batch)
        {
            pending.Done.TrySetResult(false);
        }

        while (_updates.Reader.TryRead(out var left))
        {
            left.Done.TrySetResult(false);
        }
    }

    private async Task SendBatchAsync(List<PendingUpdate> batch, CancellationToken closing)
    {
        if (batch.Count == 0)
        {
            return;
        }

        var call = batch.Count == 1
            ? new AgentCall { Type = AgentTypes.Update, AgentId = batch[0].AgentId, Update = batch[0].Update }
            : new AgentCall { Type = AgentTypes.Update, AgentId = batch[0].AgentId, Updates = [.. batch.Select(p => p.Update)] };
        bool accepted;
        try
        {
            accepted = await SendAsync(call, closing).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            accepted = false;
        }

        foreach (var pending in batch)
        {
            pending.Done.TrySetResult(accepted);
        }
    }

    private void CloseUpdates()
    {
        if (_closing.IsCancellationRequested)
        {
            return;
        }

        _closing.Cancel();
        _updates.Writer.TryComplete();
        while (_updates.Reader.TryRead(out var left))
        {
            left.Done.TrySetResult(false);
        }

        _closing.Dispose();
    }

    private sealed record PendingUpdate(IdDto AgentId, AgentUpdateCall Update, TaskCompletionSource<bool> Done);
}
