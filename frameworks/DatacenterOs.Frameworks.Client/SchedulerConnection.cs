using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Frameworks.Client;

/// <summary>A framework's subscription to a master: its id, the event stream, and calls on the subscription.</summary>
public interface ISchedulerConnection : IAsyncDisposable
{
    /// <summary>Framework id the master assigned (or confirmed on re-subscription).</summary>
    string FrameworkId { get; }

    /// <summary>The subscription's <c>Mesos-Stream-Id</c>.</summary>
    string StreamId { get; }

    /// <summary>Events after SUBSCRIBED, in order, until the stream ends.</summary>
    IAsyncEnumerable<SchedulerEvent> Events(CancellationToken cancellationToken = default);

    /// <summary>Sends a call (framework id filled in); returns the HTTP status (202 for accepted calls).</summary>
    Task<HttpStatusCode> CallAsync(SchedulerCall call, CancellationToken cancellationToken = default);
}

/// <summary>
/// The Mesos v1 scheduler HTTP API from the framework side (<c>docs/scheduler-http-api.md</c>): SUBSCRIBE opens a
/// RecordIO event stream on one connection; other calls go on other connections with the <c>Mesos-Stream-Id</c> header.
/// </summary>
public sealed class HttpSchedulerConnection : ISchedulerConnection
{
    private readonly HttpClient _http;
    private readonly Uri _endpoint;
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;
    private readonly CancellationTokenSource _cts = new();

    private HttpSchedulerConnection(HttpClient http, Uri endpoint, HttpResponseMessage response, Stream stream, string frameworkId, string streamId)
    {
        _http = http;
        _endpoint = endpoint;
        _response = response;
        _stream = stream;
        FrameworkId = frameworkId;
        StreamId = streamId;
    }

    /// <inheritdoc />
    public string FrameworkId { get; }

    /// <inheritdoc />
    public string StreamId { get; }

    /// <summary>Heartbeat interval the master announced, in seconds.</summary>
    public double HeartbeatIntervalSeconds { get; private init; }

    /// <summary>
    /// Subscribes <paramref name="frameworkInfo"/> (with <c>id</c> set to re-subscribe after a failover) at
    /// <paramref name="master"/> (e.g. <c>http://127.0.0.1:5050</c>) and waits for SUBSCRIBED.
    /// </summary>
    /// <exception cref="SchedulerException">The master refused the subscription; the message is its answer.</exception>
    public static async Task<HttpSchedulerConnection> SubscribeAsync(HttpClient http, Uri master, FrameworkInfoDto frameworkInfo, IReadOnlyList<string>? suppressedRoles = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(frameworkInfo);
        var endpoint = new Uri(master, "/api/v1/scheduler");
        var call = new SchedulerCall
        {
            Type = SchedulerTypes.Subscribe,
            FrameworkId = frameworkInfo.Id,
            Subscribe = new SubscribeCall(frameworkInfo) { SuppressedRoles = suppressedRoles?.ToList() },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = JsonContent(call) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw new SchedulerException((int)response.StatusCode, $"SUBSCRIBE refused ({(int)response.StatusCode}): {body}");
        }

        var streamId = response.Headers.TryGetValues("Mesos-Stream-Id", out var values) ? values.First() : "";
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var first = await RecordIo.ReadAsync(stream, cancellationToken).ConfigureAwait(false)
            ?? throw new SchedulerException(0, "the subscription stream ended before SUBSCRIBED");
        var evt = MesosJson.Deserialize<SchedulerEvent>(first);
        if (evt.Type != SchedulerTypes.Subscribed || evt.Subscribed is null)
        {
            response.Dispose();
            throw new SchedulerException(0, $"expected SUBSCRIBED, got {evt.Type}: {evt.Error?.Message}");
        }

        return new HttpSchedulerConnection(http, endpoint, response, stream, evt.Subscribed.FrameworkId.Value, streamId)
        {
            HeartbeatIntervalSeconds = evt.Subscribed.HeartbeatIntervalSeconds,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<SchedulerEvent> Events([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _cts.Token);
        while (true)
        {
            byte[]? record;
            try
            {
                record = await RecordIo.ReadAsync(_stream, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
            {
                yield break;
            }

            if (record is null)
            {
                yield break;
            }

            yield return MesosJson.Deserialize<SchedulerEvent>(record);
        }
    }

    /// <inheritdoc />
    public async Task<HttpStatusCode> CallAsync(SchedulerCall call, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = JsonContent(call with { FrameworkId = new IdDto(FrameworkId) }) };
        request.Headers.Add("Mesos-Stream-Id", StreamId);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>Closes the subscription (the master then starts the framework's failover timeout).</summary>
    public ValueTask DisposeAsync()
    {
        _cts.Cancel();
        _stream.Dispose();
        _response.Dispose();
        _cts.Dispose();
        return ValueTask.CompletedTask;
    }

    private static ByteArrayContent JsonContent<T>(T value)
    {
        var content = new ByteArrayContent(MesosJson.Serialize(value));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}

/// <summary>The master refused a scheduler call or subscription.</summary>
public sealed class SchedulerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SchedulerException(int status, string message)
        : base(message) => Status = status;

    /// <summary>Creates the exception.</summary>
    public SchedulerException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchedulerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SchedulerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>HTTP status of the refusal (0 when the stream itself was wrong).</summary>
    public int Status { get; }
}
