using DatacenterOs.Web.Backend;
using DatacenterOs.Web.Components.Pages;
using static DatacenterOs.Web.Tests.FakeBackends;

namespace DatacenterOs.Web.Tests;

/// <summary>Each page's main states (empty, loaded, error) rendered on the server and read as HTML.</summary>
public sealed class PageRenderingTests
{
    private static Dictionary<string, object?> P(string name, object? value) => new() { [name] = value };

    [Fact]
    public async Task Overview_empty_loaded_and_error()
    {
        var fake = new FakeBackends();
        var empty = await Render.PageAsync<Overview>(fake);
        Assert.Single(empty.Tests("no-tasks"));
        Assert.Equal("0 active / 0", empty.Tests("agents-count").Single().TextContent);

        fake.State = Cluster();
        var loaded = await Render.PageAsync<Overview>(fake);
        Assert.Equal("m1", loaded.Tests("master-id").Single().TextContent);
        Assert.Equal("1 active / 2", loaded.Tests("agents-count").Single().TextContent);
        Assert.Equal("3", loaded.Tests("tasks-count").Single().TextContent);
        Assert.Contains("Running", loaded.QuerySelector("table[aria-label='Tasks by state']")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("33.3%", loaded.Tests("failure-rate").Single().TextContent);
        Assert.NotNull(loaded.QuerySelector("canvas#allocation-chart"));
        Assert.Equal("cluster", loaded.QuerySelector("[data-live-topics]")!.GetAttribute("data-live-topics"));

        fake.Failure = "GET /master/state failed: connection refused";
        var error = await Render.PageAsync<Overview>(fake);
        Assert.Contains("connection refused", error.Tests("load-error").Single().TextContent, StringComparison.Ordinal);
        Assert.Empty(error.Tests("master-id"));
    }

    [Fact]
    public async Task Agents_empty_loaded_and_error()
    {
        var fake = new FakeBackends();
        Assert.Single((await Render.PageAsync<Agents>(fake)).Tests("empty"));

        fake.State = Cluster();
        var loaded = await Render.PageAsync<Agents>(fake);
        var rows = loaded.Tests("agent-row");
        Assert.Equal(2, rows.Count);
        Assert.Contains("host-1", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("rack:r1", rows[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("unreachable", rows[1].TextContent, StringComparison.Ordinal);
        Assert.NotNull(rows[0].QuerySelector("[role=progressbar][aria-label='cpus allocated'][aria-valuenow='25']"));

        fake.Failure = "down";
        Assert.Single((await Render.PageAsync<Agents>(fake)).Tests("load-error"));
    }

    [Fact]
    public async Task Agent_detail_lists_its_tasks()
    {
        var fake = new FakeBackends { State = Cluster() };
        var doc = await Render.PageAsync<AgentDetail>(fake, parameters: P(nameof(AgentDetail.AgentId), "a1"));
        Assert.Contains("host-1", doc.QuerySelector("h1")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(3, doc.QuerySelectorAll("table[aria-label=Tasks] tbody tr").Length);
    }

    [Fact]
    public async Task Apps_empty_loaded_filtered_and_error()
    {
        var fake = new FakeBackends();
        Assert.Single((await Render.PageAsync<Apps>(fake, "http://localhost/apps")).Tests("empty"));

        fake.Apps.Add(new AppDetail(App("/web", 3, 3, healthy: 3), [], null));
        fake.Apps.Add(new AppDetail(App("/api", 2, 1, deployments: ["d1"]), [], null));
        fake.Apps.Add(new AppDetail(App("/batch", 0, 0, checks: false), [], null));
        fake.Apps.Add(new AppDetail(App("/stuck", 1, 0), [], null));
        fake.Queue.Add(new QueueEntry("/stuck", 1, false, ["InsufficientMemory"]));
        var loaded = await Render.PageAsync<Apps>(fake, "http://localhost/apps");
        var rows = loaded.Tests("app-row").ToDictionary(r => r.GetAttribute("data-app")!);
        Assert.Equal(4, rows.Count);
        Assert.Equal("Running", rows["/web"].QuerySelector("[data-test=status]")!.TextContent);
        Assert.Equal("Healthy", rows["/web"].QuerySelector("[data-test=health]")!.TextContent);
        Assert.Equal("3 / 3", rows["/web"].QuerySelector("[data-test=instances]")!.TextContent);
        Assert.Equal("Deploying", rows["/api"].QuerySelector("[data-test=status]")!.TextContent);
        Assert.Equal("Suspended", rows["/batch"].QuerySelector("[data-test=status]")!.TextContent);
        Assert.Equal("Waiting", rows["/stuck"].QuerySelector("[data-test=status]")!.TextContent);
        Assert.Equal("apps/view/web", rows["/web"].QuerySelector("a")!.GetAttribute("href"));

        var filtered = await Render.PageAsync<Apps>(fake, "http://localhost/apps?filter=ap&status=Deploying");
        Assert.Equal(["/api"], filtered.Tests("app-row").Select(r => r.GetAttribute("data-app")));
        Assert.Equal("ap", filtered.QuerySelector("#app-filter")!.GetAttribute("value"));

        fake.Failure = "Apps did not answer";
        Assert.Contains("Apps did not answer", (await Render.PageAsync<Apps>(fake, "http://localhost/apps")).Tests("load-error").Single().TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Apps_table_is_paged_server_side()
    {
        var fake = new FakeBackends();
        for (var i = 0; i < 120; i++)
        {
            fake.Apps.Add(new AppDetail(App($"/app-{i:D3}", 1, 1), [], null));
        }

        var doc = await Render.PageAsync<Apps>(fake, "http://localhost/apps?page=2");
        Assert.Equal(20, doc.Tests("app-row").Count);
        Assert.Equal("/app-100", doc.Tests("app-row")[0].GetAttribute("data-app"));
        Assert.Contains("Page 3 of 3 · 120 apps", doc.Tests("paging").Single().TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task App_detail_shows_tasks_queue_reasons_config_and_versions()
    {
        var fake = new FakeBackends();
        var started = DateTimeOffset.UtcNow.AddMinutes(-5);
        fake.Apps.Add(new AppDetail(
            App("/web", 3, 2, healthy: 2),
            [
                new AppTaskView("web.1", "/web", "host-1", "a1", [31000], "TASK_RUNNING", true, "2026-01-01T00:00:00.000Z", started, "LEADER"),
                new AppTaskView("web.2", "/web", "host-1", "a1", [31001], "TASK_RUNNING", null, "2026-01-01T00:00:00.000Z", started),
            ],
            new System.Text.Json.Nodes.JsonObject { ["message"] = "Command exited with status 1" }));
        fake.Queue.Add(new QueueEntry("/web", 1, false, ["UnfulfilledConstraint: hostname UNIQUE (3 offers from host-1)"]));
        var doc = await Render.PageAsync<AppDetailPage>(fake, "http://localhost/apps/view/web", P(nameof(AppDetailPage.AppPath), "web"));
        Assert.Equal(2, doc.Tests("task-row").Count);
        Assert.Contains("host-1:31000", doc.Tests("task-row")[0].TextContent, StringComparison.Ordinal);
        Assert.Contains("healthy", doc.Tests("task-row")[0].TextContent, StringComparison.Ordinal);
        Assert.Equal("LEADER", doc.QuerySelector("[data-model-state]")!.TextContent);
        Assert.Single(doc.QuerySelectorAll("[data-model-state]"));
        Assert.Contains("UnfulfilledConstraint", doc.Tests("queue").Single().TextContent, StringComparison.Ordinal);
        Assert.Contains("Command exited with status 1", doc.Tests("last-failure").Single().TextContent, StringComparison.Ordinal);
        Assert.Contains("\"cmd\": \"sleep 1000\"", doc.Tests("config").Single().TextContent, StringComparison.Ordinal);
        Assert.Contains("(current)", doc.Tests("versions").Single().TextContent, StringComparison.Ordinal);
        Assert.Equal("3", doc.QuerySelector("#scale-to")!.GetAttribute("value"));
        // Destructive actions ask first: the confirm buttons sit in closed <details>.
        Assert.NotNull(doc.QuerySelector("details#confirm-destroy button[name=op][value=destroy]"));
        Assert.NotNull(doc.QuerySelector("details[id='confirm-kill:web.1'] button[value='kill:web.1']"));

        var missing = await Render.PageAsync<AppDetailPage>(fake, "http://localhost/apps/view/nope", P(nameof(AppDetailPage.AppPath), "nope"));
        Assert.Single(missing.Tests("not-found"));
    }

    [Fact]
    public async Task New_app_form_has_labelled_fields()
    {
        var doc = await Render.PageAsync<NewApp>(new FakeBackends(), "http://localhost/apps/new");
        foreach (var id in new[] { "app-id", "app-cmd", "app-cpus", "app-mem", "app-instances" })
        {
            Assert.NotNull(doc.QuerySelector($"label[for={id}]"));
            Assert.NotNull(doc.QuerySelector($"input#{id}[name]"));
        }

        var json = await Render.PageAsync<NewApp>(new FakeBackends(), "http://localhost/apps/new?mode=json");
        Assert.Contains("\"id\": \"/hello\"", json.QuerySelector("textarea#app-json")!.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deployments_empty_loaded_and_error()
    {
        var fake = new FakeBackends();
        Assert.Single((await Render.PageAsync<Deployments>(fake)).Tests("empty"));

        fake.Deployments.Add(new DeploymentView("d1", ["/web"], 1, 2, ["StartApplication /web", "ScaleApplication /web"], "v"));
        var doc = await Render.PageAsync<Deployments>(fake);
        var d = doc.Tests("deployment").Single();
        Assert.Contains("ScaleApplication /web", d.TextContent, StringComparison.Ordinal);
        Assert.Contains("Step 1 of 2 in progress", d.TextContent, StringComparison.Ordinal);
        Assert.NotNull(d.QuerySelector("button[value='rollback:d1']"));
        Assert.NotNull(d.QuerySelector("button[value='stop:d1']"));

        fake.Failure = "down";
        Assert.Single((await Render.PageAsync<Deployments>(fake)).Tests("load-error"));
    }

    [Fact]
    public async Task Jobs_empty_loaded_and_error()
    {
        var fake = new FakeBackends();
        Assert.Single((await Render.PageAsync<Jobs>(fake)).Tests("empty"));

        var now = DateTimeOffset.UtcNow;
        fake.Jobs.Add(Job("extract", "R/2030-01-01T00:00:00Z/PT1H", lastSuccess: now.AddMinutes(-3)));
        fake.Jobs.Add(Job("load", parents: ["extract"], lastError: now.AddMinutes(-1)));
        fake.Jobs.Add(Job("cron", "*/5 * * * *", disabled: true));
        var doc = await Render.PageAsync<Jobs>(fake);
        var rows = doc.Tests("job-row").ToDictionary(r => r.GetAttribute("data-job")!);
        Assert.Contains("every 1 hour", rows["extract"].TextContent, StringComparison.Ordinal);
        Assert.Contains("succeeded", rows["extract"].TextContent, StringComparison.Ordinal);
        Assert.Contains("after extract", rows["load"].TextContent, StringComparison.Ordinal);
        Assert.Contains("failed", rows["load"].TextContent, StringComparison.Ordinal);
        Assert.Contains("every 5 minutes", rows["cron"].TextContent, StringComparison.Ordinal);
        Assert.Contains("disabled", rows["cron"].TextContent, StringComparison.Ordinal);

        fake.Failure = "down";
        Assert.Single((await Render.PageAsync<Jobs>(fake)).Tests("load-error"));
    }

    [Fact]
    public async Task Job_detail_shows_run_history_and_actions()
    {
        var fake = new FakeBackends();
        fake.Jobs.Add(Job("extract", "R/2030-01-01T00:00:00Z/PT1H"));
        var empty = await Render.PageAsync<JobDetail>(fake, parameters: P(nameof(JobDetail.Name), "extract"));
        Assert.Single(empty.Tests("no-runs"));
        Assert.NotNull(empty.QuerySelector("button[name=op][value=run]"));
        Assert.NotNull(empty.QuerySelector("button[name=op][value=disable]"));

        fake.Runs["extract"] = [new JobRunView("extract@1#0", "extract", "succeeded", "manual", 0, null, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "a1", "ct:extract@1#0")];
        var loaded = await Render.PageAsync<JobDetail>(fake, parameters: P(nameof(JobDetail.Name), "extract"));
        Assert.Equal("succeeded", loaded.Tests("run-row").Single().GetAttribute("data-state"));
        Assert.NotNull(loaded.QuerySelector("a[href^='logs/ct%3Aextract']"));

        Assert.Single((await Render.PageAsync<JobDetail>(fake, parameters: P(nameof(JobDetail.Name), "nope"))).Tests("not-found"));
    }

    [Fact]
    public async Task Dag_page_colours_each_job_by_its_last_state()
    {
        var fake = new FakeBackends { Dot = "digraph G {\n  1 [ label=\"extract\" ];\n  2 [ label=\"load\" ];\n  1 -> 2;\n}\n" };
        fake.Jobs.Add(Job("extract", "R/2030-01-01T00:00:00Z/PT1H"));
        fake.Jobs.Add(Job("load", parents: ["extract"]));
        fake.Runs["extract"] = [new JobRunView("r", "extract", "succeeded", "manual", 0, null, null, null, "", "")];
        fake.Runs["load"] = [new JobRunView("r2", "load", "running", "dependency", 0, null, null, null, "", "")];
        var doc = await Render.PageAsync<JobsDag>(fake);
        var dot = doc.Tests("dot").Single().TextContent;
        Assert.Contains("label=\"extract\", style=filled, fillcolor=\"#9be29b\"", dot, StringComparison.Ordinal);
        Assert.Contains("label=\"load\", style=filled, fillcolor=\"#9ec5fe\"", dot, StringComparison.Ordinal);
        Assert.Contains("1 -> 2;", dot, StringComparison.Ordinal);

        fake.Failure = "down";
        Assert.Single((await Render.PageAsync<JobsDag>(fake)).Tests("load-error"));
    }

    [Fact]
    public async Task Roles_show_weights_and_dominant_shares()
    {
        var fake = new FakeBackends();
        Assert.Single((await Render.PageAsync<Roles>(fake)).Tests("empty"));

        fake.State = Cluster();
        fake.Quota.Add(new RoleQuota("analytics", new Dictionary<string, double> { ["cpus"] = 2, ["mem"] = 1024 }, new Dictionary<string, double>()));
        var doc = await Render.PageAsync<Roles>(fake);
        Assert.Equal("cpus 2, mem 1 GiB / —", doc.Tests("role-row").Single(r => r.GetAttribute("data-role") == "analytics").QuerySelector("[data-test=quota]")!.TextContent);
        var web = doc.Tests("role-row").Single(r => r.GetAttribute("data-role") == "web");
        // web holds 2 of 8 active cpus and 4096 of 16384 MiB: 25% dominant share, weight 2 → 12.5%.
        Assert.Contains("25%", web.TextContent, StringComparison.Ordinal);
        Assert.Contains("12.5%", web.TextContent, StringComparison.Ordinal);
        Assert.Equal("2", web.QuerySelector("input[name='weight:web']")!.GetAttribute("value"));
        Assert.Contains("apps 25%", web.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Task_logs_page_shows_the_tail_and_follows()
    {
        var fake = new FakeBackends { State = Cluster() };
        var doc = await Render.PageAsync<Logs>(fake, "http://localhost/logs/web.1", P(nameof(Logs.TaskId), "web.1"));
        var log = doc.Tests("log").Single();
        Assert.Equal("hello world\n", log.TextContent);
        Assert.Equal("ui/logs/web.1/stdout?offset=12", log.GetAttribute("data-follow-url"));

        var unknown = await Render.PageAsync<Logs>(fake, "http://localhost/logs/nope", P(nameof(Logs.TaskId), "nope"));
        Assert.Contains("not known to the master", unknown.Tests("log-error").Single().TextContent, StringComparison.Ordinal);
    }
}
