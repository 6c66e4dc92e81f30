using System.Diagnostics;
using System.Globalization;
using DatacenterOs.Testing;

namespace DatacenterOs.Benchmarks;

/// <summary>
/// A real <c>dcosd master</c> (master, Apps, Jobs and the web UI; SQLite registry) as its own process on a loopback
/// port, so its resident memory is its own and it can be killed and restarted like a crashed master.
/// </summary>
internal sealed class MasterProcess : IAsyncDisposable
{
    private readonly string _workDir;
    private readonly string[] _extraArgs;
    private Process? _process;

    public MasterProcess(string workDir, params string[] extraArgs)
    {
        _workDir = workDir;
        _extraArgs = extraArgs;
        Url = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{DcosdProcess.FreePort()}"));
    }

    public Uri Url { get; }

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    /// <summary>Starts the process and waits until <c>/health</c> answers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { DcosdProcess.DcosdDll(), "master", "--listen", Url.GetLeftPart(UriPartial.Authority), "--work-dir", _workDir }.Concat(_extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("dcosd did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line && !line.Contains("info:", StringComparison.Ordinal))
            {
                Console.Error.WriteLine("dcosd: " + line);
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var response = await Http.GetAsync(new Uri(Url, "/health"), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (_process.HasExited || Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException("dcosd master did not answer /health within 60 s");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL: no clean shutdown, as a crashed master.</summary>
    public async Task KillAsync()
    {
        if (_process is null)
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Resident set of the master process (VmRSS), in MiB.</summary>
    public double RssMiB()
    {
        var line = File.ReadLines($"/proc/{_process!.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>One gauge from <c>/metrics</c> (Prometheus text), or NaN when absent.</summary>
    public async Task<double> GaugeAsync(string name, CancellationToken cancellationToken)
    {
        var text = await Http.GetStringAsync(new Uri(Url, "/metrics"), cancellationToken).ConfigureAwait(false);
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(name.Length + 1), CultureInfo.InvariantCulture);
            }
        }

        return double.NaN;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        Http.Dispose();
    }
}
