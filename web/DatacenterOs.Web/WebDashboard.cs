using DatacenterOs.Web.Backend;
using DatacenterOs.Web.Components;
using DatacenterOs.Web.Hubs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace DatacenterOs.Web;

/// <summary>Registers and maps the dashboard in a host (dcosd): Blazor Server at <c>/</c>, the hub at <c>/hubs/cluster</c>.</summary>
public static class WebDashboard
{
    /// <summary>
    /// Adds the dashboard's services. <paramref name="masterUrl"/> is where this process's APIs answer
    /// (<c>http://127.0.0.1:5050</c>; a wildcard listen address is reached over loopback). With
    /// <paramref name="keysDirectory"/>, the keys that protect the forms' antiforgery tokens are kept there, so pages
    /// opened before a restart of dcosd still submit. With authentication on, the dashboard calls the APIs as the
    /// signed-in user (its credentials are forwarded) and reads in the background with <paramref name="backgroundToken"/>.
    /// </summary>
    public static IServiceCollection AddDatacenterOsWeb(this IServiceCollection services, Uri masterUrl, string? keysDirectory = null, string? backgroundToken = null)
    {
        ArgumentNullException.ThrowIfNull(masterUrl);
        if (keysDirectory is not null)
        {
            services.AddDataProtection().PersistKeysToFileSystem(Directory.CreateDirectory(keysDirectory)).SetApplicationName("DatacenterOs.Web");
        }

        var baseUrl = masterUrl.Host is "0.0.0.0" or "[::]" or "*" or "+"
            ? new UriBuilder(masterUrl) { Host = "127.0.0.1" }.Uri
            : masterUrl;
        services.AddRazorComponents();
        services.AddSignalR();
        services.AddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();
        services.TryAddSingleton<IDashboardPermissions, AllowAllPermissions>();
        services.AddSingleton(sp => new HttpClient(new ForwardCredentialsHandler(sp.GetRequiredService<IHttpContextAccessor>(), baseUrl, backgroundToken)
        {
            InnerHandler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) },
        })
        { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) });
        services.AddSingleton<HttpBackends>();
        services.AddSingleton<IClusterBackend>(sp => sp.GetRequiredService<HttpBackends>());
        services.AddSingleton<IAppsBackend>(sp => sp.GetRequiredService<HttpBackends>());
        services.AddSingleton<IJobsBackend>(sp => sp.GetRequiredService<HttpBackends>());
        services.AddSingleton<ISandboxFiles>(sp => sp.GetRequiredService<HttpBackends>());
        services.AddSingleton<ClusterFeed>();
        services.AddSingleton<IClusterFeed>(sp => sp.GetRequiredService<ClusterFeed>());
        services.AddHostedService(sp => sp.GetRequiredService<ClusterFeed>());
        services.AddHostedService<ClusterHubBroadcaster>();
        return services;
    }

    /// <summary>Lets static files of the dashboard be served from a build output as well as a published app.</summary>
    public static IWebHostBuilder UseDatacenterOsWebAssets(this IWebHostBuilder webHost)
    {
        ArgumentNullException.ThrowIfNull(webHost);
        return webHost.UseStaticWebAssets();
    }

    /// <summary>Maps the dashboard: static assets, Razor components at <c>/</c> and the hub at <c>/hubs/cluster</c>.</summary>
    public static WebApplication MapDatacenterOsWeb(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<App>();
        app.MapHub<ClusterHub>("/hubs/cluster");

        // New sandbox output for the Task logs page's "follow": {"data": "...", "offset": next offset}.
        app.MapGet("/ui/logs/{taskId}/{file}", async (string taskId, string file, long? offset, string? agent, string? framework, IClusterBackend cluster, ISandboxFiles files, HttpContext ctx) =>
        {
            if (file is not ("stdout" or "stderr"))
            {
                return Results.Json(new { message = "file must be stdout or stderr" }, statusCode: 400);
            }

            var (chunk, error) = await TaskLogs.ReadAsync(cluster, files, taskId, file, Math.Max(0, offset ?? 0), 256 * 1024, ctx.RequestAborted, agent, framework).ConfigureAwait(false);
            return chunk is null
                ? Results.Json(new { message = error }, statusCode: 404)
                : Results.Json(new { data = chunk.Data, offset = chunk.Offset + System.Text.Encoding.UTF8.GetByteCount(chunk.Data) });
        });
        return app;
    }
}
