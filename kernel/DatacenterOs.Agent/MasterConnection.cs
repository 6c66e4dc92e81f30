using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatacenterOs.Agent;

/// <summary>
/// The agent's side of <c>POST /api/v1/agent</c>: SUBSCRIBE opens a RecordIO stream of <see cref="AgentEvent"/>s that
/// stays open; status updates are separate UPDATE calls answered 202. When the stream ends, fails, or no event arrives
/// within 5 heartbeat intervals, the connection re-subscribes with backoff (1 s doubling to 1 min after each round over
/// the master URLs, as Mesos's agent registration), trying each master URL in turn; a non-leading master's 307 is
/// followed and the agent then talks to the leader directly. Losing the master never touches tasks.
/// </summary>
public sealed partial class MasterConnection : IDisposable
{
    /// <summary>Path of the agent API on the master.</summary>
    public const string AgentApiPath = "/api/v1/agent";

    private CancellationTokenSource? _kick;

    private readonly IReadOnlyList<Uri> _masters;
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile Uri? _current;
    private long _lastEventTicks;

    /// <summary>Creates a connection to the masters at <paramref name="masterUrls"/> (<c>http://host:port</c>).</summary>
    /// <param name="masterUrls">Master base URLs, tried in turn.</param>
    /// <param name="timeProvider">Clock for heartbeat timeouts and backoff.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="handler">HTTP handler (tests); default a new <see cref="SocketsHttpHandler"/>.</param>
    /// <param name="bearerToken">Sent as <c>Authorization: Bearer</c> on every call (the shared agent secret), or null.</param>
    /// <exception cref="ArgumentException">No master URL, or one that is not an absolute http(s) URL.</exception>
    public MasterConnection(IEnumerable<string> masterUrls, TimeProvider timeProvider, ILogger? logger = null, HttpMessageHandler? handler = null, string? bearerToken = null)
    {
        ArgumentNullException.ThrowIfNull(masterUrls);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _masters = [.. masterUrls.Select(ParseMaster)];
        if (_masters.Count == 0)
        {
            throw new ArgumentException("at least one master URL is required", nameof(masterUrls));
        }

        _time = timeProvider;
        _logger = logger ?? NullLogger.Instance;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }, disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        if (bearerToken is { Length: > 0 })
        {
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", bearerToken);
        }
    }

    /// <summary>First re-subscription delay (1 s).</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest re-subscription delay (1 min).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Heartbeat interval assumed until SUBSCRIBED tells the real one (15 s, Mesos's default).</summary>
    public TimeSpan DefaultHeartbeatInterval { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Silence of this many heartbeat intervals ends the subscription (5).</summary>
    public int MissedHeartbeats { get; init; } = 5;

    /// <summary>Timeout of one UPDATE call.</summary>
    public TimeSpan UpdateTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The master the agent is subscribed to, or null while not subscribed.</summary>
    public Uri? CurrentMaster => _current;

    /// <summary>True while subscribed.</summary>
    public bool IsSubscribed => _current is not null;

    /// <summary>When the last event (heartbeat included) arrived, or null.</summary>
    public DateTimeOffset? LastEventAt
    {
        get
        {
            var ticks = Interlocked.Read(ref _lastEventTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    /// <summary>Number of SUBSCRIBED events received so far (1 after the first subscription).</summary>
    public int Subscriptions { get; private set; }

    /// <summary>
    /// Subscribes and streams events until <paramref name="cancellationToken"/> is cancelled, re-subscribing after every
    /// loss. <paramref name="subscribe"/> builds each SUBSCRIBE body (agent info with the current id, live tasks);
    /// <paramref name="onEvent"/> receives every event in order (SUBSCRIBED included, before it returns the connection
    /// counts as subscribed); <paramref name="onDisconnected"/> runs when a subscription ends.
    /// </summary>
    public async Task RunAsync(
        Func<AgentSubscribeCall> subscribe,
        Func<AgentEvent, CancellationToken, Task> onEvent,
        Action? onDisconnected,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscribe);
        ArgumentNullException.ThrowIfNull(onEvent);
        var backoff = MinBackoff;
        var index = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var master = _masters[index % _masters.Count];
            var subscribed = false;
            try
            {
                subscribed = await SubscribeOnceAsync(master, subscribe(), onEvent, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or JsonException or FormatException or OperationCanceledException)
            {
                LogStreamFailed(master, e.Message);
            }
            finally
            {
                if (_current is not null)
                {
                    _current = null;
                    onDisconnected?.Invoke();
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }

            if (subscribed)
            {
                backoff = MinBackoff;
            }

            index++;
            LogResubscribing(backoff.TotalSeconds);
            try
            {
                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // Several masters (one leads): try each once at the same delay, back off only after a full round.
            if (index % _masters.Count == 0)
            {
                var doubled = backoff * 2;
                backoff = doubled > MaxBackoff ? MaxBackoff : doubled;
            }
        }
    }

    /// <summary>POSTs an agent call (UPDATE) to the master subscribed to; true when it answered 202 (or another 2xx).</summary>
    public async Task<bool> SendAsync(AgentCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        var master = _current;
        if (master is null)
        {
            return false;
        }

        using var timeout = new CancellationTokenSource(UpdateTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = Post(master, call);
        try
        {
            using var response = await _http.SendAsync(request, linked.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return true;
            }

            LogCallRejected(call.Type, (int)response.StatusCode, await ReadSnippetAsync(response, linked.Token).ConfigureAwait(false));
            return false;
        }
        catch (HttpRequestException e)
        {
            LogCallFailed(call.Type, e.Message);
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogCallFailed(call.Type, "timed out");
            return false;
        }
    }

    /// <summary>
    /// Ends the current subscription so that the agent subscribes again (after <see cref="MinBackoff"/>) with a fresh
    /// SUBSCRIBE body, e.g. because its attributes changed. Does nothing when not subscribed.
    /// </summary>
    public void Resubscribe()
    {
        try
        {
            Volatile.Read(ref _kick)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Fails queued status updates (false) and releases the HTTP client.</summary>
    public void Dispose()
    {
        CloseUpdates();
        _http.Dispose();
    }

    private async Task<bool> SubscribeOnceAsync(Uri master, AgentSubscribeCall body, Func<AgentEvent, CancellationToken, Task> onEvent, CancellationToken cancellationToken)
    {
        var call = new AgentCall { Type = AgentTypes.Subscribe, Subscribe = body };
        using var request = Post(master, call);
        var silence = DefaultHeartbeatInterval * MissedHeartbeats;
        using var watchdog = new CancellationTokenSource(silence, _time);
        using var kick = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, watchdog.Token, kick.Token);
        Volatile.Write(ref _kick, kick);
        LogSubscribing(master, body.AgentInfo.Id?.Value ?? "(new)", body.Tasks?.Count ?? 0);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            LogSubscribeRejected(master, (int)response.StatusCode, await ReadSnippetAsync(response, linked.Token).ConfigureAwait(false));
            return false;
        }

        // A non-leading master answers 307 to the leader (followed by the handler): talk to the leader directly from now on.
        if (response.RequestMessage?.RequestUri is { } final && !string.Equals(final.GetLeftPart(UriPartial.Authority), master.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            LogRedirected(master, final.GetLeftPart(UriPartial.Authority));
            master = new Uri(final.GetLeftPart(UriPartial.Authority));
        }

        var subscribed = false;
        var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            while (true)
            {
                byte[]? record;
                try
                {
                    record = await RecordIo.ReadAsync(stream, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (kick.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    LogResubscribeRequested(master);
                    return subscribed;
                }
                catch (OperationCanceledException) when (watchdog.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    LogSilent(master, silence.TotalSeconds);
                    return subscribed;
                }

                if (record is null)
                {
                    LogStreamEnded(master);
                    return subscribed;
                }

                var evt = MesosJson.Deserialize<AgentEvent>(record);
                Interlocked.Exchange(ref _lastEventTicks, _time.GetUtcNow().UtcTicks);
                switch (evt.Type)
                {
                    case AgentTypes.Subscribed:
                        var interval = evt.Subscribed?.HeartbeatIntervalSeconds is > 0 and var s ? TimeSpan.FromSeconds(s) : DefaultHeartbeatInterval;
                        silence = interval * MissedHeartbeats;
                        subscribed = true;
                        _current = master;
                        Subscriptions++;
                        LogSubscribed(master, evt.Subscribed?.AgentId.Value ?? "?", interval.TotalSeconds);
                        break;
                    case AgentTypes.Error:
                        LogMasterError(master, evt.Error?.Message ?? "(no message)");
                        break;
                }

                watchdog.CancelAfter(silence);
                await onEvent(evt, cancellationToken).ConfigureAwait(false);
                if (evt.Type == AgentTypes.Error)
                {
                    return subscribed;
                }
            }
        }
    }

    private static HttpRequestMessage Post(Uri master, AgentCall call)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(master, AgentApiPath))
        {
            Content = new ByteArrayContent(MesosJson.Serialize(call)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return request;
    }

    private static async Task<string> ReadSnippetAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return text.Length > 200 ? text[..200] : text;
        }
        catch (Exception e) when (e is HttpRequestException or IOException or OperationCanceledException)
        {
            return "";
        }
    }

    private static Uri ParseMaster(string url)
    {
        if (!Uri.TryCreate(url?.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"master URL '{url}' is not an absolute http(s) URL such as http://10.0.0.1:5050");
        }

        return uri;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribing to master {Master} as agent {AgentId} with {Tasks} task(s)")]
    private partial void LogSubscribing(Uri master, string agentId, int tasks);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to master {Master} as agent {AgentId} (heartbeat every {Seconds} s)")]
    private partial void LogSubscribed(Uri master, string agentId, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Master {Master} refused the subscription: HTTP {Status} {Body}")]
    private partial void LogSubscribeRejected(Uri master, int status, string body);

    [LoggerMessage(Level = LogLevel.Information, Message = "Master {Master} redirected to the leading master {Leader}")]
    private partial void LogRedirected(Uri master, string leader);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Master {Master} sent ERROR: {Message}")]
    private partial void LogMasterError(Uri master, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No event from master {Master} for {Seconds} s; re-subscribing")]
    private partial void LogSilent(Uri master, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The event stream of master {Master} ended")]
    private partial void LogStreamEnded(Uri master);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection to master {Master} failed: {Error}")]
    private partial void LogStreamFailed(Uri master, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-subscribing in {Seconds} s")]
    private partial void LogResubscribing(double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Master refused {Type}: HTTP {Status} {Body}")]
    private partial void LogCallRejected(string type, int status, string body);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Type} call failed: {Error}")]
    private partial void LogCallFailed(string type, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Leaving the subscription to {Master} to subscribe again with changed agent info")]
    private partial void LogResubscribeRequested(Uri master);
}
