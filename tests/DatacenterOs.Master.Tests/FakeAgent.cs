using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Threading.Channels;
using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master.Tests;

/// <summary>
/// An agent speaking the real agent protocol over HTTP but running no process: LAUNCH ⇒ TASK_RUNNING at once,
/// KILL ⇒ TASK_KILLED. Records everything it receives.
/// </summary>
internal sealed class FakeAgent : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _master;
    private readonly CancellationTokenSource _cts = new();
    private readonly Channel<AgentEvent> _events = Channel.CreateUnbounded<AgentEvent>();
    private HttpResponseMessage? _response;
    private Task? _reader;
    private int _uuid;

    public FakeAgent(HttpClient http, Uri master, string hostname, string resources)
    {
        _http = http;
        _master = master;
        Hostname = hostname;
        Resources = resources;
    }

    public string Hostname { get; }

    public string Resources { get; }

    public string? AgentId { get; private set; }

    /// <summary>Running tasks by id, with their framework and role.</summary>
    public ConcurrentDictionary<string, AgentTaskDto> Tasks { get; } = new();

    public ConcurrentQueue<AgentEvent> Received { get; } = new();

    public async Task SubscribeAsync()
    {
        var call = new AgentCall
        {
            Type = AgentTypes.Subscribe,
            Subscribe = new AgentSubscribeCall(
                new AgentInfoDto
                {
                    Id = AgentId is null ? null : new IdDto(AgentId),
                    Hostname = Hostname,
                    Port = 5051,
                    Resources = ResourceConversions.ToDtos(Kernel.Resources.Parse(Resources)),
                },
                [.. Tasks.Values],
                null),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_master, "/api/v1/agent")) { Content = Json(call) };
        _response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, _cts.Token);
        _response.EnsureSuccessStatusCode();
        var stream = await _response.Content.ReadAsStreamAsync(_cts.Token);
        var first = MesosJson.Deserialize<AgentEvent>((await RecordIo.ReadAsync(stream, _cts.Token))!);
        Assert.Equal(AgentTypes.Subscribed, first.Type);
        AgentId = first.Subscribed!.AgentId.Value;
        _reader = Task.Run(() => ReadAsync(stream));
    }

    /// <summary>Drops the connection without telling the master (agent crash or partition).</summary>
    public void Disconnect()
    {
        _response?.Dispose();
        _response = null;
    }

    private async Task ReadAsync(Stream stream)
    {
        try
        {
            while (await RecordIo.ReadAsync(stream, _cts.Token) is { } record)
            {
                var evt = MesosJson.Deserialize<AgentEvent>(record);
                Received.Enqueue(evt);
                await HandleAsync(evt);
                _events.Writer.TryWrite(evt);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException)
        {
        }
    }

    private async Task HandleAsync(AgentEvent evt)
    {
        switch (evt.Type)
        {
            case AgentTypes.Launch:
                var launch = evt.Launch!;
                var running = Status(launch.Task.TaskId.Value, TaskStates.Running);
                Tasks[launch.Task.TaskId.Value] = new AgentTaskDto(launch.FrameworkId, launch.Role, launch.Task, running);
                await SendUpdateAsync(launch.FrameworkId.Value, running);
                break;
            case AgentTypes.Kill:
                if (Tasks.TryRemove(evt.Kill!.TaskId.Value, out var task))
                {
                    await SendUpdateAsync(task.FrameworkId.Value, Status(task.Task.TaskId.Value, TaskStates.Killed));
                }

                break;
        }
    }

    /// <summary>Reports a task state (e.g. TASK_FINISHED) with a fresh uuid.</summary>
    public async Task FinishAsync(string taskId, string state = TaskStates.Finished)
    {
        Assert.True(Tasks.TryRemove(taskId, out var task));
        await SendUpdateAsync(task.FrameworkId.Value, Status(taskId, state));
    }

    /// <summary>
    /// Reports several tasks' states in one batched UPDATE call (<see cref="AgentCall.Updates"/>); with
    /// <paramref name="malformedAt"/> that entry lacks its status. Returns the master's status code.
    /// </summary>
    public async Task<System.Net.HttpStatusCode> SendBatchAsync(IReadOnlyList<string> taskIds, string state, int? malformedAt = null)
    {
        var updates = new List<AgentUpdateCall>();
        for (var i = 0; i < taskIds.Count; i++)
        {
            var task = Tasks[taskIds[i]];
            updates.Add(new AgentUpdateCall(task.FrameworkId, i == malformedAt ? null! : Status(taskIds[i], state)));
        }

        var call = new AgentCall { Type = AgentTypes.Update, AgentId = new IdDto(AgentId!), Updates = updates };
        using var response = await _http.PostAsync(new Uri(_master, "/api/v1/agent"), Json(call));
        return response.StatusCode;
    }

    public async Task<AgentEvent> NextAsync(Func<AgentEvent, bool> match)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var evt = await _events.Reader.ReadAsync(timeout.Token);
            if (match(evt))
            {
                return evt;
            }
        }
    }

    private TaskStatusDto Status(string taskId, string state) => new()
    {
        TaskId = new IdDto(taskId),
        State = state,
        Source = "SOURCE_EXECUTOR",
        Uuid = Convert.ToBase64String(BitConverter.GetBytes(Interlocked.Increment(ref _uuid))),
    };

    private async Task SendUpdateAsync(string frameworkId, TaskStatusDto status)
    {
        var call = new AgentCall { Type = AgentTypes.Update, AgentId = new IdDto(AgentId!), Update = new AgentUpdateCall(new IdDto(frameworkId), status) };
        using var response = await _http.PostAsync(new Uri(_master, "/api/v1/agent"), Json(call));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
    }

    private static ByteArrayContent Json<T>(T value)
    {
        var content = new ByteArrayContent(MesosJson.Serialize(value));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _response?.Dispose();
        if (_reader is not null)
        {
            await _reader;
        }

        _cts.Dispose();
    }
}
