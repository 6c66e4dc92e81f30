using System.Text;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Storage;

namespace DatacenterOs.Master;

/// <summary>
/// <see cref="IMasterRegistry"/> on the <see cref="MasterRegistryStore"/>: <c>master.db</c> (SQLite, the single-master
/// default) or the schema <c>dcos_master</c> of a PostgreSQL database shared by every master of a cluster.
/// </summary>
public sealed class SqlMasterRegistry : IMasterRegistry, IDisposable
{
    private readonly SqlDatabase _database;
    private readonly MasterRegistryStore _store;
    private readonly Func<string> _newId;

    private SqlMasterRegistry(SqlDatabase database, Func<string> newId)
    {
        _database = database;
        _store = new MasterRegistryStore(database);
        _newId = newId;
    }

    /// <summary>The underlying database (a leader sets its write fence here).</summary>
    public SqlDatabase Database => _database;

    /// <summary>Opens (and migrates) <c>master.db</c> in <paramref name="workDir"/>.</summary>
    public static Task<SqlMasterRegistry> OpenAsync(string workDir, Func<string> newId, CancellationToken cancellationToken) =>
        OpenAsync(StoreLocation.Sqlite(workDir), newId, cancellationToken);

    /// <summary>Opens (and migrates) the registry at <paramref name="location"/>: <c>master.db</c> or schema <c>dcos_master</c>.</summary>
    /// <param name="location">Where the stores live.</param>
    /// <param name="newId">Generates the cluster id when none is stored yet.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <returns>The registry (dispose it to release connections).</returns>
    public static async Task<SqlMasterRegistry> OpenAsync(StoreLocation location, Func<string> newId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(location);
        var database = await location.OpenAsync("master", SchemaMigrations.All, null, cancellationToken).ConfigureAwait(false);
        return new SqlMasterRegistry(database, newId);
    }

    /// <inheritdoc />
    public async Task<RecoveredRegistry> LoadAsync(CancellationToken cancellationToken)
    {
        var masterId = await _store.GetOrCreateMasterIdAsync(_newId, cancellationToken).ConfigureAwait(false);
        var snapshot = await _store.LoadAsync(cancellationToken).ConfigureAwait(false);
        return new RecoveredRegistry(
            masterId,
            [.. snapshot.Frameworks.Select(f => new RecoveredFramework(f.Id, MesosJson.Deserialize<FrameworkInfoDto>(Encoding.UTF8.GetBytes(f.InfoJson)), f.RegisteredAt))],
            [.. snapshot.Agents.Select(a => new RecoveredAgent(a.Id, MesosJson.Deserialize<AgentInfoDto>(Encoding.UTF8.GetBytes(a.InfoJson)), a.RegisteredAt, a.DynamicReservations))],
            snapshot.Weights,
            snapshot.Quotas);
    }

    /// <inheritdoc />
    public Task<long> NextSequenceAsync(string name, CancellationToken cancellationToken) => _store.NextSequenceAsync(name, cancellationToken);

    /// <inheritdoc />
    public Task SaveFrameworkAsync(string id, FrameworkInfoDto info, DateTimeOffset registeredAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        return _store.UpsertFrameworkAsync(new FrameworkRecord(id, Encoding.UTF8.GetString(MesosJson.Serialize(info)), Math.Max(0, info.FailoverTimeout ?? 0), registeredAt, null), cancellationToken);
    }

    /// <inheritdoc />
    public Task RemoveFrameworkAsync(string id, CancellationToken cancellationToken) => _store.RemoveFrameworkAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task SaveAgentAsync(string id, AgentInfoDto info, DateTimeOffset registeredAt, string? dynamicReservations, CancellationToken cancellationToken) =>
        _store.UpsertAgentAsync(new AgentRecord(id, Encoding.UTF8.GetString(MesosJson.Serialize(info)), registeredAt, dynamicReservations), cancellationToken);

    /// <inheritdoc />
    public Task RemoveAgentAsync(string id, CancellationToken cancellationToken) => _store.RemoveAgentAsync(id, cancellationToken);

    /// <inheritdoc />
    public Task SaveWeightsAsync(IReadOnlyDictionary<string, double> weights, CancellationToken cancellationToken) => _store.SetWeightsAsync(weights, cancellationToken);

    /// <inheritdoc />
    public Task SaveQuotasAsync(IReadOnlyDictionary<string, string?> quotas, CancellationToken cancellationToken) => _store.SetQuotasAsync(quotas, cancellationToken);

    /// <inheritdoc />
    public void Dispose() => _database.Dispose();
}
