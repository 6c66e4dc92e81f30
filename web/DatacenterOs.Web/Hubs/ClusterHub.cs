using DatacenterOs.Web.Backend;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Hosting;

namespace DatacenterOs.Web.Hubs;

/// <summary>
/// SignalR hub at <c>/hubs/cluster</c>. Clients call <see cref="Subscribe"/> with the topics they show
/// (<c>cluster</c>, <c>apps</c>, <c>deployments</c>, <c>jobs</c>, <c>allocation</c>, <c>discovery</c>: endpoints or
/// model states changed; details at <c>/v1/discovery</c>) and receive
/// <c>changed</c> (<c>{ "topic": "apps", "at": "…" }</c>) and, for <c>allocation</c>, one <c>allocation</c>
/// sample a second (<see cref="AllocationSample"/>).
/// </summary>
public sealed class ClusterHub : Hub
{
    /// <summary>Topics a client may subscribe to.</summary>
    public static readonly IReadOnlyList<string> Topics = ["cluster", "apps", "deployments", "jobs", "allocation", "discovery"];

    private readonly ClusterFeed _feed;

    /// <summary>Creates the hub over the dashboard's feed.</summary>
    public ClusterHub(ClusterFeed feed) => _feed = feed;

    /// <summary>Adds the caller to <paramref name="topics"/>; unknown topics are ignored. Returns the topics joined.</summary>
    public async Task<string[]> Subscribe(string[] topics)
    {
        ArgumentNullException.ThrowIfNull(topics);
        var joined = topics.Where(Topics.Contains).Distinct(StringComparer.Ordinal).ToArray();
        foreach (var topic in joined)
        {
            await Groups.AddToGroupAsync(Context.ConnectionId, topic).ConfigureAwait(false);
        }

        return joined;
    }

    /// <inheritdoc />
    public override Task OnConnectedAsync()
    {
        Context.Items["watch"] = _feed.Watch();
        return base.OnConnectedAsync();
    }

    /// <inheritdoc />
    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.TryGetValue("watch", out var watch) && watch is IDisposable d)
        {
            d.Dispose();
        }

        return base.OnDisconnectedAsync(exception);
    }
}

/// <summary>Forwards the feed's changes and samples to the hub's groups.</summary>
internal sealed class ClusterHubBroadcaster(ClusterFeed feed, IHubContext<ClusterHub> hub, TimeProvider time) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        feed.Changed += OnChangeAsync;
        feed.Sampled += OnSample;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        feed.Sampled -= OnSample;
        feed.Changed -= OnChangeAsync;
        return Task.CompletedTask;
    }

    private async Task OnChangeAsync(ChangeKinds kinds)
    {
        foreach (var (kind, topic) in new[] { (ChangeKinds.Cluster, "cluster"), (ChangeKinds.Apps, "apps"), (ChangeKinds.Deployments, "deployments"), (ChangeKinds.Jobs, "jobs"), (ChangeKinds.Discovery, "discovery") })
        {
            if ((kinds & kind) != 0)
            {
                await hub.Clients.Group(topic).SendAsync("changed", new { topic, at = time.GetUtcNow() }).ConfigureAwait(false);
            }
        }
    }

    private void OnSample(AllocationSample sample) => _ = hub.Clients.Group("allocation").SendAsync("allocation", sample);
}
