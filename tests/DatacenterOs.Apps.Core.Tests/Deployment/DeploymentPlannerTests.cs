using System.Text.Json.Nodes;
using DatacenterOs.Apps.Core.Deployment;

namespace DatacenterOs.Apps.Core.Tests.Deployment;

public sealed class DeploymentPlannerTests
{
    private static readonly DateTimeOffset V1 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset V2 = new(2024, 1, 2, 12, 30, 15, 250, TimeSpan.Zero);

    private static AppDefinition App(string id, int instances = 2, string cmd = "sleep 1000", params string[] dependencies) => new()
    {
        Id = id,
        Cmd = cmd,
        Instances = instances,
        Dependencies = [.. dependencies],
        Version = V1,
    };

    private static Dictionary<PathId, AppDefinition> Apps(params AppDefinition[] apps) =>
        apps.ToDictionary(a => PathId.Parse(a.Id));

    private static DeploymentPlan Plan(
        Dictionary<PathId, AppDefinition> current,
        Dictionary<PathId, AppDefinition> target,
        IReadOnlyDictionary<PathId, IReadOnlyList<string>>? toKill = null) =>
        DeploymentPlanner.Plan(current, target, () => "plan-1", V2, toKill);

    /// <summary>Steps as "Action(/id[,n])" strings, one string per step.</summary>
    private static List<string> Describe(DeploymentPlan plan) =>
        plan.Steps.Select(s => string.Join(" ", s.Actions.Select(a => a switch
        {
            ScaleApplication scale => $"Scale({a.AppId},{scale.ScaleTo})",
            StartApplication start => $"Start({a.AppId},{start.ScaleTo})",
            RestartApplication => $"Restart({a.AppId})",
            StopApplication => $"Stop({a.AppId})",
            _ => throw new InvalidOperationException(),
        }))).ToList();

    [Fact]
    public void New_app_is_started_with_zero_instances_then_scaled()
    {
        var plan = Plan(Apps(), Apps(App("/web", instances: 3)));

        Assert.Equal(["Start(/web,0)", "Scale(/web,3)"], Describe(plan));
        Assert.Equal("plan-1", plan.Id);
        Assert.Equal(V2, plan.Version);
        Assert.False(plan.IsEmpty);
        Assert.Equal([PathId.Parse("/web")], plan.AffectedAppIds);
        Assert.True(plan.Affects(PathId.Parse("/web")));
    }

    [Fact]
    public void Removed_app_is_stopped_with_its_original_definition()
    {
        var old = App("/web");
        var plan = Plan(Apps(old, App("/db")), Apps(App("/db")));

        Assert.Equal(["Stop(/web)"], Describe(plan));
        Assert.Same(old, plan.Steps[0].Actions[0].App);
        Assert.Equal([PathId.Parse("/web")], plan.AffectedAppIds);
    }

    [Fact]
    public void Instance_change_only_is_a_scale_without_restart_and_keeps_the_instances_to_kill()
    {
        var current = App("/web", instances: 5);
        var target = current with { Instances = 3, Version = V2 };
        IReadOnlyList<string> sentenced = ["web.instance-1"];

        var plan = Plan(Apps(current), Apps(target), new Dictionary<PathId, IReadOnlyList<string>> { [PathId.Parse("/web")] = sentenced });

        Assert.Equal(["Scale(/web,3)"], Describe(plan));
        var scale = Assert.IsType<ScaleApplication>(plan.Steps[0].Actions[0]);
        Assert.Equal(sentenced, scale.ToKill);
        Assert.True(DeploymentPlanner.IsOnlyScaleChange(current, target));
        Assert.False(DeploymentPlanner.IsUpgrade(current, target));
    }

    [Theory]
    [InlineData("cmd")]
    [InlineData("env")]
    [InlineData("mem")]
    [InlineData("image")]
    [InlineData("healthChecks")]
    [InlineData("labels")]
    [InlineData("upgradeStrategy")]
    [InlineData("killSelection")]
    public void Configuration_change_restarts(string field)
    {
        var current = App("/web") with { Container = new AppContainer { Docker = new DockerContainer { Image = "nginx:1" } } };
        var target = field switch
        {
            "cmd" => current with { Cmd = "sleep 2000" },
            "env" => current with { Env = ValueDictionary.Of(("A", EnvVarValue.Of("1"))) },
            "mem" => current with { Mem = 256 },
            "image" => current with { Container = new AppContainer { Docker = new DockerContainer { Image = "nginx:2" } } },
            "healthChecks" => current with { HealthChecks = [new HealthCheck { Protocol = HealthCheckProtocols.Command }] },
            "labels" => current with { Labels = ValueDictionary.Of(("team", "b")) },
            "upgradeStrategy" => current with { UpgradeStrategy = new UpgradeStrategy { MinimumHealthCapacity = 0.5 } },
            "killSelection" => current with { KillSelection = KillSelections.OldestFirst },
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        } with { Version = V2 };

        var plan = Plan(Apps(current), Apps(target));

        Assert.Equal(["Restart(/web)"], Describe(plan));
        Assert.Same(target, plan.Steps[0].Actions[0].App);
        Assert.True(DeploymentPlanner.IsUpgrade(current, target));
    }

