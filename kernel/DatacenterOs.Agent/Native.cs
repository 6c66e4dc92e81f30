using System.Globalization;
using System.Runtime.InteropServices;

namespace DatacenterOs.Agent;

/// <summary>The few libc calls the agent needs: signals to process groups and path resolution.</summary>
internal static partial class Native
{
    internal const int SigHup = 1, SigInt = 2, SigKill = 9, SigTerm = 15;
    private const int Esrch = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint SysRealPath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void SysFree(nint pointer);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint SysGetEuid();

    [LibraryImport("libc", EntryPoint = "getpwnam", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint SysGetPwNam(string name);

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysChown(string path, uint uid, uint gid);

    /// <summary>True when this process runs as root (effective uid 0).</summary>
    internal static bool IsRoot => OperatingSystem.IsLinux() && SysGetEuid() == 0;

    /// <summary>uid and gid of a user from the system's user database (glibc <c>struct passwd</c> on 64-bit Linux), or null.</summary>
    internal static (uint Uid, uint Gid)? LookUpUser(string name)
    {
        var p = SysGetPwNam(name);
        if (p == 0)
        {
            return null;
        }

        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
        return ((uint)Marshal.ReadInt32(p, 2 * IntPtr.Size), (uint)Marshal.ReadInt32(p, (2 * IntPtr.Size) + 4));
    }

    /// <summary>Changes the owner of <paramref name="path"/>; false on failure.</summary>
    internal static bool Chown(string path, uint uid, uint gid) => SysChown(path, uid, gid) == 0;

    /// <summary>Sends <paramref name="signal"/> to every process of group <paramref name="pgid"/>; false when the group is empty.</summary>
    internal static bool KillGroup(int pgid, int signal) => pgid > 1 && SysKill(-pgid, signal) == 0;

    /// <summary>Sends <paramref name="signal"/> to one process; false when it does not exist.</summary>
    internal static bool KillProcess(int pid, int signal) => pid > 1 && SysKill(pid, signal) == 0;

    /// <summary>Signals the group, falling back to the process itself when the group does not exist yet (before setsid ran).</summary>
    internal static bool Signal(int pid, int pgid, int signal)
    {
        if (KillGroup(pgid, signal))
        {
            return true;
        }

        return Marshal.GetLastPInvokeError() == Esrch && KillProcess(pid, signal);
    }

    /// <summary>The canonical absolute path (symbolic links resolved), or null when it does not exist.</summary>
    internal static string? RealPath(string path)
    {
        var p = SysRealPath(path, 0);
        if (p == 0)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(p);
        }
        finally
        {
            SysFree(p);
        }
    }
}

/// <summary>A process's line in <c>/proc/&lt;pid&gt;/stat</c>: state, process group and start time (clock ticks after boot).</summary>
internal readonly record struct ProcStat(int Pid, char State, int ProcessGroup, ulong StartTime)
{
    /// <summary>Zombie or dead: the process has ended even though its entry remains.</summary>
    public bool IsEnded => State is 'Z' or 'X' or 'x';
}

/// <summary>Reads <c>/proc</c>.</summary>
internal static class ProcFs
{
    /// <summary>Reads and parses <c>/proc/&lt;pid&gt;/stat</c>; null when the process does not exist.</summary>
    public static ProcStat? ReadStat(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText("/proc/" + pid.ToString(CultureInfo.InvariantCulture) + "/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return ParseStat(pid, text);
    }

    /// <summary>Parses a stat line; the command name (field 2) may contain spaces and parentheses, so fields are counted after the last ')'.</summary>
    public static ProcStat? ParseStat(int pid, string text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length)
        {
            return null;
        }

        var fields = text[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        // fields[0] is field 3 (state); field 5 (pgrp) is fields[2]; field 22 (starttime) is fields[19].
        if (fields.Length < 20
            || !int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pgrp)
            || !ulong.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return new ProcStat(pid, fields[0][0], pgrp, start);
    }

    /// <summary>True when <paramref name="pid"/> runs and is the process started at <paramref name="startTime"/> (not a reused pid).</summary>
    public static bool IsAlive(int pid, ulong startTime) =>
        ReadStat(pid) is { } stat && !stat.IsEnded && stat.StartTime == startTime;

    /// <summary>Live (not zombie) processes whose process group is <paramref name="pgid"/>.</summary>
    public static IReadOnlyList<int> LiveProcessesInGroup(int pgid)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && ReadStat(pid) is { } stat && stat.ProcessGroup == pgid && !stat.IsEnded)
            {
                result.Add(pid);
            }
        }

        return result;
    }
}
