using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>The scheduler/operator event stream's bounded buffer (bytes): a subscriber that stops reading is cut off at once.</summary>
public sealed class EventSinkLimitTests
{
    /// <summary>A response body whose writes never complete until cancelled (a client that stopped reading).</summary>
    private sealed class StalledStream : MemoryStream
    {
        public TaskCompletionSource FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            FirstWrite.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    [Fact]
    public async Task A_stalled_subscriber_is_disconnected_when_its_buffer_fills_and_sending_never_blocks()
    {
        var sink = new EventSink("s1", maxQueuedBytes: 16 * 16);
        var body = new StalledStream();
        var pump = sink.PumpAsync(body, CancellationToken.None);
        sink.Send(new GetHealthDto(true));
        await body.FirstWrite.Task.WaitAsync(TimeSpan.FromSeconds(30));

        for (var i = 0; i < 100; i++)
        {
            sink.Send(new GetHealthDto(true)); // never waits, even though nobody reads
        }

        Assert.True(sink.Overflowed);
        Assert.True(sink.IsClosed);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pump.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_subscriber_that_keeps_up_gets_every_event()
    {
        var sink = new EventSink("s2", maxQueuedBytes: 64 * 1024);
        var body = new MemoryStream();
        var pump = sink.PumpAsync(body, CancellationToken.None);
        for (var i = 0; i < 1000; i++)
        {
            sink.Send(new GetHealthDto(true));
            if (i % 8 == 0)
            {
                await Task.Delay(1);
            }
        }

        sink.Close();
        await pump.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(sink.Overflowed);
        var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
        Assert.Equal(1000, text.Split("healthy").Length - 1);
    }
}
