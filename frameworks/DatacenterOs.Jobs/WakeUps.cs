using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Quartz;

namespace DatacenterOs.Jobs;

/// <summary>
/// Calls the service back at (or shortly after) one instant: the plan's next wake-up. There is at most one pending
/// wake-up; setting another replaces it. Which runs are due is decided by <c>JobTrigger.Due</c> when the callback runs,
/// never by the wake-up itself, so a late, early or duplicated wake-up is harmless. The callback receives the instant
/// the wake-up was set for.
/// </summary>
internal interface IWakeUps : IAsyncDisposable
{
    /// <summary>Starts delivering wake-ups to <paramref name="callback"/>.</summary>
    Task StartAsync(Func<DateTimeOffset, Task> callback, CancellationToken cancellationToken);

    /// <summary>Replaces the pending wake-up with one at <paramref name="at"/> (null: none).</summary>
    Task SetAsync(DateTimeOffset? at, CancellationToken cancellationToken);
}

/// <summary>Wake-ups from a timer on a <see cref="TimeProvider"/> (in memory: a restart recomputes them from the store).</summary>
internal sealed class TimerWakeUps(TimeProvider time) : IWakeUps
{
    /// <summary>Longest single timer wait (1 day); later instants are reached by re-arming.</summary>
    internal static readonly TimeSpan MaxTimerDelay = TimeSpan.FromDays(1);

    private ITimer? _timer;
    private Func<DateTimeOffset, Task>? _callback;
    private DateTimeOffset? _due;

    public Task StartAsync(Func<DateTimeOffset, Task> callback, CancellationToken cancellationToken)
    {
        _callback = callback;
        _timer = time.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.CompletedTask;
    }

    public Task SetAsync(DateTimeOffset? at, CancellationToken cancellationToken)
    {
        _due = at;
        Arm();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Arms the timer for the due instant, or for <see cref="MaxTimerDelay"/> when that is further away (a timer cannot
    /// wait more than about 49 days, and a schedule may start years ahead): an early expiry only re-arms.
    /// </summary>
    private void Arm()
    {
        if (_due is { } due)
        {
            var delay = due - time.GetUtcNow();
            _timer?.Change(delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxTimerDelay ? MaxTimerDelay : delay, Timeout.InfiniteTimeSpan);
        }
        else
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        if (_due is not { } due || _callback is not { } callback)
        {
            return;
        }

        if (due > time.GetUtcNow())
        {
            Arm();
            return;
        }

        _ = callback(due);
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>
/// Durable wake-ups: one Quartz job (<c>jobs.wake-up</c>) with one simple trigger (<c>jobs.next</c>) in Quartz's
/// AdoJobStore on the jobs database, rescheduled to each plan's next wake-up. Quartz runs on the service's
/// <see cref="TimeProvider"/> (so a fake clock drives it in tests), fires a misfired trigger at once after a restart,
/// and becomes clustered once the store moves to PostgreSQL. An in-process timer on the same clock backs the trigger up
/// (whichever fires first wakes the service; the service ignores a wake-up it has already evaluated past), so a wake-up
/// is never lost to a Quartz thread that computed its wait just before a fake clock jumped.
/// </summary>
internal sealed class QuartzWakeUps(string connectionString, TimeProvider time, bool postgres = false) : IWakeUps
{
    private static readonly ConcurrentDictionary<string, Func<DateTimeOffset, Task>> Callbacks = new(StringComparer.Ordinal);
    private static readonly JobKey WakeUpKey = new("wake-up", "jobs");
    private static readonly TriggerKey NextTrigger = new("next", "jobs");

    // One scheduler name per database: stable across restarts (the AdoJobStore rows are keyed by it), distinct between
    // services in one process (Quartz keeps schedulers in a process-wide repository by name), and on PostgreSQL the same
    // for every master of the cluster (clustered nodes share the name; each gets its own generated instance id).
    private readonly string _name = "dcos-jobs-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(SchedulerKey(connectionString, postgres))))[..12];
    private readonly TimerWakeUps _backstop = new(time);
    private IScheduler? _scheduler;
    private DateTimeOffset? _current;

    public async Task StartAsync(Func<DateTimeOffset, Task> callback, CancellationToken cancellationToken)
    {
        Callbacks[_name] = due =>
        {
            // The trigger has fired and is gone: the next SetAsync must schedule anew, even for the same instant.
            _current = null;
            return callback(due);
        };
        await _backstop.StartAsync(callback, cancellationToken).ConfigureAwait(false);
        _scheduler = await QuartzSchedulerBuilder.Create(q =>
        {
            q.ConfigureScheduler(o => o.InstanceName = _name);
            q.UseTimeProvider(time);
            q.UseDefaultThreadPool(1);
            q.UsePersistentStore(s =>
            {
                if (postgres)
                {
                    // Clustered: every master shares the triggers; a fired trigger is acquired under a row lock by one node.
                    s.UsePostgres(connectionString);
                    s.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(5));
                }
                else
                {
                    s.UseSqlite(connectionString);
                }

                s.ProvisionSchema();
            });
        }).BuildScheduler(cancellationToken).ConfigureAwait(false);
        var job = JobBuilder.Create<WakeUpJob>().WithIdentity(WakeUpKey).StoreDurably().Build();
        await _scheduler.AddJob(job, AddJobOptions.Replacing, cancellationToken).ConfigureAwait(false);
        var existing = await _scheduler.GetTrigger(NextTrigger, cancellationToken).ConfigureAwait(false);
        _current = existing?.NextFireTimeUtc;
        await _scheduler.Start(cancellationToken).ConfigureAwait(false);
    }

    public async Task SetAsync(DateTimeOffset? at, CancellationToken cancellationToken)
    {
        if (_scheduler is null || at == _current)
        {
            return;
        }

        await _backstop.SetAsync(at, cancellationToken).ConfigureAwait(false);
        _current = at;
        if (at is not { } exact)
        {
            await _scheduler.UnscheduleJob(NextTrigger, cancellationToken).ConfigureAwait(false);
            return;
        }

        // Quartz keeps milliseconds: round up, so the trigger never fires before the instant the plan asked for.
        var due = new DateTimeOffset((exact.UtcTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond * TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(NextTrigger)
            .ForJob(WakeUpKey)
            .StartAt(due)
            .WithSimpleSchedule(s => s.WithMisfireInstruction(SimpleTriggerMisfireInstruction.FireNow))
            .Build();
        await _scheduler.ScheduleJob(trigger, ScheduleJobOptions.Replacing, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _backstop.DisposeAsync().ConfigureAwait(false);
        if (_scheduler is not null)
        {
            await _scheduler.Shutdown(waitForJobsToComplete: true).ConfigureAwait(false);
        }

        Callbacks.TryRemove(_name, out _);
    }

    private static string SchedulerKey(string connectionString, bool postgres)
    {
        if (!postgres)
        {
            return connectionString;
        }

        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        return string.Join('/', builder.Host, builder.Port, builder.Database, builder.SearchPath);
    }

    /// <summary>The Quartz job: evaluates the trigger of the service that owns the scheduler.</summary>
    private sealed class WakeUpJob : IJob
    {
        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
        {
            if (Callbacks.TryGetValue(context.Scheduler.SchedulerName, out var callback))
            {
                await callback(context.ScheduledFireTimeUtc ?? context.FireTimeUtc).ConfigureAwait(false);
            }
        }
    }
}
