using DatacenterOs.Apps.Core.Health;

namespace DatacenterOs.Apps.Core.Tests.Health;

public sealed class HealthKillPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly HealthCheck Check = new()
    {
        Protocol = HealthCheckProtocols.MesosHttp,
        GracePeriodSeconds = 300,
        IntervalSeconds = 60,
        MaxConsecutiveFailures = 3,
    };

    private static DateTimeOffset At(double seconds) => T0.AddSeconds(seconds);

    private static InstanceHealth Unhealthy(string id, int failures, double startedAt = -3600) =>
        new() { InstanceId = id, Healthy = false, ConsecutiveFailures = failures, StartedAt = At(startedAt) };

    private static InstanceHealth Healthy(string id) => new() { InstanceId = id, Healthy = true, StartedAt = At(-3600) };

    private static AppHealth App(string id, params InstanceHealth[] instances) => new() { AppId = id, HealthCheck = Check, Instances = instances };

    private static HealthKillVerdict Verdict(HealthKillDecision decision, string instanceId) => decision.Verdicts.Single(v => v.InstanceId == instanceId);

    [Fact]
    public void Kills_an_instance_with_enough_consecutive_failures_past_its_grace_period()
    {
        var decision = HealthKillPolicy.Decide([App("/web", Unhealthy("a", 3), Healthy("b"))], [], T0);

        var kill = Assert.Single(decision.Kills);
        Assert.Equal(("/web", "a"), (kill.AppId, kill.InstanceId));
        Assert.Equal("unhealthy: 3 consecutive health check failures (maxConsecutiveFailures 3)", kill.Reason);
        Assert.Single(decision.Verdicts); // healthy instances get no verdict
        Assert.Null(decision.NextEvaluation);
    }

    [Fact]
    public void Keeps_instances_below_the_failure_threshold_or_unknown_or_not_running_or_already_killed()
    {
        var app = App(
            "/web",
            Unhealthy("few", 2),
            new InstanceHealth { InstanceId = "unknown", Healthy = null, StartedAt = At(-3600) },
            Unhealthy("unreachable", 9) with { Running = false },
            Unhealthy("dying", 9) with { KillRequested = true });

        var decision = HealthKillPolicy.Decide([app], [], T0);

        Assert.Empty(decision.Kills);
        Assert.Equal(HealthKillAction.Keep, Verdict(decision, "few").Action);
        Assert.Equal("2 of 3 consecutive failures", Verdict(decision, "few").Reason);
        Assert.Equal("not running (staging or unreachable)", Verdict(decision, "unreachable").Reason);
        Assert.Equal("a kill was already ordered", Verdict(decision, "dying").Reason);
        Assert.DoesNotContain(decision.Verdicts, v => v.InstanceId == "unknown");
        Assert.Null(decision.NextEvaluation);
    }

    [Fact]
    public void Max_consecutive_failures_zero_never_kills()
    {
        var app = App("/web", Unhealthy("a", 100)) with { HealthCheck = Check with { MaxConsecutiveFailures = 0 } };

        var decision = HealthKillPolicy.Decide([app], [], T0);

        Assert.Equal(HealthKillAction.Keep, Assert.Single(decision.Verdicts).Action);
        Assert.Equal("maxConsecutiveFailures is 0: never killed for health", decision.Verdicts[0].Reason);
    }

    [Fact]
    public void Defers_until_the_grace_period_ends()
    {
        var started = -100; // grace ends at T0 + 200 s
        var decision = HealthKillPolicy.Decide([App("/web", Unhealthy("a", 5, started))], [], T0);

        var verdict = Assert.Single(decision.Verdicts);
        Assert.Equal(HealthKillAction.Defer, verdict.Action);
        Assert.Equal(At(200), verdict.NotBefore);
        Assert.Equal(At(200), decision.NextEvaluation);
        Assert.Equal("in its grace period of 300 s until 2026-03-01T12:03:20.000Z", verdict.Reason);

        Assert.Single(HealthKillPolicy.Decide([App("/web", Unhealthy("a", 5, started))], [], At(200)).Kills);
    }

    [Fact]
    public void One_kill_per_app_per_interval_even_when_all_its_instances_are_unhealthy()
    {
        var app = App("/web", Unhealthy("a", 3), Unhealthy("b", 7), Unhealthy("c", 4));

        var first = HealthKillPolicy.Decide([app], [], T0);

        Assert.Equal("b", Assert.Single(first.Kills).InstanceId); // most failures first
        Assert.All(first.Verdicts.Where(v => v.Action != HealthKillAction.Kill), v =>
        {
            Assert.Equal(HealthKillAction.Defer, v.Action);
            Assert.Equal(At(60), v.NotBefore);
            Assert.StartsWith("app rate limit: one health kill per 60 s", v.Reason, StringComparison.Ordinal);
        });
        Assert.Equal(At(60), first.NextEvaluation);

        // The caller applied the kill and records it; b is now being killed.
        var history = new[] { new HealthKillRecord("/web", "b", T0) };
        var later = app with { Instances = [Unhealthy("a", 3), Unhealthy("b", 7) with { KillRequested = true }, Unhealthy("c", 4)] };
        Assert.Empty(HealthKillPolicy.Decide([later], history, At(59.999)).Kills);
        Assert.Equal("c", Assert.Single(HealthKillPolicy.Decide([later], history, At(60)).Kills).InstanceId);
    }

    [Fact]
    public void Minimum_app_spacing_stretches_a_short_interval()
    {
        var app = App("/web", Unhealthy("a", 3)) with { HealthCheck = Check with { IntervalSeconds = 1 } };
        var history = new[] { new HealthKillRecord("/web", "old", T0) };
        var options = new HealthKillOptions { MinimumAppKillSpacing = TimeSpan.FromSeconds(30) };

        var decision = HealthKillPolicy.Decide([app], history, At(10), options);

        Assert.Equal(At(30), Assert.Single(decision.Verdicts).NotBefore);
        Assert.Single(HealthKillPolicy.Decide([app], history, At(30), options).Kills);
    }

    [Fact]
    public void Global_window_limits_kills_across_apps()
    {
        var apps = Enumerable.Range(0, 5).Select(i => App($"/app{i}", Unhealthy($"i{i}", 3 + i))).ToList();
        var options = new HealthKillOptions { GlobalKillLimit = 3, GlobalWindow = TimeSpan.FromMinutes(1) };
        var history = new[] { new HealthKillRecord("/other", "x", At(-50)) }; // one slot used until T0 + 10 s

        var decision = HealthKillPolicy.Decide(apps, history, T0, options);

        Assert.Equal(["i4", "i3"], decision.Kills.Select(k => k.InstanceId));
        var deferred = decision.Verdicts.Where(v => v.Action == HealthKillAction.Defer).ToList();
        Assert.Equal(["i0", "i1", "i2"], deferred.Select(v => v.InstanceId));
        Assert.All(deferred, v =>
        {
            Assert.Equal("global rate limit: at most 3 health kills per 60 s", v.Reason);
            Assert.Equal(At(10), v.NotBefore);
        });
        Assert.Equal(At(10), decision.NextEvaluation);

        // At T0 + 10 s the oldest kill left the window: one more slot.
        var killedNow = decision.Kills.Select(k => new HealthKillRecord(k.AppId, k.InstanceId, T0));
        var rest = apps.Where(a => a.AppId is "/app0" or "/app1" or "/app2").ToList();
        var next = HealthKillPolicy.Decide(rest, [.. history, .. killedNow], At(10), options);
        Assert.Equal("i2", Assert.Single(next.Kills).InstanceId);
        Assert.Equal(At(60), next.NextEvaluation);
    }

    [Fact]
    public void Global_limit_zero_disables_health_kills()
    {
        var decision = HealthKillPolicy.Decide([App("/web", Unhealthy("a", 3))], [], T0, new HealthKillOptions { GlobalKillLimit = 0 });

        var verdict = Assert.Single(decision.Verdicts);
        Assert.Equal(HealthKillAction.Defer, verdict.Action);
        Assert.Null(verdict.NotBefore);
    }

    [Fact]
    public void Circuit_breaker_stops_kills_when_most_of_the_cluster_is_unhealthy()
    {
        // Marathon #3317: an overloaded checker saw everything unhealthy and killed it all.
        var many = App("/web", [.. Enumerable.Range(0, 6).Select(i => Unhealthy($"w{i}", 5)), .. Enumerable.Range(0, 4).Select(i => Healthy($"h{i}"))]);

        var tripped = HealthKillPolicy.Decide([many], [], T0);

        Assert.Empty(tripped.Kills);
        Assert.All(tripped.Verdicts, v =>
        {
            Assert.Equal(HealthKillAction.Defer, v.Action);
            Assert.StartsWith("circuit breaker: 6 of 10 running health-checked instances are unhealthy", v.Reason, StringComparison.Ordinal);
            Assert.Null(v.NotBefore);
        });
        Assert.Null(tripped.NextEvaluation);

        // Below the fraction, or below the minimum size, or disabled: kills resume (rate-limited).
        var fewer = many with { Instances = [.. many.Instances.Take(4), .. Enumerable.Range(0, 6).Select(i => Healthy($"k{i}"))] };
        Assert.Single(HealthKillPolicy.Decide([fewer], [], T0).Kills);
        Assert.Single(HealthKillPolicy.Decide([App("/small", Unhealthy("a", 5), Unhealthy("b", 5))], [], T0).Kills);
        Assert.Single(HealthKillPolicy.Decide([many], [], T0, new HealthKillOptions { MassFailureFraction = null }).Kills);
    }

    [Fact]
    public void Decision_does_not_depend_on_input_order()
    {
        var a = App("/a", Unhealthy("a1", 4, -500), Unhealthy("a2", 4, -900));
        var b = App("/b", Unhealthy("b1", 4, -900));

        var one = HealthKillPolicy.Decide([a, b], [], T0);
        var two = HealthKillPolicy.Decide([b with { Instances = [.. b.Instances.Reverse()] }, a with { Instances = [.. a.Instances.Reverse()] }], [], T0);

        Assert.Equal(one.Verdicts.ToList(), two.Verdicts.ToList());
        Assert.Equal(["a2", "b1"], one.Kills.Select(k => k.InstanceId)); // same failures: earliest started first, then app id
    }

    [Fact]
    public void Rejects_nonsensical_options()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HealthKillPolicy.Decide([], [], T0, new HealthKillOptions { GlobalKillLimit = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HealthKillPolicy.Decide([], [], T0, new HealthKillOptions { MassFailureFraction = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => HealthKillPolicy.Decide([], [], T0, new HealthKillOptions { MassFailureFraction = 1.5 }));
    }
}
