using System.Collections.Immutable;

namespace DatacenterOs.Apps.Core.StateModels;

/// <summary>
/// An app's state model (DatacenterOs addition, after Apache Helix's state models): JSON
/// <c>"stateModel": {"type": "LeaderStandby", "leaders": 1, "callbackPath": "/state"}</c>. Absent means
/// <see cref="StateModelTypes.OnlineOffline"/>: every live instance is <c>ONLINE</c> (Marathon's behaviour).
/// With <see cref="StateModelTypes.LeaderStandby"/> exactly <see cref="Leaders"/> live instances are <c>LEADER</c> and
/// the others <c>STANDBY</c>; see <see cref="StateModelAssigner"/>.
/// </summary>
public sealed record StateModelDefinition
{
    /// <summary><c>OnlineOffline</c> (default) or <c>LeaderStandby</c>.</summary>
    public string Type { get; init; } = StateModelTypes.OnlineOffline;

    /// <summary>How many instances are <c>LEADER</c> (LeaderStandby only; default 1, at least 1, at most <c>instances</c>).</summary>
    public int Leaders { get; init; } = 1;

    /// <summary>
    /// HTTP path on the instance's first port that receives <c>POST {"state":"LEADER"}</c> (or <c>STANDBY</c>,
    /// <c>OFFLINE</c>) on every transition; null: instances learn their state from discovery only.
    /// </summary>
    public string? CallbackPath { get; init; }

    /// <summary>
    /// Seconds a demoted leader that is still running has to confirm its demotion (a 2xx answer to the callback) before
    /// another instance is promoted anyway (default 10; only with <see cref="CallbackPath"/>).
    /// </summary>
    public int DemotionTimeoutSeconds { get; init; } = 10;
}

/// <summary>State model names.</summary>
public static class StateModelTypes
{
    /// <summary>Every live instance is <c>ONLINE</c> (the default).</summary>
    public const string OnlineOffline = "OnlineOffline";

    /// <summary><c>leaders</c> live instances are <c>LEADER</c>, the other live ones <c>STANDBY</c>.</summary>
    public const string LeaderStandby = "LeaderStandby";

    /// <summary>All model names.</summary>
    public static readonly ImmutableArray<string> All = [OnlineOffline, LeaderStandby];
}

/// <summary>Model states an instance can be in (Helix's names).</summary>
public static class ModelStates
{
    /// <summary>A live instance of an OnlineOffline app.</summary>
    public const string Online = "ONLINE";

    /// <summary>Not live: staging, unhealthy, being killed or gone.</summary>
    public const string Offline = "OFFLINE";

    /// <summary>A LeaderStandby app's leader.</summary>
    public const string Leader = "LEADER";

    /// <summary>A live LeaderStandby instance that is not leader.</summary>
    public const string Standby = "STANDBY";
}

/// <summary>Validation of <see cref="AppDefinition.StateModel"/> with Marathon's paths (<c>/stateModel/leaders</c>).</summary>
public static class StateModelValidation
{
    /// <summary>The violations of <paramref name="app"/>'s state model (none when it has none).</summary>
    public static IEnumerable<ValidationError> Errors(AppDefinition app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.StateModel is not { } model)
        {
            yield break;
        }

        if (!StateModelTypes.All.Contains(model.Type))
        {
            yield return new ValidationError("/stateModel/type", $"must be one of {string.Join(", ", StateModelTypes.All)}");
        }

        if (model.Type == StateModelTypes.LeaderStandby)
        {
            if (model.Leaders < 1)
            {
                yield return new ValidationError("/stateModel/leaders", $"got {model.Leaders}, expected 1 or more");
            }
            else if (app.Instances > 0 && model.Leaders > app.Instances)
            {
                yield return new ValidationError("/stateModel/leaders", $"got {model.Leaders}, expected at most instances ({app.Instances})");
            }
        }

        if (model.CallbackPath is { } path)
        {
            if (!path.StartsWith('/') || path.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                yield return new ValidationError("/stateModel/callbackPath", "must be an absolute HTTP path such as /state");
            }
            else if (app.PortCount == 0)
            {
                yield return new ValidationError("/stateModel/callbackPath", "needs a port: the callback is sent to the instance's first port");
            }
        }

        if (model.DemotionTimeoutSeconds < 0)
        {
            yield return new ValidationError("/stateModel/demotionTimeoutSeconds", $"got {model.DemotionTimeoutSeconds}, expected 0 or more");
        }
    }
}
