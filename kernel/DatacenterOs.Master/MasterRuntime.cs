using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Master;

/// <summary>
/// A running master: recovers the registry, runs the allocation and heartbeat timers on its single writer loop, and
/// serves the HTTP APIs mapped by <see cref="MapEndpoints"/>: <c>POST /api/v1/scheduler</c> (Mesos v1 scheduler API),
/// <c>POST /api/v1/agent</c> (agents), <c>POST /api/v1</c> (operator API), <c>GET /master/state</c>, <c>GET /health</c>
/// and <c>GET /metrics</c> (Prometheus text). Read APIs are served from an immutable snapshot, rebuilt on the writer loop
/// only when a read arrives after a change, so a busy master spends nothing on snapshots nobody reads.
/// </summary>
public sealed class MasterRuntime : IAsyncDisposable
{
    private readonly MasterCore _core;
    private readonly MasterActor _actor;
    private readonly MasterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private ITimer? _tick;
    private ITimer? _heartbeat;
    private volatile Task<MasterSnapshot> _snapshot = Task.FromResult(MasterSnapshot.Empty);
    private volatile bool _dirty;

    // The serialized answers of the two largest reads, once per snapshot: readers of an unchanged master share them.
    private readonly ConditionalWeakTable<MasterSnapshot, byte[]> _stateV0Json = new();
    private readonly ConditionalWeakTable<MasterSnapshot, byte[]> _getStateJson = new();

    private MasterRuntime(MasterOptions options, IMasterRegistry registry, TimeProvider time, ILoggerFactory loggers)
    {
        _options = options;
        _time = time;
        _log = loggers.CreateLogger("DatacenterOs.Master");
        _core = new MasterCore(options, time, registry, _log, static () => Guid.NewGuid().ToString("N"));
        _actor = new MasterActor(AfterEach);
        _core.Actor = _actor;
    }

    /// <summary>The cluster's stable id (prefix of framework and agent ids).</summary>
    public string MasterId => _core.MasterId;

    /// <summary>Creates the master, recovers its registry and starts its timers.</summary>
    /// <param name="options">Settings.</param>
    /// <param name="registry">Persistent registry.</param>
    /// <param name="time">Clock for timers (fake in tests).</param>
    /// <param name="loggers">Logging.</param>
    /// <param name="cancellationToken">Cancels recovery.</param>
    public static async Task<MasterRuntime> StartAsync(MasterOptions options, IMasterRegistry registry, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var runtime = new MasterRuntime(options, registry, time, loggers);
        await runtime._actor.InvokeAsync(async () =>
        {
            await runtime._core.RecoverAsync(cancellationToken).ConfigureAwait(false);
            return new Rendering(runtime.Publish());
        }).ConfigureAwait(false);
        runtime._tick = time.CreateTimer(_ => runtime._actor.Post(() =>
        {
            runtime._core.Tick();
            return Task.CompletedTask;
        }), null, options.AllocationInterval, options.AllocationInterval);
        runtime._heartbeat = time.CreateTimer(_ => runtime._actor.Post(() =>
        {
            runtime._core.Heartbeat();
            return Task.CompletedTask;
        }), null, options.HeartbeatInterval, options.HeartbeatInterval);
        return runtime;
    }

    /// <summary>Maps the master's HTTP endpoints.</summary>
    public void MapEndpoints(IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/api/v1/scheduler", SchedulerAsync);
        endpoints.MapPost("/api/v1/agent", AgentAsync);
        endpoints.MapPost("/api/v1", OperatorAsync);
        endpoints.MapGet("/master/state", async (HttpContext ctx) =>
            await WriteBytesAsync(ctx, _stateV0Json.GetValue(await SnapshotAsync().ConfigureAwait(false), s => MesosJson.Serialize(MasterStateV0.From(s, MasterId)))).ConfigureAwait(false));
        endpoints.MapGet("/health", (HttpContext ctx) => WriteJsonAsync(ctx, 200, new GetHealthDto(true)));
        endpoints.MapGet("/metrics", MetricsAsync);
    }

    /// <summary>
    /// The scheduler API for frameworks hosted in this process: the same calls, events, validation and status codes
    /// as over HTTP, without a socket.
    /// </summary>
    public ISchedulerTransport InProcessTransport => new InProcessSchedulerTransport(this);

