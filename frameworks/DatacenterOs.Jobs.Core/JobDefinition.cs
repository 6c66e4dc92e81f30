using System.Text.Json.Serialization;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// A Chronos job (Chronos 3.x <c>jobs/Jobs.scala</c>, <c>utils/JobDeserializer.scala</c>, <c>utils/JobSerializer.scala</c>)
/// with Chronos's JSON field names, plus the Metronome/Kubernetes-style additions
/// <see cref="StartingDeadlineSeconds"/>, <see cref="ConcurrencyPolicy"/>, <see cref="MaxRunSeconds"/>,
/// <see cref="RetryDelaySeconds"/> and <see cref="DependencyMode"/>.
/// <para>
/// A job is <em>scheduled</em> when <see cref="Schedule"/> is set and <em>dependent</em> when <see cref="Parents"/> is
/// set; exactly one of them must be (Chronos picks the type by the presence of <c>parents</c>). Scalars start at
/// Chronos's defaults; values whose default needs the server's settings or the current time (zero
/// <see cref="Cpus"/>/<see cref="Mem"/>/<see cref="Disk"/>, empty <see cref="RunAsUser"/>, a schedule without start,
/// no schedule at all) are filled in by <see cref="JobNormalizer.Normalize"/>. The record holds what the client
/// sent; lists compare by content.
/// </para>
/// </summary>
public sealed record JobDefinition
{
    /// <summary>Job name, the primary key: Chronos 3 allows <c>[\w.-]+</c> (<see cref="JobValidator.NamePattern"/>).</summary>
    [JsonPropertyOrder(0)]
    public string Name { get; init; } = string.Empty;

    /// <summary>Command; run via <c>/bin/sh -c</c> when <see cref="Shell"/> is true, else the executable.</summary>
    [JsonPropertyOrder(1)]
    public string Command { get; init; } = string.Empty;

    /// <summary>True (default): <see cref="Command"/> is a shell command line; false: it is an executable run with <see cref="Arguments"/>.</summary>
    [JsonPropertyOrder(2)]
    public bool Shell { get; init; } = true;

    /// <summary>
    /// Chronos 2.x grace window for a missed occurrence, an ISO 8601 duration such as <c>PT60S</c>; an alias of
    /// <see cref="StartingDeadlineSeconds"/> (the normalizer keeps both in step). Chronos 3.x ignores it.
    /// </summary>
    [JsonPropertyOrder(3)]
    public string? Epsilon { get; init; }

    /// <summary>Custom Mesos executor (Chronos field, passed through); empty means the command executor.</summary>
    [JsonPropertyOrder(4)]
    public string Executor { get; init; } = string.Empty;

    /// <summary>Flags of the custom executor (Chronos field, passed through).</summary>
    [JsonPropertyOrder(5)]
    public string ExecutorFlags { get; init; } = string.Empty;

    /// <summary>Opaque data for the custom executor (Chronos field, passed through).</summary>
    [JsonPropertyOrder(6)]
    public string TaskInfoData { get; init; } = string.Empty;

    /// <summary>Extra attempts after a failed attempt (default 2, so up to 3 attempts per run). Retries never consume a schedule repetition.</summary>
    [JsonPropertyOrder(7)]
    public int Retries { get; init; } = JobDefaults.Retries;

    /// <summary>Email address(es), comma-separated, notified of failures.</summary>
    [JsonPropertyOrder(8)]
    public string Owner { get; init; } = string.Empty;

    /// <summary>Human name of the owner (informational).</summary>
    [JsonPropertyOrder(9)]
    public string OwnerName { get; init; } = string.Empty;

    /// <summary>Free-text description (informational).</summary>
    [JsonPropertyOrder(10)]
    public string Description { get; init; } = string.Empty;

    /// <summary>Chronos 2.x asynchronous completion flag; accepted and kept for compatibility, ignored (as in Chronos 3.x).</summary>
    [JsonPropertyOrder(11)]
    public bool Async { get; init; }

