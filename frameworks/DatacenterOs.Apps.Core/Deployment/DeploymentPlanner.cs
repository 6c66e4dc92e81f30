using System.Collections.Immutable;

namespace DatacenterOs.Apps.Core.Deployment;

/// <summary>
/// Builds deployment plans by diffing the current apps against the target apps (Marathon <c>DeploymentPlan.apply</c>).
/// Pure: the id comes from an injected generator and the time is an argument.
/// </summary>
/// <remarks>
/// <para>Steps, in order (empty steps are dropped):</para>
/// <list type="number">
/// <item><c>StopApplication</c> for every app missing from the target. DatacenterOs refinement: when removed apps depend
/// on each other, dependents are stopped in an earlier step than their dependencies (reverse dependency layers of the
/// current apps); without such dependencies this is Marathon's single stop step.</item>
/// <item><c>StartApplication</c> with 0 instances for every new app.</item>
/// <item>One step per dependency layer of the target (Marathon <c>runSpecsGroupedByLongestPath</c>: layer = number of
/// apps on the longest dependency path starting at the app; apps without dependencies first), holding the new and
/// changed apps of that layer: a new app → <c>ScaleApplication(instances)</c>; a suspended app (target
/// <c>instances: 0</c>) → <c>ScaleApplication(0)</c>; only <c>instances</c> changed → <c>ScaleApplication(instances, toKill)</c>;
/// anything else changed (see <see cref="IsUpgrade"/>), or only the version (a restart request) →
/// <c>RestartApplication</c>.</item>
/// </list>
/// <para>
/// Dependencies name apps or groups (a group stands for every app below it) and are resolved against the app's
/// group; unknown ids are ignored. A dependency cycle in the target throws <see cref="DependencyCycleException"/>.
/// Suspending with a configuration change also gives <c>ScaleApplication(0)</c>: Marathon plans a
/// <c>RestartApplication</c> whose execution is a no-op at 0 instances, leaving old instances to its periodic scale
/// check; scaling to 0 stops them right away.
/// </para>
/// </remarks>
public static class DeploymentPlanner
{
    /// <summary>The plan from <paramref name="current"/> to <paramref name="target"/>.</summary>
    /// <param name="current">The apps now, by canonical id.</param>
    /// <param name="target">The apps wanted, by canonical id.</param>
    /// <param name="newId">Generates the deployment id.</param>
    /// <param name="now">The plan's version.</param>
    /// <exception cref="DependencyCycleException">The target's dependencies form a cycle.</exception>
    /// <exception cref="ArgumentException">A key is not the canonical id of its app.</exception>
    public static DeploymentPlan Plan(
        IReadOnlyDictionary<PathId, AppDefinition> current,
        IReadOnlyDictionary<PathId, AppDefinition> target,
        Func<string> newId,
        DateTimeOffset now) =>
        Plan(current, target, newId, now, toKill: null);

    /// <summary>
    /// The plan from <paramref name="current"/> to <paramref name="target"/>, with instances that scale actions must
    /// kill (Marathon's <c>toKill</c>, e.g. from <c>DELETE /v2/apps/{id}/tasks?scale=true</c>).
    /// </summary>
    /// <param name="current">The apps now, by canonical id.</param>
    /// <param name="target">The apps wanted, by canonical id.</param>
    /// <param name="newId">Generates the deployment id.</param>
    /// <param name="now">The plan's version.</param>
    /// <param name="toKill">Instance ids to kill, by app; used by the app's <c>ScaleApplication</c>, if it gets one.</param>
    /// <exception cref="DependencyCycleException">The target's dependencies form a cycle.</exception>
    /// <exception cref="ArgumentException">A key is not the canonical id of its app.</exception>
    public static DeploymentPlan Plan(
        IReadOnlyDictionary<PathId, AppDefinition> current,
        IReadOnlyDictionary<PathId, AppDefinition> target,
        Func<string> newId,
        DateTimeOffset now,
        IReadOnlyDictionary<PathId, IReadOnlyList<string>>? toKill)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(newId);
        var original = ToSorted(current, nameof(current));
        var wanted = ToSorted(target, nameof(target));

        // Validate the target graph first: a cycle is an error whatever else changes.
        var targetLayers = LongestPathLengths(wanted, throwOnCycle: true);

        var steps = new List<DeploymentStep>();

        // 1. Stop removed apps, dependents before their dependencies.
        var removed = original.Where(kv => !wanted.ContainsKey(kv.Key)).ToImmutableSortedDictionary();
        var removedLayers = LongestPathLengths(removed, throwOnCycle: false);
        foreach (var layer in removed.Keys.GroupBy(id => removedLayers[id]).OrderByDescending(g => g.Key))
        {
            steps.Add(new DeploymentStep([.. layer.Order().Select(id => (DeploymentAction)new StopApplication(removed[id]))]));
        }

