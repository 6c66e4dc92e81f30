namespace DatacenterOs.Storage;

/// <summary>
/// Where a process keeps its stores: SQLite files in a directory (<c>{dir}/{name}.db</c>, the single-master default)
/// or schemas of one PostgreSQL database (<c>dcos_{name}</c>, shared by every master of a cluster). The stores
/// (master registry, Apps, Jobs, leader election) open themselves through <see cref="OpenAsync"/> by name.
/// </summary>
public sealed record StoreLocation
{
    private StoreLocation(SqlEngine engine, string target, string? applicationName)
    {
        Engine = engine;
        Target = target;
        ApplicationName = applicationName;
    }

    /// <summary>The engine.</summary>
    public SqlEngine Engine { get; }

    /// <summary>The directory (SQLite) or the connection string (PostgreSQL).</summary>
    public string Target { get; }

    /// <summary>PostgreSQL <c>application_name</c> of this process's connections (lets operators find a master's sessions).</summary>
    public string? ApplicationName { get; }

    /// <summary>SQLite files in <paramref name="directory"/>.</summary>
    public static StoreLocation Sqlite(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        return new StoreLocation(SqlEngine.Sqlite, Path.GetFullPath(directory), null);
    }

    /// <summary>Schemas of the PostgreSQL database at <paramref name="connectionString"/> (URL or Npgsql form).</summary>
    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    public static StoreLocation Postgres(string connectionString, string? applicationName = null)
    {
        _ = PostgresConnection.Parse(connectionString);
        return new StoreLocation(SqlEngine.Postgres, connectionString, applicationName);
    }

    /// <summary>
    /// The <c>--store</c> option: null, empty or <c>sqlite</c> means SQLite files in <paramref name="workDir"/>; a
    /// <c>postgres://</c> URL or Npgsql connection string means PostgreSQL.
    /// </summary>
    /// <exception cref="ArgumentException">Neither form, or a malformed PostgreSQL connection.</exception>
    public static StoreLocation Parse(string? store, string workDir, string? applicationName = null)
    {
        if (string.IsNullOrWhiteSpace(store) || string.Equals(store, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            return Sqlite(workDir);
        }

        if (!PostgresConnection.IsPostgres(store))
        {
            throw new ArgumentException($"--store '{PostgresConnection.Redact(store)}' is neither 'sqlite' nor a postgres:// URL or Npgsql connection string.", nameof(store));
        }

        return Postgres(store, applicationName);
    }

    /// <summary>
    /// Opens the store <paramref name="name"/> (<c>master</c>, <c>apps</c>, <c>jobs</c>, …) with its migrations applied.
    /// </summary>
    /// <param name="name">Store name: lower-case letters, digits, <c>_</c>.</param>
    /// <param name="migrations">The store's schema.</param>
    /// <param name="timeProvider">Clock stamping applied migrations; null for the system clock.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The open database (the caller disposes it).</returns>
    public async Task<SqlDatabase> OpenAsync(string name, IReadOnlyList<Migration> migrations, TimeProvider? timeProvider = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var time = timeProvider ?? TimeProvider.System;
        return Engine == SqlEngine.Sqlite
            ? await SqliteDatabase.OpenAsync(Path.Combine(Target, name + ".db"), migrations, new SqliteDatabaseOptions { TimeProvider = time }, cancellationToken).ConfigureAwait(false)
            : await PostgresDatabase.OpenAsync(Target, "dcos_" + name, migrations, new PostgresDatabaseOptions { TimeProvider = time, ApplicationName = ApplicationName }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where the stores live, for logs (PostgreSQL passwords redacted).</summary>
    public override string ToString() => Engine == SqlEngine.Sqlite ? "sqlite:" + Target : PostgresConnection.Redact(Target);
}
