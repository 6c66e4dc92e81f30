using System.Globalization;
using DatacenterOs.Jobs.Core;
using DatacenterOs.Storage;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DatacenterOs.Jobs;

/// <summary>
/// The Jobs framework's persistent state in its own SQLite file (default <c>./.dcos/jobs.db</c>) or PostgreSQL schema (<c>dcos_jobs</c>): the framework id and
/// the instant of the last trigger evaluation (<c>jobs_meta</c>), the jobs as Chronos JSON (<c>jobs</c>), every run
/// attempt as a row (<c>job_runs</c>: job, scheduled instant, deterministic run id, attempt, DAG run, state, exit code,
/// reason, created/start/running/end instants, agent, task id, arguments, stdout tail) and the trigger cursors
/// (<c>job_cursors</c>). Quartz's AdoJobStore keeps its <c>QRTZ_*</c> tables in the same file. Every change is one
/// transaction written before the scheduler acts on it (a run row before its launch is sent), so a restarted
/// <see cref="JobsService"/> neither loses nor duplicates a run. Instants are ISO 8601 UTC text
/// (<c>2026-01-01T00:00:00.0000000+00:00</c>), sortable as text.
/// </summary>
public sealed class JobsStore : IDisposable
{
    /// <summary>The schema of <c>jobs.db</c> as ordered migrations.</summary>
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "jobs, runs, cursors", """
            CREATE TABLE jobs_meta (
                name  TEXT PRIMARY KEY,
                value TEXT NOT NULL
            );
            CREATE TABLE jobs (
                name       TEXT PRIMARY KEY,
                definition TEXT NOT NULL
            );
            CREATE TABLE job_runs (
                run_id        TEXT PRIMARY KEY,
                job_name      TEXT NOT NULL,
                dag_run_id    TEXT NOT NULL,
                root_job      TEXT NOT NULL,
                scheduled_for TEXT NOT NULL,
                attempt       INTEGER NOT NULL,
                run_trigger   TEXT NOT NULL,
                state         TEXT NOT NULL,
                created_at    TEXT NOT NULL,
                not_before    TEXT NOT NULL,
                started_at    TEXT NULL,
                running_at    TEXT NULL,
                finished_at   TEXT NULL,
                exit_code     INTEGER NULL,
                agent_id      TEXT NULL,
                task_id       TEXT NULL,
                reason        TEXT NULL,
                arguments     TEXT NULL,
                stdout        TEXT NULL
            );
            CREATE INDEX job_runs_by_job ON job_runs (job_name, created_at);
            CREATE INDEX job_runs_by_dag ON job_runs (dag_run_id);
            CREATE INDEX job_runs_by_state ON job_runs (state);
            CREATE TABLE job_cursors (
                job_name TEXT PRIMARY KEY,
                at       TEXT NOT NULL,
                basis    TEXT NOT NULL
            );
            """),
    ];

    private const string RunColumns =
        "run_id, job_name, dag_run_id, root_job, scheduled_for, attempt, run_trigger, state, created_at, not_before, started_at, running_at, finished_at, exit_code, agent_id, task_id, reason, arguments, stdout";

    private readonly SqlDatabase _database;

    private JobsStore(SqlDatabase database) => _database = database;

    /// <summary>Where the data lives: the file path (SQLite) or <c>host:port/database (schema dcos_jobs)</c>.</summary>
    public string FilePath => _database.Location;

    /// <summary>ADO.NET connection string of the database (for Quartz's AdoJobStore next to the jobs tables).</summary>
    public string ConnectionString => _database.ConnectionString;

    /// <summary>The engine: Quartz runs clustered on PostgreSQL.</summary>
    public SqlEngine Engine => _database.Engine;

    /// <summary>The underlying database (to set a leader's write fence).</summary>
    public SqlDatabase Database => _database;

    /// <summary>Finished runs kept per job; older finished rows are deleted (Metronome keeps 1000).</summary>
    public int MaxRunsPerJob { get; init; } = 1000;

    /// <summary>Opens (creating and migrating) the store at <paramref name="path"/>.</summary>
    /// <param name="path">The database file, e.g. <c>./.dcos/jobs.db</c>.</param>
    /// <param name="options">SQLite settings (busy timeout); null for the defaults.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="SqliteException">The file cannot be opened or migrated.</exception>
    /// <exception cref="InvalidOperationException">The file's schema is newer than this build.</exception>
    public static async Task<JobsStore> OpenAsync(string path, SqliteDatabaseOptions? options = null, CancellationToken cancellationToken = default)
    {
        var database = await SqliteDatabase.OpenAsync(path, Migrations, options, cancellationToken).ConfigureAwait(false);
        return new JobsStore(database);
    }

    /// <summary>Opens (creating and migrating) the store <c>jobs</c> at <paramref name="location"/>: <c>jobs.db</c> or the PostgreSQL schema <c>dcos_jobs</c>.</summary>
    /// <param name="location">Where the process keeps its stores.</param>
    /// <param name="cancellationToken">Cancels opening.</param>
    /// <exception cref="DbException">The database cannot be opened or migrated.</exception>
    /// <exception cref="InvalidOperationException">The schema is newer than this build.</exception>
    public static async Task<JobsStore> OpenAsync(StoreLocation location, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        return new JobsStore(await location.OpenAsync("jobs", Migrations, null, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Releases the file's pooled connections.</summary>
    public void Dispose() => _database.Dispose();

    /// <summary>
    /// What the service needs in memory: meta, jobs, cursors, every unfinished run and every run of a DAG run that has
    /// one, and the newest <paramref name="runsPerJob"/> runs of each job.
    /// </summary>
    internal Task<StoredJobsState> LoadAsync(int runsPerJob, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            await foreach (var row in QueryAsync(connection, transaction, "SELECT name, value FROM jobs_meta", cancellationToken).ConfigureAwait(false))
            {
                meta[row.GetString(0)] = row.GetString(1);
            }

            var jobs = new List<string>();
            await foreach (var row in QueryAsync(connection, transaction, "SELECT definition FROM jobs ORDER BY name", cancellationToken).ConfigureAwait(false))
            {
                jobs.Add(row.GetString(0));
            }

            var cursors = new Dictionary<string, JobCursor>(StringComparer.Ordinal);
            await foreach (var row in QueryAsync(connection, transaction, "SELECT job_name, at, basis FROM job_cursors", cancellationToken).ConfigureAwait(false))
            {
                cursors[row.GetString(0)] = new JobCursor(ParseInstant(row.GetString(1)), row.GetString(2));
            }

            var runs = new List<StoredRun>();
            var sql = $"""
                SELECT {RunColumns} FROM job_runs
                WHERE state IN ('pending', 'running')
                   OR dag_run_id IN (SELECT dag_run_id FROM job_runs WHERE state IN ('pending', 'running'))
                   OR run_id IN (SELECT run_id FROM (SELECT run_id, ROW_NUMBER() OVER (PARTITION BY job_name ORDER BY created_at DESC, run_id DESC) AS n FROM job_runs) AS ranked WHERE n <= @n)
                """;
            await foreach (var row in QueryAsync(connection, transaction, sql, cancellationToken, ("@n", runsPerJob)).ConfigureAwait(false))
            {
                runs.Add(ReadRun(row));
            }

            return new StoredJobsState(
                meta.GetValueOrDefault("framework_id"),
                meta.TryGetValue("last_evaluated", out var last) ? ParseInstant(last) : null,
                jobs,
                cursors,
                runs);
        }, cancellationToken);

    /// <summary>The newest runs of <paramref name="jobName"/>, newest first, at most <paramref name="limit"/>.</summary>
    internal Task<List<StoredRun>> ListRunsAsync(string jobName, int limit, CancellationToken cancellationToken) =>
        _database.ReadAsync(async (connection, transaction) =>
        {
            var runs = new List<StoredRun>();
            await foreach (var row in QueryAsync(connection, transaction, $"SELECT {RunColumns} FROM job_runs WHERE job_name = @j ORDER BY created_at DESC, run_id DESC LIMIT @n", cancellationToken, ("@j", jobName), ("@n", limit)).ConfigureAwait(false))
            {
                runs.Add(ReadRun(row));
            }

            return runs;
        }, cancellationToken);

    /// <summary>Writes one batch of changes in a single transaction.</summary>
    internal Task SaveAsync(JobsStoreChanges changes, CancellationToken cancellationToken) =>
        _database.WriteAsync(async (connection, transaction) =>
        {
            var statements = new StatementBatch(connection, transaction);
            await using var disposeStatements = statements.ConfigureAwait(false);
            foreach (var (name, value) in changes.Meta)
            {
                await statements.ExecAsync("INSERT INTO jobs_meta (name, value) VALUES (@n, @v) ON CONFLICT (name) DO UPDATE SET value = excluded.value", cancellationToken, ("@n", name), ("@v", value)).ConfigureAwait(false);
            }

            foreach (var name in changes.DeletedJobs)
            {
                await statements.ExecAsync("DELETE FROM jobs WHERE name = @n", cancellationToken, ("@n", name)).ConfigureAwait(false);
            }

            foreach (var (name, definition) in changes.Jobs)
            {
                await statements.ExecAsync("INSERT INTO jobs (name, definition) VALUES (@n, @d) ON CONFLICT (name) DO UPDATE SET definition = excluded.definition", cancellationToken, ("@n", name), ("@d", definition)).ConfigureAwait(false);
            }

            foreach (var run in changes.Runs)
            {
                await UpsertRunAsync(statements, run, cancellationToken).ConfigureAwait(false);
            }

            foreach (var name in changes.DeletedCursors)
            {
                await statements.ExecAsync("DELETE FROM job_cursors WHERE job_name = @n", cancellationToken, ("@n", name)).ConfigureAwait(false);
            }

            foreach (var (name, cursor) in changes.Cursors)
            {
                await statements.ExecAsync("INSERT INTO job_cursors (job_name, at, basis) VALUES (@n, @a, @b) ON CONFLICT (job_name) DO UPDATE SET at = excluded.at, basis = excluded.basis", cancellationToken, ("@n", name), ("@a", FormatInstant(cursor.At)), ("@b", cursor.Basis)).ConfigureAwait(false);
            }

            foreach (var job in changes.PruneJobs)
            {
                await statements.ExecAsync(
                    "DELETE FROM job_runs WHERE job_name = @j AND state NOT IN ('pending', 'running') AND run_id NOT IN (SELECT run_id FROM job_runs WHERE job_name = @j ORDER BY created_at DESC, run_id DESC LIMIT @n)",
                    cancellationToken,
                    ("@j", job),
                    ("@n", MaxRunsPerJob)).ConfigureAwait(false);
            }
        }, cancellationToken);

    private static async Task UpsertRunAsync(StatementBatch statements, StoredRun stored, CancellationToken cancellationToken)
    {
        var r = stored.Run;
        await statements.ExecAsync(
            $"""
            INSERT INTO job_runs ({RunColumns})
            VALUES (@id, @job, @dag, @root, @sched, @attempt, @trig, @state, @created, @nb, @started, @running, @finished, @exit, @agent, @task, @reason, @args, @stdout)
            ON CONFLICT (run_id) DO UPDATE SET state = excluded.state, not_before = excluded.not_before, started_at = excluded.started_at,
                running_at = excluded.running_at, finished_at = excluded.finished_at, exit_code = excluded.exit_code, agent_id = excluded.agent_id,
                task_id = excluded.task_id, reason = excluded.reason, arguments = excluded.arguments, stdout = excluded.stdout
            """,
            cancellationToken,
            ("@id", r.RunId),
            ("@job", r.JobName),
            ("@dag", r.DagRunId),
            ("@root", r.RootJob),
            ("@sched", FormatInstant(r.ScheduledFor)),
            ("@attempt", r.Attempt),
            ("@trig", Name(r.Trigger)),
            ("@state", Name(r.State)),
            ("@created", FormatInstant(r.CreatedAt)),
            ("@nb", FormatInstant(r.NotBefore)),
            ("@started", Nullable(r.StartedAt)),
            ("@running", Nullable(stored.RunningAt)),
            ("@finished", Nullable(r.FinishedAt)),
            ("@exit", (object?)r.ExitCode ?? DBNull.Value),
            ("@agent", (object?)r.AgentId ?? DBNull.Value),
            ("@task", (object?)r.TaskId ?? DBNull.Value),
            ("@reason", (object?)r.Reason ?? DBNull.Value),
            ("@args", (object?)r.Arguments ?? DBNull.Value),
            ("@stdout", (object?)stored.Stdout ?? DBNull.Value)).ConfigureAwait(false);
    }

    private static StoredRun ReadRun(DbDataReader row)
    {
        var run = new JobRun
        {
            RunId = row.GetString(0),
            JobName = row.GetString(1),
            DagRunId = row.GetString(2),
            RootJob = row.GetString(3),
            ScheduledFor = ParseInstant(row.GetString(4)),
            Attempt = row.GetInt32(5),
            Trigger = Enum.Parse<JobRunTrigger>(row.GetString(6), ignoreCase: true),
            State = Enum.Parse<JobRunState>(row.GetString(7), ignoreCase: true),
            CreatedAt = ParseInstant(row.GetString(8)),
            NotBefore = ParseInstant(row.GetString(9)),
            StartedAt = NullableInstant(row, 10),
            FinishedAt = NullableInstant(row, 12),
            ExitCode = row.IsDBNull(13) ? null : row.GetInt32(13),
            AgentId = row.IsDBNull(14) ? null : row.GetString(14),
            TaskId = row.IsDBNull(15) ? null : row.GetString(15),
            Reason = row.IsDBNull(16) ? null : row.GetString(16),
            Arguments = row.IsDBNull(17) ? null : row.GetString(17),
        };
        return new StoredRun(run, NullableInstant(row, 11), row.IsDBNull(18) ? null : row.GetString(18));
    }

    private static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    internal static string FormatInstant(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseInstant(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static object Nullable(DateTimeOffset? value) => value is { } v ? FormatInstant(v) : DBNull.Value;

    private static DateTimeOffset? NullableInstant(DbDataReader row, int column) => row.IsDBNull(column) ? null : ParseInstant(row.GetString(column));


    private static async IAsyncEnumerable<DbDataReader> QueryAsync(
        DbConnection connection,
        DbTransaction transaction,
        string sql,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        var command = SqlDatabase.Command(connection, transaction, sql, [.. parameters.Select(p => (p.Name, (object?)p.Value))]);
        await using (command.ConfigureAwait(false))
        {
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return reader;
                }
            }
        }
    }
}

/// <summary>One run row: the run plus what only the shell knows (when TASK_RUNNING arrived, the stdout tail).</summary>
/// <param name="Run">The run.</param>
/// <param name="RunningAt">When the service received TASK_RUNNING for its task (service clock), if it did.</param>
/// <param name="Stdout">The tail of the task's stdout, when fetched from the agent.</param>
internal sealed record StoredRun(JobRun Run, DateTimeOffset? RunningAt, string? Stdout);

/// <summary>What <see cref="JobsStore.LoadAsync"/> read.</summary>
internal sealed record StoredJobsState(
    string? FrameworkId,
    DateTimeOffset? LastEvaluated,
    List<string> Jobs,
    Dictionary<string, JobCursor> Cursors,
    List<StoredRun> Runs);

/// <summary>One batch of writes.</summary>
internal sealed class JobsStoreChanges
{
    public Dictionary<string, string> Meta { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Jobs { get; } = new(StringComparer.Ordinal);

    public List<string> DeletedJobs { get; } = [];

    public List<StoredRun> Runs { get; } = [];

    public Dictionary<string, JobCursor> Cursors { get; } = new(StringComparer.Ordinal);

    public List<string> DeletedCursors { get; } = [];

    public HashSet<string> PruneJobs { get; } = new(StringComparer.Ordinal);

    public bool IsEmpty => Meta.Count == 0 && Jobs.Count == 0 && DeletedJobs.Count == 0 && Runs.Count == 0
        && Cursors.Count == 0 && DeletedCursors.Count == 0 && PruneJobs.Count == 0;
}
