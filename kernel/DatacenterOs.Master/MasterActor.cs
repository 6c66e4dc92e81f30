using System.Threading.Channels;

namespace DatacenterOs.Master;

/// <summary>
/// The master's single writer: work items run one at a time, in order, on one loop, so master state needs no locks.
/// After each item, <see cref="AfterEach"/> runs (used to publish read snapshots).
/// </summary>
internal sealed class MasterActor : IAsyncDisposable
{
    private readonly Channel<Func<Task>> _queue = Channel.CreateUnbounded<Func<Task>>();
    private readonly Task _loop;
    private readonly Action<bool> _afterEach;

    public MasterActor(Action<bool> afterEach)
    {
        _afterEach = afterEach;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Called after each item with true when the queue is empty.</summary>
    public Action<bool> AfterEach => _afterEach;

    /// <summary>Runs <paramref name="work"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        PostOrFail(tcs, () =>
        {
            try
            {
                tcs.SetResult(work());
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }

            return Task.CompletedTask;
        });
        return tcs.Task;
    }

    /// <summary>Runs async <paramref name="work"/> on the loop (the loop waits for it) and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<Task<T>> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        PostOrFail(tcs, async () =>
        {
            try
            {
                tcs.SetResult(await work().ConfigureAwait(false));
            }
            catch (Exception e)
            {
                tcs.SetException(e);
            }
        });
        return tcs.Task;
    }

    /// <summary>Runs <paramref name="work"/> on the loop.</summary>
    public Task InvokeAsync(Action work) => InvokeAsync(() =>
    {
        work();
        return true;
    });

    /// <summary>Queues <paramref name="work"/> without waiting; false once the loop is shut down.</summary>
    public bool Post(Func<Task> work) => _queue.Writer.TryWrite(work);

    private void PostOrFail<T>(TaskCompletionSource<T> tcs, Func<Task> work)
    {
        if (!Post(work))
        {
            tcs.TrySetException(new ObjectDisposedException(nameof(MasterActor), "the master is shutting down"));
        }
    }

    private async Task RunAsync()
    {
        await foreach (var work in _queue.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                await work().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // the loop must survive any work item's failure; items report their own errors
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            _afterEach(_queue.Reader.Count == 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
