using System.Data;
using System.Data.Common;
using System.Globalization;
using Npgsql;

namespace DatacenterOs.Storage;

/// <summary>
/// One store's schema (e.g. <c>dcos_master</c>) in a PostgreSQL database, brought up to its versioned migrations.
/// Every connection has <c>search_path</c> set to the schema, so the stores' portable SQL names tables unqualified.
/// Thread-safe; several processes (the masters of a cluster) share one database. Writes run in READ COMMITTED,
/// reads in REPEATABLE READ (one snapshot).
/// </summary>
public sealed class PostgresDatabase : SqlDatabase
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _connectionString;
    private volatile bool _disposed;

    private PostgresDatabase(NpgsqlDataSource dataSource, string connectionString, string schema, string location, TimeProvider timeProvider)
        : base(timeProvider)
    {
        _dataSource = dataSource;
        _connectionString = connectionString;
        Schema = schema;
        Location = location;
    }

    /// <summary>The schema holding this store's tables.</summary>
    public string Schema { get; }

    /// <inheritdoc />
    public override SqlEngine Engine => SqlEngine.Postgres;

    /// <inheritdoc />
    public override string Location { get; }

    /// <summary>The full connection string (password and <c>search_path</c> included): for Quartz's AdoJobStore.</summary>
    public override string ConnectionString => _connectionString;

    /// <summary>
    /// Opens the schema <paramref name="schema"/> of the database at <paramref name="connectionString"/>, creating the
    /// schema if needed and applying every pending step of <paramref name="migrations"/> (each in its own transaction
    /// under <c>pg_advisory_xact_lock</c>, so masters starting together migrate once).
    /// </summary>
    /// <param name="connectionString">A <c>postgres://user:password@host:port/database</c> URL or an Npgsql connection string.</param>
    /// <param name="schema">Schema name: lower-case letters, digits and <c>_</c>, starting with a letter.</param>
    /// <param name="migrations">The store's schema as ordered migrations.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels opening; migrations already committed stay applied.</param>
    /// <returns>The open database; dispose it to release its connections.</returns>
    /// <exception cref="ArgumentException">The connection string or schema name is malformed, or the migrations are not strictly increasing.</exception>
    /// <exception cref="InvalidOperationException">The schema's version is newer than <paramref name="migrations"/>.</exception>
    /// <exception cref="NpgsqlException">PostgreSQL cannot be reached or refused a statement.</exception>
    public static Task<PostgresDatabase> OpenAsync(
        string connectionString, string schema, IReadOnlyList<Migration> migrations, PostgresDatabaseOptions? options = null, CancellationToken cancellationToken = default) =>
        OpenAsync(connectionString, schema, migrations, options, targetVersion: null, cancellationToken);

    /// <summary>As the public overload, applying migrations only up to <paramref name="targetVersion"/> (tests of upgrades).</summary>
    internal static async Task<PostgresDatabase> OpenAsync(
        string connectionString, string schema, IReadOnlyList<Migration> migrations, PostgresDatabaseOptions? options, int? targetVersion, CancellationToken cancellationToken)
    {
        ValidateMigrations(migrations);
        options ??= new PostgresDatabaseOptions();
        if (string.IsNullOrEmpty(schema) || !char.IsAsciiLetterLower(schema[0]) || !schema.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw new ArgumentException($"Schema name '{schema}' must be lower-case letters, digits and '_', starting with a letter.", nameof(schema));
        }

        var builder = PostgresConnection.Parse(connectionString);
        builder.SearchPath = schema;
        if (options.ApplicationName is { } applicationName)
        {
            builder.ApplicationName = applicationName;
        }

        var location = string.Create(CultureInfo.InvariantCulture, $"{builder.Host}:{builder.Port}/{builder.Database} (schema {schema})");
        var dataSource = NpgsqlDataSource.Create(builder);
        var database = new PostgresDatabase(dataSource, builder.ConnectionString, schema, location, options.TimeProvider);
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

    /// <inheritdoc />
    public override async Task<DbConnection> OpenDbConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the connection pool.</summary>
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _dataSource.Dispose();
    }

    /// <inheritdoc />
    protected override async Task<DbTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    protected override async Task<DbTransaction> BeginReadAsync(DbConnection connection, CancellationToken cancellationToken) =>
        await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);

    /// <summary>Creates the schema (under the migration lock: concurrent <c>CREATE SCHEMA IF NOT EXISTS</c> can collide).</summary>
    protected override async Task PrepareAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            await LockForMigrationAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {Schema};", cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>pg_advisory_xact_lock</c> on a key derived from the schema name, released when the transaction ends.</summary>
    protected override async Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        using var command = Command(connection, transaction, "SELECT pg_advisory_xact_lock(@key);", ("@key", MigrationLockKey(Schema)));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A stable 64-bit key per schema (FNV-1a of the name) for the migration advisory lock.</summary>
    internal static long MigrationLockKey(string schema)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in "dcos-migrate:" + schema)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }
}

