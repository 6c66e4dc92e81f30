using DatacenterOs.Testing;

namespace DatacenterOs.Jobs.Tests;

/// <summary>The in-memory wake-up timer (also the backstop of the Quartz wake-ups).</summary>
public sealed class WakeUpTests
{
    [Fact]
    public async Task A_wake_up_years_ahead_is_accepted_on_the_system_clock()
    {
        // A system timer cannot wait more than about 49 days; a schedule starting in 2030 once made every request fail.
        await using var wakeUps = new TimerWakeUps(TimeProvider.System);
        var fired = 0;
        await wakeUps.StartAsync(_ => Task.FromResult(Interlocked.Increment(ref fired)), CancellationToken.None);

        await wakeUps.SetAsync(DateTimeOffset.UtcNow.AddYears(4), CancellationToken.None);
        await wakeUps.SetAsync(DateTimeOffset.MaxValue.AddDays(-1), CancellationToken.None);

        Assert.Equal(0, fired);
    }

    [Fact]
    public async Task A_wake_up_beyond_the_longest_timer_fires_once_at_its_instant_after_re_arming()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var wakeUps = new TimerWakeUps(clock);
        var fired = new List<DateTimeOffset>();
        await wakeUps.StartAsync(due =>
        {
            lock (fired)
            {
                fired.Add(due);
            }

            return Task.CompletedTask;
        }, CancellationToken.None);
        var due = clock.GetUtcNow() + TimerWakeUps.MaxTimerDelay * 3 + TimeSpan.FromMinutes(5);
        await wakeUps.SetAsync(due, CancellationToken.None);

        for (var day = 0; day < 3; day++)
        {
            clock.Advance(TimerWakeUps.MaxTimerDelay);
            Assert.Empty(fired);
        }

        clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal([due], fired);
    }
}
