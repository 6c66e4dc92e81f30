using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage.Tests;

public sealed class StatementBatchTests : IDisposable
{
    private readonly TempDatabaseDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task One_prepared_statement_writes_every_row_with_its_own_values_and_nulls()
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        await db.WriteAsync(async (connection, transaction) =>
        {
            await using var batch = new StatementBatch(connection, transaction);
            await batch.ExecAsync("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)", CancellationToken.None);
            for (var i = 0; i < 100; i++)
            {
                var changed = await batch.ExecAsync(
                    "INSERT INTO t (k, v) VALUES ($k, $v) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
                    CancellationToken.None,
                    ("$k", i % 50),
                    ("$v", i % 7 == 0 ? null : "v" + i));
                Assert.Equal(1, changed);
            }

            // The same SQL with another parameter count is a programming error, not a silent mis-binding.
            await Assert.ThrowsAsync<ArgumentException>(() => batch.ExecAsync(
                "INSERT INTO t (k, v) VALUES ($k, $v) ON CONFLICT (k) DO UPDATE SET v = excluded.v", CancellationToken.None, ("$k", 1)));
        }, CancellationToken.None);

        var rows = await db.ReadAsync(async (connection, transaction) =>
        {
            var result = new Dictionary<long, string?>();
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT k, v FROM t";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                result[reader.GetInt64(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }

            return result;
        }, CancellationToken.None);

        Assert.Equal(50, rows.Count);
        for (var k = 0; k < 50; k++)
        {
            var last = k + 50; // the second write of each key wins
            Assert.Equal(last % 7 == 0 ? null : "v" + last, rows[k]);
        }
    }

    [Fact]
    public async Task A_failing_statement_throws_and_the_transaction_writes_nothing()
    {
        using var db = await SqliteDatabase.OpenAsync(_dir.DatabasePath);
        await db.WriteAsync(async (connection, transaction) =>
        {
            await using var batch = new StatementBatch(connection, transaction);
            await batch.ExecAsync("CREATE TABLE u (k INTEGER PRIMARY KEY)", CancellationToken.None);
        }, CancellationToken.None);

        await Assert.ThrowsAsync<SqliteException>(() => db.WriteAsync(async (connection, transaction) =>
        {
            await using var batch = new StatementBatch(connection, transaction);
            await batch.ExecAsync("INSERT INTO u (k) VALUES ($k)", CancellationToken.None, ("$k", 1));
            await batch.ExecAsync("INSERT INTO u (k) VALUES ($k)", CancellationToken.None, ("$k", 1));
        }, CancellationToken.None));

        var count = await db.ReadAsync(async (connection, transaction) =>
        {
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "SELECT COUNT(*) FROM u";
            return (long)(await command.ExecuteScalarAsync())!;
        }, CancellationToken.None);
        Assert.Equal(0, count);
    }
}