/// <summary>Settings of a <see cref="PostgresDatabase"/>.</summary>
public sealed record PostgresDatabaseOptions
{
    /// <summary>Clock that stamps <c>schema_migrations.applied_at</c> (UTC); default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary><c>application_name</c> of the connections (shown in <c>pg_stat_activity</c>); null keeps the connection string's.</summary>
    public string? ApplicationName { get; init; }
}

/// <summary>Parses the PostgreSQL connection forms <c>dcosd --store</c> accepts.</summary>
public static class PostgresConnection
{
    /// <summary>True when <paramref name="store"/> names PostgreSQL: a <c>postgres://</c> / <c>postgresql://</c> URL or a <c>Host=…</c> connection string.</summary>
    public static bool IsPostgres(string? store) =>
        store is not null
        && (store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
            || store.Contains("host=", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Turns <c>postgres://user:password@host:port/database?sslmode=require</c> (libpq URL form; user, password and
    /// query values percent-decoded; port 5432 by default; query keys are Npgsql keywords or <c>sslmode</c>) or an
    /// Npgsql connection string (<c>Host=…;Username=…;Password=…;Database=…</c>) into a connection string builder.
    /// </summary>
    /// <param name="connectionString">The URL or connection string.</param>
    /// <returns>A new builder.</returns>
    /// <exception cref="ArgumentException">Malformed, or without host or database; the message names the part.</exception>
    public static NpgsqlConnectionStringBuilder Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        NpgsqlConnectionStringBuilder builder;
        if (connectionString.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || connectionString.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            {
                throw new ArgumentException($"PostgreSQL URL '{Redact(connectionString)}' is malformed (expected postgres://user:password@host:port/database).", nameof(connectionString));
            }

            builder = new NpgsqlConnectionStringBuilder
            {
                Host = uri.Host,
                Port = uri.IsDefaultPort || uri.Port <= 0 ? 5432 : uri.Port,
                Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            };
            if (uri.UserInfo.Length > 0)
            {
                var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
                builder.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
                if (colon >= 0)
                {
                    builder.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
                }
            }

            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
                try
                {
                    builder[string.Equals(key, "sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = value;
                }
                catch (ArgumentException e)
                {
                    throw new ArgumentException($"PostgreSQL URL option '{key}' is not valid: {e.Message}", nameof(connectionString), e);
                }
            }
        }
        else
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(connectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"PostgreSQL connection string is malformed: {e.Message}", nameof(connectionString), e);
            }
        }

        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new ArgumentException("PostgreSQL connection has no host.", nameof(connectionString));
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new ArgumentException("PostgreSQL connection has no database.", nameof(connectionString));
        }

        return builder;
    }

    /// <summary>The URL or connection string with any password replaced by <c>***</c>, for messages.</summary>
    public static string Redact(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        if (Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            return connectionString.Replace(uri.UserInfo, uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal);
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (builder.Password is not null)
            {
                builder.Password = "***";
            }

            return builder.ToString();
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }
}
