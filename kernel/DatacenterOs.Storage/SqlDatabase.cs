using System.Data.Common;
using System.Globalization;

namespace DatacenterOs.Storage;

/// <summary>The SQL engine behind a <see cref="SqlDatabase"/>.</summary>
public enum SqlEngine
{
    /// <summary>One SQLite file (the single-master default).</summary>
    Sqlite,

    /// <summary>A schema in a PostgreSQL database (several masters, one leads).</summary>
    Postgres,
}

/// <summary>
/// A database brought up to a versioned schema, over plain ADO.NET so that every store (master registry, Apps, Jobs)
/// runs unchanged on SQLite and PostgreSQL. Every operation opens its own pooled connection and runs in one
/// transaction; <see cref="WriteAsync{T}"/> first asks the <see cref="Fence"/> (if any) whether this process may still
/// write, so a deposed leader's write is refused inside the same transaction.
/// </summary>
/// <remarks>
/// <para>The portable SQL subset the stores use: <c>@name</c> parameters (both engines), <c>INSERT … ON CONFLICT (…)
/// DO UPDATE SET … = excluded.…</c>, <c>RETURNING</c>, <c>LIMIT @n</c>, an alias on every sub-query in <c>FROM</c>;
/// column types <c>TEXT</c>, <c>INTEGER</c> (32-bit), <c>BIGINT</c>, <c>DOUBLE PRECISION</c>. Times are stored as
/// ISO 8601 UTC text. Everything engine-specific (transaction start, migration locking, connection set-up) lives in
/// the two subclasses <see cref="SqliteDatabase"/> and <see cref="PostgresDatabase"/>.</para>
/// <para>Migrations: each step of a store's list is applied once, in its own transaction, under an exclusive lock
/// (SQLite <c>BEGIN IMMEDIATE</c>, PostgreSQL <c>pg_advisory_xact_lock</c>), and recorded in
/// <c>schema_migrations (version, applied_at)</c>; a database whose version is newer than the list is refused.</para>
/// </remarks>
public abstract class SqlDatabase : IDisposable
{
    /// <summary>DDL of the table recording applied migrations (portable).</summary>
    protected const string CreateMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        );
        """;

    private readonly TimeProvider _timeProvider;

    /// <summary>Creates the database object; <paramref name="timeProvider"/> stamps <c>schema_migrations.applied_at</c>.</summary>
    protected SqlDatabase(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>Which engine this is.</summary>
    public abstract SqlEngine Engine { get; }

    /// <summary>Where the data lives, for messages: a file path, or <c>host:port/database (schema)</c> (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>ADO.NET connection string of this database (for libraries that keep tables next to ours, e.g. Quartz).</summary>
    public abstract string ConnectionString { get; }

    /// <summary>
    /// Checked at the start of every write transaction (null: no check). Set by the leader election of a
    /// multi-master cluster so that every write carries the leader's epoch.
    /// </summary>
    public IWriteFence? Fence { get; set; }

    /// <summary>Opens a connection of this database (the caller disposes it).</summary>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="ObjectDisposedException">The database was disposed.</exception>
    public abstract Task<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Releases pooled connections. Operations after disposal throw <see cref="ObjectDisposedException"/>.</summary>
    public abstract void Dispose();

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and commits; any exception rolls everything back. The
    /// <see cref="Fence"/> is checked first, inside the transaction.
    /// </summary>
    /// <exception cref="FencedWriteException">The fence refused the write (this process no longer leads); nothing is written.</exception>
    /// <exception cref="DbException">The engine failed; nothing of <paramref name="work"/> is committed.</exception>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var connection = await OpenDbConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (Fence is { } fence)
                {
                    await fence.CheckAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
                }

                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    /// <summary>As <see cref="WriteAsync{T}"/>, for work without a result.</summary>
    /// <exception cref="FencedWriteException">The fence refused the write; nothing is written.</exception>
    public Task WriteAsync(Func<DbConnection, DbTransaction, Task> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return WriteAsync(async (connection, transaction) =>
        {
            await work(connection, transaction).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> in a read transaction: one consistent snapshot.</summary>
    public async Task<T> ReadAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var connection = await OpenDbConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = await BeginReadAsync(connection, cancellationToken).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    /// <summary>The highest version recorded in <c>schema_migrations</c> (0 when none).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The schema version.</returns>
    public Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default) =>
        ReadAsync((connection, transaction) => ReadSchemaVersionAsync(connection, transaction, cancellationToken), cancellationToken);

    /// <summary>Starts a write transaction (SQLite: the write lock is taken up front).</summary>
    protected abstract Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Starts a read transaction that sees one consistent snapshot.</summary>
    protected abstract Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Engine set-up before migrations (SQLite: WAL; PostgreSQL: the schema), on <paramref name="connection"/>.</summary>
    protected abstract Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken);

    /// <summary>Takes the engine's exclusive migration lock inside <paramref name="transaction"/> (held until it ends).</summary>
    protected abstract Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>Validates a migration list: versions positive and strictly increasing, every step with SQL.</summary>
    /// <exception cref="ArgumentException">The list is not valid.</exception>
    protected static void ValidateMigrations(IReadOnlyList<Migration> migrations)
    {
        ArgumentNullException.ThrowIfNull(migrations);
        var previous = 0;
        foreach (var migration in migrations)
        {
            ArgumentNullException.ThrowIfNull(migration, nameof(migrations));
            if (migration.Version <= previous)
            {
                throw new ArgumentException($"Migration versions must be positive and strictly increasing ({migration.Version} after {previous}).", nameof(migrations));
            }

            if (string.IsNullOrWhiteSpace(migration.Sql))
            {
                throw new ArgumentException($"Migration {migration.Version} has no SQL.", nameof(migrations));
            }

            previous = migration.Version;
        }
    }

    /// <summary>
    /// Applies every step of <paramref name="migrations"/> up to <paramref name="targetVersion"/> that is not yet
    /// recorded, each in its own locked transaction.
    /// </summary>
    /// <exception cref="InvalidOperationException">The database's schema is newer than <paramref name="migrations"/>.</exception>
    protected async Task MigrateAsync(IReadOnlyList<Migration> migrations, int targetVersion, CancellationToken cancellationToken)
    {
        var connection = await OpenDbConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await PrepareAsync(connection, cancellationToken).ConfigureAwait(false);
            var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
            var setup = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            int current;
            await using (setup.ConfigureAwait(false))
            {
                await LockForMigrationAsync(connection, setup, cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, setup, CreateMigrationsTable, cancellationToken).ConfigureAwait(false);
                current = await ReadSchemaVersionAsync(connection, setup, cancellationToken).ConfigureAwait(false);
                await setup.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            if (current > known)
            {
                throw new InvalidOperationException(
                    $"Database '{Location}' has schema version {current}, newer than this build supports ({known}); refusing to open it.");
            }

            foreach (var migration in migrations)
            {
                if (migration.Version > targetVersion)
                {
                    break;
                }

                await ApplyAsync(connection, migration, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ApplyAsync(DbConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await LockForMigrationAsync(connection, transaction, cancellationToken).ConfigureAwait(false);

            // Another process may have applied it meanwhile: checked under the lock.
            using (var check = Command(connection, transaction, "SELECT COUNT(*) FROM schema_migrations WHERE version = @version;", ("@version", migration.Version)))
            {
                if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0)
                {
                    return;
                }
            }

            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            using (var record = Command(connection, transaction, "INSERT INTO schema_migrations (version, applied_at) VALUES (@version, @appliedAt);",
                ("@version", migration.Version), ("@appliedAt", StorageTime.ToText(_timeProvider.GetUtcNow()))))
            {
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> ReadSchemaVersionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;");
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) without parameters.</summary>
    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A command on <paramref name="connection"/> in <paramref name="transaction"/> with <c>@name</c> parameters bound
    /// (null values as SQL NULL). The one place the stores create commands, so both engines bind the same way.
    /// </summary>
    /// <param name="connection">An open connection.</param>
    /// <param name="transaction">The transaction, or null.</param>
    /// <param name="sql">Portable SQL with <c>@name</c> parameters.</param>
    /// <param name="parameters">Name (with <c>@</c>) and value pairs.</param>
    /// <returns>The command (the caller disposes it).</returns>
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(parameters);
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }
}

/// <summary>Decides, inside a write transaction, whether this process may still write (multi-master fencing).</summary>
public interface IWriteFence
{
    /// <summary>Checks the fence in <paramref name="transaction"/>; returns normally when the write may go ahead.</summary>
    /// <param name="connection">The write's connection.</param>
    /// <param name="transaction">The write's transaction (locks taken here are held until it ends).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that completes when the write may proceed.</returns>
    /// <exception cref="FencedWriteException">The write must not happen; the transaction is rolled back.</exception>
    Task CheckAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);
}

/// <summary>A write was refused because this process no longer holds the leadership epoch it wrote under.</summary>
public sealed class FencedWriteException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public FencedWriteException()
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/>.</summary>
    public FencedWriteException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with <paramref name="message"/> and its cause.</summary>
    public FencedWriteException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
