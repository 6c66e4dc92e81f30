using System.Globalization;
using DatacenterOs.Kernel;

namespace DatacenterOs.Agent;

/// <summary>
/// Detects what the machine offers, as Mesos's agent does (<c>Containerizer::resources</c>): cpus = logical processors,
/// mem = physical memory less a reserve, disk = free space of the work directory's file system less 5 GiB,
/// ports <c>[31000-32000]</c>. A <c>--resources</c> text overrides per name.
/// </summary>
public static class ResourceDetector
{
    /// <summary>Disk kept back from tasks, in MiB (Mesos 5 GiB).</summary>
    public const double DiskReserveMiB = 5 * 1024;

    /// <summary>Memory at or above which the reserve is 1 GiB rather than half, in MiB.</summary>
    public const double SmallMachineMemMiB = 2 * 1024;

    /// <summary>Default port range offered to tasks.</summary>
    public static ValueRange DefaultPorts { get; } = new(31000, 32000);

    /// <summary>Detects the resources of this machine for <paramref name="options"/> (work dir, override, memory reserve).</summary>
    /// <exception cref="ResourceParseException"><see cref="AgentOptions.ResourcesText"/> is malformed.</exception>
    public static Resources Detect(AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.WorkDir);
        return Compose(
            Environment.ProcessorCount,
            ReadMemTotalMiB() ?? 0,
            DiskFreeMiB(options.WorkDir),
            options.ResourcesText,
            options.MemoryReserveMiB);
    }

    /// <summary>
    /// Builds the agent's resources from measured totals: memory after <see cref="MemoryAfterReserve"/>, disk after
    /// <see cref="DiskReserveMiB"/> (never negative), the default ports; then every name present in
    /// <paramref name="resourcesText"/> replaces the detected entry of that name (so <c>cpus(web):2</c> alone leaves
    /// no unreserved cpus, as in Mesos).
    /// </summary>
    /// <exception cref="ResourceParseException"><paramref name="resourcesText"/> is malformed.</exception>
    public static Resources Compose(double cpus, double memTotalMiB, double diskFreeMiB, string? resourcesText, double? memoryReserveMiB = null)
    {
        var overrides = string.IsNullOrWhiteSpace(resourcesText) ? Resources.Empty : Resources.Parse(resourcesText);
        var overridden = overrides.Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

        var detected = new List<Resource>
        {
            Resource.CreateScalar("cpus", Math.Max(0, cpus)),
            Resource.CreateScalar("mem", Math.Floor(MemoryAfterReserve(memTotalMiB, memoryReserveMiB))),
            Resource.CreateScalar("disk", Math.Floor(Math.Max(0, diskFreeMiB - DiskReserveMiB))),
            Resource.CreateRanges("ports", ValueRanges.Of(DefaultPorts)),
        };

        return Resources.Of(detected.Where(r => !overridden.Contains(r.Name))) + overrides;
    }

    /// <summary>
    /// Memory for tasks, in MiB: total less <paramref name="reserveMiB"/> when given, otherwise less half of a machine
    /// under 2 GiB or 1 GiB of a larger one. Never negative.
    /// </summary>
    public static double MemoryAfterReserve(double totalMiB, double? reserveMiB = null)
    {
        var reserve = reserveMiB ?? (totalMiB < SmallMachineMemMiB ? totalMiB / 2 : 1024);
        return Math.Max(0, totalMiB - reserve);
    }

    /// <summary>Reads <c>MemTotal</c> from a meminfo file, in MiB; null when absent or unreadable.</summary>
    public static double? ReadMemTotalMiB(string meminfoPath = "/proc/meminfo")
    {
        try
        {
            return ParseMemTotalMiB(File.ReadAllText(meminfoPath));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses <c>MemTotal:  24684084 kB</c> out of meminfo text, in MiB.</summary>
    public static double? ParseMemTotalMiB(string meminfo)
    {
        ArgumentNullException.ThrowIfNull(meminfo);
        foreach (var line in meminfo.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib))
            {
                return kib / 1024.0;
            }
        }

        return null;
    }

    /// <summary>Free space available to the agent on the file system holding <paramref name="directory"/>, in MiB (0 if unknown).</summary>
    public static double DiskFreeMiB(string directory)
    {
        try
        {
            return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace / (1024.0 * 1024.0);
        }
        catch (IOException)
        {
            return 0;
        }
        catch (ArgumentException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
