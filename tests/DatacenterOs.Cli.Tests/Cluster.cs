using System.Diagnostics;
using System.Globalization;

namespace DatacenterOs.Cli.Tests;

/// <summary>What one <c>dcos</c> invocation printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}--- stderr\n{Error}";
}

/// <summary>Runs the real CLI entry point in-process with captured output and its own environment.</summary>
public static class Dcos
{
    public static async Task<CliResult> RunAsync(string[] args, IReadOnlyDictionary<string, string?>? environment = null, string? stdin = null, string? home = null)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var env = new Dictionary<string, string?>(environment ?? new Dictionary<string, string?>())
        {
            ["HOME"] = home ?? EmptyHome,
        };
        var context = new CliContext
        {
            Out = output,
            Error = error,
            In = new StringReader(stdin ?? ""),
            Environment = name => env.GetValueOrDefault(name),
            Interactive = false,
            PollSeconds = 0.2,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var code = await DcosCli.RunAsync(args, context, timeout.Token);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>A HOME without configuration, so the developer's own ~/.config/dcos never leaks into a test.</summary>
    public static string EmptyHome { get; } = Directory.CreateTempSubdirectory("dcos-cli-home-").FullName;
}

/// <summary>A real <c>dcosd standalone</c> process (master, agent, Apps, Jobs) on free loopback ports.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private Process? _process;

    /// <summary>What dcosd printed (for failure messages).</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Log { get; } = new();

    public string LogText => string.Join('\n', Log.TakeLast(80));

    public string WorkDir { get; } = Directory.CreateTempSubdirectory("dcos-cli-cluster-").FullName;

    public Uri Url { get; private set; } = null!;

    public string Master => Url.AbsoluteUri.TrimEnd('/');

    /// <summary>Runs <c>dcos --master URL ARGS</c>.</summary>
    public Task<CliResult> RunAsync(params string[] args) => Dcos.RunAsync(["--master", Master, .. args]);

    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) => Dcos.RunAsync(["--master", Master, .. args], stdin: stdin);

    public async Task InitializeAsync()
    {
        var masterPort = Testing.DcosdProcess.FreePort();
        var agentPort = Testing.DcosdProcess.FreePort();
        Url = new Uri($"http://127.0.0.1:{masterPort}");
        var dll = Testing.DcosdProcess.DcosdDll();
        Assert.True(File.Exists(dll), $"dcosd is not built at {dll}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "--work-dir", WorkDir, "--listen", Master, "--agent-port", agentPort.ToString(CultureInfo.InvariantCulture), "--resources", "cpus:4;mem:4096;disk:10000;ports:[34000-34100]", "--allow-root-tasks" })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Log.Enqueue(e.Data ?? "");
        _process.ErrorDataReceived += (_, e) => Log.Enqueue(e.Data ?? "");
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await WaitUntilAsync(async () =>
        {
            try
            {
                // Apps and Jobs answer once their frameworks subscribed; the agent registers at about the same time.
                return await http.GetStringAsync(new Uri(Url, "/ping")) == "pong"
                    && (await http.GetStringAsync(new Uri(Url, "/master/state"))).Contains("\"hostname\"", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, "dcosd to answer", 90);
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();

        // Tasks run in their own process groups and outlive the agent by design: end those of this cluster.
        foreach (var p in Process.GetProcesses())
        {
            try
            {
                var cwd = new DirectoryInfo($"/proc/{p.Id}/cwd").ResolveLinkTarget(returnFinalTarget: false)?.FullName;
                if (cwd is not null && cwd.StartsWith(WorkDir, StringComparison.Ordinal))
                {
                    p.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
            finally
            {
                p.Dispose();
            }
        }

        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
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

            await Task.Delay(200);
        }
    }

}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