        // 2. Register new apps with 0 instances.
        steps.Add(new DeploymentStep(
            [.. wanted.Where(kv => !original.ContainsKey(kv.Key)).Select(kv => (DeploymentAction)new StartApplication(kv.Value, 0))]));

        // 3. New and changed apps, by dependency layer.
        var addedOrChanged = wanted.Where(kv => !original.TryGetValue(kv.Key, out var old) || !old.Equals(kv.Value)).Select(kv => kv.Key);
        foreach (var layer in addedOrChanged.GroupBy(id => targetLayers[id]).OrderBy(g => g.Key))
        {
            var actions = new List<DeploymentAction>();
            foreach (var id in layer.Order())
            {
                var action = ActionFor(original.GetValueOrDefault(id), wanted[id], toKill?.GetValueOrDefault(id));
                if (action is not null)
                {
                    actions.Add(action);
                }
            }

            steps.Add(new DeploymentStep(actions));
        }

        var planId = newId() ?? throw new InvalidOperationException("the id generator returned null");
        return new DeploymentPlan(planId, now, original, wanted, [.. steps.Where(s => s.Actions.Count > 0)]);
    }

    /// <summary>
    /// True when going from <paramref name="before"/> to <paramref name="after"/> changes anything but <c>instances</c> and
    /// <c>version</c> (Marathon <c>AppDefinition.isUpgrade</c>: its field list — cmd, args, user, env, resources,
    /// executor, constraints, fetch, ports, backoff, container, health and readiness checks, kill grace period,
    /// dependencies, upgrade and unreachable strategies, labels, roles, networks, secrets, killSelection, … — is every
    /// field but those two; as in Marathon's later <c>this != to.copy(instances, version)</c> form, new fields count
    /// automatically).
    /// </summary>
    public static bool IsUpgrade(AppDefinition before, AppDefinition after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return !(before with { Instances = 0, Version = null }).Equals(after with { Instances = 0, Version = null });
    }

    /// <summary>True when only <c>instances</c> (and the version) differ (Marathon <c>isOnlyScaleChange</c>).</summary>
    public static bool IsOnlyScaleChange(AppDefinition before, AppDefinition after) =>
        !IsUpgrade(before, after) && before.Instances != after.Instances;

    /// <summary>
    /// True when the instances must be replaced (Marathon <c>needsRestart</c>): a configuration change, or a new
    /// version without one (how <c>POST /v2/apps/{id}/restart</c> asks for a rolling restart).
    /// </summary>
    public static bool NeedsRestart(AppDefinition before, AppDefinition after) =>
        IsUpgrade(before, after) || before.Version != after.Version;

    /// <summary>
    /// The apps grouped into dependency layers, first layer first: an app's layer is the number of apps on the longest
    /// dependency path starting at it (Marathon <c>runSpecsGroupedByLongestPath</c>), so every app comes after all the
    /// apps it depends on. Ids within a layer are ordered.
    /// </summary>
    /// <exception cref="DependencyCycleException">The dependencies form a cycle.</exception>
    public static IReadOnlyList<IReadOnlyList<PathId>> DependencyLayers(IReadOnlyDictionary<PathId, AppDefinition> apps)
    {
        var sorted = ToSorted(apps, nameof(apps));
        var lengths = LongestPathLengths(sorted, throwOnCycle: true);
        return [.. sorted.Keys.GroupBy(id => lengths[id]).OrderBy(g => g.Key).Select(g => (IReadOnlyList<PathId>)g.Order().ToList())];
    }

    private static DeploymentAction? ActionFor(AppDefinition? old, AppDefinition app, IReadOnlyList<string>? toKill)
    {
        if (old is null)
        {
            return new ScaleApplication(app, app.Instances);
        }

        if (app.Instances == 0 || IsOnlyScaleChange(old, app))
        {
            return new ScaleApplication(app, app.Instances, toKill);
        }

        return NeedsRestart(old, app) ? new RestartApplication(app) : null;
    }

    private static ImmutableSortedDictionary<PathId, AppDefinition> ToSorted(IReadOnlyDictionary<PathId, AppDefinition> apps, string parameter)
    {
        ArgumentNullException.ThrowIfNull(apps, parameter);
        var builder = ImmutableSortedDictionary.CreateBuilder<PathId, AppDefinition>();
        foreach (var (id, app) in apps)
        {
            ArgumentNullException.ThrowIfNull(app, parameter);
            var canonical = id.Canonicalize();
            if (!canonical.Equals(id) || !app.PathId.Canonicalize().Equals(canonical))
            {
                throw new ArgumentException($"key '{id}' is not the canonical id of app '{app.Id}'", parameter);
            }

            builder.Add(id, app);
        }

        return builder.ToImmutable();
    }

    /// <summary>The apps each app depends on, among <paramref name="apps"/> (a group dependency stands for its apps).</summary>
    private static Dictionary<PathId, List<PathId>> Edges(ImmutableSortedDictionary<PathId, AppDefinition> apps)
    {
        var edges = new Dictionary<PathId, List<PathId>>();
        foreach (var (id, app) in apps)
        {
            var targets = new SortedSet<PathId>();
            foreach (var raw in app.Dependencies)
            {
                if (string.IsNullOrEmpty(raw))
                {
                    continue;
                }

                var dependency = PathId.Parse(raw).Canonicalize(id.Parent);
                if (dependency.IsRoot)
                {
                    continue;
                }

                if (apps.ContainsKey(dependency))
                {
                    targets.Add(dependency);
                }
                else
                {
                    targets.UnionWith(apps.Keys.Where(k => k.IsWithin(dependency)));
                }
            }

            targets.Remove(id);
            edges[id] = [.. targets];
        }

        return edges;
    }

    /// <summary>
    /// For every app, the number of apps on the longest dependency path starting at it (1 without dependencies).
    /// Iterative depth-first search; on a cycle either throws or (for the current apps, which are not ours to
    /// reject) ignores the closing edge.
    /// </summary>
    private static Dictionary<PathId, int> LongestPathLengths(ImmutableSortedDictionary<PathId, AppDefinition> apps, bool throwOnCycle)
    {
        var edges = Edges(apps);
        var length = new Dictionary<PathId, int>();
        var onStack = new HashSet<PathId>();
        foreach (var root in apps.Keys)
        {
            if (length.ContainsKey(root))
            {
                continue;
            }

            var stack = new Stack<(PathId Id, int Next)>();
            stack.Push((root, 0));
            onStack.Add(root);
            while (stack.Count > 0)
            {
                var (id, next) = stack.Pop();
                var dependencies = edges[id];
                if (next < dependencies.Count)
                {
                    stack.Push((id, next + 1));
                    var dependency = dependencies[next];
                    if (onStack.Contains(dependency))
                    {
                        if (throwOnCycle)
                        {
                            var path = stack.Select(f => f.Id).Reverse().ToList();
                            var cycle = path.Skip(path.IndexOf(dependency)).Append(dependency).ToList();
                            throw new DependencyCycleException(cycle);
                        }

                        continue;
                    }

                    if (!length.ContainsKey(dependency))
                    {
                        stack.Push((dependency, 0));
                        onStack.Add(dependency);
                    }

                    continue;
                }

                // All dependencies done: 1 + the longest of theirs (edges closing a tolerated cycle are skipped).
                length[id] = 1 + dependencies.Select(d => length.GetValueOrDefault(d)).DefaultIfEmpty(0).Max();
                onStack.Remove(id);
            }
        }

        return length;
    }
}

