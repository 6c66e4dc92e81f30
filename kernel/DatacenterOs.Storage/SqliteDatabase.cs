using System.Globalization;
using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage;

/// <summary>
/// A SQLite database file brought up to the current schema: WAL journal mode, a busy timeout and foreign keys on
/// every connection, and the versioned <see cref="SchemaMigrations"/> applied. Thread-safe: every operation opens
/// its own (pooled) connection, so several instances and processes may share one file.
/// </summary>
public sealed class SqliteDatabase : IDisposable
{
    private const string CreateMigrationsTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    INTEGER PRIMARY KEY,
            applied_at TEXT NOT NULL
        );
        """;

    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private readonly TimeProvider _timeProvider;
    private volatile bool _disposed;

    private SqliteDatabase(string fullPath, SqliteDatabaseOptions options)
    {
        FilePath = fullPath;
        _busyTimeoutMilliseconds = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
        _timeProvider = options.TimeProvider;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            ForeignKeys = true,
            Pooling = true,
            // Microsoft.Data.Sqlite retries busy statements up to its command timeout on top of SQLite's own
            // busy handler; keep the two aligned (whole seconds, at least one).
            DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds)),
        }.ToString();
    }

    /// <summary>Absolute path of the database file.</summary>
    public string FilePath { get; }

    /// <summary>
    /// Opens (creating the file and its directory if needed) the database at <paramref name="path"/>, e.g.
    /// <c>./.dcos/master.db</c>, switches it to WAL and applies every pending migration of
    /// <see cref="SchemaMigrations.All"/>, each in its own transaction. Opening an up-to-date database writes nothing.
    /// </summary>
    /// <param name="path">Database file path, absolute or relative to the current directory.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels opening; migrations already committed stay applied.</param>
    /// <returns>The open database; dispose it to release pooled connections.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or the busy timeout is out of range.</exception>
    /// <exception cref="InvalidOperationException">
    /// The file's schema is newer than this build knows, or the file cannot use WAL journal mode.
    /// </exception>
    /// <exception cref="SqliteException">SQLite failed, e.g. a migration's SQL or a lock held past the busy timeout.</exception>
    public static Task<SqliteDatabase> OpenAsync(string path, SqliteDatabaseOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAsync(path, options, SchemaMigrations.All, targetVersion: null, cancellationToken);

    /// <summary>
    /// Opens (creating if needed) a database file with its own schema, e.g. a framework's <c>./.dcos/apps.db</c>:
    /// WAL, busy timeout and foreign keys as for the registry, and every pending step of <paramref name="migrations"/>
    /// applied in order, each in its own transaction.
    /// </summary>
    /// <param name="path">Database file path, absolute or relative to the current directory.</param>
    /// <param name="migrations">The file's schema as ordered migrations (versions 1, 2, 3, …).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels opening; migrations already committed stay applied.</param>
    /// <returns>The open database; dispose it to release pooled connections.</returns>
    /// <exception cref="ArgumentException">The path is empty, the migrations are not strictly increasing, or the busy timeout is out of range.</exception>
    /// <exception cref="InvalidOperationException">The file's schema is newer than <paramref name="migrations"/>, or WAL is unavailable.</exception>
    /// <exception cref="SqliteException">SQLite failed, e.g. a migration's SQL or a lock held past the busy timeout.</exception>
    public static Task<SqliteDatabase> OpenAsync(
        string path, IReadOnlyList<Migration> migrations, SqliteDatabaseOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAsync(path, options, migrations, targetVersion: null, cancellationToken);

    /// <summary>
    /// Opens the database applying <paramref name="migrations"/> only up to <paramref name="targetVersion"/>
    /// (null: all). For tests that need a database "from an older version".
    /// </summary>
    internal static async Task<SqliteDatabase> OpenAsync(
        string path, SqliteDatabaseOptions? options, IReadOnlyList<Migration> migrations, int? targetVersion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(migrations);
        options ??= new SqliteDatabaseOptions();
        ArgumentNullException.ThrowIfNull(options.TimeProvider, nameof(options));
        if (options.BusyTimeout <= TimeSpan.Zero || options.BusyTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"Busy timeout must be positive and at most {int.MaxValue} ms (was {options.BusyTimeout}).", nameof(options));
        }

        ValidateMigrations(migrations);
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var database = new SqliteDatabase(fullPath, options);
        try
        {
            await database.MigrateAsync(migrations, targetVersion ?? int.MaxValue, cancellationToken).ConfigureAwait(false);
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>The highest version recorded in <c>schema_migrations</c> (0 when none).</summary>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The schema version of the file.</returns>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await ReadSchemaVersionAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Releases this file's pooled connections. Operations after disposal throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <summary>Opens a connection with the busy timeout set (foreign keys come from the connection string).</summary>
    /// <exception cref="ObjectDisposedException">The database was disposed.</exception>
    public async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var rc = SQLitePCL.raw.sqlite3_busy_timeout(connection.Handle, _busyTimeoutMilliseconds);
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction (<c>BEGIN IMMEDIATE</c>: the write lock is taken up
    /// front, waiting up to the busy timeout) and commits; any exception rolls everything back.
    /// </summary>
    /// <exception cref="SqliteException">SQLite failed; nothing of <paramref name="work"/> is committed.</exception>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = connection.BeginTransaction(deferred: false);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    /// <summary>As <see cref="WriteAsync{T}"/>, for work without a result.</summary>
    public Task WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> work, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await work(connection, transaction).ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>Runs <paramref name="work"/> in a read transaction: one consistent snapshot of the file.</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var transaction = connection.BeginTransaction(deferred: true);
            await using (transaction.ConfigureAwait(false))
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
        }
    }

    private static void ValidateMigrations(IReadOnlyList<Migration> migrations)
    {
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

    private async Task MigrateAsync(IReadOnlyList<Migration> migrations, int targetVersion, CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await EnableWalAsync(connection, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, null, CreateMigrationsTable, cancellationToken).ConfigureAwait(false);

            var known = migrations.Count == 0 ? 0 : migrations[^1].Version;
            var current = await ReadSchemaVersionAsync(connection, cancellationToken).ConfigureAwait(false);
            if (current > known)
            {
                throw new InvalidOperationException(
                    $"Database '{FilePath}' has schema version {current}, newer than this build supports ({known}); refusing to open it.");
            }

            var applied = await ReadAppliedVersionsAsync(connection, cancellationToken).ConfigureAwait(false);
            foreach (var migration in migrations)
            {
                if (migration.Version > targetVersion)
                {
                    break;
                }

                if (applied.Contains(migration.Version))
                {
                    continue;
                }

                await ApplyAsync(connection, migration, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ApplyAsync(SqliteConnection connection, Migration migration, CancellationToken cancellationToken)
    {
        var transaction = connection.BeginTransaction(deferred: false);
        await using (transaction.ConfigureAwait(false))
        {
            // Another process may have applied it between our read and our write lock.
            using (var check = connection.CreateCommand())
            {
                check.Transaction = transaction;
                check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE version = $version;";
                check.Parameters.AddWithValue("$version", migration.Version);
                if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0)
                {
                    return;
                }
            }

            await ExecuteAsync(connection, transaction, migration.Sql, cancellationToken).ConfigureAwait(false);
            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($version, $appliedAt);";
                record.Parameters.AddWithValue("$version", migration.Version);
                record.Parameters.AddWithValue("$appliedAt", StorageTime.ToText(_timeProvider.GetUtcNow()));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EnableWalAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL;";
        var mode = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Database '{FilePath}' could not switch to WAL journal mode (mode is '{mode}').");
        }
    }

    private static async Task<int> ReadSchemaVersionAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static async Task<HashSet<int>> ReadAppliedVersionsAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_migrations;";
        var versions = new HashSet<int>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                versions.Add(reader.GetInt32(0));
            }
        }

        return versions;
    }

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
