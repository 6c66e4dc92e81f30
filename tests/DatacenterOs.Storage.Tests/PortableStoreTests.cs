using DatacenterOs.Testing;

namespace DatacenterOs.Storage.Tests;

/// <summary>The same registry behaviour and migrations on both engines: a SQLite file and a real PostgreSQL database.</summary>
public sealed class PortableStoreTests : IAsyncDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly TempDatabaseDirectory _dir = new();
    private PostgresTestDatabase? _postgres;

    public async ValueTask DisposeAsync()
    {
        _dir.Dispose();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }

    [PostgresTheory]
    [InlineData(SqlEngine.Sqlite)]
    [InlineData(SqlEngine.Postgres)]
    public async Task The_registry_round_trips_every_record_kind(SqlEngine engine)
    {
        var location = await LocationAsync(engine);
        using (var db = await location.OpenAsync("master", SchemaMigrations.All))
        {
            var store = new MasterRegistryStore(db);
            Assert.Equal("c1", await store.GetOrCreateMasterIdAsync(() => "c1"));
            Assert.Equal("c1", await store.GetOrCreateMasterIdAsync(() => "c2"));
            await store.UpsertFrameworkAsync(new FrameworkRecord("f1", """{"name":"apps"}""", 604800.5, T0, null));
            await store.UpsertFrameworkAsync(new FrameworkRecord("f1", """{"name":"apps2"}""", 10, T0.AddSeconds(1), T0.AddSeconds(2)));
            await store.UpsertAgentAsync(new AgentRecord("a1", """{"hostname":"h"}""", T0, "cpus(web):2"));
            await store.UpsertAgentAsync(new AgentRecord("a2", "{}", T0, null));
            await store.RemoveAgentAsync("a2");
            await store.SetWeightsAsync(new Dictionary<string, double> { ["web"] = 2.5, ["batch"] = 0.5 });
            await store.SetQuotasAsync(new Dictionary<string, string?> { ["web"] = "cpus:4;mem:4096", ["gone"] = "cpus:1" });
            await store.SetQuotaAsync("gone", null);
            Assert.Equal(1, await store.NextSequenceAsync("framework"));
            Assert.Equal(2, await store.NextSequenceAsync("framework"));
            Assert.Equal(1, await store.NextSequenceAsync("agent"));
        }

        using (var reopened = await location.OpenAsync("master", SchemaMigrations.All))
        {
            var snapshot = await new MasterRegistryStore(reopened).LoadAsync();
            Assert.Equal("c1", snapshot.MasterId);
            var framework = Assert.Single(snapshot.Frameworks);
            Assert.Equal(new FrameworkRecord("f1", """{"name":"apps2"}""", 10, T0.AddSeconds(1), T0.AddSeconds(2)), framework);
            var agent = Assert.Single(snapshot.Agents);
            Assert.Equal(new AgentRecord("a1", """{"hostname":"h"}""", T0, "cpus(web):2"), agent);
            Assert.Equal(2.5, snapshot.Weights["web"]);
            Assert.Equal(0.5, snapshot.Weights["batch"]);
            Assert.Equal("cpus:4;mem:4096", Assert.Single(snapshot.Quotas).Value);
            Assert.Equal(3, await new MasterRegistryStore(reopened).NextSequenceAsync("framework"));
            Assert.Equal(SchemaMigrations.LatestVersion, await reopened.GetSchemaVersionAsync());
        }
    }

    [PostgresTheory]
    [InlineData(SqlEngine.Sqlite)]
    [InlineData(SqlEngine.Postgres)]
    public async Task A_database_from_an_older_version_upgrades_in_place_keeping_its_rows(SqlEngine engine)
    {
        var clock = new FakeTimeProvider();
        SqlDatabase OpenAt(int version) => engine == SqlEngine.Sqlite
            ? SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { TimeProvider = clock }, SchemaMigrations.All, version, CancellationToken.None).GetAwaiter().GetResult()
            : PostgresDatabase.OpenAsync(_postgres!.Url, "dcos_master", SchemaMigrations.All, new PostgresDatabaseOptions { TimeProvider = clock }, version, CancellationToken.None).GetAwaiter().GetResult();
        if (engine == SqlEngine.Postgres)
        {
            _postgres = await PostgresTestDatabase.CreateAsync();
        }

        using (var v1 = OpenAt(1))
        {
            Assert.Equal(1, await v1.GetSchemaVersionAsync());
            await new MasterRegistryStore(v1).UpsertAgentAsync(new AgentRecord("a1", "{}", T0, null));
            await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => new MasterRegistryStore(v1).NextSequenceAsync("agent"));
        }

        clock.AdvanceSeconds(60);
        using (var latest = OpenAt(int.MaxValue))
        {
            Assert.Equal(SchemaMigrations.LatestVersion, await latest.GetSchemaVersionAsync());
            var store = new MasterRegistryStore(latest);
            Assert.Equal("a1", Assert.Single((await store.LoadAsync()).Agents).Id);
            Assert.Equal(1, await store.NextSequenceAsync("agent"));
            await store.SetWeightAsync("web", 2);
            var applied = await latest.ReadAsync(async (connection, transaction) =>
            {
                using var command = SqlDatabase.Command(connection, transaction, "SELECT version, applied_at FROM schema_migrations ORDER BY version;");
                var rows = new List<(int, string)>();
                using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    rows.Add((reader.GetInt32(0), reader.GetString(1)));
                }

                return rows;
            }, CancellationToken.None);
            Assert.Equal([1, 2, 3], applied.Select(r => r.Item1));
            Assert.Equal("2026-01-01T00:00:00.0000000Z", applied[0].Item2);
            Assert.Equal("2026-01-01T00:01:00.0000000Z", applied[2].Item2);
        }

        // A build that knows fewer migrations refuses the newer database instead of corrupting it.
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => engine == SqlEngine.Sqlite
            ? SqliteDatabase.OpenAsync(_dir.DatabasePath, null, SchemaMigrations.All.Take(2).ToList(), null, CancellationToken.None)
            : PostgresDatabase.OpenAsync(_postgres!.Url, "dcos_master", SchemaMigrations.All.Take(2).ToList()));
        Assert.Contains("newer than this build", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task Masters_starting_together_apply_each_migration_once()
    {
        _postgres = await PostgresTestDatabase.CreateAsync();
        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresDatabase.OpenAsync(_postgres.Url, "dcos_master", SchemaMigrations.All)));
        try
        {
            var count = await opened[0].ReadAsync(async (connection, transaction) =>
            {
                using var command = SqlDatabase.Command(connection, transaction, "SELECT COUNT(*) FROM schema_migrations;");
                return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
            }, CancellationToken.None);
            Assert.Equal(SchemaMigrations.All.Count, count);
        }
        finally
        {
            foreach (var db in opened)
            {
                db.Dispose();
            }
        }
    }

    [Fact]
    public void Store_locations_parse_sqlite_and_both_postgres_forms()
    {
        Assert.Equal(SqlEngine.Sqlite, StoreLocation.Parse(null, "/tmp/x").Engine);
        Assert.Equal(SqlEngine.Sqlite, StoreLocation.Parse("sqlite", "/tmp/x").Engine);
        var url = PostgresConnection.Parse("postgres://u%40x:p%3Aw@db.example:6543/dcos?sslmode=require");
        Assert.Equal(("db.example", 6543, "dcos", "u@x", "p:w"), (url.Host, url.Port, url.Database, url.Username, url.Password));
        Assert.Equal(Npgsql.SslMode.Require, url.SslMode);
        Assert.Equal(5432, PostgresConnection.Parse("postgresql://u@h/d").Port);
        var npgsql = PostgresConnection.Parse("Host=h;Username=u;Password=p;Database=d");
        Assert.Equal(("h", "d"), (npgsql.Host, npgsql.Database));
        Assert.Equal(SqlEngine.Postgres, StoreLocation.Parse("Host=h;Database=d", "/tmp/x").Engine);
        Assert.Equal("postgres://u:***@h:5432/d", StoreLocation.Parse("postgres://u:secret@h:5432/d", "/tmp/x").ToString());
        Assert.Contains("database", Assert.Throws<ArgumentException>(() => PostgresConnection.Parse("postgres://u:p@h")).Message, StringComparison.Ordinal);
        Assert.Contains("neither", Assert.Throws<ArgumentException>(() => StoreLocation.Parse("mysql://h/d", "/tmp/x")).Message, StringComparison.Ordinal);
    }

    private async Task<StoreLocation> LocationAsync(SqlEngine engine)
    {
        if (engine == SqlEngine.Sqlite)
        {
            return StoreLocation.Sqlite(Path.GetDirectoryName(_dir.DatabasePath)!);
        }

        _postgres = await PostgresTestDatabase.CreateAsync();
        return StoreLocation.Postgres(_postgres.Url);
    }
}
