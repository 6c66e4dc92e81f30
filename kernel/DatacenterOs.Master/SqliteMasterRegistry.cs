using System.Text;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Storage;

namespace DatacenterOs.Master;

/// <summary><see cref="IMasterRegistry"/> on the SQLite <see cref="MasterRegistryStore"/> (the single-master default).</summary>
public sealed class SqliteMasterRegistry : IMasterRegistry, IDisposable
{
    private readonly SqliteDatabase _database;
    private readonly MasterRegistryStore _store;
    private readonly Func<string> _newId;

    private SqliteMasterRegistry(SqliteDatabase database, Func<string> newId)
    {
        _database = database;
        _store = new MasterRegistryStore(database);
        _newId = newId;
    }

    /// <summary>Opens (and migrates) <c>master.db</c> in <paramref name="workDir"/>.</summary>
    public static async Task<SqliteMasterRegistry> OpenAsync(string workDir, Func<string> newId, CancellationToken cancellationToken)
    {
        var database = await SqliteDatabase.OpenAsync(Path.Combine(workDir, "master.db"), null, cancellationToken).ConfigureAwait(false);
        return new SqliteMasterRegistry(database, newId);
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
