using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace DatacenterOs.Testing;

/// <summary>
/// One real <c>dcosd master</c> or <c>dcosd agent</c> process on loopback with its own work directory, for tests of
/// a cluster of several processes (masters sharing a PostgreSQL store, agents given every master URL). Unlike
/// <see cref="DcosdProcess"/> (one standalone process), it can be killed with SIGKILL and started again.
/// </summary>
public sealed class DcosdNode : IAsyncDisposable
{
    private readonly string[] _args;
    private readonly bool _isMaster;
    private Process? _process;

    private DcosdNode(bool isMaster, string workDir, int port, string[] args)
    {
        _isMaster = isMaster;
        WorkDir = workDir;
        Port = port;
        Url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        _args = args;
    }

    /// <summary>The process's <c>--work-dir</c>.</summary>
    public string WorkDir { get; }

    /// <summary>Loopback port: the master's HTTP port, or the agent's.</summary>
    public int Port { get; }

    /// <summary>Base URL (<c>http://127.0.0.1:port</c>).</summary>
    public Uri Url { get; }

    /// <summary>Process id while running.</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>True while the process runs.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Everything the process printed (stdout and stderr), across restarts.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    /// <summary>
    /// A master on a free port with state in <paramref name="store"/> (a <c>postgres://</c> URL or <c>sqlite</c>).
    /// </summary>
    public static DcosdNode Master(string workDir, string store, params string[] extraArgs)
    {
        var port = DcosdProcess.FreePort();
        return new DcosdNode(true, workDir, port,
            ["master", "--listen", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--work-dir", workDir, "--store", store, .. extraArgs]);
    }

    /// <summary>An agent on a free port offering <paramref name="resources"/>, given every URL of <paramref name="masters"/>.</summary>
    public static DcosdNode Agent(string workDir, IEnumerable<Uri> masters, string resources, params string[] extraArgs)
    {
        var port = DcosdProcess.FreePort();
        var masterList = string.Join(',', masters.Select(m => m.GetLeftPart(UriPartial.Authority)));
        return new DcosdNode(false, workDir, port,
            ["agent", "--master", masterList, "--work-dir", workDir, "--agent-port", port.ToString(CultureInfo.InvariantCulture), "--resources", resources,
             "--hostname", "127.0.0.1", "--docker-endpoint", "none", "--allow-root-tasks", .. extraArgs]);
    }

    /// <summary>Starts the process; a master is started once its <c>/health</c> answers (as leader or standby).</summary>
    /// <exception cref="FileNotFoundException">dcosd is not built.</exception>
    /// <exception cref="TimeoutException">A master did not answer within 60 s.</exception>
    public async Task StartAsync()
    {
        var dll = DcosdProcess.DcosdDll();
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"dcosd is not built at {dll}", dll);
        }

        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in _args)
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Output.Enqueue(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Output.Enqueue(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (_isMaster)
        {
            using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(10) };
            await DcosdProcess.WaitUntilAsync(async () =>
            {
                try
                {
                    return (await http.GetAsync(new Uri(Url, "/health"))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            }, "dcosd master to answer /health", 60);
        }
    }

    /// <summary>
    /// Where this master's <c>/master/redirect</c> points: its own URL while it leads, the leader's while it stands
    /// by; null while it knows no leader (503) or does not answer.
    /// </summary>
    public async Task<Uri?> LeaderAsync()
    {
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync(new Uri(Url, "/master/redirect"));
            return response.StatusCode == HttpStatusCode.TemporaryRedirect && response.Headers.Location is { } location ? location : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (TaskCanceledException)
        {
            return null;
        }
    }

    /// <summary>True when this master's <c>/master/redirect</c> names itself.</summary>
    public async Task<bool> IsLeaderAsync() =>
        await LeaderAsync() is { } leader && leader.GetLeftPart(UriPartial.Authority) == Url.GetLeftPart(UriPartial.Authority);

    /// <summary>SIGKILL (kill -9): no clean-up of any kind, as when a machine dies.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: false);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM and wait (up to 30 s) for exit.</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>Kills the process if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }
}
