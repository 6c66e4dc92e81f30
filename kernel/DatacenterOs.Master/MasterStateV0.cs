using DatacenterOs.Kernel.Contracts;

namespace DatacenterOs.Master;

/// <summary>
/// <c>GET /master/state</c> in the shape of Mesos's v0 state endpoint (the parts tools read most: frameworks with
/// their tasks, agents as <c>slaves</c>, resources as name → amount maps; cpus in cores, mem/disk in MiB).
/// </summary>
internal static class MasterStateV0
{
    public static object From(MasterSnapshot snapshot, string masterId)
    {
        var tasks = snapshot.State.GetTasks.Tasks;
        return new
        {
            id = masterId,
            activated_slaves = snapshot.State.GetAgents.Agents.Count(a => a.Active),
            deactivated_slaves = snapshot.State.GetAgents.Agents.Count(a => !a.Active),
            frameworks = snapshot.State.GetFrameworks.Frameworks.Select(f => new
            {
                id = f.FrameworkInfo.Id?.Value,
                name = f.FrameworkInfo.Name,
                roles = f.FrameworkInfo.EffectiveRoles(),
                active = f.Active,
                connected = f.Connected,
                used_resources = Amounts(f.AllocatedResources),
                offered_resources = Amounts(f.OfferedResources),
                tasks = tasks.Where(t => t.FrameworkId.Value == f.FrameworkInfo.Id?.Value).Select(t => new
                {
                    id = t.TaskId.Value,
                    name = t.Name,
                    slave_id = t.AgentId.Value,
                    state = t.State,
                    role = t.Role,
                    resources = Amounts(t.Resources),
                }),
            }),
            slaves = snapshot.State.GetAgents.Agents.Select(a => new
            {
                id = a.AgentInfo.Id?.Value,
                hostname = a.AgentInfo.Hostname,
                port = a.AgentInfo.Port,
                active = a.Active,
                resources = Amounts(a.TotalResources),
                used_resources = Amounts(a.AllocatedResources),
                offered_resources = Amounts(a.OfferedResources),
                attributes = ResourceConversions.FromAttributes(a.AgentInfo.Attributes),
            }),
            roles = snapshot.Roles.Roles.Select(r => new { name = r.Name, weight = r.Weight, share = r.Share, frameworks = r.Frameworks.Select(f => f.Value) }),
        };
    }

    private static Dictionary<string, object> Amounts(List<ResourceDto> resources)
    {
        var map = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var group in resources.GroupBy(r => r.Name))
        {
            var first = group.First();
            map[group.Key] = first.Type switch
            {
                "SCALAR" => group.Sum(r => r.Scalar?.Value ?? 0),
                "RANGES" => "[" + string.Join(",", group.SelectMany(r => r.Ranges?.Range ?? []).Select(x => $"{x.Begin}-{x.End}")) + "]",
                _ => group.SelectMany(r => r.Set?.Item ?? []).ToList(),
            };
        }

        return map;
    }
}