    /// <summary>Status (maintained by the service; accepted on input so sync scripts can round-trip it): successful runs.</summary>
    [JsonPropertyOrder(12)]
    public long SuccessCount { get; init; }

    /// <summary>Status: failed runs, counted once per run after its retries are exhausted.</summary>
    [JsonPropertyOrder(13)]
    public long ErrorCount { get; init; }

    /// <summary>Status: ISO 8601 instant of the last success, or empty.</summary>
    [JsonPropertyOrder(14)]
    public string LastSuccess { get; init; } = string.Empty;

    /// <summary>Status: ISO 8601 instant of the last failure (after retries), or empty.</summary>
    [JsonPropertyOrder(15)]
    public string LastError { get; init; } = string.Empty;

    /// <summary>Fractional cores per task; 0 means the server default (<see cref="JobDefaults.Cpus"/>).</summary>
    [JsonPropertyOrder(16)]
    public double Cpus { get; init; }

    /// <summary>Disk per task, MiB; 0 means the server default (<see cref="JobDefaults.Disk"/>).</summary>
    [JsonPropertyOrder(17)]
    public double Disk { get; init; }

    /// <summary>Memory per task, MiB; 0 means the server default (<see cref="JobDefaults.Mem"/>).</summary>
    [JsonPropertyOrder(18)]
    public double Mem { get; init; }

    /// <summary>When true the job is never launched; pending runs are skipped.</summary>
    [JsonPropertyOrder(19)]
    public bool Disabled { get; init; }

    /// <summary>When true a failure after all retries still lets the children run (Chronos <c>handleFailedTask</c>).</summary>
    [JsonPropertyOrder(20)]
    public bool SoftError { get; init; }

    /// <summary>Enables Chronos's progress endpoint for the job's tasks.</summary>
    [JsonPropertyOrder(21)]
    public bool DataProcessingJobType { get; init; }

    /// <summary>Status: failures since the last success.</summary>
    [JsonPropertyOrder(22)]
    public long ErrorsSinceLastSuccess { get; init; }

    /// <summary>Artifacts fetched into the sandbox before the task starts (Mesos fetcher).</summary>
    [JsonPropertyOrder(23)]
    public ValueArray<FetchUri> Fetch { get; init; } = [];

    /// <summary>Deprecated form of <see cref="Fetch"/> (plain URIs); sending both is an error, as in Chronos.</summary>
    [JsonPropertyOrder(24)]
    public ValueArray<string> Uris { get; init; } = [];

    /// <summary>Environment variables of the task.</summary>
    [JsonPropertyOrder(25)]
    public ValueArray<EnvironmentVariable> EnvironmentVariables { get; init; } = [];

    /// <summary>Arguments of the command (argv when <see cref="Shell"/> is false).</summary>
    [JsonPropertyOrder(26)]
    public ValueArray<string> Arguments { get; init; } = [];

    /// <summary>Served before normal jobs when several runs start at once.</summary>
    [JsonPropertyOrder(27)]
    public bool HighPriority { get; init; }

    /// <summary>Unix user of the task; empty means the server default (<see cref="JobDefaults.RunAsUser"/>).</summary>
    [JsonPropertyOrder(28)]
    public string RunAsUser { get; init; } = string.Empty;

    /// <summary>Container to run the command in (Docker or Mesos containerizer); null runs it on the host.</summary>
    [JsonPropertyOrder(29)]
    public JobContainer? Container { get; init; }

    /// <summary>Placement constraints, each <c>[attribute, "EQUALS"|"LIKE"|"UNLIKE", value]</c>.</summary>
    [JsonPropertyOrder(30)]
    public ValueArray<ValueArray<string>> Constraints { get; init; } = [];

