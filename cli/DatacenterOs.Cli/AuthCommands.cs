using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace DatacenterOs.Cli;

internal static partial class Commands
{
    // ---- auth -----------------------------------------------------------------------------------------------------

    private static Command AuthCommand(Env env)
    {
        var auth = new Command("auth", "Sign in to a master that requires authentication (the credential is kept in the configuration file, mode 0600).\n\nExample:\n  echo -n \"$PASSWORD\" | dcos auth login --username alice --password-stdin");
        var username = new Option<string?>("--username", "-u") { Description = "Principal name (HTTP Basic)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the secret from standard input (first line)" };
        var token = new Option<string?>("--token") { Description = "A bearer token instead of name and secret" };
        var login = Cmd("login", "Checks the credential against the master and stores it; every later command sends it.",
            "dcos auth login --username alice --password-stdin < secret.txt\ndcos auth login --token $TOKEN");
        login.Add(username);
        login.Add(passwordStdin);
        login.Add(token);
        login.Handle(env, async (s, parse, ct) =>
        {
            string header;
            if (parse.GetValue(token) is { Length: > 0 } t)
            {
                header = "Bearer " + t.Trim();
            }
            else if (parse.GetValue(username) is { Length: > 0 } user)
            {
                if (!parse.GetValue(passwordStdin))
                {
                    throw new UserException("give the secret with --password-stdin (it is never taken from the command line)");
                }

                var secret = await s.Context.In.ReadLineAsync(ct).ConfigureAwait(false);
                if (string.IsNullOrEmpty(secret))
                {
                    throw new UserException("no secret on standard input");
                }

                header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + secret));
            }
            else
            {
                throw new UserException("give --username NAME --password-stdin, or --token TOKEN");
            }

            var (status, body) = await WhoAmIAsync(s, header, ct).ConfigureAwait(false);
            if (status == 401)
            {
                throw new UserException($"login to {s.Master.AbsoluteUri.TrimEnd('/')} failed: {(string?)body?["message"] ?? "invalid credentials"}");
            }

            if (status != 200 || body is null)
            {
                throw new UserException($"login to {s.Master.AbsoluteUri.TrimEnd('/')} failed: HTTP {status}");
            }

            if (body["authentication"]?.GetValue<bool>() != true)
            {
                s.Line($"{s.Master.AbsoluteUri.TrimEnd('/')} does not require authentication; nothing stored");
                return DcosCli.Ok;
            }

            CliConfig.Save(s.Context, CliConfig.Load(s.Context) with { Authorization = header });
            s.Line($"logged in to {s.Master.AbsoluteUri.TrimEnd('/')} as {(string?)body["name"]} ({s.Context.ConfigPath})");
            return DcosCli.Ok;
        });

        var logout = Cmd("logout", "Forgets the stored credential.", "dcos auth logout");
        logout.SetAction(parse => Run(env.Context, () =>
        {
            CliConfig.Save(env.Context, CliConfig.Load(env.Context) with { Authorization = null });
            env.Context.Out.WriteLine("logged out");
        }));

        var whoami = Cmd("whoami", "Shows the principal the stored credential signs in as, and its permissions.", "dcos auth whoami");
        whoami.Handle(env, async (s, parse, ct) =>
        {
            var (status, body) = await WhoAmIAsync(s, s.Authorization, ct).ConfigureAwait(false);
            if (status != 200 || body is null)
            {
                throw new UserException(status == 401 ? "not logged in (dcos auth login)" : $"HTTP {status}");
            }

            s.Json(body);
            return DcosCli.Ok;
        });

        auth.Add(login);
        auth.Add(logout);
        auth.Add(whoami);
        return auth;
    }

    private static async Task<(int Status, JsonNode? Body)> WhoAmIAsync(Session s, string? authorization, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(s.Master, "/auth/whoami"));
        request.Headers.Authorization = null;
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var http = new HttpClient { Timeout = Session.RequestTimeout };
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        JsonNode? body = null;
        try
        {
            body = text.TrimStart().StartsWith('{') ? JsonNode.Parse(text) : null;
        }
        catch (System.Text.Json.JsonException)
        {
        }

        return ((int)response.StatusCode, body);
    }
}
