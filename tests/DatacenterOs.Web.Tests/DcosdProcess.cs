using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace DatacenterOs.Web.Tests;

/// <summary>A real <c>dcosd standalone</c> process (master, agent, Apps, Jobs, dashboard) on free loopback ports.</summary>
internal sealed class DcosdProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private Process? _process;

    public DcosdProcess(string workDir)
    {
        WorkDir = workDir;
        Url = new Uri($"http://127.0.0.1:{Testing.DcosdProcess.FreePort()}/");
        AgentPort = Testing.DcosdProcess.FreePort();
    }

    public string WorkDir { get; }

    public int AgentPort { get; }

    public Uri Url { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    // Http is left to the finalizer: DisposeAsync may run twice (finally and await using).

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task StartAsync()
    {
        var dll = Testing.DcosdProcess.DcosdDll();
        Assert.True(File.Exists(dll), $"dcosd is not built at {dll}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--work-dir", WorkDir, "--listen", Url.ToString().TrimEnd('/'), "--agent-port", AgentPort.ToString(CultureInfo.InvariantCulture), "--resources", "cpus:4;mem:4096;disk:10000;ports:[34000-34100]", "--allow-root-tasks" })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
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
        }, "dcosd to answer /ping");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

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
        return ((int)response.StatusCode, text.TrimStart() is ['{', ..] or ['[', ..] ? JsonNode.Parse(text) : null);
    }

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

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>
    /// Kills processes whose command line contains <paramref name="marker"/> or whose working directory is under
    /// <paramref name="workDir"/> (task processes, such as a shell's children, left by a failed test).
    /// </summary>
    public static void KillProcesses(string marker, string? workDir = null)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var cwd = workDir is null ? null : new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget;
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Contains(marker, StringComparison.Ordinal)
                    || (cwd is not null && cwd.StartsWith(workDir!, StringComparison.Ordinal)))
                {
                    Process.GetProcessById(pid).Kill();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
    }
}