    /// <summary>
    /// Chronos 3.x: when false (default) a run is not started while another run of the job is running. Null means
    /// "not given"; <see cref="EffectiveConcurrencyPolicy"/> maps it (false → FORBID, true → ALLOW).
    /// </summary>
    [JsonPropertyOrder(31)]
    public bool? Concurrent { get; init; }

    /// <summary>Chronos 3.x: Mesos <c>max_completion_time</c> of the task, seconds; 0 = none. Used as <see cref="MaxRunSeconds"/> when that is unset.</summary>
    [JsonPropertyOrder(32)]
    public long MaxCompletionTime { get; init; }

    /// <summary>Parent job names (dependent job). Null for a scheduled job; an empty list is invalid.</summary>
    [JsonPropertyOrder(40)]
    public ValueArray<string>? Parents { get; init; }

    /// <summary>
    /// Schedule (scheduled job): an ISO 8601 repeating interval <c>R[n]/[start]/period</c> as in Chronos, or a 5-field
    /// Unix cron expression (DatacenterOs addition). See <see cref="ScheduleParser"/>.
    /// </summary>
    [JsonPropertyOrder(41)]
    public string? Schedule { get; init; }

    /// <summary>
    /// IANA time zone id (e.g. <c>America/New_York</c>) the schedule is evaluated in; empty means the offset written in
    /// an ISO schedule (UTC when none) or UTC for cron. For ISO schedules it overrides the written offset keeping the
    /// wall-clock fields, as Chronos does. Unknown ids are rejected (Chronos silently used GMT).
    /// </summary>
    [JsonPropertyOrder(42)]
    public string ScheduleTimeZone { get; init; } = string.Empty;

    /// <summary>
    /// Metronome/Kubernetes name of the missed-run window, seconds: an occurrence is started only if the trigger sees
    /// it within this many seconds of its scheduled instant, otherwise it is recorded as skipped. Null means the
    /// trigger's default (<see cref="JobTriggerOptions.DefaultStartingDeadlineSeconds"/>, unbounded unless configured).
    /// </summary>
    [JsonPropertyOrder(50)]
    public long? StartingDeadlineSeconds { get; init; }

    /// <summary>
    /// What happens when a run is due while another run of the job is running: <c>ALLOW</c>, <c>FORBID</c> (skip the
    /// new run) or <c>REPLACE</c> (kill the running one, start the new one); see <see cref="ConcurrencyPolicies"/>. Null
    /// means derived from <see cref="Concurrent"/>.
    /// </summary>
    [JsonPropertyOrder(51)]
    public string? ConcurrencyPolicy { get; init; }

    /// <summary>Runs that have been running longer than this many seconds are killed. Null: <see cref="MaxCompletionTime"/> if set, else no limit.</summary>
    [JsonPropertyOrder(52)]
    public long? MaxRunSeconds { get; init; }

    /// <summary>Seconds between a failed attempt and its retry. Null means the trigger's default (<see cref="JobTriggerOptions.DefaultRetryDelaySeconds"/>, 60 s as Chronos's <c>--failure_retry</c>).</summary>
    [JsonPropertyOrder(53)]
    public long? RetryDelaySeconds { get; init; }

    /// <summary>
    /// How a dependent job is triggered: <c>dag</c> (default; run-scoped DAG instances: the job runs once per run of
    /// its root after all its parents succeeded in that DAG run) or <c>chronos</c> (Chronos's rule: it runs once all
    /// parents have succeeded since it last ran). See <see cref="DependencyModes"/>.
    /// </summary>
    [JsonPropertyOrder(54)]
    public string DependencyMode { get; init; } = DependencyModes.Dag;

    /// <summary>True when <see cref="Parents"/> is set (a dependent job).</summary>
    [JsonIgnore]
    public bool IsDependent => Parents is not null;

    /// <summary>True when <see cref="Schedule"/> is set and <see cref="Parents"/> is not.</summary>
    [JsonIgnore]
    public bool IsScheduled => Schedule is not null && Parents is null;

