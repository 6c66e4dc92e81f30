using System.Net.Http.Headers;
using DatacenterOs.Frameworks.Client;
using DatacenterOs.Kernel.Contracts;
using DatacenterOs.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Master.Tests;

/// <summary>A real master on loopback HTTP with a real SQLite registry in a temp directory, on a fake clock.</summary>
internal sealed class MasterFixture : IAsyncDisposable
{
    private WebApplication? _app;
    private SqlMasterRegistry? _registry;

    private MasterFixture(string workDir, FakeTimeProvider clock, MasterOptions options)
    {
        WorkDir = workDir;
        Clock = clock;
        Options = options;
    }

    public string WorkDir { get; }

    public FakeTimeProvider Clock { get; }

    public MasterOptions Options { get; }

    public MasterRuntime Runtime { get; private set; } = null!;

    public Uri Url { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public static async Task<MasterFixture> StartAsync(MasterOptions? options = null, string? workDir = null, FakeTimeProvider? clock = null)
    {
        workDir ??= Directory.CreateTempSubdirectory("dcos-master-").FullName;
        var fixture = new MasterFixture(workDir, clock ?? new FakeTimeProvider(), (options ?? new MasterOptions()) with { WorkDir = workDir });
        await fixture.StartMasterAsync().ConfigureAwait(false);
        return fixture;
    }

    /// <summary>Stops the master process part (HTTP and state) but keeps the work dir: a master restart.</summary>
    public async Task StopMasterAsync()
    {
        if (Runtime is not null)
        {
            await Runtime.DisposeAsync().ConfigureAwait(false);
        }

        if (_app is not null)
        {
            await _app.StopAsync().ConfigureAwait(false);
            await _app.DisposeAsync().ConfigureAwait(false);
            _app = null;
        }

        _registry?.Dispose();
    }

    public async Task StartMasterAsync(int port = 0)
    {
        _registry = await SqlMasterRegistry.OpenAsync(WorkDir, () => "test-" + Guid.NewGuid().ToString("N")[..8], CancellationToken.None).ConfigureAwait(false);
        Runtime = await MasterRuntime.StartAsync(Options, _registry, Clock, LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Warning)), CancellationToken.None).ConfigureAwait(false);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        _app = builder.Build();
        Runtime.MapEndpoints(_app);
        await _app.StartAsync().ConfigureAwait(false);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = new Uri(address);
    }

    public Task<HttpSchedulerConnection> SubscribeAsync(string name, IReadOnlyList<string>? roles = null, double failoverTimeout = 3600, string? id = null) =>
        HttpSchedulerConnection.SubscribeAsync(Http, Url, new FrameworkInfoDto
        {
            User = "root",
            Name = name,
            Roles = [.. roles ?? ["*"]],
            FailoverTimeout = failoverTimeout,
            Id = id is null ? null : new IdDto(id),
            Capabilities = [new CapabilityDto("MULTI_ROLE")],
        });

    public async Task<HttpResponseMessage> PostAsync(string path, string json, string? streamId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Url, path)) { Content = new StringContent(json) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (streamId is not null)
        {
            request.Headers.Add("Mesos-Stream-Id", streamId);
        }

        return await Http.SendAsync(request).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopMasterAsync().ConfigureAwait(false);
        Http.Dispose();
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
