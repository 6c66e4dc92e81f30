using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace DatacenterOs.Agent.Docker;

/// <summary>A Docker Engine API call failed: the daemon answered an error status, or could not be reached.</summary>
public sealed class DockerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DockerException()
        : this("Docker call failed")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public DockerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public DockerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an error answer.</summary>
    public DockerException(string message, HttpStatusCode? status, Exception? innerException = null)
        : base(message, innerException) => StatusCode = status;

    /// <summary>HTTP status of the daemon's answer; null when the daemon was not reached.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>True when the daemon could not be reached at all.</summary>
    public bool IsUnreachable => StatusCode is null;

    /// <summary>True for a 404 answer (no such image or container).</summary>
    public bool IsNotFound => StatusCode == HttpStatusCode.NotFound;
}

/// <summary>
/// A small typed client of the Docker Engine API (v1.41) over a Unix socket (<c>unix:///var/run/docker.sock</c>, the
/// default) or TCP (<c>tcp://host:2375</c>), with <see cref="HttpClient"/> and System.Text.Json. Every call throws
/// <see cref="DockerException"/> on an error answer or when the daemon is unreachable.
/// </summary>
public sealed class DockerClient : IDisposable
{
    /// <summary>The daemon's default socket.</summary>
    public const string DefaultEndpoint = "unix:///var/run/docker.sock";

    /// <summary>API version used in every path.</summary>
    public const string ApiVersion = "v1.41";

    private readonly HttpClient _http;
    private readonly HttpClient _streaming;

    /// <summary>Creates a client for <paramref name="endpoint"/> (<c>unix:///path</c>, a bare socket path, or <c>tcp://host:port</c>).</summary>
    /// <exception cref="ArgumentException">The endpoint is neither a Unix socket nor a TCP address.</exception>
    public DockerClient(string? endpoint = null)
    {
        Endpoint = string.IsNullOrWhiteSpace(endpoint) ? DefaultEndpoint : endpoint.Trim();
        Uri baseAddress;
        SocketsHttpHandler Handler()
        {
            var handler = new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30), UseProxy = false };
            if (SocketPath is { } path)
            {
                handler.ConnectCallback = async (_, ct) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
            }

