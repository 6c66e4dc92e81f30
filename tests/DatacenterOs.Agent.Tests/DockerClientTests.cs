using System.Text;
using System.Text.Json.Nodes;
using DatacenterOs.Agent.Docker;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Agent.Tests;

/// <summary>The Docker Engine API client against a small fake daemon on a real Unix socket; no Docker needed.</summary>
public sealed class DockerClientTests : IAsyncLifetime
{
    private readonly string _socket = Path.Combine(Path.GetTempPath(), "dcos-fake-docker-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
    private readonly List<(string Method, string PathAndQuery, string Body)> _requests = [];
    private WebApplication? _daemon;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.ListenUnixSocket(_socket));
        _daemon = builder.Build();
        _daemon.Run(async ctx =>
        {
            var body = await new StreamReader(ctx.Request.Body).ReadToEndAsync();
            var path = ctx.Request.Path.Value ?? "";
            lock (_requests)
            {
                _requests.Add((ctx.Request.Method, path + ctx.Request.QueryString.Value, body));
            }

            switch (ctx.Request.Method, path)
            {
                case ("GET", "/v1.41/_ping"):
                    await ctx.Response.WriteAsync("OK");
                    break;
                case ("GET", "/v1.41/version"):
                    await ctx.Response.WriteAsJsonAsync(new { Version = "20.10.24", ApiVersion = "1.41" });
                    break;
                case ("GET", "/v1.41/images/missing:1/json"):
                    ctx.Response.StatusCode = 404;
                    await ctx.Response.WriteAsJsonAsync(new { message = "No such image: missing:1" });
                    break;
                case ("POST", "/v1.41/images/create"):
                    await ctx.Response.WriteAsync("{\"status\":\"Pulling from library/missing\"}\n{\"error\":\"pull access denied for missing\"}\n");
                    break;
                case ("POST", "/v1.41/containers/create"):
                    ctx.Response.StatusCode = 201;
                    await ctx.Response.WriteAsJsonAsync(new { Id = "c0ffee", Warnings = Array.Empty<string>() });
                    break;
                case ("GET", "/v1.41/containers/c0ffee/logs"):
                    ctx.Response.ContentType = "application/vnd.docker.multiplexed-stream";
                    await ctx.Response.Body.WriteAsync(Frame(1, "out-1\n"));
                    await ctx.Response.Body.FlushAsync();
                    await ctx.Response.Body.WriteAsync(Frame(2, "err-1\n"));
                    await ctx.Response.Body.WriteAsync(Frame(1, "out-2\n"));
                    break;
                case ("GET", "/v1.41/containers/json"):
                    await ctx.Response.WriteAsJsonAsync(new[] { new { Id = "c0ffee", State = "running", Labels = new Dictionary<string, string> { ["dcos.task_id"] = "t1" } } });
                    break;
                case ("DELETE", "/v1.41/containers/gone"):
                    ctx.Response.StatusCode = 404;
                    await ctx.Response.WriteAsJsonAsync(new { message = "No such container: gone" });
                    break;
                default:
                    ctx.Response.StatusCode = 500;
                    await ctx.Response.WriteAsJsonAsync(new { message = "unexpected " + ctx.Request.Method + " " + path });
                    break;
            }
        });
        await _daemon.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _daemon!.DisposeAsync();
        File.Delete(_socket);
    }

    [Fact]
    public async Task Talks_to_the_daemon_over_a_unix_socket_with_the_api_version_in_the_path()
    {
        using var client = new DockerClient("unix://" + _socket);
        Assert.True(await client.PingAsync());
        Assert.Equal("20.10.24", (await client.VersionAsync()).Version);
        Assert.Null(await client.InspectImageAsync("missing:1"));

        var id = await client.CreateContainerAsync("dcos-t1-r1", new DockerCreateContainer
        {
            Image = "busybox:1",
            Cmd = ["sleep", "1"],
            HostConfig = new DockerHostConfig { Memory = 32 * 1024 * 1024, NetworkMode = "bridge" },
        });
        Assert.Equal("c0ffee", id);
        var create = _requests.Single(r => r.PathAndQuery.StartsWith("/v1.41/containers/create", StringComparison.Ordinal));
        Assert.Equal("/v1.41/containers/create?name=dcos-t1-r1", create.PathAndQuery);
        var body = JsonNode.Parse(create.Body)!;
        Assert.Equal("busybox:1", (string)body["Image"]!);
        Assert.Equal(33554432, (long)body["HostConfig"]!["Memory"]!);
        Assert.Null(body["Entrypoint"]); // nulls are left out: the image's entrypoint applies

        var listed = Assert.Single(await client.ListContainersAsync(["dcos.work_dir=/w"]));
        Assert.Equal("t1", listed.Labels!["dcos.task_id"]);
        var list = _requests.Single(r => r.PathAndQuery.StartsWith("/v1.41/containers/json", StringComparison.Ordinal));
        Assert.Equal("""{"label":["dcos.work_dir=/w"]}""", Uri.UnescapeDataString(list.PathAndQuery.Split("filters=")[1]));

        await client.RemoveContainerAsync("gone"); // a missing container is fine
    }

    [Fact]
    public async Task A_pull_error_in_the_progress_stream_is_an_error()
    {
        using var client = new DockerClient(_socket);
        var error = await Assert.ThrowsAsync<DockerException>(() => client.PullImageAsync("missing"));
        Assert.Contains("pull access denied", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsUnreachable);
        Assert.Contains(_requests, r => r.PathAndQuery == "/v1.41/images/create?fromImage=missing&tag=latest");
    }

    [Fact]
    public async Task Logs_are_demultiplexed_into_stdout_and_stderr()
    {
        using var client = new DockerClient("unix://" + _socket);
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        await client.CopyLogsAsync("c0ffee", stdout, stderr, follow: true, since: 1700000000.5);
        Assert.Equal("out-1\nout-2\n", Encoding.UTF8.GetString(stdout.ToArray()));
        Assert.Equal("err-1\n", Encoding.UTF8.GetString(stderr.ToArray()));
        Assert.Contains(_requests, r => r.PathAndQuery.Contains("follow=true", StringComparison.Ordinal) && r.PathAndQuery.Contains("since=1700000000.500000000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unreachable_daemon_is_reported_as_such()
    {
        using var client = new DockerClient("unix:///nonexistent/docker.sock");
        Assert.False(await client.PingAsync());
        var error = await Assert.ThrowsAsync<DockerException>(() => client.VersionAsync());
        Assert.True(error.IsUnreachable);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Endpoints_and_image_names_are_parsed()
    {
        Assert.Equal("/var/run/docker.sock", new DockerClient().SocketPath);
        Assert.Null(new DockerClient("tcp://127.0.0.1:2375").SocketPath);
        Assert.Throws<ArgumentException>(() => new DockerClient("ftp://x"));
        Assert.Equal(("busybox", "latest"), DockerClient.SplitImage("busybox"));
        Assert.Equal(("dcos-test/busybox", "1"), DockerClient.SplitImage("dcos-test/busybox:1"));
        Assert.Equal(("localhost:5000/app", "latest"), DockerClient.SplitImage("localhost:5000/app"));
        Assert.Equal(("app", "sha256:abc"), DockerClient.SplitImage("app@sha256:abc"));
    }

    [Fact]
    public async Task The_demultiplexer_handles_frames_split_across_reads_and_rejects_truncated_ones()
    {
        var bytes = Frame(1, "hello ").Concat(Frame(2, "oops")).Concat(Frame(1, "world")).ToArray();
        using var stdout = new MemoryStream();
        using var stderr = new MemoryStream();
        await DockerLogDemultiplexer.CopyAsync(new TrickleStream(bytes), stdout, stderr);
        Assert.Equal("hello world", Encoding.UTF8.GetString(stdout.ToArray()));
        Assert.Equal("oops", Encoding.UTF8.GetString(stderr.ToArray()));

        await Assert.ThrowsAsync<InvalidDataException>(() => DockerLogDemultiplexer.CopyAsync(new MemoryStream(bytes[..^2]), Stream.Null, Stream.Null));
        await Assert.ThrowsAsync<InvalidDataException>(() => DockerLogDemultiplexer.CopyAsync(new MemoryStream([7, 0, 0, 0, 0, 0, 0, 1, 65]), Stream.Null, Stream.Null));
    }

    private static byte[] Frame(byte stream, string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var frame = new byte[8 + payload.Length];
        frame[0] = stream;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)payload.Length);
        payload.CopyTo(frame, 8);
        return frame;
    }

    /// <summary>Returns at most three bytes per read.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(3, buffer.Length)], cancellationToken);
    }
}

