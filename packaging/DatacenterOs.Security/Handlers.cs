using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatacenterOs.Security;

/// <summary>
/// The <c>DatacenterOs</c> authentication scheme: <c>Authorization: Basic</c> (principal name and secret) and
/// <c>Authorization: Bearer</c> (a principal's token, the agent secret); without an <c>Authorization</c> header the
/// dashboard's login cookie is used. Challenges answer 401 with <c>WWW-Authenticate: Basic, Bearer</c> and a JSON
/// body on APIs, and redirect to <c>/login</c> on dashboard pages.
/// </summary>
internal sealed class DcosAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AuthStore store) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "DatacenterOs";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            var cookie = await Context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            return cookie.Succeeded ? AuthenticateResult.Success(new AuthenticationTicket(cookie.Principal!, SchemeName)) : AuthenticateResult.NoResult();
        }

        string? name = null;
        if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            string decoded;
            try
            {
                decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            }
            catch (FormatException)
            {
                return AuthenticateResult.Fail("malformed Basic credentials");
            }

            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return AuthenticateResult.Fail("malformed Basic credentials");
            }

            name = store.VerifySecret(decoded[..colon], decoded[(colon + 1)..]);
        }
        else if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            name = store.VerifyToken(header[7..].Trim());
        }
        else
        {
            return AuthenticateResult.Fail("unsupported Authorization scheme: use Basic or Bearer");
        }

        return name is null
            ? AuthenticateResult.Fail("invalid credentials")
            : AuthenticateResult.Success(new AuthenticationTicket(SecurityWiring.PrincipalFor(name, SchemeName), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (!SecurityWiring.IsApiPath(Request.Path) && Request.Headers.Authorization.Count == 0)
        {
            await Context.ChallengeAsync(CookieAuthenticationDefaults.AuthenticationScheme, properties).ConfigureAwait(false);
            return;
        }

        var failure = (await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false)).Failure?.Message;
        Response.StatusCode = 401;
        Response.Headers.Append("WWW-Authenticate", "Basic realm=\"DatacenterOs\", charset=\"UTF-8\"");
        Response.Headers.Append("WWW-Authenticate", "Bearer realm=\"DatacenterOs\"");
        await SecurityWiring.WriteJsonAsync(Context, 401, new JsonObject
        {
            ["message"] = failure is null ? AccessDecision.Unauthenticated.Message : "authentication failed: " + failure,
        }).ConfigureAwait(false);
    }
}

/// <summary>The requirement every endpoint gets through the fallback policy: <see cref="AccessPolicy.Decide"/> allows it.</summary>
internal sealed class AccessRequirement : IAuthorizationRequirement;

