using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace DatacenterOs.Web.Tests;

/// <summary>
/// The dashboard in a real browser (Debian's chromium driven by Playwright) against the real dcosd process: apps and
/// jobs created and driven through the pages, changes made over the REST API seen without a reload. Screenshots of
/// each page are saved under <c>screenshots/</c> beside the test assembly (or <c>DCOS_WEB_SCREENSHOTS</c>).
/// </summary>
public sealed class BrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    private static string ScreenshotDir()
    {
        var dir = Environment.GetEnvironmentVariable("DCOS_WEB_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static bool BrowserMissing(ITestOutputHelper output)
    {
        if (File.Exists(Chromium))
        {
            return false;
        }

        Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"{Chromium} is required for the browser tests under CI (apt-get install chromium)");
        output.WriteLine($"skipped: {Chromium} is not installed (apt-get install chromium)");
        return true;
    }

    private static async Task<(IPlaywright, IBrowser)> LaunchAsync()
    {
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        return (playwright, browser);
    }

    private async Task ShotAsync(IPage page, string name)
    {
        var path = Path.Combine(ScreenshotDir(), name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        output.WriteLine($"screenshot: {path}");
    }

    [Fact]
    public async Task Apps_are_created_scaled_suspended_restarted_and_destroyed_through_the_pages()
    {
        if (BrowserMissing(output))
        {
            return;
        }

        SetDefaultExpectTimeout(60_000);
        var marker = "webui" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var workDir = Directory.CreateTempSubdirectory("dcos-web-").FullName;
        await using var dcosd = new DcosdProcess(workDir);
        var (playwright, browser) = await LaunchAsync();
        IPage? page = null;
        try
        {
            await dcosd.StartAsync();
            page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
            var url = dcosd.Url.ToString();

            // Overview, live badge connected over /hubs/cluster.
            await page.GotoAsync(url);
            await Expect(page.Locator("#dcos-live")).ToHaveTextAsync(new Regex("^live"));
            await Expect(page.Locator("[data-test=agents-count]")).ToHaveTextAsync("1 active / 1");
            await ShotAsync(page, "01-overview");

            // New app: a 422 is shown against its field, then the corrected app is created.
            await page.GotoAsync(url + "apps/new");
            await page.FillAsync("#app-id", "/" + marker);
            await page.FillAsync("#app-cmd", $"echo hello-from-{marker}; sleep 1000 # {marker}");
            await page.FillAsync("#app-cpus", "-1");
            await page.ClickAsync("[data-test=create]");
            await Expect(page.Locator("[data-field='/cpus']")).ToContainTextAsync("expected");
            await Expect(page.Locator("#app-cpus")).ToHaveClassAsync(new Regex("is-invalid"));
            await ShotAsync(page, "02-new-app-422");
            await page.FillAsync("#app-cpus", "0.1");
            await page.ClickAsync("[data-test=create]");
            await page.WaitForURLAsync(new Regex($"/apps/view/{marker}$"));
            await Expect(page.Locator("[data-test=health]")).ToHaveTextAsync("Healthy");

            // Scale to 3 through the page.
            await page.FillAsync("#scale-to", "3");
            await page.ClickAsync("[data-test=scale]");
            await Expect(page.Locator("[data-test=task-row]:has-text('Running')")).ToHaveCountAsync(3);

            // Scale to 5 through the REST API: the open page follows without a reload.
            await page.EvaluateAsync("() => { window.__noReload = 42; }");
            var (status, body) = await dcosd.SendAsync(HttpMethod.Put, $"/v2/apps/{marker}", """{"instances":5}""");
            Assert.True(status == 200, body?.ToJsonString());
            await Expect(page.Locator("[data-test=task-row]:has-text('Running')")).ToHaveCountAsync(5);
            await Expect(page.Locator("[data-test=running]")).ToHaveTextAsync("5 of 5 running");
            Assert.Equal(42, await page.EvaluateAsync<int>("() => window.__noReload"));
            Assert.True(await page.EvaluateAsync<int>("() => window.dcos.refreshes") > 0);
            await ShotAsync(page, "03-app-detail");

            // Task logs of one instance.
            var detail = page.Url;
            await page.Locator("[data-test=task-row] a[aria-label^='Logs of']").First.ClickAsync();
            await Expect(page.Locator("[data-test=log]")).ToContainTextAsync($"hello-from-{marker}");
            await ShotAsync(page, "04-task-logs");

            // Phone width: the same page, navigation collapsed.
            await page.SetViewportSizeAsync(390, 844);
            await page.GotoAsync(detail);
            await Expect(page.Locator(".navbar-toggler")).ToBeVisibleAsync();
            await ShotAsync(page, "04b-app-detail-phone");
            await page.SetViewportSizeAsync(1280, 720);

            // Apps table with its filter.
            await page.GotoAsync(url + "apps");
            await Expect(page.Locator($"[data-app='/{marker}'] [data-test=instances]")).ToHaveTextAsync("5 / 5");
            await page.WaitForFunctionAsync("() => window.dcos.connected && !window.dcos.busy");
            await page.FillAsync("#app-filter", "no-such-app");
            await Expect(page.Locator("[data-test=app-row]")).ToHaveCountAsync(0);
            await page.FillAsync("#app-filter", marker);
            await Expect(page.Locator("[data-test=app-row]")).ToHaveCountAsync(1);
            await ShotAsync(page, "05-apps");
            await page.GotoAsync(url + "agents");
            await Expect(page.Locator("[data-test=agent-row]")).ToHaveCountAsync(1);
            await ShotAsync(page, "06-agents");
            await page.GotoAsync(url + "roles");
            await page.FillAsync("input[name='weight:*']", "2.5");
            await page.ClickAsync("[data-role='*'] [data-test=save-weight]");
            await Expect(page.Locator("[data-test=action-ok]")).ToHaveTextAsync("Weight of * set to 2.5.");
            await Expect(page.Locator("input[name='weight:*']")).ToHaveValueAsync("2.5");
            await ShotAsync(page, "07-roles");
            // An app that cannot be placed: why it is waiting, and its deployment stopped from the Deployments page.
            var (bigStatus, bigBody) = await dcosd.SendAsync(HttpMethod.Post, "/v2/apps", $$"""{"id":"/{{marker}}-big","cmd":"sleep 1000 # {{marker}}","cpus":64,"mem":32,"instances":1}""");
            Assert.True(bigStatus == 201, bigBody?.ToJsonString());
            await page.GotoAsync(url + $"apps/view/{marker}-big");
            await Expect(page.Locator("[data-test=queue]")).ToContainTextAsync("InsufficientCpus");
            await ShotAsync(page, "07b-app-waiting");
            await page.GotoAsync(url + "deployments");
            await Expect(page.Locator("[data-test=deployment]")).ToHaveCountAsync(1);
            await Expect(page.Locator("[data-test=deployment]")).ToContainTextAsync($"/{marker}-big");
            await ShotAsync(page, "08-deployments");
            await page.ClickAsync("[data-test=deployment] details[id^='confirm-stop'] summary");
            await page.ClickAsync("[data-test=confirm-stop]");
            await Expect(page.Locator("[data-test=deployment]")).ToHaveCountAsync(0);
            Assert.Equal(200, (await dcosd.SendAsync(HttpMethod.Delete, $"/v2/apps/{marker}-big?force=true")).Status);

            // Restart (confirmed), then suspend (confirmed), then destroy (confirmed).
            await page.GotoAsync(detail);
            await page.ClickAsync("#confirm-restart summary");
            await page.ClickAsync("[data-test=confirm-restart]");
            await Expect(page.Locator("[data-test=action-ok]")).ToHaveTextAsync("Restarting.");
            await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("Running");
            await Expect(page.Locator("[data-test=task-row]:has-text('Running')")).ToHaveCountAsync(5);

            await page.ClickAsync("#confirm-suspend summary");
            await page.ClickAsync("[data-test=confirm-suspend]");
            await Expect(page.Locator("[data-test=status]")).ToHaveTextAsync("Suspended");
            await Expect(page.Locator("[data-test=task-row]")).ToHaveCountAsync(0);

            await page.ClickAsync("#confirm-destroy summary");
            await page.ClickAsync("[data-test=confirm-destroy]");
            await page.WaitForURLAsync(new Regex("/apps$"));
            await Expect(page.Locator($"[data-app='/{marker}']")).ToHaveCountAsync(0);
            Assert.Equal(404, (await dcosd.SendAsync(HttpMethod.Get, $"/v2/apps/{marker}")).Status);
        }
        catch
        {
            await ReportFailureAsync(page, dcosd, "failure-apps");
            throw;
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
            await dcosd.DisposeAsync();
            DcosdProcess.KillProcesses(marker, workDir);
            Directory.Delete(workDir, recursive: true);
        }
    }

    [Fact]
    public async Task Jobs_and_dependents_are_created_run_and_drawn_through_the_pages()
    {
        if (BrowserMissing(output))
        {
            return;
        }

        SetDefaultExpectTimeout(60_000);
        var workDir = Directory.CreateTempSubdirectory("dcos-web-").FullName;
        await using var dcosd = new DcosdProcess(workDir);
        var (playwright, browser) = await LaunchAsync();
        IPage? page = null;
        try
        {
            await dcosd.StartAsync();
            page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
            var url = dcosd.Url.ToString();

            await page.GotoAsync(url + "jobs/new");
            await page.FillAsync("#job-name", "extract");
            await page.FillAsync("#job-owner", "data@example.com");
            await page.FillAsync("#job-command", "echo extracted");
            // A day ahead: the run below is a manual one.
            var tomorrow = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            await page.FillAsync("#job-schedule", $"R/{tomorrow}/PT24H");
            await ShotAsync(page, "10-new-job");
            await page.ClickAsync("[data-test=create]");
            await page.WaitForURLAsync(new Regex("/jobs/view/extract$"));

            await page.GotoAsync(url + "jobs/new");
            await page.FillAsync("#job-name", "load");
            await page.FillAsync("#job-command", "echo loaded");
            await page.CheckAsync("#kind-dependent");
            await page.FillAsync("#job-parents", "extract");
            await page.ClickAsync("[data-test=create]");
            await page.WaitForURLAsync(new Regex("/jobs/view/load$"));

            await page.GotoAsync(url + "jobs");
            await Expect(page.Locator("[data-test=job-row]")).ToHaveCountAsync(2);
            await Expect(page.Locator("[data-job=load]")).ToContainTextAsync("after extract");

            // Run now: the run shows in the history without a reload, then the dependent runs too.
            await page.GotoAsync(url + "jobs/view/extract");
            await page.ClickAsync("[data-test=run-now]");
            await Expect(page.Locator("[data-test=run-row][data-state=succeeded]")).ToHaveCountAsync(1);
            await ShotAsync(page, "11-job-detail");
            await page.Locator("[data-test=run-row] a[aria-label^='Logs of']").First.ClickAsync();
            await Expect(page.Locator("[data-test=log]")).ToContainTextAsync("extracted");
            await ShotAsync(page, "11b-job-run-logs");
            await page.GotoAsync(url + "jobs/view/load");
            await Expect(page.Locator("[data-test=run-row][data-state=succeeded]")).ToHaveCountAsync(1);
            await page.GotoAsync(url + "jobs");
            await ShotAsync(page, "12-jobs");

            // The DAG, coloured by last state (both succeeded: green fills).
            await page.GotoAsync(url + "jobs/dag");
            await Expect(page.Locator("#dag svg")).ToHaveCountAsync(1);
            await Expect(page.Locator("#dag svg g.node polygon[fill='#9be29b']")).ToHaveCountAsync(2);
            await Expect(page.Locator("#dag svg g.edge")).ToHaveCountAsync(1);
            await ShotAsync(page, "13-dag");

            // Disable, then delete the dependent (confirmed).
            await page.GotoAsync(url + "jobs/view/load");
            await page.ClickAsync("[data-test=toggle]");
            await Expect(page.Locator("[data-test=disabled]")).ToHaveCountAsync(1);
            await page.ClickAsync("#confirm-delete summary");
            await page.ClickAsync("[data-test=confirm-delete]");
            await page.WaitForURLAsync(new Regex("/jobs$"));
            await Expect(page.Locator("[data-test=job-row]")).ToHaveCountAsync(1);
        }
        catch
        {
            await ReportFailureAsync(page, dcosd, "failure-jobs");
            throw;
        }
        finally
        {
            await browser.DisposeAsync();
            playwright.Dispose();
            await dcosd.DisposeAsync();
            DcosdProcess.KillProcesses(workDir, workDir);
            Directory.Delete(workDir, recursive: true);
        }
    }

    /// <summary>On a failed browser test: a screenshot named <paramref name="shot"/>, the page's HTML and dcosd's log.</summary>
    private async Task ReportFailureAsync(IPage? page, DcosdProcess dcosd, string shot)
    {
        if (page is not null)
        {
            await ShotAsync(page, shot);
            output.WriteLine(await page.ContentAsync());
        }

        output.WriteLine(dcosd.Log);
    }
}
