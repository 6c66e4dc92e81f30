using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;

namespace DatacenterOs.Agent.Tests;

public sealed class StatusUpdateManagerTests : IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<(TimeSpan At, AgentUpdateCall Call)> _sent = [];
    private readonly DateTimeOffset _start;
    private byte _next;

    public StatusUpdateManagerTests() => _start = _time.GetUtcNow();

    public void Dispose() => _dir.Dispose();

    private StatusUpdateManager NewManager(bool accept = true) => new(
        _dir.Path,
        (call, _) =>
        {
            lock (_sent)
            {
                _sent.Add((_time.GetUtcNow() - _start, call));
            }

            return Task.FromResult(accept);
        },
        _time,
        () => Enumerable.Repeat(++_next, 16).ToArray());

    private static TaskStatusDto Status(string task, string state) => new() { TaskId = new IdDto(task), State = state };

    [Fact]
    public void Update_gets_a_base64_uuid_of_16_bytes_and_is_sent_at_once()
    {
        using var manager = NewManager();

        var call = manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));

        Assert.Equal(Convert.ToBase64String(Enumerable.Repeat((byte)1, 16).ToArray()), call.Status.Uuid);
        var sent = Assert.Single(_sent);
        Assert.Equal(TimeSpan.Zero, sent.At);
        Assert.Equal(call, sent.Call);
        Assert.Equal("fw-1", sent.Call.FrameworkId.Value);
    }

    [Fact]
    public void Unacknowledged_head_is_retried_after_10_20_40_seconds_doubling_up_to_10_minutes()
    {
        using var manager = NewManager();
        manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));

        for (var i = 0; i < 3000; i++)
        {
            _time.AdvanceSeconds(1);
        }

        var gaps = _sent.Zip(_sent.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).ToList();
        Assert.Equal([10, 20, 40, 80, 160, 320, 600, 600], gaps.Take(8));
        Assert.All(gaps.Skip(6), g => Assert.Equal(600, g));
        Assert.All(_sent, s => Assert.Equal(_sent[0].Call, s.Call)); // same update, same uuid
    }

    [Fact]
    public void Not_accepted_updates_are_retried_the_same_way()
    {
        using var manager = NewManager(accept: false);
        manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));

        _time.AdvanceSeconds(10);
        _time.AdvanceSeconds(20);

        Assert.Equal([0.0, 10, 30], _sent.Select(s => s.At.TotalSeconds));
    }

    [Fact]
    public void Only_the_head_is_in_flight_and_acknowledging_it_sends_the_next_in_order()
    {
        using var manager = NewManager();
        var running = manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));
        var finished = manager.Update(Tasks.Framework, Status("t1", TaskStates.Finished));
        Assert.Equal([running], _sent.Select(s => s.Call));

        _time.AdvanceSeconds(10);
        Assert.Equal([running, running], _sent.Select(s => s.Call));

        Assert.True(manager.Acknowledge("fw-1", "t1", running.Status.Uuid!));
        Assert.Equal([running, running, finished], _sent.Select(s => s.Call));
        Assert.Equal([finished], manager.Pending("fw-1", "t1"));

        // The next update starts again at 10 s.
        _time.AdvanceSeconds(9);
        Assert.Equal(3, _sent.Count);
        _time.AdvanceSeconds(1);
        Assert.Equal(4, _sent.Count);
    }

    [Fact]
    public void Acknowledging_the_terminal_update_ends_the_stream_and_stops_retries()
    {
        AgentUpdateCall? gc = null;
        using var manager = NewManager();
        manager.TerminalAcknowledged = c => gc = c;
        var running = manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));
        var finished = manager.Update(Tasks.Framework, Status("t1", TaskStates.Finished));

        manager.Acknowledge("fw-1", "t1", running.Status.Uuid!);
        Assert.Null(gc);
        manager.Acknowledge("fw-1", "t1", finished.Status.Uuid!);

        Assert.Equal(finished, gc);
        Assert.Empty(manager.Pending("fw-1", "t1"));
        Assert.Equal(0, manager.PendingCount);
        Assert.False(File.Exists(Path.Combine(_dir.Path, "meta", "frameworks", "fw-1", "tasks", "t1", "updates.json")));
        var count = _sent.Count;
        _time.AdvanceSeconds(3600);
        Assert.Equal(count, _sent.Count);
    }

    [Fact]
    public void Unknown_or_out_of_order_acknowledgements_are_ignored()
    {
        using var manager = NewManager();
        manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));
        var finished = manager.Update(Tasks.Framework, Status("t1", TaskStates.Finished));

        Assert.False(manager.Acknowledge("fw-1", "t1", finished.Status.Uuid!));
        Assert.False(manager.Acknowledge("fw-1", "t1", "bogus"));
        Assert.False(manager.Acknowledge("fw-1", "other", "bogus"));
        Assert.Equal(2, manager.Pending("fw-1", "t1").Count);
    }

    [Fact]
    public void Streams_of_different_tasks_are_independent()
    {
        using var manager = NewManager();
        var a = manager.Update(Tasks.Framework, Status("a", TaskStates.Running));
        var b = manager.Update(Tasks.Framework, Status("b", TaskStates.Running));

        Assert.Equal([a, b], _sent.Select(s => s.Call));
    }

    [Fact]
    public void Unacknowledged_updates_survive_a_restart_and_are_resent_in_order()
    {
        AgentUpdateCall running, finished;
        using (var first = NewManager())
        {
            running = first.Update(Tasks.Framework, Status("t1", TaskStates.Running));
            finished = first.Update(Tasks.Framework, Status("t1", TaskStates.Finished));
        }

        _sent.Clear();
        using var second = NewManager();
        Assert.Equal(2, second.Recover());

        Assert.Equal([running], _sent.Select(s => s.Call)); // same uuid as before the restart
        Assert.Equal([running, finished], second.Pending("fw-1", "t1"));
        Assert.True(second.Acknowledge("fw-1", "t1", running.Status.Uuid!));
        Assert.Equal([running, finished], _sent.Select(s => s.Call));
        _time.AdvanceSeconds(10);
        Assert.Equal([running, finished, finished], _sent.Select(s => s.Call));
    }

    [Fact]
    public void Paused_manager_queues_and_resume_sends_heads_with_backoff_reset()
    {
        using var manager = NewManager();
        manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));
        _time.AdvanceSeconds(10);
        _time.AdvanceSeconds(20); // three sends; next interval would be 40 s
        manager.Pause();
        var queued = manager.Update(Tasks.Framework, Status("t2", TaskStates.Running));
        _time.AdvanceSeconds(1000);
        Assert.Equal(3, _sent.Count);

        manager.Resume();

        Assert.Equal(5, _sent.Count);
        Assert.Contains(_sent, s => s.Call == queued);
        _time.AdvanceSeconds(10);
        Assert.Equal(7, _sent.Count); // both streams retry 10 s later
    }

    [Fact]
    public void A_throwing_sender_is_retried()
    {
        var attempts = 0;
        using var manager = new StatusUpdateManager(_dir.Path, (_, _) => { attempts++; throw new HttpRequestException("down"); }, _time);
        manager.Update(Tasks.Framework, Status("t1", TaskStates.Running));
        _time.AdvanceSeconds(10);
        Assert.Equal(2, attempts);
    }

    [Fact]
    public void Invalid_ids_are_refused()
    {
        using var manager = NewManager();
        Assert.Throws<ArgumentException>(() => manager.Update(Tasks.Framework, Status("../x", TaskStates.Running)));
        Assert.Throws<ArgumentException>(() => manager.Update(new IdDto(""), Status("t", TaskStates.Running)));
    }
}
