using Microsoft.AspNetCore.Http;

namespace DatacenterOs.Web.Backend;

/// <summary>
/// What the signed-in user may change, so pages show only the actions the APIs would allow (the APIs still decide:
/// hiding is a courtesy, not the check). The host registers one when authentication is on; without it every action
/// shows.
/// </summary>
public interface IDashboardPermissions
{
    /// <summary>True when the user of <paramref name="http"/> may change the app or group <paramref name="appId"/> (empty: some app).</summary>
    bool MayChangeApp(HttpContext? http, string appId);

    /// <summary>True when the user may create or change a job owned by <paramref name="owner"/> (null: any owner they hold).</summary>
    bool MayChangeJob(HttpContext? http, string? owner);

    /// <summary>True when the user holds <c>operator</c> (deployments, weights, quota).</summary>
    bool MayOperate(HttpContext? http);
}

/// <summary>Every action allowed (authentication off).</summary>
internal sealed class AllowAllPermissions : IDashboardPermissions
{
    public bool MayChangeApp(HttpContext? http, string appId) => true;

    public bool MayChangeJob(HttpContext? http, string? owner) => true;

    public bool MayOperate(HttpContext? http) => true;
}
