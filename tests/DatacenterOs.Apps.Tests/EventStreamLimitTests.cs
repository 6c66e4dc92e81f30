using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Tests;

/// <summary>Bounded per-subscriber buffers of the event bus: a slow subscriber is cut off, the others get everything.</summary>
public sealed class EventStreamLimitTests
{
    [Fact]
    public async Task A_subscriber_that_stops_reading_is_disconnected_and_publishing_never_waits_for_it()
    {
        var bus = new AppsEvents(TimeProvider.System) { Capacity = 8 };
        using var slow = bus.Subscribe();
        using var fast = bus.Subscribe();
        var received = new List<JsonObject>();
        for (var i = 0; i < 100; i++)
        {
            bus.Publish("status_update_event", new JsonObject { ["n"] = i });
            await foreach (var evt in fast.ReadAllAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token))
            {
                received.Add(evt);
                break;
            }
        }

        Assert.True(slow.Disconnected.IsCancellationRequested);
        Assert.False(fast.Disconnected.IsCancellationRequested);
        Assert.Equal(Enumerable.Range(0, 100), received.Select(e => (int)e["n"]!));
        Assert.Equal(1, bus.SubscriberCount);

        // The slow one's stream ends after what it had queued.
        var drained = 0;
        await foreach (var _ in slow.ReadAllAsync())
        {
            drained++;
        }

        Assert.Equal(8, drained);
    }

    [Fact]
    public async Task A_slow_v2_events_client_is_cut_off_while_a_reading_client_gets_every_event()
    {
        await using var fixture = await AppsFixture.StartAsync(agents: 0);

        // The slow client: a raw socket that sends the request and never reads the answer.
        using var slow = new TcpClient();
        await slow.ConnectAsync(fixture.Url.Host, fixture.Url.Port);
        slow.ReceiveBufferSize = 4096;
        await slow.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"GET /v2/events HTTP/1.1\r\nHost: {fixture.Url.Authority}\r\nAccept: text/event-stream\r\n\r\n"));

        // The reading client.
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var response = await http.GetAsync(new Uri(fixture.Url, "/v2/events"), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(fixture.Apps.Events.SubscriberCount == 2), "both clients attached");

        // Large events, published in batches the reading client keeps up with; the slow client's socket buffers fill.
        var padding = new string('x', 16 * 1024);
        var seen = 0;
        const int total = 4000;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        for (var batch = 0; batch < total / 100; batch++)
        {
            for (var i = 0; i < 100; i++)
            {
                fixture.Apps.Events.Publish("fuzz_event", new JsonObject { ["n"] = (batch * 100) + i, ["pad"] = padding });
            }

            while (seen < (batch + 1) * 100)
            {
                var line = await reader.ReadLineAsync(timeout.Token);
                Assert.NotNull(line);
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"fuzz_event\"", StringComparison.Ordinal))
                {
                    Assert.Equal(seen, (int)JsonNode.Parse(line[6..])!["n"]!);
                    seen++;
                }
            }
        }

        Assert.Equal(total, seen);
        await AppsFixture.WaitUntilAsync(() => Task.FromResult(fixture.Apps.Events.SubscriberCount == 1), "the slow client detached", 60);

        // Its connection was closed by the server: reading it to the end terminates.
        var buffer = new byte[64 * 1024];
        var stream = slow.GetStream();
        using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await stream.ReadAsync(buffer, drain.Token) > 0)
            {
            }
        }
        catch (IOException)
        {
            // reset by the server: closed as well
        }

        Assert.False(drain.IsCancellationRequested, "the slow client's connection stayed open");
    }
}
