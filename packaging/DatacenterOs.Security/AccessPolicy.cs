namespace DatacenterOs.Security;

/// <summary>
/// What a principal may do, parsed from its permission strings in the auth file:
/// <list type="bullet">
/// <item><c>viewer</c>: read everything (GET/HEAD on every API and the UI, read-only operator calls, the SignalR hub).</item>
/// <item><c>operator</c>: everything.</item>
/// <item><c>apps:/team-a/*</c>: change apps, groups and their tasks whose id is <c>/team-a</c> or below it
/// (<c>apps:/team-a/web</c>: that app only; <c>apps:/*</c>: every app).</item>
/// <item><c>jobs:owner:team-a@example.com</c>: change jobs whose Chronos <c>owner</c> names that owner (a <c>*</c> at
/// the start or end matches any prefix or suffix: <c>jobs:owner:*@team-a.example.com</c>).</item>
/// <item><c>scheduler</c>: use the Mesos scheduler API <c>/api/v1/scheduler</c>, subscribing only with the roles in
/// <see cref="Roles"/> (<c>*</c> = any role).</item>
/// <item><c>agent</c>: use the agent API <c>/api/v1/agent</c> (agents authenticate with the shared secret or as a
/// principal holding this permission).</item>
/// </list>
/// </summary>
public sealed record Grants
{
    /// <summary>Parses permission strings.</summary>
    /// <param name="name">The principal's name.</param>
    /// <param name="permissions">Permission strings (see the type's summary).</param>
    /// <param name="roles">Roles a framework authenticated as this principal may subscribe with.</param>
    /// <exception cref="FormatException">A permission string is not one of the forms above (the message names it).</exception>
    public Grants(string name, IEnumerable<string> permissions, IEnumerable<string>? roles = null)
    {
        ArgumentNullException.ThrowIfNull(permissions);
        Name = name;
        var apps = new List<string>();
        var owners = new List<string>();
        foreach (var raw in permissions)
        {
            var p = (raw ?? "").Trim();
            switch (p)
            {
                case "viewer":
                    Viewer = true;
                    break;
                case "operator":
                    Operator = true;
                    break;
                case "scheduler":
                    Scheduler = true;
                    break;
                case "agent":
                    Agent = true;
                    break;
                default:
                    if (p.StartsWith("apps:/", StringComparison.Ordinal))
                    {
                        var prefix = p["apps:".Length..];
                        prefix = prefix.EndsWith("/*", StringComparison.Ordinal) ? prefix[..^2] : prefix.TrimEnd('/');
                        if (prefix.Contains('*', StringComparison.Ordinal) || AccessPolicy.HasDotSegment(prefix))
                        {
                            throw new FormatException($"permission '{p}': an app prefix is an absolute id, optionally ending in '/*'");
                        }

                        apps.Add(prefix);
                    }
                    else if (p.StartsWith("jobs:owner:", StringComparison.Ordinal) && p.Length > "jobs:owner:".Length)
                    {
                        owners.Add(p["jobs:owner:".Length..]);
                    }
                    else
                    {
                        throw new FormatException($"unknown permission '{p}': use viewer, operator, scheduler, agent, apps:/PREFIX/* or jobs:owner:OWNER");
                    }

                    break;
            }
        }

        AppPrefixes = apps;
        JobOwners = owners;
        Roles = [.. roles ?? []];
    }

    /// <summary>The principal's name.</summary>
    public string Name { get; }

    /// <summary>Holds <c>viewer</c>.</summary>
    public bool Viewer { get; }

    /// <summary>Holds <c>operator</c>.</summary>
    public bool Operator { get; }

    /// <summary>Holds <c>scheduler</c>.</summary>
    public bool Scheduler { get; }

    /// <summary>Holds <c>agent</c>.</summary>
    public bool Agent { get; }

    /// <summary>App id prefixes from <c>apps:</c> permissions, without the trailing <c>/*</c> (empty string = every app).</summary>
    public IReadOnlyList<string> AppPrefixes { get; }

