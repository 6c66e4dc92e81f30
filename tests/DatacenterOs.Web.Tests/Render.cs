using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using DatacenterOs.Web.Backend;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DatacenterOs.Web.Tests;

/// <summary>Renders a dashboard component to HTML with <see cref="HtmlRenderer"/> over <see cref="FakeBackends"/> and parses it.</summary>
internal static class Render
{
    public static async Task<IDocument> PageAsync<TComponent>(FakeBackends backends, string url = "http://localhost/", IDictionary<string, object?>? parameters = null)
        where TComponent : IComponent
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSupplyValueFromQueryProvider();
        services.AddSingleton<AntiforgeryStateProvider, TestAntiforgery>();
        services.AddSingleton<IClusterBackend>(backends);
        services.AddSingleton<IAppsBackend>(backends);
        services.AddSingleton<IJobsBackend>(backends);
        services.AddSingleton<ISandboxFiles>(backends);
        services.AddSingleton<IClusterFeed>(backends);
        services.AddSingleton(TimeProvider.System);
        services.AddScoped<NavigationManager>(_ => new TestNavigationManager(url));
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        await using var renderer = new HtmlRenderer(scope.ServiceProvider, scope.ServiceProvider.GetRequiredService<ILoggerFactory>());
        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<TComponent>(parameters is null ? ParameterView.Empty : ParameterView.FromDictionary(parameters));
            return output.ToHtmlString();
        });
        return new HtmlParser().ParseDocument(html);
    }

    public static IReadOnlyList<IElement> Tests(this IDocument doc, string name) => [.. doc.QuerySelectorAll($"[data-test='{name}']")];

    private sealed class TestAntiforgery : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken? GetAntiforgeryToken() => new("test-token", "__RequestVerificationToken");
    }

    private sealed class TestNavigationManager : NavigationManager
    {
        public TestNavigationManager(string url) => Initialize("http://localhost/", url);

        protected override void NavigateToCore(string uri, NavigationOptions options) => Uri = ToAbsoluteUri(uri).ToString();
    }
}
