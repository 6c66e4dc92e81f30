using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage;

/// <summary>
/// A SQLite database file brought up to the current schema: WAL journal mode, a busy timeout and foreign keys on
/// every connection, and the versioned <see cref="SchemaMigrations"/> applied. Thread-safe: every operation opens
/// its own (pooled) connection, so several instances and processes may share one file.
/// </summary>
public sealed class SqliteDatabase : SqlDatabase
{
    private readonly string _connectionString;
    private readonly int _busyTimeoutMilliseconds;
    private volatile bool _disposed;

    private SqliteDatabase(string fullPath, SqliteDatabaseOptions options)
        : base(options.TimeProvider)
    {
        FilePath = fullPath;
        _busyTimeoutMilliseconds = (int)Math.Ceiling(options.BusyTimeout.TotalMilliseconds);
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

    /// <inheritdoc />
    public override SqlEngine Engine => SqlEngine.Sqlite;

    /// <inheritdoc />
    public override string Location => FilePath;

    /// <inheritdoc />
    public override string ConnectionString => new SqliteConnectionStringBuilder { DataSource = FilePath, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();

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

    /// <summary>Releases this file's pooled connections. Operations after disposal throw <see cref="ObjectDisposedException"/>.</summary>
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
    }

    /// <inheritdoc />
    public override async Task<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken) =>
        await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

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

    /// <summary><c>BEGIN IMMEDIATE</c>: the write lock is taken up front, waiting up to the busy timeout.</summary>
    protected override Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: false));

    /// <summary><c>BEGIN DEFERRED</c>: a snapshot from the first read on.</summary>
    protected override Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        Task.FromResult<DbTransaction>(((SqliteConnection)connection).BeginTransaction(deferred: true));

    /// <summary>Switches the file to WAL journal mode.</summary>
    /// <exception cref="InvalidOperationException">The file cannot use WAL.</exception>
    protected override async Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        using var command = Command(connection, null, "PRAGMA journal_mode = WAL;");
        var mode = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Database '{FilePath}' could not switch to WAL journal mode (mode is '{mode}').");
        }
    }

    /// <summary>Nothing: <c>BEGIN IMMEDIATE</c> already excludes every other writer of the file.</summary>
    protected override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;
}