    /// <summary>Owner patterns from <c>jobs:owner:</c> permissions.</summary>
    public IReadOnlyList<string> JobOwners { get; }

    /// <summary>Roles a framework may subscribe with (<c>*</c> = any).</summary>
    public IReadOnlyList<string> Roles { get; }

    /// <summary>True when some <c>apps:</c> permission covers <paramref name="appId"/> (an absolute id).</summary>
    public bool CoversApp(string appId) =>
        !AccessPolicy.HasDotSegment(appId) && appId.StartsWith('/') && !appId.Contains('%', StringComparison.Ordinal)
        && AppPrefixes.Any(p => p.Length == 0 || appId == p || appId.StartsWith(p + "/", StringComparison.Ordinal));

    /// <summary>True when some <c>jobs:owner:</c> permission matches one of the comma-separated owners in <paramref name="owner"/>.</summary>
    public bool CoversJobOwner(string? owner) =>
        owner is not null && owner.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(o => JobOwners.Any(p => OwnerMatches(o, p)));

    private static bool OwnerMatches(string owner, string pattern) =>
        pattern == "*"
        || (pattern.EndsWith('*') ? owner.StartsWith(pattern[..^1], StringComparison.OrdinalIgnoreCase)
            : pattern.StartsWith('*') ? owner.EndsWith(pattern[1..], StringComparison.OrdinalIgnoreCase)
            : string.Equals(owner, pattern, StringComparison.OrdinalIgnoreCase));
}

/// <summary>Which API family a request belongs to (by path prefix; unknown paths fall into the strictest family).</summary>
public enum AccessFamily
{
    /// <summary><c>/health</c>, <c>/ping</c>, the login page and static files: open to anyone.</summary>
    Open,

    /// <summary><c>/api/v1/agent</c>.</summary>
    Agent,

    /// <summary><c>/api/v1/scheduler</c>.</summary>
    Scheduler,

    /// <summary><c>POST /api/v1</c> (operator calls).</summary>
    Operator,

    /// <summary>Changes under <c>/v2</c> scoped to app ids.</summary>
    AppsWrite,

    /// <summary>Changes under <c>/v1/scheduler</c> or <c>/scheduler</c> scoped to job owners.</summary>
    JobsWrite,

    /// <summary>Any read: GET/HEAD anywhere, the SignalR hub, read-only operator calls.</summary>
    Read,

    /// <summary>A form post to a dashboard page (the page's own API calls are authorized again as the same user).</summary>
    UiForm,

    /// <summary>Anything else that changes state: operator only (deny by default).</summary>
    OperatorOnly,
}

/// <summary>What the policy needs to know about a request besides method and path (filled in by the shell).</summary>
/// <param name="Method">HTTP method, upper case.</param>
/// <param name="Path">Request path as received (e.g. <c>/v2/apps/team-a/web</c>).</param>
public sealed record AccessRequest(string Method, string Path)
{
    /// <summary>The endpoint is a dashboard page (a Razor component).</summary>
    public bool IsUiPage { get; init; }

    /// <summary><c>type</c> of an operator call (<c>POST /api/v1</c>), or of a scheduler call.</summary>
    public string? CallType { get; init; }

    /// <summary>Roles a scheduler SUBSCRIBE asks for (<c>framework_info.roles</c> plus <c>role</c>).</summary>
    public IReadOnlyList<string>? SubscribeRoles { get; init; }

    /// <summary>Absolute app/group ids a <c>/v2</c> change touches (from path and body); null when they could not be read.</summary>
    public IReadOnlyList<string>? AppIds { get; init; }

    /// <summary>Owners of the jobs a change touches: the owner in the body and the owner of the job already stored (null = none).</summary>
    public IReadOnlyList<string?>? JobOwners { get; init; }
}