            return handler;
        }

        if (Endpoint.StartsWith("unix://", StringComparison.OrdinalIgnoreCase) || Endpoint.StartsWith('/'))
        {
            SocketPath = Endpoint.StartsWith('/') ? Endpoint : Endpoint["unix://".Length..];
            baseAddress = new Uri("http://docker/" + ApiVersion + "/");
        }
        else if (Endpoint.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase) || Endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            var hostPort = Endpoint[(Endpoint.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
            baseAddress = new Uri("http://" + hostPort + "/" + ApiVersion + "/");
        }
        else
        {
            throw new ArgumentException($"Docker endpoint '{Endpoint}' must be unix:///path or tcp://host:port", nameof(endpoint));
        }

        _http = new HttpClient(Handler()) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        _streaming = new HttpClient(Handler()) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The endpoint as configured.</summary>
    public string Endpoint { get; }

    /// <summary>The Unix socket path, or null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary><c>GET /_ping</c>: true when the daemon answers OK; never throws.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await _http.GetAsync("_ping", timeout.Token).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    /// <summary><c>GET /version</c>.</summary>
    public Task<DockerVersion> VersionAsync(CancellationToken cancellationToken = default) =>
        SendJsonAsync<DockerVersion>(HttpMethod.Get, "version", null, cancellationToken);

    /// <summary><c>GET /images/{name}/json</c>; null when the daemon has no such image.</summary>
    public async Task<DockerImageInspect?> InspectImageAsync(string image, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendJsonAsync<DockerImageInspect>(HttpMethod.Get, "images/" + Uri.EscapeDataString(image) + "/json", null, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>POST /images/create?fromImage=…&amp;tag=…</c>: pulls <paramref name="image"/> (tag <c>latest</c> when none),
    /// reading the progress stream to its end.
    /// </summary>
    /// <exception cref="DockerException">The pull failed (the stream reported an error, or the answer was an error status).</exception>
    public async Task PullImageAsync(string image, CancellationToken cancellationToken = default)
    {
        var (name, tag) = SplitImage(image);
        var path = "images/create?fromImage=" + Uri.EscapeDataString(name) + "&tag=" + Uri.EscapeDataString(tag);
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        using var response = await SendAsync(_streaming, request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            DockerProgress? progress;
            try
            {
                progress = JsonSerializer.Deserialize<DockerProgress>(line, DockerJson.Options);
            }
            catch (JsonException)
            {
                continue;
            }

            if (progress?.Error is { Length: > 0 } error)
            {
                throw new DockerException(error, HttpStatusCode.NotFound);
            }
        }
    }

    /// <summary><c>POST /containers/create?name=…</c>; returns the new container's id.</summary>
    public async Task<string> CreateContainerAsync(string? name, DockerCreateContainer body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        var path = "containers/create" + (string.IsNullOrEmpty(name) ? "" : "?name=" + Uri.EscapeDataString(name));
        var created = await SendJsonAsync<DockerCreated>(HttpMethod.Post, path, JsonContent.Create(body, options: DockerJson.Options), cancellationToken).ConfigureAwait(false);
        return created.Id;
    }

    /// <summary><c>POST /containers/{id}/start</c> (an already started container is fine).</summary>
    public Task StartContainerAsync(string id, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Post, "containers/" + Uri.EscapeDataString(id) + "/start", cancellationToken);

    /// <summary><c>POST /containers/{id}/wait</c>: completes when the container has stopped.</summary>
    public Task<DockerWaitResult> WaitContainerAsync(string id, CancellationToken cancellationToken = default) =>
        SendJsonAsync<DockerWaitResult>(HttpMethod.Post, "containers/" + Uri.EscapeDataString(id) + "/wait", null, cancellationToken, _streaming);

    /// <summary><c>GET /containers/{id}/json</c>; null when there is no such container.</summary>
    public async Task<DockerContainerInspect?> InspectContainerAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendJsonAsync<DockerContainerInspect>(HttpMethod.Get, "containers/" + Uri.EscapeDataString(id) + "/json", null, cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// <c>POST /containers/{id}/stop?t=…</c>: SIGTERM (or the image's stop signal), then SIGKILL after
    /// <paramref name="graceSeconds"/> (whole seconds, rounded up). A container that is already stopped is fine.
    /// </summary>
    public async Task StopContainerAsync(string id, double graceSeconds, CancellationToken cancellationToken = default)
    {
        var t = (int)Math.Ceiling(Math.Max(0, graceSeconds));
        using var request = new HttpRequestMessage(HttpMethod.Post, "containers/" + Uri.EscapeDataString(id) + "/stop?t=" + t.ToString(CultureInfo.InvariantCulture));
        using var response = await SendAsync(_streaming, request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotModified)
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary><c>POST /containers/{id}/kill?signal=…</c>.</summary>
    public Task KillContainerAsync(string id, string signal = "SIGKILL", CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Post, "containers/" + Uri.EscapeDataString(id) + "/kill?signal=" + Uri.EscapeDataString(signal), cancellationToken);

    /// <summary><c>DELETE /containers/{id}?force=true&amp;v=true</c>; a missing container is fine.</summary>
    public async Task RemoveContainerAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            await SendNoContentAsync(HttpMethod.Delete, "containers/" + Uri.EscapeDataString(id) + "?force=true&v=true", cancellationToken).ConfigureAwait(false);
        }
        catch (DockerException e) when (e.IsNotFound || e.StatusCode == HttpStatusCode.Conflict)
        {
            // gone already, or its removal is already in progress
        }
    }

    /// <summary><c>GET /containers/json?all=true&amp;filters={"label":[…]}</c>: containers carrying every one of <paramref name="labels"/> (<c>key</c> or <c>key=value</c>).</summary>
    public async Task<IReadOnlyList<DockerContainerSummary>> ListContainersAsync(IEnumerable<string> labels, CancellationToken cancellationToken = default)
    {
        var filters = JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = [.. labels] });
        return await SendJsonAsync<List<DockerContainerSummary>>(HttpMethod.Get, "containers/json?all=true&filters=" + Uri.EscapeDataString(filters), null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// <c>GET /containers/{id}/logs?follow=…&amp;stdout=true&amp;stderr=true&amp;since=…</c>, demultiplexed: each frame's
    /// payload goes to <paramref name="stdout"/> or <paramref name="stderr"/> (flushed after each frame). With
    /// <paramref name="follow"/> it returns when the container has stopped and its output is drained.
    /// <paramref name="since"/>: only output after this time (Unix seconds, fractional).
    /// </summary>
    public async Task CopyLogsAsync(string id, Stream stdout, Stream stderr, bool follow, double? since = null, CancellationToken cancellationToken = default)
    {
        var path = "containers/" + Uri.EscapeDataString(id) + "/logs?stdout=true&stderr=true&follow=" + (follow ? "true" : "false");
        if (since is { } s)
        {
            path += "&since=" + s.ToString("0.000000000", CultureInfo.InvariantCulture);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using var response = await SendAsync(_streaming, request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var tty = response.Content.Headers.ContentType?.MediaType == "application/vnd.docker.raw-stream";
            if (tty)
            {
                await stream.CopyToAsync(stdout, cancellationToken).ConfigureAwait(false);
                return;
            }

            await DockerLogDemultiplexer.CopyAsync(stream, stdout, stderr, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="argv"/> inside a running container (<c>POST /containers/{id}/exec</c>, then
    /// <c>/exec/{id}/start</c>) and returns its exit status and its output (stdout and stderr, at most 64 KiB).
    /// </summary>
    public async Task<(int ExitCode, string Output)> ExecAsync(string id, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argv);
        var body = new DockerExecCreate
        {
            Cmd = [.. argv],
            Env = environment is null ? null : [.. environment.Select(kv => kv.Key + "=" + kv.Value)],
        };
        var created = await SendJsonAsync<DockerCreated>(HttpMethod.Post, "containers/" + Uri.EscapeDataString(id) + "/exec", JsonContent.Create(body, options: DockerJson.Options), cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, "exec/" + Uri.EscapeDataString(created.Id) + "/start")
        {
            Content = new StringContent("{\"Detach\":false,\"Tty\":false}", Encoding.UTF8, "application/json"),
        };
        using var response = await SendAsync(_streaming, request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var output = new LimitedBuffer(64 * 1024);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await DockerLogDemultiplexer.CopyAsync(stream, output, output, cancellationToken).ConfigureAwait(false);
        }

        var inspect = await SendJsonAsync<DockerExecInspect>(HttpMethod.Get, "exec/" + Uri.EscapeDataString(created.Id) + "/json", null, cancellationToken).ConfigureAwait(false);
        return (inspect.ExitCode ?? -1, Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>
    /// <c>GET /events?filters=…</c>: streams container events carrying every one of <paramref name="labels"/> until
    /// cancelled or the daemon closes the stream.
    /// </summary>
    public async IAsyncEnumerable<DockerEvent> EventsAsync(IEnumerable<string> labels, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var filters = JsonSerializer.Serialize(new Dictionary<string, string[]> { ["type"] = ["container"], ["label"] = [.. labels] });
        using var request = new HttpRequestMessage(HttpMethod.Get, "events?filters=" + Uri.EscapeDataString(filters));
        using var response = await SendAsync(_streaming, request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length > 0 && JsonSerializer.Deserialize<DockerEvent>(line, DockerJson.Options) is { } e)
            {
                yield return e;
            }
        }
    }

    /// <summary>Splits <c>repo[:tag][@digest]</c> into the name and tag for a pull (<c>latest</c> when no tag is given).</summary>
    public static (string Name, string Tag) SplitImage(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var at = image.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            return (image[..at], image[(at + 1)..]);
        }

        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
        _streaming.Dispose();
    }

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        using var response = await SendAsync(client ?? _http, request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(DockerJson.Options, cancellationToken).ConfigureAwait(false)
                ?? throw new DockerException($"Docker {method} {path}: empty answer", response.StatusCode);
        }
        catch (JsonException e)
        {
            throw new DockerException($"Docker {method} {path}: unreadable answer ({e.Message})", response.StatusCode, e);
        }
    }

    private async Task SendNoContentAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        using var response = await SendAsync(_http, request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.NotModified)
        {
            await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, HttpCompletionOption completion, CancellationToken cancellationToken)
    {
        try
        {
            return await client.SendAsync(request, completion, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or SocketException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new DockerException($"Docker daemon at {Endpoint} is unreachable: {e.Message}", null, e);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string message;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            message = text.TrimStart().StartsWith('{')
                ? JsonSerializer.Deserialize<DockerErrorBody>(text, DockerJson.Options)?.Message ?? text
                : text.Trim();
        }
        catch (JsonException)
        {
            message = response.ReasonPhrase ?? "error";
        }

        throw new DockerException(
            string.Create(CultureInfo.InvariantCulture, $"Docker answered {(int)response.StatusCode}: {message}"),
            response.StatusCode);
    }

    /// <summary>A memory stream that keeps at most a given number of bytes.</summary>
    private sealed class LimitedBuffer(int limit) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count) => base.Write(buffer, offset, Math.Min(count, Math.Max(0, limit - (int)Length)));

        public override void Write(ReadOnlySpan<byte> buffer) => base.Write(buffer[..Math.Min(buffer.Length, Math.Max(0, limit - (int)Length))]);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>
/// Splits Docker's multiplexed attach/log stream (no TTY): frames of an 8-byte header
/// <c>[stream, 0, 0, 0, size (4 bytes, big-endian)]</c> followed by <c>size</c> bytes; stream 1 is stdout, 2 stderr
/// (0, stdin, is written to stdout).
/// </summary>
public static class DockerLogDemultiplexer
{
    /// <summary>Copies every frame's payload to <paramref name="stdout"/> or <paramref name="stderr"/> until the end of <paramref name="source"/>; flushes after each frame.</summary>
    /// <exception cref="InvalidDataException">A frame header names an unknown stream or the stream ends inside a frame.</exception>
    public static async Task CopyAsync(Stream source, Stream stdout, Stream stderr, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var header = new byte[8];
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await ReadFullyAsync(source, header, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            if (read < header.Length)
            {
                throw new InvalidDataException("the log stream ended inside a frame header");
            }

            var target = header[0] switch
            {
                0 or 1 => stdout,
                2 => stderr,
                _ => throw new InvalidDataException($"unknown stream {header[0].ToString(CultureInfo.InvariantCulture)} in a log frame header"),
            };
            var remaining = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4));
            while (remaining > 0)
            {
                var n = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new InvalidDataException("the log stream ended inside a frame");
                }

                await target.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                remaining -= n;
            }

            await target.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<int> ReadFullyAsync(Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var n = await source.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}
