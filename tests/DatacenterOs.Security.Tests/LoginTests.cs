using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DatacenterOs.Cli;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DatacenterOs.Security.Tests;

/// <summary>Signing in: <c>dcos auth login/logout</c> against the secured dcosd, and the dashboard's login page in chromium.</summary>
[Collection(SecuredCollection.Name)]
public sealed class LoginTests(SecuredCluster cluster, ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    private async Task<(int Code, string Out, string Error)> DcosAsync(string home, string? stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext
        {
            Out = stdout,
            Error = stderr,
            In = new StringReader(stdin ?? ""),
            Environment = name => name switch { "HOME" => home, _ => null },
            PollSeconds = 0.2,
        };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var code = await DcosCli.RunAsync(["--master", cluster.Dcosd.Url.ToString().TrimEnd('/'), .. args], context, timeout.Token);
        output.WriteLine($"dcos {string.Join(' ', args)} -> {code}\n{stdout}{stderr}");
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Cli_login_stores_the_credential_owner_only_and_every_command_sends_it()
    {
        var home = Directory.CreateTempSubdirectory("dcos-home-").FullName;

        // Without a credential: refused with one line.
        var (code, _, error) = await DcosAsync(home, null, "app", "list");
        Assert.NotEqual(0, code);
        Assert.Contains("authentication", error, StringComparison.OrdinalIgnoreCase);

        // A wrong secret is not stored.
        (code, _, error) = await DcosAsync(home, "wrong\n", "auth", "login", "--username", "teama", "--password-stdin");
        Assert.Equal(1, code);
        Assert.Contains("login", error, StringComparison.Ordinal);
        var config = Path.Combine(home, ".config", "dcos", "config.json");
        Assert.False(File.Exists(config) && File.ReadAllText(config).Contains("authorization", StringComparison.Ordinal));

        (code, var stdout, _) = await DcosAsync(home, SecuredCluster.Password("teama") + "\n", "auth", "login", "--username", "teama", "--password-stdin");
        Assert.Equal(0, code);
        Assert.Contains("as teama", stdout, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        }
        Assert.DoesNotContain(SecuredCluster.Password("teama"), File.ReadAllText(config), StringComparison.Ordinal);

        (code, stdout, _) = await DcosAsync(home, null, "auth", "whoami");
        Assert.Equal(0, code);
        Assert.Equal("teama", (string?)JsonNode.Parse(stdout)!["name"]);
        Assert.Equal(0, (await DcosAsync(home, null, "app", "list")).Code);
        Assert.Equal(0, (await DcosAsync(home, null, "job", "list")).Code);

        // Its permissions hold: another team's app is refused with the permission named.
        var appFile = Path.Combine(home, "b.json");
        await File.WriteAllTextAsync(appFile, """{"id":"/team-b/cli","cmd":"sleep 100","cpus":0.01,"mem":8,"instances":0}""");
        (code, _, error) = await DcosAsync(home, null, "app", "add", appFile);
        Assert.Equal(1, code);
        Assert.Contains("apps:/team-b/cli", error, StringComparison.Ordinal);

        // A token works as well.
        (code, _, _) = await DcosAsync(home, null, "auth", "login", "--token", SecuredCluster.ViewerToken);
        Assert.Equal(0, code);
        (_, stdout, _) = await DcosAsync(home, null, "auth", "whoami");
        Assert.Equal("viewer", (string?)JsonNode.Parse(stdout)!["name"]);

        Assert.Equal(0, (await DcosAsync(home, null, "auth", "logout")).Code);
        Assert.DoesNotContain("authorization", File.ReadAllText(config), StringComparison.Ordinal);
        Assert.NotEqual(0, (await DcosAsync(home, null, "app", "list")).Code);
    }

    [Fact]
    public async Task The_dashboard_redirects_to_its_login_page_and_signs_in_with_a_cookie()
    {
        if (!File.Exists(Chromium))
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"{Chromium} is required for the browser tests under CI (apt-get install chromium)");
            output.WriteLine($"skipped: {Chromium} is not installed");
            return;
        }

        SetDefaultExpectTimeout(60_000);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        var url = cluster.Dcosd.Url.ToString().TrimEnd('/');

        await page.GotoAsync(url + "/apps");
        await Expect(page).ToHaveURLAsync(new Regex("/login\\?ReturnUrl=%2Fapps$"));
        await page.FillAsync("#username", "teama");
        await page.FillAsync("#password", "wrong");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".alert-danger")).ToContainTextAsync("Invalid");

        await page.FillAsync("#username", "teama");
        await page.FillAsync("#password", SecuredCluster.Password("teama"));
        await page.ClickAsync("button[type=submit]");
        await Expect(page).ToHaveURLAsync(new Regex("/apps$"));
        var cookies = await page.Context.CookiesAsync();
        Assert.Contains(cookies, c => c.Name == SecurityWiring.CookieName && c.HttpOnly);

        // The page's own API calls ran as the signed-in user, and the live hub connected with the cookie.
        await Expect(page.Locator("#dcos-live")).ToHaveTextAsync(new Regex("^live"));
        await Expect(page.Locator("body")).Not.ToContainTextAsync("401");

        // Actions the user may not take are hidden: team A may add apps, but not run or delete b@example.com's job.
        await Expect(page.Locator("[data-test=new-app]")).ToBeVisibleAsync();
        await page.GotoAsync(url + "/jobs/view/bjob");
        await Expect(page.Locator("h1")).ToContainTextAsync("bjob");
        await Expect(page.Locator("[data-test=run-now]")).ToHaveCountAsync(0);

        // Signing out ends the session: pages redirect to the login page again.
        var response = await page.APIRequest.PostAsync(url + "/logout", new APIRequestContextOptions { MaxRedirects = 0 });
        Assert.Equal(302, response.Status);
        await page.GotoAsync(url + "/jobs");
        await Expect(page).ToHaveURLAsync(new Regex("/login"));
    }
}
