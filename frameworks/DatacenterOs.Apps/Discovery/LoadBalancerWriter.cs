using System.Diagnostics;

namespace DatacenterOs.Apps;

/// <summary>What the load-balancer writer did last (for <c>GET /v1/discovery/config</c> and tests).</summary>
/// <param name="Path">The configuration file.</param>
/// <param name="Writes">Configurations written since start.</param>
/// <param name="Reloads">Reload commands that exited 0.</param>
/// <param name="LastWriteAt">When the last one was written.</param>
/// <param name="LastError">The last write or reload failure (exit code and output), null after a success.</param>
public sealed record LoadBalancerStatus(string Path, int Writes, int Reloads, DateTimeOffset? LastWriteAt, string? LastError);

/// <summary>
/// Writes generated configurations to a file in the background, newest wins (a burst of changes gives one write):
/// to <c>{path}.tmp</c>, then renamed over <c>{path}</c> (atomic on POSIX file systems, so the load balancer never
/// reads half a file), then runs the reload command.
/// </summary>
internal sealed class LoadBalancerWriter : IAsyncDisposable
{
    private readonly string _path;
    private readonly string? _reloadCommand;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly Lock _lock = new();
    private readonly Task _loop;
    private string? _pending;
    private string? _written;
    private int _writes;
    private int _reloads;
    private DateTimeOffset? _lastWriteAt;
    private string? _lastError;

    public LoadBalancerWriter(string path, string? reloadCommand, TimeProvider time)
    {
        _path = Path.GetFullPath(path);
        _reloadCommand = string.IsNullOrWhiteSpace(reloadCommand) ? null : reloadCommand;
        _time = time;
        _loop = Task.Run(() => RunAsync(_cts.Token));
    }

    public LoadBalancerStatus Status
    {
        get
        {
            lock (_lock)
            {
                return new LoadBalancerStatus(_path, _writes, _reloads, _lastWriteAt, _lastError);
            }
        }
    }

    /// <summary>Queues <paramref name="config"/> (replacing any not yet written).</summary>
    public void Update(string config)
    {
        lock (_lock)
        {
            _pending = config;
        }

        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _signal.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            string? config;
            lock (_lock)
            {
                config = _pending;
                _pending = null;
            }

            if (config is null || config == _written)
            {
                continue;
            }

            string? error = null;
            var reloaded = false;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                var temp = _path + ".tmp";
                await File.WriteAllTextAsync(temp, config, ct).ConfigureAwait(false);
                File.Move(temp, _path, overwrite: true);
                _written = config;
                if (_reloadCommand is not null)
                {
                    error = await ReloadAsync(_reloadCommand, ct).ConfigureAwait(false);
                    reloaded = error is null;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
            {
                error = $"{_path}: {e.Message}";
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_lock)
            {
                _writes += _written == config ? 1 : 0;
                _reloads += reloaded ? 1 : 0;
                _lastWriteAt = _time.GetUtcNow();
                _lastError = error;
            }
        }
    }

    /// <summary>Runs the reload command; null on exit code 0, otherwise the exit code and output.</summary>
    private static async Task<string?> ReloadAsync(string command, CancellationToken ct)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        using var process = Process.Start(start) ?? throw new IOException("cannot start /bin/sh");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            return $"reload command '{command}' did not finish within 30 s";
        }

        var output = ((await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false))).Trim();
        return process.ExitCode == 0 ? null : $"reload command '{command}' exited {process.ExitCode}: {output}";
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _cts.Dispose();
        _signal.Dispose();
    }
}
