using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace DatacenterOs.Testing;

/// <summary>
/// A real <c>dcosd standalone</c> process (the built <c>dcosd.dll</c> of the same configuration as the tests) on free
/// loopback ports with its own work directory. Its agent offers <c>cpus:4;mem:4096;disk:10000</c> and the given port
/// range (distinct per test project, since projects run in parallel).
/// </summary>
public sealed class DcosdProcess : IAsyncDisposable
{
    private Process? _process;

    private readonly string[] _extraArgs;
    private readonly string _ports;

    /// <summary>A process for <paramref name="workDir"/> whose agent offers <paramref name="ports"/> (e.g. <c>[33000-33100]</c>), started with <paramref name="extraArgs"/>.</summary>
    public DcosdProcess(string workDir, string ports, params string[] extraArgs)
    {
        _ports = ports;
        _extraArgs = extraArgs;
        WorkDir = workDir;
        MasterPort = FreePort();
        AgentPort = FreePort();
        Url = new Uri($"http://127.0.0.1:{MasterPort}");
    }

    /// <summary>The process's <c>--work-dir</c>.</summary>
    public string WorkDir { get; }

    /// <summary>The agent's work directory (value of the containers' work directory label).</summary>
    public string AgentWorkDir => Path.GetFullPath(Path.Combine(WorkDir, "agent"));

    /// <summary>What the process printed (stdout and stderr).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Output { get; } = new();

    /// <summary>Loopback port of the master (and Apps, Jobs).</summary>
    public int MasterPort { get; }

    /// <summary>Loopback port of the local agent.</summary>
    public int AgentPort { get; }

    /// <summary>Base URL of the master.</summary>
    public Uri Url { get; }

    /// <summary>A client for the test's requests (30 s timeout).</summary>
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Starts the process and waits until <c>/ping</c> answers.</summary>
    public async Task StartAsync()
    {
        var dll = DcosdDll();
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"dcosd is not built at {dll}", dll);
        }

        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { dll, "--work-dir", WorkDir, "--listen", Url.ToString().TrimEnd('/'), "--agent-port", AgentPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--resources", "cpus:4;mem:4096;disk:10000;ports:" + _ports }.Concat(_extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilAsync(async () =>
        {
            try
            {
                return await Http.GetStringAsync(new Uri(Url, "/ping")) == "pong";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "dcosd to answer /ping", 60);
    }

    /// <summary>SIGTERM, then waits for exit (tasks keep running, as when an operator restarts dcosd).</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Sends <paramref name="json"/> (if any) to <paramref name="path"/>; the body is parsed when it is a JSON object or array.</summary>
    public async Task<(int Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(Url, path));
        if (json is not null)
        {
            request.Content = new StringContent(json);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length > 0 && text.TrimStart().StartsWith('{') || text.TrimStart().StartsWith('[') ? JsonNode.Parse(text) : null);
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms.</summary>
    /// <exception cref="TimeoutException">It did not hold within <paramref name="seconds"/>.</exception>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 60)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await condition())
        {
            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(seconds))
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Kills the process if it still runs (its tasks keep running).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        Http.Dispose();
    }

    /// <summary>A loopback TCP port free at the moment of the call.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The built <c>dcosd.dll</c> of the same configuration (Debug/Release) as the running tests.</summary>
    public static string DcosdDll() =>
        Path.Combine(RepoRoot(), "packaging", "DatacenterOs.Host", "bin", Configuration(), "net10.0", "dcosd.dll");

    private static string Configuration() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;

    /// <summary>The repository root (the folder holding <c>DatacenterOs.sln</c>) above the test's output directory.</summary>
    /// <exception cref="InvalidOperationException">Not found.</exception>
    public static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DatacenterOs.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }
}