/// <summary>The policy's answer.</summary>
/// <param name="Allowed">True when the request may proceed.</param>
/// <param name="Authenticate">Denied because nobody is authenticated (answer 401, not 403).</param>
/// <param name="MissingPermission">The permission that would allow it, e.g. <c>apps:/team-b/web</c> or <c>operator</c>.</param>
/// <param name="Message">One line for the 403 body.</param>
public sealed record AccessDecision(bool Allowed, bool Authenticate, string? MissingPermission, string? Message)
{
    /// <summary>Allowed.</summary>
    public static AccessDecision Allow { get; } = new(true, false, null, null);

    /// <summary>Nobody is authenticated: 401.</summary>
    public static AccessDecision Unauthenticated { get; } = new(false, true, null, "authentication required: send HTTP Basic credentials or a bearer token");

    /// <summary>Denied for want of <paramref name="permission"/>.</summary>
    public static AccessDecision Deny(Grants who, AccessRequest request, string permission, string? detail = null) =>
        new(false, false, permission, $"principal '{who.Name}' lacks permission '{permission}' for {request.Method} {request.Path}{(detail is null ? "" : ": " + detail)}");
}

/// <summary>
/// The access decision: a pure function of the request (as the shell read it) and the principal's grants. Deny by
/// default: paths are grouped into families by prefix, only <c>/health</c>, <c>/ping</c>, the login page and static
/// files are open, every read needs <c>viewer</c>, and any change outside the scoped families needs <c>operator</c>,
/// so endpoints added later are covered without changes here.
/// </summary>
public static class AccessPolicy
{
    /// <summary>Operator calls that only read (everything else on <c>POST /api/v1</c> needs <c>operator</c>).</summary>
    public static IReadOnlySet<string> ReadOnlyOperatorCalls { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "GET_HEALTH", "GET_FLAGS", "GET_VERSION", "GET_METRICS", "GET_STATE", "GET_AGENTS", "GET_FRAMEWORKS", "GET_EXECUTORS",
        "GET_TASKS", "GET_ROLES", "GET_WEIGHTS", "GET_QUOTA", "GET_MASTER", "GET_MAINTENANCE_STATUS", "GET_MAINTENANCE_SCHEDULE",
        "GET_OPERATIONS", "SUBSCRIBE",
    };

    private static readonly string[] StaticPrefixes = ["/lib/", "/css/", "/js/", "/_framework/", "/_content/"];

    /// <summary>The family of a request from its method and path alone.</summary>
    public static AccessFamily Classify(string method, string path, bool isUiPage = false)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(path);
        var read = method is "GET" or "HEAD";
        var p = path.Length > 1 ? path.TrimEnd('/') : path;
        if (read && (Is(p, "/health") || Is(p, "/ping") || Is(p, "/login") || Is(p, "/favicon.ico")
            || StaticPrefixes.Any(s => p.StartsWith(s, StringComparison.OrdinalIgnoreCase))
            || (p.EndsWith(".css", StringComparison.OrdinalIgnoreCase) && p.Count(c => c == '/') == 1)))
        {
            return AccessFamily.Open;
        }

        if (method == "POST" && (Is(p, "/login") || Is(p, "/logout")))
        {
            return AccessFamily.Open;
        }

        if (Is(p, "/api/v1/agent") || Under(p, "/api/v1/agent"))
        {
            return AccessFamily.Agent;
        }

        if (Is(p, "/api/v1/scheduler") || Under(p, "/api/v1/scheduler"))
        {
            return AccessFamily.Scheduler;
        }

        if (Under(p, "/hubs"))
        {
            return AccessFamily.Read;
        }

        if (read)
        {
            return AccessFamily.Read;
        }

        if (Is(p, "/api/v1") && method == "POST")
        {
            return AccessFamily.Operator;
        }

        if (Under(p, "/v2"))
        {
            return AppsWritePath(method, p) ? AccessFamily.AppsWrite : AccessFamily.OperatorOnly;
        }

        if (Under(p, "/v1/scheduler") || Under(p, "/scheduler"))
        {
            return JobName(method, p) is not null || JobBodyPath(method, p) ? AccessFamily.JobsWrite : AccessFamily.OperatorOnly;
        }