    private sealed class InProcessSchedulerTransport(MasterRuntime runtime) : ISchedulerTransport
    {
        public async Task<SchedulerSubscription> SubscribeAsync(SchedulerCall subscribe, CancellationToken cancellationToken)
        {
            var (result, sink, frameworkId) = await runtime._actor.InvokeAsync(() => runtime._core.SubscribeAsync(subscribe, cancellationToken)).ConfigureAwait(false);
            if (sink is null)
            {
                return new SchedulerSubscription(result.Status, result.Error, null, null, () => ValueTask.CompletedTask);
            }

            var closed = 0;
            async ValueTask CloseAsync()
            {
                if (Interlocked.Exchange(ref closed, 1) == 0)
                {
                    await runtime._actor.InvokeAsync(() => runtime._core.FrameworkDisconnected(frameworkId!, sink)).ConfigureAwait(false);
                }
            }

            return new SchedulerSubscription(200, null, sink.StreamId, Events(sink), CloseAsync);
        }

        public async Task<(int Status, string? Error)> CallAsync(SchedulerCall call, string streamId, CancellationToken cancellationToken)
        {
            var outcome = await runtime._actor.InvokeAsync(() => runtime._core.HandleCallAsync(call, streamId, cancellationToken)).ConfigureAwait(false);
            return (outcome.Status, outcome.Error);
        }

        private static async IAsyncEnumerable<SchedulerEvent> Events(EventSink sink)
        {
            await foreach (var json in sink.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return MesosJson.Deserialize<SchedulerEvent>(json);
            }
        }
    }

