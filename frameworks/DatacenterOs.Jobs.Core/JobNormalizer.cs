namespace DatacenterOs.Jobs.Core;

/// <summary>Server-side defaults the normalizer fills in (Chronos's command-line flags).</summary>
public sealed record JobServerDefaults
{
    /// <summary>Chronos's defaults: 0.1 cores, 128 MiB memory, 256 MiB disk, user <c>root</c>.</summary>
    public static JobServerDefaults Chronos { get; } = new();

    /// <summary>Cores for jobs that ask for 0 (<c>--mesos_task_cpu</c>).</summary>
    public double Cpus { get; init; } = JobDefaults.Cpus;

    /// <summary>Memory for jobs that ask for 0, MiB (<c>--mesos_task_mem</c>).</summary>
    public double Mem { get; init; } = JobDefaults.Mem;

    /// <summary>Disk for jobs that ask for 0, MiB (<c>--mesos_task_disk</c>).</summary>
    public double Disk { get; init; } = JobDefaults.Disk;

    /// <summary>User for jobs that name none (<c>--user</c>).</summary>
    public string RunAsUser { get; init; } = JobDefaults.RunAsUser;
}

/// <summary>
/// Fills in the defaults Chronos applies when it reads a job (<c>utils/JobDeserializer.scala</c>), so the stored
/// definition is explicit and the trigger never has to consult the clock for them. Run it before
/// <see cref="JobValidator"/> on every create/update, and persist its output.
/// </summary>
public static class JobNormalizer
{
    /// <summary>
    /// The normalized job:
    /// <list type="bullet">
    /// <item>cpus/mem/disk of 0 become the server defaults, an empty runAsUser the default user;</item>
    /// <item>a job with neither schedule nor parents gets <c>R1//PT24H</c> (run once, now);</item>
    /// <item>an ISO schedule with an empty start is anchored at <c>now − 1 s</c> and rewritten with that start (Chronos
    /// re-evaluated "now" at every parse, so the job never settled);</item>
    /// <item><c>epsilon</c> and <c>startingDeadlineSeconds</c> are aliases: whichever is given sets the other;</item>
    /// <item><c>concurrencyPolicy</c> is upper-cased or derived from <c>concurrent</c> (false → FORBID, true → ALLOW), and
    /// <c>concurrent</c> is set to match; <c>dependencyMode</c> is lower-cased.</item>
    /// </list>
    /// Values that are invalid are left for the validator to report.
    /// </summary>
    public static JobDefinition Normalize(JobDefinition job, DateTimeOffset now, JobServerDefaults? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(job);
        defaults ??= JobServerDefaults.Chronos;

        var result = job with
        {
            Cpus = job.Cpus == 0 ? defaults.Cpus : job.Cpus,
            Mem = job.Mem == 0 ? defaults.Mem : job.Mem,
            Disk = job.Disk == 0 ? defaults.Disk : job.Disk,
            RunAsUser = string.IsNullOrEmpty(job.RunAsUser) ? defaults.RunAsUser : job.RunAsUser,
            DependencyMode = job.DependencyMode.ToLowerInvariant(),
        };

        if (result.Schedule is null && result.Parents is null)
        {
            result = result with { Schedule = JobDefaults.RunOnceSchedule };
        }

        if (result.Parents is null && result.Schedule is { } schedule && schedule.StartsWith('R')
            && ScheduleParser.Parse(schedule, result.ScheduleTimeZone).Schedule is Iso8601Schedule { IsAnchored: false } iso)
        {
            result = result with { Schedule = iso.AnchoredAt(now).ToChronosString() };
        }

        if (result.StartingDeadlineSeconds is { } deadline)
        {
            if (result.Epsilon is null && deadline is > 0 and <= int.MaxValue)
            {
                result = result with { Epsilon = IsoPeriod.FromSeconds((int)deadline).ToString() };
            }
        }
        else if (result.Epsilon is { } epsilon && IsoPeriod.TryParse(epsilon)?.ToStandardSeconds() is { } seconds)
        {
            result = result with { StartingDeadlineSeconds = seconds };
        }

        var policy = result.ConcurrencyPolicy?.ToUpperInvariant();
        if (policy is null || ConcurrencyPolicies.All.Contains(policy))
        {
            var effective = policy ?? result.EffectiveConcurrencyPolicy;
            result = result with
            {
                ConcurrencyPolicy = effective,
                Concurrent = result.Concurrent ?? effective == ConcurrencyPolicies.Allow,
            };
        }

        return result;
    }
}
