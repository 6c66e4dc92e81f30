namespace DatacenterOs.Storage;

/// <summary>Settings of a <see cref="SqliteDatabase"/>.</summary>
public sealed record SqliteDatabaseOptions
{
    /// <summary>
    /// How long a statement waits for another connection's lock before failing with <c>SQLITE_BUSY</c>
    /// (SQLite <c>busy_timeout</c>); default 5 s. Must be positive and at most <see cref="int.MaxValue"/> ms.
    /// </summary>
    public TimeSpan BusyTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Clock that stamps <c>schema_migrations.applied_at</c> (UTC); default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
