using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Storage;

/// <summary>
/// Leader election of the masters of a cluster in PostgreSQL: one lease row (<c>dcos_election.leader_lease</c>) holding
/// the leader's candidate id, its advertised URL, a monotonically increasing <b>epoch</b>, the instant the term began
/// (<c>acquired_at</c>) and the instant the lease expires. A candidate takes the lease when it is free or expired (epoch + 1); the leader renews it every
/// <see cref="LeaderElectionOptions.RenewInterval"/>; a renewal that fails, finds another holder, or does not finish
/// before the lease runs out (measured on this process's clock from the start of the last good renewal) makes the
/// leader step down at once (<see cref="Leadership.Lost"/> is cancelled). <see cref="Fence"/> makes every write of
/// every store refuse to commit unless the lease still carries this leader's epoch (checked <c>FOR SHARE</c> inside
/// the write's transaction, so a takeover waits for in-flight writes and no write of a deposed leader commits after
/// it).
/// </summary>
/// <remarks>
/// Lease instants come from the injected <see cref="TimeProvider"/> of each master, so masters' clocks must agree
/// to well within <see cref="LeaderElectionOptions.LeaseDuration"/> (NTP); a skewed clock can only shorten or lengthen a
/// lease, never let two leaders write (the epoch fence decides). Design after the lease + fencing-token scheme of
/// Kleppmann, "How to do distributed locking" (2016), and Mesos's master contender/detector split.
/// </remarks>
public sealed partial class LeaderElection : IAsyncDisposable
{
    /// <summary>Schema of the election store (<c>dcos_election</c> on PostgreSQL).</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "leader lease", """
            CREATE TABLE leader_lease (
                id         INTEGER PRIMARY KEY,
                holder     TEXT NOT NULL,
                address    TEXT NOT NULL,
                epoch      BIGINT NOT NULL,
                expires_at TEXT NOT NULL
            );
            """),
        new(2, "when the current term began", """
            ALTER TABLE leader_lease ADD COLUMN acquired_at TEXT NULL;
            """),
    ];

    // The fence runs in other stores' transactions (other search_path): the table is schema-qualified there.
    private const string LeaseTable = "dcos_election.leader_lease";

    private readonly SqlDatabase _database;
    private readonly TimeProvider _time;
    private readonly LeaderElectionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private TaskCompletionSource<Leadership> _elected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile LeaderInfo? _leader;

    /// <summary>Creates an election for this candidate over the <c>election</c> store (open it with <see cref="OpenStoreAsync"/>).</summary>
    /// <param name="database">The PostgreSQL election store, migrated with <see cref="Migrations"/>.</param>
    /// <param name="candidateId">Unique per process start (e.g. host:port plus a random suffix).</param>
    /// <param name="address">URL other masters redirect to while this one leads, e.g. <c>http://10.0.0.1:5050</c>.</param>
    /// <param name="timeProvider">Clock for lease instants, renewals and retries.</param>
    /// <param name="options">Timings; null for the defaults.</param>
    /// <param name="logger">Logger.</param>
    /// <exception cref="ArgumentException">An id or address is empty, or the timings are inconsistent.</exception>
    public LeaderElection(SqlDatabase database, string candidateId, string address, TimeProvider timeProvider, LeaderElectionOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(database);
        ArgumentException.ThrowIfNullOrEmpty(candidateId);
        ArgumentException.ThrowIfNullOrEmpty(address);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _options = options ?? new LeaderElectionOptions();
        if (_options.RenewInterval <= TimeSpan.Zero || _options.RetryInterval <= TimeSpan.Zero || _options.LeaseDuration <= _options.RenewInterval)
        {
            throw new ArgumentException("Lease duration must exceed the renew interval, and both intervals must be positive.", nameof(options));
        }

        _database = database;
        CandidateId = candidateId;
        Address = address;
        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>This candidate's id.</summary>
    public string CandidateId { get; }

    /// <summary>This candidate's advertised URL.</summary>
    public string Address { get; }

    /// <summary>The leader as last seen (this process's own lease included), or null when none is known.</summary>
    public LeaderInfo? CurrentLeader => _leader;

    /// <summary>The current leadership of this process, or null while it does not lead.</summary>
    public Leadership? Current { get; private set; }

    /// <summary>Opens (creating and migrating) the election store at <paramref name="location"/>.</summary>
    /// <exception cref="ArgumentException">The location is not PostgreSQL (SQLite runs one master, without election).</exception>
    public static Task<SqlDatabase> OpenStoreAsync(StoreLocation location, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        if (location.Engine != SqlEngine.Postgres)
        {
            throw new ArgumentException("Leader election needs a PostgreSQL store.", nameof(location));
        }

        return location.OpenAsync("election", Migrations, timeProvider, cancellationToken);
    }

    /// <summary>Starts campaigning in the background.</summary>
    public void Start()
    {
        lock (_lock)
        {
            _loop ??= Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>Completes when this process becomes leader (again: each call waits for the next term after a loss).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The new leadership; its <see cref="Leadership.Lost"/> token is cancelled when it ends.</returns>
    public Task<Leadership> WaitForLeadershipAsync(CancellationToken cancellationToken)
    {
        Task<Leadership> task;
        lock (_lock)
        {
            task = Current is { Lost.IsCancellationRequested: false } current ? Task.FromResult(current) : _elected.Task;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// One campaign step: takes the lease if it is free, expired or already ours-but-of-an-ended-term (epoch + 1).
    /// </summary>
    /// <param name="cancellationToken">Cancels the step.</param>
    /// <returns>The epoch won, or null when another candidate holds a live lease (<see cref="CurrentLeader"/> names it).</returns>
    /// <exception cref="DbException">PostgreSQL failed.</exception>
    public async Task<long?> TryAcquireAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        return await _database.WriteAsync(async (connection, transaction) =>
        {
            LeaderInfo? current = null;
            using (var read = SqlDatabase.Command(connection, transaction, "SELECT holder, address, epoch, expires_at FROM leader_lease WHERE id = 1 FOR UPDATE;"))
            {
                var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        current = new LeaderInfo(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), ParseExpiry(reader.GetString(3)));
                    }
                }
            }

            if (current is not null && current.ExpiresAt > now && current.CandidateId != CandidateId)
            {
                _leader = current;
                return (long?)null;
            }

            var epoch = (current?.Epoch ?? 0) + 1;
            var expires = now + _options.LeaseDuration;
            using var write = SqlDatabase.Command(connection, transaction, """
                INSERT INTO leader_lease (id, holder, address, epoch, expires_at, acquired_at) VALUES (1, @holder, @address, @epoch, @expires, @acquired)
                ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, address = excluded.address, epoch = excluded.epoch,
                    expires_at = excluded.expires_at, acquired_at = excluded.acquired_at;
                """, ("@holder", CandidateId), ("@address", Address), ("@epoch", epoch), ("@expires", StorageTime.ToText(expires)), ("@acquired", StorageTime.ToText(now)));
            await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _leader = new LeaderInfo(CandidateId, Address, epoch, expires);
            return epoch;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Extends the lease of <paramref name="epoch"/> by a lease duration from now.</summary>
    /// <returns>True when the lease still carried this candidate and epoch (and was extended).</returns>
    /// <exception cref="DbException">PostgreSQL failed.</exception>
    public async Task<bool> RenewAsync(long epoch, CancellationToken cancellationToken)
    {
        var expires = _time.GetUtcNow() + _options.LeaseDuration;
        var renewed = await _database.WriteAsync(async (connection, transaction) =>
        {
            using var command = SqlDatabase.Command(connection, transaction,
                "UPDATE leader_lease SET expires_at = @expires WHERE id = 1 AND holder = @holder AND epoch = @epoch;",
                ("@expires", StorageTime.ToText(expires)), ("@holder", CandidateId), ("@epoch", epoch));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken).ConfigureAwait(false);
        if (renewed)
        {
            _leader = new LeaderInfo(CandidateId, Address, epoch, expires);
        }

        return renewed;
    }

    /// <summary>Ends the lease of <paramref name="epoch"/> now (best effort), so another candidate takes over without waiting for expiry.</summary>
    /// <exception cref="DbException">PostgreSQL failed.</exception>
    public Task ReleaseAsync(long epoch, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) =>
        {
            // The empty string sorts before every instant: expired for every reader.
            using var command = SqlDatabase.Command(connection, transaction,
                "UPDATE leader_lease SET expires_at = '' WHERE id = 1 AND holder = @holder AND epoch = @epoch;",
                ("@holder", CandidateId), ("@epoch", epoch));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Reads the lease: the leader while its lease is live, else null.</summary>
    /// <exception cref="DbException">PostgreSQL failed.</exception>
    public async Task<LeaderInfo?> ReadLeaderAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var lease = await _database.ReadAsync(async (connection, transaction) =>
        {
            using var read = SqlDatabase.Command(connection, transaction, "SELECT holder, address, epoch, expires_at FROM leader_lease WHERE id = 1;");
            var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                    ? new LeaderInfo(reader.GetString(0), reader.GetString(1), reader.GetInt64(2), ParseExpiry(reader.GetString(3)))
                    : null;
            }
        }, cancellationToken).ConfigureAwait(false);
        _leader = lease is not null && lease.ExpiresAt > now ? lease : null;
        return _leader;
    }

    /// <summary>
    /// The fence of <paramref name="epoch"/>: set it as <see cref="SqlDatabase.Fence"/> of every store this leader writes,
    /// and each write commits only while the lease row carries this candidate and epoch.
    /// </summary>
    public IWriteFence Fence(long epoch) => new EpochFence(CandidateId, epoch);

    /// <summary>Stops campaigning; a leader releases its lease so another master takes over at once.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (Current is { } current)
        {
            StepDown(current, "stopping");
            await TryReleaseAsync(current.Epoch).ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var epoch = await TryAcquireAsync(stop).ConfigureAwait(false);
                if (epoch is { } won)
                {
                    await LeadAsync(won, stop).ConfigureAwait(false);
                    if (stop.IsCancellationRequested)
                    {
                        return;
                    }

                    // Stepped down: hand the lease over if the database still answers (a fresh connection), and give
                    // the others two lease durations to take over before campaigning again.
                    await TryReleaseAsync(won).ConfigureAwait(false);
                    await Task.Delay(_options.LeaseDuration * 2, _time, stop).ConfigureAwait(false);
                    continue;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or IOException)
            {
                _leader = null;
                LogCampaignFailed(e.Message);
            }

            try
            {
                await Task.Delay(_options.RetryInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task TryReleaseAsync(long epoch)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.LeaseDuration, _time);
            await ReleaseAsync(epoch, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DbException or OperationCanceledException or InvalidOperationException or TimeoutException or IOException)
        {
            LogReleaseFailed(e.Message);
        }
    }

    private async Task LeadAsync(long epoch, CancellationToken stop)
    {
        var leadership = new Leadership(epoch, Fence(epoch));
        var renewedAt = _time.GetUtcNow();
        lock (_lock)
        {
            Current = leadership;
            _elected.TrySetResult(leadership);
            _elected = new TaskCompletionSource<Leadership>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        LogElected(CandidateId, epoch);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.RenewInterval, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return; // DisposeAsync steps down and releases.
            }

            // The renewal must finish before the lease (as of the last good renewal's start) runs out.
            var attemptAt = _time.GetUtcNow();
            var left = renewedAt + _options.LeaseDuration - attemptAt;
            string? failure = null;
            if (left <= TimeSpan.Zero)
            {
                failure = "lease ran out before it could be renewed";
            }
            else
            {
                using var deadline = new CancellationTokenSource(left, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, deadline.Token);
                try
                {
                    if (await RenewAsync(epoch, linked.Token).ConfigureAwait(false))
                    {
                        renewedAt = attemptAt;
                        continue;
                    }

                    failure = "another master holds the lease";
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e) when (e is DbException or InvalidOperationException or TimeoutException or IOException or OperationCanceledException)
                {
                    failure = e is OperationCanceledException ? "renewal did not finish before the lease ran out" : "database: " + e.Message;
                }
            }

            StepDown(leadership, failure);
            return;
        }
    }

    private void StepDown(Leadership leadership, string reason)
    {
        lock (_lock)
        {
            if (ReferenceEquals(Current, leadership))
            {
                Current = null;
            }
        }

        if (_leader?.CandidateId == CandidateId)
        {
            _leader = null;
        }

        leadership.End(reason);
        LogSteppedDown(CandidateId, leadership.Epoch, reason);
    }

    private static DateTimeOffset ParseExpiry(string text) =>
        text.Length == 0 ? DateTimeOffset.MinValue : StorageTime.FromText(text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "elected leader: {CandidateId}, epoch {Epoch}")]
    private partial void LogElected(string candidateId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "stepped down: {CandidateId}, epoch {Epoch}: {Reason}")]
    private partial void LogSteppedDown(string candidateId, long epoch, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election: cannot reach the database: {Message}")]
    private partial void LogCampaignFailed(string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leader election: could not release the lease: {Message}")]
    private partial void LogReleaseFailed(string message);

    private sealed class EpochFence(string candidateId, long epoch) : IWriteFence
    {
        public async Task CheckAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
        {
            using var command = SqlDatabase.Command(connection, transaction, $"SELECT holder, epoch FROM {LeaseTable} WHERE id = 1 FOR SHARE;");
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    throw new FencedWriteException($"write refused: no leader lease (this master had epoch {epoch.ToString(CultureInfo.InvariantCulture)})");
                }

                var holder = reader.GetString(0);
                var current = reader.GetInt64(1);
                if (holder != candidateId || current != epoch)
                {
                    throw new FencedWriteException(string.Create(CultureInfo.InvariantCulture,
                        $"write refused: this master led in epoch {epoch}, the lease is now epoch {current} of {holder}"));
                }
            }
        }
    }
}

/// <summary>Timings of a <see cref="LeaderElection"/>.</summary>
public sealed record LeaderElectionOptions
{
    /// <summary>How long a lease lasts without renewal (default 3 s): the longest a dead leader blocks a takeover.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How often the leader renews (default 1 s); less than <see cref="LeaseDuration"/>.</summary>
    public TimeSpan RenewInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a candidate tries to take the lease (default 0.5 s).</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>The lease as read from the database.</summary>
/// <param name="CandidateId">The holder.</param>
/// <param name="Address">The holder's advertised URL.</param>
/// <param name="Epoch">The term; increases with every takeover.</param>
/// <param name="ExpiresAt">When the lease runs out unless renewed (UTC).</param>
public sealed record LeaderInfo(string CandidateId, string Address, long Epoch, DateTimeOffset ExpiresAt);

/// <summary>One term of this process as leader.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A CancellationTokenSource without a timer holds nothing to release; its token outlives the term by design.")]
public sealed class Leadership
{
    private readonly CancellationTokenSource _lost = new();

    internal Leadership(long epoch, IWriteFence fence)
    {
        Epoch = epoch;
        Fence = fence;
    }

    /// <summary>The term's epoch.</summary>
    public long Epoch { get; }

    /// <summary>The write fence of this term (set it on every store the leader writes).</summary>
    public IWriteFence Fence { get; }

    /// <summary>Cancelled the moment the term ends (renewal failed, lease taken, or the election stopped).</summary>
    public CancellationToken Lost => _lost.Token;

    /// <summary>Why the term ended, once it has.</summary>
    public string? EndReason { get; private set; }

    internal void End(string reason)
    {
        EndReason ??= reason;
        _lost.Cancel();
    }
}