    /// <summary>The concurrency policy in force: <see cref="ConcurrencyPolicy"/>, else ALLOW when <see cref="Concurrent"/> is true, else FORBID.</summary>
    [JsonIgnore]
    public string EffectiveConcurrencyPolicy =>
        ConcurrencyPolicy?.ToUpperInvariant() ?? (Concurrent == true ? ConcurrencyPolicies.Allow : ConcurrencyPolicies.Forbid);

    /// <summary>The run-time limit in force, seconds: <see cref="MaxRunSeconds"/>, else <see cref="MaxCompletionTime"/> when positive, else null.</summary>
    [JsonIgnore]
    public long? EffectiveMaxRunSeconds => MaxRunSeconds ?? (MaxCompletionTime > 0 ? MaxCompletionTime : null);

    /// <summary>True when this dependent job uses Chronos's "succeeded since I last ran" rule.</summary>
    [JsonIgnore]
    public bool UsesChronosDependencies =>
        IsDependent && string.Equals(DependencyMode, DependencyModes.Chronos, StringComparison.OrdinalIgnoreCase);
}

/// <summary>An environment variable of a job's task (<c>{"name": …, "value": …}</c>).</summary>
/// <param name="Name">Variable name.</param>
/// <param name="Value">Variable value.</param>
public sealed record EnvironmentVariable(string Name, string Value);

/// <summary>An artifact fetched by the Mesos fetcher (Chronos <c>jobs/Fetch.scala</c>).</summary>
public sealed record FetchUri
{
    /// <summary>Where to fetch from.</summary>
    public string Uri { get; init; } = string.Empty;

    /// <summary>Set the executable bit on the fetched file.</summary>
    public bool Executable { get; init; }

    /// <summary>Use the agent's fetcher cache.</summary>
    public bool Cache { get; init; }

    /// <summary>Extract archives (default true).</summary>
    public bool Extract { get; init; } = true;

    /// <summary>File name to save as, when not derived from the URI.</summary>
    [JsonPropertyName("output_file")]
    public string? OutputFile { get; init; }
}

/// <summary>A job's container (Chronos <c>jobs/Containers.scala</c>).</summary>
public sealed record JobContainer
{
    /// <summary><c>DOCKER</c> (default) or <c>MESOS</c>; see <see cref="ContainerTypes"/>.</summary>
    public string Type { get; init; } = ContainerTypes.Docker;

    /// <summary>Image to run.</summary>
    public string Image { get; init; } = string.Empty;

    /// <summary><c>HOST</c> (default), <c>BRIDGE</c> or <c>USER</c>.</summary>
    public string Network { get; init; } = ContainerNetworks.Host;

    /// <summary>Network name for <c>USER</c> networking.</summary>
    public string? NetworkName { get; init; }

    /// <summary>Volumes mounted into the container.</summary>
    public ValueArray<JobVolume> Volumes { get; init; } = [];

    /// <summary>Pull the image even when the agent has it.</summary>
    public bool ForcePullImage { get; init; }

    /// <summary>Extra Docker parameters (<c>{"key": "label", "value": "a=b"}</c>).</summary>
    public ValueArray<KeyValueParameter> Parameters { get; init; } = [];
}

/// <summary>A volume of a job's container.</summary>
public sealed record JobVolume
{
    /// <summary>Mount point inside the container.</summary>
    public string ContainerPath { get; init; } = string.Empty;

    /// <summary>Host directory to mount, if any.</summary>
    public string? HostPath { get; init; }

    /// <summary><c>RW</c> or <c>RO</c>.</summary>
    public string? Mode { get; init; }

    /// <summary>External (Docker volume driver) volume, if any.</summary>
    public ExternalVolume? External { get; init; }
}

/// <summary>An external volume (Docker volume driver).</summary>
public sealed record ExternalVolume
{
    /// <summary>Volume name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Provider (e.g. <c>dvdi</c>).</summary>
    public string Provider { get; init; } = string.Empty;

