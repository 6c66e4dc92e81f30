using DatacenterOs.Web.Backend;

namespace DatacenterOs.Web.Presentation;

/// <summary>An app's status as the Apps table shows it.</summary>
public enum AppStatus
{
    /// <summary>All instances launched, no deployment.</summary>
    Running,

    /// <summary>A deployment is in progress.</summary>
    Deploying,

    /// <summary>Scaled to 0.</summary>
    Suspended,

    /// <summary>Instances wait for offers that fit.</summary>
    Waiting,

    /// <summary>Launches are held back after failures (backoff).</summary>
    Delayed,
}

/// <summary>One row of the Apps table.</summary>
/// <param name="App">The app.</param>
/// <param name="Status">Its status.</param>
/// <param name="Health">Healthy / Unhealthy / Unknown text.</param>
public sealed record AppRow(AppView App, AppStatus Status, string Health);

/// <summary>One page of filtered rows.</summary>
/// <param name="Rows">Rows of the page.</param>
/// <param name="Total">Rows matching the filter.</param>
/// <param name="Page">0-based page shown.</param>
/// <param name="Pages">Number of pages (at least 1).</param>
public sealed record AppPage(IReadOnlyList<AppRow> Rows, int Total, int Page, int Pages);

/// <summary>Presentation logic of the Apps pages (status, health, filtering, paging).</summary>
public static class AppPresenter
{
    /// <summary>Status of <paramref name="app"/> given its queue entry (if waiting).</summary>
    public static AppStatus StatusOf(AppView app, QueueEntry? queue)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (queue is { Delayed: true })
        {
            return AppStatus.Delayed;
        }

        if (app.DeploymentIds.Count > 0)
        {
            return AppStatus.Deploying;
        }

        if (app.Instances == 0 && app.TasksRunning == 0)
        {
            return AppStatus.Suspended;
        }

        if (queue is { Count: > 0 } || app.TasksRunning < app.Instances)
        {
            return AppStatus.Waiting;
        }

        return AppStatus.Running;
    }

    /// <summary>Health text: <c>Healthy</c>, <c>Unhealthy</c>, <c>Unknown</c> (checks pending) or <c>No checks</c>.</summary>
    public static string HealthOf(AppView app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.HasHealthChecks)
        {
            return "No checks";
        }

        if (app.TasksUnhealthy > 0)
        {
            return "Unhealthy";
        }

        return app.TasksHealthy >= app.Instances && app.Instances > 0 ? "Healthy" : "Unknown";
    }

    /// <summary>Bootstrap colour of a status.</summary>
    public static string Color(AppStatus status) => status switch
    {
        AppStatus.Running => "success",
        AppStatus.Deploying => "info",
        AppStatus.Suspended => "secondary",
        AppStatus.Waiting => "warning",
        _ => "danger",
    };

    /// <summary>
    /// Rows whose id contains <paramref name="filter"/> (case-insensitive) and whose status is <paramref name="status"/>
    /// (null: any), sorted by id, cut to page <paramref name="page"/> of <paramref name="pageSize"/> rows.
    /// </summary>
    public static AppPage Filter(IReadOnlyList<AppView> apps, IReadOnlyList<QueueEntry> queue, string? filter, AppStatus? status, int page, int pageSize)
    {
        ArgumentNullException.ThrowIfNull(apps);
        ArgumentNullException.ThrowIfNull(queue);
        var byApp = queue.GroupBy(q => q.AppId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var rows = apps
            .Where(a => string.IsNullOrWhiteSpace(filter) || a.Id.Contains(filter.Trim(), StringComparison.OrdinalIgnoreCase))
            .Select(a => new AppRow(a, StatusOf(a, byApp.GetValueOrDefault(a.Id)), HealthOf(a)))
            .Where(r => status is null || r.Status == status)
            .OrderBy(r => r.App.Id, StringComparer.Ordinal)
            .ToList();
        var pages = Math.Max(1, (rows.Count + pageSize - 1) / pageSize);
        page = Math.Clamp(page, 0, pages - 1);
        return new AppPage([.. rows.Skip(page * pageSize).Take(pageSize)], rows.Count, page, pages);
    }
}
