using System.Text.Json;
using System.Text.Json.Serialization;
using DatacenterOs.Storage;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DatacenterOs.Apps;

/// <summary>
/// The Apps framework's persistent state in its own SQLite file (default <c>./.dcos/apps.db</c>) or PostgreSQL schema (<c>dcos_apps</c>): the framework id,
/// the apps (definition, versions, launch backoff, last failure), a bounded history of app versions, the running
/// deployments with the step they reached, and every instance (task id, app, configuration version, agent, ports,
/// last state). Written in one transaction per change before the scheduler acts on it, so a restarted
/// <see cref="AppsService"/> resumes where it stopped. Rows hold JSON documents; the schema is portable to PostgreSQL.
/// </summary>
public sealed partial class AppsStore : IDisposable
{
    /// <summary>The schema of <c>apps.db</c> as ordered migrations.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "apps, versions, instances, deployments", """
            CREATE TABLE apps_meta (
                name  TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE apps (
                id         TEXT PRIMARY KEY,
                definition TEXT NOT NULL,
                applied    TEXT NULL,
                data       TEXT NOT NULL
            );
            CREATE TABLE app_versions (
                app_id     TEXT NOT NULL,
                version    TEXT NOT NULL,
                definition TEXT NOT NULL,
                PRIMARY KEY (app_id, version)
            );
            CREATE TABLE instances (
                task_id TEXT PRIMARY KEY,
                app_id  TEXT NOT NULL,
                data    TEXT NOT NULL
            );
            CREATE TABLE deployments (
                id   TEXT PRIMARY KEY,
                data TEXT NOT NULL
            );
            """),
        DiscoveryMigration,
    ];

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly SqlDatabase _database;

    private AppsStore(SqlDatabase database) => _database = database;

    /// <summary>Where the data lives: the file path (SQLite) or <c>host:port/database (schema dcos_apps)</c>.</summary>
    public string FilePath => _database.Location;

    /// <summary>The underlying database (to set a leader's write fence).</summary>
    public SqlDatabase Database => _database;

    /// <summary>How many versions of each app are kept (Marathon keeps 50 by default, <c>--max_versions</c>).</summary>
    public int MaxVersionsPerApp { get; init; } = 50;

    /// <summary>Opens (creating and migrating) the store at <paramref name="path"/>.</summary>
    /// <param name="path">The database file, e.g. <c>./.dcos/apps.db</c>.</param>
    /// <param name="options">SQLite settings (busy timeout); null for the defaults.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="SqliteException">The file cannot be opened or migrated.</exception>
    /// <exception cref="InvalidOperationException">The file's schema is newer than this build.</exception>
    public static async Task<AppsStore> OpenAsync(string path, SqliteDatabaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        var database = await SqliteDatabase.OpenAsync(path, Migrations, options, cancellationToken).ConfigureAwait(false);
        return new AppsStore(database);
    }

    /// <summary>Opens (creating and migrating) the store <c>apps</c> at <paramref name="location"/>: <c>apps.db</c> or the PostgreSQL schema <c>dcos_apps</c>.</summary>
    /// <param name="location">Where the process keeps its stores.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="DbException">The database cannot be opened or migrated.</exception>
    /// <exception cref="InvalidOperationException">The schema is newer than this build.</exception>
    public static async Task<AppsStore> OpenAsync(StoreLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        return new AppsStore(await location.OpenAsync("apps", Migrations, null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Releases the file's pooled connections.</summary>
    public void Dispose() => _database.Dispose();

    /// <summary>Everything stored, in one consistent read.</summary>
    internal Task<StoredState> LoadAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            string? frameworkId = null;
            await foreach (var (name, value) in ReadPairsAsync(connection, transaction, "SELECT name, value FROM apps_meta", cancellationToken).ConfigureAwait(false))
            {
                if (name == "framework_id")
                {
                    frameworkId = value;
                }
            }

            var apps = new List<StoredApp>();
            var command = SqlDatabase.Command(connection, transaction, "SELECT definition, applied, data FROM apps ORDER BY id");
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    {
                        var row = JsonSerializer.Deserialize<StoredApp>(reader.GetString(2), Json)!;
                        apps.Add(row with { Definition = reader.GetString(0), AppliedDefinition = reader.IsDBNull(1) ? null : reader.GetString(1) });
                    }
                }
            }

            var instances = new List<StoredInstance>();
            await foreach (var (_, data) in ReadPairsAsync(connection, transaction, "SELECT task_id, data FROM instances ORDER BY task_id", cancellationToken).ConfigureAwait(false))
            {
                instances.Add(JsonSerializer.Deserialize<StoredInstance>(data, Json)!);
            }

            var deployments = new List<StoredDeployment>();
            await foreach (var (_, data) in ReadPairsAsync(connection, transaction, "SELECT id, data FROM deployments", cancellationToken).ConfigureAwait(false))
            {
                deployments.Add(JsonSerializer.Deserialize<StoredDeployment>(data, Json)!);
            }

            return new StoredState(frameworkId, apps, instances, [.. deployments.OrderBy(d => d.Seq)]);
        }, cancellationToken);

    /// <summary>The stored versions of an app, newest first (timestamps as stored).</summary>
    internal Task<List<string>> ListVersionsAsync(string appId, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            var versions = new List<string>();
            await foreach (var (version, _) in ReadPairsAsync(connection, transaction, "SELECT version, '' FROM app_versions WHERE app_id = @id ORDER BY version DESC", cancellationToken, ("@id", appId)).ConfigureAwait(false))
            {
                versions.Add(version);
            }

            return versions;
        }, cancellationToken);

    /// <summary>The definition (Marathon JSON) of one stored version, or null.</summary>
    internal Task<string?> ReadVersionAsync(string appId, string version, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            await foreach (var (_, definition) in ReadPairsAsync(connection, transaction, "SELECT version, definition FROM app_versions WHERE app_id = @id AND version = @v", cancellationToken, ("@id", appId), ("@v", version)).ConfigureAwait(false))
            {
                return definition;
            }

            return null;
        }, cancellationToken);

    /// <summary>Writes one batch of changes in a single transaction.</summary>
    internal Task SaveAsync(StoreChanges changes, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) =>
        {
            var statements = new StatementBatch(connection, transaction);
            await using var disposeStatements = statements.ConfigureAwait(false);
            if (changes.FrameworkId is { } frameworkId)
            {
                await statements.ExecAsync("INSERT INTO apps_meta (name, value) VALUES ('framework_id', @v) ON CONFLICT (name) DO UPDATE SET value = excluded.value", cancellationToken, ("@v", frameworkId)).ConfigureAwait(false);
            }

            foreach (var id in changes.DeletedApps)
            {
                await statements.ExecAsync("DELETE FROM apps WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
                await statements.ExecAsync("DELETE FROM app_versions WHERE app_id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
            }

            foreach (var app in changes.Apps)
            {
                await statements.ExecAsync(
                    "INSERT INTO apps (id, definition, applied, data) VALUES (@id, @def, @applied, @d) ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, applied = excluded.applied, data = excluded.data",
                    cancellationToken,
                    ("@id", app.Id),
                    ("@def", app.Definition),
                    ("@applied", (object?)app.AppliedDefinition ?? DBNull.Value),
                    ("@d", JsonSerializer.Serialize(app with { Definition = "", AppliedDefinition = null }, Json))).ConfigureAwait(false);
            }

            foreach (var (appId, version, definition) in changes.Versions)
            {
                await statements.ExecAsync("INSERT INTO app_versions (app_id, version, definition) VALUES (@id, @v, @d) ON CONFLICT (app_id, version) DO NOTHING", cancellationToken, ("@id", appId), ("@v", version), ("@d", definition)).ConfigureAwait(false);
                await statements.ExecAsync("DELETE FROM app_versions WHERE app_id = @id AND version NOT IN (SELECT version FROM app_versions WHERE app_id = @id ORDER BY version DESC LIMIT @n)", cancellationToken, ("@id", appId), ("@n", MaxVersionsPerApp)).ConfigureAwait(false);
            }

            foreach (var taskId in changes.DeletedInstances)
            {
                await statements.ExecAsync("DELETE FROM instances WHERE task_id = @id", cancellationToken, ("@id", taskId)).ConfigureAwait(false);
            }

            foreach (var instance in changes.Instances)
            {
                await statements.ExecAsync("INSERT INTO instances (task_id, app_id, data) VALUES (@id, @a, @d) ON CONFLICT (task_id) DO UPDATE SET data = excluded.data", cancellationToken, ("@id", instance.TaskId), ("@a", instance.AppId), ("@d", JsonSerializer.Serialize(instance, Json))).ConfigureAwait(false);
            }

            foreach (var id in changes.DeletedDeployments)
            {
                await statements.ExecAsync("DELETE FROM deployments WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
            }

            await SaveDiscoveryAsync(statements, changes, cancellationToken).ConfigureAwait(false);
            foreach (var deployment in changes.Deployments)
            {
                await statements.ExecAsync("INSERT INTO deployments (id, data) VALUES (@id, @d) ON CONFLICT (id) DO UPDATE SET data = excluded.data", cancellationToken, ("@id", deployment.Id), ("@d", JsonSerializer.Serialize(deployment, Json))).ConfigureAwait(false);
            }
        }, cancellationToken);

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql, (string Name, object Value)[] parameters)
    {
        return SqlDatabase.Command(connection, transaction, sql, [.. parameters.Select(p => (p.Name, (object?)p.Value))]);
    }


    private static async IAsyncEnumerable<(string First, string Second)> ReadPairsAsync(
        DbConnection connection,
        DbTransaction transaction,
        string sql,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        var command = Command(connection, transaction, sql, parameters);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return (reader.GetString(0), reader.GetString(1));
                }
            }
        }
    }
}

/// <summary>All stored rows.</summary>
internal sealed record StoredState(string? FrameworkId, List<StoredApp> Apps, List<StoredInstance> Instances, List<StoredDeployment> Deployments);

/// <summary>One batch of writes.</summary>
internal sealed class StoreChanges
{
    public string? FrameworkId { get; set; }

    public List<StoredApp> Apps { get; } = [];

    public List<string> DeletedApps { get; } = [];

    public List<(string AppId, string Version, string Definition)> Versions { get; } = [];

    public List<StoredInstance> Instances { get; } = [];

    public List<string> DeletedInstances { get; } = [];

    public List<StoredDeployment> Deployments { get; } = [];

    public List<string> DeletedDeployments { get; } = [];

    /// <summary>Instances' discovery rows (model state, IP) to write.</summary>
    public List<StoredDiscovery> Discovery { get; } = [];

    /// <summary>Task ids whose discovery rows go.</summary>
    public List<string> DeletedDiscovery { get; } = [];

    public bool IsEmpty => FrameworkId is null && Apps.Count == 0 && DeletedApps.Count == 0 && Versions.Count == 0
        && Instances.Count == 0 && DeletedInstances.Count == 0 && Deployments.Count == 0 && DeletedDeployments.Count == 0
        && Discovery.Count == 0 && DeletedDiscovery.Count == 0;
}

/// <summary>An app row: its definitions (Marathon JSON, in their own columns) and scheduler state.</summary>
internal sealed record StoredApp
{
    public required string Id { get; init; }

    [JsonIgnore]
    public string Definition { get; init; } = "";

    /// <summary>The applied definition when it differs from <see cref="Definition"/>.</summary>
    [JsonIgnore]
    public string? AppliedDefinition { get; init; }

    /// <summary>How the applied definition relates to the definition: <c>same</c>, <c>none</c> (not started) or <c>own</c>.</summary>
    public string Applied { get; init; } = "same";

    public DateTimeOffset ConfigVersion { get; init; }

    public DateTimeOffset LastScalingAt { get; init; }

    public int BackoffFailures { get; init; }

    public double BackoffDelaySeconds { get; init; }

    public DateTimeOffset? BackoffLastFailureAt { get; init; }

    public TaskFailure? LastTaskFailure { get; init; }
}

/// <summary>An instance row.</summary>
internal sealed record StoredInstance
{
    public required string TaskId { get; init; }

    public required string AppId { get; init; }

    public DateTimeOffset ConfigVersion { get; init; }

    public DateTimeOffset AppVersion { get; init; }

    public string? State { get; init; }

    public string? AgentId { get; init; }

    public string? Hostname { get; init; }

    public Dictionary<string, string>? Attributes { get; init; }

    public DateTimeOffset? StagedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public bool? Healthy { get; init; }

    public int ConsecutiveHealthFailures { get; init; }

    public bool Decommissioned { get; init; }

    public List<long>? Ports { get; init; }
}

/// <summary>A running deployment row: enough to rebuild its plan and resume at its step.</summary>
internal sealed record StoredDeployment
{
    public required string Id { get; init; }

    /// <summary>Start order among deployments.</summary>
    public long Seq { get; init; }

    public DateTimeOffset Version { get; init; }

    public required List<JsonElement> Original { get; init; }

    public required List<JsonElement> Target { get; init; }

    public Dictionary<string, List<string>>? ToKill { get; init; }

    public int CurrentStep { get; init; }

    public DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset LastProgressAt { get; init; }

    public bool RollbackOnFailure { get; init; }

    public Dictionary<string, DateTimeOffset>? ConfigVersions { get; init; }

    public Dictionary<string, DateTimeOffset>? OriginalConfigVersions { get; init; }
}
