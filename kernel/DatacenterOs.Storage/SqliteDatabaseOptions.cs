namespace DatacenterOs.Storage;

/// <summary>Settings of a <see cref="SqliteDatabase"/>.</summary>
public sealed record SqliteDatabaseOptions
{
    /// <summary>
    /// How long a statement waits for another connection's lock before failing with <c>SQLITE_BUSY</c>
    /// (SQLite <c>busy_timeout</c>); default 5 s. Must be positive and at most <see cref="int.MaxValue"/> ms.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// False (the default) keeps SQLite's <c>synchronous = FULL</c>: every commit is flushed to disk before it returns.
    /// True sets <c>synchronous = NORMAL</c>, which in WAL mode still survives a crash of the process (commits are in
    /// the operating system's cache) but may lose the last commits on a power failure; commits are then several
    /// times faster. See SQLite's <c>pragma.html#pragma_synchronous</c>.
    /// </summary>
    public bool RelaxedDurability { get; init; }

    /// <summary>Clock that stamps <c>schema_migrations.applied_at</c> (UTC); default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
