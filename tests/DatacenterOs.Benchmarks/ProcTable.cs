using System.Diagnostics;
using System.Globalization;

namespace DatacenterOs.Benchmarks;

/// <summary>A snapshot of <c>/proc</c>: pid, parent, process group and state of every process.</summary>
internal static class ProcTable
{
    internal readonly record struct Proc(int Pid, int Parent, int Group, char State);

    public static List<Proc> Read()
    {
        var result = new List<Proc>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(dir, "stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // ended meanwhile
            }

            // Fields after the command, which may contain spaces and parentheses: state, ppid, pgrp, …
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length)
            {
                continue;
            }

            var fields = stat[(close + 2)..].Split(' ');
            if (fields.Length > 2
                && int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var parent)
                && int.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var group))
            {
                result.Add(new Proc(pid, parent, group, fields[0].Length > 0 ? fields[0][0] : '?'));
            }
        }

        return result;
    }

    /// <summary>Live (not zombie) descendants of <paramref name="roots"/>, the roots excluded.</summary>
    public static HashSet<int> Descendants(List<Proc> table, IReadOnlySet<int> roots)
    {
        var children = table.Where(p => p.State != 'Z').ToLookup(p => p.Parent, p => p.Pid);
        var result = new HashSet<int>();
        var queue = new Queue<int>(roots);
        while (queue.TryDequeue(out var pid))
        {
            foreach (var child in children[pid])
            {
                if (!roots.Contains(child) && result.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return result;
    }

    /// <summary>SIGKILL to one process; nothing when it is gone.</summary>
    public static void Kill(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // gone meanwhile
        }
    }
}
