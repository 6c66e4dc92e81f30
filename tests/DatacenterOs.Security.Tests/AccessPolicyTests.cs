
namespace DatacenterOs.Security.Tests;

/// <summary>The access decision as a pure function: families, scopes, the permission a denial names.</summary>
public sealed class AccessPolicyTests
{
    private static readonly Grants Viewer = new("v", ["viewer"]);
    private static readonly Grants Operator = new("op", ["operator"]);
    private static readonly Grants TeamA = new("a", ["viewer", "apps:/team-a/*", "jobs:owner:a@example.com"]);
    private static readonly Grants Scheduler = new("s", ["scheduler"], ["analytics"]);
    private static readonly Grants Nobody = new("n", []);

    [Theory]
    [InlineData("GET", "/health")]
    [InlineData("GET", "/ping")]
    [InlineData("GET", "/login")]
    [InlineData("POST", "/login")]
    [InlineData("GET", "/lib/bootstrap/css/bootstrap.min.css")]
    public void Open_paths_need_nobody(string method, string path) =>
        Assert.True(AccessPolicy.Decide(new AccessRequest(method, path), null).Allowed);

    [Theory]
    [InlineData("GET", "/v2/apps")]
    [InlineData("GET", "/master/state")]
    [InlineData("POST", "/api/v1")]
    [InlineData("POST", "/api/v1/scheduler")]
    [InlineData("POST", "/api/v1/agent")]
    [InlineData("GET", "/")]
    [InlineData("POST", "/hubs/cluster/negotiate")]
    [InlineData("GET", "/v1/discovery/services")]
    [InlineData("POST", "/v9/anything")]
    [InlineData("GET", "/health/../v2/apps")]
    public void Everything_else_needs_authentication(string method, string path)
    {
        var decision = AccessPolicy.Decide(new AccessRequest(method, path), null);
        Assert.False(decision.Allowed);
        Assert.True(decision.Authenticate);
    }

    [Theory]
    [InlineData("GET", "/v2/apps")]
    [InlineData("GET", "/v1/scheduler/jobs")]
    [InlineData("GET", "/scheduler/jobs")]
    [InlineData("GET", "/master/state")]
    [InlineData("GET", "/metrics")]
    [InlineData("GET", "/v1/discovery/services")]
    [InlineData("POST", "/hubs/cluster/negotiate")]
    public void Viewer_reads_everything(string method, string path)
    {
        Assert.True(AccessPolicy.Decide(new AccessRequest(method, path), Viewer).Allowed);
        Assert.Equal("viewer", AccessPolicy.Decide(new AccessRequest(method, path), Nobody).MissingPermission);
    }

    [Theory]
    [InlineData("POST", "/v2/apps")]
    [InlineData("DELETE", "/v2/apps/web")]
    [InlineData("DELETE", "/v2/deployments/d1")]
    [InlineData("POST", "/v2/tasks/delete")]
    [InlineData("PUT", "/v1/scheduler/job/x")]
    [InlineData("POST", "/v1/discovery/register")]
    [InlineData("POST", "/api/v2/whatever")]
    [InlineData("POST", "/v9/new-family")]
    public void Viewer_changes_nothing_and_unknown_writes_need_operator(string method, string path)
    {
        var request = new AccessRequest(method, path) { AppIds = ["/web"], JobOwners = ["x@example.com"] };
        var denied = AccessPolicy.Decide(request, Viewer);
        Assert.False(denied.Allowed);
        Assert.False(denied.Authenticate);
        Assert.True(AccessPolicy.Decide(request, Operator).Allowed);
    }

    [Fact]
    public void Unknown_writes_name_operator() =>
        Assert.Equal("operator", AccessPolicy.Decide(new AccessRequest("POST", "/v1/discovery/register"), TeamA).MissingPermission);

    [Theory]
    [InlineData("GET_STATE", true)]
    [InlineData("GET_ROLES", true)]
    [InlineData("SUBSCRIBE", true)]
    [InlineData("UPDATE_WEIGHTS", false)]
    [InlineData("RESERVE_RESOURCES", false)]
    [InlineData("DRAIN_AGENT", false)]
    [InlineData("SOME_NEW_CALL", false)]
    [InlineData(null, false)]
    public void Operator_calls_that_only_read_need_viewer_the_rest_operator(string? type, bool viewerMay)
    {
        var decision = AccessPolicy.Decide(new AccessRequest("POST", "/api/v1") { CallType = type }, Viewer);
        Assert.Equal(viewerMay, decision.Allowed);
        if (!viewerMay)
        {
            Assert.Equal("operator", decision.MissingPermission);
        }
    }

    [Theory]
    [InlineData("POST", "/v2/apps", "/team-a/web", true)]
    [InlineData("POST", "/v2/apps", "/team-b/web", false)]
    [InlineData("POST", "/v2/apps", "/team-a", true)]
    [InlineData("POST", "/v2/apps", "/team-ab/web", false)]
    [InlineData("POST", "/v2/apps", "/team-a/../team-b/web", false)]
    [InlineData("POST", "/v2/apps", "/team-a/%2e%2e/x", false)]
    [InlineData("PUT", "/v2/apps/team-a/web", "/team-a/web", true)]
    [InlineData("POST", "/v2/apps/team-a/web/restart", "/team-a/web", true)]
    [InlineData("DELETE", "/v2/queue/team-a/web/delay", "/team-a/web", true)]
    [InlineData("DELETE", "/v2/groups/team-b", "/team-b", false)]
    public void App_scopes_cover_ids_under_their_prefix(string method, string path, string id, bool allowed)
    {
        var decision = AccessPolicy.Decide(new AccessRequest(method, path) { AppIds = [id] }, TeamA);
        Assert.Equal(allowed, decision.Allowed);
        if (!allowed)
        {
            Assert.Equal("apps:" + id, decision.MissingPermission);
        }
    }