    [Fact]
    public void Configuration_and_instance_change_together_is_a_restart()
    {
        var current = App("/web", instances: 2);
        var plan = Plan(Apps(current), Apps(current with { Cmd = "new", Instances = 4, Version = V2 }));

        Assert.Equal(["Restart(/web)"], Describe(plan));
    }

    [Fact]
    public void New_version_without_other_change_is_a_restart_request()
    {
        var current = App("/web");
        var plan = Plan(Apps(current), Apps(current with { Version = V2 }));

        Assert.Equal(["Restart(/web)"], Describe(plan));
        Assert.True(DeploymentPlanner.NeedsRestart(current, current with { Version = V2 }));
        Assert.False(DeploymentPlanner.IsUpgrade(current, current with { Version = V2 }));
    }

    [Fact]
    public void Suspend_scales_to_zero_even_with_a_configuration_change()
    {
        var current = App("/web", instances: 3);

        Assert.Equal(["Scale(/web,0)"], Describe(Plan(Apps(current), Apps(current with { Instances = 0, Version = V2 }))));
        Assert.Equal(["Scale(/web,0)"], Describe(Plan(Apps(current), Apps(current with { Instances = 0, Cmd = "x", Version = V2 }))));
    }

    [Fact]
    public void Resuming_a_suspended_app_with_the_same_configuration_is_a_scale()
    {
        var suspended = App("/web", instances: 0);

        Assert.Equal(["Scale(/web,3)"], Describe(Plan(Apps(suspended), Apps(suspended with { Instances = 3, Version = V2 }))));
    }

    [Fact]
    public void Identical_apps_give_an_empty_plan()
    {
        var plan = Plan(Apps(App("/a"), App("/b", dependencies: "/a")), Apps(App("/a"), App("/b", dependencies: "/a")));

        Assert.True(plan.IsEmpty);
        Assert.Empty(plan.Steps);
        Assert.Empty(plan.AffectedAppIds);
        var json = plan.ToMarathonJson(0);
        Assert.Equal(0, (int)json["totalSteps"]!);
        Assert.Empty(json["steps"]!.AsArray());
        Assert.Empty(json["currentActions"]!.AsArray());
    }

    [Fact]
    public void Three_new_apps_in_a_chain_are_scaled_one_layer_per_step()
    {
        // db <- service <- frontend, the example of Marathon's dependency ordering.
        var target = Apps(App("/prod/frontend", dependencies: "/prod/service"), App("/prod/service", dependencies: "/prod/db"), App("/prod/db"));

        var plan = Plan(Apps(), target);

        Assert.Equal(
            ["Start(/prod/db,0) Start(/prod/frontend,0) Start(/prod/service,0)", "Scale(/prod/db,2)", "Scale(/prod/service,2)", "Scale(/prod/frontend,2)"],
            Describe(plan));
    }

    [Fact]
    public void Changed_apps_of_a_chain_restart_after_their_dependencies_and_unchanged_ones_are_skipped()
    {
        var current = Apps(App("/db"), App("/service", dependencies: "/db"), App("/frontend", dependencies: "/service"), App("/other"));
        var target = Apps(
            App("/db", cmd: "db v2") with { Version = V2 },
            App("/service", dependencies: "/db"),
            App("/frontend", cmd: "frontend v2", dependencies: "/service") with { Version = V2 },
            App("/other", instances: 7) with { Version = V2 });

        var plan = Plan(current, target);

        // /other has no dependencies: layer 1 with /db. /service is unchanged: its layer stays empty and is dropped.
        Assert.Equal(["Restart(/db) Scale(/other,7)", "Restart(/frontend)"], Describe(plan));
        Assert.Equal(["/db", "/frontend", "/other"], plan.AffectedAppIds.Select(p => p.ToString()));
    }