/// <summary>What the Docker containerizer asks the daemon to create for a task; no Docker needed.</summary>
public sealed class DockerRequestTests : IDisposable
{
    private readonly TempWorkDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private DockerContainerizer Containerizer(bool allowPrivileged = false) =>
        new(_dir.Options() with { DockerAllowPrivileged = allowPrivileged, DockerEndpoint = "unix:///nonexistent/docker.sock" }, new FakeTimeProvider()) { AgentId = () => "agent-1" };

    private static TaskInfoDto Task(DockerInfoDto docker, CommandDto? command = null, List<VolumeDto>? volumes = null) => new()
    {
        Name = "t1",
        TaskId = new IdDto("app.t1"),
        AgentId = new IdDto("agent-1"),
        Command = command ?? new CommandDto { Value = "echo $PORT0; sleep 10" },
        Resources = ResourceConversions.ToDtos(DatacenterOs.Kernel.Resources.Parse("cpus:0.5;mem:64;ports:[31005-31006]")),
        Container = new ContainerInfoDto { Type = ContainerInfoTypes.Docker, Docker = docker, Volumes = volumes },
        Labels = new LabelsDto([new LabelDto("team", "web")]),
    };

    [Fact]
    public void A_bridge_task_gets_its_shell_command_limits_ports_volumes_env_and_labels()
    {
        using var containerizer = Containerizer();
        var docker = new DockerInfoDto
        {
            Image = "dcos-test/busybox:1",
            Network = "BRIDGE",
            PortMappings = [new DockerPortMappingDto { HostPort = 31005, ContainerPort = 8080 }, new DockerPortMappingDto { HostPort = 31006, ContainerPort = 0, Protocol = "udp,tcp" }],
        };
        var request = containerizer.BuildCreateRequest("fw-1", Task(docker, volumes: [new VolumeDto { ContainerPath = "/etc/a", HostPath = "/var/data/a", Mode = "RO" }, new VolumeDto { ContainerPath = "/data", HostPath = "rel" }]), "run1", "/sb/run1");

        Assert.Equal(["/bin/sh", "-c"], request.Entrypoint!);
        Assert.Equal(["echo $PORT0; sleep 10"], request.Cmd!);
        Assert.Equal("dcos-test/busybox:1", request.Image);
        var env = request.Env!.Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal("31005", env["PORT0"]);
        Assert.Equal("31006", env["PORT1"]);
        Assert.Equal(DockerContainerizer.SandboxMountPoint, env["MESOS_SANDBOX"]);
        Assert.Equal("app.t1", env["MESOS_TASK_ID"]);
        Assert.False(env.ContainsKey("PATH")); // the image's PATH, not the agent's
        Assert.Equal("app.t1", request.Labels![DockerContainerizer.LabelTaskId]);
        Assert.Equal("agent-1", request.Labels[DockerContainerizer.LabelAgentId]);
        Assert.Equal("fw-1", request.Labels[DockerContainerizer.LabelFrameworkId]);
        Assert.Equal(Path.GetFullPath(_dir.Path), request.Labels[DockerContainerizer.LabelWorkDir]);
        Assert.Equal("web", request.Labels["team"]);

        var host = request.HostConfig;
        Assert.Equal("bridge", host.NetworkMode);
        Assert.Equal(64L * 1024 * 1024, host.Memory);
        Assert.Equal(host.Memory, host.MemorySwap);
        Assert.Equal(512, host.CpuShares);
        Assert.Equal(50_000, host.CpuQuota);
        Assert.Equal(100_000, host.CpuPeriod);
        Assert.Null(host.Privileged);
        Assert.Equal("31005", Assert.Single(host.PortBindings!["8080/tcp"]).HostPort);
        Assert.Equal("31006", Assert.Single(host.PortBindings["31006/udp"]).HostPort);
        Assert.Equal("31006", Assert.Single(host.PortBindings["31006/tcp"]).HostPort);
        Assert.Contains("8080/tcp", request.ExposedPorts!.Keys);
        Assert.Equal(["/var/data/a:/etc/a:ro", "/sb/run1/rel:/data:rw"], host.Binds!);
        var sandbox = Assert.Single(host.Mounts!);
        Assert.Equal(("bind", "/sb/run1", DockerContainerizer.SandboxMountPoint, false), (sandbox.Type, sandbox.Source, sandbox.Target, sandbox.ReadOnly));
    }

