using System.Text.Json;
using DatacenterOs.Storage;

namespace DatacenterOs.Apps;

public sealed partial class AppsStore
{
    /// <summary>
    /// Migration 2: one row per instance with its model state (<c>LEADER</c>, <c>STANDBY</c>, …), so a restarted
    /// service keeps the same leader, and what discovery knows beyond the instance row (the agent's IP, an unconfirmed
    /// demotion). Plain portable SQL (TEXT columns, a primary key, one index).
    /// </summary>
    internal static Migration DiscoveryMigration => new(2, "instance model states (discovery)", """
        CREATE TABLE instance_discovery (
            task_id     TEXT PRIMARY KEY,
            app_id      TEXT NOT NULL,
            model_state TEXT NULL,
            data        TEXT NOT NULL
        );
        CREATE INDEX instance_discovery_app ON instance_discovery (app_id);
        """);

    /// <summary>Every instance's discovery row.</summary>
    internal Task<List<StoredDiscovery>> LoadDiscoveryAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            var rows = new List<StoredDiscovery>();
            await foreach (var (_, data) in ReadPairsAsync(connection, transaction, "SELECT task_id, data FROM instance_discovery ORDER BY task_id", cancellationToken).ConfigureAwait(false))
            {
                rows.Add(JsonSerializer.Deserialize<StoredDiscovery>(data, Json)!);
            }

            return rows;
        }, cancellationToken);

    private static async Task SaveDiscoveryAsync(StatementBatch statements, StoreChanges changes, CancellationToken cancellationToken)
    {
        foreach (var taskId in changes.DeletedDiscovery.Concat(changes.DeletedInstances))
        {
            await statements.ExecAsync("DELETE FROM instance_discovery WHERE task_id = @id", cancellationToken, ("@id", taskId)).ConfigureAwait(false);
        }

        foreach (var row in changes.Discovery)
        {
            await statements.ExecAsync(
                "INSERT INTO instance_discovery (task_id, app_id, model_state, data) VALUES (@id, @a, @s, @d) ON CONFLICT (task_id) DO UPDATE SET model_state = excluded.model_state, data = excluded.data",
                cancellationToken,
                ("@id", row.TaskId),
                ("@a", row.AppId),
                ("@s", (object?)row.ModelState ?? DBNull.Value),
                ("@d", JsonSerializer.Serialize(row, Json))).ConfigureAwait(false);
        }
    }
}

/// <summary>An instance's discovery row: model state, unconfirmed demotion, agent IP.</summary>
internal sealed record StoredDiscovery
{
    public required string TaskId { get; init; }

    public required string AppId { get; init; }

    public string? ModelState { get; init; }

    public DateTimeOffset? DemotedAt { get; init; }

    public string? Ip { get; init; }
}