    [Fact]
    public void Layer_is_the_longest_dependency_path_and_groups_stand_for_their_apps()
    {
        // /web depends on the group /data (both apps in it) and directly on /data/cache; /data/cache depends on /data/db.
        var apps = Apps(
            App("/data/db"),
            App("/data/cache", dependencies: "db"),
            App("/web", dependencies: ["/data", "/data/cache"]),
            App("/tool"));

        var layers = DeploymentPlanner.DependencyLayers(apps);

        Assert.Equal(
            [["/data/db", "/tool"], ["/data/cache"], ["/web"]],
            layers.Select(l => l.Select(p => p.ToString()).ToList()).ToList());
    }

    [Fact]
    public void Dependency_cycle_is_an_error_naming_the_cycle()
    {
        var target = Apps(App("/a", dependencies: "/c"), App("/b", dependencies: "/a"), App("/c", dependencies: "/b"), App("/d"));

        var error = Assert.Throws<DependencyCycleException>(() => Plan(Apps(), target));

        Assert.StartsWith(DependencyCycleException.MarathonMessage, error.Message, StringComparison.Ordinal);
        Assert.Equal(["/a", "/c", "/b", "/a"], error.Cycle.Select(p => p.ToString()));
        Assert.Contains("/a -> /c -> /b -> /a", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Self_dependency_through_a_group_is_ignored_but_a_two_app_cycle_is_not()
    {
        Assert.Single(DeploymentPlanner.DependencyLayers(Apps(App("/g/a", dependencies: "/g"))));
        Assert.Throws<DependencyCycleException>(() => DeploymentPlanner.DependencyLayers(Apps(App("/g/a", dependencies: "/g"), App("/g/b", dependencies: "/g"))));
    }

    [Fact]
    public void Removed_apps_are_stopped_dependents_first_before_anything_starts()
    {
        var current = Apps(App("/db"), App("/api", dependencies: "/db"), App("/ui", dependencies: "/api"), App("/keep"));
        var target = Apps(App("/keep", instances: 3) with { Version = V2 }, App("/new"));

        var plan = Plan(current, target);

        Assert.Equal(["Stop(/ui)", "Stop(/api)", "Stop(/db)", "Start(/new,0)", "Scale(/keep,3) Scale(/new,2)"], Describe(plan));
    }

    [Fact]
    public void Plans_touching_a_common_app_conflict()
    {
        var web = App("/web");
        var first = Plan(Apps(web, App("/db")), Apps(web with { Instances = 4, Version = V2 }, App("/db")));
        var second = Plan(Apps(web), Apps(web with { Cmd = "x", Version = V2 }));
        var third = Plan(Apps(), Apps(App("/other")));

        Assert.True(first.IsAffectedBy(second));
        Assert.False(first.IsAffectedBy(third));
    }

    [Fact]
    public void Serialises_like_marathon_v2_deployments()
    {
        var plan = Plan(Apps(App("/old")), Apps(App("/web", instances: 3)));

        var json = plan.ToMarathonJson(currentStep: 2);

        TestApps.AssertJsonEqual(
            """
            {"id":"plan-1","version":"2024-01-02T12:30:15.250Z","affectedApps":["/old","/web"],"affectedPods":[],
             "steps":[{"actions":[{"action":"StopApplication","app":"/old"}]},
                      {"actions":[{"action":"StartApplication","app":"/web"}]},
                      {"actions":[{"action":"ScaleApplication","app":"/web"}]}],
             "currentActions":[{"action":"StartApplication","app":"/web","readinessCheckResults":[]}],
             "currentStep":2,"totalSteps":3}
            """,
            json.ToJsonString());
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.ToMarathonJson(4));
        Assert.Equal(3, plan.StepsToJson().Count);
    }

    [Fact]
    public void Keys_must_be_the_canonical_ids_of_their_apps()
    {
        var target = new Dictionary<PathId, AppDefinition> { [PathId.Parse("/web")] = App("/api") };

        Assert.Throws<ArgumentException>(() => Plan(Apps(), target));
    }

    [Fact]
    public void Id_comes_from_the_generator_once()
    {
        var calls = 0;
        var plan = DeploymentPlanner.Plan(Apps(), Apps(App("/a")), () => $"id-{++calls}", V2);

        Assert.Equal("id-1", plan.Id);
        Assert.Equal(1, calls);
        Assert.Contains("step 2: ScaleApplication(/a, instances=2)", plan.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Steps_json_is_stable_across_input_order()
    {
        var a = Plan(Apps(), Apps(App("/b"), App("/a"), App("/c")));
        var b = Plan(Apps(), Apps(App("/c"), App("/a"), App("/b")));

        Assert.True(JsonNode.DeepEquals(a.StepsToJson(), b.StepsToJson()));
    }
}