    [Fact]
    public void Host_networking_is_the_default_and_arguments_are_the_image_command()
    {
        using var containerizer = Containerizer();
        var request = containerizer.BuildCreateRequest(
            "fw-1",
            Task(new DockerInfoDto { Image = "img", PortMappings = [new DockerPortMappingDto { HostPort = 31005, ContainerPort = 80 }] }, new CommandDto { Shell = false, Arguments = ["--port", "80"], User = "nobody" }),
            "run1",
            "/sb");
        Assert.Equal("host", request.HostConfig.NetworkMode);
        Assert.Null(request.HostConfig.PortBindings); // mappings mean nothing on the host network
        Assert.Null(request.Entrypoint);
        Assert.Equal(["--port", "80"], request.Cmd!);
        Assert.Equal("nobody", request.User);

        var noCommand = containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Network = "NONE" }, new CommandDto { Value = "" }), "run1", "/sb");
        Assert.Null(noCommand.Cmd); // the image's own command
        Assert.Equal("none", noCommand.HostConfig.NetworkMode);
    }

    [Fact]
    public void Parameters_privileged_and_networks_are_checked()
    {
        using var containerizer = Containerizer();
        var withParameters = containerizer.BuildCreateRequest(
            "fw-1",
            Task(new DockerInfoDto { Image = "img", Parameters = [new ParameterDto("label", "a=b"), new ParameterDto("env", "X=1"), new ParameterDto("workdir", "/w"), new ParameterDto("init", "true")] }),
            "r",
            "/sb");
        Assert.Equal("b", withParameters.Labels!["a"]);
        Assert.Contains("X=1", withParameters.Env!);
        Assert.Equal("/w", withParameters.WorkingDir);
        Assert.True(withParameters.HostConfig.Init);

        Assert.Contains("not supported", Assert.Throws<ArgumentException>(() => containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Parameters = [new ParameterDto("pid", "host")] }), "r", "/sb")).Message, StringComparison.Ordinal);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Parameters = [new ParameterDto("label", "dcos.task_id=x")] }), "r", "/sb")).Message, StringComparison.Ordinal);
        Assert.Contains("privileged", Assert.Throws<ArgumentException>(() => containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Privileged = true }), "r", "/sb")).Message, StringComparison.Ordinal);
        Assert.Contains("USER", Assert.Throws<ArgumentException>(() => containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Network = "USER" }), "r", "/sb")).Message, StringComparison.Ordinal);
        Assert.Contains("RO or RW", Assert.Throws<ArgumentException>(() => containerizer.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img" }, volumes: [new VolumeDto { ContainerPath = "/x", HostPath = "/y", Mode = "XX" }]), "r", "/sb")).Message, StringComparison.Ordinal);

        using var permissive = Containerizer(allowPrivileged: true);
        Assert.True(permissive.BuildCreateRequest("fw-1", Task(new DockerInfoDto { Image = "img", Privileged = true }), "r", "/sb").HostConfig.Privileged);
    }

    [Fact]
    public void Container_names_keep_only_the_characters_docker_accepts()
    {
        Assert.Equal("dcos-ct_job_1_manual_0-abc", DockerContainerizer.ContainerName("ct:job@1:manual#0", "abc"));
        Assert.Equal("dcos-app.t-1_x-r", DockerContainerizer.ContainerName("app.t-1/x", "r"));
    }
}

