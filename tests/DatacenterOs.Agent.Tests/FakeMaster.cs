using System.Text.Json;
using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Agent.Tests;

/// <summary>
/// A tiny master speaking the agent protocol on 127.0.0.1: answers SUBSCRIBE with a RecordIO stream that starts with
/// SUBSCRIBED and then carries whatever the test sends; records every call; answers UPDATE with 202.
/// </summary>
internal sealed class FakeMaster : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly List<AgentCall> _subscribes = [];
    private readonly List<AgentCall> _updates = [];
    private Channel<AgentEvent>? _stream;

    private FakeMaster(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public string AgentId { get; set; } = "agent-1";

    public double HeartbeatIntervalSeconds { get; set; } = 1000;

    public int UpdateStatusCode { get; set; } = StatusCodes.Status202Accepted;

    public IReadOnlyList<AgentCall> Subscribes
    {
        get
        {
            lock (_lock)
            {
                return [.. _subscribes];
            }
        }
    }

    public IReadOnlyList<AgentCall> Updates
    {
        get
        {
            lock (_lock)
            {
                return [.. _updates];
            }
        }
    }

    public static async Task<FakeMaster> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Urls.Add("http://127.0.0.1:0");
        var master = new FakeMaster(app);
        app.MapPost("/api/v1/agent", master.HandleAsync);
        await app.StartAsync();
        master.Url = app.Urls.First();
        return master;
    }

    /// <summary>Sends an event on the current subscription stream.</summary>
    public void Send(AgentEvent agentEvent)
    {
        lock (_lock)
        {
            Assert.NotNull(_stream);
            Assert.True(_stream.Writer.TryWrite(agentEvent));
        }
    }

    /// <summary>Ends the current subscription stream (as a master that went away).</summary>
    public void EndStream()
    {
        lock (_lock)
        {
            _stream?.Writer.TryComplete();
            _stream = null;
        }
    }

    public void Launch(TaskInfoDto task, string role = "*") =>
        Send(new AgentEvent { Type = AgentTypes.Launch, Launch = new AgentLaunchEvent(Tasks.Framework, role, task) });

    public void Kill(string taskId) =>
        Send(new AgentEvent { Type = AgentTypes.Kill, Kill = new AgentKillEvent(Tasks.Framework, new IdDto(taskId), null) });

    public void Acknowledge(AgentCall update) =>
        Send(new AgentEvent
        {
            Type = AgentTypes.Acknowledge,
            Acknowledge = new AgentAcknowledgeEvent(update.Update!.FrameworkId, update.Update.Status.TaskId, update.Update.Status.Uuid!),
        });

    public IReadOnlyList<AgentCall> UpdatesOf(string taskId, string? state = null) =>
        [.. Updates.Where(u => u.Update!.Status.TaskId.Value == taskId && (state is null || u.Update.Status.State == state))];

    /// <summary>Waits (real time) for the first UPDATE of the task in that state.</summary>
    public async Task<AgentCall> WaitForUpdateAsync(string taskId, string state)
    {
        Assert.True(await Tasks.EventuallyAsync(() => UpdatesOf(taskId, state).Count > 0), $"no {state} update for {taskId}; got: " +
            string.Join(", ", Updates.Select(u => u.Update!.Status.TaskId.Value + ":" + u.Update.Status.State)));
        return UpdatesOf(taskId, state)[0];
    }

    public async ValueTask DisposeAsync()
    {
        EndStream();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var call = await JsonSerializer.DeserializeAsync<AgentCall>(context.Request.Body, MesosJson.Options) ?? new AgentCall();
        if (call.Type == AgentTypes.Update)
        {
            lock (_lock)
            {
                // A batched UPDATE is recorded as the single updates it carries, in order.
                _updates.AddRange(call.Updates is { } batch ? batch.Select(u => call with { Update = u, Updates = null }) : [call]);
            }

            context.Response.StatusCode = UpdateStatusCode;
            return;
        }

        if (call.Type != AgentTypes.Subscribe)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var stream = Channel.CreateUnbounded<AgentEvent>();
        lock (_lock)
        {
            _stream?.Writer.TryComplete(); // one subscription at a time, like a master replacing the old stream
            _stream = stream;
            _subscribes.Add(call);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        var aborted = context.RequestAborted;
        var subscribed = new AgentEvent
        {
            Type = AgentTypes.Subscribed,
            Subscribed = new AgentSubscribedEvent(new IdDto(AgentId), HeartbeatIntervalSeconds),
        };
        try
        {
            await RecordIo.WriteAsync(context.Response.Body, MesosJson.Serialize(subscribed), aborted);
            await foreach (var agentEvent in stream.Reader.ReadAllAsync(aborted))
            {
                await RecordIo.WriteAsync(context.Response.Body, MesosJson.Serialize(agentEvent), aborted);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
    }
}
