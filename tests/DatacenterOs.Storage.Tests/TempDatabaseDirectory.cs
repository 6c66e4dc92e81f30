using Microsoft.Data.Sqlite;

namespace DatacenterOs.Storage.Tests;

/// <summary>A fresh temporary directory for database files, deleted (with its pooled connections) on dispose.</summary>
internal sealed class TempDatabaseDirectory : IDisposable
{
    public TempDatabaseDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "dcos-storage-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>A database path in a not-yet-existing subdirectory, like <c>./.dcos/master.db</c>.</summary>
    public string DatabasePath => Path.Combine(Root, ".dcos", "master.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