/// <summary>An agent whose Docker daemon does not answer: no docker attribute, TASK_ERROR for Docker tasks.</summary>
public sealed class DockerUnavailableTests : IAsyncLifetime, IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private FakeMaster _master = null!;
    private AgentRuntime? _agent;

    public async Task InitializeAsync() => _master = await FakeMaster.StartAsync();

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        await _master.DisposeAsync();
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Docker_tasks_get_task_error_and_the_agent_does_not_advertise_docker()
    {
        _agent = new AgentRuntime(_dir.Options() with { MasterUrls = [_master.Url], DockerEndpoint = "unix:///nonexistent/docker.sock" }, _time);
        await _agent.StartAsync(CancellationToken.None);
        Assert.True(await Tasks.EventuallyAsync(() => _agent.IsSubscribed));
        Assert.False(_agent.DockerAvailable);
        Assert.DoesNotContain(_master.Subscribes.Single().Subscribe!.AgentInfo.Attributes, a => a.Name == AgentCapabilities.DockerAttribute);

        var task = Tasks.Shell("d1", "sleep 10") with
        {
            Container = new ContainerInfoDto { Type = ContainerInfoTypes.Docker, Docker = new DockerInfoDto { Image = "dcos-test/busybox:1" } },
        };
        _master.Launch(task);
        var error = await _master.WaitForUpdateAsync("d1", TaskStates.Error);
        Assert.Contains("Docker is not available", error.Update!.Status.Message, StringComparison.Ordinal);
    }
}

