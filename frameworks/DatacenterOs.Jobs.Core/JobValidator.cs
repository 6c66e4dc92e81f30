using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace DatacenterOs.Jobs.Core;

/// <summary>JSON field names of a job, as used in validation errors.</summary>
public static class JobFields
{
#pragma warning disable CS1591 // The constants are the JSON field names they are named after.
    public const string Name = "name";
    public const string Command = "command";
    public const string Schedule = "schedule";
    public const string ScheduleTimeZone = "scheduleTimeZone";
    public const string Parents = "parents";
    public const string Retries = "retries";
    public const string Epsilon = "epsilon";
    public const string Cpus = "cpus";
    public const string Mem = "mem";
    public const string Disk = "disk";
    public const string Container = "container";
    public const string EnvironmentVariables = "environmentVariables";
    public const string Fetch = "fetch";
    public const string Uris = "uris";
    public const string Constraints = "constraints";
    public const string StartingDeadlineSeconds = "startingDeadlineSeconds";
    public const string ConcurrencyPolicy = "concurrencyPolicy";
    public const string MaxRunSeconds = "maxRunSeconds";
    public const string MaxCompletionTime = "maxCompletionTime";
    public const string RetryDelaySeconds = "retryDelaySeconds";
    public const string DependencyMode = "dependencyMode";
    public const string SuccessCount = "successCount";
    public const string ErrorCount = "errorCount";
#pragma warning restore CS1591
}

/// <summary>One violation: the job field it is about (a JSON field name, <see cref="JobFields"/>) and a message.</summary>
/// <param name="Field">Field name, e.g. <c>schedule</c>; nested items as <c>environmentVariables[0].name</c>.</param>
/// <param name="Message">What is wrong.</param>
public sealed record JobValidationError(string Field, string Message);

/// <summary>The result of validating a job: the violations in the order found.</summary>
public sealed class JobValidationResult
{
    /// <summary>Summary message of an invalid job.</summary>
    public const string InvalidJobMessage = "Job is not valid";

    internal JobValidationResult(IReadOnlyList<JobValidationError> errors) => Errors = errors;

    /// <summary>A result without violations.</summary>
    public static JobValidationResult Valid { get; } = new([]);

    /// <summary>The violations, in the order found.</summary>
    public IReadOnlyList<JobValidationError> Errors { get; }

    /// <summary>True when there are no violations.</summary>
    public bool IsValid => Errors.Count == 0;

    /// <summary>The fields with violations, in order of first appearance.</summary>
    public IReadOnlyList<string> Fields => Errors.Select(e => e.Field).Distinct(StringComparer.Ordinal).ToList();

    /// <summary>The messages reported for <paramref name="field"/>.</summary>
    public IReadOnlyList<string> MessagesFor(string field) =>
        Errors.Where(e => string.Equals(e.Field, field, StringComparison.Ordinal)).Select(e => e.Message).ToList();

    /// <summary>This result combined with <paramref name="other"/>.</summary>
    public JobValidationResult Concat(IEnumerable<JobValidationError> other) => new([.. Errors, .. other]);

    /// <summary>
    /// The error body: <c>{"message":"Job is not valid","errors":[{"field":"schedule","message":"…"}]}</c>. (A
    /// Chronos-compatible API answers 400; Chronos itself put a stack trace into <c>message</c>.)
    /// </summary>
    public string ToJson()
    {
        var errors = new JsonArray();
        foreach (var e in Errors)
        {
            errors.Add(new JsonObject { ["field"] = e.Field, ["message"] = e.Message });
        }

        return new JsonObject { ["message"] = InvalidJobMessage, ["errors"] = errors }.ToJsonString(JobsJson.Options);
    }

    /// <inheritdoc/>
    public override string ToString() => IsValid ? "valid" : string.Join("; ", Errors.Select(e => $"{e.Field}: {e.Message}"));
}

