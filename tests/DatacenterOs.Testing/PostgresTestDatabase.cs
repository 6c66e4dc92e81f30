using System.Globalization;
using DatacenterOs.Storage;
using Npgsql;

namespace DatacenterOs.Testing;

/// <summary>
/// A fresh PostgreSQL database for one test (<c>CREATE DATABASE dcos_t_…</c>, dropped with <c>WITH (FORCE)</c> on
/// dispose), on the server named by the environment variable <c>DCOS_TEST_POSTGRES</c> (a <c>postgres://</c> URL whose
/// role may create databases), by default <see cref="DefaultServer"/>, which <c>eng/setup-postgres.sh</c> creates.
/// </summary>
public sealed class PostgresTestDatabase : IAsyncDisposable
{
    /// <summary>The server <c>eng/setup-postgres.sh</c> prepares: role and database <c>dcos</c> on 127.0.0.1:5432.</summary>
    public const string DefaultServer = "postgres://dcos:dcos@127.0.0.1:5432/dcos";

    private static readonly Lazy<string?> Problem = new(FindProblem);

    private PostgresTestDatabase(string name, string url)
    {
        Name = name;
        Url = url;
    }

    /// <summary>The server URL the tests use (<c>DCOS_TEST_POSTGRES</c> or <see cref="DefaultServer"/>).</summary>
    public static string Server => Environment.GetEnvironmentVariable("DCOS_TEST_POSTGRES") is { Length: > 0 } url ? url : DefaultServer;

    /// <summary>True under <c>CI=true</c>, where a missing PostgreSQL fails the tests instead of skipping them.</summary>
    public static bool UnderCi => Environment.GetEnvironmentVariable("CI") == "true";

    /// <summary>Null when the server answers, else why not (for a skip reason).</summary>
    public static string? Unavailable => Problem.Value;

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary><c>postgres://</c> URL of this test's database.</summary>
    public string Url { get; }

    /// <summary>Creates a database with a unique name.</summary>
    /// <exception cref="NpgsqlException">The server cannot be reached or refused.</exception>
    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var name = "dcos_t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var admin = await OpenServerAsync())
        {
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name};", admin);
            await command.ExecuteNonQueryAsync();
        }

        var builder = new UriBuilder(Server) { Path = "/" + name };
        return new PostgresTestDatabase(name, builder.Uri.ToString());
    }

    /// <summary>
    /// <c>pg_terminate_backend</c> on every session of this database whose <c>application_name</c> starts with
    /// <paramref name="applicationNamePrefix"/>; returns how many were terminated.
    /// </summary>
    public async Task<int> TerminateConnectionsAsync(string applicationNamePrefix)
    {
        await using var admin = await OpenServerAsync();
        await using var command = new NpgsqlCommand(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @db AND application_name LIKE @prefix AND pid <> pg_backend_pid();", admin);
        command.Parameters.AddWithValue("db", Name);
        command.Parameters.AddWithValue("prefix", applicationNamePrefix.Replace("%", "\\%", StringComparison.Ordinal) + "%");
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Drops the database, ending its sessions.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = await OpenServerAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE);", admin);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<NpgsqlConnection> OpenServerAsync()
    {
        var builder = PostgresConnection.Parse(Server);
        builder.Pooling = false;
        builder.Timeout = 5;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static string? FindProblem()
    {
        try
        {
            using var connection = OpenServerAsync().GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e) when (e is NpgsqlException or ArgumentException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return $"PostgreSQL at {PostgresConnection.Redact(Server)} is unavailable ({e.Message}); run eng/setup-postgres.sh or set DCOS_TEST_POSTGRES";
        }
    }
}
