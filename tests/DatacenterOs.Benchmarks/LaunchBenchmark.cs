using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Frameworks.Client;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// End-to-end task launch: a real master (SQLite registry, 1 s allocation interval) and a real agent in this process on
/// loopback HTTP, one framework on the v1 scheduler API. Every offer is accepted with up to <c>batch</c> LAUNCHes; per
/// task the time from sending its ACCEPT to receiving its TASK_RUNNING is recorded. Then every task is killed and the
/// run waits until the agent has forgotten them all. The raw cost of <c>Process.Start("/bin/sh -c command")</c> is
/// measured first, for comparison. Stdout gets exactly one line; details and failures go to stderr.
/// </summary>
internal static class LaunchBenchmark
{
    public static async Task<int> RunAsync(int taskCount, int batch, string command, CancellationToken cancellationToken)
    {
        if (taskCount < 1 || batch < 1 || string.IsNullOrWhiteSpace(command))
        {
            await Console.Error.WriteLineAsync("launch: --tasks and --batch must be >= 1 and --command must not be empty").ConfigureAwait(false);
            return 2;
        }

        var rawCount = Math.Min(200, taskCount);
        if (CheckProcessLimits(taskCount, rawCount) is { } limitProblem)
        {
            await Console.Error.WriteLineAsync("launch: not enough room for the processes: " + limitProblem).ConfigureAwait(false);
            return 3;
        }

        double[] raw;
        try
        {
            raw = MeasureRawSpawn(command, rawCount);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            await Console.Error.WriteLineAsync($"launch: raw spawn of /bin/sh failed (resource limits?): {e.Message}").ConfigureAwait(false);
            return 3;
        }

        var root = Directory.CreateTempSubdirectory("dcos-launch-bench-").FullName;
        try
        {
            LaunchResult? result;
            await using (var run = new LaunchRun(root, taskCount, batch, command))
            {
                try
                {
                    result = await run.ExecuteAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is InvalidOperationException or HttpRequestException or SchedulerException or IOException)
                {
                    await Console.Error.WriteLineAsync("launch: FAILED: " + e.Message).ConfigureAwait(false);
                    result = null;
                }
            }

            if (result is null)
            {
                return 1;
            }

            Array.Sort(raw);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"launch tasks={taskCount} p50_ms={result.P50Ms:F2} p99_ms={result.P99Ms:F2} tasks_per_s={result.TasksPerSecond:F1} raw_spawn_p50_ms={Percentile(raw, 0.50):F3} raw_spawn_p99_ms={Percentile(raw, 0.99):F3}"));
            return 0;
        }
        finally
        {
            TryDeleteDirectory(root);
        }
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    internal static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    internal static void TryDeleteDirectory(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"launch: could not delete {dir}: {e.Message}");
        }
    }

    /// <summary>
    /// Each task is up to three processes (the agent's <c>sh</c> wrapper, <c>sh -c</c>, the command) and the raw spawns
    /// two each; they must fit under pid_max, the cgroup's pids.max and (for non-root users) RLIMIT_NPROC.
    /// </summary>
    private static string? CheckProcessLimits(int taskCount, int rawCount)
    {
        long needed = (3L * taskCount) + (2L * rawCount) + 200;
        var current = Directory.EnumerateDirectories("/proc").Count(d => int.TryParse(Path.GetFileName(d), out _));
        var problems = new List<string>();
        if (ReadLong("/proc/sys/kernel/pid_max") is { } pidMax && current + needed > pidMax)
        {
            problems.Add($"kernel.pid_max is {pidMax}, {current} processes exist and up to {needed} more are needed");
        }

        foreach (var file in new[] { "/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max" })
        {
            if (ReadLong(file) is { } max && ReadLong(Path.Combine(Path.GetDirectoryName(file)!, "pids.current")) is { } used && used + needed > max)
            {
                problems.Add($"{file} is {max}, {used} in use and up to {needed} more are needed");
            }
        }

        if (Environment.UserName != "root" && ProcessLimit() is { } nproc && current + needed > nproc)
        {
            problems.Add($"ulimit -u is {nproc} and up to {needed} more processes are needed (raise it with ulimit -u)");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static long? ReadLong(string file)
    {
        try
        {
            return long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ProcessLimit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max processes", StringComparison.Ordinal));
            var soft = line?["Max processes".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return long.TryParse(soft, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Times <c>Process.Start("/bin/sh", "-c", command)</c> (no redirection) <paramref name="count"/> times, from the call
    /// until it returns with the process started; then kills them all and reaps them. One untimed warm-up first.
    /// </summary>
    private static double[] MeasureRawSpawn(string command, int count)
    {
        using (var warmup = Process.Start(Shell("true")) ?? throw new InvalidOperationException("/bin/sh did not start"))
        {
            warmup.WaitForExit();
        }

        var times = new double[count];
        var processes = new List<Process>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var start = Shell(command);
                var before = Stopwatch.GetTimestamp();
                var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start");
                var after = Stopwatch.GetTimestamp();
                processes.Add(process);
                times[i] = Ms(before, after);
            }
        }
        finally
        {
            KillShells(processes);
        }

        return times;
    }

    private static ProcessStartInfo Shell(string command)
    {
        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        return start;
    }

    /// <summary>
    /// Kills the shells and everything they started. Process.Kill(entireProcessTree) scans all of /proc per call, so
    /// this scans once: after every shell has forked its command (or ended), it kills them, then their descendants.
    /// </summary>
    private static void KillShells(List<Process> shells)
    {
        var pids = shells.Select(p => p.Id).ToHashSet();
        var deadline = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
        var table = ProcTable.Read();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var parents = table.Where(p => pids.Contains(p.Parent)).Select(p => p.Parent).ToHashSet();
            if (shells.All(s => parents.Contains(s.Id) || s.HasExited))
            {
                break;
            }

            Thread.Yield();
            table = ProcTable.Read();
        }

        // Shells first (a shell outliving its command would print "Killed"), then what they had started.
        var descendants = ProcTable.Descendants(table, pids);
        foreach (var shell in shells)
        {
            try
            {
                shell.Kill();
            }
            catch (InvalidOperationException)
            {
                // already exited
            }
        }

        foreach (var pid in descendants)
        {
            ProcTable.Kill(pid);
        }

        foreach (var shell in shells)
        {
            shell.WaitForExit();
            shell.Dispose();
        }
    }
}
