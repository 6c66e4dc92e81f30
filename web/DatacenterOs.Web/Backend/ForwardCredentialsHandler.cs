using Microsoft.AspNetCore.Http;

namespace DatacenterOs.Web.Backend;

/// <summary>
/// Makes the dashboard's calls to this process's APIs as the signed-in user: during a page request the user's
/// <c>Authorization</c> header and login cookie are copied onto calls to <paramref name="apiBase"/> (never to agents or
/// other hosts), so the APIs authorize each action exactly as they would for the user; background reads outside any
/// request (the live feed) use <paramref name="backgroundToken"/>. Without authentication nothing is added.
/// </summary>
internal sealed class ForwardCredentialsHandler(IHttpContextAccessor accessor, Uri apiBase, string? backgroundToken) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri && (!uri.IsAbsoluteUri || Uri.Compare(uri, apiBase, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0))
        {
            var user = accessor.HttpContext?.Request;
            if (user is not null && (user.Headers.Authorization.Count > 0 || user.Headers.Cookie.Count > 0))
            {
                if (user.Headers.Authorization.Count > 0)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", user.Headers.Authorization.ToString());
                }

                if (user.Headers.Cookie.Count > 0)
                {
                    request.Headers.TryAddWithoutValidation("Cookie", user.Headers.Cookie.ToString());
                }
            }
            else if (backgroundToken is not null && user is null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + backgroundToken);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}
