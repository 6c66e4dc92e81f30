using System.Text.Json.Nodes;
using static DatacenterOs.Jobs.Core.Tests.T;

namespace DatacenterOs.Jobs.Core.Tests;

public sealed class ValidationTests
{
    private static readonly DateTimeOffset Now = At("2026-01-01T00:00:00Z");

    private static JobValidationResult Check(JobDefinition job) => JobValidator.Validate(JobNormalizer.Normalize(job, Now));

    [Fact]
    public void A_normalized_scheduled_job_is_valid()
    {
        Assert.True(Check(Scheduled("nightly-report_v2.1", "R/2026-01-01T02:00:00Z/P1D", "Europe/Berlin")).IsValid);
        Assert.True(Check(Scheduled("cron", "0 2 * * *", "America/New_York")).IsValid);
        Assert.True(Check(Dependent("child", "parent")).IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    [InlineData("a@b")]
    [InlineData("täst")]
    public void Name_must_match_Chronos_pattern(string name)
    {
        var result = Check(Scheduled(name, "@daily"));

        Assert.Equal([JobFields.Name], result.Fields);
    }

    [Fact]
    public void Command_is_required_unless_there_is_a_container()
    {
        var noCommand = Scheduled("a", "@daily") with { Command = " " };

        Assert.Equal([JobFields.Command], Check(noCommand).Fields);
        Assert.True(Check(noCommand with { Container = new JobContainer { Image = "busybox" } }).IsValid);
    }

    [Fact]
    public void Negative_resources_are_rejected_and_zero_means_default()
    {
        var result = Check(Scheduled("a", "@daily") with { Cpus = -1, Mem = -5, Disk = 0 });

        Assert.Equal([JobFields.Cpus, JobFields.Mem], result.Fields);
        Assert.Contains("0 or absent means the default", result.MessagesFor(JobFields.Cpus)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Schedule_and_parents_are_mutually_exclusive()
    {
        var both = Scheduled("a", "@daily") with { Parents = ["b"] };
        var neither = new JobDefinition { Name = "a", Command = "x" };

        Assert.Contains("not both", JobValidator.Validate(both).MessagesFor(JobFields.Schedule)[0], StringComparison.Ordinal);
        Assert.Contains("needs a schedule or parents", JobValidator.Validate(neither).MessagesFor(JobFields.Schedule)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_period_unknown_zone_and_bad_cron_name_their_fields()
    {
        Assert.Equal([JobFields.Schedule], Check(Scheduled("a", "R/2026-01-01T00:00:00Z/PT0S")).Fields);
        Assert.Equal([JobFields.ScheduleTimeZone], Check(Scheduled("a", "@daily", "Nowhere/Special")).Fields);
        Assert.Equal([JobFields.Schedule], Check(Scheduled("a", "0 0 0 0 0")).Fields);
    }

    [Fact]
    public void Start_before_1970_is_rejected_with_Chronos_message()
    {
        var result = Check(Scheduled("a", "R/1969-12-31T00:00:00Z/P1D"));

        Assert.Contains("is before 1970!", result.MessagesFor(JobFields.Schedule)[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_retries_and_other_ranges_are_rejected()
    {
        var result = Check(Scheduled("a", "@daily") with
        {
            Retries = -1,
            StartingDeadlineSeconds = 0,
            MaxRunSeconds = 0,
            RetryDelaySeconds = -3,
            ConcurrencyPolicy = "SOMETIMES",
            DependencyMode = "magic",
        });

        Assert.Equal(
            [JobFields.Retries, JobFields.StartingDeadlineSeconds, JobFields.ConcurrencyPolicy, JobFields.MaxRunSeconds, JobFields.RetryDelaySeconds, JobFields.DependencyMode],
            result.Fields);
    }

    [Fact]
    public void Contradicting_aliases_are_rejected()
    {
        var job = Scheduled("a", "@daily") with { Epsilon = "PT60S", StartingDeadlineSeconds = 30, Concurrent = true, ConcurrencyPolicy = "FORBID" };

        var result = JobValidator.Validate(job);

        Assert.Equal([JobFields.StartingDeadlineSeconds, JobFields.ConcurrencyPolicy], result.Fields);
    }

    [Fact]
    public void Parents_must_be_non_empty_distinct_and_not_self()
    {
        Assert.Contains("at least one", JobValidator.Validate(Dependent("a")).MessagesFor(JobFields.Parents)[0], StringComparison.Ordinal);
        var messages = JobValidator.Validate(Dependent("a", "a", "b", "b")).MessagesFor(JobFields.Parents);
        Assert.Contains(messages, m => m.Contains("cannot depend on itself", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("'b' is listed more than once", StringComparison.Ordinal));
    }

    [Fact]
    public void Both_uris_and_fetch_is_rejected_as_in_Chronos()
    {
        var job = Scheduled("a", "@daily") with { Uris = ["http://x/y"], Fetch = [new FetchUri { Uri = "http://x/z" }] };

        Assert.Equal("Tried to add both uri (deprecated) and fetch parameters on a", JobValidator.Validate(job).MessagesFor(JobFields.Uris)[0]);
    }

    [Fact]
    public void Nested_fields_are_named_with_their_index()
    {
        var job = Scheduled("a", "@daily") with
        {
            EnvironmentVariables = [new EnvironmentVariable("", "v")],
            Constraints = [["rack", "GROUP_BY", "1"], ["host", "LIKE", "[unclosed"]],
            Container = new JobContainer { Image = "", Network = "USER", Volumes = [new JobVolume { ContainerPath = "/x", Mode = "RX" }] },
        };

        var fields = JobValidator.Validate(job).Fields;

        Assert.Equal(
            ["container.image", "container.networkName", "container.volumes[0].mode", "environmentVariables[0].name", "constraints[0]", "constraints[1]"],
            fields);
    }

    [Fact]
    public void Error_body_names_the_field()
    {
        var body = JsonNode.Parse(Check(Scheduled("a", "@daily", "Atlantis/Capital")).ToJson())!;

        Assert.Equal("Job is not valid", (string)body["message"]!);
        Assert.Equal("scheduleTimeZone", (string)body["errors"]![0]!["field"]!);
    }

    [Fact]
    public void Unknown_parent_is_rejected_naming_it()
    {
        var existing = new[] { Scheduled("a", "@daily") };

        var result = JobValidator.ValidateUpsert(Dependent("c", "a", "ghost"), existing);

        Assert.Equal(["Parent job 'ghost' does not exist"], result.MessagesFor(JobFields.Parents));
    }

    [Fact]
    public void Cycle_is_rejected_naming_its_path()
    {
        var existing = new[] { Dependent("a", "c"), Dependent("b", "a"), Dependent("c", "b") with { Parents = ["root"] }, Scheduled("root", "@daily") };

        // Updating c to depend on b closes the cycle; the path starts at the job being changed.
        var result = JobValidator.ValidateGraph(Dependent("c", "b"), existing);

        Assert.Equal(["Dependency cycle: c -> a -> b -> c"], result.MessagesFor(JobFields.Parents));
    }
}