    /// <summary>Waits until the writer loop has handled everything queued so far, then republishes the snapshot.</summary>
    public async Task SettleAsync()
    {
        await (await _actor.InvokeAsync(() => new Rendering(Publish())).ConfigureAwait(false)).Task.ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Closes every event stream first, so an HTTP server stopped afterwards does not wait for them.</remarks>
    public async ValueTask DisposeAsync()
    {
        _tick?.Dispose();
        _heartbeat?.Dispose();
        try
        {
            await _actor.InvokeAsync(_core.CloseAllStreams).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        await _actor.DisposeAsync().ConfigureAwait(false);
    }

    private void AfterEach(bool idle) => _dirty = true;

    /// <summary>
    /// On the writer loop: captures the state (cheap: cached task views, immutable values) and starts rendering it on
    /// the thread pool. Readers that come later, while nothing changed, await the same rendering.
    /// </summary>
    private Task<MasterSnapshot> Publish()
    {
        _dirty = false;
        var start = _time.GetTimestamp();
        var capture = _core.CaptureSnapshot();
        var ms = _time.GetElapsedTime(start).TotalMilliseconds;
        _core.Metrics.LastSnapshotCaptureMs = ms;
        _core.Metrics.MaxSnapshotCaptureMs = Math.Max(_core.Metrics.MaxSnapshotCaptureMs, ms);
        return _snapshot = Task.Run(capture.Render);
    }

    /// <summary>A snapshot being rendered, handed out of the writer loop without waiting for it.</summary>
    private sealed record Rendering(Task<MasterSnapshot> Task);

    /// <summary>
    /// The latest snapshot; captured on the writer loop only when a read asks for it and state changed since the last
    /// capture, so a busy master spends nothing on snapshots nobody reads, and rendered off the writer loop, so a read
    /// of a large cluster does not pause allocation.
    /// </summary>
    private async Task<MasterSnapshot> SnapshotAsync()
    {
        if (!_dirty)
        {
            return await _snapshot.ConfigureAwait(false);
        }

        Task<MasterSnapshot> rendering;
        try
        {
            // Wrapped, so the writer loop hands the rendering task over instead of waiting for it.
            rendering = (await _actor.InvokeAsync(() => new Rendering(_dirty ? Publish() : _snapshot)).ConfigureAwait(false)).Task;
        }
        catch (ObjectDisposedException)
        {
            rendering = _snapshot;
        }

        return await rendering.ConfigureAwait(false);
    }

    private async Task SchedulerAsync(HttpContext ctx)
    {
        var (call, error) = await ReadCallAsync<SchedulerCall>(ctx).ConfigureAwait(false);
        if (call is null)
        {
            await WriteErrorAsync(ctx, error!.Status, error.Error!).ConfigureAwait(false);
            return;
        }

        var streamId = ctx.Request.Headers["Mesos-Stream-Id"].ToString();
        if (call.Type == SchedulerTypes.Subscribe)
        {
            if (streamId.Length > 0)
            {
                await WriteErrorAsync(ctx, 400, "SUBSCRIBE must not carry a Mesos-Stream-Id header").ConfigureAwait(false);
                return;
            }

            var (result, sink, frameworkId) = await _actor.InvokeAsync(() => _core.SubscribeAsync(call, ctx.RequestAborted)).ConfigureAwait(false);
            if (sink is null)
            {
                await WriteErrorAsync(ctx, result.Status, result.Error ?? "subscription refused").ConfigureAwait(false);
                return;
            }

            await StreamAsync(ctx, sink, () => _core.FrameworkDisconnected(frameworkId!, sink)).ConfigureAwait(false);
            return;
        }

        var outcome = await _actor.InvokeAsync(() => _core.HandleCallAsync(call, streamId.Length == 0 ? null : streamId, ctx.RequestAborted)).ConfigureAwait(false);
        await WriteResultAsync(ctx, outcome).ConfigureAwait(false);
    }

    private async Task AgentAsync(HttpContext ctx)
    {
        var (call, error) = await ReadCallAsync<AgentCall>(ctx).ConfigureAwait(false);
        if (call is null)
        {
            await WriteErrorAsync(ctx, error!.Status, error.Error!).ConfigureAwait(false);
            return;
        }

        switch (call.Type)
        {
            case AgentTypes.Subscribe when call.Subscribe?.AgentInfo is not null:
                var (result, sink, agentId) = await _actor.InvokeAsync(() => _core.AgentSubscribeAsync(call.Subscribe, ctx.RequestAborted)).ConfigureAwait(false);
                if (sink is null)
                {
                    await WriteErrorAsync(ctx, result.Status, result.Error ?? "subscription refused").ConfigureAwait(false);
                    return;
                }

                await StreamAsync(ctx, sink, () => _core.AgentDisconnected(agentId!, sink)).ConfigureAwait(false);
                return;
            case AgentTypes.Subscribe:
                await WriteErrorAsync(ctx, 400, "SUBSCRIBE needs 'subscribe.agent_info'").ConfigureAwait(false);
                return;
            case AgentTypes.Update:
                var outcome = await _actor.InvokeAsync(() => call.Updates is { } batch
                    ? _core.AgentUpdates(call.AgentId?.Value, batch)
                    : _core.AgentUpdate(call.AgentId?.Value, call.Update)).ConfigureAwait(false);
                await WriteResultAsync(ctx, outcome).ConfigureAwait(false);
                return;
            default:
                await WriteErrorAsync(ctx, 400, $"unsupported agent call type '{call.Type}'").ConfigureAwait(false);
                return;
        }
    }

    private async Task OperatorAsync(HttpContext ctx)
    {
        var (call, error) = await ReadCallAsync<OperatorCall>(ctx).ConfigureAwait(false);
        if (call is null)
        {
            await WriteErrorAsync(ctx, error!.Status, error.Error!).ConfigureAwait(false);
            return;
        }

        var s = await SnapshotAsync().ConfigureAwait(false);
        switch (call.Type)
        {
            case OperatorEventTypes.Subscribe:
                var sink = await _actor.InvokeAsync(_core.OperatorSubscribe).ConfigureAwait(false);
                await StreamAsync(ctx, sink, () => _core.OperatorDisconnected(sink)).ConfigureAwait(false);
                break;
            case OperatorTypes.GetHealth:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetHealth = new GetHealthDto(true) }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetState:
                await WriteBytesAsync(ctx, _getStateJson.GetValue(s, static s => MesosJson.Serialize(new OperatorResponse { Type = OperatorTypes.GetState, GetState = s.State }))).ConfigureAwait(false);
                break;
            case OperatorTypes.GetAgents:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetAgents = s.State.GetAgents }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetFrameworks:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetFrameworks = s.State.GetFrameworks }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetTasks:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetTasks = s.State.GetTasks }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetRoles:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetRoles = s.Roles }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetWeights:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetWeights = s.Weights }).ConfigureAwait(false);
                break;
            case OperatorTypes.GetQuota:
                await WriteJsonAsync(ctx, 200, new OperatorResponse { Type = call.Type, GetQuota = s.Quota }).ConfigureAwait(false);
                break;
            case OperatorTypes.UpdateWeights:
                await WriteResultAsync(ctx, await _actor.InvokeAsync(() => _core.UpdateWeightsAsync(call.UpdateWeights)).ConfigureAwait(false)).ConfigureAwait(false);
                break;
            case OperatorTypes.UpdateQuota:
                await WriteResultAsync(ctx, await _actor.InvokeAsync(() => _core.UpdateQuotaAsync(call.UpdateQuota)).ConfigureAwait(false)).ConfigureAwait(false);
                break;
            case OperatorTypes.ReserveResources:
                await WriteResultAsync(ctx, await _actor.InvokeAsync(() => _core.OperatorReservation(call.ReserveResources, reserve: true)).ConfigureAwait(false)).ConfigureAwait(false);
                break;
            case OperatorTypes.UnreserveResources:
                await WriteResultAsync(ctx, await _actor.InvokeAsync(() => _core.OperatorReservation(call.UnreserveResources, reserve: false)).ConfigureAwait(false)).ConfigureAwait(false);
                break;
            default:
                await WriteErrorAsync(ctx, 400, $"unsupported operator call type '{call.Type}'").ConfigureAwait(false);
                break;
        }
    }

    private async Task MetricsAsync(HttpContext ctx)
    {
        var sb = new StringBuilder();
        foreach (var (name, value) in (await SnapshotAsync().ConfigureAwait(false)).Gauges.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(name).Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }

        ctx.Response.ContentType = "text/plain; version=0.0.4";
        await ctx.Response.WriteAsync(sb.ToString(), ctx.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>Streams <paramref name="sink"/> as RecordIO until the client goes away or the sink closes.</summary>
    private async Task StreamAsync(HttpContext ctx, EventSink sink, Action onEnd)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.Headers["Mesos-Stream-Id"] = sink.StreamId;
        ctx.Response.Headers.CacheControl = "no-cache";
        try
        {
            await ctx.Response.StartAsync(ctx.RequestAborted).ConfigureAwait(false);
            await sink.PumpAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            try
            {
                await _actor.InvokeAsync(onEnd).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // the master is shutting down: nothing left to update
            }
        }
    }

    private async Task<(T? Call, CallResult? Error)> ReadCallAsync<T>(HttpContext ctx)
        where T : class
    {
        var contentType = ctx.Request.ContentType;
        if (contentType is not null && !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new CallResult(415, $"unsupported Content-Type '{contentType}': send application/json"));
        }

        var accept = ctx.Request.Headers.Accept.ToString();
        if (accept.Length > 0 && !accept.Contains("application/json", StringComparison.OrdinalIgnoreCase) && !accept.Contains("*/*", StringComparison.Ordinal))
        {
            return (null, new CallResult(406, $"cannot answer with Accept '{accept}': use application/json"));
        }

        if (ctx.Request.ContentLength > _options.MaxCallBytes)
        {
            return (null, new CallResult(413, $"request body exceeds {_options.MaxCallBytes} bytes"));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(chunk, ctx.RequestAborted).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, n);
            if (buffer.Length > _options.MaxCallBytes)
            {
                return (null, new CallResult(413, $"request body exceeds {_options.MaxCallBytes} bytes"));
            }
        }

        try
        {
            var call = MesosJson.Deserialize<T>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            return (call, null);
        }
        catch (JsonException e)
        {
            var where = e.Path is { Length: > 1 } path ? $" at '{path}'" : "";
            return (null, CallResult.BadRequest($"malformed JSON{where}: {e.Message.Split(". Path:")[0]}"));
        }
    }

    private static Task WriteResultAsync(HttpContext ctx, CallResult result) =>
        result.Error is null
            ? WriteStatusAsync(ctx, result.Status)
            : WriteErrorAsync(ctx, result.Status, result.Error);

    private static Task WriteStatusAsync(HttpContext ctx, int status)
    {
        ctx.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private static Task WriteErrorAsync(HttpContext ctx, int status, string message) =>
        WriteJsonAsync(ctx, status, new ErrorBody(message));

    private static async Task WriteJsonAsync<T>(HttpContext ctx, int status, T body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(MesosJson.Serialize(body), ctx.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteBytesAsync(HttpContext ctx, byte[] json)
    {
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength = json.Length;
        await ctx.Response.Body.WriteAsync(json, ctx.RequestAborted).ConfigureAwait(false);
    }

    private sealed record ErrorBody(string Message);
}
