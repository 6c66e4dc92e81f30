namespace DatacenterOs.Storage;

/// <summary>
/// One step of the versioned schema: applied once, in its own transaction, and recorded in
/// <c>schema_migrations</c> with the UTC time it was applied.
/// </summary>
/// <param name="Version">Schema version this step produces; strictly increasing along the list, starting at 1.</param>
/// <param name="Name">Short description, for logs and error messages.</param>
/// <param name="Sql">
/// Portable DDL (one or more statements separated by <c>;</c>) that both SQLite and PostgreSQL accept unchanged.
/// </param>
public sealed record Migration(int Version, string Name, string Sql);
