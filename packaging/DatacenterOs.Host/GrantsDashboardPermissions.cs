using DatacenterOs.Security;
using DatacenterOs.Web.Backend;

namespace DatacenterOs.Host;

/// <summary>The dashboard's view of the auth file: which actions to show the signed-in user.</summary>
internal sealed class GrantsDashboardPermissions(AuthStore store) : IDashboardPermissions
{
    public bool MayChangeApp(HttpContext? http, string appId)
    {
        var grants = Grants(http);
        return grants is not null && (grants.Operator || (appId.Length == 0 ? grants.AppPrefixes.Count > 0 : grants.CoversApp(appId)));
    }

    public bool MayChangeJob(HttpContext? http, string? owner)
    {
        var grants = Grants(http);
        return grants is not null && (grants.Operator || (owner is null ? grants.JobOwners.Count > 0 : grants.CoversJobOwner(owner)));
    }

    public bool MayOperate(HttpContext? http) => Grants(http)?.Operator == true;

    private Grants? Grants(HttpContext? http) =>
        http?.User.Identity is { IsAuthenticated: true, Name: { } name } ? store.GrantsOf(name) : null;
}
