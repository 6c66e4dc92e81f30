using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json.Nodes;

namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// The steps that take the apps from <see cref="Original"/> to <see cref="Target"/> (Marathon
/// <c>core/deployment/DeploymentPlan.scala</c>). Steps run one after the other; the actions of a step run in
/// parallel. Built by <see cref="DeploymentPlanner.Plan(IReadOnlyDictionary{PathId, AppDefinition}, IReadOnlyDictionary{PathId, AppDefinition}, Func{string}, DateTimeOffset)"/>.
/// Immutable.
/// </summary>
public sealed class DeploymentPlan
{
    internal DeploymentPlan(
        string id,
        DateTimeOffset version,
        ImmutableSortedDictionary<PathId, AppDefinition> original,
        ImmutableSortedDictionary<PathId, AppDefinition> target,
        IReadOnlyList<DeploymentStep> steps)
    {
        Id = id;
        Version = version;
        Original = original;
        Target = target;
        Steps = steps;
        AffectedAppIds = steps.SelectMany(s => s.Actions).Select(a => a.AppId).Distinct().Order().ToList();
    }

    /// <summary>The deployment id (from the injected generator).</summary>
    public string Id { get; }

    /// <summary>When the plan was made; also the version new and changed apps get.</summary>
    public DateTimeOffset Version { get; }

    /// <summary>The apps before the deployment, by id.</summary>
    public IReadOnlyDictionary<PathId, AppDefinition> Original { get; }

    /// <summary>The apps after the deployment, by id.</summary>
    public IReadOnlyDictionary<PathId, AppDefinition> Target { get; }

    /// <summary>The steps, in execution order; never contains an empty step.</summary>
    public IReadOnlyList<DeploymentStep> Steps { get; }

    /// <summary>True when there is nothing to do (Marathon <c>isEmpty</c>).</summary>
    public bool IsEmpty => Steps.Count == 0;

    /// <summary>
    /// Ids of the apps some action touches, ordered (Marathon <c>affectedRunSpecIds</c>): what a running deployment
    /// locks. A plan whose ids intersect a running plan's is rejected with 409 unless forced.
    /// </summary>
    public IReadOnlyList<PathId> AffectedAppIds { get; }

    /// <summary>True when <paramref name="appId"/> is among <see cref="AffectedAppIds"/>.</summary>
    public bool Affects(PathId appId)
    {
        ArgumentNullException.ThrowIfNull(appId);
        return AffectedAppIds.Contains(appId.Canonicalize());
    }

    /// <summary>True when both plans touch a common app (Marathon <c>isAffectedBy</c>): they conflict.</summary>
    public bool IsAffectedBy(DeploymentPlan other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return AffectedAppIds.Intersect(other.AffectedAppIds).Any();
    }

    /// <summary>
    /// The steps as Marathon serialises them (<c>DeploymentPlanConversion</c>):
    /// <c>[{"actions":[{"action":"ScaleApplication","app":"/x"}]}, …]</c>.
    /// </summary>
    public JsonArray StepsToJson() => [.. Steps.Select(s => (JsonNode)new JsonObject { ["actions"] = ActionsToJson(s, readiness: false) })];

    /// <summary>
    /// The plan as an element of <c>GET /v2/deployments</c>:
    /// <c>{"id","version","affectedApps","affectedPods","steps":[{"actions":[{"action","app"}]}],"currentActions":[{"action","app","readinessCheckResults":[]}],"currentStep","totalSteps"}</c>.
    /// </summary>
    /// <param name="currentStep">1-based number of the step being executed; 0 before the first step starts.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="currentStep"/> is not in 0..<see cref="Steps"/>.Count.</exception>
    public JsonObject ToMarathonJson(int currentStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(currentStep);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(currentStep, Steps.Count);
        return new JsonObject
        {
            ["id"] = Id,
            ["version"] = FormatTimestamp(Version),
            ["affectedApps"] = new JsonArray([.. AffectedAppIds.Select(id => (JsonNode)JsonValue.Create(id.ToString()))]),
            ["affectedPods"] = new JsonArray(),
            ["steps"] = StepsToJson(),
            ["currentActions"] = currentStep == 0 ? new JsonArray() : ActionsToJson(Steps[currentStep - 1], readiness: true),
            ["currentStep"] = currentStep,
            ["totalSteps"] = Steps.Count,
        };
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"DeploymentPlan {Id} {FormatTimestamp(Version)}: "
        + (IsEmpty
            ? "no steps"
            : string.Join("; ", Steps.Select((s, i) => $"step {i + 1}: " + string.Join(", ", s.Actions.Select(Describe)))));

    /// <summary>Marathon's timestamp format, e.g. <c>2015-09-25T15:13:48.343Z</c>.</summary>
    internal static string FormatTimestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static JsonArray ActionsToJson(DeploymentStep step, bool readiness) =>
        [.. step.Actions.Select(a =>
        {
            var node = new JsonObject { ["action"] = a.ActionName, ["app"] = a.AppId.ToString() };
            if (readiness)
            {
                node["readinessCheckResults"] = new JsonArray();
            }

            return (JsonNode)node;
        })];

    private static string Describe(DeploymentAction action) => action switch
    {
        ScaleApplication scale => $"{action.ActionName}({action.AppId}, instances={scale.ScaleTo}"
            + (scale.ToKill is { Count: > 0 } kill ? $", kill={string.Join(',', kill)})" : ")"),
        StartApplication start => $"{action.ActionName}({action.AppId}, instances={start.ScaleTo})",
        _ => $"{action.ActionName}({action.AppId})",
    };
}