    [Fact]
    public void A_group_change_needs_every_nested_id_covered()
    {
        var decision = AccessPolicy.Decide(new AccessRequest("POST", "/v2/groups") { AppIds = ["/team-a", "/team-a/web", "/team-b/db"] }, TeamA);
        Assert.Equal("apps:/team-b/db", decision.MissingPermission);
    }

    [Fact]
    public void An_app_change_whose_ids_could_not_be_read_needs_operator() =>
        Assert.Equal("operator", AccessPolicy.Decide(new AccessRequest("POST", "/v2/apps"), TeamA).MissingPermission);

    [Theory]
    [InlineData("/v2/apps/team-a/web", "/team-a/web")]
    [InlineData("/v2/apps/team-a/web/restart", "/team-a/web")]
    [InlineData("/v2/apps/team-a/web/tasks/t1", "/team-a/web")]
    [InlineData("/v2/apps/team-a/web/versions/2024", "/team-a/web")]
    [InlineData("/v2/groups/team-a", "/team-a")]
    [InlineData("/v2/groups", null)]
    [InlineData("/v2/queue/team-a/web/delay", "/team-a/web")]
    [InlineData("/v2/apps", null)]
    public void App_ids_are_read_from_paths(string path, string? id) =>
        Assert.Equal(id, AccessPolicy.AppIdInPath(path));

    [Theory]
    [InlineData("web", "/", "/web")]
    [InlineData("web", "/team-a", "/team-a/web")]
    [InlineData("/x/y", "/team-a", "/x/y")]
    [InlineData("", "/team-a", "/team-a")]
    public void Relative_ids_resolve_against_their_group(string id, string parent, string expected) =>
        Assert.Equal(expected, AccessPolicy.ResolveAppId(id, parent));

    [Theory]
    [InlineData(new[] { "a@example.com" }, true)]
    [InlineData(new[] { "A@Example.com" }, true)]
    [InlineData(new[] { "a@example.com", "b@example.com" }, false)]
    [InlineData(new[] { "b@example.com, a@example.com" }, true)]
    [InlineData(new string?[] { null }, false)]
    [InlineData(new[] { "" }, false)]
    public void Job_scopes_cover_their_owner(string?[] owners, bool allowed)
    {
        var decision = AccessPolicy.Decide(new AccessRequest("POST", "/v1/scheduler/iso8601") { JobOwners = owners }, TeamA);
        Assert.Equal(allowed, decision.Allowed);
    }

    [Fact]
    public void Taking_over_another_owners_job_names_that_owner()
    {
        var decision = AccessPolicy.Decide(new AccessRequest("PUT", "/scheduler/job/nightly") { JobOwners = ["b@example.com"] }, TeamA);
        Assert.Equal("jobs:owner:b@example.com", decision.MissingPermission);
        Assert.Contains("jobs:owner:b@example.com", decision.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Owner_patterns_may_end_in_a_wildcard()
    {
        var grants = new Grants("t", ["jobs:owner:*@team-a.example.com"]);
        Assert.True(grants.CoversJobOwner("x@team-a.example.com"));
        Assert.False(grants.CoversJobOwner("x@team-b.example.com"));
    }

    [Theory]
    [InlineData(new[] { "analytics" }, true)]
    [InlineData(new[] { "analytics", "web" }, false)]
    [InlineData(new[] { "*" }, false)]
    public void Frameworks_subscribe_only_with_their_roles(string[] roles, bool allowed)
    {
        var decision = AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/scheduler") { CallType = "SUBSCRIBE", SubscribeRoles = roles }, Scheduler);
        Assert.Equal(allowed, decision.Allowed);
        if (!allowed)
        {
            Assert.StartsWith("role:", decision.MissingPermission, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Scheduler_calls_need_the_scheduler_permission()
    {
        Assert.Equal("scheduler", AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/scheduler") { CallType = "ACCEPT" }, Viewer).MissingPermission);
        Assert.True(AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/scheduler") { CallType = "ACCEPT" }, Scheduler).Allowed);
        Assert.True(AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/scheduler") { CallType = "SUBSCRIBE", SubscribeRoles = ["any"] }, Operator).Allowed);
    }

    [Fact]
    public void The_agent_api_needs_the_agent_permission()
    {
        Assert.True(AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/agent"), Operator).Allowed);
        Assert.Equal("agent", AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/agent"), Viewer).MissingPermission);
        Assert.True(AccessPolicy.Decide(new AccessRequest("POST", "/api/v1/agent"), new Grants("agent", ["agent"])).Allowed);
    }

    [Fact]
    public void Dashboard_form_posts_need_viewer_only_on_component_pages()
    {
        Assert.True(AccessPolicy.Decide(new AccessRequest("POST", "/apps/new") { IsUiPage = true }, Viewer).Allowed);
        Assert.Equal("operator", AccessPolicy.Decide(new AccessRequest("POST", "/apps/new"), Viewer).MissingPermission);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("apps:team-a")]
    [InlineData("apps:/team-a/*/x")]
    [InlineData("apps:/team-a/../b/*")]
    [InlineData("jobs:owner:")]
    public void Unknown_permissions_are_refused_with_their_text(string permission)
    {
        var e = Assert.Throws<FormatException>(() => new Grants("x", [permission]));
        Assert.Contains(permission, e.Message, StringComparison.Ordinal);
    }
}