/// <summary>
/// Validation of job definitions at write time, so nothing invalid is ever persisted (Chronos accepted unknown parents,
/// cycles between new jobs, unknown time zones and zero periods, and then misbehaved: issues #815, #814). Expects a
/// normalized job (<see cref="JobNormalizer.Normalize"/>) but works on raw input too.
/// </summary>
public static partial class JobValidator
{
    /// <summary>Longest job name, characters (hostile-input limit: names appear in paths, task ids and headers).</summary>
    public const int MaxNameLength = 256;

    /// <summary>Chronos 3's job-name pattern <c>[\w.-]+</c> (<c>JobUtils.jobNamePattern</c>), with ASCII word characters as Java's <c>\w</c>.</summary>
    public const string NamePattern = "^[A-Za-z0-9_.-]+$";

    private static readonly string[] ConstraintOperators = ["EQUALS", "LIKE", "UNLIKE"];
    private static readonly string[] VolumeModes = ["RW", "RO"];

    /// <summary>Validates one job on its own (no graph checks); an empty result means valid.</summary>
    public static JobValidationResult Validate(JobDefinition job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var errors = new List<JobValidationError>();
        void Add(string field, string message) => errors.Add(new(field, message));

        // Name.
        if (string.IsNullOrEmpty(job.Name))
        {
            Add(JobFields.Name, "A job name is required");
        }
        else if (job.Name.Length > MaxNameLength)
        {
            Add(JobFields.Name, $"Job name is longer than {MaxNameLength} characters ({job.Name.Length})");
        }
        else if (!NameRegex().IsMatch(job.Name))
        {
            Add(JobFields.Name, $"Job name '{job.Name}' is invalid: use letters, digits, '_', '.' and '-' only");
        }

        // What to run.
        if (string.IsNullOrWhiteSpace(job.Command) && job.Container is null)
        {
            Add(JobFields.Command, "A command is required unless the job has a container");
        }

        ValidateContainer(job.Container, Add);

        // Resources: 0 means the server default, negative values are errors.
        Positive(JobFields.Cpus, job.Cpus, "cores");
        Positive(JobFields.Mem, job.Mem, "MiB");
        Positive(JobFields.Disk, job.Disk, "MiB");

        void Positive(string field, double value, string unit)
        {
            if (value < 0 || double.IsNaN(value) || double.IsInfinity(value))
            {
                Add(field, $"{field} must be greater than 0 {unit} (0 or absent means the default), got {value}");
            }
        }

        // Schedule xor parents.
        var hasSchedule = job.Schedule is not null;
        var hasParents = job.Parents is not null;
        if (hasSchedule && hasParents)
        {
            Add(JobFields.Schedule, "A job has either a schedule or parents, not both");
        }
        else if (!hasSchedule && !hasParents)
        {
            Add(JobFields.Schedule, "A job needs a schedule or parents");
        }

        if (hasSchedule && !hasParents)
        {
            ValidateSchedule(job, Add);
        }
        else if (!string.IsNullOrEmpty(job.ScheduleTimeZone) && !ScheduleTimeZones.TryResolve(job.ScheduleTimeZone, out _, out var tzError))
        {
            Add(JobFields.ScheduleTimeZone, tzError!);
        }

        if (job.Parents is { } parents)
        {
            if (parents.IsEmpty)
            {
                Add(JobFields.Parents, "parents must name at least one job");
            }

            foreach (var parent in parents)
            {
                if (string.IsNullOrEmpty(parent) || !NameRegex().IsMatch(parent))
                {
                    Add(JobFields.Parents, $"Parent name '{parent}' is invalid");
                }
                else if (parent == job.Name)
                {
                    Add(JobFields.Parents, $"Job '{job.Name}' cannot depend on itself");
                }
            }

            foreach (var duplicate in parents.GroupBy(p => p, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                Add(JobFields.Parents, $"Parent '{duplicate.Key}' is listed more than once");
            }
        }

        // Retries and timing.
        if (job.Retries < 0)
        {
            Add(JobFields.Retries, $"retries must be 0 or more, got {job.Retries}");
        }

        long? epsilonSeconds = null;
        if (job.Epsilon is { } epsilon)
        {
            var period = IsoPeriod.TryParse(epsilon);
            if (period?.ToStandardSeconds() is { } seconds)
            {
                epsilonSeconds = seconds;
            }
            else
            {
                Add(JobFields.Epsilon, $"epsilon '{epsilon}' is not an ISO 8601 duration without years or months (e.g. PT60S)");
            }
        }

        if (job.StartingDeadlineSeconds is { } deadline)
        {
            if (deadline < 1)
            {
                Add(JobFields.StartingDeadlineSeconds, $"startingDeadlineSeconds must be 1 or more, got {deadline}");
            }
            else if (epsilonSeconds is { } eps && eps != deadline)
            {
                Add(JobFields.StartingDeadlineSeconds, $"startingDeadlineSeconds ({deadline}) and its alias epsilon ({job.Epsilon} = {eps} s) disagree");
            }
        }

        if (job.ConcurrencyPolicy is { } policy)
        {
            if (!ConcurrencyPolicies.All.Contains(policy.ToUpperInvariant()))
            {
                Add(JobFields.ConcurrencyPolicy, $"concurrencyPolicy must be one of {string.Join(", ", ConcurrencyPolicies.All)}, got '{policy}'");
            }
            else if (job.Concurrent is { } concurrent && concurrent != string.Equals(policy, ConcurrencyPolicies.Allow, StringComparison.OrdinalIgnoreCase))
            {
                Add(JobFields.ConcurrencyPolicy, $"concurrencyPolicy {policy.ToUpperInvariant()} contradicts concurrent={(concurrent ? "true" : "false")}");
            }
        }

        if (job.MaxRunSeconds is { } maxRun && maxRun < 1)
        {
            Add(JobFields.MaxRunSeconds, $"maxRunSeconds must be 1 or more, got {maxRun}");
        }

        if (job.MaxCompletionTime < 0)
        {
            Add(JobFields.MaxCompletionTime, $"maxCompletionTime must be 0 (none) or more, got {job.MaxCompletionTime}");
        }

        if (job.RetryDelaySeconds is { } delay && delay < 0)
        {
            Add(JobFields.RetryDelaySeconds, $"retryDelaySeconds must be 0 or more, got {delay}");
        }

        if (!DependencyModes.All.Contains(job.DependencyMode.ToLowerInvariant()))
        {
            Add(JobFields.DependencyMode, $"dependencyMode must be one of {string.Join(", ", DependencyModes.All)}, got '{job.DependencyMode}'");
        }

        // Task details.
        if (!job.Uris.IsEmpty && !job.Fetch.IsEmpty)
        {
            Add(JobFields.Uris, $"Tried to add both uri (deprecated) and fetch parameters on {job.Name}");
        }

        for (var i = 0; i < job.Fetch.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(job.Fetch[i].Uri))
            {
                Add($"{JobFields.Fetch}[{i}].uri", "uri must not be empty");
            }
        }

        for (var i = 0; i < job.EnvironmentVariables.Count; i++)
        {
            if (string.IsNullOrEmpty(job.EnvironmentVariables[i].Name))
            {
                Add($"{JobFields.EnvironmentVariables}[{i}].name", "name must not be empty");
            }
        }

        for (var i = 0; i < job.Constraints.Count; i++)
        {
            var c = job.Constraints[i];
            var field = $"{JobFields.Constraints}[{i}]";
            if (c.Count != 3)
            {
                Add(field, "a constraint is [attribute, operator, value]");
            }
            else if (!ConstraintOperators.Contains(c[1]))
            {
                // Chronos silently ignored unknown operators; DatacenterOs rejects them.
                Add(field, $"operator must be one of {string.Join(", ", ConstraintOperators)}, got '{c[1]}'");
            }
            else if (c[1] != "EQUALS" && !IsRegex(c[2]))
            {
                Add(field, $"'{c[2]}' is not a valid regular expression");
            }
        }

        if (job.SuccessCount < 0)
        {
            Add(JobFields.SuccessCount, "successCount must be 0 or more");
        }

        if (job.ErrorCount < 0)
        {
            Add(JobFields.ErrorCount, "errorCount must be 0 or more");
        }

        return errors.Count == 0 ? JobValidationResult.Valid : new JobValidationResult(errors);
    }