/// <summary>
/// The target apps' dependencies form a cycle (Marathon rejects such a group with 422
/// <c>"Dependency graph has cyclic dependencies."</c>).
/// </summary>
public sealed class DependencyCycleException : InvalidOperationException
{
    /// <summary>Marathon's message for a cyclic dependency graph.</summary>
    public const string MarathonMessage = "Dependency graph has cyclic dependencies.";

    /// <summary>Creates the exception for the given cycle.</summary>
    /// <param name="cycle">The apps on the cycle, the first repeated at the end (<c>/a, /b, /a</c>).</param>
    public DependencyCycleException(IReadOnlyList<PathId> cycle)
        : base($"{MarathonMessage} Cycle: {string.Join(" -> ", cycle ?? [])}")
    {
        Cycle = cycle ?? [];
    }

    /// <summary>Creates the exception with Marathon's message.</summary>
    public DependencyCycleException()
        : base(MarathonMessage)
    {
        Cycle = [];
    }

    /// <summary>Creates the exception with a custom message.</summary>
    public DependencyCycleException(string message)
        : base(message)
    {
        Cycle = [];
    }

    /// <summary>Creates the exception with a custom message and cause.</summary>
    public DependencyCycleException(string message, Exception innerException)
        : base(message, innerException)
    {
        Cycle = [];
    }

    /// <summary>The apps on the cycle, the first repeated at the end; empty when not known.</summary>
    public IReadOnlyList<PathId> Cycle { get; }
}
