using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using DatacenterOs.Apps.Contracts;
using Spectre.Console;

namespace DatacenterOs.Cli;

/// <summary>
/// Follows deployments: listens to <c>deployment_success</c> / <c>deployment_failed</c> on <c>/v2/events</c> (opened
/// before the change is sent, so no outcome is missed) and polls <c>/v2/deployments</c> for progress. When the event
/// stream is unavailable, a deployment that leaves the list counts as done.
/// </summary>
internal sealed class DeploymentWatch : IAsyncDisposable
{
    private readonly Session _session;
    private readonly CancellationTokenSource _cts;
    private readonly ConcurrentDictionary<string, (bool Ok, string? Reason)> _outcomes = new(StringComparer.Ordinal);
    private readonly Task _reader;
    private readonly TaskCompletionSource<bool> _attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private DeploymentWatch(Session session, CancellationToken cancellationToken)
    {
        _session = session;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _reader = Task.Run(ReadAsync, CancellationToken.None);
    }

    /// <summary>Opens the event stream and waits (up to 5 s) until it is attached.</summary>
    public static async Task<DeploymentWatch> StartAsync(Session session, CancellationToken cancellationToken)
    {
        var watch = new DeploymentWatch(session, cancellationToken);
        await Task.WhenAny(watch._attached.Task, Task.Delay(TimeSpan.FromSeconds(5), cancellationToken)).ConfigureAwait(false);
        return watch;
    }

    private bool StreamAttached => _attached.Task.IsCompletedSuccessfully && _attached.Task.Result;

    private async Task ReadAsync()
    {
        try
        {
            using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            _session.Authorize(http);
            var client = new AppsClient(http, _session.Master);
            await foreach (var evt in client.StreamEventsAsync(["deployment_success", "deployment_failed"], _cts.Token).ConfigureAwait(false))
            {
                if (evt.EventType == "event_stream_attached")
                {
                    _attached.TrySetResult(true);
                    continue;
                }

                var data = JsonNode.Parse(evt.Data) as JsonObject;
                if ((string?)data?["id"] is { } id)
                {
                    _outcomes[id] = (evt.EventType == "deployment_success", (string?)data["reason"]);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or IOException or System.Text.Json.JsonException or DatacenterOs.Kernel.Contracts.ApiException)
        {
        }
        finally
        {
            _attached.TrySetResult(false);
        }
    }

    /// <summary>Shows progress until the deployment ends; 0 on success, throws <see cref="UserException"/> on failure or time-out.</summary>
    public async Task<int> WaitAsync(string deploymentId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_session.Context.Interactive)
        {
            (bool Ok, string? Reason) result = default;
            await _session.Console.Status().StartAsync($"deployment {deploymentId}", async status =>
            {
                result = await LoopAsync(deploymentId, timeout, text => status.Status(Markup.Escape(text)), cancellationToken).ConfigureAwait(false);
            }).ConfigureAwait(false);
            return Finish(deploymentId, result.Ok, result.Reason);
        }

        var outcome = await LoopAsync(deploymentId, timeout, _session.Line, cancellationToken).ConfigureAwait(false);
        return Finish(deploymentId, outcome.Ok, outcome.Reason);
    }

    private async Task<(bool Ok, string? Reason)> LoopAsync(string id, TimeSpan timeout, Action<string> show, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var poll = TimeSpan.FromSeconds(_session.Context.PollSeconds);
        string? last = null;
        TimeSpan? goneAt = null;
        while (true)
        {
            if (_outcomes.TryGetValue(id, out var outcome))
            {
                return outcome;
            }

            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > timeout)
            {
                throw new UserException($"deployment {id} still running after {(int)timeout.TotalSeconds} s (see 'dcos deployment watch {id}')");
            }

            var deployments = await _session.Apps.ListDeploymentsAsync(cancellationToken).ConfigureAwait(false);
            var deployment = deployments.FirstOrDefault(d => d.Id == id);
            if (deployment is null)
            {
                // Gone from the list: the outcome event follows at once when the stream is attached.
                goneAt ??= elapsed;
                if (!StreamAttached || elapsed - goneAt > TimeSpan.FromSeconds(3))
                {
                    return (true, null);
                }
            }
            else
            {
                var text = await ProgressAsync(deployment, cancellationToken).ConfigureAwait(false);
                if (text != last)
                {
                    show(text);
                    last = text;
                }
            }

            await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> ProgressAsync(DeploymentDto deployment, CancellationToken cancellationToken)
    {
        var actions = string.Join(", ", deployment.CurrentActions.Select(a => $"{a.Action} {a.App}"));
        var apps = new List<string>();
        foreach (var appId in deployment.AffectedApps.Take(5))
        {
            try
            {
                var app = await _session.Apps.GetAppAsync(appId, cancellationToken).ConfigureAwait(false);
                apps.Add($"{app.Id} {app.TasksRunning}/{app.Instances} running" + (app.TasksHealthy + app.TasksUnhealthy > 0 ? $", {app.TasksHealthy} healthy" : ""));
            }
            catch (DatacenterOs.Kernel.Contracts.ApiException)
            {
                apps.Add($"{appId} removed");
            }
        }

        return $"step {deployment.CurrentStep}/{deployment.TotalSteps}: {actions}" + (apps.Count > 0 ? " — " + string.Join("; ", apps) : "");
    }

    private int Finish(string id, bool ok, string? reason)
    {
        if (!ok)
        {
            throw new UserException($"deployment {id} failed: {reason ?? "no reason given"}");
        }

        _session.Line($"deployment {id} succeeded");
        return DcosCli.Ok;
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        try
        {
            await _reader.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _cts.Dispose();
    }
}