        return isUiPage && method == "POST" ? AccessFamily.UiForm : AccessFamily.OperatorOnly;
    }

    /// <summary>
    /// Decides a request. <paramref name="principal"/> is null when nobody authenticated; the answer is then 401
    /// for anything but the open family.
    /// </summary>
    public static AccessDecision Decide(AccessRequest request, Grants? principal)
    {
        ArgumentNullException.ThrowIfNull(request);
        var family = Classify(request.Method, request.Path, request.IsUiPage);
        if (family == AccessFamily.Open)
        {
            return AccessDecision.Allow;
        }

        if (principal is null)
        {
            return AccessDecision.Unauthenticated;
        }

        var who = principal;
        switch (family)
        {
            case AccessFamily.Read:
            case AccessFamily.UiForm:
                return who.Viewer || who.Operator ? AccessDecision.Allow : AccessDecision.Deny(who, request, "viewer");
            case AccessFamily.Agent:
                return who.Agent || who.Operator ? AccessDecision.Allow : AccessDecision.Deny(who, request, "agent");
            case AccessFamily.Scheduler:
                if (!who.Scheduler && !who.Operator)
                {
                    return AccessDecision.Deny(who, request, "scheduler");
                }

                if (request.CallType == "SUBSCRIBE" && !(who.Operator && who.Roles.Count == 0))
                {
                    var forbidden = (request.SubscribeRoles ?? ["*"]).FirstOrDefault(r => !who.Roles.Contains("*") && !who.Roles.Contains(r));
                    if (forbidden is not null)
                    {
                        return AccessDecision.Deny(who, request, $"role:{forbidden}", $"may subscribe only with roles [{string.Join(", ", who.Roles)}]");
                    }
                }

                return AccessDecision.Allow;
            case AccessFamily.Operator:
                if (request.CallType is { } type && ReadOnlyOperatorCalls.Contains(type))
                {
                    return who.Viewer || who.Operator ? AccessDecision.Allow : AccessDecision.Deny(who, request, "viewer");
                }

                return who.Operator ? AccessDecision.Allow : AccessDecision.Deny(who, request, "operator", request.CallType is null ? null : $"operator call {request.CallType}");
            case AccessFamily.AppsWrite:
                if (who.Operator)
                {
                    return AccessDecision.Allow;
                }

                if (request.AppIds is not { Count: > 0 } ids)
                {
                    return AccessDecision.Deny(who, request, "operator", "the app ids it changes could not be read");
                }

                var uncovered = ids.FirstOrDefault(id => !who.CoversApp(id));
                return uncovered is null ? AccessDecision.Allow : AccessDecision.Deny(who, request, "apps:" + uncovered);
            case AccessFamily.JobsWrite:
                if (who.Operator)
                {
                    return AccessDecision.Allow;
                }

                if (request.JobOwners is not { Count: > 0 } owners)
                {
                    return AccessDecision.Deny(who, request, "operator", "the job's owner could not be read");
                }

                foreach (var owner in owners)
                {
                    if (!who.CoversJobOwner(owner))
                    {
                        return string.IsNullOrWhiteSpace(owner)
                            ? AccessDecision.Deny(who, request, "operator", "a job without an owner")
                            : AccessDecision.Deny(who, request, "jobs:owner:" + owner.Split(',')[0].Trim());
                    }
                }

                return AccessDecision.Allow;
            default:
                return who.Operator ? AccessDecision.Allow : AccessDecision.Deny(who, request, "operator");
        }
    }

    /// <summary>
    /// The app or group id a <c>/v2</c> change names in its path (e.g. <c>/team-a/web</c> for
    /// <c>/v2/apps/team-a/web/restart</c>), or null when the path names none (<c>POST /v2/apps</c>, <c>/v2/plan</c>).
    /// Sub-resources (<c>/restart</c>, <c>/tasks/…</c>, <c>/versions</c>, <c>/delay</c>) are cut off.
    /// </summary>
    public static string? AppIdInPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var p = path.TrimEnd('/');
        foreach (var family in new[] { "/v2/apps/", "/v2/groups/", "/v2/queue/" })
        {
            if (p.StartsWith(family, StringComparison.OrdinalIgnoreCase))
            {
                var rest = "/" + p[family.Length..];
                foreach (var suffix in new[] { "/restart", "/tasks", "/versions", "/delay" })
                {
                    var at = rest.IndexOf(suffix + "/", StringComparison.Ordinal);
                    if (at < 0 && rest.EndsWith(suffix, StringComparison.Ordinal))
                    {
                        at = rest.Length - suffix.Length;
                    }

                    if (at >= 0)
                    {
                        rest = rest[..at];
                    }
                }

                return rest.Length == 0 ? "/" : rest;
            }
        }

        return null;
    }

    /// <summary>The job a Jobs change names in its path (<c>/v1/scheduler/job/{name}</c>, <c>…/job/success/{name}</c>, <c>…/task/kill/{name}</c>).</summary>
    public static string? JobName(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var p = path.TrimEnd('/');
        var rest = p.StartsWith("/v1/scheduler/", StringComparison.OrdinalIgnoreCase) ? p["/v1/scheduler".Length..]
            : p.StartsWith("/scheduler/", StringComparison.OrdinalIgnoreCase) ? p["/scheduler".Length..]
            : null;
        if (rest is null || method is "GET" or "HEAD")
        {
            return null;
        }

        foreach (var prefix in new[] { "/job/success/", "/task/kill/", "/job/" })
        {
            if (rest.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && rest.Length > prefix.Length)
            {
                var name = rest[prefix.Length..];
                return name.Contains('/', StringComparison.Ordinal) ? null : name;
            }
        }

        return null;
    }

    /// <summary>True for the Jobs changes whose body is a job definition (<c>POST|PUT /iso8601</c>, <c>/dependency</c>).</summary>
    public static bool JobBodyPath(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var p = path.TrimEnd('/');
        return method is "POST" or "PUT"
            && (p.EndsWith("/iso8601", StringComparison.OrdinalIgnoreCase) || p.EndsWith("/dependency", StringComparison.OrdinalIgnoreCase))
            && (Under(p, "/v1/scheduler") || Under(p, "/scheduler"));
    }

    /// <summary>True when a path segment is <c>.</c> or <c>..</c> (never allowed in scoped ids).</summary>
    public static bool HasDotSegment(string id) =>
        (id ?? "").Split('/').Any(s => s is "." or "..");

    /// <summary>Resolves a Marathon id against its parent group (<c>web</c> in <c>/team-a</c> is <c>/team-a/web</c>).</summary>
    public static string ResolveAppId(string id, string parent)
    {
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(parent);
        var trimmed = id.Trim();
        if (trimmed.StartsWith('/'))
        {
            return trimmed.Length > 1 ? trimmed.TrimEnd('/') : trimmed;
        }

        var basePath = parent.TrimEnd('/');
        return trimmed.Length == 0 ? (basePath.Length == 0 ? "/" : basePath) : basePath + "/" + trimmed.TrimEnd('/');
    }

    private static bool AppsWritePath(string method, string p) =>
        (Is(p, "/v2/apps") && method is "POST" or "PUT" or "PATCH")
        || p.StartsWith("/v2/apps/", StringComparison.OrdinalIgnoreCase)
        || Is(p, "/v2/groups") || p.StartsWith("/v2/groups/", StringComparison.OrdinalIgnoreCase)
        || (p.StartsWith("/v2/queue/", StringComparison.OrdinalIgnoreCase) && method == "DELETE")
        || (Is(p, "/v2/plan") && method == "POST");

    private static bool Is(string path, string literal) => string.Equals(path, literal, StringComparison.OrdinalIgnoreCase);

    private static bool Under(string path, string prefix) => Is(path, prefix) || path.StartsWith(prefix + "/", StringComparison.OrdinalIgnoreCase);
}
