using System.Data.Common;

namespace DatacenterOs.Storage;

/// <summary>
/// The statements of one write transaction, prepared once per SQL text and re-bound for every row: a batch of 1,000
/// upserts parses its SQL once (per engine: SQLite prepares, PostgreSQL reuses the command) instead of 1,000 times. Parameters are bound by position, so every call with the same
/// SQL must pass the same parameter names in the same order. Dispose at the end of the transaction.
/// </summary>
public sealed class StatementBatch : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>Creates a batch for <paramref name="transaction"/> on <paramref name="connection"/>.</summary>
    public StatementBatch(DbConnection connection, DbTransaction transaction)
    {
        _connection = connection ?? throw new ArgumentNullException(nameof(connection));
        _transaction = transaction ?? throw new ArgumentNullException(nameof(transaction));
    }

    /// <summary>
    /// Executes <paramref name="sql"/> with <paramref name="parameters"/> (null values are bound as SQL NULL); returns the
    /// number of rows changed.
    /// </summary>
    /// <exception cref="ArgumentException">The SQL was run before with a different number of parameters.</exception>
    /// <exception cref="DbException">The engine refused the statement.</exception>
    public async Task<int> ExecAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(parameters);
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = _connection.CreateCommand();
            command.Transaction = _transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value ?? DBNull.Value;
                command.Parameters.Add(parameter);
            }

            _commands[sql] = command;
        }
        else
        {
            if (command.Parameters.Count != parameters.Length)
            {
                throw new ArgumentException($"statement run before with {command.Parameters.Count} parameters, now {parameters.Length}", nameof(parameters));
            }

            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }
        }

        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Disposes the prepared commands.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var command in _commands.Values)
        {
            await command.DisposeAsync().ConfigureAwait(false);
        }

        _commands.Clear();
    }
}
