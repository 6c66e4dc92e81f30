using System.Net;
using System.Net.Sockets;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Agent.Tests;

/// <summary>
/// Health checks run by the agent next to the task, against a fake master, with real processes and real loopback
/// services the test opens itself (the task is a plain <c>sleep</c>). Scheduling runs on the fake clock: each poll
/// advances it by a second.
/// </summary>
public sealed class HealthCheckTests : IAsyncLifetime, IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly List<AgentRuntime> _agents = [];
    private readonly List<IAsyncDisposable> _services = [];
    private FakeMaster _master = null!;

    public async Task InitializeAsync() => _master = await FakeMaster.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var agent in _agents)
        {
            await agent.DisposeAsync();
        }

        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        await _master.DisposeAsync();
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Http_check_reports_healthy_then_unhealthy_after_the_server_stops_and_never_kills()
    {
        var server = await StartHttpAsync();
        var agent = await StartAgentAsync();
        _master.Launch(Sleep("t1", Check(HealthCheckTypes.Http, http: new HttpCheckInfoDto { Port = server.Port, Path = "/health" })));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));

        var healthy = await NextHealthUpdateAsync("t1", 1);
        Assert.Equal(TaskStates.Running, healthy.State);
        Assert.True(healthy.Healthy);
        Assert.Equal(TaskReasons.TaskHealthCheckStatusUpdated, healthy.Reason);
        Assert.Equal(HealthCheckMessages.Passed, healthy.Message);
        Assert.Equal("SOURCE_EXECUTOR", healthy.Source);
        Assert.True(server.Requests > 0);
        Assert.Equal("/health", server.LastPath);

        await server.DisposeAsync();
        var unhealthy = await NextHealthUpdateAsync("t1", 2);
        Assert.False(unhealthy.Healthy);
        Assert.Equal(TaskStates.Running, unhealthy.State);
        Assert.StartsWith("health check failed 1 consecutive time: HTTP GET http://127.0.0.1:", unhealthy.Message, StringComparison.Ordinal);
        Assert.True(HealthCheckMessages.TryParseConsecutiveFailures(unhealthy.Message, out var first));
        Assert.Equal(1, first);

        // The count reaching consecutive_failures (3) is reported once; the agent never kills.
        var threshold = await NextHealthUpdateAsync("t1", 3);
        Assert.False(threshold.Healthy);
        Assert.True(HealthCheckMessages.TryParseConsecutiveFailures(threshold.Message, out var third));
        Assert.Equal(3, third);

        var checker = agent.HealthCheckerOf("fw-1", "t1")!;
        var checks = checker.ChecksCompleted;
        Assert.True(await DriveAsync(() => checker.ChecksCompleted >= checks + 4));
        Assert.Equal(3, HealthUpdates("t1").Count);
        Assert.True(checker.State.ConsecutiveFailures >= 7);
        Assert.Empty(_master.UpdatesOf("t1", TaskStates.Killed));
        Assert.Equal(TaskStates.Running, agent.Tasks.Single().State);
        Assert.False(agent.Tasks.Single().Status.Healthy);
        Assert.True(ProcFs.ReadStat(agent.Tasks.Single().Pid!.Value) is { IsEnded: false });
    }

    [Fact]
    public async Task Http_status_codes_decide_health_200_to_399_by_default_or_the_listed_statuses()
    {
        var server = await StartHttpAsync(status: 503);
        var agent = await StartAgentAsync();
        _master.Launch(Sleep("plain", Check(HealthCheckTypes.Http, http: new HttpCheckInfoDto { Port = server.Port })));
        _master.Launch(Sleep("listed", Check(HealthCheckTypes.Http, http: new HttpCheckInfoDto { Port = server.Port, Statuses = [503] })));
        _master.Acknowledge(await _master.WaitForUpdateAsync("plain", TaskStates.Running));
        _master.Acknowledge(await _master.WaitForUpdateAsync("listed", TaskStates.Running));

        var plain = await NextHealthUpdateAsync("plain", 1);
        var listed = await NextHealthUpdateAsync("listed", 1);
        Assert.False(plain.Healthy);
        Assert.Contains("returned status 503", plain.Message, StringComparison.Ordinal);
        Assert.True(listed.Healthy);

        server.Status = 302; // an answer, not a redirect to follow
        Assert.True((await NextHealthUpdateAsync("plain", 2)).Healthy);
        Assert.Equal("/", server.LastPath);
    }

    [Fact]
    public async Task Tcp_check_follows_the_listener()
    {
        var listener = StartTcp();
        var agent = await StartAgentAsync();
        _master.Launch(Sleep("t1", Check(HealthCheckTypes.Tcp, tcp: new TcpCheckInfoDto { Port = listener.Port })));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));

        Assert.True((await NextHealthUpdateAsync("t1", 1)).Healthy);
        Assert.True(listener.Accepted > 0);

        await listener.DisposeAsync();
        var unhealthy = await NextHealthUpdateAsync("t1", 2);
        Assert.False(unhealthy.Healthy);
        Assert.Contains($"TCP connection to 127.0.0.1:{listener.Port} failed", unhealthy.Message, StringComparison.Ordinal);
        Assert.Equal(TaskStates.Running, agent.Tasks.Single().State);
    }

    [Fact]
    public async Task Command_check_runs_in_the_sandbox_with_the_task_environment()
    {
        var agent = await StartAgentAsync();
        var command = new CommandDto { Value = "test -f healthy && test \"$MESOS_TASK_ID\" = t1 && test \"$CHECK_VAR\" = yes || { echo not yet >&2; exit 1; }" };
        var check = Check(HealthCheckTypes.Command, command: command with { Environment = new EnvironmentDto([new("CHECK_VAR", "yes")]) });
        _master.Launch(Sleep("t1", check));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        var sandbox = agent.Tasks.Single().SandboxDirectory!;

        var first = await NextHealthUpdateAsync("t1", 1);
        Assert.False(first.Healthy);
        Assert.Equal("health check failed 1 consecutive time: command exited with status 1 (not yet)", first.Message);

        File.WriteAllText(Path.Combine(sandbox, "healthy"), "");
        Assert.True((await NextHealthUpdateAsync("t1", 2)).Healthy);

        File.Delete(Path.Combine(sandbox, "healthy"));
        Assert.False((await NextHealthUpdateAsync("t1", 3)).Healthy);
        Assert.Equal("not yet\n", File.ReadAllText(Path.Combine(sandbox, "health_check.stderr")));
    }

    [Fact]
    public async Task Command_check_that_times_out_fails_and_its_process_is_killed()
    {
        var agent = await StartAgentAsync();
        var check = Check(HealthCheckTypes.Command, command: new CommandDto { Value = "echo $$ > check.pid; exec sleep 600" }) with { TimeoutSeconds = 2, IntervalSeconds = 60 };
        _master.Launch(Sleep("t1", check));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        var pidFile = Path.Combine(agent.Tasks.Single().SandboxDirectory!, "check.pid");
        Assert.True(await Tasks.EventuallyAsync(() => File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0));
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());

        var timedOut = await NextHealthUpdateAsync("t1", 1);
        Assert.False(timedOut.Healthy);
        Assert.Equal("health check failed 1 consecutive time: timed out after 2 s", timedOut.Message);
        Assert.True(await Tasks.EventuallyAsync(() => ProcFs.ReadStat(pid) is null or { IsEnded: true }));
    }

    [Fact]
    public async Task Failures_in_the_grace_period_are_ignored_until_the_first_success()
    {
        var agent = await StartAgentAsync();
        var check = Check(HealthCheckTypes.Command, command: new CommandDto { Value = "test -f healthy" }) with { GracePeriodSeconds = 3600 };
        _master.Launch(Sleep("t1", check));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        var sandbox = agent.Tasks.Single().SandboxDirectory!;
        var checker = agent.HealthCheckerOf("fw-1", "t1")!;

        Assert.True(await DriveAsync(() => checker.State.IgnoredFailures >= 3));
        Assert.Empty(HealthUpdates("t1"));
        Assert.Null(agent.Tasks.Single().Status.Healthy);

        File.WriteAllText(Path.Combine(sandbox, "healthy"), "");
        Assert.True((await NextHealthUpdateAsync("t1", 1)).Healthy);

        // Still inside the grace period, but after a success failures count.
        File.Delete(Path.Combine(sandbox, "healthy"));
        var unhealthy = await NextHealthUpdateAsync("t1", 2);
        Assert.False(unhealthy.Healthy);
        Assert.True(HealthCheckMessages.TryParseConsecutiveFailures(unhealthy.Message, out var failures));
        Assert.Equal(1, failures);
        Assert.True(_time.GetUtcNow() < agent.Containerizer.Find("fw-1", "t1")!.Checkpoint.LaunchedAt!.Value.AddSeconds(3600));
    }

    [Fact]
    public async Task Failures_count_once_the_grace_period_is_over_even_without_a_success()
    {
        var agent = await StartAgentAsync();
        var check = Check(HealthCheckTypes.Command, command: new CommandDto { Value = "exit 1" }) with { GracePeriodSeconds = 5 };
        _master.Launch(Sleep("t1", check));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        var launchedAt = agent.Containerizer.Find("fw-1", "t1")!.Checkpoint.LaunchedAt!.Value;

        var unhealthy = await NextHealthUpdateAsync("t1", 1);

        Assert.False(unhealthy.Healthy);
        Assert.Equal("health check failed 1 consecutive time: command exited with status 1", unhealthy.Message);
        Assert.True(DateTimeOffset.FromUnixTimeMilliseconds((long)(unhealthy.Timestamp!.Value * 1000)) > launchedAt.AddSeconds(5));
        Assert.True(agent.HealthCheckerOf("fw-1", "t1")!.State.IgnoredFailures >= 1);
    }

    [Fact]
    public async Task Health_updates_are_reliable_queued_behind_running_resent_until_acknowledged()
    {
        var listener = StartTcp();
        var agent = await StartAgentAsync();
        _master.Launch(Sleep("t1", Check(HealthCheckTypes.Tcp, tcp: new TcpCheckInfoDto { Port = listener.Port })));
        var running = await _master.WaitForUpdateAsync("t1", TaskStates.Running);

        // The first check ran, but its update waits behind the unacknowledged TASK_RUNNING.
        var checker = agent.HealthCheckerOf("fw-1", "t1")!;
        Assert.True(await Tasks.EventuallyAsync(() => checker.ChecksCompleted >= 1));
        Assert.Equal(2, agent.StatusUpdates.Pending("fw-1", "t1").Count);
        Assert.True(agent.StatusUpdates.Pending("fw-1", "t1")[1].Status.Healthy);
        Assert.Empty(HealthUpdates("t1"));

        _master.Acknowledge(running);
        Assert.True(await Tasks.EventuallyAsync(() => HealthUpdates("t1").Count == 1));
        var healthy = HealthUpdates("t1")[0];
        Assert.True(healthy.Update!.Status.Healthy);
        var uuid = healthy.Update!.Status.Uuid!;

        // Not acknowledged: sent again with the same uuid after the retry interval.
        _time.Advance(StatusUpdateManager.MinRetryInterval);
        Assert.True(await Tasks.EventuallyAsync(() => _master.UpdatesOf("t1").Count(u => u.Update!.Status.Uuid == uuid) >= 2));

        _master.Acknowledge(healthy);
        Assert.True(await Tasks.EventuallyAsync(() => agent.StatusUpdates.Pending("fw-1", "t1").Count == 0));
        var sentOfHealthy = _master.UpdatesOf("t1").Count(u => u.Update!.Status.Uuid == uuid);
        var sentOfRunning = _master.UpdatesOf("t1").Count(u => u.Update!.Status.Uuid == running.Update!.Status.Uuid);

        // Acknowledged updates are never sent again (later checks may report new changes; those are new updates).
        _time.AdvanceSeconds(3600);
        await Task.Delay(200);
        Assert.Equal(sentOfHealthy, _master.UpdatesOf("t1").Count(u => u.Update!.Status.Uuid == uuid));
        Assert.Equal(sentOfRunning, _master.UpdatesOf("t1").Count(u => u.Update!.Status.Uuid == running.Update!.Status.Uuid));
    }

    [Fact]
    public async Task Checks_stop_when_the_task_is_killed_or_ends()
    {
        var agent = await StartAgentAsync();
        // consecutive_failures 0: only the first failure is reported, so no update queues up behind it.
        var check = Check(HealthCheckTypes.Command, command: new CommandDto { Value = "exit 1" }) with { ConsecutiveFailures = 0 };
        _master.Launch(Sleep("killed", check));
        _master.Launch(Shell("ends", "while [ ! -f stop ]; do sleep 0.05; done", check));
        _master.Acknowledge(await _master.WaitForUpdateAsync("killed", TaskStates.Running));
        _master.Acknowledge(await _master.WaitForUpdateAsync("ends", TaskStates.Running));
        _master.Acknowledge(await NextHealthUpdateAsync("killed", 1, acknowledge: false));
        _master.Acknowledge(await NextHealthUpdateAsync("ends", 1, acknowledge: false));
        var killedChecker = agent.HealthCheckerOf("fw-1", "killed")!;
        var endsChecker = agent.HealthCheckerOf("fw-1", "ends")!;

        _master.Kill("killed");
        await _master.WaitForUpdateAsync("killed", TaskStates.Killed);
        File.WriteAllText(Path.Combine(agent.Containerizer.Find("fw-1", "ends")!.SandboxDirectory, "stop"), "");
        await _master.WaitForUpdateAsync("ends", TaskStates.Finished);

        Assert.True(killedChecker.IsStopped);
        Assert.True(endsChecker.IsStopped);
        var counts = (killedChecker.ChecksCompleted, endsChecker.ChecksCompleted);
        for (var i = 0; i < 5; i++)
        {
            _time.AdvanceSeconds(1);
            await Task.Delay(20);
        }

        Assert.Equal(counts, (killedChecker.ChecksCompleted, endsChecker.ChecksCompleted));
        Assert.All(new[] { "killed", "ends" }, id =>
            Assert.True(TaskStates.IsTerminal(_master.UpdatesOf(id)[^1].Update!.Status.State)));
    }

    [Fact]
    public async Task Checks_resume_after_agent_restart_from_the_reported_health()
    {
        var listener = StartTcp();
        var first = await StartAgentAsync();
        _master.Launch(Sleep("t1", Check(HealthCheckTypes.Tcp, tcp: new TcpCheckInfoDto { Port = listener.Port })));
        _master.Acknowledge(await _master.WaitForUpdateAsync("t1", TaskStates.Running));
        Assert.True((await NextHealthUpdateAsync("t1", 1)).Healthy);
        Assert.True(await Tasks.EventuallyAsync(() => first.StatusUpdates.PendingCount == 0));
        await first.StopAsync(CancellationToken.None);

        var second = await StartAgentAsync();
        Assert.True(await Tasks.EventuallyAsync(() => _master.Subscribes.Count == 2 && second.IsSubscribed));
        Assert.True(Assert.Single(_master.Subscribes[1].Subscribe!.Tasks!).Status.Healthy);
        var checker = second.HealthCheckerOf("fw-1", "t1");
        Assert.NotNull(checker);
        Assert.True(await DriveAsync(() => checker.ChecksCompleted >= 2));
        Assert.Single(HealthUpdates("t1")); // still healthy: nothing new to report

        await listener.DisposeAsync();
        var unhealthy = await NextHealthUpdateAsync("t1", 2);
        Assert.False(unhealthy.Healthy);
        Assert.True(HealthCheckMessages.TryParseConsecutiveFailures(unhealthy.Message, out var failures));
        Assert.Equal(1, failures);
    }

    [Fact]
    public async Task Invalid_health_check_is_a_task_error()
    {
        await StartAgentAsync();
        _master.Launch(Sleep("t1", Check(HealthCheckTypes.Http)));

        var error = await _master.WaitForUpdateAsync("t1", TaskStates.Error);

        Assert.Equal("invalid health check: an HTTP check needs 'http'", error.Update!.Status.Message);
        Assert.Equal(ContainerLaunchException.ReasonTaskInvalid, error.Update.Status.Reason);
    }

    [Fact]
    public async Task Health_checks_do_not_hold_up_launches()
    {
        var agent = await StartAgentAsync();
        var slow = Check(HealthCheckTypes.Command, command: new CommandDto { Value = "sleep 600" }) with { TimeoutSeconds = 0 };
        _master.Launch(Sleep("slow", slow));
        _master.Acknowledge(await _master.WaitForUpdateAsync("slow", TaskStates.Running));
        Assert.True(await Tasks.EventuallyAsync(() => agent.HealthCheckerOf("fw-1", "slow") is not null));

        _master.Launch(Shell("next", "echo hi"));

        _master.Acknowledge(await _master.WaitForUpdateAsync("next", TaskStates.Running));
        await _master.WaitForUpdateAsync("next", TaskStates.Finished);
        Assert.Equal(0, agent.HealthCheckerOf("fw-1", "slow")!.ChecksCompleted);
    }

    private async Task<AgentRuntime> StartAgentAsync()
    {
        var options = _dir.Options() with { MasterUrls = [_master.Url] };
        var agent = new AgentRuntime(options, _time);
        _agents.Add(agent);
        await agent.StartAsync(CancellationToken.None);
        Assert.True(await Tasks.EventuallyAsync(() => agent.IsSubscribed));
        return agent;
    }

    private static HealthCheckDto Check(string type, HttpCheckInfoDto? http = null, TcpCheckInfoDto? tcp = null, CommandDto? command = null) => new()
    {
        Type = type,
        Http = http,
        Tcp = tcp,
        Command = command,
        DelaySeconds = 0,
        IntervalSeconds = 1,
        TimeoutSeconds = 20,
        GracePeriodSeconds = 0,
        ConsecutiveFailures = 3,
    };

    private static TaskInfoDto Sleep(string id, HealthCheckDto check) => Shell(id, "sleep 600", check);

    private static TaskInfoDto Shell(string id, string command, HealthCheckDto? check = null) =>
        Tasks.Shell(id, command) with { HealthCheck = check };

    /// <summary>Health updates of a task as the master received them, one per uuid (retries folded), oldest first.</summary>
    private List<AgentCall> HealthUpdates(string taskId) =>
        [.. _master.UpdatesOf(taskId).Where(u => u.Update!.Status.Reason == TaskReasons.TaskHealthCheckStatusUpdated).DistinctBy(u => u.Update!.Status.Uuid)];

    /// <summary>Advances the fake clock a second per poll until the task's <paramref name="n"/>-th health update arrived; acknowledges it.</summary>
    private async Task<TaskStatusDto> NextHealthUpdateAsync(string taskId, int n) => (await NextHealthUpdateAsync(taskId, n, acknowledge: true)).Update!.Status;

    private async Task<AgentCall> NextHealthUpdateAsync(string taskId, int n, bool acknowledge)
    {
        Assert.True(await DriveAsync(() => HealthUpdates(taskId).Count >= n), $"no health update #{n} for {taskId}; got: " +
            string.Join(" | ", HealthUpdates(taskId).Select(u => u.Update!.Status.Healthy + " " + u.Update.Status.Message)));
        var update = HealthUpdates(taskId)[n - 1];
        if (acknowledge)
        {
            _master.Acknowledge(update);
        }

        return update;
    }

    private Task<bool> DriveAsync(Func<bool> condition) => Tasks.EventuallyAsync(() =>
    {
        _time.AdvanceSeconds(1);
        return condition();
    });

    private async Task<HttpService> StartHttpAsync(int status = 200)
    {
        var service = await HttpService.StartAsync(status);
        _services.Add(service);
        return service;
    }

    private TcpService StartTcp()
    {
        var service = new TcpService();
        _services.Add(service);
        return service;
    }

    /// <summary>An HTTP server on 127.0.0.1 answering every GET with <see cref="Status"/>.</summary>
    private sealed class HttpService : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _requests;
        private int _disposed;

        private HttpService(WebApplication app) => _app = app;

        public int Port { get; private set; }

        public volatile int Status;

        public int Requests => Volatile.Read(ref _requests);

        public string? LastPath { get; private set; }

        public static async Task<HttpService> StartAsync(int status)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            var app = builder.Build();
            app.Urls.Add("http://127.0.0.1:0");
            var service = new HttpService(app) { Status = status };
            app.Run(context =>
            {
                Interlocked.Increment(ref service._requests);
                service.LastPath = context.Request.Path;
                context.Response.StatusCode = service.Status;
                if (service.Status is >= 300 and < 400)
                {
                    context.Response.Headers.Location = "http://127.0.0.1:1/elsewhere";
                }

                return Task.CompletedTask;
            });
            await app.StartAsync();
            service.Port = new Uri(app.Urls.First()).Port;
            return service;
        }

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                await _app.StopAsync();
                await _app.DisposeAsync();
            }
        }
    }

    /// <summary>A TCP listener on 127.0.0.1 that accepts and closes connections.</summary>
    private sealed class TcpService : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _accepted;

        public TcpService()
        {
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _loop = AcceptAsync();
        }

        public int Port { get; }

        public int Accepted => Volatile.Read(ref _accepted);

        public async ValueTask DisposeAsync()
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }

            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    Interlocked.Increment(ref _accepted);
                }
                catch (SocketException)
                {
                    return;
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        }
    }
}
