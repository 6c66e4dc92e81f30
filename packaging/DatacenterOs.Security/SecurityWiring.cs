using System.Net;
using System.Security.Claims;
using System.Text.Json.Nodes;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace DatacenterOs.Security;

/// <summary>
/// Wires authentication, authorization and hostile-input limits into a dcosd web application. Limits (request body
/// size per endpoint family) always apply; with <see cref="SecurityOptions.Auth"/> set, every endpoint is behind
/// <see cref="AccessPolicy"/> (deny by default), writes are rate limited per principal, and <c>/login</c>,
/// <c>/logout</c> and <c>/auth/whoami</c> are served.
/// </summary>
public static class SecurityWiring
{
    /// <summary>Name of the dashboard's login cookie.</summary>
    public const string CookieName = ".DatacenterOs.Auth";

    private static readonly System.Text.Json.JsonSerializerOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string[] ApiPrefixes = ["/api", "/v1", "/v2", "/v3", "/scheduler", "/master", "/metrics", "/files", "/hubs", "/ui", "/auth", "/health", "/ping"];

    /// <summary>Registers the services (call before <c>Build()</c>).</summary>
    public static IServiceCollection AddDatacenterOsSecurity(this IServiceCollection services, SecurityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        if (options.Auth is not { } store)
        {
            return services;
        }

        services.AddSingleton(store);
        services.AddAuthentication(DcosAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, DcosAuthenticationHandler>(DcosAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieAuthenticationDefaults.AuthenticationScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.ExpireTimeSpan = TimeSpan.FromHours(8);
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = ctx =>
                {
                    if (store.GrantsOf(ctx.Principal?.Identity?.Name) is null)
                    {
                        ctx.RejectPrincipal();
                    }

                    return Task.CompletedTask;
                };
            });
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(DcosAuthenticationHandler.SchemeName).AddRequirements(new AccessRequirement()).Build());
        services.AddSingleton<IAuthorizationHandler, AccessHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, JsonAuthorizationResultHandler>();
        if (options.WritesPerSecond > 0)
        {
            services.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = 429;
                o.OnRejected = (ctx, ct) =>
                {
                    ctx.HttpContext.Response.Headers.RetryAfter = "1";
                    return new ValueTask(WriteJsonAsync(ctx.HttpContext, 429, new JsonObject
                    {
                        ["message"] = $"too many writes by '{ctx.HttpContext.User.Identity?.Name}': at most {options.WritesPerSecond} per second (burst {options.WriteBurst})",
                    }));
                };
                o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(ctx => IsRateLimitedWrite(ctx)
                    ? RateLimitPartition.GetTokenBucketLimiter("w:" + (ctx.User.Identity?.Name ?? ctx.Connection.RemoteIpAddress?.ToString() ?? "?"), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = Math.Max(1, options.WriteBurst),
                        TokensPerPeriod = options.WritesPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    })
                    : RateLimitPartition.GetNoLimiter("read"));
            });
        }

        return services;
    }

    /// <summary>
    /// Adds the middleware (body limits, then authentication, authorization and the write rate limiter) and maps
    /// <c>/login</c>, <c>/logout</c> and <c>/auth/whoami</c>. Call right after <c>Build()</c>, before mapping endpoints.
    /// </summary>
    public static WebApplication UseDatacenterOsSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<SecurityOptions>();
        app.Use((ctx, next) => LimitBodyAsync(ctx, next, options));
        var store = options.Auth;
        if (store is null)
        {
            app.MapGet("/auth/whoami", () => Results.Json(new JsonObject { ["authentication"] = false, ["name"] = null }));
            return app;
        }

        app.UseAuthentication();
        app.UseAuthorization();
        if (options.WritesPerSecond > 0)
        {
            app.UseRateLimiter();
        }

        app.MapGet("/auth/whoami", async (HttpContext ctx) =>
        {
            var result = await ctx.AuthenticateAsync(DcosAuthenticationHandler.SchemeName).ConfigureAwait(false);
            var grants = result.Succeeded ? store.GrantsOf(result.Principal!.Identity!.Name) : null;
            if (grants is null)
            {
                await ctx.ChallengeAsync(DcosAuthenticationHandler.SchemeName).ConfigureAwait(false);
                return;
            }

            await WriteJsonAsync(ctx, 200, WhoAmI(grants)).ConfigureAwait(false);
        });
        app.MapGet("/login", (HttpContext ctx) => LoginPage(ctx, null));
        app.MapPost("/login", async (HttpContext ctx) =>
        {
            var form = ctx.Request.HasFormContentType ? await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false) : null;
            var user = form?["username"].ToString() ?? "";
            var secret = form?["password"].ToString() ?? "";
            var name = user.Length > 0 && user.Length <= 256 && secret.Length <= 4096 ? store.VerifySecret(user, secret) : null;
            if (name is null)
            {
                await LoginPage(ctx, "Invalid name or password.", 401).ConfigureAwait(false);
                return;
            }

            await ctx.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, PrincipalFor(name, CookieAuthenticationDefaults.AuthenticationScheme)).ConfigureAwait(false);
            ctx.Response.Redirect(LocalUrl(form?["returnUrl"].ToString()));
        });
        app.MapPost("/logout", async (HttpContext ctx) =>
        {
            await ctx.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme).ConfigureAwait(false);
            ctx.Response.Redirect("/login");
        });
        return app;
    }

    /// <summary>The JSON of <c>/auth/whoami</c>: name, permissions as flags and scopes, roles.</summary>
    public static JsonObject WhoAmI(Grants grants)
    {
        ArgumentNullException.ThrowIfNull(grants);
        return new JsonObject
        {
            ["authentication"] = true,
            ["name"] = grants.Name,
            ["viewer"] = grants.Viewer || grants.Operator,
            ["operator"] = grants.Operator,
            ["apps"] = new JsonArray([.. grants.AppPrefixes.Select(p => (JsonNode)JsonValue.Create((p.Length == 0 ? "" : p) + "/*"))]),
            ["jobOwners"] = new JsonArray([.. grants.JobOwners.Select(o => (JsonNode)JsonValue.Create(o))]),
            ["roles"] = new JsonArray([.. grants.Roles.Select(r => (JsonNode)JsonValue.Create(r))]),
        };
    }

    /// <summary>True for paths of an API (401 on challenge) rather than a dashboard page (redirect to <c>/login</c>).</summary>
    public static bool IsApiPath(PathString path) =>
        ApiPrefixes.Any(p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>True when <paramref name="listen"/> (an http URL) binds only a loopback address.</summary>
    public static bool IsLoopback(Uri listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        return listen.IsLoopback || (IPAddress.TryParse(listen.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }

    internal static ClaimsPrincipal PrincipalFor(string name, string scheme) => Claims.For(name, scheme);

    internal static async Task WriteJsonAsync(HttpContext ctx, int status, JsonObject body)
    {
        if (ctx.Response.HasStarted)
        {
            return;
        }

        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(body.ToJsonString(JsonOptions), ctx.RequestAborted).ConfigureAwait(false);
    }

    private static bool IsRateLimitedWrite(HttpContext ctx)
    {
        var method = ctx.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return false;
        }

        var family = AccessPolicy.Classify(method.ToUpperInvariant(), ctx.Request.Path.Value ?? "/");
        return family is not (AccessFamily.Open or AccessFamily.Scheduler or AccessFamily.Agent or AccessFamily.Read)
            && ctx.User.Identity?.Name != AuthStore.InternalPrincipal;
    }

    /// <summary>Sets the request body limit of the endpoint family and answers 413 with JSON when it is exceeded.</summary>
    private static async Task LimitBodyAsync(HttpContext ctx, RequestDelegate next, SecurityOptions options)
    {
        var limit = ctx.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ? options.MasterBodyBytes : options.ApiBodyBytes;
        if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit;
        }

        if (ctx.Request.ContentLength > limit)
        {
            await WriteJsonAsync(ctx, 413, new JsonObject { ["message"] = $"request body exceeds {limit} bytes" }).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(ctx).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == 413)
        {
            await WriteJsonAsync(ctx, 413, new JsonObject { ["message"] = $"request body exceeds {limit} bytes" }).ConfigureAwait(false);
        }
    }

    private static string LocalUrl(string? url) =>
        url is { Length: > 0 } u && u.StartsWith('/') && !u.StartsWith("//", StringComparison.Ordinal) && !u.StartsWith("/\\", StringComparison.Ordinal) ? u : "/";

    private static Task LoginPage(HttpContext ctx, string? error, int status = 200)
    {
        var returnUrl = System.Net.WebUtility.HtmlEncode(LocalUrl(ctx.Request.HasFormContentType ? ctx.Request.Form["returnUrl"].ToString() : ctx.Request.Query["ReturnUrl"].ToString()));
        var alert = error is null ? "" : $"<div class=\"alert alert-danger\" role=\"alert\">{System.Net.WebUtility.HtmlEncode(error)}</div>";
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        ctx.Response.Headers.CacheControl = "no-store";
        return ctx.Response.WriteAsync($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sign in · DatacenterOs</title>
            <link rel="stylesheet" href="/lib/bootstrap/css/bootstrap.min.css"></head>
            <body class="bg-body-tertiary"><main class="container" style="max-width:24rem;margin-top:10vh">
            <h1 class="h4 mb-3">DatacenterOs</h1>{{alert}}
            <form method="post" action="/login">
            <input type="hidden" name="returnUrl" value="{{returnUrl}}">
            <div class="mb-3"><label class="form-label" for="username">Name</label><input class="form-control" id="username" name="username" autocomplete="username" required autofocus></div>
            <div class="mb-3"><label class="form-label" for="password">Password</label><input class="form-control" id="password" name="password" type="password" autocomplete="current-password" required></div>
            <button class="btn btn-primary w-100" type="submit">Sign in</button>
            </form></main></body></html>
            """, ctx.RequestAborted);
    }
}
