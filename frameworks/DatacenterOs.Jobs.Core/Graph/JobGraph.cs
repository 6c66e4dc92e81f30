using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace DatacenterOs.Jobs.Core;

/// <summary>
/// The immutable dependency graph of the jobs, by name (Chronos <c>graph/JobGraph.scala</c>): an edge
/// <c>parent → child</c> for every name in a job's <see cref="JobDefinition.Parents"/>. Every job is a vertex, scheduled
/// or dependent. A graph built by <see cref="TryCreate"/> is known to be complete (no unknown parents) and acyclic.
/// Collections are returned in a deterministic order: topological, ties broken by ordinal name.
/// </summary>
public sealed class JobGraph
{
    private readonly ImmutableDictionary<string, JobDefinition> jobs;
    private readonly ImmutableDictionary<string, ImmutableArray<string>> parents;
    private readonly ImmutableDictionary<string, ImmutableArray<string>> children;
    private readonly ImmutableDictionary<string, int> position;

    private JobGraph(
        ImmutableDictionary<string, JobDefinition> jobs,
        ImmutableDictionary<string, ImmutableArray<string>> parents,
        ImmutableDictionary<string, ImmutableArray<string>> children,
        ImmutableArray<string> order)
        : this(jobs, parents, children, order, order.Select((name, i) => (name, i)).ToImmutableDictionary(p => p.name, p => p.i, StringComparer.Ordinal))
    {
    }

    private JobGraph(
        ImmutableDictionary<string, JobDefinition> jobs,
        ImmutableDictionary<string, ImmutableArray<string>> parents,
        ImmutableDictionary<string, ImmutableArray<string>> children,
        IReadOnlyList<string> order,
        ImmutableDictionary<string, int> position)
    {
        this.jobs = jobs;
        this.parents = parents;
        this.children = children;
        TopologicalOrder = order;
        this.position = position;
    }

