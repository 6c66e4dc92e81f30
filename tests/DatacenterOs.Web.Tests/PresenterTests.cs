using System.Text.Json.Nodes;
using DatacenterOs.Web.Backend;
using DatacenterOs.Web.Presentation;
using static DatacenterOs.Web.Tests.FakeBackends;

namespace DatacenterOs.Web.Tests;

/// <summary>Presentation logic in plain classes: statuses, filtering, schedules, DAG colours, DRF shares, errors.</summary>
public sealed class PresenterTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 10, 30, 0, TimeSpan.Zero);

    [Fact]
    public void App_status_follows_queue_deployments_and_instances()
    {
        Assert.Equal(AppStatus.Running, AppPresenter.StatusOf(App("/a", 2, 2), null));
        Assert.Equal(AppStatus.Deploying, AppPresenter.StatusOf(App("/a", 2, 1, deployments: ["d"]), null));
        Assert.Equal(AppStatus.Suspended, AppPresenter.StatusOf(App("/a", 0, 0), null));
        Assert.Equal(AppStatus.Waiting, AppPresenter.StatusOf(App("/a", 2, 1), new QueueEntry("/a", 1, false, [])));
        Assert.Equal(AppStatus.Delayed, AppPresenter.StatusOf(App("/a", 2, 1, deployments: ["d"]), new QueueEntry("/a", 1, true, [])));
        Assert.Equal("Healthy", AppPresenter.HealthOf(App("/a", 2, 2, healthy: 2)));
        Assert.Equal("Unknown", AppPresenter.HealthOf(App("/a", 2, 2, healthy: 1)));
        Assert.Equal("No checks", AppPresenter.HealthOf(App("/a", 2, 2, checks: false)));
    }

    [Fact]
    public void Filter_matches_ids_case_insensitively_and_clamps_the_page()
    {
        var apps = new[] { App("/web/front", 1, 1), App("/web/api", 1, 1), App("/batch", 0, 0) };
        var page = AppPresenter.Filter(apps, [], "WEB", null, 7, 1);
        Assert.Equal(2, page.Total);
        Assert.Equal(1, page.Page);
        Assert.Equal("/web/front", page.Rows.Single().App.Id);
        Assert.Equal(["/batch"], AppPresenter.Filter(apps, [], null, AppStatus.Suspended, 0, 50).Rows.Select(r => r.App.Id));
    }

    [Theory]
    [InlineData("R/2026-03-01T00:00:00Z/PT1H", "every 1 hour", "2026-03-01T11:00:00+00:00")]
    [InlineData("R5/2026-03-02T00:00:00Z/P1D", "every 1 day, 5 more times", "2026-03-02T00:00:00+00:00")]
    [InlineData("R/2026-03-01T10:00:00Z/PT15M", "every 15 minutes", "2026-03-01T10:30:00+00:00")]
    [InlineData("*/5 * * * *", "cron */5 * * * * (every 5 minutes)", "2026-03-01T10:35:00+00:00")]
    [InlineData("0 0 * * *", "cron 0 0 * * * (every day at midnight)", "2026-03-02T00:00:00+00:00")]
    public void Schedules_in_words_with_the_next_run(string schedule, string words, string next)
    {
        var (w, n) = JobPresenter.Describe(Job("j", schedule), Now);
        Assert.Equal(words, w);
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), n);
    }

    [Fact]
    public void Dependent_jobs_run_after_their_parents()
    {
        var (words, next) = JobPresenter.Describe(Job("load", parents: ["extract", "transform"]), Now);
        Assert.Equal("after extract, transform", words);
        Assert.Null(next);
        var (exhausted, none) = JobPresenter.Describe(Job("once", "R0/2026-01-01T00:00:00Z/PT1H"), Now);
        Assert.Contains("no repeats left", exhausted, StringComparison.Ordinal);
        Assert.Null(none);
    }

    [Fact]
    public void Last_state_prefers_the_newest_run_then_the_latest_instant()
    {
        Assert.Equal("never run", JobPresenter.LastState(Job("a"), null));
        Assert.Equal("failed", JobPresenter.LastState(Job("a", lastSuccess: Now.AddHours(-1), lastError: Now), null));
        Assert.Equal("succeeded", JobPresenter.LastState(Job("a", lastSuccess: Now, lastError: Now.AddHours(-1)), null));
        Assert.Equal("running", JobPresenter.LastState(Job("a", lastSuccess: Now), new JobRunView("r", "a", "running", "manual", 0, null, null, null, "", "")));
    }

    [Fact]
    public void Dot_nodes_get_fill_colours_and_quoted_labels_survive()
    {
        var dot = "digraph G {\n  1 [ label=\"a \\\"quoted\\\"\" ];\n  2 [ label=\"b\" ];\n  1 -> 2;\n}\n";
        var coloured = JobPresenter.ColorDot(dot, new Dictionary<string, string> { ["a \"quoted\""] = "failed" });
        Assert.Contains("1 [ label=\"a \\\"quoted\\\"\", style=filled, fillcolor=\"#f3a0a0\"", coloured, StringComparison.Ordinal);
        Assert.Contains("2 [ label=\"b\", style=filled, fillcolor=\"#e9ecef\"", coloured, StringComparison.Ordinal);
        Assert.Contains("  1 -> 2;\n", coloured, StringComparison.Ordinal);
        Assert.StartsWith("digraph G {\n  node [ shape=box", coloured, StringComparison.Ordinal);
    }

    [Fact]
    public void Dominant_shares_follow_weighted_drf()
    {
        var roles = DrfPresenter.Roles(Cluster());
        // "*" holds nothing live (its one task failed): share 0, offered first.
        Assert.Equal(["*", "web"], roles.Select(r => r.Name));
        var web = roles[1];
        Assert.Equal("cpus", web.DominantResource);
        Assert.Equal(0.25, web.DominantShare, 6);
        Assert.Equal(0.125, web.WeightedShare, 6);
        Assert.Equal(("mem", 0.5), DrfPresenter.Dominant(R(1, 8), R(4, 16)));
        Assert.Equal(("—", 0), DrfPresenter.Dominant(R(0, 0), R(4, 16)));
    }

    [Fact]
    public void Marathon_and_jobs_validation_errors_name_their_fields()
    {
        var marathon = JsonNode.Parse("""{"message":"Object is not valid","details":[{"path":"/cpus","errors":["got -1.0, expected 0.001 or more"]},{"path":"/","errors":["needs cmd"]}]}""");
        var result = ErrorParser.Parse(422, marathon, "");
        Assert.False(result.Ok);
        Assert.Equal("Object is not valid", result.Message);
        Assert.Equal([new FieldError("/cpus", "got -1.0, expected 0.001 or more"), new FieldError("/", "needs cmd")], result.FieldErrors);

        var jobs = JsonNode.Parse("""{"message":"Invalid job","errors":[{"field":"schedule","message":"not ISO 8601"}]}""");
        Assert.Equal([new FieldError("schedule", "not ISO 8601")], ErrorParser.Parse(400, jobs, "").FieldErrors);
        Assert.Equal("boom", ErrorParser.Parse(500, null, "boom").Message);
    }

    [Fact]
    public void New_app_form_sends_numbers_and_leaves_bad_ones_to_the_api()
    {
        var app = JsonNode.Parse(NewAppForm.ToJson("/web", "sleep 1", "0.5", "64", "2", healthCheck: false))!;
        Assert.Equal(0.5, (double)app["cpus"]!);
        Assert.Equal(2, (int)app["instances"]!);
        Assert.Null(app["healthChecks"]);
        var bad = JsonNode.Parse(NewAppForm.ToJson("/web", "", "lots", "64", "1", healthCheck: true))!;
        Assert.Equal("lots", (string)bad["cpus"]!);
        Assert.Null(bad["cmd"]);
        Assert.Equal("COMMAND", (string)bad["healthChecks"]![0]!["protocol"]!);

        var job = JsonNode.Parse(NewJobForm.ToJson("load", "echo", "o@x", "0.1", "32", null, "extract, transform"))!;
        Assert.Equal(["extract", "transform"], job["parents"]!.AsArray().Select(p => (string)p!));
        Assert.Null(job["schedule"]);
    }

    [Fact]
    public void Formats_for_people()
    {
        Assert.Equal("1.5 GiB", Formats.Mib(1536));
        Assert.Equal("512 MiB", Formats.Mib(512));
        Assert.Equal("Running", Formats.TaskState("TASK_RUNNING"));
        Assert.Equal("5 min ago", Formats.Relative(Now.AddMinutes(-5), Now));
        Assert.Equal("in 2 h", Formats.Relative(Now.AddHours(2), Now));
        Assert.Equal("—", Formats.Relative(null, Now));
        Assert.Equal("/a/b%20c", HttpBackends.AppPath("a/b c/"));
    }
}
