using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// <c>all</c>: runs every scenario one after another, each in its own child process of this program (so one's memory
/// and threads do not disturb the next), collects each one's <c>key=value</c> line and writes a Markdown table with the
/// anchor each compares with. <c>--small</c> runs reduced sizes (minutes instead of most of an hour).
/// </summary>
internal static class AllBenchmark
{
    private sealed record Scenario(string Name, string[] Full, string[] Small, string Keys, string Anchor);

    private static readonly Scenario[] Scenarios =
    [
        new("allocator", ["--agents", "10000", "--frameworks", "1000"], ["--agents", "2000", "--frameworks", "200"], "ms_per_cycle_median us_per_offer",
            "Mesos DeclineOffers 10k×1k: 1,060 ms/cycle, 106 µs/offer (commit 86653356)"),
        new("allocator-quota", [], ["--agents", "1000", "--roles", "1000"], "first_cycle_ms empty_cycle_ms",
            "Mesos LargeAndSmallQuota 3k×3k: 15–17 s first, 13–15 s empty cycle (commit ec6b7b34)"),
        new("multi-framework", [], [], "rounds wall_ms ms_per_round_p50",
            "Mesos MultiFrameworkAllocations: none published (ours is the baseline)"),
        new("placements", [], ["--agents", "1000", "--tasks", "50000"], "placements_per_s time_to_last_running_s",
            "Nomad C1M: 3,750 placements/s on 5,000 hosts; k8s scheduler_perf ≥ 680–810 pods/s; target ≥ 10,000/s"),
        new("master-scale", [], ["--agents", "1000", "--tasks", "10000"], "rss_mb state_p99_ms get_state_p99_ms alloc_ms_max",
            "Mesos 1.7 /state ≈ 3 s at production scale; target RSS ≤ 1 GiB, state p99 ≤ 200 ms"),
        new("failover", [], ["--agents", "1000", "--tasks", "10000"], "reregistered_s agents_per_s offers_s",
            "Mesos 1.5 failover benchmark (1k–40k agents; times only in charts); NSDI'11 MTTR 4–8 s"),
        new("launch", [], ["--tasks", "500"], "p50_ms p99_ms tasks_per_s",
            "Mesos NSDI'11: < 1 s launch overhead; k8s pod startup p99 ≤ 5 s"),
        new("apps", [], ["--apps", "1000", "--list-rounds", "20"], "create_per_s list_p99_ms restart100_s",
            "Marathon: GET /v2/apps slows to seconds at thousands of apps"),
        new("apps-rolling", [], [], "restart_s", "target ≤ 5 s for 100 instances"),
        new("jobs", ["--no-cron"], ["--jobs", "200", "--minutes", "1", "--no-cron"], "lateness_p50_ms lateness_p99_ms missed duplicates",
            "Debian cron, same 1,000 entries: p50 3.0 s, p99 4.5 s (measured here); target 50 ms"),
        new("jobs-trigger", [], [], "due_p50_ms due_p99_ms", "none (pure decision time)"),
        new("docker", [], ["--tasks", "10"], "our_p50_ms our_p99_ms docker_run_p50_ms overhead_p50_pct", "docker run -d of the same image (measured here); target ≤ 20 % overhead"),
    ];

    public static async Task<int> RunAsync(bool small, string? outPath, CancellationToken cancellationToken)
    {
        var table = new StringBuilder();
        table.AppendLine("| scenario | result | anchor |").AppendLine("|---|---|---|");
        var failed = 0;
        foreach (var scenario in Scenarios)
        {
            var args = small ? scenario.Small : scenario.Full;
            await Console.Error.WriteLineAsync($"all: {scenario.Name} {string.Join(' ', args)}").ConfigureAwait(false);
            var (code, line) = await RunChildAsync(scenario.Name, args, cancellationToken).ConfigureAwait(false);
            string result;
            if (code == 0 && line is not null)
            {
                Console.WriteLine(line);
                var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
                    .Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1], StringComparer.Ordinal);
                result = string.Join(", ", scenario.Keys.Split(' ').Where(values.ContainsKey).Select(k => $"{k} {values[k]}"));
            }
            else
            {
                failed++;
                result = code == 3 ? "not run here (missing prerequisite, see stderr)" : $"FAILED (exit {code})";
            }

            var command = string.Join(' ', new[] { scenario.Name }.Concat(args));
            table.Append(CultureInfo.InvariantCulture, $"| `{command}` | {result} | {scenario.Anchor} |").AppendLine();
        }

        var markdown = table.ToString();
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (outPath is not null)
        {
            await File.WriteAllTextAsync(outPath, markdown, cancellationToken).ConfigureAwait(false);
        }

        return failed == 0 ? 0 : 1;
    }

    private static async Task<(int Code, string? Line)> RunChildAsync(string name, string[] args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false, RedirectStandardOutput = true };
        info.ArgumentList.Add(name);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var child = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        string? last = null;
        while (await child.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                last = line;
            }
        }

        await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        return (child.ExitCode, last);
    }
}
