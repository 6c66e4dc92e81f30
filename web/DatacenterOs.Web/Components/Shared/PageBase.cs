using DatacenterOs.Web.Backend;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;

namespace DatacenterOs.Web.Components.Shared;

/// <summary>
/// A dashboard page rendered on the server for each request: loads its data from the backends before rendering
/// (<see cref="LoadAsync"/>), handles its action forms (posted with <c>op</c> and other fields) and names the
/// live topics (<see cref="Topics"/>) whose pushes over <c>/hubs/cluster</c> make the browser fetch the page again.
/// </summary>
public abstract class PageBase : ComponentBase
{
    /// <summary>The clock (for "5 s ago").</summary>
    [Inject]
    public TimeProvider Time { get; set; } = default!;

    /// <summary>The request (null when rendered outside HTTP, e.g. in tests).</summary>
    [CascadingParameter]
    public HttpContext? HttpContext { get; set; }

    /// <summary>True when the user may change the app <paramref name="appId"/> (scale, restart, destroy, kill).</summary>
    protected bool MayChangeApp(string appId) => Permissions?.MayChangeApp(HttpContext, appId) ?? true;

    /// <summary>What the signed-in user may change; null (everything) when rendered outside HTTP or without a host policy.</summary>
    private IDashboardPermissions? Permissions => HttpContext?.RequestServices.GetService(typeof(IDashboardPermissions)) as IDashboardPermissions;

    /// <summary>True when the user may change a job of <paramref name="owner"/>.</summary>
    protected bool MayChangeJob(string? owner) => Permissions?.MayChangeJob(HttpContext, owner) ?? true;

    /// <summary>True when the user holds <c>operator</c>.</summary>
    protected bool MayOperate => Permissions?.MayOperate(HttpContext) ?? true;

    /// <summary>Live topics the page shows (<c>cluster</c>, <c>apps</c>, <c>deployments</c>, <c>jobs</c>), space-separated.</summary>
    protected abstract string Topics { get; }

    /// <summary>The last load's error (null after a successful load).</summary>
    protected string? LoadError { get; private set; }

    /// <summary>True once a load has succeeded.</summary>
    protected bool Loaded { get; private set; }

    /// <summary>Outcome of the action posted with this request, if any.</summary>
    protected ApiResult? Action { get; set; }

    /// <summary>Text shown when <see cref="Action"/> succeeded.</summary>
    protected string? ActionText { get; set; }

    /// <summary>Cancelled when the request is aborted.</summary>
    protected CancellationToken Aborted => HttpContext?.RequestAborted ?? CancellationToken.None;

    /// <summary>Loads the page's data (throw <see cref="BackendException"/> to show an error).</summary>
    protected abstract Task LoadAsync(CancellationToken cancellationToken);

    /// <inheritdoc />
    protected override async Task OnInitializedAsync() => await ReloadAsync().ConfigureAwait(true);

    /// <summary>Loads again (after an action), keeping the previous data on error.</summary>
    protected async Task ReloadAsync()
    {
        try
        {
            await LoadAsync(Aborted).ConfigureAwait(true);
            LoadError = null;
            Loaded = true;
        }
        catch (BackendException e)
        {
            LoadError = e.Message;
        }
    }

    /// <summary>A posted form field ("" when absent or not a form post).</summary>
    protected string Field(string name) =>
        HttpContext is { Request.HasFormContentType: true } ctx && ctx.Request.Form.TryGetValue(name, out var v) ? v.ToString() : "";

    /// <summary>Runs an action, records its outcome and loads the page again.</summary>
    protected async Task RunAsync(Func<Task<ApiResult>> action, string success)
    {
        ArgumentNullException.ThrowIfNull(action);
        Action = await action().ConfigureAwait(true);
        ActionText = success;
        await ReloadAsync().ConfigureAwait(true);
    }
}
