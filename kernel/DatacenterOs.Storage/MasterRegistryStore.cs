using System.Globalization;
using System.Data.Common;

namespace DatacenterOs.Storage;

/// <summary>
/// The master's persistent registry (master id, frameworks, agents, role weights and quotas, id sequences) on a
/// <see cref="SqlDatabase"/> (a SQLite file or a PostgreSQL schema, same SQL). Every write runs in its own transaction, so a failure or crash never leaves a
/// half-applied change. The store takes no time from the clock: callers pass every timestamp. Thread-safe; several
/// stores (also in other processes) may share one file.
/// </summary>
public sealed class MasterRegistryStore
{
    private const string MasterIdKey = "master_id";

    private readonly SqlDatabase _database;

    /// <summary>Creates a store over an open, migrated database (the store does not own or dispose it).</summary>
    /// <param name="database">The database holding the registry.</param>
    public MasterRegistryStore(SqlDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <summary>Reads the whole registry in one consistent snapshot.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The registry contents.</returns>
    public Task<RegistrySnapshot> LoadAsync(CancellationToken cancellationToken = default) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            var masterId = await ReadMasterIdAsync(connection, transaction, cancellationToken).ConfigureAwait(false);

            var frameworks = await QueryAsync(connection, transaction,
                "SELECT id, info_json, failover_timeout_seconds, registered_at, disconnected_at FROM frameworks;",
                r => new FrameworkRecord(
                    r.GetString(0),
                    r.GetString(1),
                    r.GetDouble(2),
                    StorageTime.FromText(r.GetString(3)),
                    r.IsDBNull(4) ? null : StorageTime.FromText(r.GetString(4))),
                cancellationToken).ConfigureAwait(false);
            frameworks.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));

            var agents = await QueryAsync(connection, transaction,
                "SELECT id, info_json, registered_at, dynamic_reservations FROM agents;",
                r => new AgentRecord(
                    r.GetString(0),
                    r.GetString(1),
                    StorageTime.FromText(r.GetString(2)),
                    r.IsDBNull(3) ? null : r.GetString(3)),
                cancellationToken).ConfigureAwait(false);
            agents.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));

            var weights = (await QueryAsync(connection, transaction, "SELECT role, weight FROM role_weights;",
                    r => KeyValuePair.Create(r.GetString(0), r.GetDouble(1)), cancellationToken).ConfigureAwait(false))
                .ToDictionary(StringComparer.Ordinal);

            var quotas = (await QueryAsync(connection, transaction, "SELECT role, limits FROM role_quotas;",
                    r => KeyValuePair.Create(r.GetString(0), r.GetString(1)), cancellationToken).ConfigureAwait(false))
                .ToDictionary(StringComparer.Ordinal);

            return new RegistrySnapshot(masterId, frameworks, agents, weights, quotas);
        }, cancellationToken);

    /// <summary>
    /// Returns the stored master/cluster id, storing <paramref name="newId"/>() first if there is none yet.
    /// <paramref name="newId"/> is called at most once, and only when no id is stored.
    /// </summary>
    /// <param name="newId">Generates the id to store; must return a non-empty string.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The id stored in the registry (the existing one, or the newly generated one).</returns>
    /// <exception cref="ArgumentException"><paramref name="newId"/> returned an empty id; nothing is stored.</exception>
    public async Task<string> GetOrCreateMasterIdAsync(Func<string> newId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(newId);
        var existing = await _database.ReadAsync(
            (connection, transaction) => ReadMasterIdAsync(connection, transaction, cancellationToken), cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            return existing;
        }

        return await _database.WriteAsync(async (connection, transaction) =>
        {
            // Re-check under the write lock: another store may have created it meanwhile.
            var stored = await ReadMasterIdAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                return stored;
            }

            var id = newId();
            if (string.IsNullOrEmpty(id))
            {
                throw new ArgumentException("The master id generator returned an empty id.", nameof(newId));
            }

            // ON CONFLICT: on PostgreSQL (READ COMMITTED) another master may insert between our check and our insert.
            await ExecuteAsync(connection, transaction, "INSERT INTO master_info (name, value) VALUES (@name, @value) ON CONFLICT (name) DO NOTHING;",
                [("@name", MasterIdKey), ("@value", id)], cancellationToken).ConfigureAwait(false);
            return await ReadMasterIdAsync(connection, transaction, cancellationToken).ConfigureAwait(false) ?? id;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inserts the framework, or replaces every field of the stored one with the same id.</summary>
    /// <param name="framework">The framework to store.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">The id is empty or the failover timeout is negative, NaN or infinite.</exception>
    public Task UpsertFrameworkAsync(FrameworkRecord framework, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(framework);
        ArgumentException.ThrowIfNullOrEmpty(framework.Id, nameof(framework));
        ArgumentNullException.ThrowIfNull(framework.InfoJson, nameof(framework));
        if (!double.IsFinite(framework.FailoverTimeoutSeconds) || framework.FailoverTimeoutSeconds < 0)
        {
            throw new ArgumentException(
                $"Failover timeout of framework '{framework.Id}' must be finite and non-negative (was {framework.FailoverTimeoutSeconds.ToString(CultureInfo.InvariantCulture)}).",
                nameof(framework));
        }

        return WriteAsync("""
            INSERT INTO frameworks (id, info_json, failover_timeout_seconds, registered_at, disconnected_at)
            VALUES (@id, @info, @failover, @registered, @disconnected)
            ON CONFLICT (id) DO UPDATE SET
                info_json = excluded.info_json,
                failover_timeout_seconds = excluded.failover_timeout_seconds,
                registered_at = excluded.registered_at,
                disconnected_at = excluded.disconnected_at;
            """,
            [
                ("@id", framework.Id),
                ("@info", framework.InfoJson),
                ("@failover", framework.FailoverTimeoutSeconds),
                ("@registered", StorageTime.ToText(framework.RegisteredAt)),
                ("@disconnected", framework.DisconnectedAt is { } at ? StorageTime.ToText(at) : null),
            ],
            cancellationToken);
    }

    /// <summary>Removes the framework; removing an unknown id does nothing.</summary>
    /// <param name="frameworkId">Id of the framework to remove.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    public Task RemoveFrameworkAsync(string frameworkId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(frameworkId);
        return WriteAsync("DELETE FROM frameworks WHERE id = @id;", [("@id", frameworkId)], cancellationToken);
    }

    /// <summary>Inserts the agent, or replaces every field of the stored one with the same id.</summary>
    /// <param name="agent">The agent to store.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">The id is empty.</exception>
    public Task UpsertAgentAsync(AgentRecord agent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentException.ThrowIfNullOrEmpty(agent.Id, nameof(agent));
        ArgumentNullException.ThrowIfNull(agent.InfoJson, nameof(agent));
        return WriteAsync("""
            INSERT INTO agents (id, info_json, registered_at, dynamic_reservations)
            VALUES (@id, @info, @registered, @reservations)
            ON CONFLICT (id) DO UPDATE SET
                info_json = excluded.info_json,
                registered_at = excluded.registered_at,
                dynamic_reservations = excluded.dynamic_reservations;
            """,
            [
                ("@id", agent.Id),
                ("@info", agent.InfoJson),
                ("@registered", StorageTime.ToText(agent.RegisteredAt)),
                ("@reservations", agent.DynamicReservations),
            ],
            cancellationToken);
    }

    /// <summary>Removes the agent; removing an unknown id does nothing.</summary>
    /// <param name="agentId">Id of the agent to remove.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    public Task RemoveAgentAsync(string agentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(agentId);
        return WriteAsync("DELETE FROM agents WHERE id = @id;", [("@id", agentId)], cancellationToken);
    }

    /// <summary>Sets the weight of <paramref name="role"/> (Mesos <c>/weights</c>), replacing any previous one.</summary>
    /// <param name="role">The role; non-empty.</param>
    /// <param name="weight">The weight; finite and greater than 0.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">The role is empty or the weight is not finite and positive; nothing is written.</exception>
    public Task SetWeightAsync(string role, double weight, CancellationToken cancellationToken = default) =>
        SetWeightsAsync(new Dictionary<string, double>(StringComparer.Ordinal) { [ValidRole(role, nameof(role))] = weight }, cancellationToken);

    /// <summary>Sets several role weights in one transaction: all are written, or (on any invalid entry) none.</summary>
    /// <param name="weights">Role → weight; every weight finite and greater than 0.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">A role is empty or a weight is not finite and positive (the message names the role); nothing is written.</exception>
    public Task SetWeightsAsync(IReadOnlyDictionary<string, double> weights, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var entries = weights.ToList();
        foreach (var (role, weight) in entries)
        {
            ValidRole(role, nameof(weights));
            if (!double.IsFinite(weight) || weight <= 0)
            {
                throw new ArgumentException(
                    $"Weight of role '{role}' must be finite and greater than 0 (was {weight.ToString(CultureInfo.InvariantCulture)}).", nameof(weights));
            }
        }

        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        return _database.WriteAsync(async (connection, transaction) =>
        {
            foreach (var (role, weight) in entries)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO role_weights (role, weight) VALUES (@role, @weight)
                    ON CONFLICT (role) DO UPDATE SET weight = excluded.weight;
                    """, [("@role", role), ("@weight", weight)], cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);
    }

    /// <summary>Sets (or, with null, removes) the quota of <paramref name="role"/>.</summary>
    /// <param name="role">The role; non-empty.</param>
    /// <param name="limitsText">Quota limits text such as <c>cpus:4;mem:4096</c> (opaque to the store); null removes the quota.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">The role is empty; nothing is written.</exception>
    public Task SetQuotaAsync(string role, string? limitsText, CancellationToken cancellationToken = default) =>
        SetQuotasAsync(new Dictionary<string, string?>(StringComparer.Ordinal) { [ValidRole(role, nameof(role))] = limitsText }, cancellationToken);

    /// <summary>Sets or removes several quotas in one transaction: all are applied, or (on any invalid entry) none.</summary>
    /// <param name="quotas">Role → limits text; a null value removes that role's quota.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the write is committed.</returns>
    /// <exception cref="ArgumentException">A role is empty; nothing is written.</exception>
    public Task SetQuotasAsync(IReadOnlyDictionary<string, string?> quotas, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(quotas);
        var entries = quotas.ToList();
        foreach (var (role, _) in entries)
        {
            ValidRole(role, nameof(quotas));
        }

        if (entries.Count == 0)
        {
            return Task.CompletedTask;
        }

        return _database.WriteAsync(async (connection, transaction) =>
        {
            foreach (var (role, limits) in entries)
            {
                if (limits is null)
                {
                    await ExecuteAsync(connection, transaction, "DELETE FROM role_quotas WHERE role = @role;",
                        [("@role", role)], cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await ExecuteAsync(connection, transaction, """
                        INSERT INTO role_quotas (role, limits) VALUES (@role, @limits)
                        ON CONFLICT (role) DO UPDATE SET limits = excluded.limits;
                        """, [("@role", role), ("@limits", limits)], cancellationToken).ConfigureAwait(false);
                }
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Advances the persisted counter <paramref name="name"/> and returns its new value: 1 on first use, then 2, 3,
    /// … — strictly increasing per name, across restarts and across stores sharing the file.
    /// </summary>
    /// <param name="name">Counter name, e.g. <c>framework</c> or <c>agent</c>; non-empty.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The counter's new value.</returns>
    public Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return _database.WriteAsync(async (connection, transaction) =>
        {
            using var command = CreateCommand(connection, transaction, """
                INSERT INTO sequences (name, value) VALUES (@name, 1)
                ON CONFLICT (name) DO UPDATE SET value = sequences.value + 1
                RETURNING value;
                """, [("@name", name)]);
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    private static string ValidRole(string role, string paramName)
    {
        if (string.IsNullOrEmpty(role))
        {
            throw new ArgumentException("Role must be non-empty.", paramName);
        }

        return role;
    }

    private Task WriteAsync(string sql, (string Name, object? Value)[] parameters, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            (connection, transaction) => ExecuteAsync(connection, transaction, sql, parameters, cancellationToken), cancellationToken);

    private static async Task<string?> ReadMasterIdAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        using var command = CreateCommand(connection, transaction, "SELECT value FROM master_info WHERE name = @name;", [("@name", MasterIdKey)]);
        return (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task ExecuteAsync(
        DbConnection connection, DbTransaction transaction, string sql, (string Name, object? Value)[] parameters, CancellationToken cancellationToken)
    {
        using var command = CreateCommand(connection, transaction, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<T>> QueryAsync<T>(
        DbConnection connection, DbTransaction transaction, string sql, Func<DbDataReader, T> map, CancellationToken cancellationToken)
    {
        using var command = CreateCommand(connection, transaction, sql, []);
        var rows = new List<T>();
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(map(reader));
            }
        }

        return rows;
    }

    private static DbCommand CreateCommand(DbConnection connection, DbTransaction transaction, string sql, (string Name, object? Value)[] parameters)
    {
        return SqlDatabase.Command(connection, transaction, sql, parameters);
    }
}
