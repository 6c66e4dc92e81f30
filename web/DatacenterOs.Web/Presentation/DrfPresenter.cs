using DatacenterOs.Web.Backend;

namespace DatacenterOs.Web.Presentation;

/// <summary>A role's weighted DRF picture.</summary>
/// <param name="Name">Role.</param>
/// <param name="Weight">Weight.</param>
/// <param name="Allocated">Resources its tasks hold.</param>
/// <param name="DominantResource">The resource with the largest allocated/total fraction (its bottleneck), or <c>—</c>.</param>
/// <param name="DominantShare">allocated/total of that resource (0..1).</param>
/// <param name="WeightedShare">Dominant share divided by weight (what DRF sorts by).</param>
/// <param name="Frameworks">Frameworks in the role with their own dominant shares.</param>
public sealed record RoleShare(string Name, double Weight, ResourceAmounts Allocated, string DominantResource, double DominantShare, double WeightedShare, IReadOnlyList<FrameworkShare> Frameworks);

/// <summary>A framework's dominant share.</summary>
/// <param name="Id">Framework id.</param>
/// <param name="Name">Framework name.</param>
/// <param name="DominantResource">Its bottleneck resource.</param>
/// <param name="DominantShare">allocated/total of that resource.</param>
public sealed record FrameworkShare(string Id, string Name, string DominantResource, double DominantShare);

/// <summary>Computes dominant shares from the master's state (the same formula as the allocator's weighted DRF).</summary>
public static class DrfPresenter
{
    /// <summary>Cluster totals over active agents.</summary>
    public static ResourceAmounts Totals(ClusterState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return state.Agents.Where(a => a.Active).Aggregate(ResourceAmounts.Zero, (sum, a) => sum + a.Total);
    }

    /// <summary>The dominant resource and share of <paramref name="allocated"/> over <paramref name="total"/>.</summary>
    public static (string Resource, double Share) Dominant(ResourceAmounts allocated, ResourceAmounts total)
    {
        ArgumentNullException.ThrowIfNull(allocated);
        ArgumentNullException.ThrowIfNull(total);
        var candidates = new (string, double)[]
        {
            ("cpus", Formats.Fraction(allocated.Cpus, total.Cpus)),
            ("mem", Formats.Fraction(allocated.Mem, total.Mem)),
            ("disk", Formats.Fraction(allocated.Disk, total.Disk)),
            ("gpus", Formats.Fraction(allocated.Gpus, total.Gpus)),
        };
        var best = candidates.MaxBy(c => c.Item2);
        return best.Item2 <= 0 ? ("—", 0) : best;
    }

    /// <summary>Every role known to the master or holding tasks, sorted as DRF would offer next (lowest weighted share first).</summary>
    public static IReadOnlyList<RoleShare> Roles(ClusterState state, IEnumerable<string>? moreRoles = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var total = Totals(state);
        var byRole = state.Tasks.Where(t => t.State is "TASK_RUNNING" or "TASK_STAGING" or "TASK_STARTING" or "TASK_KILLING")
            .GroupBy(t => t.Role, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Aggregate(ResourceAmounts.Zero, (sum, t) => sum + t.Resources), StringComparer.Ordinal);
        var names = state.Roles.Select(r => r.Name).Concat(byRole.Keys).Concat(moreRoles ?? []).Distinct(StringComparer.Ordinal);
        return [.. names.Select(name =>
        {
            var role = state.Roles.FirstOrDefault(r => r.Name == name);
            var weight = role is { Weight: > 0 } ? role.Weight : 1;
            var allocated = byRole.GetValueOrDefault(name) ?? ResourceAmounts.Zero;
            var (resource, share) = Dominant(allocated, total);
            var frameworks = state.Frameworks.Where(f => role?.FrameworkIds.Contains(f.Id) == true || f.Roles.Contains(name))
                .Select(f =>
                {
                    var (fr, fs) = Dominant(f.Used, total);
                    return new FrameworkShare(f.Id, f.Name, fr, fs);
                })
                .ToList();
            return new RoleShare(name, weight, allocated, resource, share, share / weight, frameworks);
        })
        .OrderBy(r => r.WeightedShare)
        .ThenBy(r => r.Name, StringComparer.Ordinal)];
    }

    /// <summary>Quota amounts as text: <c>cpus 2, mem 1 GiB</c>, or <c>—</c>.</summary>
    public static string QuotaText(IReadOnlyDictionary<string, double>? amounts) =>
        amounts is null || amounts.Count == 0
            ? "—"
            : string.Join(", ", amounts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key is "mem" or "disk" ? $"{kv.Key} {Formats.Mib(kv.Value)}" : $"{kv.Key} {Formats.Cpus(kv.Value)}"));

    /// <summary>Task counts by state, most frequent first.</summary>
    public static IReadOnlyList<(string State, int Count)> TasksByState(ClusterState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return [.. state.Tasks.GroupBy(t => t.State, StringComparer.Ordinal).Select(g => (g.Key, g.Count())).OrderByDescending(x => x.Item2).ThenBy(x => x.Key, StringComparer.Ordinal)];
    }
}
