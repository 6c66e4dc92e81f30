using System.Text.RegularExpressions;
using DatacenterOs.Testing;
using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage.Tests;

public sealed class SqliteDatabaseTests : IDisposable
{
    private readonly TempDatabaseDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Open_creates_the_directory_and_applies_every_migration_once()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { TimeProvider = clock });

        Assert.True(File.Exists(_dir.DatabasePath));
        Assert.Equal(Path.GetFullPath(_dir.DatabasePath), db.FilePath);
        Assert.Equal(SchemaMigrations.LatestVersion, await db.GetSchemaVersionAsync());
        var rows = await ReadMigrationRowsAsync(db);
        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), rows.Select(r => r.Version));
        Assert.All(rows, r => Assert.Equal("2026-03-04T05:06:07.0000000Z", r.AppliedAt));
        foreach (var table in new[] { "master_info", "frameworks", "agents", "role_weights", "role_quotas", "sequences" })
        {
            Assert.True(await TableExistsAsync(db, table), table);
        }
    }

    [Fact]
    public async Task Reopening_is_a_no_op()
    {
        var first = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        List<(int Version, string AppliedAt)> before;
        using (var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { TimeProvider = first }))
        {
            before = await ReadMigrationRowsAsync(db);
        }

        var later = new FakeTimeProvider(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero));
        using (var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { TimeProvider = later }))
        using (var again = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { TimeProvider = later }))
        {
            Assert.Equal(before, await ReadMigrationRowsAsync(db));
            Assert.Equal(before, await ReadMigrationRowsAsync(again));
        }
    }

    [Fact]
    public async Task Connections_use_wal_foreign_keys_and_the_busy_timeout()
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { BusyTimeout = TimeSpan.FromMilliseconds(2500) });
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);

        Assert.Equal("wal", await ScalarAsync(connection, "PRAGMA journal_mode;"));
        Assert.Equal(1L, await ScalarAsync(connection, "PRAGMA foreign_keys;"));
        Assert.Equal(2500L, await ScalarAsync(connection, "PRAGMA busy_timeout;"));
    }

    [Fact]
    public async Task An_older_database_upgrades_in_place_keeping_its_data()
    {
        var registered = new DateTimeOffset(2026, 2, 1, 10, 0, 0, TimeSpan.Zero);
        using (var v1 = await SqliteDatabase.OpenAsync(_dir.DatabasePath, null, SchemaMigrations.All, targetVersion: 1, CancellationToken.None))
        {
            Assert.Equal(1, await v1.GetSchemaVersionAsync());
            Assert.False(await TableExistsAsync(v1, "role_weights"));
            Assert.False(await TableExistsAsync(v1, "sequences"));

            // Version 1 already has these tables, so the store can write them.
            var oldStore = new MasterRegistryStore(v1);
            Assert.Equal("cluster-1", await oldStore.GetOrCreateMasterIdAsync(() => "cluster-1"));
            await oldStore.UpsertFrameworkAsync(new FrameworkRecord("fw-1", """{"name":"old"}""", 60, registered, null));
            await oldStore.UpsertAgentAsync(new AgentRecord("agent-1", """{"hostname":"h1"}""", registered, "cpus(web):1"));
        }

        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        Assert.Equal(SchemaMigrations.LatestVersion, await db.GetSchemaVersionAsync());
        Assert.Equal(SchemaMigrations.All.Select(m => m.Version), (await ReadMigrationRowsAsync(db)).Select(r => r.Version));

        var store = new MasterRegistryStore(db);
        await store.SetWeightAsync("web", 2);
        Assert.Equal(1, await store.NextSequenceAsync("framework"));
        var snapshot = await store.LoadAsync();
        Assert.Equal("cluster-1", snapshot.MasterId);
        Assert.Equal([new FrameworkRecord("fw-1", """{"name":"old"}""", 60, registered, null)], snapshot.Frameworks);
        Assert.Equal([new AgentRecord("agent-1", """{"hostname":"h1"}""", registered, "cpus(web):1")], snapshot.Agents);
        Assert.Equal(2, snapshot.Weights["web"]);
    }

    [Fact]
    public async Task A_failing_migration_rolls_back_and_leaves_the_previous_version()
    {
        var good = new Migration(1, "one", "CREATE TABLE one (id TEXT PRIMARY KEY);");
        var bad = new Migration(2, "two", "CREATE TABLE two (id TEXT PRIMARY KEY); INSERT INTO missing_table (x) VALUES (1);");

        await Assert.ThrowsAsync<SqliteException>(() =>
            SqliteDatabase.OpenAsync(_dir.DatabasePath, null, [good, bad], null, CancellationToken.None));

        using (var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, null, [good], null, CancellationToken.None))
        {
            Assert.Equal(1, await db.GetSchemaVersionAsync());
            Assert.True(await TableExistsAsync(db, "one"));
            Assert.False(await TableExistsAsync(db, "two"));
        }

        var fixedTwo = bad with { Sql = "CREATE TABLE two (id TEXT PRIMARY KEY);" };
        using (var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath, null, [good, fixedTwo], null, CancellationToken.None))
        {
            Assert.Equal(2, await db.GetSchemaVersionAsync());
            Assert.True(await TableExistsAsync(db, "two"));
        }
    }

    [Fact]
    public async Task A_database_newer_than_the_build_is_refused()
    {
        using (await SqliteDatabase.OpenAsync(_dir.DatabasePath))
        {
        }

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SqliteDatabase.OpenAsync(_dir.DatabasePath, null, SchemaMigrations.All.Take(1).ToList(), null, CancellationToken.None));
        Assert.Contains($"schema version {SchemaMigrations.LatestVersion}", ex.Message);
    }

    [Fact]
    public async Task Migration_lists_must_be_strictly_increasing()
    {
        var m1 = new Migration(1, "one", "CREATE TABLE one (id TEXT PRIMARY KEY);");
        await Assert.ThrowsAsync<ArgumentException>(() =>
            SqliteDatabase.OpenAsync(_dir.DatabasePath, null, [m1, m1 with { Name = "dup" }], null, CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            SqliteDatabase.OpenAsync(_dir.DatabasePath, null, [m1 with { Version = 0 }], null, CancellationToken.None));
        Assert.False(File.Exists(_dir.DatabasePath));
    }

    [Fact]
    public async Task Invalid_busy_timeout_is_rejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() =>
            SqliteDatabase.OpenAsync(_dir.DatabasePath, new SqliteDatabaseOptions { BusyTimeout = TimeSpan.Zero }));
    }

    [Fact]
    public void The_schema_is_numbered_1_to_n()
    {
        Assert.Equal(Enumerable.Range(1, SchemaMigrations.All.Count), SchemaMigrations.All.Select(m => m.Version));
        Assert.Equal(SchemaMigrations.All.Count, SchemaMigrations.LatestVersion);
        Assert.All(SchemaMigrations.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Name)));
    }

    [Fact]
    public void The_schema_DDL_stays_portable_to_PostgreSQL()
    {
        string[] sqliteOnly = ["AUTOINCREMENT", "WITHOUT ROWID", "STRICT", "PRAGMA", "INSERT OR", "REPLACE INTO", "DATETIME(", "BLOB"];
        // REAL is single precision in PostgreSQL: doubles must be DOUBLE PRECISION.
        var realColumn = new Regex(@"\bREAL\b", RegexOptions.IgnoreCase);
        foreach (var migration in SchemaMigrations.All)
        {
            foreach (var token in sqliteOnly)
            {
                Assert.DoesNotContain(token, migration.Sql, StringComparison.OrdinalIgnoreCase);
            }

            Assert.DoesNotMatch(realColumn, migration.Sql);
        }
    }

    private static async Task<List<(int Version, string AppliedAt)>> ReadMigrationRowsAsync(SqliteDatabase db)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT version, applied_at FROM schema_migrations ORDER BY version;";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(int, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    internal static async Task<bool> TableExistsAsync(SqliteDatabase db, string table)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $name;";
        command.Parameters.AddWithValue("$name", table);
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    internal static async Task<object?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}
