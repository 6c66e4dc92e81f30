using DatacenterOs.Apps.Core.Deployment;

namespace DatacenterOs.Apps.Core.Tests.Deployment;

public sealed class LaunchBackoffTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static void AssertSeconds(double expected, TimeSpan actual) =>
        Assert.InRange(actual.TotalSeconds, expected - 1e-6, expected + 1e-6);

    [Fact]
    public void Delay_grows_by_the_factor_per_failure()
    {
        var backoff = LaunchBackoff.Create();
        double[] expected = [1, 1.15, 1.3225, 1.520875, 1.74900625, 2.0113571875];

        var at = T0;
        foreach (var seconds in expected)
        {
            backoff = backoff.RecordFailure(at);
            AssertSeconds(seconds, backoff.CurrentDelay);
            AssertSeconds(seconds, LaunchBackoff.DelayAfter(backoff.Failures, backoff.InitialDelay, backoff.Factor, backoff.MaxDelay));
            Assert.Equal(at + backoff.CurrentDelay, backoff.NextLaunchAllowedAt(at));
            at = backoff.NextLaunchAllowedAt(at).AddSeconds(1);
        }

        Assert.Equal(expected.Length, backoff.Failures);
    }

    [Fact]
    public void Delay_is_capped_at_the_maximum()
    {
        // 1.15^40 ≈ 268 s, 1.15^41 ≈ 308 s: the 42nd failure hits the 300 s cap.
        var initial = TimeSpan.FromSeconds(1);
        var max = TimeSpan.FromSeconds(300);
        Assert.InRange(LaunchBackoff.DelayAfter(41, initial, 1.15, max).TotalSeconds, 267, 269);
        Assert.Equal(max, LaunchBackoff.DelayAfter(42, initial, 1.15, max));
        Assert.Equal(max, LaunchBackoff.DelayAfter(1000, initial, 1.15, max));

        var backoff = LaunchBackoff.Create();
        var at = T0;
        for (var i = 0; i < 60; i++)
        {
            backoff = backoff.RecordFailure(at);
            at = at.AddSeconds(1);
        }

        Assert.Equal(max, backoff.CurrentDelay);
        Assert.Equal(at.AddSeconds(-1) + max, backoff.NextLaunchAllowedAt(at));
    }

    [Fact]
    public void Initial_delay_above_the_maximum_is_capped_too()
    {
        var backoff = LaunchBackoff.Create(backoffSeconds: 600, maxLaunchDelaySeconds: 300).RecordFailure(T0);

        Assert.Equal(TimeSpan.FromSeconds(300), backoff.CurrentDelay);
    }

    [Fact]
    public void Launch_is_allowed_again_once_the_delay_has_passed()
    {
        var backoff = LaunchBackoff.Create(backoffSeconds: 10).RecordFailure(T0);

        Assert.False(backoff.IsLaunchAllowed(T0.AddSeconds(5)));
        Assert.Equal(T0.AddSeconds(10), backoff.NextLaunchAllowedAt(T0.AddSeconds(5)));
        Assert.Equal(TimeSpan.FromSeconds(5), backoff.RemainingDelay(T0.AddSeconds(5)));
        Assert.True(backoff.IsLaunchAllowed(T0.AddSeconds(10)));
        Assert.Equal(T0.AddSeconds(11), backoff.NextLaunchAllowedAt(T0.AddSeconds(11)));
    }

    [Fact]
    public void No_failures_means_no_delay()
    {
        var backoff = LaunchBackoff.Create();

        Assert.Equal(T0, backoff.NextLaunchAllowedAt(T0));
        Assert.Equal(TimeSpan.Zero, LaunchBackoff.DelayAfter(0, backoff.InitialDelay, backoff.Factor, backoff.MaxDelay));
    }

    [Fact]
    public void Any_app_change_resets_the_delay_and_takes_the_new_settings()
    {
        var app = new AppDefinition { Id = "/web", Cmd = "crash", Version = T0 };
        var backoff = LaunchBackoff.For(app).RecordFailure(T0).RecordFailure(T0.AddSeconds(2));
        Assert.Equal(2, backoff.Failures);

        Assert.Same(backoff, backoff.ForApp(app));

        var scaled = backoff.ForApp(app with { Instances = 3, Version = T0.AddMinutes(1) });
        Assert.Equal(0, scaled.Failures);
        Assert.Equal(T0.AddSeconds(2), scaled.NextLaunchAllowedAt(T0.AddSeconds(2)));

        var tuned = backoff.ForApp(app with { BackoffSeconds = 5, BackoffFactor = 2, MaxLaunchDelaySeconds = 60 });
        Assert.Equal(0, tuned.Failures);
        Assert.Equal(TimeSpan.FromSeconds(5), tuned.InitialDelay);
        Assert.Equal(2, tuned.Factor);
        Assert.Equal(TimeSpan.FromSeconds(60), tuned.MaxDelay);
        Assert.Equal(TimeSpan.FromSeconds(10), tuned.RecordFailure(T0).RecordFailure(T0).CurrentDelay);
    }

    [Fact]
    public void Reset_and_success_clear_the_delay()
    {
        var backoff = LaunchBackoff.Create().RecordFailure(T0).RecordFailure(T0);

        Assert.Equal(0, backoff.Reset().Failures);
        Assert.Equal(0, backoff.RecordSuccess().Failures);
        Assert.Equal(T0, backoff.RecordSuccess().NextLaunchAllowedAt(T0));
        AssertSeconds(1, backoff.RecordSuccess().RecordFailure(T0).CurrentDelay);
    }

    [Fact]
    public void Delay_is_forgotten_when_no_failure_happened_for_the_maximum_delay()
    {
        var backoff = LaunchBackoff.Create().RecordFailure(T0).RecordFailure(T0).RecordFailure(T0);
        AssertSeconds(1.3225, backoff.CurrentDelay);

        Assert.False(backoff.IsOverdue(T0.AddSeconds(300)));
        Assert.True(backoff.IsOverdue(T0.AddSeconds(301)));

        var after = backoff.RecordFailure(T0.AddSeconds(301));
        Assert.Equal(1, after.Failures);
        AssertSeconds(1, after.CurrentDelay);
    }

    [Fact]
    public void Rejects_invalid_settings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchBackoff.Create(backoffFactor: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchBackoff.Create(backoffSeconds: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => LaunchBackoff.Create(backoffFactor: double.NaN));
    }
}
