namespace DatacenterOs.Storage;

/// <summary>
/// The logical schema of the master's registry as an ordered list of <see cref="Migration"/>s. Append only: a
/// released step is never edited; changes go in a new step with the next version.
/// </summary>
/// <remarks>
/// The DDL is kept portable so a PostgreSQL store can apply the same list: standard column types only
/// (<c>TEXT</c>, <c>INTEGER</c> for 32-bit values, <c>BIGINT</c> for 64-bit values, <c>DOUBLE PRECISION</c> for
/// doubles — not <c>REAL</c>, which is single precision in PostgreSQL), no <c>AUTOINCREMENT</c>, <c>WITHOUT
/// ROWID</c>, <c>STRICT</c> or pragmas. Times are <c>TEXT</c> holding UTC ISO 8601 with 100 ns precision
/// (<c>yyyy-MM-ddTHH:mm:ss.fffffffZ</c>), which sorts chronologically. Connection settings (WAL, busy timeout,
/// foreign keys) belong to the engine-specific database class, not to the migrations.
/// </remarks>
public static class SchemaMigrations
{
    /// <summary>The migrations in application order (versions 1, 2, 3, …).</summary>
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, "master info, frameworks, agents", """
            CREATE TABLE master_info (
                name  TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE frameworks (
                id                       TEXT PRIMARY KEY,
                info_json                TEXT NOT NULL,
                failover_timeout_seconds DOUBLE PRECISION NOT NULL,
                registered_at            TEXT NOT NULL,
                disconnected_at          TEXT NULL
            );
            CREATE TABLE agents (
                id                   TEXT PRIMARY KEY,
                info_json            TEXT NOT NULL,
                registered_at        TEXT NOT NULL,
                dynamic_reservations TEXT NULL
            );
            """),
        new(2, "role weights and quotas", """
            CREATE TABLE role_weights (
                role   TEXT PRIMARY KEY,
                weight DOUBLE PRECISION NOT NULL CHECK (weight > 0)
            );
            CREATE TABLE role_quotas (
                role   TEXT PRIMARY KEY,
                limits TEXT NOT NULL
            );
            """),
        new(3, "named sequences", """
            CREATE TABLE sequences (
                name  TEXT PRIMARY KEY,
                value BIGINT NOT NULL
            );
            """),
    ];

    /// <summary>The version the full list produces: the last step's <see cref="Migration.Version"/>.</summary>
    public static int LatestVersion => All[^1].Version;
}
