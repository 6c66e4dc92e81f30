using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage.Tests;

public sealed class MasterRegistryStoreTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDatabaseDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task An_empty_registry_loads_empty()
    {
        var snapshot = await WithStoreAsync(store => store.LoadAsync());

        Assert.Null(snapshot.MasterId);
        Assert.Empty(snapshot.Frameworks);
        Assert.Empty(snapshot.Agents);
        Assert.Empty(snapshot.Weights);
        Assert.Empty(snapshot.Quotas);
    }

    [Fact]
    public async Task The_master_id_is_created_once_and_survives_reopen()
    {
        var calls = 0;
        var first = await WithStoreAsync(store => store.GetOrCreateMasterIdAsync(() => $"cluster-{++calls}"));
        var second = await WithStoreAsync(store => store.GetOrCreateMasterIdAsync(() => $"cluster-{++calls}"));

        Assert.Equal("cluster-1", first);
        Assert.Equal("cluster-1", second);
        Assert.Equal(1, calls);
        Assert.Equal("cluster-1", (await WithStoreAsync(store => store.LoadAsync())).MasterId);
    }

    [Fact]
    public async Task A_failing_or_empty_master_id_generator_stores_nothing()
    {
        await WithStoreAsync(async store =>
        {
            await Assert.ThrowsAsync<InvalidOperationException>(() => store.GetOrCreateMasterIdAsync(() => throw new InvalidOperationException("boom")));
            await Assert.ThrowsAsync<ArgumentException>(() => store.GetOrCreateMasterIdAsync(() => ""));
            Assert.Null((await store.LoadAsync()).MasterId);
            Assert.Equal("m", await store.GetOrCreateMasterIdAsync(() => "m"));
        });
    }

    [Fact]
    public async Task Frameworks_round_trip_through_reopen()
    {
        // Sub-millisecond ticks and a non-UTC offset: stored as UTC ISO 8601 with 100 ns precision.
        var registered = new DateTimeOffset(2026, 5, 6, 9, 8, 7, TimeSpan.FromHours(2)).AddTicks(1234567);
        var a = new FrameworkRecord("fw-a", """{"name":"a","roles":["web"]}""", 604800.5, registered, null);
        var b = new FrameworkRecord("fw-b", """{"name":"b"}""", 0, T0, null);
        var c = new FrameworkRecord("fw-c", """{"name":"c"}""", 10, T0, null);

        await WithStoreAsync(async store =>
        {
            await store.UpsertFrameworkAsync(b);
            await store.UpsertFrameworkAsync(a);
            await store.UpsertFrameworkAsync(c);
        });
        var updatedB = b with { InfoJson = """{"name":"b2"}""", FailoverTimeoutSeconds = 30, DisconnectedAt = T0.AddMinutes(5) };
        await WithStoreAsync(async store =>
        {
            await store.UpsertFrameworkAsync(updatedB);
            await store.RemoveFrameworkAsync("fw-c");
            await store.RemoveFrameworkAsync("fw-unknown");
        });

        var snapshot = await WithStoreAsync(store => store.LoadAsync());
        Assert.Equal([a, updatedB], snapshot.Frameworks);
        Assert.Equal(TimeSpan.Zero, snapshot.Frameworks[0].RegisteredAt.Offset);
        Assert.Equal(registered.UtcTicks, snapshot.Frameworks[0].RegisteredAt.UtcTicks);

        await WithStoreAsync(store => store.UpsertFrameworkAsync(updatedB with { DisconnectedAt = null }));
        Assert.Null((await WithStoreAsync(store => store.LoadAsync())).Frameworks[1].DisconnectedAt);
    }

    [Fact]
    public async Task Agents_round_trip_through_reopen()
    {
        var a = new AgentRecord("agent-a", """{"hostname":"a"}""", T0, null);
        var b = new AgentRecord("agent-b", """{"hostname":"b"}""", T0.AddSeconds(1), "cpus(web):2;mem(web):512");
        var c = new AgentRecord("agent-c", """{"hostname":"c"}""", T0.AddSeconds(2), null);

        await WithStoreAsync(async store =>
        {
            await store.UpsertAgentAsync(c);
            await store.UpsertAgentAsync(b);
            await store.UpsertAgentAsync(a);
        });
        var updatedA = a with { DynamicReservations = "disk(db):1024" };
        var updatedB = b with { DynamicReservations = null, InfoJson = """{"hostname":"b2"}""" };
        await WithStoreAsync(async store =>
        {
            await store.UpsertAgentAsync(updatedA);
            await store.UpsertAgentAsync(updatedB);
            await store.RemoveAgentAsync("agent-c");
        });

        Assert.Equal([updatedA, updatedB], (await WithStoreAsync(store => store.LoadAsync())).Agents);
    }

    [Fact]
    public async Task Weights_round_trip_through_reopen()
    {
        await WithStoreAsync(async store =>
        {
            await store.SetWeightAsync("web", 2.5);
            await store.SetWeightsAsync(new Dictionary<string, double> { ["batch"] = 0.25, ["web/eng"] = 3, ["*"] = 1 });
            await store.SetWeightAsync("web", 4);
            await store.SetWeightsAsync(new Dictionary<string, double>());
        });

        var weights = (await WithStoreAsync(store => store.LoadAsync())).Weights;
        Assert.Equal(new Dictionary<string, double> { ["web"] = 4, ["batch"] = 0.25, ["web/eng"] = 3, ["*"] = 1 }, weights);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public async Task Invalid_weights_are_rejected_and_nothing_is_written(double bad)
    {
        await WithStoreAsync(store => store.SetWeightsAsync(new Dictionary<string, double> { ["web"] = 2, ["batch"] = 3 }));

        await WithStoreAsync(async store =>
        {
            var single = await Assert.ThrowsAsync<ArgumentException>(() => store.SetWeightAsync("web", bad));
            Assert.Contains("'web'", single.Message);

            var batch = await Assert.ThrowsAsync<ArgumentException>(() => store.SetWeightsAsync(
                new Dictionary<string, double> { ["web"] = 10, ["analytics"] = bad, ["batch"] = 20, ["new"] = 5 }));
            Assert.Contains("'analytics'", batch.Message);
            Assert.Equal("weights", batch.ParamName);
        });

        var weights = (await WithStoreAsync(store => store.LoadAsync())).Weights;
        Assert.Equal(new Dictionary<string, double> { ["web"] = 2, ["batch"] = 3 }, weights);
    }

    [Fact]
    public async Task Empty_roles_are_rejected()
    {
        await WithStoreAsync(async store =>
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.SetWeightAsync("", 1));
            await Assert.ThrowsAsync<ArgumentException>(() => store.SetQuotasAsync(new Dictionary<string, string?> { ["web"] = "cpus:1", [""] = "cpus:2" }));
            var snapshot = await store.LoadAsync();
            Assert.Empty(snapshot.Weights);
            Assert.Empty(snapshot.Quotas);
        });
    }

    [Fact]
    public async Task Quotas_round_trip_through_reopen_and_null_removes()
    {
        await WithStoreAsync(async store =>
        {
            await store.SetQuotaAsync("web", "cpus:4;mem:4096");
            await store.SetQuotasAsync(new Dictionary<string, string?> { ["batch"] = "cpus:8", ["db"] = "disk:1000", ["gone"] = null });
        });
        await WithStoreAsync(async store =>
        {
            await store.SetQuotaAsync("db", null);
            await store.SetQuotasAsync(new Dictionary<string, string?> { ["web"] = "cpus:2;mem:2048", ["batch"] = null, ["new"] = "gpus:1" });
        });

        var quotas = (await WithStoreAsync(store => store.LoadAsync())).Quotas;
        Assert.Equal(new Dictionary<string, string> { ["web"] = "cpus:2;mem:2048", ["new"] = "gpus:1" }, quotas);
    }

    [Fact]
    public async Task Sequences_are_monotonic_per_name_across_reopen()
    {
        var first = await WithStoreAsync(async store =>
            new[] { await store.NextSequenceAsync("framework"), await store.NextSequenceAsync("framework"), await store.NextSequenceAsync("framework") });
        Assert.Equal(new long[] { 1, 2, 3 }, first);
        Assert.Equal(1L, await WithStoreAsync(store => store.NextSequenceAsync("agent")));
        var second = await WithStoreAsync(async store =>
            new[] { await store.NextSequenceAsync("framework"), await store.NextSequenceAsync("framework") });
        Assert.Equal(new long[] { 4, 5 }, second);
        Assert.Equal(2L, await WithStoreAsync(store => store.NextSequenceAsync("agent")));
    }

    [Fact]
    public async Task Invalid_records_are_rejected()
    {
        await WithStoreAsync(async store =>
        {
            await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertFrameworkAsync(new FrameworkRecord("", "{}", 0, T0, null)));
            await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertFrameworkAsync(new FrameworkRecord("fw", "{}", -1, T0, null)));
            await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertFrameworkAsync(new FrameworkRecord("fw", "{}", double.NaN, T0, null)));
            await Assert.ThrowsAsync<ArgumentException>(() => store.UpsertAgentAsync(new AgentRecord("", "{}", T0, null)));
            await Assert.ThrowsAsync<ArgumentException>(() => store.NextSequenceAsync(""));
            var snapshot = await store.LoadAsync();
            Assert.Empty(snapshot.Frameworks);
            Assert.Empty(snapshot.Agents);
        });
    }

    [Fact]
    public async Task A_cancelled_write_writes_nothing()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await WithStoreAsync(async store =>
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.UpsertAgentAsync(new AgentRecord("a", "{}", T0, null), cts.Token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SetWeightAsync("web", 2, cts.Token));
            var snapshot = await store.LoadAsync();
            Assert.Empty(snapshot.Agents);
            Assert.Empty(snapshot.Weights);
        });
    }

    [Fact]
    public async Task Concurrent_writes_from_two_stores_on_one_file_do_not_corrupt_it()
    {
        using var db1 = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        using var db2 = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        var stores = new[] { new MasterRegistryStore(db1), new MasterRegistryStore(db2) };
        const int PerWorker = 50;

        var sequenceTasks = new List<Task<long>>();
        var writeTasks = new List<Task>();
        for (var worker = 0; worker < 4; worker++)
        {
            var store = stores[worker % 2];
            var w = worker;
            writeTasks.Add(Task.Run(async () =>
            {
                for (var i = 0; i < PerWorker; i++)
                {
                    await store.UpsertFrameworkAsync(new FrameworkRecord($"fw-{w}-{i}", "{}", i, T0.AddSeconds(i), null));
                    await store.SetWeightsAsync(new Dictionary<string, double> { [$"role-{w}"] = i + 1, ["shared"] = w + 1 });
                }
            }));
            sequenceTasks.Add(Task.Run(async () =>
            {
                var values = new List<long>();
                for (var i = 0; i < PerWorker; i++)
                {
                    values.Add(await store.NextSequenceAsync("framework"));
                }

                Assert.Equal(values.Order(), values);
                return values[^1];
            }));
        }

        await Task.WhenAll(writeTasks);
        await Task.WhenAll(sequenceTasks);

        var snapshot = await stores[1].LoadAsync();
        Assert.Equal(4 * PerWorker, snapshot.Frameworks.Count);
        Assert.Equal(5, snapshot.Weights.Count);
        Assert.Equal(Enumerable.Range(0, 4).Select(w => (double)PerWorker), Enumerable.Range(0, 4).Select(w => snapshot.Weights[$"role-{w}"]));
        Assert.Equal(4 * PerWorker + 1, await stores[0].NextSequenceAsync("framework"));

        await using var connection = await db1.OpenConnectionAsync(CancellationToken.None);
        Assert.Equal("ok", await SqliteDatabaseTests.ScalarAsync(connection, "PRAGMA integrity_check;"));
    }

    [Fact]
    public async Task A_write_waits_for_another_connections_lock_within_the_busy_timeout()
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { BusyTimeout = TimeSpan.FromSeconds(10) });
        var store = new MasterRegistryStore(db);

        // A separate, unpooled connection (as another process would) holds the write lock for a while.
        await using var other = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db.FilePath, Pooling = false }.ToString());
        await other.OpenAsync();
        await using var lockHolder = other.BeginTransaction(deferred: false);
        await using (var insert = other.CreateCommand())
        {
            insert.Transaction = lockHolder;
            insert.CommandText = "INSERT INTO sequences (name, value) VALUES ('held', 41);";
            await insert.ExecuteNonQueryAsync();
        }

        var write = Task.Run(() => store.NextSequenceAsync("held"));
        await Task.Delay(300);
        Assert.False(write.IsCompleted);
        await lockHolder.CommitAsync();

        Assert.Equal(42, await write.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    private async Task<T> WithStoreAsync<T>(Func<MasterRegistryStore, Task<T>> action)
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        return await action(new MasterRegistryStore(db));
    }

    private async Task WithStoreAsync(Func<MasterRegistryStore, Task> action)
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        await action(new MasterRegistryStore(db));
    }
}
