using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using DatacenterOs.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace DatacenterOs.EndToEnd.Tests;

/// <summary>
/// Three real <c>dcosd master</c> processes sharing a PostgreSQL database (a fresh one per test) and two real
/// <c>dcosd agent</c> processes given every master URL, on loopback. Tasks are real processes.
/// </summary>
[Collection(nameof(ClusterFailoverTests))]
public sealed class ClusterFailoverTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("dcos-e2e-cluster-").FullName;
    private readonly List<DcosdNode> _masters = [];
    private readonly List<DcosdNode> _agents = [];
    private readonly string _marker = "sleep 1000." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + Random.Shared.Next(100, 999).ToString(CultureInfo.InvariantCulture);
    private PostgresTestDatabase? _postgres;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var node in _masters.Concat(_agents))
        {
            await node.DisposeAsync();
        }

        foreach (var pid in Pids(_marker))
        {
            try
            {
                Process.GetProcessById(pid).Kill();
            }
            catch (ArgumentException)
            {
            }
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [PostgresFact]
    public async Task Killing_the_leader_mid_rolling_upgrade_elects_another_within_5_s_and_the_upgrade_and_a_10_s_job_carry_on()
    {
        await StartClusterAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // A job every 10 s from a whole 10 s boundary on, and an app of 5 instances replaced one at a time (maximumOverCapacity 0.2).
        var jobLog = Path.Combine(_root, "job.log");
        var start = DateTimeOffset.FromUnixTimeSeconds((DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 10 * 10) + 10);
        var (status, body) = await SendAsync(http, HttpMethod.Post, "/v1/scheduler/iso8601",
            $$$"""{"name":"tick","command":"echo tick >> {{{jobLog}}}","schedule":"R/{{{start.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)}}}/PT10S","cpus":0.05,"mem":16}""");
        Assert.True(status is 200 or 201 or 204, $"POST job: {status} {body}");
        (status, body) = await SendAsync(http, HttpMethod.Post, "/v2/apps", $$$"""
            {"id":"/svc","cmd":"exec {{{_marker}}}1","cpus":0.1,"mem":16,"instances":5,
             "upgradeStrategy":{"minimumHealthCapacity":1,"maximumOverCapacity":0.2}}
            """);
        Assert.True(status == 201, $"POST app: {status} {body}");
        await WaitForAppAsync(http, "1");

        var maxTasks = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxTasks = Math.Max(maxTasks, Pids(_marker).Count);
                await Task.Delay(25);
            }
        });

        (status, body) = await SendAsync(http, HttpMethod.Put, "/v2/apps/svc", $$$"""{"cmd":"exec {{{_marker}}}2"}""");
        Assert.True(status == 200, $"PUT app: {status} {body}");
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Pids(_marker + "2").Count >= 1 && Pids(_marker + "1").Count >= 1), "the upgrade to be under way", 120);

        var leader = await LeaderAsync();
        var before = await ReadLeaseAsync();
        var killStart = DateTimeOffset.UtcNow;
        await leader.KillAsync();
        output.WriteLine($"killed leader {leader.Url} (epoch {before.Epoch}) mid upgrade: {Pids(_marker + "1").Count} old and {Pids(_marker + "2").Count} new tasks");

        // A new epoch held by a surviving master. The new term began at acquired_at (the masters' clock, which is this
        // machine's); the kill happened after both killStart and the dead leader's last renewal (its expiry - 3 s).
        await DcosdProcess.WaitUntilAsync(async () => (await ReadLeaseAsync()).Epoch > before.Epoch, "a new leader", 60);
        var after = await ReadLeaseAsync();
        Assert.NotEqual(leader.Url.GetLeftPart(UriPartial.Authority), after.Address);
        var killedNoEarlierThan = killStart > before.ExpiresAt - TimeSpan.FromSeconds(3) ? killStart : before.ExpiresAt - TimeSpan.FromSeconds(3);
        var takeover = after.AcquiredAt - killedNoEarlierThan;
        output.WriteLine($"new leader {after.Address} (epoch {after.Epoch}) at most {takeover.TotalSeconds:F2} s after the kill");
        Assert.True(takeover <= TimeSpan.FromSeconds(5), $"takeover took up to {takeover.TotalSeconds:F2} s");

        // The upgrade completes on the new leader: 5 new tasks, no old one, never more than 5 + 1 at once.
        await WaitForAppAsync(http, "2");
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(Pids(_marker + "1").Count == 0 && Pids(_marker + "2").Count == 5), "old tasks gone", 120);
        await sampling.CancelAsync();
        await sampler;
        Assert.True(maxTasks <= 6, $"{maxTasks} tasks at once (instances 5 + maximumOverCapacity 1)");

        // The job kept its 10 s rhythm across the kill: one run per slot, no slot skipped, none twice.
        var killedAt = DateTimeOffset.UtcNow;
        await DcosdProcess.WaitUntilAsync(async () => (await ScheduledRunsAsync(http)).Count(t => t > killedAt) >= 2, "two more job runs after the failover", 90);
        var slots = await ScheduledRunsAsync(http);
        output.WriteLine("job runs scheduled for: " + string.Join(", ", slots.Select(s => s.ToString("HH:mm:ss", CultureInfo.InvariantCulture))));
        Assert.Equal(start, slots[0]);
        Assert.Equal(slots.Count, slots.Distinct().Count());
        Assert.All(slots.Zip(slots.Skip(1)), pair => Assert.Equal(TimeSpan.FromSeconds(10), pair.Second - pair.First));
        Assert.Contains(slots, s => s < before.ExpiresAt);
        Assert.Contains(slots, s => s > after.AcquiredAt);
    }

    [PostgresFact]
    public async Task A_leader_cut_off_from_its_database_steps_down_and_never_two_masters_lead()
    {
        await StartClusterAsync();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var (status, body) = await SendAsync(http, HttpMethod.Post, "/v2/apps", $$$"""{"id":"/svc","cmd":"exec {{{_marker}}}1","cpus":0.1,"mem":16,"instances":2}""");
        Assert.True(status == 201, $"POST app: {status} {body}");
        await WaitForAppAsync(http, "1", instances: 2);

        var leader = await LeaderAsync();
        var before = await ReadLeaseAsync();
        var leaders = new ConcurrentBag<int>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                var flags = await Task.WhenAll(_masters.Select(m => m.IsLeaderAsync()));
                leaders.Add(flags.Count(f => f));
                await Task.Delay(50);
            }
        });

        // End every PostgreSQL session of the leader: its next renewal fails and it stops master, Apps and Jobs.
        var terminated = await _postgres!.TerminateConnectionsAsync("dcosd master " + leader.Url.GetLeftPart(UriPartial.Authority));
        output.WriteLine($"terminated {terminated} sessions of {leader.Url}");
        Assert.True(terminated > 0);
        await DcosdProcess.WaitUntilAsync(() => Task.FromResult(leader.Output.Any(l => l.Contains("lost leadership", StringComparison.Ordinal))), "the leader to step down", 60);
        await DcosdProcess.WaitUntilAsync(async () => (await ReadLeaseAsync()).Epoch > before.Epoch, "a new leader", 60);
        var after = await ReadLeaseAsync();
        await DcosdProcess.WaitUntilAsync(async () => await leader.LeaderAsync() is { } l && l.GetLeftPart(UriPartial.Authority) == after.Address, "the old leader to redirect to the new one", 60);
        await sampling.CancelAsync();
        await sampler;

        output.WriteLine($"epoch {before.Epoch} ({leader.Url}) -> {after.Epoch} ({after.Address}); {leaders.Count} samples");
        Assert.True(leader.IsRunning, "the deposed master keeps running as a standby");
        Assert.All(leaders, n => Assert.True(n <= 1, "two masters claimed to lead at once"));

        // The cluster works through the deposed master (307 to the new leader), and the tasks kept running.
        (status, body) = await SendAsync(http, HttpMethod.Put, "/v2/apps/svc", """{"instances":3}""", leader.Url);
        Assert.True(status == 200, $"PUT app: {status} {body}");
        await WaitForAppAsync(http, "1", instances: 3);
        Assert.Equal(3, Pids(_marker + "1").Count);
    }

    [PostgresFact]
    public async Task An_agent_killed_with_kill_9_has_its_tasks_adopted_when_back_in_time_and_replaced_elsewhere_when_not()
    {
        // One master is enough here; agents get 15 s to come back before their tasks become unreachable.
        await StartClusterAsync(masters: 1, "--agent-reregister-timeout", "15");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var (status, body) = await SendAsync(http, HttpMethod.Post, "/v2/apps", $$$"""
            {"id":"/svc","cmd":"exec {{{_marker}}}1","cpus":0.1,"mem":16,"instances":1,
             "unreachableStrategy":{"inactiveAfterSeconds":0,"expungeAfterSeconds":0}}
            """);
        Assert.True(status == 201, $"POST app: {status} {body}");
        await WaitForAppAsync(http, "1", instances: 1);
        var (taskId, agentId) = await SingleTaskAsync(http);
        var host = await AgentNodeAsync(http, agentId);
        var pid = Assert.Single(Pids(_marker + "1"));

        // Back before the timeout: the agent re-registers with its running task, which is adopted; nothing relaunched.
        await host.KillAsync();
        await host.StartAsync();
        await DcosdProcess.WaitUntilAsync(async () => await ActiveAgentsAsync(http) == 2 && host.Output.Any(l => l.Contains("Subscribed to master", StringComparison.Ordinal)), "the agent to come back", 60);
        await WaitForAppAsync(http, "1", instances: 1);
        Assert.Equal((taskId, agentId), await SingleTaskAsync(http));
        Assert.Equal([pid], Pids(_marker + "1"));

        // Gone for good: after 15 s its task is unreachable and a replacement runs on the other agent.
        var killedAt = DateTimeOffset.UtcNow;
        await host.KillAsync();
        await DcosdProcess.WaitUntilAsync(async () =>
        {
            var (s, b) = await SendAsync(http, HttpMethod.Get, "/v2/apps/svc");
            return s == 200 && JsonNode.Parse(b)!["app"]!["tasks"]!.AsArray().Any(t => (string?)t!["slaveId"] != agentId && (string?)t["state"] == "TASK_RUNNING");
        }, "a replacement on the other agent", 120);
        output.WriteLine($"replacement running {(DateTimeOffset.UtcNow - killedAt).TotalSeconds:F1} s after the agent was killed");
        Assert.Equal(1, await ActiveAgentsAsync(http));
        Assert.Contains(_masters[0].Output, l => l.Contains("marking it unreachable", StringComparison.Ordinal));
        Assert.Equal(2, Pids(_marker + "1").Count); // the orphan of the dead agent (nobody to kill it) and the replacement
    }

    private async Task<(string TaskId, string AgentId)> SingleTaskAsync(HttpClient http)
    {
        var (_, body) = await SendAsync(http, HttpMethod.Get, "/v2/apps/svc");
        var task = Assert.Single(JsonNode.Parse(body)!["app"]!["tasks"]!.AsArray())!;
        return ((string)task["id"]!, (string)task["slaveId"]!);
    }

    private async Task<DcosdNode> AgentNodeAsync(HttpClient http, string agentId)
    {
        var (_, state) = await SendAsync(http, HttpMethod.Get, "/master/state");
        var port = JsonNode.Parse(state)!["slaves"]!.AsArray().Single(a => (string?)a!["id"] == agentId)!["port"]!.GetValue<int>();
        return _agents.Single(a => a.Port == port);
    }

    private async Task<int> ActiveAgentsAsync(HttpClient http)
    {
        var (status, state) = await SendAsync(http, HttpMethod.Get, "/master/state");
        return status == 200 ? JsonNode.Parse(state)?["activated_slaves"]?.GetValue<int>() ?? 0 : 0;
    }

    private async Task StartClusterAsync(int masters = 3, params string[] masterArgs)
    {
        if (PostgresTestDatabase.Unavailable is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        _postgres = await PostgresTestDatabase.CreateAsync();
        for (var i = 0; i < masters; i++)
        {
            _masters.Add(DcosdNode.Master(Path.Combine(_root, "m" + i), _postgres.Url, masterArgs));
        }

        // The first master comes up alone (it creates the schemas and leads); the others join as standbys.
        await _masters[0].StartAsync();
        await Task.WhenAll(_masters.Skip(1).Select(m => m.StartAsync()));
        var urls = _masters.Select(m => m.Url).ToList();
        _agents.Add(DcosdNode.Agent(Path.Combine(_root, "a0"), urls, "cpus:4;mem:4096;disk:1000;ports:[35000-35100]"));
        _agents.Add(DcosdNode.Agent(Path.Combine(_root, "a1"), [.. urls.AsEnumerable().Reverse()], "cpus:4;mem:4096;disk:1000;ports:[35100-35200]"));
        await Task.WhenAll(_agents.Select(a => a.StartAsync()));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await DcosdProcess.WaitUntilAsync(async () =>
        {
            var (status, state) = await SendAsync(http, HttpMethod.Get, "/master/state");
            return status == 200 && JsonNode.Parse(state)?["activated_slaves"]?.GetValue<int>() == 2;
        }, "both agents registered with the leader", 120);
    }

    private async Task<DcosdNode> LeaderAsync()
    {
        DcosdNode? leader = null;
        await DcosdProcess.WaitUntilAsync(async () =>
        {
            foreach (var master in _masters)
            {
                if (master.IsRunning && await master.IsLeaderAsync())
                {
                    leader = master;
                    return true;
                }
            }

            return false;
        }, "a leading master", 60);
        return leader!;
    }

    /// <summary>The lease row as the masters wrote it.</summary>
    private async Task<(long Epoch, string Address, DateTimeOffset ExpiresAt, DateTimeOffset AcquiredAt)> ReadLeaseAsync()
    {
        var builder = DatacenterOs.Storage.PostgresConnection.Parse(_postgres!.Url);
        builder.Pooling = false;
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT epoch, address, expires_at, acquired_at FROM dcos_election.leader_lease WHERE id = 1;", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "no lease row");
        var expires = reader.GetString(2);
        return (reader.GetInt64(0), reader.GetString(1), expires.Length == 0 ? DateTimeOffset.MinValue : DateTimeOffset.Parse(expires, CultureInfo.InvariantCulture),
            DateTimeOffset.Parse(reader.GetString(3), CultureInfo.InvariantCulture));
    }

    /// <summary>Sends to <paramref name="master"/> (default: any running master), following 307 to the leader; retries while no master leads.</summary>
    private async Task<(int Status, string Body)> SendAsync(HttpClient http, HttpMethod method, string path, string? json = null, Uri? master = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            var target = master ?? _masters.First(m => m.IsRunning).Url;
            using var request = new HttpRequestMessage(method, new Uri(target, path));
            if (json is not null)
            {
                request.Content = new StringContent(json);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            try
            {
                using var response = await http.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode == 503 && attempt < 120)
                {
                    await Task.Delay(500);
                    continue;
                }

                return ((int)response.StatusCode, text);
            }
            catch (HttpRequestException) when (attempt < 120)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Waits until /v2/apps/svc runs <paramref name="instances"/> tasks of generation <paramref name="generation"/> and no deployment.</summary>
    private async Task WaitForAppAsync(HttpClient http, string generation, int instances = 5)
    {
        try
        {
            await DcosdProcess.WaitUntilAsync(async () =>
            {
                var (status, body) = await SendAsync(http, HttpMethod.Get, "/v2/apps/svc");
                if (status != 200)
                {
                    return false;
                }

                var app = JsonNode.Parse(body)!["app"]!;
                return (string?)app["cmd"] == $"exec {_marker}{generation}"
                    && app["tasksRunning"]?.GetValue<int>() == instances
                    && app["deployments"]?.AsArray().Count == 0
                    && Pids(_marker + generation).Count == instances;
            }, $"{instances} tasks of generation {generation}", 180);
        }
        catch (TimeoutException e)
        {
            var (_, app) = await SendAsync(http, HttpMethod.Get, "/v2/apps/svc");
            var logs = string.Join("\n", _masters.Select(m => m.Url + ":\n" + string.Join("\n", m.Output.TakeLast(25))));
            throw new TimeoutException(e.Message + "\napp: " + app + "\n" + logs, e);
        }
    }

    /// <summary>Scheduled instants of the job's runs, ascending.</summary>
    private async Task<List<DateTimeOffset>> ScheduledRunsAsync(HttpClient http)
    {
        var (status, body) = await SendAsync(http, HttpMethod.Get, "/v1/scheduler/job/tick/runs");
        Assert.Equal(200, status);
        return [.. JsonNode.Parse(body)!.AsArray().Select(r => DateTimeOffset.Parse((string)r!["scheduledFor"]!, CultureInfo.InvariantCulture)).Order()];
    }

    /// <summary>Live (not zombie) processes whose command line starts with <paramref name="marker"/>.</summary>
    private static List<int> Pids(string marker)
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var state = stat[(stat.LastIndexOf(')') + 2)..][0];
                if (state != 'Z' && cmdline.StartsWith(marker, StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return pids;
    }
}

/// <summary>The cluster tests run one at a time (each starts five processes).</summary>
[CollectionDefinition(nameof(ClusterFailoverTests), DisableParallelization = true)]
public sealed class ClusterFailoverCollection;
