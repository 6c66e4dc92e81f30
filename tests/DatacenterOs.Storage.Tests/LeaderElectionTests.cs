using DatacenterOs.Testing;

namespace DatacenterOs.Storage.Tests;

/// <summary>Leader election and write fencing against a real PostgreSQL database, with lease time on a fake clock.</summary>
public sealed class LeaderElectionTests : IAsyncDisposable
{
    private static readonly LeaderElectionOptions Timing = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        RenewInterval = TimeSpan.FromSeconds(1),
        RetryInterval = TimeSpan.FromMilliseconds(500),
    };

    private readonly FakeTimeProvider _clock = new();
    private readonly List<IDisposable> _disposables = [];
    private PostgresTestDatabase? _postgres;

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _disposables)
        {
            d.Dispose();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [PostgresFact]
    public async Task A_live_lease_keeps_others_out_and_an_expired_one_passes_with_a_higher_epoch()
    {
        var (a, b) = await TwoCandidatesAsync();

        Assert.Equal(1, await a.TryAcquireAsync(CancellationToken.None));
        Assert.Null(await b.TryAcquireAsync(CancellationToken.None));
        Assert.Equal("http://m1:5050", b.CurrentLeader?.Address);

        _clock.AdvanceSeconds(2);
        Assert.True(await a.RenewAsync(1, CancellationToken.None));
        _clock.AdvanceSeconds(2.9);
        Assert.Null(await b.TryAcquireAsync(CancellationToken.None)); // renewed 2.9 s ago: still live

        _clock.AdvanceSeconds(0.2);
        Assert.Equal(2, await b.TryAcquireAsync(CancellationToken.None));
        Assert.False(await a.RenewAsync(1, CancellationToken.None));
        Assert.Equal("http://m2:5050", (await a.ReadLeaderAsync(CancellationToken.None))?.Address);
    }

    [PostgresFact]
    public async Task A_deposed_leaders_writes_are_refused_and_the_new_leaders_pass()
    {
        var (a, b) = await TwoCandidatesAsync();
        using var registry = await StoreLocation.Postgres(_postgres!.Url).OpenAsync("master", SchemaMigrations.All);
        var store = new MasterRegistryStore(registry);

        var epochA = (await a.TryAcquireAsync(CancellationToken.None))!.Value;
        registry.Fence = a.Fence(epochA);
        await store.SetWeightAsync("web", 1);

        _clock.AdvanceSeconds(4);
        var epochB = (await b.TryAcquireAsync(CancellationToken.None))!.Value;
        Assert.True(epochB > epochA);

        // A has not noticed yet and still writes: every write is refused, nothing of it lands.
        var refused = await Assert.ThrowsAsync<FencedWriteException>(() => store.SetWeightAsync("web", 7));
        Assert.Contains($"epoch {epochB}", refused.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FencedWriteException>(() => store.UpsertAgentAsync(new AgentRecord("a1", "{}", _clock.GetUtcNow(), null)));

        registry.Fence = b.Fence(epochB);
        await store.SetWeightAsync("web", 3);
        var snapshot = await store.LoadAsync();
        Assert.Equal(3, snapshot.Weights["web"]);
        Assert.Empty(snapshot.Agents);
    }

    [PostgresFact]
    public async Task A_released_lease_is_taken_at_once()
    {
        var (a, b) = await TwoCandidatesAsync();
        Assert.Equal(1, await a.TryAcquireAsync(CancellationToken.None));
        await a.ReleaseAsync(1, CancellationToken.None);
        Assert.Null(await b.ReadLeaderAsync(CancellationToken.None));
        Assert.Equal(2, await b.TryAcquireAsync(CancellationToken.None));
    }

    [PostgresFact]
    public async Task A_leader_whose_database_connection_is_killed_steps_down_and_another_takes_over()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        var storeA = await OpenElectionStoreAsync("dcos-test-a");
        var storeB = await OpenElectionStoreAsync("dcos-test-b");
        await using var a = new LeaderElection(storeA, "a", "http://m1:5050", _clock, Timing);
        await using var b = new LeaderElection(storeB, "b", "http://m2:5050", _clock, Timing);

        a.Start();
        var termA = await a.WaitForLeadershipAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        b.Start();
        await EventuallyAsync(() => b.CurrentLeader?.CandidateId == "a", "b to see a as leader");

        // The database ends every session of a: its next renewal fails and it steps down at once.
        Assert.True(await _postgres.TerminateConnectionsAsync("dcos-test-a") > 0);
        await EventuallyAsync(() => termA.Lost.IsCancellationRequested, "a to step down");
        Assert.StartsWith("database", termA.EndReason, StringComparison.Ordinal);
        Assert.Null(a.Current);

        // a waits a lease before campaigning again; b takes the expired lease with the next epoch.
        var termB = await EventuallyAsync(() => b.Current, "b to lead");
        Assert.Equal(termA.Epoch + 1, termB.Epoch);
        Assert.False(termB.Lost.IsCancellationRequested);
    }

    private async Task<(LeaderElection A, LeaderElection B)> TwoCandidatesAsync()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        var a = new LeaderElection(await OpenElectionStoreAsync("dcos-test-a"), "a", "http://m1:5050", _clock, Timing);
        var b = new LeaderElection(await OpenElectionStoreAsync("dcos-test-b"), "b", "http://m2:5050", _clock, Timing);
        return (a, b);
    }

    private async Task<SqlDatabase> OpenElectionStoreAsync(string applicationName)
    {
        var db = await LeaderElection.OpenStoreAsync(StoreLocation.Postgres(_postgres!.Url, applicationName), _clock);
        _disposables.Add(db);
        return db;
    }

    /// <summary>Advances the fake clock in 100 ms steps (letting the election loops run) until <paramref name="value"/> is non-null/true.</summary>
    private async Task<T> EventuallyAsync<T>(Func<T?> value, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (value() is { } v && (v is not bool b || b))
            {
                return v;
            }

            await Task.Delay(20);
            _clock.Advance(TimeSpan.FromMilliseconds(100));
        }

        throw new TimeoutException("timed out waiting for " + what);
    }
}