/// <summary>An agent follows its Docker daemon: advertises Docker while it answers, subscribes again without it when it stops.</summary>
public sealed class DockerAvailabilityTests : IAsyncLifetime, IDisposable
{
    private readonly TempWorkDir _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly string _socket = Path.Combine(Path.GetTempPath(), "dcos-fake-docker-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
    private FakeMaster _master = null!;
    private WebApplication? _daemon;
    private AgentRuntime? _agent;

    public async Task InitializeAsync()
    {
        _master = await FakeMaster.StartAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.ListenUnixSocket(_socket));
        _daemon = builder.Build();
        _daemon.Run(async ctx =>
        {
            switch (ctx.Request.Path.Value)
            {
                case "/v1.41/_ping":
                    await ctx.Response.WriteAsync("OK");
                    break;
                case "/v1.41/version":
                    await ctx.Response.WriteAsJsonAsync(new { Version = "20.10.24" });
                    break;
                case "/v1.41/containers/json":
                    await ctx.Response.WriteAsync("[]");
                    break;
                default:
                    ctx.Response.StatusCode = 500;
                    break;
            }
        });
        await _daemon.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.DisposeAsync();
        }

        if (_daemon is not null)
        {
            await _daemon.DisposeAsync();
        }

        await _master.DisposeAsync();
        File.Delete(_socket);
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_docker_attribute_follows_the_daemon()
    {
        _agent = new AgentRuntime(_dir.Options() with { MasterUrls = [_master.Url], DockerEndpoint = "unix://" + _socket }, _time);
        await _agent.StartAsync(CancellationToken.None);
        Assert.True(await Tasks.EventuallyAsync(() => _agent.IsSubscribed));
        Assert.True(_agent.DockerAvailable);
        var docker = Assert.Single(_master.Subscribes.Single().Subscribe!.AgentInfo.Attributes, a => a.Name == AgentCapabilities.DockerAttribute);
        Assert.Equal("true", docker.Text!.Value);

        // The daemon goes away: the next probe notices, and the agent subscribes again without the attribute.
        await _daemon!.StopAsync();
        await _daemon.DisposeAsync();
        _daemon = null;
        Assert.True(await Tasks.EventuallyAsync(() =>
        {
            _time.AdvanceSeconds(5);
            return _master.Subscribes.Count >= 2 && _agent.IsSubscribed;
        }));
        Assert.False(_agent.DockerAvailable);
        Assert.DoesNotContain(_master.Subscribes[^1].Subscribe!.AgentInfo.Attributes, a => a.Name == AgentCapabilities.DockerAttribute);
        Assert.Equal("agent-1", _master.Subscribes[^1].Subscribe!.AgentInfo.Id!.Value); // same agent, re-subscribed
    }
}