    /// <summary>Driver options.</summary>
    public ValueArray<KeyValueParameter> Options { get; init; } = [];
}

/// <summary>A key/value pair (Docker parameters, volume options).</summary>
/// <param name="Key">Key.</param>
/// <param name="Value">Value.</param>
public sealed record KeyValueParameter(string Key, string Value);

/// <summary>Values of <see cref="JobDefinition.ConcurrencyPolicy"/>.</summary>
public static class ConcurrencyPolicies
{
    /// <summary>Start a new run even while another is running.</summary>
    public const string Allow = "ALLOW";

    /// <summary>Skip the new run (recorded as skipped with a reason) while another is running. Chronos's <c>concurrent=false</c>.</summary>
    public const string Forbid = "FORBID";

    /// <summary>Kill the running run(s), then start the new one.</summary>
    public const string Replace = "REPLACE";

    /// <summary>All values.</summary>
    public static IReadOnlyList<string> All { get; } = [Allow, Forbid, Replace];
}

/// <summary>Values of <see cref="JobDefinition.DependencyMode"/>.</summary>
public static class DependencyModes
{
    /// <summary>Run-scoped DAG instances (default).</summary>
    public const string Dag = "dag";

    /// <summary>Chronos's rule: run once every parent has succeeded since this job last ran.</summary>
    public const string Chronos = "chronos";

    /// <summary>All values.</summary>
    public static IReadOnlyList<string> All { get; } = [Dag, Chronos];
}

/// <summary>Values of <see cref="JobContainer.Type"/>.</summary>
public static class ContainerTypes
{
    /// <summary>Docker containerizer.</summary>
    public const string Docker = "DOCKER";

    /// <summary>Mesos (universal) containerizer.</summary>
    public const string Mesos = "MESOS";

    /// <summary>All values.</summary>
    public static IReadOnlyList<string> All { get; } = [Docker, Mesos];
}

/// <summary>Values of <see cref="JobContainer.Network"/>.</summary>
public static class ContainerNetworks
{
    /// <summary>Host networking (default).</summary>
    public const string Host = "HOST";

    /// <summary>Docker bridge networking.</summary>
    public const string Bridge = "BRIDGE";

    /// <summary>A user-defined network (<see cref="JobContainer.NetworkName"/>).</summary>
    public const string User = "USER";

    /// <summary>All values.</summary>
    public static IReadOnlyList<string> All { get; } = [Host, Bridge, User];
}

/// <summary>Chronos's server-side defaults (<c>config/SchedulerConfiguration.scala</c>) and field defaults.</summary>
public static class JobDefaults
{
    /// <summary>Default retries (Chronos: 2).</summary>
    public const int Retries = 2;

    /// <summary>Cores used when a job asks for 0 (Chronos <c>--mesos_task_cpu</c>: 0.1).</summary>
    public const double Cpus = 0.1;

    /// <summary>Memory used when a job asks for 0, MiB (Chronos <c>--mesos_task_mem</c>: 128).</summary>
    public const double Mem = 128;

    /// <summary>Disk used when a job asks for 0, MiB (Chronos <c>--mesos_task_disk</c>: 256).</summary>
    public const double Disk = 256;

    /// <summary>User used when a job names none (Chronos <c>--user</c>: root).</summary>
    public const string RunAsUser = "root";

    /// <summary>Delay before a retry, seconds (Chronos <c>--failure_retry</c>: 60 000 ms).</summary>
    public const long RetryDelaySeconds = 60;

    /// <summary>
    /// Schedule of a job that has neither schedule nor parents: run once, now (Chronos <c>JobDeserializer</c>:
    /// <c>R1//PT24H</c>); the normalizer anchors the empty start.
    /// </summary>
    public const string RunOnceSchedule = "R1//PT24H";
}