    private static bool SameParents(JobDefinition a, JobDefinition b)
    {
        var x = a.Parents ?? [];
        var y = b.Parents ?? [];
        return x.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).SequenceEqual(y.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal), StringComparer.Ordinal);
    }

    /// <summary>The graph without jobs.</summary>
    public static JobGraph Empty { get; } = new(
        ImmutableDictionary.Create<string, JobDefinition>(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal),
        ImmutableDictionary.Create<string, ImmutableArray<string>>(StringComparer.Ordinal),
        []);

    /// <summary>Job names, parents before children, ties by ordinal name.</summary>
    public IReadOnlyList<string> TopologicalOrder { get; }

    /// <summary>Number of jobs.</summary>
    public int Count => jobs.Count;

    /// <summary>The jobs in <see cref="TopologicalOrder"/>.</summary>
    public IEnumerable<JobDefinition> Jobs => TopologicalOrder.Select(n => jobs[n]);

    /// <summary>Jobs without parents (scheduled jobs), in topological order.</summary>
    public IReadOnlyList<string> Roots => TopologicalOrder.Where(n => parents[n].IsEmpty).ToList();

    /// <summary>The job named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public JobDefinition this[string name] => jobs[name];

    /// <summary>True when a job named <paramref name="name"/> exists.</summary>
    public bool Contains(string name) => jobs.ContainsKey(name);

    /// <summary>The job named <paramref name="name"/>, or null.</summary>
    public JobDefinition? Find(string name) => jobs.GetValueOrDefault(name);

    /// <summary>Parent names of <paramref name="name"/> (empty for unknown jobs), in topological order.</summary>
    public IReadOnlyList<string> ParentsOf(string name) => parents.GetValueOrDefault(name, []);

    /// <summary>Child names of <paramref name="name"/> (empty for unknown jobs), in topological order.</summary>
    public IReadOnlyList<string> ChildrenOf(string name) => children.GetValueOrDefault(name, []);

    /// <summary>Topological position of <paramref name="name"/> (for ordering), or -1.</summary>
    public int PositionOf(string name) => position.GetValueOrDefault(name, -1);

    /// <summary>Every job reachable from <paramref name="name"/> through child edges (not itself), in topological order.</summary>
    public IReadOnlyList<string> Descendants(string name) => Reach(name, ChildrenOf);

    /// <summary>Every job <paramref name="name"/> depends on, transitively (not itself), in topological order.</summary>
    public IReadOnlyList<string> Ancestors(string name) => Reach(name, ParentsOf);

    /// <summary>
    /// The jobs a DAG run rooted at <paramref name="root"/> covers: the root and its descendants reached through
    /// DAG-mode jobs (<c>dependencyMode: "dag"</c>). A Chronos-mode job is triggered by its own rule and roots its own
    /// DAG runs, so the walk stops before it. Empty for an unknown root.
    /// </summary>
    public IReadOnlySet<string> DagScope(string root)
    {
        var scope = new HashSet<string>(StringComparer.Ordinal);
        if (!Contains(root))
        {
            return scope;
        }

        scope.Add(root);
        var queue = new Queue<string>([root]);
        while (queue.TryDequeue(out var n))
        {
            foreach (var child in ChildrenOf(n))
            {
                if (!jobs[child].UsesChronosDependencies && scope.Add(child))
                {
                    queue.Enqueue(child);
                }
            }
        }

        return scope;
    }

    /// <summary>
    /// Builds the graph. Errors name the field: <c>name</c> for duplicate names, <c>parents</c> for an unknown parent
    /// (naming it) or a cycle (naming its path, e.g. <c>a -> b -> a</c>).
    /// </summary>
    public static JobGraphResult TryCreate(IEnumerable<JobDefinition> jobDefinitions)
    {
        ArgumentNullException.ThrowIfNull(jobDefinitions);
        var list = jobDefinitions.ToList();
        var errors = new List<JobValidationError>();
        var byName = new Dictionary<string, JobDefinition>(StringComparer.Ordinal);
        foreach (var job in list)
        {
            if (!byName.TryAdd(job.Name, job))
            {
                errors.Add(new(JobFields.Name, $"Job '{job.Name}' is defined more than once"));
            }
        }

        foreach (var job in byName.Values.OrderBy(j => j.Name, StringComparer.Ordinal))
        {
            foreach (var parent in (job.Parents ?? []).Distinct(StringComparer.Ordinal))
            {
                if (!byName.ContainsKey(parent))
                {
                    errors.Add(new(JobFields.Parents, $"Parent job '{parent}' of job '{job.Name}' does not exist"));
                }
            }
        }

        if (FindAnyCycle(byName.Values) is { } cycle)
        {
            errors.Add(new(JobFields.Parents, CycleMessage(cycle)));
        }

        if (errors.Count > 0)
        {
            return new JobGraphResult(null, errors);
        }

        return new JobGraphResult(Build(byName), []);
    }

    /// <summary>Builds the graph or throws.</summary>
    /// <exception cref="ArgumentException">Duplicate names, unknown parents or a cycle.</exception>
    public static JobGraph Create(IEnumerable<JobDefinition> jobDefinitions)
    {
        var result = TryCreate(jobDefinitions);
        return result.Graph ?? throw new ArgumentException(string.Join("; ", result.Errors.Select(e => e.Message)), nameof(jobDefinitions));
    }

    /// <summary>The graph with <paramref name="job"/> added or replacing the job of the same name (upsert), or the errors.</summary>
    /// <remarks>
    /// Replacing a job whose parents stay the same (counters after a run, an edited command) keeps the edges and the
    /// order, so it costs one dictionary update instead of a rebuild: a burst of run outcomes over many jobs stays linear.
    /// </remarks>
    public JobGraphResult WithJob(JobDefinition job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (jobs.TryGetValue(job.Name, out var existing) && SameParents(existing, job))
        {
            return new JobGraphResult(new JobGraph(jobs.SetItem(job.Name, job), parents, children, TopologicalOrder, position), []);
        }

        var result = TryCreate(jobs.Values.Where(j => j.Name != job.Name).Append(job));
        if (result.IsValid || FindCycle(jobs.Values.Where(j => j.Name != job.Name).Append(job), job.Name) is not { } cycle)
        {
            return result;
        }

        var message = CycleMessage(cycle);
        return result with { Errors = result.Errors.Select(e => e.Message.StartsWith("Dependency cycle", StringComparison.Ordinal) ? e with { Message = message } : e).ToList() };
    }

    /// <summary>
    /// Removes the job named <paramref name="name"/> and rewires its children as Chronos's delete does
    /// (<c>JobManagementResource.delete</c>): if the removed job was dependent, a child's parents become its parents
    /// minus the removed job plus the removed job's parents; if it was scheduled, a child with other parents just loses
    /// it and a child with no other parent becomes a scheduled job with the removed job's schedule and time zone.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such job.</exception>
    public JobRemoval WithoutJob(string name)
    {
        var removed = jobs[name];
        var updated = new List<JobDefinition>();
        foreach (var childName in ChildrenOf(name))
        {
            var child = jobs[childName];
            var others = child.Parents!.Where(p => p != name).ToList();
            JobDefinition changed;
            if (removed.IsDependent)
            {
                var merged = others.Concat(removed.Parents!).Distinct(StringComparer.Ordinal).ToValueArray();
                changed = child with { Parents = merged };
            }
            else if (others.Count > 0)
            {
                changed = child with { Parents = others.ToValueArray() };
            }
            else
            {
                changed = child with { Parents = null, Schedule = removed.Schedule, ScheduleTimeZone = removed.ScheduleTimeZone };
            }

            updated.Add(changed);
        }

        var remaining = jobs.Values.Where(j => j.Name != name && !updated.Any(u => u.Name == j.Name)).Concat(updated);
        return new JobRemoval(removed, updated, Create(remaining));
    }

    /// <summary>
    /// A cycle among <paramref name="jobDefinitions"/> as a path that starts and ends at the same job, following
    /// parent → child edges (<c>["a", "b", "a"]</c> when b depends on a and a on b), or null when acyclic. Unknown
    /// parents are ignored. Deterministic: the search visits jobs in ordinal name order, and the path is rotated to
    /// start at <paramref name="startAt"/> (e.g. the job being changed) when that job is on the cycle.
    /// </summary>
    public static IReadOnlyList<string>? FindCycle(IEnumerable<JobDefinition> jobDefinitions, string? startAt = null)
    {
        var cycle = FindAnyCycle(jobDefinitions);
        if (cycle is null || startAt is null || cycle[0] == startAt)
        {
            return cycle;
        }

        var ring = cycle.Take(cycle.Count - 1).ToList();
        var at = ring.IndexOf(startAt);
        if (at < 0)
        {
            return cycle;
        }

        var rotated = ring.Skip(at).Concat(ring.Take(at)).ToList();
        rotated.Add(startAt);
        return rotated;
    }

    private static List<string>? FindAnyCycle(IEnumerable<JobDefinition> jobDefinitions)
    {
        ArgumentNullException.ThrowIfNull(jobDefinitions);
        var byName = new Dictionary<string, JobDefinition>(StringComparer.Ordinal);
        foreach (var job in jobDefinitions)
        {
            byName.TryAdd(job.Name, job);
        }

        var kids = byName.Keys.ToDictionary(n => n, _ => new SortedSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var job in byName.Values)
        {
            foreach (var parent in job.Parents ?? [])
            {
                if (kids.TryGetValue(parent, out var set))
                {
                    set.Add(job.Name);
                }
            }
        }

        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the stack, 2 = done
        var stack = new List<string>();
        foreach (var start in byName.Keys.Order(StringComparer.Ordinal))
        {
            if (!state.ContainsKey(start) && Visit(start) is { } found)
            {
                return found;
            }
        }

        return null;

        List<string>? Visit(string node)
        {
            state[node] = 1;
            stack.Add(node);
            foreach (var next in kids[node])
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    var path = stack.Skip(stack.IndexOf(next)).ToList();
                    path.Add(next);
                    return path;
                }

                if (!state.ContainsKey(next) && Visit(next) is { } found)
                {
                    return found;
                }
            }

            stack.RemoveAt(stack.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    /// <summary>The message for a cycle path: <c>Dependency cycle: a -> b -> a</c>.</summary>
    public static string CycleMessage(IReadOnlyList<string> cycle) => "Dependency cycle: " + string.Join(" -> ", cycle ?? []);

    /// <summary>
    /// The graph in Graphviz DOT, as Chronos's <c>GET /v1/scheduler/graph/dot</c> writes it (JGraphT
    /// <c>DOTExporter</c> with integer vertex ids and job names as labels, unlabelled edges):
    /// <code>
    /// digraph G {
    ///   1 [ label="a" ];
    ///   2 [ label="b" ];
    ///   1 -> 2;
    /// }
    /// </code>
    /// Ids are 1..n in <see cref="TopologicalOrder"/>; edges are sorted by parent id, then child id.
    /// </summary>
    public string ToDot()
    {
        var sb = new StringBuilder("digraph G {\n");
        for (var i = 0; i < TopologicalOrder.Count; i++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  {i + 1} [ label=\"{EscapeLabel(TopologicalOrder[i])}\" ];\n");
        }

        foreach (var parent in TopologicalOrder)
        {
            foreach (var child in children[parent])
            {
                sb.Append(CultureInfo.InvariantCulture, $"  {position[parent] + 1} -> {position[child] + 1};\n");
            }
        }

        sb.Append("}\n");
        return sb.ToString();
    }

    private static string EscapeLabel(string label) => label.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private List<string> Reach(string name, Func<string, IReadOnlyList<string>> next)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var queue = new Queue<string>(next(name));
        while (queue.TryDequeue(out var n))
        {
            if (seen.Add(n))
            {
                foreach (var m in next(n))
                {
                    queue.Enqueue(m);
                }
            }
        }

        return seen.OrderBy(PositionOf).ToList();
    }

    private static JobGraph Build(Dictionary<string, JobDefinition> byName)
    {
        var kids = byName.Keys.ToDictionary(n => n, _ => new List<string>(), StringComparer.Ordinal);
        var indegree = byName.Keys.ToDictionary(n => n, _ => 0, StringComparer.Ordinal);
        foreach (var job in byName.Values)
        {
            foreach (var parent in (job.Parents ?? []).Distinct(StringComparer.Ordinal))
            {
                kids[parent].Add(job.Name);
                indegree[job.Name]++;
            }
        }

        var ready = new SortedSet<string>(indegree.Where(p => p.Value == 0).Select(p => p.Key), StringComparer.Ordinal);
        var order = ImmutableArray.CreateBuilder<string>(byName.Count);
        while (ready.Count > 0)
        {
            var n = ready.Min!;
            ready.Remove(n);
            order.Add(n);
            foreach (var k in kids[n])
            {
                if (--indegree[k] == 0)
                {
                    ready.Add(k);
                }
            }
        }

        var pos = order.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i, StringComparer.Ordinal);
        var parentMap = byName.Values.ToImmutableDictionary(
            j => j.Name,
            j => (j.Parents ?? []).Distinct(StringComparer.Ordinal).OrderBy(p => pos[p]).ToImmutableArray(),
            StringComparer.Ordinal);
        var childMap = kids.ToImmutableDictionary(p => p.Key, p => p.Value.OrderBy(c => pos[c]).ToImmutableArray(), StringComparer.Ordinal);
        return new JobGraph(byName.ToImmutableDictionary(StringComparer.Ordinal), parentMap, childMap, order.MoveToImmutable());
    }
}

/// <summary>Either a graph or the errors that prevent building it.</summary>
/// <param name="Graph">The graph, when valid.</param>
/// <param name="Errors">The errors (field and message), when not.</param>
public sealed record JobGraphResult(JobGraph? Graph, IReadOnlyList<JobValidationError> Errors)
{
    /// <summary>True when <see cref="Graph"/> is set.</summary>
    public bool IsValid => Graph is not null;
}

/// <summary>The outcome of removing a job from the graph.</summary>
/// <param name="Removed">The removed job.</param>
/// <param name="UpdatedChildren">Children whose definitions changed (to be persisted).</param>
/// <param name="Graph">The graph after removal.</param>
public sealed record JobRemoval(JobDefinition Removed, IReadOnlyList<JobDefinition> UpdatedChildren, JobGraph Graph);