    /// <summary>
    /// Checks <paramref name="job"/> against the other jobs it would join (an upsert into <paramref name="existingJobs"/>,
    /// replacing the job of the same name): every parent must exist (the error names it) and the graph must stay
    /// acyclic (the error names the cycle's path, e.g. <c>a -> b -> a</c>).
    /// </summary>
    public static JobValidationResult ValidateGraph(JobDefinition job, IEnumerable<JobDefinition> existingJobs)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(existingJobs);
        var others = existingJobs.Where(j => j.Name != job.Name).ToList();
        var names = new HashSet<string>(others.Select(j => j.Name), StringComparer.Ordinal);
        var errors = new List<JobValidationError>();
        foreach (var parent in (job.Parents ?? []).Distinct(StringComparer.Ordinal))
        {
            if (parent != job.Name && !names.Contains(parent))
            {
                errors.Add(new(JobFields.Parents, $"Parent job '{parent}' does not exist"));
            }
        }

        if (JobGraph.FindCycle(others.Append(job), job.Name) is { } cycle)
        {
            errors.Add(new(JobFields.Parents, JobGraph.CycleMessage(cycle)));
        }

        return errors.Count == 0 ? JobValidationResult.Valid : new JobValidationResult(errors);
    }

    /// <summary><see cref="Validate"/> and <see cref="ValidateGraph"/> together: what a create or update must pass.</summary>
    public static JobValidationResult ValidateUpsert(JobDefinition job, IEnumerable<JobDefinition> existingJobs) =>
        Validate(job).Concat(ValidateGraph(job, existingJobs).Errors);

    private static void ValidateSchedule(JobDefinition job, Action<string, string> add)
    {
        var parsed = ScheduleParser.Parse(job.Schedule, job.ScheduleTimeZone);
        if (!parsed.IsSuccess)
        {
            add(parsed.Field!, parsed.Error!);
            return;
        }

        if (parsed.Schedule is Iso8601Schedule { Start: { } start } && start < Iso8601Schedule.MinimumStart)
        {
            add(JobFields.Schedule, $"Scheduled start date '{Iso8601Schedule.FormatInstant(start)}' is before 1970!");
        }
    }

    private static void ValidateContainer(JobContainer? container, Action<string, string> add)
    {
        if (container is null)
        {
            return;
        }

        if (!ContainerTypes.All.Contains(container.Type.ToUpperInvariant()))
        {
            add($"{JobFields.Container}.type", $"type must be one of {string.Join(", ", ContainerTypes.All)}, got '{container.Type}'");
        }

        if (string.IsNullOrWhiteSpace(container.Image))
        {
            add($"{JobFields.Container}.image", "image is required");
        }

        if (!ContainerNetworks.All.Contains(container.Network.ToUpperInvariant()))
        {
            add($"{JobFields.Container}.network", $"network must be one of {string.Join(", ", ContainerNetworks.All)}, got '{container.Network}'");
        }
        else if (container.Network.Equals(ContainerNetworks.User, StringComparison.OrdinalIgnoreCase) && string.IsNullOrEmpty(container.NetworkName))
        {
            add($"{JobFields.Container}.networkName", "networkName is required with USER networking");
        }

        for (var i = 0; i < container.Volumes.Count; i++)
        {
            var v = container.Volumes[i];
            if (string.IsNullOrWhiteSpace(v.ContainerPath))
            {
                add($"{JobFields.Container}.volumes[{i}].containerPath", "containerPath is required");
            }

            if (v.Mode is { } mode && !VolumeModes.Contains(mode.ToUpperInvariant()))
            {
                add($"{JobFields.Container}.volumes[{i}].mode", $"mode must be RW or RO, got '{mode}'");
            }
        }
    }

    private static bool IsRegex(string pattern)
    {
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