/// <summary>
/// Applies <see cref="AccessPolicy.Decide"/> to the request: reads what the policy needs (operator and scheduler call
/// types, subscribed roles, app ids in <c>/v2</c> bodies, job owners) from the path, the buffered body and the stored
/// jobs, and records the decision for <see cref="JsonAuthorizationResultHandler"/>.
/// </summary>
internal sealed class AccessHandler(AuthStore store, SecurityOptions options) : AuthorizationHandler<AccessRequirement>
{
    public const string DecisionItem = "DatacenterOs.AccessDecision";

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, AccessRequirement requirement)
    {
        if (context.Resource is not HttpContext http)
        {
            context.Fail();
            return;
        }

        var grants = context.User.Identity?.IsAuthenticated == true ? store.GrantsOf(context.User.Identity.Name) : null;
        var request = await ReadAsync(http).ConfigureAwait(false);
        var decision = AccessPolicy.Decide(request, grants);
        http.Items[DecisionItem] = decision;
        if (decision.Allowed)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, decision.Message ?? "forbidden"));
        }
    }

    private async Task<AccessRequest> ReadAsync(HttpContext http)
    {
        var method = http.Request.Method.ToUpperInvariant();
        var path = http.Request.Path.Value ?? "/";
        var isUi = http.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
        var request = new AccessRequest(method, path) { IsUiPage = isUi };
        var family = AccessPolicy.Classify(method, path, isUi);
        switch (family)
        {
            case AccessFamily.Scheduler or AccessFamily.Operator:
            {
                var body = await BodyAsync(http).ConfigureAwait(false);
                var type = (string?)Field(body, "type");
                IReadOnlyList<string>? roles = null;
                if (type == "SUBSCRIBE" && Field(Field(body, "subscribe"), "framework_info") is JsonObject info)
                {
                    roles = [.. (Field(info, "roles") as JsonArray ?? []).Select(r => Str(r) ?? "").Append(Str(Field(info, "role")) ?? "").Where(r => r.Length > 0).Distinct(StringComparer.Ordinal)];
                    if (roles.Count == 0)
                    {
                        roles = ["*"];
                    }
                }

                return request with { CallType = type, SubscribeRoles = roles };
            }

            case AccessFamily.AppsWrite:
            {
                var ids = new List<string>();
                var pathId = AccessPolicy.AppIdInPath(path);
                if (pathId is not null)
                {
                    ids.Add(pathId);
                }

                var body = await BodyAsync(http).ConfigureAwait(false);
                var group = path.StartsWith("/v2/groups", StringComparison.OrdinalIgnoreCase);
                Collect(body, pathId ?? "/", ids, group, pathId is not null);
                return request with { AppIds = ids.Count == 0 ? null : ids.Distinct(StringComparer.Ordinal).ToList() };
            }

            case AccessFamily.JobsWrite:
            {
                var owners = new List<string?>();
                var name = AccessPolicy.JobName(method, path);
                if (name is null && AccessPolicy.JobBodyPath(method, path))
                {
                    var body = await BodyAsync(http).ConfigureAwait(false);
                    owners.Add(Str(Field(body, "owner")));
                    name = Str(Field(body, "name"));
                }

                if (name is not null && options.JobOwner?.Invoke(name) is { } existing)
                {
                    owners.Add(existing);
                }
                else if (name is not null && owners.Count == 0)
                {
                    owners.Add(null);
                }

                return request with { JobOwners = owners };
            }

            default:
                return request;
        }
    }

    /// <summary>Collects absolute ids from an app, an array of apps or a group (nested groups and apps).</summary>
    private static void Collect(JsonNode? node, string parent, List<string> ids, bool group, bool pathGiven)
    {
        switch (node)
        {
            case JsonArray array:
                foreach (var item in array)
                {
                    Collect(item, parent, ids, group, pathGiven);
                }

                break;
            case JsonObject obj:
                var id = Str(Field(obj, "id"));
                var self = id is null ? parent : AccessPolicy.ResolveAppId(id, parent);
                if (id is not null || !pathGiven)
                {
                    ids.Add(self);
                }

                foreach (var key in new[] { "apps", "groups" })
                {
                    if (Field(obj, key) is JsonArray children)
                    {
                        foreach (var child in children)
                        {
                            Collect(child, self, ids, group, pathGiven: false);
                        }
                    }
                }

                break;
        }
    }

    private static JsonNode? Field(JsonNode? node, string name) =>
        node is JsonObject o && o.TryGetPropertyValue(name, out var v) ? v : null;

    private static string? Str(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>The request body as JSON (buffered so the endpoint reads it again); null when absent or not JSON.</summary>
    private static async Task<JsonNode?> BodyAsync(HttpContext http)
    {
        http.Request.EnableBuffering();
        try
        {
            return await JsonNode.ParseAsync(http.Request.Body, null, new JsonDocumentOptions { MaxDepth = 64 }, http.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
        finally
        {
            http.Request.Body.Position = 0;
        }
    }
}

/// <summary>Answers a denied request: 401 through the challenge, 403 with <c>{"message", "missingPermission"}</c>.</summary>
internal sealed class JsonAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden && context.Items[AccessHandler.DecisionItem] is AccessDecision { Allowed: false } decision)
        {
            await SecurityWiring.WriteJsonAsync(context, 403, new JsonObject
            {
                ["message"] = decision.Message,
                ["missingPermission"] = decision.MissingPermission,
            }).ConfigureAwait(false);
            return;
        }

        await _default.HandleAsync(next, context, policy, authorizeResult).ConfigureAwait(false);
    }
}

/// <summary>Claims of an authenticated principal.</summary>
internal static class Claims
{
    public static ClaimsPrincipal For(string name, string scheme) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name)], scheme, ClaimTypes.Name, ClaimTypes.Role));
}
